//! The `tfplugin6.Provider` service: decode, dispatch, encode.
//!
//! Each RPC is an inner function returning `Result<Response, Diagnostics>`,
//! wrapped by [`guard`], which turns both errors and panics into diagnostics:
//! whatever happens inside, Terraform gets an answer and the process lives.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::{FutureExt, Stream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::controller::Controller;
use super::convert::{
    decode_dynamic, diagnostics_to_proto, encode_dynamic, identity_schema_to_proto, path_to_proto, schema_to_proto,
};
use super::proto::plugin::grpc_controller_server::GrpcControllerServer;
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::{Provider, ProviderServer};
use super::{MAX_MESSAGE_BYTES, SHUTDOWN_GRACE};
use crate::codec::Value;
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{Provider as ProviderDef, ProviderHost};
use crate::schema::plan_generic;

pub struct ProviderService<P: ProviderDef> {
    host: Arc<ProviderHost<P>>,
}

impl<P: ProviderDef> ProviderService<P> {
    pub fn new(host: Arc<ProviderHost<P>>) -> Self {
        ProviderService { host }
    }
}

/// Serves the provider, controller and health services on `incoming` until
/// Terraform calls `Shutdown` (or `shutdown` is cancelled otherwise).
pub async fn serve_incoming<P, S, IO>(
    service: ProviderService<P>,
    incoming: S,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error>
where
    P: ProviderDef,
    S: Stream<Item = Result<IO, std::io::Error>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider = ProviderServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let controller = GrpcControllerServer::new(Controller {
        shutdown: shutdown.clone(),
    });
    let stop = shutdown.clone();
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(controller)
        .add_service(provider)
        .serve_with_incoming_shutdown(incoming, async move { stop.cancelled().await });
    tokio::select! {
        result = server => result,
        // Graceful shutdown waits for Terraform to close its connection,
        // which it may not do before killing us; leave shortly after the
        // Shutdown answer is on its way.
        _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => Ok(()),
    }
}

/// Runs one RPC body, mapping errors and panics to diagnostics.
async fn guard<T>(
    provider: &str,
    address: &str,
    rpc: &str,
    body: impl Future<Output = Result<T, Diagnostics>>,
) -> Result<T, Diagnostics> {
    // The fields terraform-plugin-go puts on every line logged while an RPC
    // is served. ERROR level so the span exists whatever TF_LOG_PROVIDER
    // lets through: its fields then reach every line that is written. The
    // type name is recorded by the handler once it has decoded the request.
    let span = tracing::error_span!(
        "rpc",
        tf_rpc = rpc,
        tf_req_id = %request_id(),
        tf_provider_addr = address,
        tf_resource_type = tracing::field::Empty,
        tf_data_source_type = tracing::field::Empty,
        tf_ephemeral_resource_type = tracing::field::Empty,
        tf_list_resource_type = tracing::field::Empty,
    );
    let traced = async {
        tracing::trace!("received request");
        let outcome = AssertUnwindSafe(body).catch_unwind().await;
        tracing::trace!(ok = matches!(outcome, Ok(Ok(_))), "served request");
        outcome
    };
    match tracing::Instrument::instrument(traced, span).await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(rpc, "internal error: the handler panicked");
            Err(Diagnostic::error(
                "Internal provider error",
                format!("The {provider} provider failed unexpectedly while handling {rpc}. This is a bug; please report it with the TF_LOG=debug output."),
            )
            .into())
        }
    }
}

/// The answer's `deferred` when `ConfigureProvider` was deferred and the
/// client allows this call to be deferred too. Otherwise the call goes on
/// and meets the clear "not known yet" error of `ProviderHost::context`.
fn deferral<P: ProviderDef>(host: &ProviderHost<P>, caps: Option<&pb::ClientCapabilities>) -> Option<pb::Deferred> {
    (host.is_deferred() && caps.is_some_and(|c| c.deferral_allowed)).then(|| {
        tracing::debug!("provider configuration deferred; deferring this call");
        pb::Deferred {
            reason: pb::deferred::Reason::ProviderConfigUnknown as i32,
        }
    })
}

