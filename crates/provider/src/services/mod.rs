//! What every type shares after `ConfigureProvider`: the resolved provider
//! configuration ([`config`]), the API clients, the credential checks, the
//! account snapshot and the name check, handed to every call as [`Ctx`].
//!
//! This module sits below the types: resources, data sources, ephemeral and
//! list resources import it, and it imports none of them (the registry,
//! `crate::provider`, sits above them all).

pub mod config;
pub mod errors;
pub mod fingerprint;

use std::sync::Arc;

pub use config::{provider_schema, resolve_provider_config, validate_provider_config, ProviderConfig};
pub(crate) use errors::sei_error;

use crate::clients::datacenter::DataCenterClient;
use crate::clients::{
    BitbucketClient, ClientSetupError, HttpPolicy, OAuthClient, RecordReader, SeiAuth, SeiClient, SeiError, SeiScope,
};
use crate::validate::{CredentialValidator, ServerValidator};

/// Everything resources share after `ConfigureProvider`: configuration,
/// API clients and the credential-check cache. Built once per process.
#[derive(Debug)]
pub struct Services {
    pub config: ProviderConfig,
    pub sei: SeiClient,
    /// Refresh reads, list resources and name checks of every integration
    /// type: one snapshot of the account, one call per page.
    pub records: RecordReader,
    pub bitbucket: BitbucketClient,
    pub oauth: OAuthClient,
    pub validator: CredentialValidator,
    /// The Data Center check; each integration names its own server.
    pub datacenter: ServerValidator,
    /// Names planned by this process, and who holds them in SEI.
    pub names: crate::names::NameIndex,
    /// Fingerprints of write-only secrets, keyed with the SEI key.
    pub fingerprints: fingerprint::Fingerprinter,
    /// Problems a refresh of this process already warned about, so the
    /// plan that follows does not say them a second time.
    said: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The outcome of the SEI connection check, once it is not transient.
    sei_checked: tokio::sync::Mutex<Option<Result<(), SeiError>>>,
    /// The account's tags, listed once per process; `None` inside when SEI
    /// could not list them (its tags API answered an error).
    tags: tokio::sync::OnceCell<Option<Arc<Vec<crate::clients::sei::Tag>>>>,
}

impl Services {
    pub fn new(config: ProviderConfig) -> Result<Arc<Services>, ClientSetupError> {
        let policy = HttpPolicy {
            trust: config.trust.clone(),
            max_wait: config.retry_max_wait,
            gates: Default::default(),
            max_retries: config.max_retries,
            request_timeout: config.request_timeout,
        };
        let sei = SeiClient::new(
            config.endpoint.clone(),
            SeiAuth::from_key(config.api_key.clone()),
            SeiScope {
                account_id: config.account_id.clone(),
                org_id: config.org_id.clone(),
                project_id: config.project_id.clone(),
            },
            policy.clone(),
        )?;
        let bitbucket = BitbucketClient::new(config.bitbucket_api_url.clone(), policy.clone())?;
        let oauth = OAuthClient::new(config.bitbucket_oauth_url.clone(), policy.clone())?;
        let datacenter = ServerValidator::new(DataCenterClient::new(policy)?);
        let validator = CredentialValidator::new(bitbucket.clone());
        let records = RecordReader::new(sei.clone());
        let fingerprints = fingerprint::Fingerprinter::new(config.api_key.clone());
        Ok(Arc::new(Services {
            fingerprints,
            config,
            records,
            names: crate::names::NameIndex::new(),
            sei,
            bitbucket,
            oauth,
            validator,
            datacenter,
            said: Default::default(),
            sei_checked: tokio::sync::Mutex::new(None),
            tags: tokio::sync::OnceCell::new(),
        }))
    }

    /// Remembers that `what` was said to the user in this process.
    pub fn mark_said(&self, what: String) {
        self.said.lock().unwrap_or_else(|p| p.into_inner()).insert(what);
    }

    /// Whether `what` was already said in this process.
    pub fn was_said(&self, what: &str) -> bool {
        self.said.lock().unwrap_or_else(|p| p.into_inner()).contains(what)
    }

    /// This process changed record `id`: the snapshot no longer speaks for
    /// it.
    pub fn invalidate(&self, id: &str) {
        self.records.invalidate(id);
    }

    /// The account's tags, from one listing per process (one call per 1000
    /// tags), shared by every plan that names tags. `None` when SEI could
    /// not say: a plan then cannot check tag ids, and does not pretend to.
    pub async fn known_tags(
        &self,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Option<Arc<Vec<crate::clients::sei::Tag>>> {
        self.tags
            .get_or_init(|| async {
                match self.sei.list_tags(cancel).await {
                    Ok(tags) => Some(Arc::new(tags)),
                    Err(e) => {
                        tracing::debug!(error = %e, "SEI's tags cannot be listed; tag ids are not checked");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// Checks once per process that SEI answers this endpoint, key and
    /// account, so a plan that would create fails before apply writes
    /// anything. Concurrent callers wait for the one call; a transient
    /// failure is not kept.
    pub async fn check_sei(&self, cancel: &tokio_util::sync::CancellationToken) -> Result<(), SeiError> {
        if self.records.answered() {
            // A refresh already proved the connection.
            return Ok(());
        }
        let mut slot = self.sei_checked.lock().await;
        if let Some(outcome) = slot.as_ref() {
            return outcome.clone();
        }
        let outcome = self.sei.probe(cancel).await;
        let transient = matches!(
            outcome,
            Err(SeiError::RateLimited { .. } | SeiError::Server { .. } | SeiError::Transport(_))
        );
        if !transient {
            *slot = Some(outcome.clone());
        }
        outcome
    }
}

/// What resources, data sources and ephemeral resources get with each call.
pub type Ctx = tfplugin::framework::Ctx<Services>;
