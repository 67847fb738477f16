//! The `provider "sei"` block: a typed model, and each setting declared once
//! with its attribute, its environment variable, its default and its
//! description, so the schema, the fallbacks and the messages cannot
//! disagree.

use std::time::Duration;

use url::Url;

use tfplugin::codec::{AttributePath, Number, Type, Value};
use tfplugin::diag::Diagnostics;
use tfplugin::schema::validators::{parse_go_duration, GoDuration, HttpUrl, IntRange, NoControlChars};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::{Model, Val};

use crate::clients::Trust;
use crate::secret::Secret;

pub const DEFAULT_ENDPOINT: &str = "https://app.harness.io/gateway/sei/api";
pub const DEFAULT_BITBUCKET_API_URL: &str = "https://api.bitbucket.org/2.0";
pub const DEFAULT_BITBUCKET_OAUTH_URL: &str = "https://bitbucket.org/site/oauth2";
pub const DEFAULT_MAX_RETRIES: u32 = 5;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// One attempt longer than this is a typo (`999h`), not a setting: with
/// retries it would hold a plan for days.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
/// With waits capped at 30 s, 20 retries already span about ten minutes.
pub const MAX_RETRIES: u32 = 20;

/// One provider setting: its attribute and the environment variable it
/// falls back to when the block leaves it out.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub attr: &'static str,
    pub env: &'static str,
}

pub const ENDPOINT: Setting = Setting {
    attr: "endpoint",
    env: "SEI_ENDPOINT",
};
pub const API_KEY: Setting = Setting {
    attr: "api_key",
    env: "SEI_API_KEY",
};
pub const ACCOUNT_ID: Setting = Setting {
    attr: "account_id",
    env: "SEI_ACCOUNT_ID",
};
pub const ORG_ID: Setting = Setting {
    attr: "org_id",
    env: "SEI_ORG_ID",
};
pub const PROJECT_ID: Setting = Setting {
    attr: "project_id",
    env: "SEI_PROJECT_ID",
};
pub const BITBUCKET_API_URL: Setting = Setting {
    attr: "bitbucket_api_url",
    env: "BITBUCKET_API_URL",
};
pub const BITBUCKET_OAUTH_URL: Setting = Setting {
    attr: "bitbucket_oauth_url",
    env: "BITBUCKET_OAUTH_URL",
};
pub const VALIDATE_CREDENTIALS: Setting = Setting {
    attr: "validate_credentials",
    env: "SEI_VALIDATE_CREDENTIALS",
};
pub const MAX_RETRIES_SETTING: Setting = Setting {
    attr: "max_retries",
    env: "SEI_MAX_RETRIES",
};
pub const REQUEST_TIMEOUT: Setting = Setting {
    attr: "request_timeout",
    env: "SEI_REQUEST_TIMEOUT",
};
pub const RETRY_MAX_WAIT: Setting = Setting {
    attr: "retry_max_wait",
    env: "SEI_RETRY_MAX_WAIT",
};
pub const CA_CERT_FILE: Setting = Setting {
    attr: "ca_cert_file",
    env: "SEI_CA_CERT_FILE",
};

/// Every setting, in schema order.
pub const SETTINGS: &[Setting] = &[
    ENDPOINT,
    API_KEY,
    ACCOUNT_ID,
    ORG_ID,
    PROJECT_ID,
    BITBUCKET_API_URL,
    BITBUCKET_OAUTH_URL,
    VALIDATE_CREDENTIALS,
    MAX_RETRIES_SETTING,
    REQUEST_TIMEOUT,
    RETRY_MAX_WAIT,
    CA_CERT_FILE,
];