/// A random UUID (version 4), as terraform-plugin-go's `tf_req_id`.
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Names the type an RPC is about on its span: every line logged from here
/// on carries it.
fn record_type(field: &'static str, name: &str) {
    tracing::Span::current().record(field, name);
}

fn unknown_type(provider: &str, kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("The {provider} provider has no {kind} named {name:?}."),
    )
    .into()
}

impl<P: ProviderDef> ProviderService<P> {
    fn server_capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: false,
            get_provider_schema_optional: true,
            move_resource_state: true,
            generate_resource_config: true,
        }
    }

    fn schema_response(&self) -> pb::get_provider_schema::Response {
        let p = &self.host;
        pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(p.provider.schema())),
            resource_schemas: p
                .resources
                .iter()
                .map(|r| (r.type_name().to_string(), schema_to_proto(r.schema())))
                .collect(),
            data_source_schemas: p
                .data_sources
                .iter()
                .map(|r| (r.type_name().to_string(), schema_to_proto(r.schema())))
                .collect(),
            ephemeral_resource_schemas: p
                .ephemeral_resources
                .iter()
                .map(|r| (r.type_name().to_string(), schema_to_proto(r.schema())))
                .collect(),
            list_resource_schemas: p
                .list_resources
                .iter()
                .map(|r| (r.type_name().to_string(), schema_to_proto(r.schema())))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(Self::server_capabilities()),
            functions: Default::default(),
        }
    }

    /// A resource's identity as the protocol carries it; `None` when the
    /// type has none, it is not known yet, or the calling Terraform
    /// predates identities.
    fn identity_data(
        &self,
        r: &dyn crate::framework::DynResource<P::Services>,
        state: &crate::codec::Value,
    ) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
        if !self.host.identity_enabled() {
            return Ok(None);
        }
        let (Some(schema), Some(identity)) = (r.identity_schema(), r.identity_of(state)) else {
            return Ok(None);
        };
        Ok(Some(pb::ResourceIdentityData {
            identity_data: Some(encode_dynamic(&identity, &schema.value_type(), "identity")?),
        }))
    }

    async fn import_by_identity_or_id(
        &self,
        r: &dyn crate::framework::DynResource<P::Services>,
        req: &pb::import_resource_state::Request,
    ) -> Result<crate::framework::ImportResponse, Diagnostics> {
        let ctx = self.host.context()?;
        let given = req.identity.as_ref().and_then(|i| i.identity_data.as_ref());
        match (given, r.identity_schema()) {
            (Some(data), Some(schema)) if req.id.is_empty() => {
                let identity = decode_dynamic(Some(data), &schema.value_type(), "identity")?;
                Ok(r.import_identity(&ctx, &identity).await)
            }
            (Some(_), None) if req.id.is_empty() => Err(Diagnostic::error(
                "No resource identity",
                format!("{} has no resource identity; import it by id.", req.type_name),
            )
            .into()),
            _ => Ok(r.import(&ctx, &req.id).await),
        }
    }

    async fn generate(
        &self,
        req: pb::generate_resource_config::Request,
    ) -> Result<pb::generate_resource_config::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
        record_type("tf_resource_type", &req.type_name);
        let ty = r.schema().value_type();
        let state = decode_dynamic(req.state.as_ref(), &ty, "state")?;
        let (config, diags) = r.generate_config(&state);
        Ok(pb::generate_resource_config::Response {
            config: Some(encode_dynamic(&config, &ty, "generated configuration")?),
            diagnostics: diagnostics_to_proto(&diags),
        })
    }

    async fn upgrade_identity(
        &self,
        req: pb::upgrade_resource_identity::Request,
    ) -> Result<pb::upgrade_resource_identity::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
        record_type("tf_resource_type", &req.type_name);
        let json = req.raw_identity.map(|raw| raw.json).unwrap_or_default();
        let value = r.upgrade_identity(req.version, &json)?;
        let ty = r
            .identity_schema()
            .map(|s| s.value_type())
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource identity", &req.type_name))?;
        Ok(pb::upgrade_resource_identity::Response {
            upgraded_identity: Some(pb::ResourceIdentityData {
                identity_data: Some(encode_dynamic(&value, &ty, "upgraded identity")?),
            }),
            diagnostics: Vec::new(),
        })
    }

    async fn validate_list(
        &self,
        req: pb::validate_list_resource_config::Request,
    ) -> Result<pb::validate_list_resource_config::Response, Diagnostics> {
        let l = self
            .host
            .list_resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "list resource", &req.type_name))?;
        record_type("tf_list_resource_type", &req.type_name);
        let config = decode_dynamic(req.config.as_ref(), &l.schema().value_type(), "list configuration")?;
        Ok(pb::validate_list_resource_config::Response {
            diagnostics: diagnostics_to_proto(&l.validate(&config)),
        })
    }

    /// The events of one `ListResource` call: one per object found, then one
    /// carrying the diagnostics, if any.
    async fn list(&self, req: pb::list_resource::Request) -> Result<Vec<pb::list_resource::Event>, Diagnostics> {
        let name = self.host.provider.info().name;
        let l = self
            .host
            .list_resource(&req.type_name)
            .ok_or_else(|| unknown_type(name, "list resource", &req.type_name))?;
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(name, "resource", &req.type_name))?;
        record_type("tf_list_resource_type", &req.type_name);
        let identity = r
            .identity_schema()
            .ok_or_else(|| unknown_type(name, "resource identity", &req.type_name))?;
        let config = decode_dynamic(req.config.as_ref(), &l.schema().value_type(), "list configuration")?;
        let ty = r.schema().value_type();
        let ctx = self.host.context()?;
        let (items, diags) = l.list(&ctx, config, &ty).await;
        let limit = usize::try_from(req.limit).ok().filter(|n| *n > 0).unwrap_or(usize::MAX);
        let identity_type = identity.value_type();
        let mut events = Vec::new();
        for (display_name, state) in items.into_iter().take(limit) {
            let Some(id) = identity.of(&state) else {
                return Err(crate::framework::internal_error(format!(
                    "a listed {} has no identity",
                    req.type_name
                )));
            };
            events.push(pb::list_resource::Event {
                identity: Some(pb::ResourceIdentityData {
                    identity_data: Some(encode_dynamic(&id, &identity_type, "identity")?),
                }),
                display_name,
                resource_object: if req.include_resource_object {
                    Some(encode_dynamic(&state, &ty, "listed object")?)
                } else {
                    None
                },
                diagnostic: Vec::new(),
            });
        }
        if !diags.0.is_empty() {
            events.push(pb::list_resource::Event {
                diagnostic: diagnostics_to_proto(&diags),
                ..Default::default()
            });
        }
        Ok(events)
    }

    async fn upgrade(
        &self,
        req: pb::upgrade_resource_state::Request,
    ) -> Result<pb::upgrade_resource_state::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
        record_type("tf_resource_type", &req.type_name);
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            return Err(Diagnostic::error(
                "Unsupported state format",
                "This state was written in the legacy flatmap format, which this provider never used. Remove the resource from state and import it again.",
            )
            .into());
        }
        let value = r.upgrade(req.version, &raw.json)?;
        Ok(pb::upgrade_resource_state::Response {
            upgraded_state: Some(encode_dynamic(&value, &r.schema().value_type(), "upgraded state")?),
            diagnostics: Vec::new(),
        })
    }

    async fn read(&self, req: pb::read_resource::Request) -> Result<pb::read_resource::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
        record_type("tf_resource_type", &req.type_name);
        let ty = r.schema().value_type();
        let state = decode_dynamic(req.current_state.as_ref(), &ty, "current state")?;
        if let Some(deferred) = deferral(&self.host, req.client_capabilities.as_ref()) {
            // As the framework does: the state stays what it was.
            return Ok(pb::read_resource::Response {
                new_state: Some(encode_dynamic(
                    &r.schema().block.null_write_only(&state),
                    &ty,
                    "new state",
                )?),
                deferred: Some(deferred),
                private: req.private,
                ..Default::default()
            });
        }
        let ctx = self.host.context()?;
        let out = r.read(&ctx, state, req.private).await;
        Ok(pb::read_resource::Response {
            // Whatever path produced it (an error keeps the state it was
            // given), no answer carries a write-only value.
            new_state: Some(encode_dynamic(
                &r.schema().block.null_write_only(&out.new_state),
                &ty,
                "new state",
            )?),
            diagnostics: diagnostics_to_proto(&out.diags),
            private: out.private,
            deferred: None,
            new_identity: self.identity_data(r.as_ref(), &out.new_state)?,
        })
    }

    async fn plan(
        &self,
        req: pb::plan_resource_change::Request,
    ) -> Result<pb::plan_resource_change::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
        record_type("tf_resource_type", &req.type_name);
        let ty = r.schema().value_type();
        let prior = decode_dynamic(req.prior_state.as_ref(), &ty, "prior state")?;
        let proposed = decode_dynamic(req.proposed_new_state.as_ref(), &ty, "proposed new state")?;
        let config = decode_dynamic(req.config.as_ref(), &ty, "configuration")?;
        if let Some(deferred) = deferral(&self.host, req.client_capabilities.as_ref()) {
            // What the schema alone can plan: computed values unknown.
            let planned = if proposed.is_null() {
                Value::Null
            } else {
                plan_generic(&r.schema().block, &prior, &proposed, &config)
            };
            return Ok(pb::plan_resource_change::Response {
                planned_state: Some(encode_dynamic(&planned, &ty, "planned state")?),
                planned_private: req.prior_private,
                deferred: Some(deferred),
                ..Default::default()
            });
        }
        let ctx = self.host.context()?;
        let out = r.plan(&ctx, prior, proposed, config, req.prior_private).await;
        Ok(pb::plan_resource_change::Response {
            planned_state: Some(encode_dynamic(&out.planned, &ty, "planned state")?),
            requires_replace: out.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: out.private,
            diagnostics: diagnostics_to_proto(&out.diags),
            legacy_type_system: false,
            deferred: None,
            planned_identity: self.identity_data(r.as_ref(), &out.planned)?,
        })
    }

    async fn apply(
        &self,
        req: pb::apply_resource_change::Request,
    ) -> Result<pb::apply_resource_change::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
        record_type("tf_resource_type", &req.type_name);
        let ty = r.schema().value_type();
        let prior = decode_dynamic(req.prior_state.as_ref(), &ty, "prior state")?;
        let planned = decode_dynamic(req.planned_state.as_ref(), &ty, "planned state")?;
        let config = decode_dynamic(req.config.as_ref(), &ty, "configuration")?;
        let ctx = self.host.context()?;
        let out = r.apply(&ctx, prior, planned, config, req.planned_private).await;
        Ok(pb::apply_resource_change::Response {
            new_state: Some(encode_dynamic(
                &r.schema().block.null_write_only(&out.new_state),
                &ty,
                "new state",
            )?),
            private: out.private,
            diagnostics: diagnostics_to_proto(&out.diags),
            legacy_type_system: false,
            new_identity: self.identity_data(r.as_ref(), &out.new_state)?,
        })
    }

    async fn import(
        &self,
        req: pb::import_resource_state::Request,
    ) -> Result<pb::import_resource_state::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
        record_type("tf_resource_type", &req.type_name);
        let ty = r.schema().value_type();
        if let Some(deferred) = deferral(&self.host, req.client_capabilities.as_ref()) {
            // As the framework does: an unknown object for now.
            return Ok(pb::import_resource_state::Response {
                imported_resources: vec![pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(encode_dynamic(&Value::unknown(), &ty, "imported state")?),
                    ..Default::default()
                }],
                diagnostics: Vec::new(),
                deferred: Some(deferred),
            });
        }
        let out = self.import_by_identity_or_id(r.as_ref(), &req).await?;
        let imported = match out.state {
            Some(state) => vec![pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: Some(encode_dynamic(
                    &r.schema().block.null_write_only(&state),
                    &ty,
                    "imported state",
                )?),
                private: out.private,
                identity: self.identity_data(r.as_ref(), &state)?,
            }],
            None => Vec::new(),
        };
        Ok(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: diagnostics_to_proto(&out.diags),
            deferred: None,
        })
    }

    /// Accepts a move into one of our types from the same type name under
    /// another provider address (a fork, a renamed namespace): the state is
    /// read with our schema, as an upgrade would. Any other move has no
    /// meaningful mapping and is refused.
    async fn move_state(
        &self,
        req: pb::move_resource_state::Request,
    ) -> Result<pb::move_resource_state::Response, Diagnostics> {
        let r = self
            .host
            .resource(&req.target_type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.target_type_name))?;
        record_type("tf_resource_type", &req.target_type_name);
        if req.source_type_name != req.target_type_name {
            return Err(Diagnostic::error(
                "Unsupported resource move",
                format!(
                    "{} cannot be moved to {}: their attributes do not correspond. Remove the old resource from state and import the new one instead.",
                    req.source_type_name, req.target_type_name
                ),
            )
            .into());
        }
        let json = req.source_state.map(|s| s.json).unwrap_or_default();
        let value = r.upgrade(req.source_schema_version, &json)?;
        Ok(pb::move_resource_state::Response {
            target_state: Some(encode_dynamic(&value, &r.schema().value_type(), "moved state")?),
            diagnostics: Vec::new(),
            target_private: req.source_private,
            target_identity: self.identity_data(r.as_ref(), &value)?,
        })
    }

    async fn read_data(
        &self,
        req: pb::read_data_source::Request,
    ) -> Result<pb::read_data_source::Response, Diagnostics> {
        let d = self
            .host
            .data_source(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "data source", &req.type_name))?;
        record_type("tf_data_source_type", &req.type_name);
        let ty = d.schema().value_type();
        let config = decode_dynamic(req.config.as_ref(), &ty, "configuration")?;
        if let Some(deferred) = deferral(&self.host, req.client_capabilities.as_ref()) {
            return Ok(pb::read_data_source::Response {
                state: Some(encode_dynamic(&Value::unknown(), &ty, "data source state")?),
                diagnostics: Vec::new(),
                deferred: Some(deferred),
            });
        }
        let ctx = self.host.context()?;
        let (state, diags) = d.read(&ctx, config).await;
        Ok(pb::read_data_source::Response {
            state: Some(encode_dynamic(&state, &ty, "data source state")?),
            diagnostics: diagnostics_to_proto(&diags),
            deferred: None,
        })
    }

    async fn open(
        &self,
        req: pb::open_ephemeral_resource::Request,
    ) -> Result<pb::open_ephemeral_resource::Response, Diagnostics> {
        let e = self
            .host
            .ephemeral_resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "ephemeral resource", &req.type_name))?;
        record_type("tf_ephemeral_resource_type", &req.type_name);
        let ty = e.schema().value_type();
        let config = decode_dynamic(req.config.as_ref(), &ty, "configuration")?;
        if let Some(deferred) = deferral(&self.host, req.client_capabilities.as_ref()) {
            return Ok(pb::open_ephemeral_resource::Response {
                result: Some(encode_dynamic(&Value::unknown(), &ty, "ephemeral result")?),
                deferred: Some(deferred),
                ..Default::default()
            });
        }
        let ctx = self.host.context()?;
        let out = e.open(&ctx, config).await;
        Ok(pb::open_ephemeral_resource::Response {
            diagnostics: diagnostics_to_proto(&out.diags),
            renew_at: None,
            result: Some(encode_dynamic(&out.result, &ty, "ephemeral result")?),
            private: out.private,
            deferred: None,
        })
    }

    async fn close(
        &self,
        req: pb::close_ephemeral_resource::Request,
    ) -> Result<pb::close_ephemeral_resource::Response, Diagnostics> {
        let e = self
            .host
            .ephemeral_resource(&req.type_name)
            .ok_or_else(|| unknown_type(self.host.provider.info().name, "ephemeral resource", &req.type_name))?;
        record_type("tf_ephemeral_resource_type", &req.type_name);
        let ctx = self.host.context()?;
        let diags = e.close(&ctx, req.private).await;
        Ok(pb::close_ephemeral_resource::Response {
            diagnostics: diagnostics_to_proto(&diags),
        })
    }
}

