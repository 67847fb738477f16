use std::sync::Arc;

use async_trait::async_trait;

use super::registry::{validate_config, Registered, Registration};
use super::{internal_error, Ctx};
use crate::codec::{decode_state_json, AttributePath, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{self, Model};
use crate::schema::{generated_config, plan_generic, requires_replace_paths, IdentitySchema, Schema};

/// A plan in the making, for [`Resource::modify_plan`]. `planned` starts as
/// the generic plan: configuration, defaults, write-only values null, and
/// unknown computed values on create. The resource refines what only it
/// knows: which computed values an update really changes, and what forces a
/// replacement. Attributes the configuration sets keep the configuration's
/// value whatever the resource writes, as Terraform requires.
pub struct Plan<M> {
    /// `None` on create.
    pub prior: Option<M>,
    pub config: M,
    pub planned: M,
    pub requires_replace: Vec<AttributePath>,
    pub diags: Diagnostics,
    /// The provider's private data: the prior state's in, the planned
    /// object's out (Terraform hands it to apply, and to the second plan of
    /// a replacement, which has no prior state).
    pub private: Vec<u8>,
}

/// A managed resource, as its author writes it.
///
/// Every method receives and returns the typed model. Outcomes follow
/// Terraform's rules, and the framework enforces them: `create` returns
/// `None` when nothing was created; `update` returns `None` to keep the prior
/// state; `delete` keeps the object in state when it adds an error; `read`
/// returns `None` only when the remote object is gone.
#[async_trait]
pub trait Resource<S: Send + Sync + 'static>: Send + Sync + 'static {
    type Model: Model + Clone + Send + Sync + 'static;

    /// Built once, when the framework registers the type.
    fn schema(&self) -> Schema;

    /// Cross-attribute checks, without network; values may be unknown.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    async fn modify_plan(&self, _ctx: &Ctx<S>, _plan: &mut Plan<Self::Model>) {}

    async fn create(
        &self,
        ctx: &Ctx<S>,
        planned: Self::Model,
        config: Self::Model,
        diags: &mut Diagnostics,
    ) -> Option<Self::Model>;

    async fn read(&self, ctx: &Ctx<S>, state: Self::Model, diags: &mut Diagnostics) -> Option<Self::Model>;

    async fn update(
        &self,
        ctx: &Ctx<S>,
        prior: Self::Model,
        planned: Self::Model,
        config: Self::Model,
        diags: &mut Diagnostics,
    ) -> Option<Self::Model>;

    async fn delete(&self, ctx: &Ctx<S>, state: Self::Model, diags: &mut Diagnostics);

    /// The private data to keep after a create or update: `private` is the
    /// plan's, `succeeded` whether the resource returned a new state.
    /// Terraform sends apply only the planned private data and stores what
    /// apply answers, so this is where a resource records what the apply
    /// did (for example which secrets it sent).
    async fn applied_private(
        &self,
        _ctx: &Ctx<S>,
        _config: &Self::Model,
        private: Vec<u8>,
        _succeeded: bool,
    ) -> Vec<u8> {
        private
    }

    async fn import(&self, _ctx: &Ctx<S>, _id: &str, diags: &mut Diagnostics) -> Option<Self::Model> {
        diags.push(Diagnostic::error(
            "Import not supported",
            "This resource type cannot be imported.",
        ));
        None
    }

    /// The resource identity (Terraform 1.12+): attributes of the state that
    /// name the remote object for good. `None`: the type has none.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// The import id an identity stands for, so that `import { identity =
    /// ... }` runs the same `import` as `import { id = ... }`. The default
    /// takes the identity's one string attribute.
    fn import_id_from_identity(&self, identity: &Value) -> Option<String> {
        match identity {
            Value::Object(m) if m.len() == 1 => m.values().next().and_then(|v| v.as_str()).map(str::to_string),
            _ => None,
        }
    }

    /// Refines the configuration Terraform generates for an imported
    /// `state` (`generic`: what the schema alone gives, see
    /// [`generated_config`]), and says in `diags` what the user must add.
    fn generate_config(&self, _state: &Self::Model, generic: Value, _diags: &mut Diagnostics) -> Value {
        generic
    }

    /// Reads stored state JSON written with schema `version`. The default
    /// reads any version up to the current one with the current schema:
    /// attributes dropped since are ignored and new ones start null.
    fn upgrade_state(&self, schema: &Schema, version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
        if version > schema.version {
            return Err(Diagnostic::error(
                "State written by a newer provider",
                format!(
                    "This resource's state has schema version {version}; this provider understands up to {}. Upgrade the provider.",
                    schema.version
                ),
            )
            .into());
        }
        decode_state_json(json, &schema.value_type()).map_err(|e| {
            Diagnostic::error(
                "Unreadable resource state",
                format!("The stored state of this resource cannot be read: {e}."),
            )
            .into()
        })
    }
}

#[derive(Debug, Default)]
pub struct PlanResponse {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

#[derive(Debug, Default)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

#[derive(Debug, Default)]
pub struct ReadResponse {
    /// `Value::Null` when the remote object is gone.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

#[derive(Debug, Default)]
pub struct ImportResponse {
    pub state: Option<Value>,
    pub private: Vec<u8>,
    pub diags: Diagnostics,
}

/// A resource as the server sees it: values in, values out. Implemented for
/// every [`Resource`]; this is where the generic work happens.
#[async_trait]
pub trait DynResource<S>: Registration + Send + Sync {
    /// `write_only_allowed`: the calling Terraform keeps write-only values
    /// out of plan and state (1.11 and later).
    fn validate(&self, config: &Value, write_only_allowed: bool) -> Diagnostics;
    async fn plan(&self, ctx: &Ctx<S>, prior: Value, proposed: Value, config: Value, private: Vec<u8>) -> PlanResponse;
    async fn apply(&self, ctx: &Ctx<S>, prior: Value, planned: Value, config: Value, private: Vec<u8>)
        -> ApplyResponse;
    async fn read(&self, ctx: &Ctx<S>, state: Value, private: Vec<u8>) -> ReadResponse;
    async fn import(&self, ctx: &Ctx<S>, id: &str) -> ImportResponse;
    fn upgrade(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics>;
    fn identity_schema(&self) -> Option<&IdentitySchema>;
    /// The identity of a state value, when it has one and it is known.
    fn identity_of(&self, state: &Value) -> Option<Value> {
        self.identity_schema().and_then(|i| i.of(state))
    }
    /// Import by identity: the import id the identity stands for.
    async fn import_identity(&self, ctx: &Ctx<S>, identity: &Value) -> ImportResponse;
    /// Stored identity JSON written with identity schema `version`.
    fn upgrade_identity(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics>;
    fn generate_config(&self, state: &Value) -> (Value, Diagnostics);
}

fn decode<M: Model>(what: &str, value: &Value) -> Result<Option<M>, Diagnostics> {
    model::decode(value).map_err(|e| internal_error(format!("the {what} does not fit the model: {e}")))
}

fn decode_some<M: Model>(what: &str, value: &Value) -> Result<M, Diagnostics> {
    decode(what, value)?.ok_or_else(|| internal_error(format!("the {what} is null")))
}

/// Write-only values are safe only with a Terraform that keeps them out of
/// plan and state; older clients (and OpenTofu before 1.11) would store them.
/// The schema says which stored attribute serves instead, if any.
pub(crate) fn refuse_write_only(schema: &Schema, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (path, fallback) in schema.block.set_write_only_paths(config, &AttributePath::root()) {
        let instead = match fallback {
            Some(stored) => {
                format!(" Use Terraform 1.11 or later, or set `{stored}` (stored in state, sensitive) instead.")
            }
            None => " Use Terraform 1.11 or later.".to_string(),
        };
        diags.error_at(
            path.clone(),
            "WriteOnly Attribute Not Allowed",
            format!("{path} is write-only, and this Terraform cannot keep write-only values out of plan and state.{instead}"),
        );
    }
    diags
}

/// Registers a resource with a provider.
pub fn resource<S: Send + Sync + 'static, R: Resource<S>>(type_name: &'static str, r: R) -> Arc<dyn DynResource<S>> {
    let schema = r.schema();
    let identity = r.identity_schema();
    let mut registered = Registered::new::<R::Model>(type_name, r, schema);
    registered.identity = identity;
    Arc::new(registered)
}

#[async_trait]
impl<S: Send + Sync + 'static, R: Resource<S>> DynResource<S> for Registered<R> {
    fn validate(&self, config: &Value, write_only_allowed: bool) -> Diagnostics {
        let mut diags = if write_only_allowed {
            Diagnostics::new()
        } else {
            refuse_write_only(&self.schema, config)
        };
        diags.extend(validate_config(&self.schema, config, |m: &R::Model, d| {
            self.inner.validate(m, d)
        }));
        self.schema
            .block
            .deprecation_warnings(config, &AttributePath::root(), write_only_allowed, &mut diags);
        diags
    }

    async fn plan(&self, ctx: &Ctx<S>, prior: Value, proposed: Value, config: Value, private: Vec<u8>) -> PlanResponse {
        if proposed.is_null() {
            // Destroy: nothing to plan, and nothing to check.
            return PlanResponse {
                planned: Value::Null,
                private,
                ..Default::default()
            };
        }
        let schema = &self.schema;
        let block = &schema.block;
        let generic = plan_generic(block, &prior, &proposed, &config);
        let decoded = (|| {
            Ok::<_, Diagnostics>(Plan {
                prior: decode::<R::Model>("prior state", &prior)?,
                config: decode_some::<R::Model>("configuration", &config)?,
                planned: decode_some::<R::Model>("planned state", &generic)?,
                requires_replace: Vec::new(),
                diags: Diagnostics::new(),
                private,
            })
        })();
        let mut plan = match decoded {
            Ok(p) => p,
            Err(diags) => {
                return PlanResponse {
                    diags,
                    ..Default::default()
                }
            }
        };
        tracing::debug!(create = plan.prior.is_none(), "calling the resource's modify_plan");
        self.inner.modify_plan(ctx, &mut plan).await;
        let mut planned = model::encode(&plan.planned, &schema.value_type());
        // What configuration sets is not the resource's to change; keeping
        // the generic plan's value also keeps partially unknown collections
        // exactly as Terraform sent them.
        for name in block
            .attributes
            .iter()
            .map(|a| a.name)
            .chain(block.blocks.iter().map(|b| b.name))
        {
            if !config.get(name).is_null() {
                planned.set_attr(name, generic.get(name).clone());
            }
        }
        let planned = block.null_write_only(&planned);
        let mut requires_replace = requires_replace_paths(block, &prior, &planned);
        for p in plan.requires_replace {
            if !requires_replace.contains(&p) {
                requires_replace.push(p);
            }
        }
        PlanResponse {
            planned,
            requires_replace,
            private: plan.private,
            diags: plan.diags,
        }
    }

    async fn apply(
        &self,
        ctx: &Ctx<S>,
        prior: Value,
        planned: Value,
        config: Value,
        mut private: Vec<u8>,
    ) -> ApplyResponse {
        let schema = &self.schema;
        let ty = schema.value_type();
        let mut diags = Diagnostics::new();
        let outcome: Result<Value, Diagnostics> = async {
            if planned.is_null() {
                let state = decode_some::<R::Model>("prior state", &prior)?;
                tracing::debug!("calling the resource's delete");
                self.inner.delete(ctx, state, &mut diags).await;
                return Ok(if diags.has_errors() { prior.clone() } else { Value::Null });
            }
            let planned_model = decode_some::<R::Model>("planned state", &planned)?;
            let config_model = decode_some::<R::Model>("configuration", &config)?;
            let prior_model = decode::<R::Model>("prior state", &prior)?;
            tracing::debug!(
                create = prior_model.is_none(),
                "calling the resource's create or update"
            );
            let outcome = match prior_model {
                None => {
                    self.inner
                        .create(ctx, planned_model, config_model.clone(), &mut diags)
                        .await
                }
                Some(prior_model) => {
                    self.inner
                        .update(ctx, prior_model, planned_model, config_model.clone(), &mut diags)
                        .await
                }
            };
            let planned_private = std::mem::take(&mut private);
            private = self
                .inner
                .applied_private(ctx, &config_model, planned_private, outcome.is_some())
                .await;
            Ok(match outcome {
                Some(m) => model::encode(&m, &ty),
                None if prior.is_null() => Value::Null,
                None => prior.clone(),
            })
        }
        .await;
        let new_state = match outcome {
            Ok(v) => settle(schema, v, &mut diags),
            Err(e) => {
                diags.extend(e);
                prior
            }
        };
        ApplyResponse {
            new_state,
            private,
            diags,
        }
    }

    async fn read(&self, ctx: &Ctx<S>, state: Value, private: Vec<u8>) -> ReadResponse {
        let schema = &self.schema;
        let mut diags = Diagnostics::new();
        let current = match decode_some::<R::Model>("current state", &state) {
            Ok(m) => m,
            Err(diags) => {
                return ReadResponse {
                    new_state: state,
                    private,
                    diags,
                }
            }
        };
        tracing::debug!("calling the resource's read");
        let new_state = match self.inner.read(ctx, current, &mut diags).await {
            Some(m) => settle(schema, model::encode(&m, &schema.value_type()), &mut diags),
            None => Value::Null,
        };
        ReadResponse {
            new_state,
            private,
            diags,
        }
    }

    async fn import(&self, ctx: &Ctx<S>, id: &str) -> ImportResponse {
        let schema = &self.schema;
        let mut diags = Diagnostics::new();
        let state = self
            .inner
            .import(ctx, id, &mut diags)
            .await
            .map(|m| settle(schema, model::encode(&m, &schema.value_type()), &mut diags));
        ImportResponse {
            state,
            private: Vec::new(),
            diags,
        }
    }

    /// Write-only values are nulled whatever the stored JSON holds (a state
    /// from a fork, or from a version where the attribute was ordinary, or
    /// edited by hand): Terraform and OpenTofu refuse an upgraded or moved
    /// state that carries one, and it must never reach state again.
    fn upgrade(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
        self.inner
            .upgrade_state(&self.schema, version, json)
            .map(|v| self.schema.block.null_write_only(&v))
    }

    fn identity_schema(&self) -> Option<&IdentitySchema> {
        self.identity.as_ref()
    }

    async fn import_identity(&self, ctx: &Ctx<S>, identity: &Value) -> ImportResponse {
        match self.inner.import_id_from_identity(identity) {
            Some(id) => self.import(ctx, &id).await,
            None => ImportResponse {
                diags: Diagnostic::error(
                    "Invalid import identity",
                    format!(
                        "{} cannot be imported from this identity; set every required identity attribute.",
                        self.type_name
                    ),
                )
                .into(),
                ..Default::default()
            },
        }
    }

    fn upgrade_identity(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
        let Some(schema) = &self.identity else {
            return Err(Diagnostic::error(
                "No resource identity",
                format!("{} has no resource identity to upgrade.", self.type_name),
            )
            .into());
        };
        if version > schema.version {
            return Err(Diagnostic::error(
                "Identity written by a newer provider",
                format!(
                    "This resource's identity has version {version}; this provider understands up to {}. Upgrade the provider.",
                    schema.version
                ),
            )
            .into());
        }
        decode_state_json(json, &schema.value_type()).map_err(|e| {
            Diagnostic::error(
                "Unreadable resource identity",
                format!("The stored identity cannot be read: {e}."),
            )
            .into()
        })
    }

    fn generate_config(&self, state: &Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let generic = generated_config(&self.schema.block, state);
        let model = match decode_some::<R::Model>("state", state) {
            Ok(m) => m,
            Err(e) => return (Value::Null, e),
        };
        let config = self.inner.generate_config(&model, generic, &mut diags);
        (config, diags)
    }
}

/// State as Terraform accepts it: write-only values null, nothing unknown.
/// An unknown left behind is a bug; it is stored as null and reported, so
/// Terraform keeps tracking the object instead of failing the whole apply.
fn settle(schema: &Schema, value: Value, diags: &mut Diagnostics) -> Value {
    let mut value = schema.block.null_write_only(&value);
    let mut left = Vec::new();
    null_unknowns(&mut value, &AttributePath::root(), &mut left);
    // After an error of the resource's own, a partial state is expected.
    if let (Some(first), false) = (left.first(), diags.has_errors()) {
        diags.extend(internal_error(format!("the new state left {first} unknown")));
    }
    value
}

fn null_unknowns(value: &mut Value, path: &AttributePath, found: &mut Vec<AttributePath>) {
    match value {
        Value::Unknown(_) => {
            found.push(path.clone());
            *value = Value::Null;
        }
        Value::Object(m) | Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                null_unknowns(v, &path.push_attr(k), found);
            }
        }
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
            for (i, v) in xs.iter_mut().enumerate() {
                null_unknowns(v, &path.push_index(i), found);
            }
        }
        _ => {}
    }
}