pub fn provider_schema() -> Schema {
    let s = Type::String;
    let attr = |setting: Setting, ty: Type, what: String| {
        Attribute::optional(setting.attr, ty).describe(format!("{what} Environment: `{}`.", setting.env))
    };
    Schema::new(
        0,
        Block::new("Manages Harness SEI Bitbucket Cloud and Bitbucket Data Center integrations, and checks Bitbucket credentials live at plan time. Every attribute can also be set through its environment variable.")
            .attr(attr(ENDPOINT, s.clone(), format!("Base URL of the SEI API. Default: `{DEFAULT_ENDPOINT}`.")).validate(HttpUrl))
            .attr(attr(API_KEY, s.clone(), "SEI API key or Harness platform token (`pat.…`/`sat.…`, sent as `x-api-key`; any other key is sent as `Authorization: ApiKey`). Required at plan time, never at validate time.".into()).sensitive())
            .attr(attr(ACCOUNT_ID, s.clone(), "Harness account identifier, sent as the `Harness-Account` header.".into()).validate(NoControlChars))
            .attr(attr(ORG_ID, s.clone(), "Harness organization identifier, sent as the `orgIdentifier` query parameter.".into()).validate(NoControlChars))
            .attr(attr(PROJECT_ID, s.clone(), "Harness project identifier, sent as the `projectIdentifier` query parameter.".into()).validate(NoControlChars))
            .attr(attr(BITBUCKET_API_URL, s.clone(), format!("Bitbucket Cloud REST API base URL. Default: `{DEFAULT_BITBUCKET_API_URL}`.")).validate(HttpUrl))
            .attr(attr(BITBUCKET_OAUTH_URL, s.clone(), format!("Bitbucket OAuth 2.0 base URL. Default: `{DEFAULT_BITBUCKET_OAUTH_URL}`.")).validate(HttpUrl))
            .attr(attr(VALIDATE_CREDENTIALS, Type::Bool, "Check Bitbucket credentials live at plan time. Default: `true`.".into()))
            .attr(attr(MAX_RETRIES_SETTING, Type::Number, format!("Retries after the first attempt for 429, 502, 503, 504, connection errors and lost answers of idempotent calls (0 to {MAX_RETRIES}). Default: `{DEFAULT_MAX_RETRIES}`.")).validate(IntRange { min: 0, max: i64::from(MAX_RETRIES) }))
            .attr(attr(RETRY_MAX_WAIT, s.clone(), "The longest single wait for a rate limit, as a duration such as `30s`. When SEI or Bitbucket asks for longer (a limit that resets in an hour), the call stops at once: a plan-time check becomes a warning, and any other call an error, that says when the limit resets. Default: `30s`.".into()).validate(GoDuration { min: Duration::from_secs(1), max: MAX_REQUEST_TIMEOUT }))
            .attr(attr(CA_CERT_FILE, s.clone(), "A PEM file of extra CA certificates to trust, or the self-signed certificate of one server, for every HTTPS call (SEI, Bitbucket Cloud and its OAuth endpoint, every Data Center `url`), on top of the operating system's trust store (`SSL_CERT_FILE` and `SSL_CERT_DIR` included). Nothing turns verification off.".into()).validate(CaCertFile))
            .attr(attr(REQUEST_TIMEOUT, s, "Time limit of each HTTP attempt, as a duration such as `30s` or `1m`. Default: `30s`.".into()).validate(GoDuration { min: Duration::from_millis(1), max: MAX_REQUEST_TIMEOUT })),
    )
}

/// The block as written: every field is the attribute of the same name.
#[derive(Debug, Clone, Default, PartialEq, Model)]
pub struct ProviderModel {
    pub endpoint: Val<String>,
    pub api_key: Val<Secret>,
    pub account_id: Val<String>,
    pub org_id: Val<String>,
    pub project_id: Val<String>,
    pub bitbucket_api_url: Val<String>,
    pub bitbucket_oauth_url: Val<String>,
    pub validate_credentials: Val<bool>,
    pub max_retries: Val<Number>,
    pub request_timeout: Val<String>,
    pub retry_max_wait: Val<String>,
    pub ca_cert_file: Val<String>,
}

/// `ca_cert_file` names a readable PEM file with at least one certificate.
struct CaCertFile;

impl tfplugin::schema::Validator for CaCertFile {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(file) = value.as_str().filter(|f| !f.is_empty()) else {
            return;
        };
        if let Err(e) = crate::clients::tls::read_ca_file(std::path::Path::new(file)) {
            diags.error_at(path.clone(), "Unusable CA certificate file", format!("{path}: {e}."));
        }
    }
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
    pub retry_max_wait: Duration,
    /// The system's trust store plus `ca_cert_file`.
    pub trust: Trust,
}

