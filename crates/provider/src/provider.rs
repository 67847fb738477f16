//! The registry: the provider as Terraform sees it, with every type it
//! serves. It sits above everything else in the crate; nothing imports it
//! but the binary and the tests.

use std::sync::Arc;

use tfplugin::codec::Value;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::{DynDataSource, DynEphemeralResource, DynResource, Provider, ProviderInfo};
use tfplugin::schema::Schema;

pub use crate::services::config::{
    provider_schema, resolve_provider_config, validate_provider_config, ProviderConfig, DEFAULT_BITBUCKET_API_URL,
    DEFAULT_BITBUCKET_OAUTH_URL, DEFAULT_ENDPOINT, DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT, MAX_REQUEST_TIMEOUT,
};
pub use crate::services::{Ctx, Services};

/// The provider as Terraform sees it, minus the wire.
pub struct SeiProvider {
    schema: Schema,
}

impl Default for SeiProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl SeiProvider {
    pub fn new() -> Self {
        SeiProvider {
            schema: provider_schema(),
        }
    }
}

impl Provider for SeiProvider {
    type Services = Services;

    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: "sei",
            source: "sei-oss/sei",
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_provider_config(config)
    }

    fn configure(&self, config: &Value) -> Result<Arc<Services>, Diagnostics> {
        let env = |k: &str| std::env::var(k).ok();
        let resolved = resolve_provider_config(config, &env)?;
        tracing::debug!(
            endpoint = %crate::clients::sei::redacted(&resolved.endpoint),
            bitbucket = %crate::clients::sei::redacted(&resolved.bitbucket_api_url),
            "configuring the sei provider"
        );
        Services::new(resolved).map_err(|e| Diagnostic::error("Cannot set up the API clients", e.to_string()).into())
    }

    fn resources(&self) -> Vec<Arc<dyn DynResource<Services>>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource<Services>>> {
        crate::data_sources::all()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn DynEphemeralResource<Services>>> {
        crate::ephemeral::all()
    }

    fn list_resources(&self) -> Vec<Arc<dyn tfplugin::framework::DynListResource<Services>>> {
        crate::list_resources::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_matches_its_schema() {
        let p = SeiProvider::new();
        for r in p.resources() {
            r.check_model().unwrap_or_else(|e| panic!("{}: {e}", r.type_name()));
        }
        for d in p.data_sources() {
            d.check_model().unwrap_or_else(|e| panic!("{}: {e}", d.type_name()));
        }
        for e in p.ephemeral_resources() {
            e.check_model().unwrap_or_else(|err| panic!("{}: {err}", e.type_name()));
        }
        for l in p.list_resources() {
            l.check_model()
                .unwrap_or_else(|err| panic!("list {}: {err}", l.type_name()));
        }
        assert_eq!(
            p.resources().len() + p.data_sources().len() + p.ephemeral_resources().len(),
            7
        );
    }
}
