//! `sei-sandbox`: a local emulator of the SEI integrations API and of the
//! Bitbucket Cloud API subset the provider uses.
//!
//! It is the quickstart's backend and the backend of every end-to-end test,
//! so it follows the contracts in `shared/contract/` quirks included, and
//! rejects what the real services reject. It shares no types with the
//! provider's clients: it is an independent reading of the same contract,
//! so a misreading in one shows up as a test failure instead of cancelling
//! out.
//!
//! One listener serves:
//! - `/sei/api/v1/integrations…` (SEI),
//! - `/bitbucket/2.0/…` and `/bitbucket/site/oauth2/…` (Bitbucket Cloud),
//! - `/bbdc/rest/api/1.0/…` (one Bitbucket Data Center instance),
//! - `/_sandbox/…`, the control plane for tests (faults, rate limit,
//!   counters, credential revocation), never mixed with API routes.

mod bitbucket;
mod connection;
mod control;
mod datacenter;
mod error;
pub mod seed;
mod sei;
mod shared;
mod tags;
pub mod tls;
pub mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::SandboxError;
pub use seed::{parse_seed, Seed};

use control::Control;
use world::World;

/// Request bodies above this are refused with 413, as a gateway would.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Shared state of one sandbox.
pub struct Sandbox {
    seed: Seed,
    world: Mutex<World>,
    state_file: Option<PathBuf>,
    control: Mutex<Control>,
    /// SEI's outbound HTTP client, for its OAuth code exchange.
    http: reqwest::Client,
    /// `https` with `--tls`: links the sandbox writes (pagination, SEI's
    /// call to the token endpoint) use it.
    scheme: &'static str,
}

/// The seed's pre-existing integrations, with ids below those the sandbox
/// hands out (4500 and up).
fn seed_integrations(world: &mut World, seeded: &[seed::IntegrationSeed]) {
    for (i, r) in seeded.iter().enumerate() {
        let id = 4400 + i as u64;
        world.integrations.insert(
            id,
            world::StoredIntegration {
                id,
                account: r.account.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                url: r.url.clone(),
                application: r.application.clone(),
                status: "ACTIVE".into(),
                satellite: r.satellite,
                tags: r.tags.clone(),
                metadata: r.metadata.clone(),
                authentication: if r.satellite { "none".into() } else { "api_key".into() },
                linked_credentials: None,
                created_at: 1_767_225_600,
                updated_at: 1_767_225_600,
                ingestion_frequency: 60,
                token: world::StoredToken::default(),
            },
        );
    }
}

impl Sandbox {
    pub fn new(seed: Seed, state_file: Option<PathBuf>) -> Result<Arc<Sandbox>, SandboxError> {
        Self::serving(seed, state_file, None)
    }

    /// A sandbox that serves over TLS when `trust_pem` (the certificate its
    /// own clients must trust) is given.
    fn serving(seed: Seed, state_file: Option<PathBuf>, trust_pem: Option<&str>) -> Result<Arc<Sandbox>, SandboxError> {
        seed::validate_seed(&seed)?;
        let mut world = match &state_file {
            Some(path) => World::load(path)?,
            None => World::default(),
        };
        if world.next_id == 0 {
            world.next_id = 4500;
            seed_integrations(&mut world, &seed.sei.integrations);
            for t in &seed.sei.tags {
                world.tags.insert(
                    t.id,
                    world::StoredTag {
                        id: t.id,
                        account: t.account.clone(),
                        name: t.name.clone(),
                        created_at: 1_767_225_600,
                    },
                );
            }
        }
        let control = Control::new(seed.bitbucket.rate_limit_per_hour, seed.datacenter.rate_limit);
        // reqwest is built without a TLS provider of its own; the process
        // default is aws-lc-rs, as in the provider.
        install_crypto_provider();
        let setup = |e: reqwest::Error| SandboxError::Setup(format!("cannot build SEI's HTTP client: {e}"));
        let mut http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = trust_pem {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).map_err(setup)?);
        }
        let http = http.build().map_err(setup)?;
        Ok(Arc::new(Sandbox {
            seed,
            world: Mutex::new(world),
            state_file,
            control: Mutex::new(control),
            http,
            scheme: if trust_pem.is_some() { "https" } else { "http" },
        }))
    }

    fn read_world<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        let w = self.world.lock().unwrap_or_else(|p| p.into_inner());
        f(&w)
    }

    /// Applies a change to a copy of the world, saves it (with `--state`),
    /// and only then makes it current: a change either fully happens and is
    /// durable, or does not happen.
    fn mutate<R, E>(
        &self,
        f: impl FnOnce(&mut World) -> Result<R, E>,
        on_save_error: impl FnOnce(SandboxError) -> E,
    ) -> Result<R, E> {
        let mut guard = self.world.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = guard.clone();
        let out = f(&mut next)?;
        if let Some(path) = &self.state_file {
            if let Err(e) = next.save(path) {
                tracing::error!(error = %e, "cannot persist sandbox state");
                return Err(on_save_error(e));
            }
        }
        *guard = next;
        Ok(out)
    }

    /// A change that cannot fail but for saving it.
    fn change<R>(&self, f: impl FnOnce(&mut World) -> R) -> Result<R, SandboxError> {
        self.mutate(|w| Ok(f(w)), |e| e)
    }

    fn control<R>(&self, f: impl FnOnce(&mut Control) -> R) -> R {
        let mut c = self.control.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c)
    }

    /// Bitbucket's identities and permissions over this state.
    fn accounts(&self) -> bitbucket::Accounts<'_> {
        bitbucket::Accounts(self)
    }
}