/// Warnings at `ConfigureProvider`, on the attribute (set in the block or
/// by its environment variable): each URL that would carry a secret in
/// clear text across a network, and a Bitbucket API base without `/2.0`.
pub fn configure_warnings(config: &ProviderConfig) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (setting, url, what) in [
        (ENDPOINT, &config.endpoint, "the SEI API key"),
        (BITBUCKET_API_URL, &config.bitbucket_api_url, "Bitbucket credentials"),
        (
            BITBUCKET_OAUTH_URL,
            &config.bitbucket_oauth_url,
            "OAuth client secrets and tokens",
        ),
    ] {
        let shown = crate::clients::sei::redacted(url);
        crate::integration::warn_clear_text(&shown, what, AttributePath::attr(setting.attr), &mut diags);
    }
    let api = &config.bitbucket_api_url;
    if !api.path().trim_end_matches('/').ends_with("/2.0") {
        diags.warning_at(
            AttributePath::attr(BITBUCKET_API_URL.attr),
            "Not Bitbucket Cloud's API base",
            format!(
                "bitbucket_api_url (or BITBUCKET_API_URL) is {}, whose path does not end in /2.0. Bitbucket Cloud's REST API base is {DEFAULT_BITBUCKET_API_URL}: without /2.0 every credential check asks a path Bitbucket does not serve, and answers 404.",
                crate::clients::sei::redacted(api)
            ),
        );
    }
    diags
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

/// A setting's value as text, and where it came from, for messages.
struct Raw {
    text: String,
    /// `None`: the provider block; `Some(var)`: the environment.
    from_env: Option<&'static str>,
}

impl Raw {
    /// How messages name the place the value came from.
    fn source(&self, setting: Setting) -> String {
        match self.from_env {
            None => setting.attr.to_string(),
            Some(var) => format!("{var} (the environment fallback of {})", setting.attr),
        }
    }

    fn has_space_or_control(&self) -> bool {
        self.text.chars().any(|c| c.is_whitespace() || c.is_control())
    }
}

/// Reads the block's settings, with the environment behind them.
struct Resolver<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    diags: Diagnostics,
}

