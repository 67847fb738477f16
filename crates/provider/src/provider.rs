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

    fn configure(&self, config: &Value) -> Result<(Arc<Services>, Diagnostics), Diagnostics> {
        let env = |k: &str| std::env::var(k).ok();
        let resolved = resolve_provider_config(config, &env)?;
        tracing::debug!(
            endpoint = %crate::clients::sei::redacted(&resolved.endpoint),
            bitbucket = %crate::clients::sei::redacted(&resolved.bitbucket_api_url),
            "configuring the sei provider"
        );
        let warnings = crate::services::config::configure_warnings(&resolved);
        let services =
            Services::new(resolved).map_err(|e| Diagnostic::error("Cannot set up the API clients", e.to_string()))?;
        Ok((services, warnings))
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
    }

    /// What a new type needs besides its file and its registration line,
    /// said by name: an example (which the docs page shows, and which the
    /// acceptance suite validates), and for a list resource, the managed
    /// resource whose objects it lists.
    #[test]
    fn every_registered_type_has_what_it_needs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let p = SeiProvider::new();
        let names = |v: Vec<&'static str>| v;
        let kinds = [
            (
                "resources",
                "resource.tf",
                names(p.resources().iter().map(|r| r.type_name()).collect()),
            ),
            (
                "data-sources",
                "data-source.tf",
                names(p.data_sources().iter().map(|d| d.type_name()).collect()),
            ),
            (
                "ephemeral-resources",
                "ephemeral-resource.tf",
                names(p.ephemeral_resources().iter().map(|e| e.type_name()).collect()),
            ),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (dir, file, types) in &kinds {
            for ty in types {
                assert!(
                    ty.starts_with("sei_"),
                    "{ty}: type names start with the provider's name, sei_"
                );
                assert!(seen.insert((*dir, *ty)), "{ty} is registered twice as one of the {dir}");
                let example = format!("examples/{dir}/{ty}/{file}");
                assert!(root.join(&example).is_file(), "no example for {ty}: add {example}");
            }
        }
        let resources: Vec<&str> = p.resources().iter().map(|r| r.type_name()).collect();
        for l in p.list_resources() {
            assert!(
                resources.contains(&l.type_name()),
                "list resource {} lists the objects of a managed resource of the same name; there is none",
                l.type_name()
            );
        }
    }
}
