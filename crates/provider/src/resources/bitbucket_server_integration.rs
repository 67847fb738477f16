//! `sei_bitbucket_server_integration`: one SEI integration record of
//! application `bitbucket_server` (Bitbucket Data Center or Server).
//!
//! It shares the Cloud resource's record mapping and lifecycle
//! ([`super::lifecycle`]); what differs is Data Center's: one credential per
//! integration (SEI's DC client takes a single Basic `username:apikey`),
//! project and repository *names* (SEI filters on names, comma-joined in
//! `metadata.projects` / `metadata.repos`), a required server `url`, and a
//! plan-time check against that server ([`crate::validate::datacenter`]).

use async_trait::async_trait;
use tfplugin::codec::{AttributePath, Number, Type, Value};
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{Plan, Resource};
use tfplugin::schema::validators::{
    EachString, HttpUrl, NoControlChars, NoSurroundingSpace, StringLength, Validator, WholeNumber,
};
use tfplugin::schema::{Attribute, Block, NestedBlock, PlanModifier, Schema};
use tfplugin::{Model, Val};

use super::lifecycle::{self, Refreshed};
use super::{as_warnings, check_tag_id, known_secret, problem_diagnostics, sorted_set, CredentialBlock};
use crate::clients::sei::{ApiKeyEntry, CreateOptions, Credentials, Integration, IntegrationRequest, IntegrationSpec};
use crate::integration::{IntegrationRecord, SERVER_APPLICATION};
use crate::provider::{Ctx, Services};
use crate::validate::{ServerCheck, Subject};

/// `sei_bitbucket_server_integration`'s configuration and state.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct ServerIntegrationModel {
    #[tf(flatten)]
    pub record: IntegrationRecord,
    pub projects: Val<Vec<String>>,
    pub server_version: Val<String>,
    pub credential: Val<Vec<CredentialBlock>>,
    pub credentials_version: Val<Number>,
    pub skip_preflight: Val<bool>,
    pub start_ingestion: Val<bool>,
}

/// A Data Center base URL as SEI uses it: `{url}/rest/api/1.0/…` is
/// appended, so no trailing `/`, no `/rest…`, no query or fragment.
struct ServerUrl;

impl Validator for ServerUrl {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        let Ok(url) = url::Url::parse(s) else { return };
        let why = if s.ends_with('/') {
            Some("must not end with \"/\"")
        } else if url.path().split('/').any(|seg| seg.eq_ignore_ascii_case("rest")) {
            Some("must be the server's base URL, without \"/rest/...\"")
        } else if url.query().is_some() || url.fragment().is_some() {
            Some("must not have a query or a fragment")
        } else {
            None
        };
        if let Some(why) = why {
            diags.error_at(
                path.clone(),
                "Invalid Bitbucket Data Center URL",
                format!("url {why}: SEI calls {{url}}/rest/api/1.0/... Use the URL people open Bitbucket at, with any context path, such as https://bitbucket.acme.internal or https://git.acme.internal/bitbucket; got {s:?}."),
            );
        }
    }
}

/// A name inside SEI's comma-joined list: no commas, no surrounding space.
fn check_list_name(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.trim() != s || s.contains(',') {
        Err(format!(
            "{s:?} is not a {what} name SEI can filter on (non-empty, no commas, no surrounding spaces)."
        ))
    } else {
        Ok(())
    }
}

fn check_project(s: &str) -> Result<(), String> {
    check_list_name("project", s)
}

fn check_repository(s: &str) -> Result<(), String> {
    check_list_name("repository", s)?;
    if s.contains('/') {
        return Err(format!(
            "{s:?}: Data Center repositories are listed by name (\"api\"), not as \"PROJECT/slug\"; put the project's name in projects."
        ));
    }
    Ok(())
}