impl Resolver<'_> {
    /// The value of `setting`: the block's when it sets one, else the
    /// environment's (blank counts as unset). An unknown value is an error:
    /// the provider needs every setting to plan.
    fn raw<T>(&mut self, setting: Setting, value: &Val<T>, text: impl Fn(&T) -> String) -> Option<Raw> {
        match value {
            Val::Known(v) if !text(v).is_empty() => Some(Raw {
                text: text(v),
                from_env: None,
            }),
            Val::Unknown => {
                self.diags.error_at(
                    AttributePath::attr(setting.attr),
                    "Provider configuration is not known yet",
                    format!(
                        "{} depends on a value that is only known after apply; the sei provider needs it to plan.",
                        setting.attr
                    ),
                );
                None
            }
            _ => (self.env)(setting.env)
                .filter(|v| !v.trim().is_empty())
                .map(|text| Raw {
                    text,
                    from_env: Some(setting.env),
                }),
        }
    }

    fn error(&mut self, setting: Setting, summary: &str, detail: String) {
        self.diags.error_at(AttributePath::attr(setting.attr), summary, detail);
    }

    /// A base URL: absolute http(s), no user info, no query or fragment.
    /// Neither user info nor a query (where tokens hide) is ever echoed.
    fn url(&mut self, setting: Setting, value: &Val<String>, default: &str) -> Option<Url> {
        let raw = self.raw(setting, value, String::clone).unwrap_or(Raw {
            text: default.to_string(),
            from_env: None,
        });
        let source = raw.source(setting);
        if raw.has_space_or_control() {
            self.error(
                setting,
                "Invalid URL",
                format!("{source} contains whitespace or a control character (a trailing newline?)."),
            );
            return None;
        }
        let parsed = Url::parse(&raw.text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        match parsed {
            Some(u) if !u.username().is_empty() || u.password().is_some() => {
                let host = u.host_str().unwrap_or_default().to_string();
                self.error(setting, "Credentials in a URL", format!("{source} carries user info (user:password@). Put credentials in api_key (SEI_API_KEY) or the credential blocks, never in a URL; host {host:?}."));
                None
            }
            Some(u) if u.query().is_some() || u.fragment().is_some() => {
                self.error(setting, "Invalid URL", format!("{source} must be a base URL without a query string or fragment (`?…`, `#…`): the provider adds its own path and query. Credentials go in api_key (SEI_API_KEY), never in a URL."));
                None
            }
            Some(u) => Some(u),
            None => {
                let shown = if raw.text.contains('@') {
                    "<a URL with user info>"
                } else {
                    raw.text.as_str()
                };
                let detail = format!("{source} must be an absolute http:// or https:// URL; got {shown:?}.");
                self.error(setting, "Invalid URL", detail);
                None
            }
        }
    }

    /// An identifier sent in a header or the query string: a newline or a
    /// space there is a mistake (a trailing newline from a file), never
    /// something to send, and never an `endpoint` problem.
    fn identifier(&mut self, setting: Setting, value: &Val<String>) -> Option<String> {
        let raw = self.raw(setting, value, String::clone)?;
        if raw.has_space_or_control() {
            let detail = format!("{} contains whitespace or a control character (a trailing newline from a file or a heredoc?). Remove it.", raw.source(setting));
            self.error(setting, "Invalid identifier", detail);
        }
        Some(raw.text)
    }

    /// The key: required here (never at validate), and an empty one in the
    /// block is a mistake (an unset variable), not a request to read the
    /// environment.
    fn api_key(&mut self, value: &Val<Secret>) -> Secret {
        if matches!(value, Val::Known(k) if k.expose().is_empty()) {
            self.error(
                API_KEY,
                "Empty SEI API key",
                "api_key is set to an empty string. Set it to the key, or remove the attribute to use SEI_API_KEY."
                    .into(),
            );
            return Secret::default();
        }
        let Some(raw) = self.raw(API_KEY, value, |k| k.expose().to_string()) else {
            if !value.is_unknown() {
                self.error(API_KEY, "Missing SEI API key", "The sei provider needs an API key to reach SEI. Set `api_key` in the provider block, or the SEI_API_KEY environment variable.".into());
            }
            return Secret::default();
        };
        if raw.has_space_or_control() {
            let detail = format!("{} contains whitespace or a control character (a trailing newline from a file or a heredoc?). Remove it.", raw.source(API_KEY));
            self.error(API_KEY, "Invalid SEI API key", detail);
        }
        Secret::new(raw.text)
    }

    fn validate_credentials(&mut self, value: &Val<bool>) -> bool {
        let Some(raw) = self.raw(VALIDATE_CREDENTIALS, value, bool::to_string) else {
            return true;
        };
        match raw.text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                let detail = format!(
                    "{} must be true or false; got {:?}.",
                    raw.source(VALIDATE_CREDENTIALS),
                    raw.text
                );
                self.error(VALIDATE_CREDENTIALS, "Invalid boolean", detail);
                true
            }
        }
    }

    fn max_retries(&mut self, value: &Val<Number>) -> u32 {
        let Some(raw) = self.raw(MAX_RETRIES_SETTING, value, Number::to_string) else {
            return DEFAULT_MAX_RETRIES;
        };
        match raw.text.trim().parse::<u32>() {
            Ok(n) if n <= MAX_RETRIES => n,
            _ => {
                let detail = format!(
                    "{} must be a whole number from 0 to {MAX_RETRIES}; got {:?}.",
                    raw.source(MAX_RETRIES_SETTING),
                    raw.text
                );
                self.error(MAX_RETRIES_SETTING, "Value out of range", detail);
                DEFAULT_MAX_RETRIES
            }
        }
    }

    /// The system's trust store, plus `ca_cert_file`'s certificates.
    fn trust(&mut self, value: &Val<String>) -> Trust {
        let Some(raw) = self.raw(CA_CERT_FILE, value, String::clone) else {
            return Trust::default();
        };
        match Trust::with_ca_file(std::path::Path::new(raw.text.trim())) {
            Ok(trust) => trust,
            Err(e) => {
                let detail = format!("{} cannot be used: {e}.", raw.source(CA_CERT_FILE));
                self.error(CA_CERT_FILE, "Unusable CA certificate file", detail);
                Trust::default()
            }
        }
    }

    fn request_timeout(&mut self, value: &Val<String>) -> Duration {
        self.duration(REQUEST_TIMEOUT, value, DEFAULT_REQUEST_TIMEOUT)
    }

    fn duration(&mut self, setting: Setting, value: &Val<String>, default: Duration) -> Duration {
        let Some(raw) = self.raw(setting, value, String::clone) else {
            return default;
        };
        match parse_go_duration(&raw.text) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                let detail = format!(
                    "{} must be a duration such as \"30s\" or \"1m\"; got {:?}.",
                    raw.source(setting),
                    raw.text
                );
                self.error(setting, "Invalid duration", detail);
                default
            }
        }
    }
}

