//! The `provider "sei"` block: its schema, its validation, and the shared
//! services that `ConfigureProvider` builds from it for every resource.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use tfplugin::codec::{AttributePath, Type, Value};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::framework::{DynDataSource, DynEphemeralResource, DynResource, Provider, ProviderInfo};
use tfplugin::schema::validators::{parse_go_duration, GoDuration, HttpUrl, IntRange, NoControlChars};
use tfplugin::schema::{Attribute, Block, Schema};

use crate::clients::datacenter::DataCenterClient;
use crate::clients::{
    BitbucketClient, ClientSetupError, HttpPolicy, OAuthClient, RecordReader, SeiAuth, SeiClient, SeiError, SeiScope,
};
use crate::secret::Secret;
use crate::validate::{CredentialValidator, ServerValidator};

pub const DEFAULT_ENDPOINT: &str = "https://app.harness.io/gateway/sei/api";
pub const DEFAULT_BITBUCKET_API_URL: &str = "https://api.bitbucket.org/2.0";
pub const DEFAULT_BITBUCKET_OAUTH_URL: &str = "https://bitbucket.org/site/oauth2";
pub const DEFAULT_MAX_RETRIES: u32 = 5;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// One attempt longer than this is a typo (`999h`), not a setting: with
/// retries it would hold a plan for days.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

/// Each provider attribute with the environment variable it falls back to.
pub const ENV_FALLBACKS: &[(&str, &str)] = &[
    ("endpoint", "SEI_ENDPOINT"),
    ("api_key", "SEI_API_KEY"),
    ("account_id", "SEI_ACCOUNT_ID"),
    ("org_id", "SEI_ORG_ID"),
    ("project_id", "SEI_PROJECT_ID"),
    ("bitbucket_api_url", "BITBUCKET_API_URL"),
    ("bitbucket_oauth_url", "BITBUCKET_OAUTH_URL"),
    ("validate_credentials", "SEI_VALIDATE_CREDENTIALS"),
    ("max_retries", "SEI_MAX_RETRIES"),
    ("request_timeout", "SEI_REQUEST_TIMEOUT"),
];

pub fn provider_schema() -> Schema {
    let s = Type::String;
    Schema::new(
        0,
        Block::new("Manages Harness SEI Bitbucket Cloud and Bitbucket Data Center integrations, and checks Bitbucket credentials live at plan time. Every attribute can also be set through its environment variable.")
            .attr(Attribute::optional("endpoint", s.clone()).validate(HttpUrl).describe(format!(
                "Base URL of the SEI API. Environment: `SEI_ENDPOINT`. Default: `{DEFAULT_ENDPOINT}`."
            )))
            .attr(Attribute::optional("api_key", s.clone()).sensitive().describe(
                "SEI API key or Harness platform token (`pat.…`/`sat.…`, sent as `x-api-key`; any other key is sent as `Authorization: ApiKey`). Environment: `SEI_API_KEY`. Required at plan time, never at validate time.",
            ))
            .attr(Attribute::optional("account_id", s.clone()).validate(NoControlChars).describe(
                "Harness account identifier, sent as the `Harness-Account` header. Environment: `SEI_ACCOUNT_ID`.",
            ))
            .attr(Attribute::optional("org_id", s.clone()).validate(NoControlChars).describe(
                "Harness organization identifier, sent as the `orgIdentifier` query parameter. Environment: `SEI_ORG_ID`.",
            ))
            .attr(Attribute::optional("project_id", s.clone()).validate(NoControlChars).describe(
                "Harness project identifier, sent as the `projectIdentifier` query parameter. Environment: `SEI_PROJECT_ID`.",
            ))
            .attr(Attribute::optional("bitbucket_api_url", s.clone()).validate(HttpUrl).describe(format!(
                "Bitbucket Cloud REST API base URL. Environment: `BITBUCKET_API_URL`. Default: `{DEFAULT_BITBUCKET_API_URL}`."
            )))
            .attr(Attribute::optional("bitbucket_oauth_url", s.clone()).validate(HttpUrl).describe(format!(
                "Bitbucket OAuth 2.0 base URL. Environment: `BITBUCKET_OAUTH_URL`. Default: `{DEFAULT_BITBUCKET_OAUTH_URL}`."
            )))
            .attr(Attribute::optional("validate_credentials", Type::Bool).describe(
                "Check Bitbucket credentials live at plan time. Environment: `SEI_VALIDATE_CREDENTIALS`. Default: `true`.",
            ))
            .attr(Attribute::optional("max_retries", Type::Number).validate(IntRange { min: 0, max: 20 }).describe(format!(
                "Retries after the first attempt for 429, 502, 503, 504 and connection errors (0 to 20). Environment: `SEI_MAX_RETRIES`. Default: `{DEFAULT_MAX_RETRIES}`."
            )))
            .attr(Attribute::optional("request_timeout", s).validate(GoDuration { min: Duration::from_millis(1), max: MAX_REQUEST_TIMEOUT }).describe(
                "Time limit of each HTTP attempt, as a duration such as `30s` or `1m`. Environment: `SEI_REQUEST_TIMEOUT`. Default: `30s`.",
            )),
    )
}

