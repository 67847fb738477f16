//! `sei_bitbucket_integration`: one SEI integration record of application
//! `bitbucket` (Bitbucket Cloud).
//!
//! The shape of this file follows SEI's API: credentials are never returned,
//! so they come from configuration only and are re-sent exactly when
//! something about them changed; a PUT replaces `metadata` and `tags`
//! whole, so every update sends the full set, merged with metadata keys set
//! in the SEI UI that we do not manage; `description` cannot be cleared.

use std::collections::BTreeSet;

use async_trait::async_trait;
use futures::future::join_all;

use super::{
    known_str, report_diagnostics, secret_of, ApplyRequest, ApplyResponse, Ctx, ImportResponse, PlanRequest,
    PlanResponse, ReadResponse, Resource,
};
use crate::clients::sei::{ApiKeyEntry, Integration, IntegrationRequest};
use crate::clients::SeiError;
use crate::codec::{AttributePath, Type, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::validators::{EachString, HttpUrl, NoSurroundingSpace, StringLength};
use crate::schema::{plan_generic, Attribute, Block, NestedBlock, PlanModifier, Schema};
use crate::secret::Secret;
use crate::validate::{AuthType, CredentialCheck};

pub const DEFAULT_URL: &str = "https://bitbucket.org";
const APPLICATION: &str = "bitbucket";
/// Metadata keys this resource manages; any other key is the SEI UI's.
const FETCH_FLAGS: &[(&str, bool)] = &[
    ("fetch_commits", true),
    ("fetch_prs", true),
    ("fetch_pr_reviews", true),
    ("fetch_commit_files", false),
];
/// Attributes whose change needs a PUT.
const REMOTE: &[&str] = &[
    "name",
    "description",
    "url",
    "tags",
    "repositories",
    "fetch_commits",
    "fetch_prs",
    "fetch_pr_reviews",
    "fetch_commit_files",
];

pub struct BitbucketIntegrationResource {
    schema: Schema,
}

impl Default for BitbucketIntegrationResource {
    fn default() -> Self {
        Self::new()
    }
}

/// The three ways to give SEI credentials, plus "none given".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Blocks,
    OAuth,
    Satellite,
    Unset,
}

fn config_form(config: &Value) -> Form {
    if config.get("satellite") == &Value::Bool(true) {
        Form::Satellite
    } else if !config.get("credential").elements().is_empty() || config.get("credential").is_unknown() {
        Form::Blocks
    } else if !config.get("oauth_code_wo").is_null() {
        Form::OAuth
    } else {
        Form::Unset
    }
}

/// The form of a record in state. `oauth_code_wo` is never stored, so an
/// OAuth record is recognised by SEI's `authentication`.
fn state_form(state: &Value) -> Form {
    if state.get("satellite") == &Value::Bool(true) {
        return Form::Satellite;
    }
    match state.get("authentication").as_str() {
        Some("oauth") => Form::OAuth,
        Some("api_key" | "multiple_api_keys") => Form::Blocks,
        _ if !state.get("credential").elements().is_empty() => Form::Blocks,
        _ => Form::Unset,
    }
}

fn authentication_for(config: &Value) -> Value {
    match config_form(config) {
        Form::Satellite => Value::string("none"),
        Form::OAuth => Value::string("oauth"),
        Form::Blocks => match config.get("credential") {
            Value::List(items) if items.len() == 1 => Value::string("api_key"),
            Value::List(_) => Value::string("multiple_api_keys"),
            _ => Value::unknown(),
        },
        Form::Unset => Value::string("none"),
    }
}

