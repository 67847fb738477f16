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
use tfplugin::codec::{AttributePath, Number, Type, Value};
use tfplugin::diag::Diagnostics;
use tfplugin::framework::{Plan, Resource};
use tfplugin::schema::validators::{
    EachString, HttpUrl, NoControlChars, NoSurroundingSpace, StringLength, WholeNumber,
};
use tfplugin::schema::{Attribute, Block, NestedBlock, PlanModifier, Schema};
use tfplugin::{Model, Val};

use super::lifecycle::{self, Refreshed};
use super::{as_warnings, known_secret, report_diagnostics};
use crate::clients::sei::{ApiKeyEntry, CreateOptions, Credentials, Integration, IntegrationRequest, IntegrationSpec};
use crate::integration::{IntegrationRecord, APPLICATION, DEFAULT_URL};
use crate::provider::{Ctx, Services};
use crate::secret::Secret;
use crate::validate::{AuthType, CredentialCheck, CredentialReport, ProblemKind};

/// `sei_bitbucket_integration`'s configuration and state: SEI's record,
/// plus what SEI never returns (credentials) or acts on at create only.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct IntegrationModel {
    #[tf(flatten)]
    pub record: IntegrationRecord,
    pub credential: Val<Vec<CredentialBlock>>,
    pub credentials_version: Val<Number>,
    pub oauth_code_wo: Val<Secret>,
    pub skip_preflight: Val<bool>,
    pub start_ingestion: Val<bool>,
}

/// One `credential` block.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct CredentialBlock {
    pub username: Val<String>,
    pub password: Val<Secret>,
    pub password_wo: Val<Secret>,
}

