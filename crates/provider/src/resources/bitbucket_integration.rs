//! `sei_bitbucket_integration`: one SEI integration record of application
//! `bitbucket` (Bitbucket Cloud).
//!
//! The shape of this file follows SEI's API: credentials are never returned,
//! so they come from configuration only and are re-sent exactly when
//! something about them changed; a PUT replaces `metadata` and `tags`
//! whole, so every update sends the full set, merged with metadata keys set
//! in the SEI UI that we do not manage; `description` cannot be cleared.

use async_trait::async_trait;
use futures::future::join_all;
use tfplugin::codec::{AttributePath, Type, Value};
use tfplugin::diag::Diagnostics;
use tfplugin::framework::Plan;
use tfplugin::schema::validators::Invalid;
use tfplugin::schema::validators::{EachString, HttpUrl, StringLength};
use tfplugin::schema::{Attribute, Block, NestedBlock, PlanModifier, Schema};
use tfplugin::{Model, Val};

use super::integration_resource::{
    common_attributes, credential_block, record_and_settings, CommonDocs, IntegrationKind, IntegrationResource,
    IntegrationSettings,
};
use super::lifecycle::Kind;
use super::{known_secret, report_diagnostics};
use crate::clients::sei::{ApiKeyEntry, Credentials, Integration, IntegrationSpec};
use crate::integration::{IntegrationRecord, APPLICATION, DEFAULT_URL};
use crate::secret::Secret;
use crate::services::Ctx;
use crate::validate::{AuthType, CredentialCheck, CredentialReport, ProblemKind};

/// `sei_bitbucket_integration`'s configuration and state: SEI's record,
/// plus what SEI never returns (credentials) or acts on at create only.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct IntegrationModel {
    #[tf(flatten)]
    pub record: IntegrationRecord,
    #[tf(flatten)]
    pub settings: IntegrationSettings,
    pub oauth_code_wo: Val<Secret>,
}

pub fn schema() -> Schema {
    let credential = credential_block(
        "A Bitbucket account credential SEI uses to ingest. One block means SEI's method `apikey`; two or more mean `multiple_api_keys`, which SEI uses in turn to spread Bitbucket's per-account rate limit.",
        "Atlassian account email (API token) or Bitbucket username (App Password).",
        "The API token",
    );
    let docs = CommonDocs {
        credentials_version: "Bump to re-send the credentials (rotation, re-authentication).",
        satellite: "An on-premises SEI satellite ingests; no credentials are sent.",
        authentication: "SEI's credential kind: `api_key`, `multiple_api_keys`, `oauth` or `none`.",
    };
    let what = "An SEI integration of application `bitbucket` (Bitbucket Cloud). Every credential is checked live against Bitbucket at plan time; SEI never returns credentials, so they are re-sent only when they change or `credentials_version` is bumped.";
    let block = common_attributes(Block::new(what), &docs)
        .attr(Attribute::optional_computed("url", Type::String).validate(HttpUrl).modify(PlanModifier::Default(Value::string(DEFAULT_URL))).describe("Bitbucket's URL. SEI applies a change only together with credentials, so a change re-sends them, or replaces the integration when there are none to send. Default: `https://bitbucket.org`."))
        .attr(Attribute::optional_computed("repositories", Type::set(Type::String)).validate(EachString { check: check_repository }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("`workspace/repo` names to ingest; empty means all repositories. Every credential must see every one."))
        .attr(Attribute::optional("oauth_code_wo", Type::String).sensitive().write_only().validate(StringLength { min: 1, max: 4096 }).describe("A Bitbucket authorization code for SEI's OAuth consumer. Single use and write-only: sent on create, and again only when `credentials_version` changes from one value to another."))
        .block(NestedBlock::list("credential", credential));
    Schema::new(0, block)
}

/// Bitbucket Cloud, SEI's application `bitbucket`.
pub struct Cloud;

/// `sei_bitbucket_integration`.
pub type BitbucketIntegrationResource = IntegrationResource<Cloud>;

/// The three ways to give SEI credentials, plus "none given".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Blocks,
    OAuth,
    Satellite,
    Unset,
}

impl IntegrationModel {
    fn config_form(&self) -> Form {
        if self.record.satellite == Val::Known(true) {
            Form::Satellite
        } else if !self.settings.credential.items().is_empty() || self.settings.credential.is_unknown() {
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
            _ if !self.settings.credential.items().is_empty() => Form::Blocks,
            _ => Form::Unset,
        }
    }
}

const MISSING_CREDENTIALS: &str = "Missing credentials";
const MISSING_CREDENTIALS_DETAIL: &str = "Give SEI credentials in exactly one form: one or more `credential` blocks, `oauth_code_wo`, or `satellite = true` for an on-premises satellite. For an integration imported from SEI with `authentication = \"api_key\"` or `\"multiple_api_keys\"`, add one `credential` block per Bitbucket account SEI should use (`username` = the account's Atlassian email, and `password_wo` or `password`): SEI never returns credentials, not even usernames, so the first apply after the import sends the configured ones. One imported with `authentication = \"oauth\"` needs only `credentials_version`.";

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
pub(crate) fn check_tag_id(s: &str) -> Result<(), Invalid> {
    if !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "{s:?} is not an SEI tag id (a number, such as \"17\")."
        )))
    }
}