/// (username, stored password) pairs: what state remembers of credentials.
fn stored_credentials(v: &Value) -> BTreeSet<(String, Option<String>)> {
    v.get("credential")
        .elements()
        .iter()
        .map(|c| {
            (
                c.get("username").as_str().unwrap_or_default().to_string(),
                c.get("password").as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Whether an update must send credentials again, per the documented rules.
fn must_resend(prior: &Value, planned: &Value) -> bool {
    match state_form(prior) {
        Form::Blocks => {
            prior.get("credentials_version") != planned.get("credentials_version")
                || stored_credentials(prior) != stored_credentials(planned)
                || prior.get("url") != planned.get("url")
        }
        Form::OAuth => {
            let (a, b) = (prior.get("credentials_version"), planned.get("credentials_version"));
            !a.is_null() && !b.is_null() && a != b
        }
        _ => false,
    }
}

fn remote_changed(prior: &Value, planned: &Value) -> bool {
    REMOTE.iter().any(|a| !prior.get(a).set_eq(planned.get(a)))
        || (prior.get("start_ingestion") == &Value::Bool(false) && planned.get("start_ingestion") == &Value::Bool(true))
}

fn check_repository(s: &str) -> Result<(), String> {
    match s.split_once('/') {
        Some((ws, repo)) if !ws.is_empty() && !repo.is_empty() && !repo.contains('/') && s.trim() == s => Ok(()),
        _ => Err(format!("{s:?} must be a full repository name, `workspace/repo`.")),
    }
}

fn sorted_strings(v: &Value) -> Vec<String> {
    let mut items = v.as_strings().unwrap_or_default();
    items.sort();
    items.dedup();
    items
}

impl BitbucketIntegrationResource {
    pub fn new() -> Self {
        let strings = Type::set(Type::String);
        let flag = |name: &'static str, default: bool, what: &str| {
            Attribute::optional_computed(name, Type::Bool)
                .modify(PlanModifier::Default(Value::Bool(default)))
                .describe(format!("{what} Default: `{default}`."))
        };
        let credential = Block::new("A Bitbucket account credential SEI uses to ingest. One block means SEI's method `apikey`; two or more mean `multiple_api_keys`, which SEI uses in turn to spread Bitbucket's per-account rate limit.")
            .attr(Attribute::required("username", Type::String).describe("Atlassian account email (API token) or Bitbucket username (App Password)."))
            .attr(Attribute::optional("password", Type::String).sensitive().describe("The API token, stored in state (sensitive). Exactly one of `password` and `password_wo`."))
            .attr(Attribute::optional("password_wo", Type::String).sensitive().write_only().describe("The API token, write-only: never stored. Set it from an ephemeral variable; bump `credentials_version` to re-send it."));
        let block = Block::new("An SEI integration of application `bitbucket` (Bitbucket Cloud). Every credential is checked live against Bitbucket at plan time; SEI never returns credentials, so they are re-sent only when they change or `credentials_version` is bumped.")
            .attr(Attribute::computed("id", Type::String).modify(PlanModifier::UseStateForUnknown).describe("SEI's integration id, a numeric string."))
            .attr(Attribute::required("name", Type::String).validate(StringLength { min: 1, max: 50 }).validate(NoSurroundingSpace).describe("Unique within the SEI account; at most 50 characters."))
            .attr(Attribute::optional_computed("description", Type::String).validate(StringLength { min: 0, max: 140 }).describe("At most 140 characters. SEI cannot clear a description: removing it from configuration keeps SEI's value."))
            .attr(Attribute::optional_computed("url", Type::String).validate(HttpUrl).modify(PlanModifier::Default(Value::string(DEFAULT_URL))).describe("Bitbucket's URL. SEI applies a change only together with credentials, so a change re-sends them, or replaces the integration when there are none to send. Default: `https://bitbucket.org`."))
            .attr(Attribute::optional_computed("tags", strings.clone()).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("SEI tag ids."))
            .attr(Attribute::optional_computed("repositories", strings).validate(EachString { check: check_repository }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("`workspace/repo` names to ingest; empty means all repositories. Every credential must see every one."))
            .attr(flag("fetch_commits", true, "Ingest commits."))
            .attr(flag("fetch_prs", true, "Ingest pull requests."))
            .attr(flag("fetch_pr_reviews", true, "Ingest pull-request reviews."))
            .attr(flag("fetch_commit_files", false, "Ingest per-file commit statistics."))
            .attr(Attribute::optional("credentials_version", Type::Number).describe("Bump to re-send the credentials (rotation, re-authentication)."))
            .attr(Attribute::optional("oauth_code_wo", Type::String).sensitive().write_only().describe("A Bitbucket authorization code for SEI's OAuth consumer. Single use and write-only: sent on create, and again only when `credentials_version` changes from one value to another."))
            .attr(Attribute::optional_computed("satellite", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe("An on-premises SEI satellite ingests; no credentials are sent. Default: `false`."))
            .attr(Attribute::optional_computed("skip_preflight", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe("Skip SEI's server-side connection check at create. Default: `false`."))
            .attr(Attribute::optional_computed("start_ingestion", Type::Bool).modify(PlanModifier::Default(Value::Bool(true))).describe("Start ingesting at create. Going from `false` to `true` later resumes ingestion. Default: `true`."))
            .attr(Attribute::computed("authentication", Type::String).describe("SEI's credential kind: `api_key`, `multiple_api_keys`, `oauth` or `none`."))
            .attr(Attribute::computed("status", Type::String).describe("SEI's status of the integration."))
            .attr(Attribute::computed("created_at", Type::Number).describe("Creation time, epoch seconds."))
            .attr(Attribute::computed("updated_at", Type::Number).describe("Last update time, epoch seconds."))
            .block(NestedBlock::list("credential", credential));
        BitbucketIntegrationResource {
            schema: Schema::new(0, block),
        }
    }

    /// Checks every known credential against every listed repository.
    async fn check_credentials(&self, ctx: &Ctx, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if !ctx.services.config.validate_credentials || config_form(config) != Form::Blocks {
            return diags;
        }
        let Some(repositories) = config.get("repositories").as_strings() else {
            return diags;
        };
        let mut checks = Vec::new();
        for (i, c) in config.get("credential").elements().iter().enumerate() {
            let base = AttributePath::attr("credential").push_index(i);
            let (Some(username), Some((path, secret))) = (known_str(c.get("username")), secret_of(c, &base)) else {
                continue;
            };
            let Some(secret) = secret.as_str() else { continue };
            checks.push((
                CredentialCheck {
                    auth_type: AuthType::infer(&username),
                    username,
                    secret: Secret::new(secret),
                    required_scopes: None,
                    workspaces: Vec::new(),
                    repositories: repositories.clone(),
                },
                path,
            ));
        }
        let reports = join_all(
            checks
                .iter()
                .map(|(check, _)| ctx.services.validator.check(check, &ctx.cancel)),
        )
        .await;
        let repos_path = AttributePath::attr("repositories");
        for ((_, path), report) in checks.iter().zip(reports) {
            diags.extend(report_diagnostics(&report, path, &repos_path, &repos_path));
        }
        diags
    }

    /// The request body for `state` (planned), with secrets from `config`.
    fn request(
        &self,
        planned: &Value,
        config: &Value,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> IntegrationRequest {
        IntegrationRequest {
            name: planned.get("name").as_str().unwrap_or_default().to_string(),
            description: planned
                .get("description")
                .as_str()
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            application: Some(APPLICATION.to_string()),
            url: known_str(planned.get("url")),
            tags: sorted_strings(planned.get("tags")),
            metadata,
            ..Default::default()
        }
        .with_credentials(config)
    }

    fn metadata(
        &self,
        planned: &Value,
        base: serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut m = base;
        for (flag, default) in FETCH_FLAGS {
            m.insert(
                flag.to_string(),
                serde_json::Value::Bool(planned.get(flag).as_bool().unwrap_or(*default)),
            );
        }
        m.insert(
            "repos".into(),
            serde_json::Value::String(sorted_strings(planned.get("repositories")).join(",")),
        );
        m
    }
}

trait WithCredentials {
    fn with_credentials(self, config: &Value) -> Self;
}

impl WithCredentials for IntegrationRequest {
    /// Adds the configured credentials in SEI's wire form. For more than one
    /// key, the first also goes in `username`/`apikey`: SEI replaces stored
    /// credentials only when `apikey` is non-empty.
    fn with_credentials(mut self, config: &Value) -> Self {
        match config_form(config) {
            Form::Blocks => {
                let keys: Vec<ApiKeyEntry> = config
                    .get("credential")
                    .elements()
                    .iter()
                    .map(|c| ApiKeyEntry {
                        username: c.get("username").as_str().unwrap_or_default().to_string(),
                        apikey: Secret::new(
                            secret_of(c, &AttributePath::root())
                                .and_then(|(_, v)| v.as_str().map(str::to_string))
                                .unwrap_or_default(),
                        ),
                    })
                    .collect();
                if let Some(first) = keys.first() {
                    self.username = Some(first.username.clone());
                    self.apikey = Some(first.apikey.clone());
                }
                if keys.len() > 1 {
                    self.method = Some("multiple_api_keys".into());
                    self.keys = Some(keys);
                } else {
                    self.method = Some("apikey".into());
                }
            }
            Form::OAuth => {
                self.method = Some("oauth".into());
                self.code = config.get("oauth_code_wo").as_str().map(Secret::new);
            }
            Form::Satellite | Form::Unset => {}
        }
        self
    }
}

/// State from an SEI record; what SEI never returns comes from `base`.
fn state_from_record(rec: &Integration, base: &Value, block: &Block) -> Value {
    let mut s = block.null_write_only(base);
    if !matches!(s, Value::Object(_)) {
        s = Value::object([]);
    }
    s.set_attr("id", Value::string(rec.id.clone()));
    s.set_attr("name", Value::string(rec.name.clone()));
    s.set_attr("description", Value::opt_string(rec.description.clone()));
    s.set_attr(
        "url",
        Value::string(rec.url.clone().unwrap_or_else(|| DEFAULT_URL.to_string())),
    );
    s.set_attr("tags", Value::string_set(&rec.tags));
    let repos = rec.metadata.get("repos").and_then(|v| v.as_str()).unwrap_or("");
    s.set_attr(
        "repositories",
        Value::string_set(repos.split(',').map(str::trim).filter(|r| !r.is_empty())),
    );
    for (flag, default) in FETCH_FLAGS {
        let v = rec.metadata.get(*flag).and_then(|v| v.as_bool()).unwrap_or(*default);
        s.set_attr(flag, Value::Bool(v));
    }
    s.set_attr("satellite", Value::Bool(rec.satellite.unwrap_or(false)));
    s.set_attr("authentication", Value::opt_string(rec.authentication.clone()));
    s.set_attr("status", Value::opt_string(rec.status.clone()));
    s.set_attr("created_at", Value::opt_int(rec.created_at));
    s.set_attr("updated_at", Value::opt_int(rec.updated_at));
    for (attr, default) in [("skip_preflight", false), ("start_ingestion", true)] {
        if s.get(attr).is_null() {
            s.set_attr(attr, Value::Bool(default));
        }
    }
    if s.get("credential").is_null() {
        s.set_attr("credential", Value::List(Vec::new()));
    }
    s
}

fn sei_error(summary: &str, e: &SeiError, path: Option<AttributePath>) -> Diagnostic {
    let detail = match e {
        SeiError::NameConflict { name, existing_id } => format!(
            "An integration named {name:?} already exists in SEI, with id {existing_id}. Names are unique per account. To manage the existing integration with Terraform, import it:\n\n  terraform import <resource address> {existing_id}\n\nor add an import block: import {{ to = <resource address>, id = \"{existing_id}\" }}. Otherwise choose another name."
        ),
        SeiError::PreflightFailed { checks } => {
            let lines: Vec<String> = checks.iter().map(|c| format!("- {}: {}", c.name, c.error)).collect();
            format!(
                "SEI's preflight check (\"Validate Connection\") failed:\n{}\nFix the credentials, or set skip_preflight = true to create the integration anyway.",
                lines.join("\n")
            )
        }
        other => other.to_string(),
    };
    let d = Diagnostic::error(summary, detail);
    match path {
        Some(p) => d.at(p),
        None => d,
    }
}

#[async_trait]
impl Resource for BitbucketIntegrationResource {
    fn type_name(&self) -> &'static str {
        "sei_bitbucket_integration"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = self.schema.validate(config);
        let blocks = config.get("credential");
        let mut forms = Vec::new();
        if !blocks.elements().is_empty() || blocks.is_unknown() {
            forms.push("credential blocks");
        }
        if !config.get("oauth_code_wo").is_null() {
            forms.push("oauth_code_wo");
        }
        if config.get("satellite") == &Value::Bool(true) {
            forms.push("satellite = true");
        }
        let satellite_unknown = config.get("satellite").is_unknown();
        match forms.len() {
            0 if !satellite_unknown => diags.error(
                "Missing credentials",
                "Give SEI credentials in exactly one form: one or more `credential` blocks, `oauth_code_wo`, or `satellite = true` for an on-premises satellite.",
            ),
            0 | 1 => {}
            _ => diags.error_at(
                if config.get("satellite") == &Value::Bool(true) { AttributePath::attr("satellite") } else { AttributePath::attr("oauth_code_wo") },
                "Conflicting credentials",
                format!("Use exactly one form of credentials; this configuration sets {}.", forms.join(" and ")),
            ),
        }
        for (i, c) in blocks.elements().iter().enumerate() {
            let base = AttributePath::attr("credential").push_index(i);
            match (c.get("password").is_null(), c.get("password_wo").is_null()) {
                (false, false) => diags.error_at(
                    base.push_attr("password_wo"),
                    "Conflicting password attributes",
                    "Set exactly one of `password` and `password_wo` in each credential block.",
                ),
                (true, true) => diags.error_at(
                    base.clone(),
                    "Missing password",
                    "Set exactly one of `password` (stored in state, sensitive) and `password_wo` (write-only) in each credential block.",
                ),
                _ => {}
            }
        }
        diags
    }

    async fn plan(&self, ctx: &Ctx, req: PlanRequest) -> PlanResponse {
        let block = &self.schema.block;
        let (prior, config) = (&req.prior, &req.config);
        let mut planned = plan_generic(block, prior, &req.proposed, config);
        let mut diags = self.check_credentials(ctx, config).await;
        let mut requires_replace = Vec::new();
        if prior.is_null() {
            planned.set_attr("description", config.get("description").clone());
            planned.set_attr("authentication", authentication_for(config));
        } else {
            let (before, after) = (state_form(prior), config_form(config));
            if before != after && after != Form::Unset {
                let path = if !prior.get("credential").set_eq(planned.get("credential")) {
                    "credential"
                } else {
                    "satellite"
                };
                requires_replace.push(AttributePath::attr(path));
            }
            if before != Form::Blocks && !prior.get("url").set_eq(planned.get("url")) {
                requires_replace.push(AttributePath::attr("url"));
            }
            let prior_description = prior.get("description").as_str().unwrap_or_default();
            if config.get("description").as_str() == Some("") && !prior_description.is_empty() {
                diags.error_at(
                    AttributePath::attr("description"),
                    "SEI cannot clear a description",
                    format!("SEI keeps a description once set (here {prior_description:?}), so an empty description can never be applied. Remove the attribute to keep SEI's value, or set a new text."),
                );
            }
            let resend = must_resend(prior, &planned);
            if remote_changed(prior, &planned) || resend {
                planned.set_attr("updated_at", Value::unknown());
            }
            if resend {
                planned.set_attr("authentication", authentication_for(config));
                planned.set_attr("status", Value::unknown());
            }
        }
        PlanResponse {
            planned,
            requires_replace,
            private: Vec::new(),
            diags,
        }
    }

    async fn apply(&self, ctx: &Ctx, req: ApplyRequest) -> ApplyResponse {
        let sei = &ctx.services.sei;
        let block = &self.schema.block;
        if req.planned.is_null() {
            let id = req.prior.get("id").as_str().unwrap_or_default().to_string();
            return match sei.delete(&id, &ctx.cancel).await {
                Ok(()) => ApplyResponse::default(),
                Err(e) => ApplyResponse {
                    new_state: req.prior,
                    diags: sei_error("Cannot delete the integration", &e, None).into(),
                    ..Default::default()
                },
            };
        }
        if req.prior.is_null() {
            let mut body = self.request(
                &req.planned,
                &req.config,
                self.metadata(&req.planned, Default::default()),
            );
            let satellite = req.planned.get("satellite") == &Value::Bool(true);
            body.satellite = Some(satellite);
            body.skip_preflight_check = Some(req.planned.get("skip_preflight") == &Value::Bool(true));
            body.start_ingestion = Some(req.planned.get("start_ingestion") != &Value::Bool(false));
            let created = match sei.create(&body, &ctx.cancel).await {
                Ok(c) => c,
                Err(e) => {
                    let path = matches!(e, SeiError::NameConflict { .. }).then(|| AttributePath::attr("name"));
                    return ApplyResponse {
                        new_state: Value::Null,
                        diags: sei_error("Cannot create the integration", &e, path).into(),
                        ..Default::default()
                    };
                }
            };
            return match sei.get(&created.id, &ctx.cancel).await {
                Ok(rec) => ApplyResponse {
                    new_state: state_from_record(&rec, &req.planned, block),
                    ..Default::default()
                },
                Err(e) => {
                    // Created but unreadable: keep what we know, so Terraform
                    // tracks the record instead of orphaning it.
                    let mut partial = state_from_record(&created, &req.planned, block);
                    for a in ["status", "created_at", "updated_at", "authentication"] {
                        if partial.get(a).is_unknown() {
                            partial.set_attr(a, Value::Null);
                        }
                    }
                    ApplyResponse {
                        new_state: partial,
                        diags: sei_error("Created the integration, but cannot read it back", &e, None).into(),
                        ..Default::default()
                    }
                }
            };
        }
        // Update in place.
        let id = req.prior.get("id").as_str().unwrap_or_default().to_string();
        let current = match sei.get(&id, &ctx.cancel).await {
            Ok(c) => c,
            Err(e) => {
                return ApplyResponse {
                    new_state: req.prior,
                    diags: sei_error("Cannot read the integration before updating it", &e, None).into(),
                    ..Default::default()
                }
            }
        };
        let resend = must_resend(&req.prior, &req.planned);
        let resume = req.prior.get("start_ingestion") == &Value::Bool(false)
            && req.planned.get("start_ingestion") == &Value::Bool(true);
        if remote_changed(&req.prior, &req.planned) || resend {
            let mut body = self.request(
                &req.planned,
                &req.config,
                self.metadata(&req.planned, current.metadata.clone()),
            );
            if !resend {
                body.method = None;
                body.username = None;
                body.apikey = None;
                body.keys = None;
                body.code = None;
                body.url = None;
            }
            if resume {
                body.start_ingestion = Some(true);
            }
            if let Err(e) = sei.update(&id, &body, &ctx.cancel).await {
                return ApplyResponse {
                    new_state: req.prior,
                    diags: sei_error("Cannot update the integration", &e, None).into(),
                    ..Default::default()
                };
            }
        }
        match sei.get(&id, &ctx.cancel).await {
            Ok(rec) => ApplyResponse {
                new_state: state_from_record(&rec, &req.planned, block),
                ..Default::default()
            },
            Err(e) => ApplyResponse {
                new_state: req.prior,
                diags: sei_error("Updated the integration, but cannot read it back", &e, None).into(),
                ..Default::default()
            },
        }
    }

    async fn read(&self, ctx: &Ctx, state: Value, private: Vec<u8>) -> ReadResponse {
        let id = state.get("id").as_str().unwrap_or_default().to_string();
        match ctx.services.sei.get(&id, &ctx.cancel).await {
            Ok(rec) => ReadResponse {
                new_state: state_from_record(&rec, &state, &self.schema.block),
                private,
                diags: Diagnostics::new(),
            },
            Err(SeiError::NotFound { .. }) => {
                tracing::info!(id = %id, "integration is gone from SEI; removing it from state");
                ReadResponse::default()
            }
            Err(e) => ReadResponse {
                new_state: state,
                private,
                diags: sei_error("Cannot read the integration", &e, None).into(),
            },
        }
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> ImportResponse {
        let sei = &ctx.services.sei;
        let found = if let Some(name) = id.strip_prefix("name:") {
            match sei.find_by_name(name, &ctx.cancel).await {
                Ok(Some(rec)) => Ok(rec),
                Ok(None) => Err(Diagnostic::error(
                    "No such integration",
                    format!("SEI has no integration named {:?} in this account.", name.trim()),
                )),
                Err(e) => Err(sei_error("Cannot look the integration up", &e, None)),
            }
        } else if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
            match sei.get(id, &ctx.cancel).await {
                Ok(rec) => Ok(rec),
                Err(SeiError::NotFound { .. }) => Err(Diagnostic::error(
                    "No such integration",
                    format!("SEI has no integration with id {id} in this account."),
                )),
                Err(e) => Err(sei_error("Cannot read the integration", &e, None)),
            }
        } else {
            Err(Diagnostic::error(
                "Invalid import id",
                format!("Import by numeric id (`4512`) or by name (`name:bb-prod`); got {id:?}."),
            ))
        };
        let rec = match found {
            Ok(r) => r,
            Err(d) => {
                return ImportResponse {
                    diags: d.into(),
                    ..Default::default()
                }
            }
        };
        if rec.application.as_deref().is_some_and(|a| a != APPLICATION) {
            return ImportResponse {
                diags: Diagnostic::error(
                    "Not a Bitbucket Cloud integration",
                    format!(
                        "Integration {} has application {:?}; this resource manages application \"bitbucket\".",
                        rec.id,
                        rec.application.unwrap_or_default()
                    ),
                )
                .into(),
                ..Default::default()
            };
        }
        let base = Value::object([
            ("credential", Value::List(Vec::new())),
            ("credentials_version", Value::Null),
            ("oauth_code_wo", Value::Null),
            ("skip_preflight", Value::Bool(false)),
            ("start_ingestion", Value::Bool(true)),
        ]);
        ImportResponse {
            state: Some(state_from_record(&rec, &base, &self.schema.block)),
            private: Vec::new(),
            diags: Diagnostics::new(),
        }
    }
}