/// The provider configuration after environment fallbacks and defaults.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub endpoint: Url,
    pub api_key: Secret,
    pub account_id: Option<String>,
    pub org_id: Option<String>,
    pub project_id: Option<String>,
    pub bitbucket_api_url: Url,
    pub bitbucket_oauth_url: Url,
    pub validate_credentials: bool,
    pub max_retries: u32,
    pub request_timeout: Duration,
}

/// Static checks of the provider block: run by `ValidateProviderConfig`,
/// without network and without needing a key.
pub fn validate_provider_config(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    provider_schema()
        .block
        .validate(config, &AttributePath::root(), &mut diags);
    diags
}

/// Resolves configuration, environment and defaults into one immutable
/// [`ProviderConfig`]. `env` is injected so tests need not touch the process
/// environment.
pub fn resolve_provider_config(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProviderConfig, Diagnostics> {
    let mut diags = validate_provider_config(config);
    let mut text = |name: &str| -> Option<(String, bool)> {
        match config.get(name) {
            Value::String(s) if !s.is_empty() => Some((s.clone(), true)),
            // An empty key in the block is a mistake (an unset variable),
            // not a request to read the environment.
            Value::String(_) if name == "api_key" => {
                diags.error_at(
                    AttributePath::attr(name),
                    "Empty SEI API key",
                    "api_key is set to an empty string. Set it to the key, or remove the attribute to use SEI_API_KEY.",
                );
                None
            }
            Value::Unknown(_) => {
                diags.error_at(
                    AttributePath::attr(name),
                    "Provider configuration is not known yet",
                    format!(
                        "{name} depends on a value that is only known after apply; the sei provider needs it to plan."
                    ),
                );
                None
            }
            Value::Bool(b) => Some((b.to_string(), true)),
            Value::Number(n) => Some((n.to_string(), true)),
            _ => {
                let var = ENV_FALLBACKS.iter().find(|(a, _)| *a == name).map(|(_, v)| *v)?;
                env(var).filter(|v| !v.trim().is_empty()).map(|v| (v, false))
            }
        }
    };
    let endpoint = text("endpoint");
    let api_key = text("api_key");
    let account_id = text("account_id");
    let org_id = text("org_id");
    let project_id = text("project_id");
    let bb_api = text("bitbucket_api_url");
    let bb_oauth = text("bitbucket_oauth_url");
    let validate = text("validate_credentials");
    let retries = text("max_retries");
    let timeout = text("request_timeout");

    let source = |name: &str, from_config: bool| {
        if from_config {
            name.to_string()
        } else {
            let var = ENV_FALLBACKS.iter().find(|(a, _)| *a == name).map_or("", |(_, v)| *v);
            format!("{var} (the environment fallback of {name})")
        }
    };
    // Identifiers travel in a header and in the query string: a newline or
    // a space there is a mistake (a trailing newline from a file), never
    // something to send, and never an `endpoint` problem.
    let mut identifier = |name: &str, value: Option<(String, bool)>| -> Option<String> {
        let (v, from_config) = value?;
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            diags.error_at(
                AttributePath::attr(name),
                "Invalid identifier",
                format!(
                    "{} contains whitespace or a control character (a trailing newline from a file or a heredoc?). Remove it.",
                    source(name, from_config)
                ),
            );
        }
        Some(v)
    };
    let account_id = identifier("account_id", account_id);
    let org_id = identifier("org_id", org_id);
    let project_id = identifier("project_id", project_id);
    let mut url_of = |name: &str, value: Option<(String, bool)>, default: &str| -> Option<Url> {
        let (raw, from_config) = value.unwrap_or_else(|| (default.to_string(), true));
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            diags.error_at(
                AttributePath::attr(name),
                "Invalid URL",
                format!(
                    "{} contains whitespace or a control character (a trailing newline?).",
                    source(name, from_config)
                ),
            );
            return None;
        }
        let parsed = Url::parse(&raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if let Some(u) = parsed
            .as_ref()
            .filter(|u| !u.username().is_empty() || u.password().is_some())
        {
            // Never echo the user info: it is a credential.
            diags.error_at(
                AttributePath::attr(name),
                "Credentials in a URL",
                format!(
                    "{} carries user info (user:password@). Put credentials in api_key (SEI_API_KEY) or the credential blocks, never in a URL; host {:?}.",
                    source(name, from_config),
                    u.host_str().unwrap_or_default()
                ),
            );
            return None;
        }
        if parsed
            .as_ref()
            .is_some_and(|u| u.query().is_some() || u.fragment().is_some())
        {
            // A query string is where tokens hide; never echo it.
            diags.error_at(
                AttributePath::attr(name),
                "Invalid URL",
                format!(
                    "{} must be a base URL without a query string or fragment (`?…`, `#…`): the provider adds its own path and query. Credentials go in api_key (SEI_API_KEY), never in a URL.",
                    source(name, from_config)
                ),
            );
            return None;
        }
        if parsed.is_none() {
            diags.error_at(
                AttributePath::attr(name),
                "Invalid URL",
                format!(
                    "{} must be an absolute http:// or https:// URL; got {:?}.",
                    source(name, from_config),
                    if raw.contains('@') {
                        "<a URL with user info>"
                    } else {
                        raw.as_str()
                    }
                ),
            );
        }
        parsed
    };
    let endpoint = url_of("endpoint", endpoint, DEFAULT_ENDPOINT);
    let bitbucket_api_url = url_of("bitbucket_api_url", bb_api, DEFAULT_BITBUCKET_API_URL);
    let bitbucket_oauth_url = url_of("bitbucket_oauth_url", bb_oauth, DEFAULT_BITBUCKET_OAUTH_URL);

    let validate_credentials = match validate {
        None => true,
        Some((v, from_config)) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                diags.error_at(
                    AttributePath::attr("validate_credentials"),
                    "Invalid boolean",
                    format!(
                        "{} must be true or false; got {v:?}.",
                        source("validate_credentials", from_config)
                    ),
                );
                true
            }
        },
    };
    let max_retries = match retries {
        None => DEFAULT_MAX_RETRIES,
        Some((v, from_config)) => match v.trim().parse::<u32>() {
            Ok(n) if n <= 20 => n,
            _ => {
                diags.error_at(
                    AttributePath::attr("max_retries"),
                    "Value out of range",
                    format!(
                        "{} must be a whole number from 0 to 20; got {v:?}.",
                        source("max_retries", from_config)
                    ),
                );
                DEFAULT_MAX_RETRIES
            }
        },
    };
    let request_timeout = match timeout {
        None => DEFAULT_REQUEST_TIMEOUT,
        Some((v, from_config)) => match parse_go_duration(&v) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                diags.error_at(
                    AttributePath::attr("request_timeout"),
                    "Invalid duration",
                    format!(
                        "{} must be a duration such as \"30s\" or \"1m\"; got {v:?}.",
                        source("request_timeout", from_config)
                    ),
                );
                DEFAULT_REQUEST_TIMEOUT
            }
        },
    };
    let api_key = match api_key {
        Some((k, from_config)) if k.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            diags.error_at(
                AttributePath::attr("api_key"),
                "Invalid SEI API key",
                format!(
                    "{} contains whitespace or a control character (a trailing newline from a file or a heredoc?). Remove it.",
                    source("api_key", from_config)
                ),
            );
            Secret::new(k)
        }
        Some((k, _)) => Secret::new(k),
        None => {
            diags.error_at(
                AttributePath::attr("api_key"),
                "Missing SEI API key",
                "The sei provider needs an API key to reach SEI. Set `api_key` in the provider block, or the SEI_API_KEY environment variable.",
            );
            Secret::default()
        }
    };
    let (Some(endpoint), Some(bitbucket_api_url), Some(bitbucket_oauth_url)) =
        (endpoint, bitbucket_api_url, bitbucket_oauth_url)
    else {
        return Err(diags);
    };
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(ProviderConfig {
        endpoint,
        api_key,
        account_id,
        org_id,
        project_id,
        bitbucket_api_url,
        bitbucket_oauth_url,
        validate_credentials,
        max_retries,
        request_timeout,
    })
}

