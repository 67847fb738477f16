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
use tfplugin::codec::{AttributePath, Type, Value};
use tfplugin::diag::Diagnostics;
use tfplugin::framework::Plan;
use tfplugin::schema::validators::Invalid;
use tfplugin::schema::validators::{EachString, HttpUrl, Validator};
use tfplugin::schema::{Attribute, Block, NestedBlock, PlanModifier, Schema};
use tfplugin::{Model, Val};

use super::integration_resource::{
    common_attributes, credential_block, record_and_settings, CommonDocs, CredentialBlock, IntegrationKind,
    IntegrationResource, IntegrationSettings,
};
use super::lifecycle::Kind;
use super::{known_secret, problem_diagnostics, sorted_set};
use crate::clients::sei::{ApiKeyEntry, Credentials, Integration, IntegrationSpec};
use crate::integration::{IntegrationRecord, SERVER_APPLICATION};
use crate::services::Ctx;
use crate::validate::{ServerCheck, Subject};

/// `sei_bitbucket_server_integration`'s configuration and state.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct ServerIntegrationModel {
    #[tf(flatten)]
    pub record: IntegrationRecord,
    #[tf(flatten)]
    pub settings: IntegrationSettings,
    pub projects: Val<Vec<String>>,
    pub server_version: Val<String>,
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
fn check_list_name(what: &str, s: &str) -> Result<(), Invalid> {
    if s.is_empty() || s.trim() != s || s.contains(',') {
        Err(Invalid(format!(
            "{s:?} is not a {what} name SEI can filter on (non-empty, no commas, no surrounding spaces)."
        )))
    } else {
        Ok(())
    }
}

fn check_project(s: &str) -> Result<(), Invalid> {
    check_list_name("project", s)
}

fn check_repository(s: &str) -> Result<(), Invalid> {
    check_list_name("repository", s)?;
    if s.contains('/') {
        return Err(Invalid(format!(
            "{s:?}: Data Center repositories are listed by name (\"api\"), not as \"PROJECT/slug\"; put the project's name in projects."
        )));
    }
    Ok(())
}

