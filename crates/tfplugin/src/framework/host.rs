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
    /// Whether the calling client really plans a deferred answer, given
    /// that it said it may (see [`honours_deferral`]).
    honours_deferral: AtomicBool,
    /// Set when `ConfigureProvider` was deferred: the configuration held a
    /// value known only after apply, and the client allows deferral.
    deferred: AtomicBool,
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
            honours_deferral: AtomicBool::new(true),
            deferred: AtomicBool::new(false),
            services: RwLock::new(None),
            stop: Mutex::new(CancellationToken::new()),
        }
    }

    /// Notes which Terraform is calling, from `ConfigureProvider`.
    pub fn set_terraform_version(&self, version: &str) {
        self.identity.store(knows_identity(version), Ordering::Relaxed);
        self.honours_deferral
            .store(honours_deferral(version), Ordering::Relaxed);
    }

    /// Whether `ConfigureProvider` was deferred, so that every call that
    /// needs the configured provider answers "deferred" instead.
    pub fn is_deferred(&self) -> bool {
        self.deferred.load(Ordering::Relaxed)
    }

    /// Whether responses carry resource identities.
    pub fn identity_enabled(&self) -> bool {
        self.identity.load(Ordering::Relaxed)
    }

    pub fn list_resource(&self, type_name: &str) -> Option<&Arc<dyn DynListResource<P::Services>>> {
        self.list_resources.iter().find(|r| r.type_name() == type_name)
    }

    /// Configures the provider, or, as terraform-plugin-framework providers
    /// do, defers when a setting is known only after apply and the client
    /// allows deferral: HCP Terraform Stacks then plans the rest and comes
    /// back once the value is known, instead of failing the whole plan.
    pub fn configure(&self, config: &Value, deferral_allowed: bool) -> Diagnostics {
        let defer = !config.is_wholly_known() && deferral_allowed && self.honours_deferral.load(Ordering::Relaxed);
        self.deferred.store(defer, Ordering::Relaxed);
        if defer {
            tracing::info!(
                tf_deferred_reason = "PROVIDER_CONFIG_UNKNOWN",
                "provider configuration holds a value known only after apply; deferring"
            );
            return Diagnostics::default();
        }
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
        if self.is_deferred() {
            return Err(Diagnostics::from(Diagnostic::error(
                "Provider configuration is not known yet",
                format!(
                    "The {} provider configuration depends on a value known only after apply, and this call cannot be deferred. Apply the resources it depends on first (for example with -target), then run again.",
                    self.provider.info().name
                ),
            )));
        }
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

/// Terraform sends `deferral_allowed` only from HCP Terraform Stacks and the
/// experimental `-allow-deferral` (internal/command/plan.go), and honours it.
/// OpenTofu 1.11.0 to 1.11.3 sent it on every call but turned any deferral
/// into an error (internal/plugin6/grpc_provider.go, removed in v1.11.4), and
/// reports its own version, 1.11.x, in `ConfigureProvider`: a client below
/// 1.12 is not trusted with a deferral, whatever it says.
fn honours_deferral(version: &str) -> bool {
    knows_identity(version)
}

#[cfg(test)]
mod tests {
    use super::{honours_deferral, knows_identity};

    #[test]
    fn deferral_is_not_trusted_below_1_12() {
        assert!(
            !honours_deferral("1.11.2"),
            "OpenTofu 1.11.0-1.11.3 errors on deferrals"
        );
        assert!(honours_deferral("1.13.0"));
        assert!(honours_deferral("1.15.9"));
    }

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
