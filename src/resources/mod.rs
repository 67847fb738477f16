//! Managed resources, one file each. They work on [`Value`]s and
//! [`Diagnostics`] and never see protobuf types; the server translates.

mod bitbucket_credential;
mod bitbucket_integration;

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use bitbucket_credential::BitbucketCredentialResource;
pub use bitbucket_integration::BitbucketIntegrationResource;

use crate::codec::{decode_state_json, AttributePath, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::Services;
use crate::schema::Schema;

/// What every RPC handler gets: the services `ConfigureProvider` built, and
/// the cancellation token `StopProvider` fires, so HTTP calls and backoff
/// waits end when Terraform is interrupted.
#[derive(Clone)]
pub struct Ctx {
    pub services: Arc<Services>,
    pub cancel: CancellationToken,
}

pub struct PlanRequest {
    pub prior: Value,
    pub proposed: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Default)]
pub struct PlanResponse {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

pub struct ApplyRequest {
    pub prior: Value,
    pub planned: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

#[derive(Default)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

#[derive(Default)]
pub struct ReadResponse {
    /// `Value::Null` when the remote object is gone.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

#[derive(Default)]
pub struct ImportResponse {
    pub state: Option<Value>,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> &Schema;

    /// Static checks, no network. The default runs the schema's validators.
    fn validate(&self, config: &Value) -> Diagnostics {
        self.schema().validate(config)
    }

    async fn plan(&self, ctx: &Ctx, req: PlanRequest) -> PlanResponse;

    async fn apply(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse;

    async fn read(&self, ctx: &Ctx, state: Value, private: Vec<u8>) -> ReadResponse;

    async fn import(&self, ctx: &Ctx, id: &str) -> ImportResponse;

    /// Reads stored state JSON written with schema `version`. Version 0 is
    /// the only one so far: attributes dropped from the schema are ignored and
    /// new ones start null.
    fn upgrade(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
        let schema = self.schema();
        if version > schema.version {
            return Err(Diagnostic::error(
                "State written by a newer provider",
                format!(
                    "This {} state has schema version {version}; this provider understands up to {}. Upgrade the provider.",
                    self.type_name(),
                    schema.version
                ),
            )
            .into());
        }
        decode_state_json(json, &schema.value_type()).map_err(|e| {
            Diagnostic::error(
                "Unreadable resource state",
                format!("The stored state of this {} cannot be read: {e}.", self.type_name()),
            )
            .into()
        })
    }
}

pub fn all() -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(BitbucketCredentialResource::new()),
        Arc::new(BitbucketIntegrationResource::new()),
    ]
}

/// Turns a credential report into diagnostics at the attributes that caused
/// them. Known-bad credentials are errors; "could not check" is a warning,
/// because SEI's own preflight checks again at create.
pub(crate) fn report_diagnostics(
    report: &crate::validate::CredentialReport,
    secret_path: &AttributePath,
    workspace_path: &AttributePath,
    repository_path: &AttributePath,
) -> Diagnostics {
    use crate::validate::Subject;
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

/// Which of `password` / `password_wo` carries the secret in a config
/// object, with its path; `None` when neither is set.
pub(crate) fn secret_of(config: &Value, base: &AttributePath) -> Option<(AttributePath, Value)> {
    for name in ["password_wo", "password"] {
        let v = config.get(name);
        if !v.is_null() {
            return Some((base.push_attr(name), v.clone()));
        }
    }
    None
}

/// The RFC 3339 time of now, to the second, as Terraform shows timestamps.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A known, non-null string, or `None`.
pub(crate) fn known_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}
