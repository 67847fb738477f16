//! One integration resource, generic over the SEI application it manages.
//!
//! SEI treats every application's record the same way, so the lifecycle is
//! written once: plan (the kind's live check, the name check, the
//! description rule, what an update re-sends), create then read back,
//! update over the current metadata, delete that reads "gone" as success,
//! refresh that leaves state only on SEI's own not-found, import by id or
//! `name:`. A kind ([`IntegrationKind`]) says only what differs: its schema
//! and model, how its credentials go to SEI, its live check, and its
//! replacement rules. `bitbucket_integration.rs` (Cloud) and
//! `bitbucket_server_integration.rs` (Data Center) hold nothing else.

use std::marker::PhantomData;

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Number, Type, Value};
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{Plan, Resource};
use tfplugin::schema::validators::{EachString, NoControlChars, NoSurroundingSpace, StringLength, WholeNumber};
use tfplugin::schema::{Attribute, Block, IdentitySchema, PlanModifier, Schema};
use tfplugin::{Model, Val};

use super::lifecycle::{self, Kind, Refreshed};
use super::rotation::{self, WriteOnly};
use super::{as_warnings, now_rfc3339};
use crate::clients::sei::{CreateOptions, Credentials, Integration, IntegrationRequest, IntegrationSpec};
use crate::integration::IntegrationRecord;
use crate::secret::Secret;
use crate::services::{Ctx, Services};

/// One `credential` block: a Bitbucket account (Cloud) or Data Center user.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct CredentialBlock {
    pub username: Val<String>,
    pub password: Val<Secret>,
    pub password_wo: Val<Secret>,
}

/// What every integration resource keeps beside SEI's record: the
/// credentials SEI never returns, and the settings that act at create.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct IntegrationSettings {
    pub credential: Val<Vec<CredentialBlock>>,
    pub credentials_version: Val<Number>,
    pub skip_preflight: Val<bool>,
    pub start_ingestion: Val<bool>,
    /// When this provider last sent credentials to SEI (RFC 3339).
    pub credentials_sent_at: Val<String>,
}

impl IntegrationSettings {
    /// As import (and `terraform query`) finds a record: no credentials,
    /// the create-time flags at their defaults.
    pub fn imported() -> Self {
        IntegrationSettings {
            credential: Val::Known(Vec::new()),
            credentials_version: Val::Null,
            skip_preflight: Val::Known(false),
            start_ingestion: Val::Known(true),
            credentials_sent_at: Val::Null,
        }
    }

    /// As state keeps them after a write: what configuration said, with the
    /// defaults filled in.
    pub fn kept(&self) -> Self {
        IntegrationSettings {
            credential: match &self.credential {
                Val::Null => Val::Known(Vec::new()),
                c => c.clone(),
            },
            credentials_version: self.credentials_version.clone(),
            skip_preflight: Val::Known(self.skip_preflight.known_or(false).unwrap_or(false)),
            start_ingestion: Val::Known(self.start_ingestion.known_or(true).unwrap_or(true)),
            credentials_sent_at: self.credentials_sent_at.clone(),
        }
    }