pub fn schema() -> Schema {
    let strings = Type::set(Type::String);
    let credential = credential_block(
        "The Data Center user SEI signs in as. Data Center has one credential per integration.",
        "The Data Center user the password or token belongs to.",
        "The user's password or HTTP access token",
    );
    let docs = CommonDocs {
        credentials_version: "Bump to re-send the credential (rotation).",
        satellite:
            "A private server, reached by an SEI ingestion satellite: no credentials are sent and nothing is checked.",
        authentication: "SEI's credential kind: `api_key`, or `none` for a satellite.",
    };
    let what = "An SEI integration of application `bitbucket_server`: a self-hosted Bitbucket Data Center (or Server). The credential is checked live against the server at plan time, from the machine running Terraform, unless `satellite` is set.";
    let block = common_attributes(Block::new(what), &docs)
        .attr(Attribute::required("url", Type::String).validate(HttpUrl).validate(ServerUrl).describe("The server's base URL, with any context path, without a trailing `/` and without `/rest`. SEI applies a change only together with credentials, so a change re-sends them, or replaces a satellite integration."))
        .attr(Attribute::optional_computed("projects", strings.clone()).validate(EachString { check: check_project }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("Project **names** (not keys) to ingest, as SEI filters them (case-insensitive); empty means all."))
        .attr(Attribute::optional_computed("repositories", strings).validate(EachString { check: check_repository }).modify(PlanModifier::Default(Value::Set(Vec::new()))).describe("Repository **names** (not `PROJECT/slug`) to ingest, as SEI filters them (case-insensitive); empty means all the user can read."))
        .attr(Attribute::computed("server_version", Type::String).describe("The Data Center version the server reports (`application-properties`); null for a satellite or when the server cannot be reached from here."))
        .block(NestedBlock {
            max_items: 1,
            ..NestedBlock::list("credential", credential)
        });
    Schema::new(0, block)
}

/// Bitbucket Data Center (or Server), SEI's application `bitbucket_server`.
pub struct DataCenter;

/// `sei_bitbucket_server_integration`.
pub type BitbucketServerIntegrationResource = IntegrationResource<DataCenter>;

impl ServerIntegrationModel {
    fn is_satellite(&self) -> bool {
        self.record.satellite == Val::Known(true)
    }

    /// The one credential block, configured or remembered.
    fn block(&self) -> Option<&CredentialBlock> {
        self.settings.credential.items().first()
    }

    fn has_credential(&self) -> bool {
        self.block().is_some() || self.settings.credential.is_unknown()
    }
}

/// The live check against the server; `None` when it cannot or need
/// not run now (satellite, switched off, values unknown until apply).
async fn check(ctx: &Ctx, config: &ServerIntegrationModel) -> Option<(crate::validate::ServerReport, AttributePath)> {
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

/// Fills a `server_version` the plan could not know (check skipped or
/// deferred) from the server's version probe; null when unreachable.
async fn with_version(ctx: &Ctx, mut state: ServerIntegrationModel) -> ServerIntegrationModel {
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

#[async_trait]
impl IntegrationKind for DataCenter {
    type Model = ServerIntegrationModel;

    fn schema() -> Schema {
        schema()
    }

    const KIND: Kind = Kind::new(SERVER_APPLICATION, "Bitbucket Data Center", "bbdc-prod");

    record_and_settings!();

    /// The version only while the record is not a satellite, and only
    /// as the state it replaces knew it.
    fn assemble(
        prior: Option<&ServerIntegrationModel>,
        record: IntegrationRecord,
        settings: IntegrationSettings,
        rec: &Integration,
    ) -> ServerIntegrationModel {
        let server_version = match prior.map(|m| &m.server_version) {
            _ if rec.satellite == Some(true) => Val::Null,
            None | Some(Val::Unknown) => Val::Null,
            Some(v) => v.clone(),
        };
        ServerIntegrationModel {
            record,
            settings,
            projects: Val::Known(rec.projects()),
            server_version,
        }
    }

    fn spec(m: &ServerIntegrationModel) -> Result<IntegrationSpec, Diagnostics> {
        m.record.spec(SERVER_APPLICATION, Some(m.projects.items().to_vec()))
    }

    /// SEI's `method: "apikey"` with this user's password or token.
    fn credentials(config: &ServerIntegrationModel) -> Option<Credentials> {
        if config.is_satellite() {
            return None;
        }
        let c = config.block()?;
        let (_, secret) = known_secret(&c.password, &c.password_wo, &AttributePath::root())?;
        Some(Credentials::ApiKeys(vec![ApiKeyEntry {
            username: c.username.known().cloned().unwrap_or_default(),
            apikey: secret,
        }]))
    }

    fn authentication_for(config: &ServerIntegrationModel) -> Val<String> {
        Val::Known(if config.is_satellite() { "none" } else { "api_key" }.to_string())
    }

    /// The credential goes again when its version, its username or its
    /// stored password changes, and with a `url` change.
    fn must_resend(prior: &ServerIntegrationModel, planned: &ServerIntegrationModel) -> bool {
        if prior.is_satellite() || planned.is_satellite() {
            return false;
        }
        prior.settings.credentials_version != planned.settings.credentials_version
            || prior.settings.stored_credentials() != planned.settings.stored_credentials()
            || prior.record.url != planned.record.url
    }

    fn kind_changed(prior: &ServerIntegrationModel, planned: &ServerIntegrationModel) -> bool {
        sorted_set(&prior.projects) != sorted_set(&planned.projects)
    }

    fn validate(config: &ServerIntegrationModel, diags: &mut Diagnostics) {
        match (config.has_credential(), config.is_satellite()) {
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
    }

    async fn plan(ctx: &Ctx, plan: &mut Plan<ServerIntegrationModel>) -> Diagnostics {
        let mut version = Val::Unknown;
        let mut found = Diagnostics::new();
        // Said at plan, not at validate, which Terraform runs twice a plan.
        if let (Some(url), false) = (plan.config.record.url.known(), plan.config.is_satellite()) {
            let what = "the user's password or token (the plan-time check sends it, and so does SEI)";
            crate::integration::warn_clear_text(url, what, AttributePath::attr("url"), &mut found);
        }
        if let Some((report, secret_path)) = check(ctx, &plan.config).await {
            found = diagnostics(&report, &secret_path);
            version = report.server_version.clone().into();
        }
        if plan.planned.is_satellite() {
            version = Val::Null;
        }
        let Some(prior) = &plan.prior else {
            plan.planned.server_version = version;
            return found;
        };
        let planned = &mut plan.planned;
        if prior.is_satellite() != planned.is_satellite() {
            let path = if prior.settings.credential != planned.settings.credential {
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
        planned.server_version = if prior.record.url == planned.record.url && !prior.server_version.is_null() {
            prior.server_version.clone()
        } else {
            version
        };
        found
    }

    async fn completed(ctx: &Ctx, state: ServerIntegrationModel) -> ServerIntegrationModel {
        with_version(ctx, state).await
    }

    fn generate_config(state: &ServerIntegrationModel, generic: Value, diags: &mut Diagnostics) -> Value {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::codec::Number;

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
            settings: IntegrationSettings {
                credential: Val::Known(vec![CredentialBlock {
                    username: Val::Known(user.into()),
                    password: Val::Null,
                    password_wo: Val::Null,
                }]),
                credentials_version: version.map(Number::from_i64).into(),
                skip_preflight: Val::Known(false),
                start_ingestion: Val::Known(true),
                credentials_sent_at: Val::Null,
            },
            projects: Val::Known(Vec::new()),
            server_version: Val::Null,
        }
    }

    #[test]
    fn the_credential_is_resent_only_when_something_about_it_changed() {
        let prior = model(Some(1), "svc-sei");
        assert!(!DataCenter::must_resend(&prior, &prior.clone()));
        assert!(DataCenter::must_resend(&prior, &model(Some(2), "svc-sei")));
        assert!(DataCenter::must_resend(&prior, &model(Some(1), "other")));
        let mut moved = prior.clone();
        moved.record.url = Val::Known("https://git.acme.internal/bitbucket".into());
        assert!(DataCenter::must_resend(&prior, &moved));
    }

    #[test]
    fn projects_are_a_remote_change() {
        let prior = model(None, "svc-sei");
        let mut planned = prior.clone();
        planned.projects = Val::Known(vec!["Platform".into()]);
        assert!(DataCenter::kind_changed(&prior, &planned));
        assert!(!DataCenter::must_resend(&prior, &planned));
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