macro_rules! answer {
    ($name:expr, $addr:expr, $rpc:literal, $body:expr, $resp:ty) => {{
        let out = match guard($name, &$addr, $rpc, $body).await {
            Ok(resp) => resp,
            Err(diags) => <$resp>::default_with(diagnostics_to_proto(&diags)),
        };
        Ok(Response::new(out))
    }};
}

/// Builds a response that carries only diagnostics.
trait WithDiagnostics: Default {
    fn default_with(diags: Vec<pb::Diagnostic>) -> Self;
}

macro_rules! with_diagnostics {
    ($($t:ty),* $(,)?) => {$(
        impl WithDiagnostics for $t {
            #[allow(clippy::needless_update)]
            fn default_with(diagnostics: Vec<pb::Diagnostic>) -> Self {
                Self { diagnostics, ..Default::default() }
            }
        }
    )*};
}

with_diagnostics!(
    pb::validate_provider_config::Response,
    pb::validate_resource_config::Response,
    pb::validate_data_resource_config::Response,
    pb::validate_ephemeral_resource_config::Response,
    pb::configure_provider::Response,
    pb::upgrade_resource_state::Response,
    pb::move_resource_state::Response,
    pb::read_resource::Response,
    pb::plan_resource_change::Response,
    pb::apply_resource_change::Response,
    pb::import_resource_state::Response,
    pb::read_data_source::Response,
    pb::open_ephemeral_resource::Response,
    pb::close_ephemeral_resource::Response,
    pb::generate_resource_config::Response,
    pb::upgrade_resource_identity::Response,
    pb::validate_list_resource_config::Response,
    pb::get_resource_identity_schemas::Response,
);

