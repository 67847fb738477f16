//! Terraform 1.12–1.15, replayed: only Terraform 1.11.4 is installed here,
//! so these tests drive the provider binary over real gRPC with AutoMTLS the
//! way newer Terraform does, against an in-process sandbox over HTTP.
//!
//! The call sequences follow Terraform v1.15.9's source (docs/design.md
//! says which file each step comes from):
//! - schema loading: `GetProviderSchema`, then `GetResourceIdentitySchemas`
//!   (internal/plugin6/grpc_provider.go);
//! - `terraform plan` with `import { identity = {...} }`:
//!   `ImportResourceState` with the identity, `ReadResource` with the
//!   imported identity, `PlanResourceChange` with the prior identity
//!   (internal/terraform/node_resource_plan_instance.go);
//! - `terraform query -generate-config-out`: `ValidateListResourceConfig`,
//!   `ListResource`, then `GenerateResourceConfig` per result
//!   (internal/terraform/node_resource_plan_instance_query.go,
//!   node_resource_plan_instance.go's generateHCLListResourceDef), and the
//!   plan of the generated config with its import block.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use sei_sandbox::world::{StoredIntegration, StoredToken, World};
use sei_sandbox::{self as sandbox, RunningSandbox};
use serde_json::json;
use support::*;
use terraform_provider_sei::provider::SeiProvider;
use tfplugin::codec::{decode_msgpack, encode_msgpack, Type, Value};
use tfplugin::framework::Provider as _;
use tfplugin::schema::{Block, Schema};
use tfplugin::server::proto::tfplugin6 as pb;
use tfplugin::server::proto::tfplugin6::provider_client::ProviderClient;
use tonic::transport::Channel;

const KEY: &str = "sandbox-sei-api-key";
const CLOUD: &str = "sei_bitbucket_integration";
const SERVER: &str = "sei_bitbucket_server_integration";

fn seed() -> sandbox::Seed {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sandbox/seed.json")).unwrap();
    sandbox::parse_seed(&text).unwrap()
}

fn schema_of(type_name: &str) -> Schema {
    SeiProvider::new()
        .resources()
        .into_iter()
        .find(|r| r.type_name() == type_name)
        .unwrap()
        .schema()
        .clone()
}

fn dynamic(value: &Value, ty: &Type) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: encode_msgpack(value, ty).unwrap(),
        json: vec![],
    }
}

fn value(d: &Option<pb::DynamicValue>, ty: &Type) -> Value {
    decode_msgpack(&d.as_ref().unwrap().msgpack, ty).unwrap()
}

fn identity_type() -> Type {
    Type::object([("id", Type::String)])
}

fn identity(id: &str) -> pb::ResourceIdentityData {
    pb::ResourceIdentityData {
        identity_data: Some(dynamic(&Value::object([("id", Value::string(id))]), &identity_type())),
    }
}

fn identity_id(i: &Option<pb::ResourceIdentityData>) -> String {
    let v = value(&i.as_ref().expect("an identity").identity_data, &identity_type());
    v.get("id").as_str().unwrap().to_string()
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

/// Terraform's proposed new state (objchange.ProposedNew): configuration
/// where it sets a value, the prior value where a computed attribute is
/// left null.
fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let c = config.get(a.name);
        let v = if c.is_null() && a.computed {
            prior.get(a.name).clone()
        } else {
            c.clone()
        };
        out.insert(a.name.to_string(), v);
    }
    for b in &block.blocks {
        let priors = prior.get(b.name).elements();
        let items: Vec<Value> = config
            .get(b.name)
            .elements()
            .iter()
            .enumerate()
            .map(|(i, c)| proposed_new(&b.block, priors.get(i).unwrap_or(&Value::Null), c))
            .collect();
        out.insert(b.name.to_string(), Value::List(items));
    }
    Value::Object(out)
}

struct Session {
    sandbox: RunningSandbox,
    plugin: Option<Plugin>,
    channel: Channel,
    client: ProviderClient<Channel>,
    _state_dir: Option<tempfile::TempDir>,
}

