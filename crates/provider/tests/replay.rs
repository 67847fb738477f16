//! Newer and other clients, replayed: only Terraform 1.11.4 is installed
//! here, so these tests drive the provider binary over real gRPC with
//! AutoMTLS the way each client does, against a sandbox over real HTTP.
//!
//! Each client below names the source its requests are taken from, field
//! by field (hashicorp/terraform and opentofu/opentofu at the tags given):
//! which RPCs carry `ClientCapabilities` and with which fields set, the
//! version `ConfigureProvider` reports, and whether resource identities are
//! asked for. The process model is theirs too: a `terraform` command
//! starts one provider process for the schema (`GetProviderSchema`, and
//! `GetResourceIdentitySchemas` from 1.12), one for the validate walk (no
//! `ConfigureProvider`), and one for the operation; since we advertise
//! `get_provider_schema_optional`, the later processes are not asked for
//! the schema again (internal/plugin6/grpc_provider.go, `SchemaCache`).
//!
//! Requests are encoded and answers decoded by `replay/cty.rs`, written from
//! go-cty on `rmpv`, never by the provider's codec.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "replay/cty.rs"]
mod cty;
mod support;

use std::collections::BTreeMap;

use cty::{decode, dynamic, is_unknown, proposed_new, unknown, Ty};
use sei_sandbox::world::{StoredIntegration, StoredToken, World};
use sei_sandbox::{self as sandbox, RunningSandbox};
use serde_json::{json, Value as Json};
use support::{client_identity, connect, shutdown_and_wait, start_plugin, Plugin};
use tfplugin::server::proto::tfplugin6 as pb;
use tfplugin::server::proto::tfplugin6::provider_client::ProviderClient;
use tonic::transport::Channel;

const KEY: &str = "sandbox-sei-api-key";
const CLOUD: &str = "sei_bitbucket_integration";
const SERVER: &str = "sei_bitbucket_server_integration";
const OPS: &str = "ops@acme.example";
const OPS_TOKEN: &str = "ATATT-sandbox-ops-token";

/// What one client sends, and where that is written.
#[derive(Clone, Copy)]
struct Client {
    name: &'static str,
    /// The files the fields below were read from.
    source: &'static str,
    /// `ConfigureProvider.terraform_version`.
    reports: &'static str,
    /// Sent on ValidateResourceConfig, ConfigureProvider, ReadResource,
    /// PlanResourceChange, ImportResourceState, ReadDataSource and
    /// OpenEphemeralResource; never on the others.
    caps: Option<Caps>,
    /// Calls GetResourceIdentitySchemas after GetProviderSchema.
    identity: bool,
}

#[derive(Clone, Copy)]
struct Caps {
    deferral_allowed: bool,
    write_only_attributes_allowed: bool,
    store_planned_private: bool,
    computed_blocks_allowed: bool,
}

impl Caps {
    fn proto(self) -> pb::ClientCapabilities {
        pb::ClientCapabilities {
            deferral_allowed: self.deferral_allowed,
            write_only_attributes_allowed: self.write_only_attributes_allowed,
            store_planned_private: self.store_planned_private,
            computed_blocks_allowed: self.computed_blocks_allowed,
        }
    }
}

/// Release Terraform 1.12 to 1.15: `BuiltinEvalContext.ClientCapabilities`
/// sets `DeferralAllowed` from `-allow-deferral`, which only experimental
/// builds accept (internal/command/plan.go), so it is false.
const RELEASE_CAPS: Caps = Caps {
    deferral_allowed: false,
    write_only_attributes_allowed: true,
    store_planned_private: false,
    computed_blocks_allowed: false,
};

const TERRAFORM_1_12: Client = Client {
    name: "Terraform 1.12",
    source: "hashicorp/terraform v1.12.2: internal/terraform/eval_context_builtin.go (ClientCapabilities), internal/plugin6/grpc_provider.go",
    reports: "1.12.2",
    caps: Some(RELEASE_CAPS),
    identity: true,
};

const TERRAFORM_1_14: Client = Client {
    name: "Terraform 1.14",
    source: "hashicorp/terraform v1.14.9: internal/terraform/eval_context_builtin.go, eval_query.go (defaultQueryLimit 100), node_resource_plan_instance_query.go, internal/plugin6/grpc_provider.go",
    reports: "1.14.9",
    caps: Some(RELEASE_CAPS),
    identity: true,
};