pub fn schema() -> Schema {
    let strings = Type::set(Type::String);
    let flag = |name: &'static str, default: bool, what: &str| {
        Attribute::optional_computed(name, Type::Bool)
            .modify(PlanModifier::Default(Value::Bool(default)))
            .describe(format!("{what} Default: `{default}`."))
    };
    let credential = Block::new("A Bitbucket account credential SEI uses to ingest. One block means SEI's method `apikey`; two or more mean `multiple_api_keys`, which SEI uses in turn to spread Bitbucket's per-account rate limit.")
        .attr(Attribute::required("username", Type::String).validate(StringLength { min: 1, max: 255 }).validate(NoControlChars).describe("Atlassian account email (API token) or Bitbucket username (App Password)."))
        .attr(Attribute::optional("password", Type::String).sensitive().deprecated(super::STORED_PASSWORD_DEPRECATION).describe("The API token, stored in state (sensitive). Exactly one of `password` and `password_wo`."))
        .attr(Attribute::optional("password_wo", Type::String).sensitive().write_only().stored_alternative("password").describe("The API token, write-only: never stored. Set it from an ephemeral variable; bump `credentials_version` to re-send it."));
    let block = Block::new("An SEI integration of application `bitbucket` (Bitbucket Cloud). Every credential is checked live against Bitbucket at plan time; SEI never returns credentials, so they are re-sent only when they change or `credentials_version` is bumped.")
        .attr(Attribute::computed("id", Type::String).modify(PlanModifier::UseStateForUnknown).describe("SEI's integration id, a numeric string."))
        .attr(Attribute::required("name", Type::String).validate(StringLength { min: 1, max: 50 }).validate(NoSurroundingSpace).validate(NoControlChars).describe("Unique within the SEI account; at most 50 characters."))
        .attr(Attribute::optional_computed("description", Type::String).validate(StringLength { min: 0, max: 140 }).validate(NoControlChars).describe("At most 140 characters. SEI cannot clear a description: removing it from configuration keeps SEI's value."))
        .attr(Attribute::optional_computed("url", Type::String).validate(HttpUrl).modify(PlanModifier::Default(Value::string(DEFAULT_URL))).describe("Bitbucket's URL. SEI applies a change only together with credentials, so a change re-sends them, or replaces the integration when there are none to send. Default: `https://bitbucket.org`."))
        .attr(Attribute::optional_computed("tags", strings.clone()).validate(EachString { check: check_tag_id }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("SEI tag ids."))
        .attr(Attribute::optional_computed("repositories", strings).validate(EachString { check: check_repository }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("`workspace/repo` names to ingest; empty means all repositories. Every credential must see every one."))
        .attr(flag("fetch_commits", true, "Ingest commits."))
        .attr(flag("fetch_prs", true, "Ingest pull requests."))
        .attr(flag("fetch_pr_reviews", true, "Ingest pull-request reviews."))
        .attr(flag("fetch_commit_files", false, "Ingest per-file commit statistics."))
        .attr(Attribute::optional("credentials_version", Type::Number).validate(WholeNumber).describe("Bump to re-send the credentials (rotation, re-authentication)."))
        .attr(Attribute::optional("oauth_code_wo", Type::String).sensitive().write_only().validate(StringLength { min: 1, max: 4096 }).describe("A Bitbucket authorization code for SEI's OAuth consumer. Single use and write-only: sent on create, and again only when `credentials_version` changes from one value to another."))
        .attr(Attribute::optional_computed("satellite", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe("An on-premises SEI satellite ingests; no credentials are sent. Default: `false`."))
        .attr(Attribute::optional_computed("skip_preflight", Type::Bool).modify(PlanModifier::Default(Value::Bool(false))).describe("Skip SEI's server-side connection check at create. Default: `false`."))
        .attr(Attribute::optional_computed("start_ingestion", Type::Bool).modify(PlanModifier::Default(Value::Bool(true))).describe("Start ingesting at create. Going from `false` to `true` later resumes ingestion. Default: `true`."))
        .attr(Attribute::computed("authentication", Type::String).describe("SEI's credential kind: `api_key`, `multiple_api_keys`, `oauth` or `none`."))
        .attr(Attribute::computed("status", Type::String).describe(crate::integration::STATUS_DOC))
        .attr(Attribute::computed("created_at", Type::Number).describe("Creation time, epoch seconds."))
        .attr(Attribute::computed("updated_at", Type::Number).describe("Last update time, epoch seconds."))
        .block(NestedBlock::list("credential", credential));
    Schema::new(0, block)
}

pub struct BitbucketIntegrationResource;

/// The three ways to give SEI credentials, plus "none given".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Blocks,
    OAuth,
    Satellite,
    Unset,
}

impl IntegrationModel {
    /// A record as import (and `terraform query`) finds it: every attribute
    /// SEI returns, the create-time flags at their defaults, no credentials.
    pub(crate) fn imported(rec: &Integration) -> IntegrationModel {
        let base = IntegrationModel {
            record: IntegrationRecord::from(rec),
            credential: Val::Known(Vec::new()),
            credentials_version: Val::Null,
            oauth_code_wo: Val::Null,
            skip_preflight: Val::Known(false),
            start_ingestion: Val::Known(true),
        };
        base.with_record(rec)
    }

    fn config_form(&self) -> Form {
        if self.record.satellite == Val::Known(true) {
            Form::Satellite
        } else if !self.credential.items().is_empty() || self.credential.is_unknown() {
            Form::Blocks
        } else if !self.oauth_code_wo.is_null() {
            Form::OAuth
        } else {
            Form::Unset
        }
    }

    /// The form of a record in state. `oauth_code_wo` is never stored, so an
    /// OAuth record is recognised by SEI's `authentication`.
    fn state_form(&self) -> Form {
        if self.record.satellite == Val::Known(true) {
            return Form::Satellite;
        }
        match self.record.authentication.as_deref() {
            Some("oauth") => Form::OAuth,
            Some("api_key" | "multiple_api_keys") => Form::Blocks,
            _ if !self.credential.items().is_empty() => Form::Blocks,
            _ => Form::Unset,
        }
    }

    fn authentication_for(&self) -> Val<String> {
        let known = |s: &str| Val::Known(s.to_string());
        match self.config_form() {
            Form::Satellite | Form::Unset => known("none"),
            Form::OAuth => known("oauth"),
            Form::Blocks => match &self.credential {
                Val::Known(items) if items.len() == 1 => known("api_key"),
                Val::Known(_) => known("multiple_api_keys"),
                _ => Val::Unknown,
            },
        }
    }

    /// (username, stored password) pairs: what state remembers of credentials.
    fn stored_credentials(&self) -> BTreeSet<(Option<String>, Option<String>)> {
        self.credential
            .items()
            .iter()
            .map(|c| {
                (
                    c.username.known().cloned(),
                    c.password.known().map(|p| p.expose().to_string()),
                )
            })
            .collect()
    }

    fn spec(&self) -> Result<IntegrationSpec, Diagnostics> {
        self.record.spec(APPLICATION, None)
    }

    /// The configured credentials in the SEI client's terms.
    fn credentials(&self) -> Option<Credentials> {
        match self.config_form() {
            Form::Blocks => Some(Credentials::ApiKeys(
                self.credential
                    .items()
                    .iter()
                    .map(|c| ApiKeyEntry {
                        username: c.username.known().cloned().unwrap_or_default(),
                        apikey: known_secret(&c.password, &c.password_wo, &AttributePath::root())
                            .map(|(_, s)| s)
                            .unwrap_or_default(),
                    })
                    .collect(),
            )),
            Form::OAuth => self.oauth_code_wo.known().cloned().map(Credentials::OAuthCode),
            Form::Satellite | Form::Unset => None,
        }
    }

    /// State from an SEI record; what SEI never returns comes from `self`.
    fn with_record(&self, rec: &Integration) -> IntegrationModel {
        IntegrationModel {
            record: IntegrationRecord::from_sei(rec, &self.record),
            credential: match &self.credential {
                Val::Null => Val::Known(Vec::new()),
                c => c.clone(),
            },
            credentials_version: self.credentials_version.clone(),
            oauth_code_wo: Val::Null,
            skip_preflight: Val::Known(self.skip_preflight.known_or(false).unwrap_or(false)),
            start_ingestion: Val::Known(self.start_ingestion.known_or(true).unwrap_or(true)),
        }
    }

    fn id(&self) -> Result<&str, Diagnostics> {
        self.record.id()
    }

    fn resumes_ingestion(prior: &IntegrationModel, planned: &IntegrationModel) -> bool {
        prior.start_ingestion == Val::Known(false) && planned.start_ingestion == Val::Known(true)
    }
}

/// Whether an update must send credentials again, per the documented rules.
fn must_resend(prior: &IntegrationModel, planned: &IntegrationModel) -> bool {
    match prior.state_form() {
        Form::Blocks => {
            prior.credentials_version != planned.credentials_version
                || prior.stored_credentials() != planned.stored_credentials()
                || prior.record.url != planned.record.url
        }
        Form::OAuth => {
            let (a, b) = (&prior.credentials_version, &planned.credentials_version);
            !a.is_null() && !b.is_null() && a != b
        }
        _ => false,
    }
}

fn remote_changed(prior: &IntegrationModel, planned: &IntegrationModel) -> bool {
    prior.record.remote() != planned.record.remote() || IntegrationModel::resumes_ingestion(prior, planned)
}

/// A `credential` block has no `auth_type`: a username that is not an
/// email makes Bitbucket read the secret as an App Password. Say what fits
/// a block instead of the resource-level advice.
fn explain_block_username(check: &CredentialCheck, report: &mut CredentialReport) {
    let who = &check.username;
    if who.contains('@') {
        return;
    }
    for p in report
        .problems
        .iter_mut()
        .filter(|p| p.kind == ProblemKind::InvalidCredential)
    {
        p.detail = if check.secret.expose().starts_with("ATATT") {
            format!(
                "Bitbucket answered 401 Unauthorized for {who}. This password is an Atlassian API token (ATATT…), and an API token signs in with the Atlassian account's email address, not with {who:?}: set username to that email in this credential block."
            )
        } else {
            format!(
                "Bitbucket answered 401 Unauthorized for {who}. A username that is not an email address makes Bitbucket read the password as an App Password, and Bitbucket removed App Passwords on 2026-07-28. Create an Atlassian API token with scopes: id.atlassian.com → Security → API tokens → \"Create API token with scopes\", choose the Bitbucket app, and grant read:user:bitbucket, read:workspace:bitbucket, read:project:bitbucket, read:repository:bitbucket and read:pullrequest:bitbucket. Then set this block's username to the Atlassian account's email address and its password to the token."
            )
        };
    }
}

/// SEI tag ids are numbers.
pub(crate) fn check_tag_id(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("{s:?} is not an SEI tag id (a number, such as \"17\")."))
    }
}