fn check_repository(s: &str) -> Result<(), Invalid> {
    match s.split_once('/') {
        Some((ws, repo)) if !ws.is_empty() && !repo.is_empty() && !repo.contains('/') && s.trim() == s => Ok(()),
        _ => Err(Invalid(format!(
            "{s:?} must be a full repository name, `workspace/repo`."
        ))),
    }
}

/// Checks every known credential against every listed repository.
async fn check_credentials(ctx: &Ctx, config: &IntegrationModel) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if !ctx.services.config.validate_credentials || config.config_form() != Form::Blocks {
        return diags;
    }
    let Some(repositories) = config.record.repositories.known_or(Vec::new()) else {
        return diags;
    };
    let mut checks = Vec::new();
    for (i, c) in config.settings.credential.items().iter().enumerate() {
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

#[async_trait]
impl IntegrationKind for Cloud {
    type Model = IntegrationModel;

    const KIND: Kind = Kind::new(APPLICATION, "Bitbucket Cloud", "bb-prod");

    record_and_settings!();

    fn schema() -> Schema {
        schema()
    }

    fn assemble(
        _prior: Option<&IntegrationModel>,
        record: IntegrationRecord,
        settings: IntegrationSettings,
        _rec: &Integration,
    ) -> IntegrationModel {
        IntegrationModel {
            record,
            settings,
            oauth_code_wo: Val::Null,
        }
    }

    fn spec(m: &IntegrationModel) -> Result<IntegrationSpec, Diagnostics> {
        m.record.spec(APPLICATION, None)
    }

    fn credentials(config: &IntegrationModel) -> Option<Credentials> {
        match config.config_form() {
            Form::Blocks => Some(Credentials::ApiKeys(
                config
                    .settings
                    .credential
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
            Form::OAuth => config.oauth_code_wo.known().cloned().map(Credentials::OAuthCode),
            Form::Satellite | Form::Unset => None,
        }
    }

    fn authentication_for(config: &IntegrationModel) -> Val<String> {
        let known = |s: &str| Val::Known(s.to_string());
        match config.config_form() {
            Form::Satellite | Form::Unset => known("none"),
            Form::OAuth => known("oauth"),
            Form::Blocks => match &config.settings.credential {
                Val::Known(items) if items.len() == 1 => known("api_key"),
                Val::Known(_) => known("multiple_api_keys"),
                _ => Val::Unknown,
            },
        }
    }

    /// Per the documented rules: blocks go again when their version, their
    /// usernames, a stored password or the url change; an OAuth code only
    /// between two set versions.
    fn must_resend(prior: &IntegrationModel, planned: &IntegrationModel) -> bool {
        match prior.state_form() {
            Form::Blocks => {
                prior.settings.credentials_version != planned.settings.credentials_version
                    || prior.settings.stored_credentials() != planned.settings.stored_credentials()
                    || prior.record.url != planned.record.url
            }
            Form::OAuth => {
                let (a, b) = (
                    &prior.settings.credentials_version,
                    &planned.settings.credentials_version,
                );
                !a.is_null() && !b.is_null() && a != b
            }
            _ => false,
        }
    }

    fn validate(config: &IntegrationModel, diags: &mut Diagnostics) {
        let satellite = config.record.satellite == Val::Known(true);
        let blocks = &config.settings.credential;
        let mut forms = Vec::new();
        if !blocks.items().is_empty() || blocks.is_unknown() {
            forms.push("credential blocks");
        }
        if !config.oauth_code_wo.is_null() {
            forms.push("oauth_code_wo");
        }
        if satellite {
            forms.push("satellite = true");
        }
        match forms.len() {
            // With `credentials_version` set, it may be an integration
            // imported from SEI with an OAuth grant, which keeps SEI's grant
            // and needs nothing more: only the plan knows the record.
            0 if !config.settings.credentials_version.is_null() => {}
            0 if !config.record.satellite.is_unknown() => diags.error(MISSING_CREDENTIALS, MISSING_CREDENTIALS_DETAIL),
            0 | 1 => {}
            _ => diags.error_at(
                AttributePath::attr(if satellite { "satellite" } else { "oauth_code_wo" }),
                "Conflicting credentials",
                format!(
                    "Use exactly one form of credentials; this configuration sets {}.",
                    forms.join(" and ")
                ),
            ),
        }
        for (i, c) in blocks.items().iter().enumerate() {
            let Some(user) = c.username.as_deref() else { continue };
            let earlier = blocks.items()[..i]
                .iter()
                .position(|o| o.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(user)));
            if let Some(j) = earlier {
                diags.error_at(
                    AttributePath::attr("credential").push_index(i).push_attr("username"),
                    "Duplicate credential",
                    format!("credential[{j}] already uses {user:?}: SEI uses each key in turn, so one account twice spreads nothing. Remove one of the blocks."),
                );
            }
        }
    }

    async fn plan(ctx: &Ctx, plan: &mut Plan<IntegrationModel>) -> Diagnostics {
        let mut checked = check_credentials(ctx, &plan.config).await;
        // Said at plan, not at validate, which Terraform runs twice a plan.
        if let (Some(url), Form::Blocks) = (plan.config.record.url.known(), plan.config.config_form()) {
            let what = "the Bitbucket credentials SEI uses with it";
            crate::integration::warn_clear_text(url, what, AttributePath::attr("url"), &mut checked);
        }
        // Validation let a configuration without credentials through when it
        // sets `credentials_version`: right only for a record that holds an
        // OAuth grant SEI keeps.
        let unset = plan.config.config_form() == Form::Unset && !plan.config.record.satellite.is_unknown();
        let keeps_grant = plan.prior.as_ref().is_some_and(|p| p.state_form() == Form::OAuth);
        if unset && !keeps_grant {
            checked.error(MISSING_CREDENTIALS, MISSING_CREDENTIALS_DETAIL);
        }
        let Some(prior) = &plan.prior else {
            return checked;
        };
        let (before, after) = (prior.state_form(), plan.config.config_form());
        if before != after && after != Form::Unset {
            let path = if prior.settings.credential != plan.planned.settings.credential {
                "credential"
            } else {
                "satellite"
            };
            plan.requires_replace.push(AttributePath::attr(path));
        }
        if before != Form::Blocks && prior.record.url != plan.planned.record.url {
            plan.requires_replace.push(AttributePath::attr("url"));
        }
        checked
    }

    /// SEI returns no credentials, not even usernames, so generated config
    /// cannot hold them: say exactly what to add.
    fn generate_config(state: &IntegrationModel, generic: Value, diags: &mut Diagnostics) -> Value {
        let name = state.record.name.as_deref().unwrap_or_default();
        match state.record.authentication.as_deref() {
            Some(kind @ ("api_key" | "multiple_api_keys")) => {
                let blocks = if kind == "api_key" {
                    "one `credential` block"
                } else {
                    "one `credential` block per Bitbucket account SEI uses (two or more)"
                };
                diags.warning_at(
                    AttributePath::attr("credential"),
                    "Add the credentials SEI holds",
                    format!("Integration {name:?} authenticates with {kind}: add {blocks} to its configuration, each with the account's Atlassian email as `username` and the token in `password_wo`, and set `credentials_version = 1`. SEI never returns credentials, not even usernames, so they cannot be generated; the first apply sends the configured ones."),
                );
            }
            // The grant stays in SEI: `credentials_version = 1` is all the
            // configuration needs (the first plan records it, sending
            // nothing); a code goes in `oauth_code_wo` only to re-authorise.
            Some("oauth") => {
                let mut config = generic;
                config.set_attr("credentials_version", Value::int(1));
                return config;
            }
            _ => {}
        }
        generic
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::integration_resource::CredentialBlock;
    use tfplugin::codec::Number;

    fn model(authentication: &str, version: Option<i64>) -> IntegrationModel {
        let rec = Integration {
            id: "1".into(),
            name: "n".into(),
            authentication: Some(authentication.into()),
            ..Default::default()
        };
        IntegrationModel {
            record: IntegrationRecord::from(&rec),
            settings: IntegrationSettings {
                credential: Val::Known(vec![CredentialBlock {
                    username: Val::Known("ops@acme.example".into()),
                    password: Val::Null,
                    password_wo: Val::Null,
                }]),
                credentials_version: version.map(Number::from_i64).into(),
                skip_preflight: Val::Known(false),
                start_ingestion: Val::Known(true),
                credentials_sent_at: Val::Null,
            },
            oauth_code_wo: Val::Null,
        }
    }

    #[test]
    fn credentials_are_resent_only_when_something_about_them_changed() {
        let prior = model("api_key", Some(1));
        assert!(!Cloud::must_resend(&prior, &prior.clone()));
        assert!(Cloud::must_resend(&prior, &model("api_key", Some(2))));
        let mut other_user = prior.clone();
        other_user.settings.credential = Val::Known(vec![CredentialBlock {
            username: Val::Known("ci@acme.example".into()),
            password: Val::Null,
            password_wo: Val::Null,
        }]);
        assert!(Cloud::must_resend(&prior, &other_user));
        let mut moved = prior.clone();
        moved.record.url = Val::Known("https://bitbucket.example".into());
        assert!(Cloud::must_resend(&prior, &moved));
    }

    #[test]
    fn an_oauth_code_is_resent_only_between_two_set_versions() {
        assert!(!Cloud::must_resend(&model("oauth", None), &model("oauth", Some(1))));
        assert!(Cloud::must_resend(&model("oauth", Some(1)), &model("oauth", Some(2))));
    }

    #[test]
    fn a_record_without_url_gets_the_default() {
        let m = model("api_key", None);
        assert_eq!(m.record.url, Val::Known(DEFAULT_URL.to_string()));
    }
}