/// Everything resources share after `ConfigureProvider`: configuration,
/// API clients and the credential-check cache. Built once per process.
#[derive(Debug)]
pub struct Services {
    pub config: ProviderConfig,
    pub sei: SeiClient,
    /// Refresh reads, list resources and name checks of every integration
    /// type: one snapshot of the account, one call per page.
    pub records: RecordReader,
    pub bitbucket: BitbucketClient,
    pub oauth: OAuthClient,
    pub validator: CredentialValidator,
    /// The Data Center check; each integration names its own server.
    pub datacenter: ServerValidator,
    /// Names planned by this process, and who holds them in SEI.
    pub names: crate::names::NameIndex,
    /// The outcome of the SEI connection check, once it is not transient.
    sei_checked: tokio::sync::Mutex<Option<Result<(), SeiError>>>,
}

impl Services {
    pub fn new(config: ProviderConfig) -> Result<Arc<Services>, ClientSetupError> {
        let policy = HttpPolicy {
            max_retries: config.max_retries,
            request_timeout: config.request_timeout,
        };
        let sei = SeiClient::new(
            config.endpoint.clone(),
            SeiAuth::from_key(config.api_key.clone()),
            SeiScope {
                account_id: config.account_id.clone(),
                org_id: config.org_id.clone(),
                project_id: config.project_id.clone(),
            },
            policy.clone(),
        )?;
        let bitbucket = BitbucketClient::new(config.bitbucket_api_url.clone(), policy.clone())?;
        let oauth = OAuthClient::new(config.bitbucket_oauth_url.clone(), policy.clone())?;
        let datacenter = ServerValidator::new(DataCenterClient::new(policy)?);
        let validator = CredentialValidator::new(bitbucket.clone());
        let records = RecordReader::new(sei.clone());
        Ok(Arc::new(Services {
            config,
            records,
            names: crate::names::NameIndex::new(),
            sei,
            bitbucket,
            oauth,
            validator,
            datacenter,
            sei_checked: tokio::sync::Mutex::new(None),
        }))
    }