    /// The configured write-only secrets, remembered by username: blocks
    /// may be reordered without anything being rotated.
    pub(crate) fn write_only_secrets(&self) -> Vec<WriteOnly<'_>> {
        self.credential
            .items()
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.password_wo.is_null())
            .map(|(i, c)| WriteOnly {
                path: AttributePath::attr("credential").push_index(i).push_attr("password_wo"),
                slot: c.username.known().cloned().unwrap_or_default(),
                secret: c.password_wo.known(),
            })
            .collect()
    }

    /// (username, stored password) of each block: what state remembers of
    /// credentials, and what re-sends them when it changes.
    pub fn stored_credentials(&self) -> Vec<(Option<String>, Option<String>)> {
        let mut pairs: Vec<_> = self
            .credential
            .items()
            .iter()
            .map(|c| {
                (
                    c.username.known().cloned(),
                    c.password.known().map(|p| p.expose().to_string()),
                )
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }

    /// Each block sets exactly one of `password` and `password_wo`.
    pub fn validate_blocks(&self, diags: &mut Diagnostics) {
        for (i, c) in self.credential.items().iter().enumerate() {
            let base = AttributePath::attr("credential").push_index(i);
            super::refuse_empty_secret(&c.password, base.push_attr("password"), diags);
            super::refuse_empty_secret(&c.password_wo, base.push_attr("password_wo"), diags);
            match (c.password.is_null(), c.password_wo.is_null()) {
                (false, false) => diags.error_at(
                    base.push_attr("password_wo"),
                    "Conflicting password attributes",
                    "Set exactly one of `password` and `password_wo` in each credential block.",
                ),
                (true, true) => diags.error_at(
                    base,
                    "Missing password",
                    "Set exactly one of `password` (stored in state, sensitive) and `password_wo` (write-only) in each credential block.",
                ),
                _ => {}
            }
        }
    }
}

/// How a kind describes the attributes every kind has but words its own
/// way.
pub struct CommonDocs {
    pub credentials_version: &'static str,
    pub satellite: &'static str,
    pub authentication: &'static str,
}

/// The attributes every integration resource has, whatever its
/// application: SEI's record (id, name, description, tags, fetch flags,
/// status, times), `satellite`, `authentication`, `credentials_version` and
/// the create-time settings. A kind adds its own.
pub fn common_attributes(block: Block, docs: &CommonDocs) -> Block {
    let flag = |name: &'static str, default: bool, what: &str| {
        Attribute::optional_computed(name, Type::Bool)
            .modify(PlanModifier::Default(Value::Bool(default)))
            .describe(format!("{what} Default: `{default}`."))
    };
    block
        .attr(Attribute::computed("id", Type::String).modify(PlanModifier::UseStateForUnknown).describe("SEI's integration id, a numeric string."))
        .attr(Attribute::required("name", Type::String).validate(StringLength { min: 1, max: 50 }).validate(NoSurroundingSpace).validate(NoControlChars).describe("Unique within the SEI account, ignoring case; at most 50 characters."))
        .attr(Attribute::optional_computed("description", Type::String).validate(StringLength { min: 0, max: 140 }).validate(NoControlChars).describe("At most 140 characters. SEI cannot clear a description: removing it from configuration keeps SEI's value."))
        .attr(Attribute::optional_computed("tags", Type::set(Type::String)).validate(EachString { check: super::check_tag_id }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("SEI tag ids."))
        .attr(flag("fetch_commits", true, "Ingest commits."))
        .attr(flag("fetch_prs", true, "Ingest pull requests."))
        .attr(flag("fetch_pr_reviews", true, "Ingest pull-request reviews."))
        .attr(flag("fetch_commit_files", false, "Ingest per-file commit statistics."))
        .attr(Attribute::optional_computed("skip_preflight", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe("Skip SEI's server-side connection check at create. Default: `false`."))
        .attr(Attribute::optional_computed("start_ingestion", Type::Bool).modify(PlanModifier::Default(Value::Bool(true))).describe("Start ingesting at create. Going from `false` to `true` later resumes ingestion. Default: `true`."))
        .attr(Attribute::computed("status", Type::String).describe(crate::integration::STATUS_DOC))
        .attr(Attribute::computed("created_at", Type::Number).describe("Creation time, epoch seconds."))
        .attr(Attribute::computed("updated_at", Type::Number).describe("Last update time, epoch seconds."))
        .attr(Attribute::optional("credentials_version", Type::Number).validate(WholeNumber).describe(docs.credentials_version))
        .attr(Attribute::optional_computed("satellite", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe(format!("{} Default: `false`.", docs.satellite)))
        .attr(Attribute::computed("authentication", Type::String).describe(docs.authentication))
        .attr(Attribute::computed("credentials_sent_at", Type::String).describe("When this provider last sent credentials to SEI (RFC 3339); null after an import until it sends some. A plan that sends credentials shows it as known after apply, which is how a rotated `password_wo` shows in a plan."))
}

/// A `credential` block's attributes, described for the kind: who signs in
/// (`username`) and what the secret is (`secret`).
pub fn credential_block(what: &str, username: &str, secret: &str) -> Block {
    Block::new(what)
        .attr(Attribute::required("username", Type::String).validate(StringLength { min: 1, max: 255 }).validate(NoControlChars).describe(username))
        .attr(Attribute::optional("password", Type::String).sensitive().deprecated(super::STORED_PASSWORD_DEPRECATION).describe(format!("{secret}, stored in state (sensitive). Exactly one of `password` and `password_wo`.")))
        .attr(Attribute::optional("password_wo", Type::String).sensitive().write_only().stored_alternative("password").describe(format!("{secret}, write-only: never stored. Set it from an ephemeral variable; bump `credentials_version` to re-send it.")))
}

fn resumes_ingestion(prior: &IntegrationSettings, planned: &IntegrationSettings) -> bool {
    prior.start_ingestion == Val::Known(false) && planned.start_ingestion == Val::Known(true)
}

/// The accessors of a kind whose model has `record` and `settings` fields,
/// as every kind's has.
macro_rules! record_and_settings {
    () => {
        fn record(m: &Self::Model) -> &crate::integration::IntegrationRecord {
            &m.record
        }

        fn record_mut(m: &mut Self::Model) -> &mut crate::integration::IntegrationRecord {
            &mut m.record
        }

        fn settings(m: &Self::Model) -> &crate::resources::IntegrationSettings {
            &m.settings
        }

        fn settings_mut(m: &mut Self::Model) -> &mut crate::resources::IntegrationSettings {
            &mut m.settings
        }
    };
}
pub(crate) use record_and_settings;

/// What one SEI application's resource says about itself.
#[async_trait]
pub trait IntegrationKind: Send + Sync + 'static {
    type Model: Model + Clone + Send + Sync + 'static;

    /// The application, for SEI and for messages.
    const KIND: Kind;

    fn schema() -> Schema;
    fn record(m: &Self::Model) -> &IntegrationRecord;
    fn record_mut(m: &mut Self::Model) -> &mut IntegrationRecord;
    fn settings(m: &Self::Model) -> &IntegrationSettings;
    fn settings_mut(m: &mut Self::Model) -> &mut IntegrationSettings;

    /// The model of SEI's record `rec`, with `record` already mapped, the
    /// `settings` state keeps, and the kind's own fields from `rec` and
    /// from the state it replaces (`prior`, `None` for an import).
    fn assemble(
        prior: Option<&Self::Model>,
        record: IntegrationRecord,
        settings: IntegrationSettings,
        rec: &Integration,
    ) -> Self::Model;

    /// A record as import and `terraform query` find it: every attribute
    /// SEI returns, the create-time flags at their defaults, no credentials.
    fn imported(rec: &Integration) -> Self::Model {
        let record = IntegrationRecord::from(rec);
        Self::assemble(
            None,
            IntegrationRecord::from_sei(rec, &record),
            IntegrationSettings::imported(),
            rec,
        )
    }

    /// State after SEI answered `rec`; what SEI never returns comes from `m`.
    fn with_record(m: &Self::Model, rec: &Integration) -> Self::Model {
        let record = IntegrationRecord::from_sei(rec, Self::record(m));
        Self::assemble(Some(m), record, Self::settings(m).kept(), rec)
    }

    /// The managed parts, as the SEI client takes them.
    fn spec(m: &Self::Model) -> Result<IntegrationSpec, Diagnostics>;

    /// The configured credentials, in the SEI client's terms.
    fn credentials(config: &Self::Model) -> Option<Credentials>;

    /// `authentication` as SEI will report it for this configuration.
    fn authentication_for(config: &Self::Model) -> Val<String>;

    /// Whether an update sends the credentials again.
    fn must_resend(prior: &Self::Model, planned: &Self::Model) -> bool;

    /// A managed part of the kind's own changed (the record's own parts and
    /// resumed ingestion are the lifecycle's business).
    fn kind_changed(_prior: &Self::Model, _planned: &Self::Model) -> bool {
        false
    }

    /// Cross-attribute rules, without network.
    fn validate(config: &Self::Model, diags: &mut Diagnostics);

    /// The kind's part of a plan: its live check, returned as diagnostics
    /// (the lifecycle makes them warnings when the plan sends no
    /// credentials), its replacement rules, and planned values only it
    /// knows.
    async fn plan(ctx: &Ctx, plan: &mut Plan<Self::Model>) -> Diagnostics;

    /// State after a create or update, before SEI's answer is mapped onto
    /// it: a value the plan could not know.
    async fn completed(_ctx: &Ctx, state: Self::Model) -> Self::Model {
        state
    }

    /// What generated config must say that the schema alone cannot.
    fn generate_config(state: &Self::Model, generic: Value, diags: &mut Diagnostics) -> Value;
}

/// The resource of one [`IntegrationKind`].
pub struct IntegrationResource<K>(PhantomData<K>);

impl<K> IntegrationResource<K> {
    pub fn new() -> Self {
        IntegrationResource(PhantomData)
    }
}

impl<K> Default for IntegrationResource<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether anything SEI stores changes.
fn remote_changed<K: IntegrationKind>(prior: &K::Model, planned: &K::Model) -> bool {
    K::record(prior).remote() != K::record(planned).remote()
        || K::kind_changed(prior, planned)
        || resumes_ingestion(K::settings(prior), K::settings(planned))
}

const NOTHING_SENT: &str = "This plan sends SEI no credentials, so it goes on; SEI's ingestion with them will fail until they are fixed and credentials_version is bumped.";

#[async_trait]
impl<K: IntegrationKind> Resource<Services> for IntegrationResource<K> {
    type Model = K::Model;

    fn schema(&self) -> Schema {
        K::schema()
    }

    fn validate(&self, config: &K::Model, diags: &mut Diagnostics) {
        K::validate(config, diags);
        K::settings(config).validate_blocks(diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut Plan<K::Model>) {
        let checked = K::plan(ctx, plan).await;
        let rotated = !rotation::changed_since_sent(
            ctx,
            &mut plan.private,
            &K::settings(&plan.config).write_only_secrets(),
            ("sent to SEI", "sent"),
            &mut plan.diags,
        )
        .await
        .is_empty();
        let sends_credentials = rotated
            || plan
                .prior
                .as_ref()
                .is_none_or(|prior| K::must_resend(prior, &plan.planned));
        rotation::mark_sends(&mut plan.private, sends_credentials);
        plan.diags.extend(if sends_credentials {
            checked
        } else {
            as_warnings(checked, NOTHING_SENT)
        });
        let prior_record = plan.prior.as_ref().map(K::record);
        lifecycle::check_name(
            ctx,
            prior_record,
            &K::record(&plan.config).name,
            &mut plan.private,
            &mut plan.diags,
        )
        .await;
        lifecycle::check_tags(ctx, prior_record, &K::record(&plan.config).tags, &mut plan.diags).await;
        let authentication = K::authentication_for(&plan.config);
        let Some(prior) = &plan.prior else {
            K::settings_mut(&mut plan.planned).credentials_sent_at = if K::credentials(&plan.config).is_some() {
                Val::Unknown
            } else {
                Val::Null
            };
            let planned = K::record_mut(&mut plan.planned);
            planned.description = K::record(&plan.config).description.clone();
            planned.authentication = authentication;
            return;
        };
        lifecycle::refuse_uncleared_description(
            K::record(prior).description.as_deref(),
            K::record(&plan.config).description.as_deref(),
            &mut plan.diags,
        );
        let resend = rotated || K::must_resend(prior, &plan.planned);
        let changed = remote_changed::<K>(prior, &plan.planned);
        if resend {
            K::settings_mut(&mut plan.planned).credentials_sent_at = Val::Unknown;
        }
        let planned = K::record_mut(&mut plan.planned);
        if changed || resend {
            planned.updated_at = Val::Unknown;
        }
        if resend {
            planned.authentication = authentication;
            planned.status = Val::Unknown;
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: K::Model,
        config: K::Model,
        diags: &mut Diagnostics,
    ) -> Option<K::Model> {
        let spec = K::spec(&planned).map_err(|e| diags.extend(e)).ok()?;
        let settings = K::settings(&planned);
        let options = CreateOptions {
            satellite: K::record(&planned).satellite == Val::Known(true),
            skip_preflight: settings.skip_preflight == Val::Known(true),
            start_ingestion: settings.start_ingestion != Val::Known(false),
        };
        let credentials = K::credentials(&config);
        let body = IntegrationRequest::create(&spec, credentials.as_ref(), options);
        let rec = lifecycle::create(ctx, &body, diags).await?;
        let mut state = K::completed(ctx, planned).await;
        K::settings_mut(&mut state).credentials_sent_at = match credentials {
            Some(_) => Val::Known(now_rfc3339()),
            None => Val::Null,
        };
        Some(K::with_record(&state, &rec))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: K::Model,
        planned: K::Model,
        config: K::Model,
        diags: &mut Diagnostics,
    ) -> Option<K::Model> {
        let id = K::record(&prior).id().map_err(|e| diags.extend(e)).ok()?.to_string();
        // The plan leaves `credentials_sent_at` unknown exactly when it
        // sends credentials, a rotated `password_wo` included.
        let resend = K::must_resend(&prior, &planned) || K::settings(&planned).credentials_sent_at.is_unknown();
        let changed = remote_changed::<K>(&prior, &planned) || resend;
        let resume = resumes_ingestion(K::settings(&prior), K::settings(&planned));
        let body = |current: &Integration| -> Result<Option<IntegrationRequest>, Diagnostics> {
            if !changed {
                return Ok(None);
            }
            let spec = K::spec(&planned)?;
            let credentials = if resend { K::credentials(&config) } else { None };
            Ok(Some(IntegrationRequest::update(
                &spec,
                &current.metadata,
                credentials.as_ref(),
                resume,
            )))
        };
        let rec = lifecycle::update(ctx, &id, body, diags).await?;
        let mut state = K::completed(ctx, planned).await;
        let sent_at = &mut K::settings_mut(&mut state).credentials_sent_at;
        if resend && K::credentials(&config).is_some() {
            *sent_at = Val::Known(now_rfc3339());
        } else if sent_at.is_unknown() {
            *sent_at = K::settings(&prior).credentials_sent_at.clone();
        }
        Some(K::with_record(&state, &rec))
    }

    async fn applied_private(&self, ctx: &Ctx, config: &K::Model, private: Vec<u8>, succeeded: bool) -> Vec<u8> {
        rotation::remember_sent(ctx, private, &K::settings(config).write_only_secrets(), succeeded).await
    }

    async fn delete(&self, ctx: &Ctx, state: K::Model, diags: &mut Diagnostics) {
        match K::record(&state).id() {
            Ok(id) => lifecycle::delete(ctx, id, diags).await,
            Err(e) => diags.extend(e),
        }
    }

    async fn read(&self, ctx: &Ctx, state: K::Model, diags: &mut Diagnostics) -> Option<K::Model> {
        let record = K::record(&state);
        let id = match record.id() {
            Ok(id) => id.to_string(),
            Err(e) => {
                diags.extend(e);
                return Some(state);
            }
        };
        let name = record.name.as_deref().unwrap_or_default().to_string();
        match lifecycle::refresh(ctx, &ctx.services.records, &id, &name, diags).await {
            Refreshed::Found(rec) => Some(K::with_record(&state, &rec)),
            Refreshed::Gone => None,
            Refreshed::Failed => Some(state),
        }
    }

    async fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<K::Model> {
        let rec = lifecycle::import(ctx, &K::KIND, id, diags).await?;
        Some(K::imported(&rec))
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(super::integration_identity())
    }

    fn generate_config(&self, state: &K::Model, generic: Value, diags: &mut Diagnostics) -> Value {
        K::generate_config(state, generic, diags)
    }
}