/// The whole HTTP surface of one sandbox.
pub fn app(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .nest("/sei/api", sei::routes().merge(tags::routes()))
        .nest("/bitbucket", bitbucket::routes())
        .nest(datacenter::BASE_PATH, datacenter::routes())
        .fallback(shared::unknown_route)
        .layer(axum::middleware::from_fn_with_state(sandbox.clone(), control::observe))
        .nest("/_sandbox", control::routes())
        .with_state(sandbox)
}

/// A sandbox serving on a bound address.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    /// With TLS: the PEM file a client must trust (the CA, or the
    /// self-signed server certificate).
    pub trust_file: Option<PathBuf>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    pub fn base_url(&self) -> String {
        let scheme = if self.trust_file.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The provider's `endpoint` for this sandbox.
    pub fn sei_endpoint(&self) -> String {
        format!("{}/sei/api", self.base_url())
    }

    pub fn bitbucket_api_url(&self) -> String {
        format!("{}/bitbucket/2.0", self.base_url())
    }

    /// A Data Center integration's `url` for this sandbox.
    pub fn datacenter_url(&self) -> String {
        format!("{}{}", self.base_url(), datacenter::BASE_PATH)
    }

    pub fn bitbucket_oauth_url(&self) -> String {
        format!("{}/bitbucket/site/oauth2", self.base_url())
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Starts a sandbox in this process; `listen` may use port 0.
pub async fn start(
    seed: Seed,
    state_file: Option<PathBuf>,
    listen: SocketAddr,
) -> Result<RunningSandbox, SandboxError> {
    start_with(seed, state_file, listen, None).await
}

/// Starts a sandbox, over TLS when `tls` says how its certificate is issued
/// and where to write the file clients must trust.
pub async fn start_with(
    seed: Seed,
    state_file: Option<PathBuf>,
    listen: SocketAddr,
    tls: Option<tls::TlsOptions>,
) -> Result<RunningSandbox, SandboxError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| SandboxError::Setup(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| SandboxError::Setup(e.to_string()))?;
    install_crypto_provider();
    let material = match &tls {
        Some(options) => Some(tls::make(options, addr.ip())?),
        None => None,
    };
    let sandbox = Sandbox::serving(seed, state_file, material.as_ref().map(|m| m.trust_pem.as_str()))?;
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let router = app(sandbox).into_make_service_with_connect_info::<connection::ConnHandle>();
    let trust_file = material.as_ref().map(|m| m.trust_file.clone());
    let listener = connection::FaultableListener {
        tcp: listener,
        tls: material.map(|m| m.acceptor),
    };
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "sandbox server failed");
        }
    });
    Ok(RunningSandbox {
        addr,
        trust_file,
        shutdown,
        task,
    })
}

/// Installs aws-lc-rs as the process's TLS crypto provider, once: reqwest is
/// built without a provider of its own.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