#[tonic::async_trait]
impl<P: ProviderDef> Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let p = &self.host;
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::server_capabilities()),
            diagnostics: Vec::new(),
            data_sources: p
                .data_sources
                .iter()
                .map(|d| pb::get_metadata::DataSourceMetadata {
                    type_name: d.type_name().to_string(),
                })
                .collect(),
            resources: p
                .resources
                .iter()
                .map(|r| pb::get_metadata::ResourceMetadata {
                    type_name: r.type_name().to_string(),
                })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: p
                .ephemeral_resources
                .iter()
                .map(|e| pb::get_metadata::EphemeralMetadata {
                    type_name: e.type_name().to_string(),
                })
                .collect(),
            list_resources: p
                .list_resources
                .iter()
                .map(|l| pb::get_metadata::ListResourceMetadata {
                    type_name: l.type_name().to_string(),
                })
                .collect(),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .host
                .resources
                .iter()
                .filter_map(|r| {
                    r.identity_schema()
                        .map(|i| (r.type_name().to_string(), identity_schema_to_proto(i)))
                })
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "UpgradeResourceIdentity",
            self.upgrade_identity(request.into_inner()),
            pb::upgrade_resource_identity::Response
        )
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "GenerateResourceConfig",
            self.generate(request.into_inner()),
            pb::generate_resource_config::Response
        )
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ValidateListResourceConfig",
            self.validate_list(request.into_inner()),
            pb::validate_list_resource_config::Response
        )
    }

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::list_resource::Event>>, Status> {
        let info = self.host.provider.info();
        let events = match guard(
            info.name,
            &info.registry_address(),
            "ListResource",
            self.list(request.into_inner()),
        )
        .await
        {
            Ok(events) => events,
            Err(diags) => vec![pb::list_resource::Event {
                diagnostic: diagnostics_to_proto(&diags),
                ..Default::default()
            }],
        };
        Ok(Response::new(Box::pin(futures::stream::iter(
            events.into_iter().map(Ok),
        ))))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(self.schema_response()))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let ty = self.host.provider.schema().value_type();
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ValidateProviderConfig",
            async {
                let config = decode_dynamic(req.config.as_ref(), &ty, "provider configuration")?;
                let diags = self.host.provider.validate(&config);
                Ok(pb::validate_provider_config::Response {
                    diagnostics: diagnostics_to_proto(&diags),
                })
            },
            pb::validate_provider_config::Response
        )
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        let ty = self.host.provider.schema().value_type();
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ConfigureProvider",
            async {
                tracing::debug!(terraform_version = %req.terraform_version, "ConfigureProvider");
                self.host.set_terraform_version(&req.terraform_version);
                let config = decode_dynamic(req.config.as_ref(), &ty, "provider configuration")?;
                let deferral_allowed = req.client_capabilities.as_ref().is_some_and(|c| c.deferral_allowed);
                let diags = self.host.configure(&config, deferral_allowed);
                Ok(pb::configure_provider::Response {
                    diagnostics: diagnostics_to_proto(&diags),
                })
            },
            pb::configure_provider::Response
        )
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ValidateResourceConfig",
            async {
                let r = self
                    .host
                    .resource(&req.type_name)
                    .ok_or_else(|| unknown_type(self.host.provider.info().name, "resource", &req.type_name))?;
                record_type("tf_resource_type", &req.type_name);
                let config = decode_dynamic(req.config.as_ref(), &r.schema().value_type(), "configuration")?;
                let write_only_allowed = req
                    .client_capabilities
                    .as_ref()
                    .is_some_and(|c| c.write_only_attributes_allowed);
                let diags = r.validate(&config, write_only_allowed);
                Ok(pb::validate_resource_config::Response {
                    diagnostics: diagnostics_to_proto(&diags),
                })
            },
            pb::validate_resource_config::Response
        )
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ValidateDataResourceConfig",
            async {
                let d = self
                    .host
                    .data_source(&req.type_name)
                    .ok_or_else(|| unknown_type(self.host.provider.info().name, "data source", &req.type_name))?;
                record_type("tf_data_source_type", &req.type_name);
                let config = decode_dynamic(req.config.as_ref(), &d.schema().value_type(), "configuration")?;
                Ok(pb::validate_data_resource_config::Response {
                    diagnostics: diagnostics_to_proto(&d.validate(&config)),
                })
            },
            pb::validate_data_resource_config::Response
        )
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = request.into_inner();
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ValidateEphemeralResourceConfig",
            async {
                let e = self.host.ephemeral_resource(&req.type_name).ok_or_else(|| {
                    unknown_type(self.host.provider.info().name, "ephemeral resource", &req.type_name)
                })?;
                let config = decode_dynamic(req.config.as_ref(), &e.schema().value_type(), "configuration")?;
                Ok(pb::validate_ephemeral_resource_config::Response {
                    diagnostics: diagnostics_to_proto(&e.validate(&config)),
                })
            },
            pb::validate_ephemeral_resource_config::Response
        )
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "UpgradeResourceState",
            self.upgrade(request.into_inner()),
            pb::upgrade_resource_state::Response
        )
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "MoveResourceState",
            self.move_state(request.into_inner()),
            pb::move_resource_state::Response
        )
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ReadResource",
            self.read(request.into_inner()),
            pb::read_resource::Response
        )
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "PlanResourceChange",
            self.plan(request.into_inner()),
            pb::plan_resource_change::Response
        )
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ApplyResourceChange",
            self.apply(request.into_inner()),
            pb::apply_resource_change::Response
        )
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ImportResourceState",
            self.import(request.into_inner()),
            pb::import_resource_state::Response
        )
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "ReadDataSource",
            self.read_data(request.into_inner()),
            pb::read_data_source::Response
        )
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "OpenEphemeralResource",
            self.open(request.into_inner()),
            pb::open_ephemeral_resource::Response
        )
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        answer!(
            self.host.provider.info().name,
            self.host.provider.info().registry_address(),
            "CloseEphemeralResource",
            self.close(request.into_inner()),
            pb::close_ephemeral_resource::Response
        )
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::debug!("StopProvider: cancelling in-flight work");
        self.host.stop();
        Ok(Response::new(pb::stop_provider::Response::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard is why the release profile keeps `panic = "unwind"`: a
    /// handler that panics becomes a diagnostic, and the next RPC is served.
    #[tokio::test]
    async fn a_panicking_handler_becomes_a_diagnostic_and_the_next_call_is_served() {
        let panicked: Result<(), Diagnostics> =
            guard("demo", "registry.terraform.io/acme/demo", "PlanResourceChange", async {
                panic!("boom");
            })
            .await;
        let diags = panicked.unwrap_err();
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].summary, "Internal provider error");
        assert!(diags.0[0]
            .detail
            .contains("The demo provider failed unexpectedly while handling PlanResourceChange"));
        let next = guard("demo", "registry.terraform.io/acme/demo", "ReadResource", async {
            Ok::<_, Diagnostics>(7)
        })
        .await;
        assert_eq!(next.unwrap(), 7);
    }
}
