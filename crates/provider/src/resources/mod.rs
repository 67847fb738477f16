//! Managed resources, one file each: a typed model and its functions. They
//! never see protobuf types or look attributes up by name.

mod bitbucket_credential;
mod bitbucket_integration;
mod bitbucket_server_integration;
mod integration_resource;
mod lifecycle;
mod rotation;

use std::sync::Arc;

use tfplugin::codec::AttributePath;
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{resource, DynResource};
use tfplugin::Val;

pub(crate) use crate::services::errors::{name_conflict_detail, sei_error};
pub(crate) use bitbucket_credential::check_scope;
pub use bitbucket_credential::{BitbucketCredentialResource, CredentialModel};
pub(crate) use bitbucket_integration::check_tag_id;
pub use bitbucket_integration::{BitbucketIntegrationResource, Cloud, IntegrationModel};
pub use bitbucket_server_integration::{BitbucketServerIntegrationResource, DataCenter, ServerIntegrationModel};
pub use integration_resource::{CredentialBlock, IntegrationKind, IntegrationResource, IntegrationSettings};
pub use lifecycle::Kind;

use crate::secret::Secret;
use crate::services::Services;
use crate::validate::{CredentialReport, Subject};

pub fn all() -> Vec<Arc<dyn DynResource<Services>>> {
    vec![
        resource("sei_bitbucket_credential", BitbucketCredentialResource),
        resource("sei_bitbucket_integration", BitbucketIntegrationResource::new()),
        resource(
            "sei_bitbucket_server_integration",
            BitbucketServerIntegrationResource::new(),
        ),
    ]
}

/// Turns a credential report into diagnostics at the attributes that caused
/// them. Known-bad credentials are errors; "could not check" is a warning,
/// because SEI's own preflight checks again at create. One diagnostic per
/// attribute and severity: 5,000 missing repositories are one error that
/// lists the first few and counts the rest, not 5,000 quoted source lines.
pub(crate) fn report_diagnostics(
    report: &CredentialReport,
    secret_path: &AttributePath,
    workspace_path: &AttributePath,
    repository_path: &AttributePath,
) -> Diagnostics {
    problem_diagnostics(&report.problems, |subject| match subject {
        Subject::Workspace(_) => workspace_path.clone(),
        Subject::Repository(_) => repository_path.clone(),
        _ => secret_path.clone(),
    })
}

/// [`report_diagnostics`] for any check: `path_of` says which attribute a
/// problem's subject is.
pub(crate) fn problem_diagnostics(
    problems: &[crate::validate::Problem],
    path_of: impl Fn(Subject) -> AttributePath,
) -> Diagnostics {
    let mut groups: Vec<(AttributePath, bool, Vec<&crate::validate::Problem>)> = Vec::new();
    for p in problems {
        let path = path_of(p.subject);
        let invalid = p.is_invalid();
        match groups.iter_mut().find(|(gp, gi, _)| *gp == path && *gi == invalid) {
            Some((_, _, problems)) => problems.push(p),
            None => groups.push((path, invalid, vec![p])),
        }
    }
    let mut diags = Diagnostics::new();
    for (path, invalid, problems) in groups {
        let (summary, detail) = match problems.as_slice() {
            [one] => (one.summary.clone(), one.detail.clone()),
            many => {
                const SHOWN: usize = 5;
                let mut lines: Vec<String> = many.iter().take(SHOWN).map(|p| format!("- {}", p.summary)).collect();
                if many.len() > SHOWN {
                    lines.push(format!("- and {} more", many.len() - SHOWN));
                }
                (
                    format!("{} (and {} more problems)", many[0].summary, many.len() - 1),
                    format!("{}\n\n{}", lines.join("\n"), many[0].detail),
                )
            }
        };
        if invalid {
            diags.error_at(path, summary, detail);
        } else {
            diags.warning_at(path, summary, detail);
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

/// Both integration resources are identified by SEI's id: stable for the
/// record's life, unique in the account, and what import takes.
pub(crate) fn integration_identity() -> tfplugin::schema::IdentitySchema {
    tfplugin::schema::IdentitySchema {
        version: 0,
        attributes: vec![tfplugin::schema::IdentityAttribute {
            name: "id",
            ty: tfplugin::codec::Type::String,
            required_for_import: true,
            description: "SEI's integration id, a numeric string.".into(),
        }],
    }
}

/// Why stored `password` is deprecated in integration credential blocks:
/// there `password_wo` does everything it does, without the secret in state.
pub(crate) const STORED_PASSWORD_DEPRECATION: &str = "Use `password_wo` with `credentials_version` instead: SEI never returns credentials, so a stored password only lets a change of it re-send the credential, which bumping `credentials_version` does without keeping the secret in state.";

/// The RFC 3339 time of now, to the second, as Terraform shows timestamps.
/// A secret set to the empty string can never sign in; it is nearly always
/// a variable that was not set. Said on the attribute, not as Bitbucket's
/// "wrong, revoked or expired" after a round trip.
pub(crate) fn refuse_empty_secret(value: &Val<Secret>, path: AttributePath, diags: &mut Diagnostics) {
    if value.known().is_some_and(Secret::is_empty) {
        let name = path.to_string();
        diags.error_at(
            path,
            "Empty secret",
            format!("{name} is an empty string, which no Bitbucket accepts. It usually comes from a variable that was not set (an empty TF_VAR_… environment variable, or a secret store that returned nothing): set the password or token."),
        );
    }
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) use crate::integration::sorted_set;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Problem, ProblemKind};

    #[test]
    fn many_problems_on_one_attribute_are_one_diagnostic_that_counts_them() {
        let report = CredentialReport {
            problems: (0..5000)
                .map(|i| Problem {
                    kind: ProblemKind::RepositoryNotFound,
                    subject: Subject::Repository(i),
                    summary: format!("Repository acme/r{i} is not visible to ops."),
                    detail: "Check the name.".into(),
                })
                .collect(),
            ..CredentialReport::default()
        };
        let repos = AttributePath::attr("repositories");
        let diags = report_diagnostics(&report, &AttributePath::attr("password"), &repos, &repos);
        assert_eq!(diags.0.len(), 1);
        let d = &diags.0[0];
        assert_eq!(
            d.summary,
            "Repository acme/r0 is not visible to ops. (and 4999 more problems)"
        );
        assert!(
            d.detail.starts_with("- Repository acme/r0 is not visible to ops.\n"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("- and 4995 more\n"), "{}", d.detail);
        assert!(d.detail.len() < 1000, "bounded: {}", d.detail.len());
        assert_eq!(d.path, Some(repos));
    }
}