/// Resolves the block, the environment and the defaults into one immutable
/// [`ProviderConfig`]. `env` is injected so tests need not touch the process
/// environment.
/// The provider block as its typed model. A block as Terraform sends it has
/// every attribute; one built by hand (tests, other clients) may leave some
/// out, which means null.
fn decode_block(config: &Value) -> Result<ProviderModel, Diagnostics> {
    let mut shaped = config.clone();
    if let Value::Object(attrs) = &mut shaped {
        for setting in SETTINGS {
            attrs.entry(setting.attr.to_string()).or_insert(Value::Null);
        }
    }
    tfplugin::model::decode::<ProviderModel>(&shaped)
        .map(Option::unwrap_or_default)
        .map_err(|e| tfplugin::framework::internal_error(format!("the provider block does not fit its model: {e}")))
}

pub fn resolve_provider_config(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProviderConfig, Diagnostics> {
    let mut diags = validate_provider_config(config);
    let model = match decode_block(config) {
        Ok(m) => m,
        Err(e) => {
            diags.extend(e);
            return Err(diags);
        }
    };
    let mut r = Resolver {
        env,
        diags: Diagnostics::new(),
    };
    let resolved = (
        r.url(ENDPOINT, &model.endpoint, DEFAULT_ENDPOINT),
        r.api_key(&model.api_key),
        r.identifier(ACCOUNT_ID, &model.account_id),
        r.identifier(ORG_ID, &model.org_id),
        r.identifier(PROJECT_ID, &model.project_id),
        r.url(BITBUCKET_API_URL, &model.bitbucket_api_url, DEFAULT_BITBUCKET_API_URL),
        r.url(
            BITBUCKET_OAUTH_URL,
            &model.bitbucket_oauth_url,
            DEFAULT_BITBUCKET_OAUTH_URL,
        ),
        r.validate_credentials(&model.validate_credentials),
        r.max_retries(&model.max_retries),
        r.request_timeout(&model.request_timeout),
        r.duration(
            RETRY_MAX_WAIT,
            &model.retry_max_wait,
            crate::clients::http::DEFAULT_MAX_WAIT,
        ),
        r.trust(&model.ca_cert_file),
    );
    // The schema's validators and the resolver see the same mistakes in
    // the block; say each once.
    for d in r.diags.0 {
        if !diags.iter().any(|seen| seen.path == d.path) {
            diags.push(d);
        }
    }
    match resolved {
        (
            Some(endpoint),
            api_key,
            account_id,
            org_id,
            project_id,
            Some(bitbucket_api_url),
            Some(bitbucket_oauth_url),
            validate_credentials,
            max_retries,
            request_timeout,
            retry_max_wait,
            trust,
        ) if !diags.has_errors() => Ok(ProviderConfig {
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
            retry_max_wait,
            trust,
        }),
        _ => Err(diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_provider_model_matches_the_schema() {
        tfplugin::model::check_model::<ProviderModel>(&provider_schema()).unwrap();
    }

    #[test]
    fn an_unknown_setting_is_one_error_on_it() {
        let config = Value::object([("api_key", Value::unknown())]);
        let err = resolve_provider_config(&config, &no_env).unwrap_err();
        assert_eq!(err.0.len(), 1, "{err:?}");
        assert_eq!(err.0[0].summary, "Provider configuration is not known yet");
    }
}