pub fn schema() -> Schema {
    let strings = Type::set(Type::String);
    let flag = |name: &'static str, default: bool, what: &str| {
        Attribute::optional_computed(name, Type::Bool)
            .modify(PlanModifier::Default(Value::Bool(default)))
            .describe(format!("{what} Default: `{default}`."))
    };
    let credential = Block::new("The Data Center user SEI signs in as. Data Center has one credential per integration.")
        .attr(Attribute::required("username", Type::String).validate(StringLength { min: 1, max: 255 }).validate(NoControlChars).describe("The Data Center user the password or token belongs to."))
        .attr(Attribute::optional("password", Type::String).sensitive().deprecated(super::STORED_PASSWORD_DEPRECATION).describe("The user's password or HTTP access token, stored in state (sensitive). Exactly one of `password` and `password_wo`."))
        .attr(Attribute::optional("password_wo", Type::String).sensitive().write_only().stored_alternative("password").describe("The user's password or HTTP access token, write-only: never stored. Set it from an ephemeral variable; bump `credentials_version` to re-send it."));
    let block = Block::new("An SEI integration of application `bitbucket_server`: a self-hosted Bitbucket Data Center (or Server). The credential is checked live against the server at plan time, from the machine running Terraform, unless `satellite` is set.")
        .attr(Attribute::computed("id", Type::String).modify(PlanModifier::UseStateForUnknown).describe("SEI's integration id, a numeric string."))
        .attr(Attribute::required("name", Type::String).validate(StringLength { min: 1, max: 50 }).validate(NoSurroundingSpace).validate(NoControlChars).describe("Unique within the SEI account; at most 50 characters."))
        .attr(Attribute::optional_computed("description", Type::String).validate(StringLength { min: 0, max: 140 }).validate(NoControlChars).describe("At most 140 characters. SEI cannot clear a description: removing it from configuration keeps SEI's value."))
        .attr(Attribute::required("url", Type::String).validate(HttpUrl).validate(ServerUrl).describe("The server's base URL, with any context path, without a trailing `/` and without `/rest`. SEI applies a change only together with credentials, so a change re-sends them, or replaces a satellite integration."))
        .attr(Attribute::optional_computed("tags", strings.clone()).validate(EachString { check: check_tag_id }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("SEI tag ids."))
        .attr(Attribute::optional_computed("projects", strings.clone()).validate(EachString { check: check_project }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("Project **names** (not keys) to ingest, as SEI filters them (case-insensitive); empty means all."))
        .attr(Attribute::optional_computed("repositories", strings).validate(EachString { check: check_repository }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("Repository **names** (not `PROJECT/slug`) to ingest, as SEI filters them (case-insensitive); empty means all the user can read."))
        .attr(flag("fetch_commits", true, "Ingest commits."))
        .attr(flag("fetch_prs", true, "Ingest pull requests."))
        .attr(flag("fetch_pr_reviews", true, "Ingest pull-request reviews."))
        .attr(flag("fetch_commit_files", false, "Ingest per-file commit statistics."))
        .attr(Attribute::optional("credentials_version", Type::Number).validate(WholeNumber).describe("Bump to re-send the credential (rotation)."))
        .attr(Attribute::optional_computed("satellite", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe("A private server, reached by an SEI ingestion satellite: no credentials are sent and nothing is checked. Default: `false`."))
        .attr(Attribute::optional_computed("skip_preflight", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe("Skip SEI's server-side connection check at create. Default: `false`."))
        .attr(Attribute::optional_computed("start_ingestion", Type::Bool).modify(PlanModifier::Default(Value::Bool(true))).describe("Start ingesting at create. Going from `false` to `true` later resumes ingestion. Default: `true`."))
        .attr(Attribute::computed("authentication", Type::String).describe("SEI's credential kind: `api_key`, or `none` for a satellite."))
        .attr(Attribute::computed("status", Type::String).describe(crate::integration::STATUS_DOC))
        .attr(Attribute::computed("created_at", Type::Number).describe("Creation time, epoch seconds."))
        .attr(Attribute::computed("updated_at", Type::Number).describe("Last update time, epoch seconds."))
        .attr(Attribute::computed("server_version", Type::String).describe("The Data Center version the server reports (`application-properties`); null for a satellite or when the server cannot be reached from here."))
        .block(NestedBlock {
            max_items: 1,
            ..NestedBlock::list("credential", credential)
        });
    Schema::new(0, block)
}

pub struct BitbucketServerIntegrationResource;

impl ServerIntegrationModel {
    /// A record as import (and `terraform query`) finds it.
    pub(crate) fn imported(rec: &Integration) -> ServerIntegrationModel {
        let base = ServerIntegrationModel {
            record: IntegrationRecord::from(rec),
            projects: Val::Known(rec.projects()),
            server_version: Val::Null,
            credential: Val::Known(Vec::new()),
            credentials_version: Val::Null,
            skip_preflight: Val::Known(false),
            start_ingestion: Val::Known(true),
        };
        base.with_record(rec)
    }

    fn is_satellite(&self) -> bool {
        self.record.satellite == Val::Known(true)
    }

    /// The one credential block, configured or remembered.
    fn block(&self) -> Option<&CredentialBlock> {
        self.credential.items().first()
    }

    fn has_credential(&self) -> bool {
        self.block().is_some() || self.credential.is_unknown()
    }

    fn authentication_for(&self) -> Val<String> {
        Val::Known(if self.is_satellite() { "none" } else { "api_key" }.to_string())
    }

    /// (username, stored password): what state remembers of the credential.
    fn stored_credential(&self) -> Option<(Option<String>, Option<String>)> {
        self.block().map(|c| {
            (
                c.username.known().cloned(),
                c.password.known().map(|p| p.expose().to_string()),
            )
        })
    }

    fn spec(&self) -> Result<IntegrationSpec, Diagnostics> {
        self.record
            .spec(SERVER_APPLICATION, Some(self.projects.items().to_vec()))
    }

    /// SEI's `method: "apikey"` with this user's password or token.
    fn credentials(&self) -> Option<Credentials> {
        if self.is_satellite() {
            return None;
        }
        let c = self.block()?;
        let (_, secret) = known_secret(&c.password, &c.password_wo, &AttributePath::root())?;
        Some(Credentials::ApiKeys(vec![ApiKeyEntry {
            username: c.username.known().cloned().unwrap_or_default(),
            apikey: secret,
        }]))
    }

    /// State from an SEI record; what SEI never returns comes from `self`.
    fn with_record(&self, rec: &Integration) -> ServerIntegrationModel {
        ServerIntegrationModel {
            record: IntegrationRecord::from_sei(rec, &self.record),
            projects: Val::Known(rec.projects()),
            server_version: if rec.satellite == Some(true) {
                Val::Null
            } else {
                match &self.server_version {
                    Val::Unknown => Val::Null,
                    v => v.clone(),
                }
            },
            credential: match &self.credential {
                Val::Null => Val::Known(Vec::new()),
                c => c.clone(),
            },
            credentials_version: self.credentials_version.clone(),
            skip_preflight: Val::Known(self.skip_preflight.known_or(false).unwrap_or(false)),
            start_ingestion: Val::Known(self.start_ingestion.known_or(true).unwrap_or(true)),
        }
    }

    fn id(&self) -> Result<&str, Diagnostics> {
        self.record.id()
    }

    fn resumes_ingestion(prior: &Self, planned: &Self) -> bool {
        prior.start_ingestion == Val::Known(false) && planned.start_ingestion == Val::Known(true)
    }
}

/// The documented rules: the credential goes again when its version, its
/// username or its stored password changes, and with a `url` change.
fn must_resend(prior: &ServerIntegrationModel, planned: &ServerIntegrationModel) -> bool {
    if prior.is_satellite() || planned.is_satellite() {
        return false;
    }
    prior.credentials_version != planned.credentials_version
        || prior.stored_credential() != planned.stored_credential()
        || prior.record.url != planned.record.url
}

fn remote_changed(prior: &ServerIntegrationModel, planned: &ServerIntegrationModel) -> bool {
    prior.record.remote() != planned.record.remote()
        || sorted_set(&prior.projects) != sorted_set(&planned.projects)
        || ServerIntegrationModel::resumes_ingestion(prior, planned)
}

impl BitbucketServerIntegrationResource {
    /// The live check against the server; `None` when it cannot or need
    /// not run now (satellite, switched off, values unknown until apply).
    async fn check(
        &self,
        ctx: &Ctx,
        config: &ServerIntegrationModel,
    ) -> Option<(crate::validate::ServerReport, AttributePath)> {
        if !ctx.services.config.validate_credentials || config.is_satellite() || config.record.satellite.is_unknown() {
            return None;
        }
        let url = url::Url::parse(config.record.url.known()?).ok()?;
        let projects = config.projects.known_or(Vec::new())?;
        let repositories = config.record.repositories.known_or(Vec::new())?;
        let c = config.block()?;
        let base = AttributePath::attr("credential").push_index(0);
        let (path, secret) = known_secret(&c.password, &c.password_wo, &base)?;
        let check = ServerCheck {
            url,
            username: c.username.known()?.clone(),
            secret,
            projects,
            repositories,
        };
        Some((ctx.services.datacenter.check(&check, &ctx.cancel).await, path))
    }
}

fn diagnostics(report: &crate::validate::ServerReport, secret_path: &AttributePath) -> Diagnostics {
    let credential = AttributePath::attr("credential").push_index(0);
    problem_diagnostics(&report.problems, |subject| match subject {
        Subject::Url => AttributePath::attr("url"),
        Subject::Username => credential.push_attr("username"),
        Subject::Project(_) => AttributePath::attr("projects"),
        Subject::Repository(_) => AttributePath::attr("repositories"),
        _ => secret_path.clone(),
    })
}

#[async_trait]
impl Resource<Services> for BitbucketServerIntegrationResource {
    type Model = ServerIntegrationModel;

    fn validate(&self, config: &ServerIntegrationModel, diags: &mut Diagnostics) {
        let satellite = config.is_satellite();
        match (config.has_credential(), satellite) {
            (true, true) => diags.error_at(
                AttributePath::attr("satellite"),
                "Conflicting credentials",
                "A satellite integration sends no credentials: remove the credential block, or set satellite = false.",
            ),
            (false, false) if !config.record.satellite.is_unknown() => diags.error(
                "Missing credentials",
                "Give SEI one credential block (the Data Center user's `username`, and `password_wo` or `password`: the user's password or that user's HTTP access token), or set `satellite = true` for a server only an SEI ingestion satellite can reach. For an integration imported from SEI with `authentication = \"api_key\"`, add the credential block: SEI never returns credentials, not even the username, so the first apply after the import sends it.",
            ),
            _ => {}
        }
        if let Some(c) = config.block() {
            let base = AttributePath::attr("credential").push_index(0);
            match (c.password.is_null(), c.password_wo.is_null()) {
                (false, false) => diags.error_at(
                    base.push_attr("password_wo"),
                    "Conflicting password attributes",
                    "Set exactly one of `password` and `password_wo` in the credential block.",
                ),
                (true, true) => diags.error_at(
                    base,
                    "Missing password",
                    "Set exactly one of `password` (stored in state, sensitive) and `password_wo` (write-only) in the credential block.",
                ),
                _ => {}
            }
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut Plan<ServerIntegrationModel>) {
        let checked = self.check(ctx, &plan.config).await;
        let sends_credentials = plan
            .prior
            .as_ref()
            .is_none_or(|prior| must_resend(prior, &plan.planned));
        let mut version = Val::Unknown;
        if let Some((report, secret_path)) = &checked {
            let found = diagnostics(report, secret_path);
            plan.diags.extend(if sends_credentials {
                found
            } else {
                as_warnings(
                    found,
                    "This plan sends SEI no credentials, so it goes on; SEI's ingestion will fail until they are fixed and credentials_version is bumped.",
                )
            });
            version = report.server_version.clone().into();
        }
        if plan.planned.is_satellite() {
            version = Val::Null;
        }
        lifecycle::check_name(
            ctx,
            plan.prior.as_ref().map(|p| &p.record),
            &plan.config.record.name,
            &mut plan.private,
            &mut plan.diags,
        )
        .await;
        let Some(prior) = &plan.prior else {
            plan.planned.record.description = plan.config.record.description.clone();
            plan.planned.record.authentication = plan.config.authentication_for();
            plan.planned.server_version = version;
            return;
        };
        let planned = &mut plan.planned;
        if prior.is_satellite() != planned.is_satellite() {
            let path = if prior.credential != planned.credential {
                "credential"
            } else {
                "satellite"
            };
            plan.requires_replace.push(AttributePath::attr(path));
        }
        if prior.is_satellite() && prior.record.url != planned.record.url {
            // SEI takes a url only with credentials, and a satellite has none.
            plan.requires_replace.push(AttributePath::attr("url"));
        }
        lifecycle::refuse_uncleared_description(
            prior.record.description.as_deref(),
            plan.config.record.description.as_deref(),
            &mut plan.diags,
        );
        planned.server_version = if prior.record.url == planned.record.url && !prior.server_version.is_null() {
            prior.server_version.clone()
        } else {
            version
        };
        let resend = must_resend(prior, planned);
        if remote_changed(prior, planned) || resend {
            planned.record.updated_at = Val::Unknown;
        }
        if resend {
            planned.record.authentication = plan.config.authentication_for();
            planned.record.status = Val::Unknown;
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: ServerIntegrationModel,
        config: ServerIntegrationModel,
        diags: &mut Diagnostics,
    ) -> Option<ServerIntegrationModel> {
        let spec = planned.spec().map_err(|e| diags.extend(e)).ok()?;
        let options = CreateOptions {
            satellite: planned.is_satellite(),
            skip_preflight: planned.skip_preflight == Val::Known(true),
            start_ingestion: planned.start_ingestion != Val::Known(false),
        };
        let body = IntegrationRequest::create(&spec, config.credentials().as_ref(), options);
        let rec = lifecycle::create(ctx, &body, diags).await?;
        let state = self.with_version(ctx, planned).await;
        Some(state.with_record(&rec))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: ServerIntegrationModel,
        planned: ServerIntegrationModel,
        config: ServerIntegrationModel,
        diags: &mut Diagnostics,
    ) -> Option<ServerIntegrationModel> {
        let id = prior.id().map_err(|e| diags.extend(e)).ok()?.to_string();
        let resend = must_resend(&prior, &planned);
        let changed = remote_changed(&prior, &planned) || resend;
        let body = |current: &Integration| -> Result<Option<IntegrationRequest>, Diagnostics> {
            if !changed {
                return Ok(None);
            }
            let spec = planned.spec()?;
            let credentials = if resend { config.credentials() } else { None };
            Ok(Some(IntegrationRequest::update(
                &spec,
                &current.metadata,
                credentials.as_ref(),
                ServerIntegrationModel::resumes_ingestion(&prior, &planned),
            )))
        };
        let rec = lifecycle::update(ctx, &id, body, diags).await?;
        let state = self.with_version(ctx, planned).await;
        Some(state.with_record(&rec))
    }

    async fn delete(&self, ctx: &Ctx, state: ServerIntegrationModel, diags: &mut Diagnostics) {
        match state.id() {
            Ok(id) => lifecycle::delete(ctx, id, diags).await,
            Err(e) => diags.extend(e),
        }
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: ServerIntegrationModel,
        diags: &mut Diagnostics,
    ) -> Option<ServerIntegrationModel> {
        let id = match state.id() {
            Ok(id) => id.to_string(),
            Err(e) => {
                diags.extend(e);
                return Some(state);
            }
        };
        let name = state.record.name.as_deref().unwrap_or_default().to_string();
        match lifecycle::refresh(ctx, &ctx.services.records, &id, &name, diags).await {
            Refreshed::Found(rec) => Some(state.with_record(&rec)),
            Refreshed::Gone => None,
            Refreshed::Failed => Some(state),
        }
    }

    async fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<ServerIntegrationModel> {
        let rec = lifecycle::import(ctx, &lifecycle::DATA_CENTER, id, diags).await?;
        Some(ServerIntegrationModel::imported(&rec))
    }

    fn identity_schema(&self) -> Option<tfplugin::schema::IdentitySchema> {
        Some(super::integration_identity())
    }

    fn generate_config(&self, state: &ServerIntegrationModel, generic: Value, diags: &mut Diagnostics) -> Value {
        if !state.is_satellite() {
            let name = state.record.name.as_deref().unwrap_or_default();
            diags.warning_at(
                AttributePath::attr("credential"),
                "Add the credential SEI holds",
                format!("Integration {name:?} signs in to Data Center with a user's password or token: add one `credential` block with that user's `username` and the secret in `password_wo`, and set `credentials_version = 1`. SEI never returns credentials, not even the username, so it cannot be generated; the first apply sends it."),
            );
        }
        generic
    }

    fn schema(&self) -> Schema {
        schema()
    }
}

impl BitbucketServerIntegrationResource {
    /// Fills a `server_version` the plan could not know (check skipped or
    /// deferred) from the server's version probe; null when unreachable.
    async fn with_version(&self, ctx: &Ctx, mut state: ServerIntegrationModel) -> ServerIntegrationModel {
        if !state.server_version.is_unknown() {
            return state;
        }
        state.server_version = Val::Null;
        if state.is_satellite() {
            return state;
        }
        if let Some(url) = state.record.url.known().and_then(|u| url::Url::parse(u).ok()) {
            if let Ok(info) = ctx.services.datacenter.server_info(&url, &ctx.cancel).await {
                state.server_version = Val::Known(info.version);
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(version: Option<i64>, user: &str) -> ServerIntegrationModel {
        let rec = Integration {
            id: "1".into(),
            name: "n".into(),
            url: Some("https://bitbucket.acme.internal".into()),
            authentication: Some("api_key".into()),
            ..Default::default()
        };
        ServerIntegrationModel {
            record: IntegrationRecord::from(&rec),
            projects: Val::Known(Vec::new()),
            server_version: Val::Null,
            credential: Val::Known(vec![CredentialBlock {
                username: Val::Known(user.into()),
                password: Val::Null,
                password_wo: Val::Null,
            }]),
            credentials_version: version.map(Number::from_i64).into(),
            skip_preflight: Val::Known(false),
            start_ingestion: Val::Known(true),
        }
    }

    #[test]
    fn the_credential_is_resent_only_when_something_about_it_changed() {
        let prior = model(Some(1), "svc-sei");
        assert!(!must_resend(&prior, &prior.clone()));
        assert!(must_resend(&prior, &model(Some(2), "svc-sei")));
        assert!(must_resend(&prior, &model(Some(1), "other")));
        let mut moved = prior.clone();
        moved.record.url = Val::Known("https://git.acme.internal/bitbucket".into());
        assert!(must_resend(&prior, &moved));
    }

    #[test]
    fn projects_are_a_remote_change() {
        let prior = model(None, "svc-sei");
        let mut planned = prior.clone();
        planned.projects = Val::Known(vec!["Platform".into()]);
        assert!(remote_changed(&prior, &planned));
        assert!(!must_resend(&prior, &planned));
    }

    #[test]
    fn server_urls_are_base_urls() {
        let check = |s: &str| {
            let mut d = Diagnostics::new();
            ServerUrl.validate(&Value::string(s), &AttributePath::attr("url"), &mut d);
            d.has_errors()
        };
        assert!(!check("https://bitbucket.acme.internal"));
        assert!(!check("https://git.acme.internal/bitbucket"));
        assert!(check("https://bitbucket.acme.internal/"));
        assert!(check("https://bitbucket.acme.internal/rest/api/1.0"));
        assert!(check("https://bitbucket.acme.internal?x=1"));
        assert!(check_repository("PLAT/api").is_err());
        assert!(check_repository("api").is_ok());
        assert!(check_project("Plat,Mob").is_err());
    }
}
