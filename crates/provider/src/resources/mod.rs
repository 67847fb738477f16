//! Managed resources, one file each: a typed model and its functions. They
//! never see protobuf types or look attributes up by name.

mod bitbucket_credential;
mod bitbucket_integration;

use std::sync::Arc;

use tfplugin::codec::AttributePath;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{resource, DynResource};
use tfplugin::Val;

pub use bitbucket_credential::{BitbucketCredentialResource, CredentialModel};
pub use bitbucket_integration::{BitbucketIntegrationResource, IntegrationModel};

use crate::provider::Services;
use crate::secret::Secret;
use crate::validate::{CredentialReport, Subject};

pub fn all() -> Vec<Arc<dyn DynResource<Services>>> {
    vec![
        resource("sei_bitbucket_credential", BitbucketCredentialResource),
        resource("sei_bitbucket_integration", BitbucketIntegrationResource),
    ]
}

/// Turns a credential report into diagnostics at the attributes that caused
/// them. Known-bad credentials are errors; "could not check" is a warning,
/// because SEI's own preflight checks again at create.
pub(crate) fn report_diagnostics(
    report: &CredentialReport,
    secret_path: &AttributePath,
    workspace_path: &AttributePath,
    repository_path: &AttributePath,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for p in &report.problems {
        let path = match p.subject {
            Subject::Secret => secret_path.clone(),
            Subject::Workspace(_) => workspace_path.clone(),
            Subject::Repository(_) => repository_path.clone(),
        };
        if p.is_invalid() {
            diags.error_at(path, p.summary.clone(), p.detail.clone());
        } else {
            diags.warning_at(path, p.summary.clone(), p.detail.clone());
        }
    }
    diags
}

/// The check's errors as warnings, for an object this plan sends no
/// credentials for. Terraform's refresh before a destroy is a normal plan
/// that the provider cannot tell from `terraform plan`, and an error there
/// blocks the destroy: people decommission exactly when tokens are revoked.
pub(crate) fn as_warnings(diags: Diagnostics, why: &str) -> Diagnostics {
    Diagnostics(
        diags
            .0
            .into_iter()
            .map(|mut d| {
                if d.severity == tfplugin::diag::Severity::Error {
                    d.severity = tfplugin::diag::Severity::Warning;
                    d.detail = format!("{} {why}", d.detail);
                }
                d
            })
            .collect(),
    )
}

/// Which of `password_wo` / `password` carries a secret, with the path of
/// that attribute under `base`. `None` while it is unknown or neither is set.
pub(crate) fn known_secret(
    password: &Val<Secret>,
    password_wo: &Val<Secret>,
    base: &AttributePath,
) -> Option<(AttributePath, Secret)> {
    match (password_wo, password) {
        (Val::Known(s), _) => Some((base.push_attr("password_wo"), s.clone())),
        (Val::Null, Val::Known(s)) => Some((base.push_attr("password"), s.clone())),
        _ => None,
    }
}

/// The RFC 3339 time of now, to the second, as Terraform shows timestamps.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A set attribute's elements in a canonical order, for comparisons.
pub(crate) fn sorted_set(v: &Val<Vec<String>>) -> Val<Vec<String>> {
    v.clone().map(|mut items| {
        items.sort();
        items.dedup();
        items
    })
}