    /// This process changed record `id`: the snapshot no longer speaks for
    /// it.
    pub fn invalidate(&self, id: &str) {
        self.records.invalidate(id);
    }

    /// Checks once per process that SEI answers this endpoint, key and
    /// account, so a plan that would create fails before apply writes
    /// anything. Concurrent callers wait for the one call; a transient
    /// failure is not kept.
    pub async fn check_sei(&self, cancel: &tokio_util::sync::CancellationToken) -> Result<(), SeiError> {
        if self.records.answered() {
            // A refresh already proved the connection.
            return Ok(());
        }
        let mut slot = self.sei_checked.lock().await;
        if let Some(outcome) = slot.as_ref() {
            return outcome.clone();
        }
        let outcome = self.sei.probe(cancel).await;
        let transient = matches!(
            outcome,
            Err(SeiError::RateLimited { .. } | SeiError::Server { .. } | SeiError::Transport(_))
        );
        if !transient {
            *slot = Some(outcome.clone());
        }
        outcome
    }
}

/// The provider as Terraform sees it, minus the wire.
pub struct SeiProvider {
    schema: Schema,
}

impl Default for SeiProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl SeiProvider {
    pub fn new() -> Self {
        SeiProvider {
            schema: provider_schema(),
        }
    }
}

impl Provider for SeiProvider {
    type Services = Services;

    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: "sei",
            source: "sei-oss/sei",
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_provider_config(config)
    }

    fn configure(&self, config: &Value) -> Result<Arc<Services>, Diagnostics> {
        let env = |k: &str| std::env::var(k).ok();
        let resolved = resolve_provider_config(config, &env)?;
        tracing::debug!(
            endpoint = %crate::clients::sei::redacted(&resolved.endpoint),
            bitbucket = %crate::clients::sei::redacted(&resolved.bitbucket_api_url),
            "configuring the sei provider"
        );
        Services::new(resolved).map_err(|e| Diagnostic::error("Cannot set up the API clients", e.to_string()).into())
    }

    fn resources(&self) -> Vec<Arc<dyn DynResource<Services>>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource<Services>>> {
        crate::data_sources::all()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn DynEphemeralResource<Services>>> {
        crate::ephemeral::all()
    }

    fn list_resources(&self) -> Vec<Arc<dyn tfplugin::framework::DynListResource<Services>>> {
        crate::list_resources::all()
    }
}

