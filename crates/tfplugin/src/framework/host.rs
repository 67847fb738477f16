use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio_util::sync::CancellationToken;

use super::{Ctx, DynDataSource, DynEphemeralResource, DynListResource, DynResource, Provider};
use crate::codec::Value;
use crate::diag::{Diagnostic, Diagnostics};

/// A provider with its registries, its configured services and its stop
/// token: the state a plugin server keeps between RPCs.
pub struct ProviderHost<P: Provider> {
    pub provider: P,
    pub resources: Vec<Arc<dyn DynResource<P::Services>>>,
    pub data_sources: Vec<Arc<dyn DynDataSource<P::Services>>>,
    pub ephemeral_resources: Vec<Arc<dyn DynEphemeralResource<P::Services>>>,
    pub list_resources: Vec<Arc<dyn DynListResource<P::Services>>>,
    services: RwLock<Option<Arc<P::Services>>>,
    /// Whether the Terraform that configured us knows resource identity
    /// (1.12 and later). Terraform 1.11 gets exactly the 6.8 answers.
    identity: AtomicBool,
    stop: Mutex<CancellationToken>,
}

impl<P: Provider> ProviderHost<P> {
    pub fn new(provider: P) -> Self {
        ProviderHost {
            resources: provider.resources(),
            data_sources: provider.data_sources(),
            ephemeral_resources: provider.ephemeral_resources(),
            list_resources: provider.list_resources(),
            provider,
            identity: AtomicBool::new(true),
            services: RwLock::new(None),
            stop: Mutex::new(CancellationToken::new()),
        }
    }

    /// Notes which Terraform is calling, from `ConfigureProvider`.
    pub fn set_terraform_version(&self, version: &str) {
        self.identity.store(knows_identity(version), Ordering::Relaxed);
    }

    /// Whether responses carry resource identities.
    pub fn identity_enabled(&self) -> bool {
        self.identity.load(Ordering::Relaxed)
    }

    pub fn list_resource(&self, type_name: &str) -> Option<&Arc<dyn DynListResource<P::Services>>> {
        self.list_resources.iter().find(|r| r.type_name() == type_name)
    }

    pub fn configure(&self, config: &Value) -> Diagnostics {
        match self.provider.configure(config) {
            Ok((services, warnings)) => {
                if let Ok(mut slot) = self.services.write() {
                    *slot = Some(services);
                }
                warnings
            }
            Err(diags) => diags,
        }
    }

    /// The per-request context; an error before `ConfigureProvider`.
    pub fn context(&self) -> Result<Ctx<P::Services>, Diagnostics> {
        let services = self.services.read().ok().and_then(|s| s.clone()).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Provider not configured",
                format!(
                    "Terraform called the {} provider before configuring it. This is a bug; please report it.",
                    self.provider.info().name
                ),
            ))
        })?;
        let cancel = self.stop.lock().map(|t| t.clone()).unwrap_or_default();
        Ok(Ctx { services, cancel })
    }

    /// Cancels all in-flight work (HTTP calls, backoff waits) and arms a
    /// fresh token for anything Terraform sends afterwards.
    pub fn stop(&self) {
        if let Ok(mut token) = self.stop.lock() {
            token.cancel();
            *token = CancellationToken::new();
        }
    }

    pub fn resource(&self, type_name: &str) -> Option<&Arc<dyn DynResource<P::Services>>> {
        self.resources.iter().find(|r| r.type_name() == type_name)
    }

    pub fn data_source(&self, type_name: &str) -> Option<&Arc<dyn DynDataSource<P::Services>>> {
        self.data_sources.iter().find(|r| r.type_name() == type_name)
    }

    pub fn ephemeral_resource(&self, type_name: &str) -> Option<&Arc<dyn DynEphemeralResource<P::Services>>> {
        self.ephemeral_resources.iter().find(|r| r.type_name() == type_name)
    }
}

/// Resource identity came with protocol 6.9, in Terraform 1.12. An empty
/// or unreadable version (a test client, a fork) is taken as new enough.
fn knows_identity(version: &str) -> bool {
    let mut parts = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .map(|p| p.parse::<u64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= (1, 12),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::knows_identity;

    #[test]
    fn identity_starts_at_terraform_1_12() {
        assert!(!knows_identity("1.11.4"));
        assert!(!knows_identity("0.15.0"));
        assert!(knows_identity("1.12.0"));
        assert!(knows_identity("1.15.9"));
        assert!(knows_identity("2.0.0"));
        assert!(knows_identity(""));
    }
}