const TERRAFORM_1_15: Client = Client {
    name: "Terraform 1.15",
    source: "hashicorp/terraform v1.15.9: internal/terraform/eval_context_builtin.go, node_resource_plan_instance.go (generateHCLResourceDef), internal/plugin6/grpc_provider.go",
    reports: "1.15.9",
    caps: Some(RELEASE_CAPS),
    identity: true,
};

const TERRAFORM_1_16: Client = Client {
    name: "Terraform 1.16",
    source: "hashicorp/terraform v1.16.0-rc2: internal/terraform/eval_context_builtin.go (StorePlannedPrivate, ComputedBlocksAllowed), internal/plugin6/grpc_provider.go (PlanResourceChange.PlannedPrivate)",
    reports: "1.16.0",
    caps: Some(Caps {
        store_planned_private: true,
        computed_blocks_allowed: true,
        ..RELEASE_CAPS
    }),
    identity: true,
};

const STACKS: Client = Client {
    name: "HCP Terraform Stacks",
    source: "hashicorp/terraform v1.15.9: internal/stacks/stackruntime/internal/stackeval/client_capabilities.go",
    reports: "1.15.9",
    caps: Some(Caps {
        deferral_allowed: true,
        ..RELEASE_CAPS
    }),
    identity: true,
};

const OPENTOFU_1_9: Client = Client {
    name: "OpenTofu 1.9",
    source: "opentofu/opentofu v1.9.4: internal/plugin6/grpc_provider.go (no ClientCapabilities on any request), internal/tofu/eval_context_builtin.go (TerraformVersion: version.String())",
    reports: "1.9.4",
    caps: None,
    identity: false,
};

const OPENTOFU_1_11: Client = Client {
    name: "OpenTofu 1.11",
    source: "opentofu/opentofu v1.11.2: internal/plugin6/grpc_provider.go (clientCapabilities: DeferralAllowed and WriteOnlyAttributesAllowed on every call; a Deferred answer becomes an error diagnostic; DeferralAllowed removed in v1.11.4)",
    reports: "1.11.2",
    caps: Some(Caps {
        deferral_allowed: true,
        ..RELEASE_CAPS
    }),
    identity: false,
};

const OPENTOFU_1_12: Client = Client {
    name: "OpenTofu 1.12",
    source: "opentofu/opentofu v1.12.6: version/version.go (VersionToImpersonateForProviders \"1.13.0\"), internal/plugins/provider.go, internal/plugin6/grpc_provider.go (clientCapabilities: WriteOnlyAttributesAllowed; getResourceIdentitySchemas)",
    reports: "1.13.0",
    caps: Some(RELEASE_CAPS),
    identity: true,
};

/// The schemas a client learned from the schema process.
struct Schemas {
    provider: Ty,
    blocks: BTreeMap<String, pb::schema::Block>,
    data_sources: BTreeMap<String, Ty>,
    lists: BTreeMap<String, Ty>,
    identity: Ty,
}

impl Schemas {
    fn ty(&self, type_name: &str) -> Ty {
        Ty::of_block(&self.blocks[type_name])
    }
}

/// One provider process, as one phase of a command starts it.
struct Process {
    plugin: Option<Plugin>,
    channel: Channel,
    rpc: ProviderClient<Channel>,
    client: Client,
}

impl Process {
    async fn start(client: Client) -> Process {
        let id = client_identity();
        let plugin = start_plugin(&id.pem, &[]);
        let channel = connect(&plugin, &id).await.unwrap();
        Process {
            rpc: ProviderClient::new(channel.clone()),
            plugin: Some(plugin),
            channel,
            client,
        }
    }

    fn caps(&self) -> Option<pb::ClientCapabilities> {
        self.client.caps.map(Caps::proto)
    }

    async fn stop(mut self) {
        shutdown_and_wait(self.plugin.take().unwrap(), self.channel.clone()).await;
    }

