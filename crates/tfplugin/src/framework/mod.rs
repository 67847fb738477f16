//! The framework: what a provider author implements, and the generic work
//! done once for every type.
//!
//! A provider implements [`Provider`] (its schema, and `configure`, which
//! builds the services its types share) and one trait per type:
//! [`Resource`], [`DataSource`], [`EphemeralResource`]. Each declares a typed
//! [`Model`](crate::model::Model) and works on it; the framework decodes and
//! encodes values, runs schema validators, refuses write-only values a
//! Terraform cannot keep out of state, plans what the schema alone decides
//! (defaults, unknown computed values, replacement, destroy), and dispatches
//! an apply to `create`, `update` or `delete`.

mod data_source;
mod ephemeral;
mod host;
mod list;
mod registry;
mod resource;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use data_source::{data_source, DataSource, DynDataSource};
pub use ephemeral::{ephemeral_resource, DynEphemeralResource, EphemeralResource, OpenResponse, Opened};
pub use host::ProviderHost;
pub use list::{list_resource, DynListResource, ListResource, Listed};
pub use registry::{Registered, Registration};
pub use resource::{resource, ApplyResponse, DynResource, ImportResponse, Plan, PlanResponse, ReadResponse, Resource};

use crate::codec::Value;
use crate::diag::Diagnostics;
use crate::schema::Schema;

/// What every handler gets: the services `configure` built, and the token
/// `StopProvider` cancels, so HTTP calls and backoff waits end when Terraform
/// is interrupted.
pub struct Ctx<S> {
    pub services: Arc<S>,
    pub cancel: CancellationToken,
}

impl<S> Clone for Ctx<S> {
    fn clone(&self) -> Self {
        Ctx {
            services: Arc::clone(&self.services),
            cancel: self.cancel.clone(),
        }
    }
}

/// Who the provider is, for messages, the handshake and `--debug` reattach.
#[derive(Debug, Clone, Copy)]
pub struct ProviderInfo {
    /// The local name: "sei" in "the sei provider" and `terraform-provider-sei`.
    pub name: &'static str,
    /// The registry source address without host: "sei-oss/sei".
    pub source: &'static str,
    pub version: &'static str,
}

impl ProviderInfo {
    pub fn binary(&self) -> String {
        format!("terraform-provider-{}", self.name)
    }

    pub fn registry_address(&self) -> String {
        format!("registry.terraform.io/{}", self.source)
    }
}

/// A provider: its own configuration block, and its types.
pub trait Provider: Send + Sync + 'static {
    /// Shared by every type after `ConfigureProvider`: clients, caches.
    type Services: Send + Sync + 'static;

    fn info(&self) -> ProviderInfo;

    fn schema(&self) -> &Schema;

    /// Static checks of the provider block, without network.
    fn validate(&self, config: &Value) -> Diagnostics {
        self.schema().validate(config)
    }

    /// Builds the services from the provider block (and environment), with
    /// warnings about the configuration that works (said once per run:
    /// Terraform validates a provider block twice, but configures it once).
    fn configure(&self, config: &Value) -> Result<(Arc<Self::Services>, Diagnostics), Diagnostics>;

    fn resources(&self) -> Vec<Arc<dyn DynResource<Self::Services>>>;

    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource<Self::Services>>>;

    fn ephemeral_resources(&self) -> Vec<Arc<dyn DynEphemeralResource<Self::Services>>>;

    /// List resources for `terraform query` (Terraform 1.14+), each named
    /// after the managed resource it lists.
    fn list_resources(&self) -> Vec<Arc<dyn DynListResource<Self::Services>>> {
        Vec::new()
    }
}

/// An internal invariant did not hold: report it as a bug, never act on it.
pub fn internal_error(what: impl std::fmt::Display) -> Diagnostics {
    crate::diag::Diagnostic::error(
        "Internal provider error",
        format!("{what}. This is a bug in the provider; please report it with the TF_LOG=debug output."),
    )
    .into()
}