impl Session {
    /// Starts a sandbox (with `world` as its saved state, if any) and the
    /// provider, loads the schema as Terraform 1.12+ does, and configures
    /// the provider as `terraform_version`.
    async fn start(world: Option<World>, terraform_version: &str) -> Session {
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
        let sandbox = sandbox::start(seed(), state, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let id = client_identity();
        let plugin = start_plugin(&id.pem, &[]);
        let channel = connect(&plugin, &id).await.unwrap();
        let mut client = ProviderClient::new(channel.clone());
        client
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .unwrap();
        client
            .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
            .await
            .unwrap();
        let configured = client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: terraform_version.into(),
                config: Some(provider_config(&[
                    ("endpoint", Value::string(sandbox.sei_endpoint())),
                    ("api_key", Value::string(KEY)),
                    ("bitbucket_api_url", Value::string(sandbox.bitbucket_api_url())),
                ])),
                client_capabilities: Some(pb::ClientCapabilities {
                    deferral_allowed: true,
                    write_only_attributes_allowed: true,
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            errors(&configured.diagnostics).is_empty(),
            "{:?}",
            configured.diagnostics
        );
        Session {
            sandbox,
            plugin: Some(plugin),
            channel,
            client,
            _state_dir: dir,
        }
    }

    async fn sei_calls(&self, route: &str) -> u64 {
        let c: serde_json::Value = reqwest::get(format!("{}/_sandbox/counters", self.sandbox.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        c["routes"][route].as_u64().unwrap_or(0)
    }

    async fn create_record(&self, body: serde_json::Value) -> String {
        let r: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v1/integrations", self.sandbox.sei_endpoint()))
            .header("Authorization", format!("ApiKey {KEY}"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["id"].as_str().unwrap_or_else(|| panic!("{r}")).to_string()
    }

    async fn import_by_identity(&mut self, type_name: &str, id: &str) -> pb::import_resource_state::ImportedResource {
        let resp = self
            .client
            .import_resource_state(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: String::new(),
                client_capabilities: Some(pb::ClientCapabilities::default()),
                identity: Some(identity(id)),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(errors(&resp.diagnostics).is_empty(), "{:?}", resp.diagnostics);
        assert_eq!(resp.imported_resources.len(), 1);
        resp.imported_resources.into_iter().next().unwrap()
    }

    async fn read(
        &mut self,
        type_name: &str,
        state: &pb::DynamicValue,
        current: Option<pb::ResourceIdentityData>,
    ) -> pb::read_resource::Response {
        self.client
            .read_resource(pb::read_resource::Request {
                type_name: type_name.into(),
                current_state: Some(state.clone()),
                private: vec![],
                provider_meta: None,
                client_capabilities: Some(pb::ClientCapabilities::default()),
                current_identity: current,
            })
            .await
            .unwrap()
            .into_inner()
    }

    /// The plan Terraform makes for an imported object and its config.
    async fn plan_imported(
        &mut self,
        type_name: &str,
        prior: &pb::DynamicValue,
        config: &Value,
        prior_identity: Option<pb::ResourceIdentityData>,
    ) -> pb::plan_resource_change::Response {
        let schema = schema_of(type_name);
        let ty = schema.value_type();
        let prior_value = value(&Some(prior.clone()), &ty);
        let proposed = proposed_new(&schema.block, &prior_value, config);
        let validated = self
            .client
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: type_name.into(),
                config: Some(dynamic(config, &ty)),
                client_capabilities: Some(pb::ClientCapabilities {
                    deferral_allowed: true,
                    write_only_attributes_allowed: true,
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(errors(&validated.diagnostics).is_empty(), "{:?}", validated.diagnostics);
        self.client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: Some(prior.clone()),
                proposed_new_state: Some(dynamic(&proposed, &ty)),
                config: Some(dynamic(config, &ty)),
                prior_private: vec![],
                provider_meta: None,
                client_capabilities: Some(pb::ClientCapabilities {
                    deferral_allowed: true,
                    write_only_attributes_allowed: true,
                }),
                prior_identity,
            })
            .await
            .unwrap()
            .into_inner()
    }

    async fn stop(mut self) {
        let plugin = self.plugin.take().unwrap();
        shutdown_and_wait(plugin, self.channel.clone()).await;
        self.sandbox.stop().await;
    }
}

#[tokio::test]
async fn identity_schemas_list_resources_generated_config_and_deprecations_are_advertised() {
    let mut s = Session::start(None, "1.15.9").await;
    let ids = s
        .client
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    let mut typed: Vec<&String> = ids.identity_schemas.keys().collect();
    typed.sort();
    assert_eq!(typed, [CLOUD, SERVER]);
    for schema in ids.identity_schemas.values() {
        assert_eq!(schema.version, 0);
        assert_eq!(schema.identity_attributes.len(), 1);
        let a = &schema.identity_attributes[0];
        assert_eq!(
            (a.name.as_str(), a.r#type.as_slice(), a.required_for_import),
            ("id", &b"\"string\""[..], true)
        );
    }
    let schema = s
        .client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let mut lists: Vec<&String> = schema.list_resource_schemas.keys().collect();
    lists.sort();
    assert_eq!(lists, [CLOUD, SERVER]);
    let list_attrs: Vec<&str> = schema.list_resource_schemas[CLOUD]
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(list_attrs, ["name_prefix", "tag_ids"]);
    assert!(schema.server_capabilities.as_ref().unwrap().generate_resource_config);
    for type_name in [CLOUD, SERVER] {
        let block = schema.resource_schemas[type_name].block.as_ref().unwrap();
        let credential = block.block_types.iter().find(|b| b.type_name == "credential").unwrap();
        let password = credential
            .block
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .find(|a| a.name == "password")
            .unwrap();
        assert!(password.deprecated, "{type_name}");
        assert!(password.deprecation_message.contains("password_wo"), "{type_name}");
    }
    let meta = s
        .client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let mut listed: Vec<&str> = meta.list_resources.iter().map(|l| l.type_name.as_str()).collect();
    listed.sort();
    assert_eq!(listed, [CLOUD, SERVER]);
    s.stop().await;
}

#[tokio::test]
async fn a_plan_with_an_identity_import_reads_and_plans_with_the_identity() {
    let mut s = Session::start(None, "1.12.2").await;
    let id = s
        .create_record(json!({"name": "bbdc-ui-made", "application": "bitbucket_server",
            "url": "https://bitbucket.acme.internal", "satellite": true, "metadata": {"projects": "Platform", "repos": ""}}))
        .await;
    // import { to = sei_bitbucket_server_integration.x, identity = { id = "…" } }
    let imported = s.import_by_identity(SERVER, &id).await;
    assert_eq!(identity_id(&imported.identity), id);
    let state = imported.state.unwrap();
    let read = s.read(SERVER, &state, imported.identity.clone()).await;
    assert!(errors(&read.diagnostics).is_empty(), "{:?}", read.diagnostics);
    assert_eq!(identity_id(&read.new_identity), id);
    let ty = schema_of(SERVER).value_type();
    let config = Value::object([
        ("name", Value::string("bbdc-ui-made")),
        ("url", Value::string("https://bitbucket.acme.internal")),
        ("projects", Value::Set(vec![Value::string("Platform")])),
        ("satellite", Value::Bool(true)),
    ]);
    let config = tfplugin::model::conform(config, &ty);
    let plan = s
        .plan_imported(
            SERVER,
            read.new_state.as_ref().unwrap(),
            &config,
            read.new_identity.clone(),
        )
        .await;
    assert!(errors(&plan.diagnostics).is_empty(), "{:?}", plan.diagnostics);
    assert_eq!(
        value(&plan.planned_state, &ty),
        value(&read.new_state, &ty),
        "the plan after an identity import of a matching satellite config has no changes"
    );
    assert!(plan.requires_replace.is_empty());
    assert_eq!(identity_id(&plan.planned_identity), id);
    s.stop().await;
}

/// 1,003 Cloud records: 700 of the team to find, 303 others.
fn big_world() -> World {
    let mut w = World {
        next_id: 10_000,
        ..World::default()
    };
    for i in 0..1003u64 {
        let name = if i < 700 {
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
                authentication: if i % 2 == 0 { "none".into() } else { "api_key".into() },
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

#[tokio::test]
async fn terraform_query_generate_config_out_lists_generates_and_the_generated_config_plans_clean() {
    let mut s = Session::start(Some(big_world()), "1.14.0").await;
    let list_ty = Type::object([("name_prefix", Type::String), ("tag_ids", Type::set(Type::String))]);
    let config = Value::object([("name_prefix", Value::string("bb-team-")), ("tag_ids", Value::Null)]);
    let validated = s
        .client
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: CLOUD.into(),
            config: Some(dynamic(&config, &list_ty)),
            include_resource_object: None,
            limit: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(validated.diagnostics.is_empty(), "{:?}", validated.diagnostics);
    let mut stream = s
        .client
        .list_resource(pb::list_resource::Request {
            type_name: CLOUD.into(),
            config: Some(dynamic(&config, &list_ty)),
            include_resource_object: true,
            limit: 100_000,
        })
        .await
        .unwrap()
        .into_inner();
    let ty = schema_of(CLOUD).value_type();
    let mut events = Vec::new();
    while let Some(e) = stream.message().await.unwrap() {
        events.push(e);
    }
    assert_eq!(events.len(), 700, "exactly the matching records");
    for e in &events {
        assert!(e.diagnostic.is_empty(), "{:?}", e.diagnostic);
        assert!(e.display_name.starts_with("bb-team-"), "{}", e.display_name);
        let object = value(&e.resource_object, &ty);
        assert_eq!(object.get("name").as_str(), Some(e.display_name.as_str()));
        assert_eq!(object.get("id").as_str().unwrap(), identity_id(&e.identity));
    }
    let lists = s.sei_calls("POST /sei/api/v1/integrations/list").await;
    assert!(lists <= 2, "{lists} SEI list calls for 1,003 records");

    // A satellite record: its generated config plans with no changes.
    let satellite = events
        .iter()
        .find(|e| value(&e.resource_object, &ty).get("satellite") == &Value::Bool(true))
        .unwrap();
    let generated = s
        .client
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: CLOUD.into(),
            state: satellite.resource_object.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(generated.diagnostics.is_empty(), "{:?}", generated.diagnostics);
    let config = value(&generated.config, &ty);
    assert_eq!(config.get("name").as_str(), Some(satellite.display_name.as_str()));
    assert_eq!(config.get("satellite"), &Value::Bool(true));
    for absent in [
        "id",
        "status",
        "created_at",
        "updated_at",
        "authentication",
        "url",
        "oauth_code_wo",
        "skip_preflight",
    ] {
        assert!(
            config.get(absent).is_null(),
            "{absent} must not be generated: {config:?}"
        );
    }
    let id = identity_id(&satellite.identity);
    let imported = s.import_by_identity(CLOUD, &id).await;
    let read = s
        .read(CLOUD, imported.state.as_ref().unwrap(), imported.identity.clone())
        .await;
    let plan = s
        .plan_imported(
            CLOUD,
            read.new_state.as_ref().unwrap(),
            &config,
            read.new_identity.clone(),
        )
        .await;
    assert!(errors(&plan.diagnostics).is_empty(), "{:?}", plan.diagnostics);
    assert_eq!(
        value(&plan.planned_state, &ty),
        value(&read.new_state, &ty),
        "no changes"
    );
    assert_eq!(identity_id(&plan.planned_identity), id);

    // A record with credentials: the generated config says what to add.
    let keyed = events
        .iter()
        .find(|e| value(&e.resource_object, &ty).get("authentication").as_str() == Some("api_key"))
        .unwrap();
    let generated = s
        .client
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: CLOUD.into(),
            state: keyed.resource_object.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let warning = generated
        .diagnostics
        .iter()
        .find(|d| d.summary == "Add the credentials SEI holds")
        .unwrap();
    assert!(
        warning.detail.contains("add one `credential` block") && warning.detail.contains("password_wo"),
        "{}",
        warning.detail
    );
    // …and so does the plan's error when they are left out.
    let config = value(&generated.config, &ty);
    let validated = s
        .client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: CLOUD.into(),
            config: Some(dynamic(&config, &ty)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    let missing = errors(&validated.diagnostics).join("\n");
    assert!(
        missing.contains("Missing credentials") && missing.contains("add one `credential` block"),
        "{missing}"
    );
    s.stop().await;
}

#[tokio::test]
async fn apply_returns_the_identity_the_plan_could_not_know() {
    let mut s = Session::start(None, "1.13.0").await;
    let schema = schema_of(SERVER);
    let ty = schema.value_type();
    let config = tfplugin::model::conform(
        Value::object([
            ("name", Value::string("bbdc-new")),
            ("url", Value::string("https://bitbucket.acme.internal")),
            ("satellite", Value::Bool(true)),
        ]),
        &ty,
    );
    let proposed = proposed_new(&schema.block, &Value::Null, &config);
    let caps = Some(pb::ClientCapabilities {
        deferral_allowed: true,
        write_only_attributes_allowed: true,
    });
    let plan = s
        .client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: SERVER.into(),
            prior_state: Some(dynamic(&Value::Null, &ty)),
            proposed_new_state: Some(dynamic(&proposed, &ty)),
            config: Some(dynamic(&config, &ty)),
            prior_private: vec![],
            provider_meta: None,
            client_capabilities: caps,
            prior_identity: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&plan.diagnostics).is_empty(), "{:?}", plan.diagnostics);
    assert!(plan.planned_identity.is_none(), "the id is not known before the create");
    let applied = s
        .client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: SERVER.into(),
            prior_state: Some(dynamic(&Value::Null, &ty)),
            planned_state: plan.planned_state.clone(),
            config: Some(dynamic(&config, &ty)),
            planned_private: plan.planned_private,
            provider_meta: None,
            planned_identity: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&applied.diagnostics).is_empty(), "{:?}", applied.diagnostics);
    let state = value(&applied.new_state, &ty);
    assert_eq!(identity_id(&applied.new_identity), state.get("id").as_str().unwrap());
    s.stop().await;
}

#[tokio::test]
async fn terraform_1_11_gets_the_6_8_answers_without_identities() {
    let mut s = Session::start(None, "1.11.4").await;
    let id = s
        .create_record(json!({"name": "bb-old-terraform", "application": "bitbucket",
            "url": "https://bitbucket.org", "satellite": true}))
        .await;
    let imported = s
        .client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: CLOUD.into(),
            id: id.clone(),
            client_capabilities: None,
            identity: None,
        })
        .await
        .unwrap()
        .into_inner();
    let resource = &imported.imported_resources[0];
    assert!(resource.identity.is_none());
    let read = s.read(CLOUD, resource.state.as_ref().unwrap(), None).await;
    assert!(read.new_identity.is_none());
    s.stop().await;
}