    /// The schema process of every command.
    async fn schemas(client: Client) -> Schemas {
        let mut p = Process::start(client).await;
        let s = p
            .rpc
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .unwrap()
            .into_inner();
        assert!(s.server_capabilities.as_ref().unwrap().get_provider_schema_optional);
        let identity = if client.identity {
            let ids = p
                .rpc
                .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
                .await
                .unwrap()
                .into_inner();
            let attrs = &ids.identity_schemas[CLOUD].identity_attributes;
            assert_eq!(attrs.len(), 1);
            Ty::Object(vec![(
                attrs[0].name.clone(),
                Ty::from_json(&serde_json::from_slice(&attrs[0].r#type).unwrap()),
            )])
        } else {
            Ty::Object(vec![])
        };
        p.stop().await;
        let block = |s: &pb::Schema| s.block.clone().unwrap();
        Schemas {
            provider: Ty::of_block(&block(s.provider.as_ref().unwrap())),
            blocks: s.resource_schemas.iter().map(|(k, v)| (k.clone(), block(v))).collect(),
            data_sources: s
                .data_source_schemas
                .iter()
                .map(|(k, v)| (k.clone(), Ty::of_block(&block(v))))
                .collect(),
            lists: s
                .list_resource_schemas
                .iter()
                .map(|(k, v)| (k.clone(), Ty::of_block(&block(v))))
                .collect(),
            identity,
        }
    }

    async fn validate_provider(&mut self, s: &Schemas, config: &Json) -> Vec<pb::Diagnostic> {
        self.rpc
            .validate_provider_config(pb::validate_provider_config::Request {
                config: Some(dynamic(config, &s.provider)),
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics
    }

    async fn configure(&mut self, s: &Schemas, config: &Json) -> Vec<pb::Diagnostic> {
        let diags = self.validate_provider(s, config).await;
        assert!(errors(&diags).is_empty(), "{}: {diags:?}", self.client.name);
        self.rpc
            .configure_provider(pb::configure_provider::Request {
                terraform_version: self.client.reports.into(),
                config: Some(dynamic(config, &s.provider)),
                client_capabilities: self.caps(),
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics
    }

    async fn validate_resource(&mut self, s: &Schemas, type_name: &str, config: &Json) -> Vec<pb::Diagnostic> {
        self.rpc
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: type_name.into(),
                config: Some(dynamic(config, &s.ty(type_name))),
                client_capabilities: self.caps(),
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics
    }

    /// PlanResourceChange as node_resource_abstract_instance.go's plan():
    /// the proposed new state from the prior state and the config.
    async fn plan(
        &mut self,
        s: &Schemas,
        type_name: &str,
        prior: &Applied,
        config: &Json,
        planned_private: Vec<u8>,
    ) -> pb::plan_resource_change::Response {
        let ty = s.ty(type_name);
        let proposed = proposed_new(&s.blocks[type_name], &prior.state, config);
        self.rpc
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: Some(dynamic(&prior.state, &ty)),
                proposed_new_state: Some(dynamic(&proposed, &ty)),
                config: Some(dynamic(config, &ty)),
                prior_private: prior.private.clone(),
                provider_meta: None,
                client_capabilities: self.caps(),
                prior_identity: prior.identity(s),
                planned_private,
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// `import { to = ..., identity = {...} }`: ImportResourceState with the
    /// identity, as node_resource_plan_instance.go's importState sends it.
    async fn import_by_identity(&mut self, s: &Schemas, type_name: &str, identity: &Json) -> Applied {
        let imported = self
            .rpc
            .import_resource_state(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: String::new(),
                client_capabilities: self.caps(),
                identity: Some(pb::ResourceIdentityData {
                    identity_data: Some(dynamic(identity, &s.identity)),
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(errors(&imported.diagnostics).is_empty(), "{:?}", imported.diagnostics);
        let r = &imported.imported_resources[0];
        Applied {
            state: decode(&r.state),
            private: r.private.clone(),
            identity: identity_of(&r.identity),
        }
    }

    async fn read(&mut self, s: &Schemas, type_name: &str, current: &Applied) -> pb::read_resource::Response {
        self.rpc
            .read_resource(pb::read_resource::Request {
                type_name: type_name.into(),
                current_state: Some(dynamic(&current.state, &s.ty(type_name))),
                private: current.private.clone(),
                provider_meta: None,
                client_capabilities: self.caps(),
                current_identity: current.identity(s),
            })
            .await
            .unwrap()
            .into_inner()
    }
}

/// A resource instance as the client keeps it in state.
#[derive(Clone, Default)]
struct Applied {
    state: Json,
    private: Vec<u8>,
    identity: Option<Json>,
}

impl Applied {
    fn identity(&self, s: &Schemas) -> Option<pb::ResourceIdentityData> {
        self.identity.as_ref().map(|i| pb::ResourceIdentityData {
            identity_data: Some(dynamic(i, &s.identity)),
        })
    }
}

fn identity_of(i: &Option<pb::ResourceIdentityData>) -> Option<Json> {
    i.as_ref().map(|i| decode(&i.identity_data))
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

fn seed() -> sandbox::Seed {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sandbox/seed.json")).unwrap();
    sandbox::parse_seed(&text).unwrap()
}

async fn sandbox_with(world: Option<World>) -> (RunningSandbox, Option<tempfile::TempDir>) {
    sei_sandbox::install_crypto_provider();
    let (state, dir) = match world {
        Some(w) => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("state.json");
            w.save(&path).unwrap();
            (Some(path), Some(dir))
        }
        None => (None, None),
    };
    let sb = sandbox::start(seed(), state, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (sb, dir)
}

fn provider_config(sb: &RunningSandbox) -> Json {
    json!({
        "endpoint": sb.sei_endpoint(),
        "api_key": KEY,
        "bitbucket_api_url": sb.bitbucket_api_url(),
    })
}

/// The SEI record with this id, read over SEI's REST API.
async fn sei_record(sb: &RunningSandbox, id: &str) -> Json {
    reqwest::Client::new()
        .get(format!("{}/v1/integrations/{id}", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `terraform plan`, `terraform apply` of the saved plan, then `terraform
/// plan` again, each its own command with its own processes. Returns the
/// applied instance; asserts the second plan is empty.
async fn plan_apply_plan(client: Client, sb: &RunningSandbox, type_name: &str, config: &Json) -> Applied {
    let who = client.name;
    let pc = provider_config(sb);
    // terraform plan: schema, validate walk, plan.
    let s = Process::schemas(client).await;
    let mut v = Process::start(client).await;
    assert!(errors(&v.validate_provider(&s, &pc).await).is_empty(), "{who}");
    let diags = v.validate_resource(&s, type_name, config).await;
    assert!(errors(&diags).is_empty(), "{who}: {diags:?}");
    v.stop().await;
    let mut p = Process::start(client).await;
    assert!(errors(&p.configure(&s, &pc).await).is_empty(), "{who}");
    assert!(
        errors(&p.validate_resource(&s, type_name, config).await).is_empty(),
        "{who}"
    );
    let plan = p.plan(&s, type_name, &Applied::default(), config, vec![]).await;
    assert!(errors(&plan.diagnostics).is_empty(), "{who}: {:?}", plan.diagnostics);
    p.stop().await;
    let planned = decode(&plan.planned_state);
    assert!(is_unknown(&planned["id"]), "{who}: {planned}");
    assert!(
        plan.planned_identity.is_none(),
        "{who}: the id is not known before the create"
    );
    assert_write_only_null(&planned);
    // terraform apply plan.tfplan: schema, then apply (a saved plan is not
    // validated again). apply re-plans first; a 1.16 client hands the
    // plan's private data back.
    let s = Process::schemas(client).await;
    let mut a = Process::start(client).await;
    assert!(errors(&a.configure(&s, &pc).await).is_empty(), "{who}");
    let stored = client.caps.is_some_and(|c| c.store_planned_private);
    let replan = a
        .plan(
            &s,
            type_name,
            &Applied::default(),
            config,
            if stored { plan.planned_private.clone() } else { vec![] },
        )
        .await;
    assert!(
        errors(&replan.diagnostics).is_empty(),
        "{who}: {:?}",
        replan.diagnostics
    );
    assert_eq!(
        decode(&replan.planned_state),
        planned,
        "{who}: apply's re-plan differs from the plan"
    );
    let ty = s.ty(type_name);
    let applied = a
        .rpc
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: type_name.into(),
            prior_state: Some(dynamic(&Json::Null, &ty)),
            planned_state: replan.planned_state.clone(),
            config: Some(dynamic(config, &ty)),
            planned_private: replan.planned_private.clone(),
            provider_meta: None,
            planned_identity: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{who}: {:?}",
        applied.diagnostics
    );
    a.stop().await;
    let state = decode(&applied.new_state);
    assert_write_only_null(&state);
    let id = state["id"].as_str().unwrap().to_string();
    let record = sei_record(sb, &id).await;
    assert_eq!(record["name"], config["name"], "{who}: {record}");
    let identity = identity_of(&applied.new_identity);
    if client.identity {
        assert_eq!(identity, Some(json!({"id": id})), "{who}");
    } else {
        assert_eq!(identity, None, "{who}: identities are for 1.12 and later");
    }
    let created = Applied {
        state,
        private: applied.private,
        identity,
    };
    // terraform plan: refresh, then plan; nothing to do.
    let s = Process::schemas(client).await;
    let mut p = Process::start(client).await;
    assert!(errors(&p.configure(&s, &pc).await).is_empty(), "{who}");
    // A state that holds a write-only value (edited by hand, or from a
    // fork) is read back without it.
    let mut leaked = created.clone();
    if let Some(c) = leaked.state["credential"].get_mut(0) {
        c["password_wo"] = json!("leaked");
    }
    let read = p.read(&s, type_name, &leaked).await;
    assert!(errors(&read.diagnostics).is_empty(), "{who}: {:?}", read.diagnostics);
    let refreshed = Applied {
        state: decode(&read.new_state),
        private: read.private,
        identity: identity_of(&read.new_identity),
    };
    assert_eq!(
        refreshed.state, created.state,
        "{who}: refresh found drift that is not there"
    );
    let again = p.plan(&s, type_name, &refreshed, config, vec![]).await;
    assert!(errors(&again.diagnostics).is_empty(), "{who}: {:?}", again.diagnostics);
    assert_eq!(
        decode(&again.planned_state),
        refreshed.state,
        "{who}: the second plan is not empty"
    );
    assert!(again.requires_replace.is_empty(), "{who}");
    p.stop().await;
    refreshed
}

/// Every `*_wo` attribute, at any depth, is null.
fn assert_write_only_null(v: &Json) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                if k.ends_with("_wo") {
                    assert!(x.is_null(), "{k} came back as {x}");
                }
                assert_write_only_null(x);
            }
        }
        Json::Array(a) => a.iter().for_each(assert_write_only_null),
        _ => {}
    }
}

fn cloud_config(name: &str) -> Json {
    json!({
        "name": name,
        "repositories": ["acme/api"],
        "credential": [{"username": OPS, "password_wo": OPS_TOKEN}],
        "credentials_version": 1,
    })
}

#[tokio::test]
async fn terraform_1_12_to_1_16_plan_apply_and_plan_again_with_write_only_credentials() {
    let (sb, _dir) = sandbox_with(None).await;
    for (i, client) in [TERRAFORM_1_12, TERRAFORM_1_14, TERRAFORM_1_15, TERRAFORM_1_16]
        .into_iter()
        .enumerate()
    {
        eprintln!("replaying {} from {}", client.name, client.source);
        plan_apply_plan(client, &sb, CLOUD, &cloud_config(&format!("bb-replay-{i}"))).await;
    }
    sb.stop().await;
}

#[tokio::test]
async fn terraform_validate_walk_with_an_unknown_provider_setting_is_not_an_error() {
    // terraform validate and the validate walk of plan: no ConfigureProvider,
    // and a provider setting from a resource is unknown.
    let (sb, _dir) = sandbox_with(None).await;
    for client in [TERRAFORM_1_15, OPENTOFU_1_9] {
        let s = Process::schemas(client).await;
        let mut v = Process::start(client).await;
        let mut pc = provider_config(&sb);
        pc["api_key"] = unknown();
        let diags = v.validate_provider(&s, &pc).await;
        assert!(errors(&diags).is_empty(), "{}: {diags:?}", client.name);
        let mut config = cloud_config("bb-validate");
        config["credentials_version"] = unknown();
        if client.caps.is_none() {
            config["credential"] = json!([{"username": OPS, "password": OPS_TOKEN}]);
        }
        let diags = v.validate_resource(&s, CLOUD, &config).await;
        assert!(errors(&diags).is_empty(), "{}: {diags:?}", client.name);
        v.stop().await;
    }
    sb.stop().await;
}

#[tokio::test]
async fn opentofu_1_9_is_refused_write_only_clearly_and_works_with_a_stored_password() {
    let client = OPENTOFU_1_9;
    eprintln!("replaying {} from {}", client.name, client.source);
    let (sb, _dir) = sandbox_with(None).await;
    let s = Process::schemas(client).await;
    let mut v = Process::start(client).await;
    let refused = v.validate_resource(&s, CLOUD, &cloud_config("bb-tofu-19")).await;
    v.stop().await;
    assert_eq!(errors(&refused).len(), 1, "{refused:?}");
    assert_eq!(refused[0].summary, "WriteOnly Attribute Not Allowed");
    assert!(refused[0].detail.contains("set `password`"), "{}", refused[0].detail);
    assert_eq!(support::paths(&refused), ["credential.password_wo"]);
    let stored = json!({
        "name": "bb-tofu-19",
        "repositories": ["acme/api"],
        "credential": [{"username": OPS, "password": OPS_TOKEN}],
    });
    let applied = plan_apply_plan(client, &sb, CLOUD, &stored).await;
    assert_eq!(applied.state["credential"][0]["password"], OPS_TOKEN);
    sb.stop().await;
}

#[tokio::test]
async fn opentofu_1_11_and_1_12_plan_apply_and_plan_again() {
    let (sb, _dir) = sandbox_with(None).await;
    for (i, client) in [OPENTOFU_1_11, OPENTOFU_1_12].into_iter().enumerate() {
        eprintln!("replaying {} from {}", client.name, client.source);
        plan_apply_plan(client, &sb, CLOUD, &cloud_config(&format!("bb-tofu-{i}"))).await;
    }
    sb.stop().await;
}

/// A plan whose provider block takes `api_key` from a resource not created
/// yet: Stacks gets a deferral, OpenTofu 1.11 (which says it allows them but
/// fails on one) the error.
#[tokio::test]
async fn unknown_provider_configuration_defers_for_stacks_and_not_for_opentofu_1_11() {
    let (sb, _dir) = sandbox_with(None).await;
    let mut pc = provider_config(&sb);
    pc["api_key"] = unknown();
    let config = cloud_config("bb-deferred");
    for client in [STACKS, OPENTOFU_1_11] {
        eprintln!("replaying {} from {}", client.name, client.source);
        let s = Process::schemas(client).await;
        let mut p = Process::start(client).await;
        let configured = p.configure(&s, &pc).await;
        let plan = p.plan(&s, CLOUD, &Applied::default(), &config, vec![]).await;
        let import = p
            .rpc
            .import_resource_state(pb::import_resource_state::Request {
                type_name: CLOUD.into(),
                id: "4242".into(),
                client_capabilities: p.caps(),
                identity: None,
            })
            .await
            .unwrap()
            .into_inner();
        let data_ty = s.data_sources["sei_bitbucket_integrations"].clone();
        let data = p
            .rpc
            .read_data_source(pb::read_data_source::Request {
                type_name: "sei_bitbucket_integrations".into(),
                config: Some(dynamic(&json!({"name_prefix": "bb-"}), &data_ty)),
                provider_meta: None,
                client_capabilities: p.caps(),
            })
            .await
            .unwrap()
            .into_inner();
        p.stop().await;
        let deferred = Some(pb::Deferred {
            reason: pb::deferred::Reason::ProviderConfigUnknown as i32,
        });
        if client.reports.starts_with("1.11") {
            let e = errors(&configured);
            assert_eq!(e.len(), 1, "{configured:?}");
            assert!(e[0].starts_with("Provider configuration is not known yet"), "{e:?}");
            for (what, d) in [
                ("plan", &plan.deferred),
                ("import", &import.deferred),
                ("data", &data.deferred),
            ] {
                assert_eq!(*d, None, "{what}: OpenTofu 1.11 turns a deferral into an error");
            }
            assert!(!errors(&plan.diagnostics).is_empty());
        } else {
            assert!(errors(&configured).is_empty(), "{configured:?}");
            assert_eq!(plan.deferred, deferred, "{:?}", plan.diagnostics);
            assert!(errors(&plan.diagnostics).is_empty(), "{:?}", plan.diagnostics);
            let planned = decode(&plan.planned_state);
            assert!(is_unknown(&planned["id"]), "{planned}");
            assert_eq!(planned["name"], "bb-deferred");
            assert_write_only_null(&planned);
            assert_eq!(import.deferred, deferred);
            assert!(is_unknown(&decode(&import.imported_resources[0].state)));
            assert_eq!(data.deferred, deferred);
        }
    }
    sb.stop().await;
}

#[tokio::test]
async fn opentofu_1_12_imports_by_identity_and_reports_itself_as_1_13() {
    let client = OPENTOFU_1_12;
    eprintln!("replaying {} from {}", client.name, client.source);
    let (sb, _dir) = sandbox_with(None).await;
    let created: Json = reqwest::Client::new()
        .post(format!("{}/v1/integrations", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .json(&json!({"name": "bbdc-ui-made", "application": "bitbucket_server",
            "url": "https://bitbucket.acme.internal", "satellite": true, "metadata": {"projects": "Platform", "repos": ""}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let s = Process::schemas(client).await;
    let mut p = Process::start(client).await;
    assert!(errors(&p.configure(&s, &provider_config(&sb)).await).is_empty());
    let got = p.import_by_identity(&s, SERVER, &json!({"id": id})).await;
    assert_eq!(got.identity, Some(json!({"id": id})));
    let read = p.read(&s, SERVER, &got).await;
    assert!(errors(&read.diagnostics).is_empty(), "{:?}", read.diagnostics);
    assert_eq!(identity_of(&read.new_identity), Some(json!({"id": id})));
    let state = decode(&read.new_state);
    assert_eq!(state["name"], "bbdc-ui-made");
    let config = json!({"name": "bbdc-ui-made", "url": "https://bitbucket.acme.internal",
        "projects": ["Platform"], "satellite": true});
    let refreshed = Applied {
        state,
        private: read.private,
        identity: identity_of(&read.new_identity),
    };
    let plan = p.plan(&s, SERVER, &refreshed, &config, vec![]).await;
    assert!(errors(&plan.diagnostics).is_empty(), "{:?}", plan.diagnostics);
    assert_eq!(
        decode(&plan.planned_state),
        refreshed.state,
        "the import plans no change"
    );
    p.stop().await;
    sb.stop().await;
}

/// 250 Cloud records: 150 of the team to find, 100 others.
fn team_world() -> World {
    let mut w = World {
        next_id: 10_000,
        ..World::default()
    };
    for i in 0..250u64 {
        let name = if i < 150 {
            format!("bb-team-{i:04}")
        } else {
            format!("other-{i:04}")
        };
        let id = 5000 + i;
        w.integrations.insert(
            id,
            StoredIntegration {
                id,
                account: "acme".into(),
                name,
                description: None,
                url: "https://bitbucket.org".into(),
                application: "bitbucket".into(),
                status: "ACTIVE".into(),
                satellite: i % 2 == 0,
                tags: if i % 7 == 0 { vec!["17".into()] } else { vec![] },
                metadata: serde_json::from_value(json!({"repos": ""})).unwrap(),
                authentication: match i {
                    3 => "oauth".into(),
                    _ if i % 2 == 0 => "none".into(),
                    _ => "api_key".into(),
                },
                linked_credentials: None,
                created_at: 1_767_225_600,
                updated_at: 1_767_225_600 + i as i64,
                ingestion_frequency: 60,
                token: StoredToken::default(),
            },
        );
    }
    w
}

/// `terraform query -generate-config-out=generated.tf` with
/// `list "sei_bitbucket_integration" "team" { config { name_prefix =
/// "bb-team-" } }` and no `limit`, then `terraform plan
/// -generate-config-out` of one `import` block: every listed result gets
/// its configuration generated, and the generated configuration plans
/// clean.
#[tokio::test]
async fn terraform_query_and_plan_generate_config_out_as_1_14_and_1_15_send_them() {
    let (sb, _dir) = sandbox_with(Some(team_world())).await;
    for client in [TERRAFORM_1_14, TERRAFORM_1_15] {
        eprintln!("replaying {} from {}", client.name, client.source);
        let s = Process::schemas(client).await;
        let list_ty = s.lists[CLOUD].clone();
        let list_config = json!({"name_prefix": "bb-team-"});
        let mut q = Process::start(client).await;
        assert!(errors(&q.configure(&s, &provider_config(&sb)).await).is_empty());
        let validated = q
            .rpc
            .validate_list_resource_config(pb::validate_list_resource_config::Request {
                type_name: CLOUD.into(),
                config: Some(dynamic(&list_config, &list_ty)),
                include_resource_object: Some(dynamic(&json!(true), &Ty::Bool)),
                limit: Some(dynamic(&json!(100), &Ty::Number)),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(errors(&validated.diagnostics).is_empty(), "{:?}", validated.diagnostics);
        let mut stream = q
            .rpc
            .list_resource(pb::list_resource::Request {
                type_name: CLOUD.into(),
                config: Some(dynamic(&list_config, &list_ty)),
                include_resource_object: true,
                limit: 100,
            })
            .await
            .unwrap()
            .into_inner();
        let mut found = Vec::new();
        let mut oauth_seen = false;
        while let Some(event) = stream.message().await.unwrap() {
            assert!(errors(&event.diagnostic).is_empty(), "{:?}", event.diagnostic);
            found.push(event);
        }
        assert_eq!(found.len(), 100, "{}: the default limit is 100", client.name);
        for event in &found {
            let state = decode(&event.resource_object);
            assert!(event.display_name.starts_with("bb-team-"), "{}", event.display_name);
            assert_eq!(
                decode(&event.identity.as_ref().unwrap().identity_data),
                json!({"id": state["id"]})
            );
            let generated = q
                .rpc
                .generate_resource_config(pb::generate_resource_config::Request {
                    type_name: CLOUD.into(),
                    state: event.resource_object.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            assert!(errors(&generated.diagnostics).is_empty(), "{:?}", generated.diagnostics);
            let config = decode(&generated.config);
            assert_eq!(config["name"], state["name"]);
            assert!(
                config["id"].is_null(),
                "computed attributes are not generated: {config}"
            );
            if state["authentication"] == "oauth" {
                // Needs no placeholder code: the grant stays in SEI.
                assert_eq!(config["credentials_version"], json!(1), "{config}");
                assert!(config["oauth_code_wo"].is_null(), "{config}");
                let diags = q.validate_resource(&s, CLOUD, &config).await;
                assert!(errors(&diags).is_empty(), "{diags:?}");
                oauth_seen = true;
            }
        }
        assert!(oauth_seen, "the listed records include an OAuth one");
        q.stop().await;

        // terraform plan -generate-config-out, import { to = ..., identity =
        // { id = ... } }: ImportResourceState, ReadResource,
        // GenerateResourceConfig, ValidateResourceConfig, PlanResourceChange.
        // A satellite record: one with credentials needs them added to the
        // generated config (SEI never returns them), as the import guide says.
        let satellite = found
            .iter()
            .find(|e| decode(&e.resource_object)["satellite"] == json!(true))
            .unwrap();
        let id = decode(&satellite.identity.as_ref().unwrap().identity_data)["id"].clone();
        let mut p = Process::start(client).await;
        assert!(errors(&p.configure(&s, &provider_config(&sb)).await).is_empty());
        let got = p.import_by_identity(&s, CLOUD, &json!({"id": id})).await;
        let read = p.read(&s, CLOUD, &got).await;
        assert!(errors(&read.diagnostics).is_empty(), "{:?}", read.diagnostics);
        let generated = p
            .rpc
            .generate_resource_config(pb::generate_resource_config::Request {
                type_name: CLOUD.into(),
                state: read.new_state.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let config = decode(&generated.config);
        let diags = p.validate_resource(&s, CLOUD, &config).await;
        assert!(
            errors(&diags).is_empty(),
            "{}: the generated config does not validate: {diags:?}",
            client.name
        );
        let refreshed = Applied {
            state: decode(&read.new_state),
            private: read.private,
            identity: identity_of(&read.new_identity),
        };
        let plan = p.plan(&s, CLOUD, &refreshed, &config, vec![]).await;
        assert!(errors(&plan.diagnostics).is_empty(), "{:?}", plan.diagnostics);
        assert_eq!(
            decode(&plan.planned_state),
            refreshed.state,
            "{}: the generated config plans a change",
            client.name
        );
        p.stop().await;
    }
    sb.stop().await;
}