fn check_repository(s: &str) -> Result<(), String> {
    match s.split_once('/') {
        Some((ws, repo)) if !ws.is_empty() && !repo.is_empty() && !repo.contains('/') && s.trim() == s => Ok(()),
        _ => Err(format!("{s:?} must be a full repository name, `workspace/repo`.")),
    }
}

impl BitbucketIntegrationResource {
    /// Checks every known credential against every listed repository.
    async fn check_credentials(&self, ctx: &Ctx, config: &IntegrationModel) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if !ctx.services.config.validate_credentials || config.config_form() != Form::Blocks {
            return diags;
        }
        let Some(repositories) = config.record.repositories.known_or(Vec::new()) else {
            return diags;
        };
        let mut checks = Vec::new();
        for (i, c) in config.credential.items().iter().enumerate() {
            let base = AttributePath::attr("credential").push_index(i);
            let (Some(username), Some((path, secret))) =
                (c.username.known(), known_secret(&c.password, &c.password_wo, &base))
            else {
                continue;
            };
            checks.push((
                CredentialCheck {
                    auth_type: AuthType::infer(username),
                    username: username.clone(),
                    secret,
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
        for ((check, path), mut report) in checks.iter().zip(reports) {
            explain_block_username(check, &mut report);
            diags.extend(report_diagnostics(&report, path, &repos_path, &repos_path));
        }
        diags
    }
}

#[async_trait]
impl Resource<Services> for BitbucketIntegrationResource {
    type Model = IntegrationModel;

    fn validate(&self, config: &IntegrationModel, diags: &mut Diagnostics) {
        let satellite = config.record.satellite == Val::Known(true);
        let mut forms = Vec::new();
        if !config.credential.items().is_empty() || config.credential.is_unknown() {
            forms.push("credential blocks");
        }
        if !config.oauth_code_wo.is_null() {
            forms.push("oauth_code_wo");
        }
        if satellite {
            forms.push("satellite = true");
        }
        match forms.len() {
            0 if !config.record.satellite.is_unknown() => diags.error(
                "Missing credentials",
                "Give SEI credentials in exactly one form: one or more `credential` blocks, `oauth_code_wo`, or `satellite = true` for an on-premises satellite. For an integration imported from SEI with `authentication = \"api_key\"` or `\"multiple_api_keys\"`, add one `credential` block per Bitbucket account SEI should use (`username` = the account's Atlassian email, and `password_wo` or `password`): SEI never returns credentials, not even usernames, so the first apply after the import sends the configured ones.",
            ),
            0 | 1 => {}
            _ => diags.error_at(
                AttributePath::attr(if satellite { "satellite" } else { "oauth_code_wo" }),
                "Conflicting credentials",
                format!("Use exactly one form of credentials; this configuration sets {}.", forms.join(" and ")),
            ),
        }
        for (i, c) in config.credential.items().iter().enumerate() {
            let base = AttributePath::attr("credential").push_index(i);
            if let Some(user) = c.username.as_deref() {
                let earlier = config.credential.items()[..i]
                    .iter()
                    .position(|o| o.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(user)));
                if let Some(j) = earlier {
                    diags.error_at(
                        base.push_attr("username"),
                        "Duplicate credential",
                        format!("credential[{j}] already uses {user:?}: SEI uses each key in turn, so one account twice spreads nothing. Remove one of the blocks."),
                    );
                }
            }
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

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut Plan<IntegrationModel>) {
        let checked = self.check_credentials(ctx, &plan.config).await;
        let sends_credentials = plan
            .prior
            .as_ref()
            .is_none_or(|prior| must_resend(prior, &plan.planned));
        plan.diags.extend(if sends_credentials {
            checked
        } else {
            as_warnings(
                checked,
                "This plan sends SEI no credentials, so it goes on; SEI's ingestion with them will fail until they are fixed and credentials_version is bumped.",
            )
        });
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
            return;
        };
        let planned = &mut plan.planned;
        let (before, after) = (prior.state_form(), plan.config.config_form());
        if before != after && after != Form::Unset {
            let path = if prior.credential != planned.credential {
                "credential"
            } else {
                "satellite"
            };
            plan.requires_replace.push(AttributePath::attr(path));
        }
        if before != Form::Blocks && prior.record.url != planned.record.url {
            plan.requires_replace.push(AttributePath::attr("url"));
        }
        lifecycle::refuse_uncleared_description(
            prior.record.description.as_deref(),
            plan.config.record.description.as_deref(),
            &mut plan.diags,
        );
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
        planned: IntegrationModel,
        config: IntegrationModel,
        diags: &mut Diagnostics,
    ) -> Option<IntegrationModel> {
        let spec = planned.spec().map_err(|e| diags.extend(e)).ok()?;
        let options = CreateOptions {
            satellite: planned.record.satellite == Val::Known(true),
            skip_preflight: planned.skip_preflight == Val::Known(true),
            start_ingestion: planned.start_ingestion != Val::Known(false),
        };
        let body = IntegrationRequest::create(&spec, config.credentials().as_ref(), options);
        lifecycle::create(ctx, &body, diags)
            .await
            .map(|rec| planned.with_record(&rec))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: IntegrationModel,
        planned: IntegrationModel,
        config: IntegrationModel,
        diags: &mut Diagnostics,
    ) -> Option<IntegrationModel> {
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
                IntegrationModel::resumes_ingestion(&prior, &planned),
            )))
        };
        lifecycle::update(ctx, &id, body, diags)
            .await
            .map(|rec| planned.with_record(&rec))
    }

    async fn delete(&self, ctx: &Ctx, state: IntegrationModel, diags: &mut Diagnostics) {
        let id = match state.id() {
            Ok(id) => id,
            Err(e) => return diags.extend(e),
        };
        lifecycle::delete(ctx, id, diags).await;
    }

    async fn read(&self, ctx: &Ctx, state: IntegrationModel, diags: &mut Diagnostics) -> Option<IntegrationModel> {
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

    async fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Option<IntegrationModel> {
        let rec = lifecycle::import(ctx, &lifecycle::CLOUD, id, diags).await?;
        Some(IntegrationModel::imported(&rec))
    }

    fn identity_schema(&self) -> Option<tfplugin::schema::IdentitySchema> {
        Some(super::integration_identity())
    }

    /// SEI returns no credentials, not even usernames, so generated config
    /// cannot hold them: say exactly what to add.
    fn generate_config(&self, state: &IntegrationModel, generic: Value, diags: &mut Diagnostics) -> Value {
        let name = state.record.name.as_deref().unwrap_or_default();
        match state.record.authentication.as_deref() {
            Some(kind @ ("api_key" | "multiple_api_keys")) => {
                let blocks = if kind == "api_key" { "one `credential` block" } else { "one `credential` block per Bitbucket account SEI uses (two or more)" };
                diags.warning_at(
                    AttributePath::attr("credential"),
                    "Add the credentials SEI holds",
                    format!("Integration {name:?} authenticates with {kind}: add {blocks} to its configuration, each with the account's Atlassian email as `username` and the token in `password_wo`, and set `credentials_version = 1`. SEI never returns credentials, not even usernames, so they cannot be generated; the first apply sends the configured ones."),
                );
            }
            Some("oauth") => diags.warning_at(
                AttributePath::attr("credentials_version"),
                "Record the OAuth grant's version",
                format!("Integration {name:?} uses an OAuth grant: add `credentials_version = 1` (the plan records it and sends nothing), and `oauth_code_wo` with a new authorization code only when re-authorising (docs/guides/oauth-reauthorization.md)."),
            ),
            _ => {}
        }
        generic
    }

    fn schema(&self) -> Schema {
        schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(authentication: &str, version: Option<i64>) -> IntegrationModel {
        let rec = Integration {
            id: "1".into(),
            name: "n".into(),
            authentication: Some(authentication.into()),
            ..Default::default()
        };
        IntegrationModel {
            record: IntegrationRecord::from(&rec),
            credential: Val::Known(vec![CredentialBlock {
                username: Val::Known("ops@acme.example".into()),
                password: Val::Null,
                password_wo: Val::Null,
            }]),
            credentials_version: version.map(Number::from_i64).into(),
            oauth_code_wo: Val::Null,
            skip_preflight: Val::Known(false),
            start_ingestion: Val::Known(true),
        }
    }

    #[test]
    fn credentials_are_resent_only_when_something_about_them_changed() {
        let prior = model("api_key", Some(1));
        assert!(!must_resend(&prior, &prior.clone()));
        assert!(must_resend(&prior, &model("api_key", Some(2))));
        let mut other_user = prior.clone();
        other_user.credential = Val::Known(vec![CredentialBlock {
            username: Val::Known("ci@acme.example".into()),
            password: Val::Null,
            password_wo: Val::Null,
        }]);
        assert!(must_resend(&prior, &other_user));
        let mut moved = prior.clone();
        moved.record.url = Val::Known("https://bitbucket.example".into());
        assert!(must_resend(&prior, &moved));
    }

    #[test]
    fn an_oauth_code_is_resent_only_between_two_set_versions() {
        assert!(!must_resend(&model("oauth", None), &model("oauth", Some(1))));
        assert!(must_resend(&model("oauth", Some(1)), &model("oauth", Some(2))));
    }

    #[test]
    fn a_record_without_url_gets_the_default() {
        let m = model("api_key", None);
        assert_eq!(m.record.url, Val::Known(DEFAULT_URL.to_string()));
    }

    #[test]
    fn resuming_ingestion_is_a_remote_change() {
        let mut prior = model("api_key", None);
        prior.start_ingestion = Val::Known(false);
        let planned = model("api_key", None);
        assert!(remote_changed(&prior, &planned));
        assert!(!remote_changed(&planned, &planned.clone()));
    }
}