/// What resources, data sources and ephemeral resources get with each call.
pub type Ctx = tfplugin::framework::Ctx<Services>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_matches_its_schema() {
        let p = SeiProvider::new();
        for r in p.resources() {
            r.check_model().unwrap_or_else(|e| panic!("{}: {e}", r.type_name()));
        }
        for d in p.data_sources() {
            d.check_model().unwrap_or_else(|e| panic!("{}: {e}", d.type_name()));
        }
        for e in p.ephemeral_resources() {
            e.check_model().unwrap_or_else(|err| panic!("{}: {err}", e.type_name()));
        }
        for l in p.list_resources() {
            l.check_model()
                .unwrap_or_else(|err| panic!("list {}: {err}", l.type_name()));
        }
        assert_eq!(
            p.resources().len() + p.data_sources().len() + p.ephemeral_resources().len(),
            7
        );
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn missing_key_names_attribute_and_variable() {
        let err = resolve_provider_config(&Value::Null, &no_env).unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.path, Some(AttributePath::attr("api_key")));
        assert!(d.detail.contains("api_key") && d.detail.contains("SEI_API_KEY"));
    }

    #[test]
    fn environment_fills_every_attribute() {
        let env = |k: &str| match k {
            "SEI_API_KEY" => Some("pat.x".into()),
            "SEI_ENDPOINT" => Some("http://127.0.0.1:9/sei/api".into()),
            "SEI_MAX_RETRIES" => Some("2".into()),
            "SEI_REQUEST_TIMEOUT" => Some("1m".into()),
            "SEI_VALIDATE_CREDENTIALS" => Some("false".into()),
            "SEI_ACCOUNT_ID" => Some("acct".into()),
            _ => None,
        };
        let c = resolve_provider_config(&Value::Null, &env).unwrap();
        assert_eq!(c.endpoint.as_str(), "http://127.0.0.1:9/sei/api");
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.request_timeout, Duration::from_secs(60));
        assert!(!c.validate_credentials);
        assert_eq!(c.account_id.as_deref(), Some("acct"));
    }

    #[test]
    fn bad_values_fail_at_their_paths() {
        let config = Value::object([
            ("endpoint", Value::string("not a url")),
            ("max_retries", Value::int(-1)),
            ("request_timeout", Value::string("soon")),
        ]);
        let diags = validate_provider_config(&config);
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, ["endpoint", "max_retries", "request_timeout"]);
    }

    #[test]
    fn identifiers_with_control_characters_fail_on_their_own_attribute() {
        let env = |k: &str| (k == "SEI_API_KEY").then(|| "k".to_string());
        let config = Value::object([
            ("account_id", Value::string("acct\u{7}")),
            ("org_id", Value::string("default\n")),
        ]);
        let err = resolve_provider_config(&config, &env).unwrap_err();
        let paths: Vec<String> = err
            .iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect();
        assert!(paths.contains(&"account_id".to_string()), "{paths:?}");
        assert!(paths.contains(&"org_id".to_string()), "{paths:?}");
        assert!(!paths.contains(&"endpoint".to_string()), "{paths:?}");
        let from_env = |k: &str| match k {
            "SEI_API_KEY" => Some("k".to_string()),
            "SEI_PROJECT_ID" => Some("proj\n".to_string()),
            _ => None,
        };
        let err = resolve_provider_config(&Value::Null, &from_env).unwrap_err();
        assert_eq!(err.0[0].path, Some(AttributePath::attr("project_id")));
        assert!(err.0[0].detail.contains("SEI_PROJECT_ID"), "{}", err.0[0].detail);
    }

    #[test]
    fn an_endpoint_with_a_query_is_refused_without_echoing_it() {
        let env = |k: &str| (k == "SEI_API_KEY").then(|| "k".to_string());
        for endpoint in ["https://sei.example/api?token=s3cret", "https://sei.example/api#s3cret"] {
            let config = Value::object([("endpoint", Value::string(endpoint))]);
            let err = resolve_provider_config(&config, &env).unwrap_err();
            assert_eq!(err.0[0].path, Some(AttributePath::attr("endpoint")));
            let text = format!("{} {}", err.0[0].summary, err.0[0].detail);
            assert!(!text.contains("s3cret"), "{text}");
        }
    }
}
