//! The one retry policy shared by every client.
//!
//! - 429, 502, 503 and 504 and connection errors are retried; a 500 never is
//!   (SEI answers a duplicate name with 500, and retrying cannot fix it).
//! - An idempotent request whose answer was lost (a timeout, a reset or a
//!   closed connection) is sent again; a create never is (its caller looks
//!   for the record that carries its marker instead).
//! - Full-jitter exponential backoff from 250 ms, capped at 30 s, unless the
//!   server says `Retry-After`.
//! - `max_retries` counts retries after the first attempt, and
//!   `request_timeout` bounds each attempt.
//! - Cancellation (Terraform's `StopProvider`) ends a wait at once.
//!
//! Written here rather than with a retry crate because the policy is small
//! and two of its rules (Retry-After per response, and the non-idempotent
//! create that must look before it retries) need the response in hand.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

use super::tls::{cert_problem, CertProblem, Trust};
use tokio_util::sync::CancellationToken;

pub const BACKOFF_BASE: Duration = Duration::from_millis(250);
pub const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// `retry_max_wait`'s default: a plan waits this long at most for one rate
/// limit, and stops with the reset time when asked to wait longer.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(30);

/// One closed window per credential or key (and host): when a 429 says to
/// wait, every pending call of that credential waits for the same moment
/// instead of spending its own retries against the same closed window.
#[derive(Debug, Default)]
pub struct RateGates(std::sync::Mutex<HashMap<String, std::time::Instant>>);

impl RateGates {
    /// How long calls of `key` must still wait.
    fn remaining(&self, key: &str) -> Duration {
        let now = std::time::Instant::now();
        self.0
            .lock()
            .ok()
            .and_then(|g| g.get(key).copied())
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now))
    }

    fn close(&self, key: &str, wait: Duration) {
        if let Ok(mut g) = self.0.lock() {
            let until = std::time::Instant::now() + wait;
            let entry = g.entry(key.to_string()).or_insert(until);
            *entry = (*entry).max(until);
        }
    }
}

/// How long the server asks a client to wait: Bitbucket's
/// `X-RateLimit-Reset` (seconds until the window resets, often sent without
/// `Retry-After`), else `Retry-After` in seconds or as an HTTP date.
pub fn server_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(secs) = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let raw = header(reqwest::header::RETRY_AFTER.as_str())?;
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// "gave up after 2 attempt(s)", or, for a call that an earlier 429 of the
/// same credential kept from being sent, that.
pub fn attempts_note(attempts: u32) -> String {
    if attempts == 0 {
        "not asked again: an earlier answer for the same credential closed the window".to_string()
    } else {
        format!("gave up after {attempts} attempt(s)")
    }
}

/// "; the limit resets at 14:05 UTC, in 50 minutes", for messages.
pub fn reset_note(reset_in: Option<Duration>) -> String {
    let Some(wait) = reset_in else {
        return String::new();
    };
    let at = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
    let minutes = wait.as_secs().div_ceil(60);
    format!(
        "; the limit resets at {} UTC, in {minutes} minute{}",
        at.format("%H:%M"),
        if minutes == 1 { "" } else { "s" }
    )
}

#[derive(Debug, Clone)]
pub struct HttpPolicy {
    pub max_retries: u32,
    pub request_timeout: Duration,
    /// Which servers HTTPS calls trust.
    pub trust: Trust,
    /// The longest single wait a server may ask for (`retry_max_wait`):
    /// asked for longer, the call stops at once and says when the limit
    /// resets.
    pub max_wait: Duration,
    /// The waits of every credential and key, shared by their calls.
    pub gates: Arc<RateGates>,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            max_retries: 5,
            request_timeout: Duration::from_secs(30),
            trust: Trust::default(),
            max_wait: DEFAULT_MAX_WAIT,
            gates: Arc::default(),
        }
    }
}

/// Failures below HTTP: nothing usable came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("cancelled: Terraform was interrupted before an answer came")]
    Cancelled,
    /// The request may have been processed: the answer never came.
    #[error("no response within the request timeout ({attempts} attempt(s))")]
    Timeout { attempts: u32 },
    #[error("cannot connect after {attempts} attempt(s): {message}")]
    Connect { attempts: u32, message: String },
    /// The connection was reset or closed before an answer, on every
    /// attempt.
    #[error("the connection was lost before an answer, {attempts} attempt(s): {message}")]
    Dropped { attempts: u32, message: String },
    #[error("HTTP request failed: {message}")]
    Other { message: String },
    /// An earlier answer closed this credential's window for longer than
    /// `retry_max_wait`: not asked again until it reopens.
    #[error("rate limited{}", reset_note(Some(*.reset_in)))]
    RateLimited { reset_in: Duration },
    /// The server's certificate is not trusted: retrying cannot help, and
    /// neither can a satellite.
    #[error("cannot connect securely to {host}: {problem}. If {host} uses a private CA, a self-signed certificate or sits behind a TLS-inspecting proxy, give that CA's certificate (PEM) in the provider's ca_cert_file (SEI_CA_CERT_FILE){}", ca_file_note(.ca_file))]
    Tls {
        host: String,
        problem: CertProblem,
        ca_file: Option<String>,
    },
}

/// What a failed status means, read the same way for every API this
/// provider calls; each client then words it with its service's message
/// and quirks (a Data Center 401 that names a user, Bitbucket's scope lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 401: the credential is not accepted.
    Unauthorized,
    /// 403: accepted, but not allowed this.
    Forbidden,
    NotFound,
    /// 410: the endpoint or object was removed.
    Gone,
    /// 429, once the retries are spent.
    RateLimited,
    /// Anything else: the service failed, or refused the request's form.
    Other(u16),
}

impl Failure {
    pub fn of(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Failure::Unauthorized,
            403 => Failure::Forbidden,
            404 => Failure::NotFound,
            410 => Failure::Gone,
            429 => Failure::RateLimited,
            code => Failure::Other(code),
        }
    }
}

fn ca_file_note(ca_file: &Option<String>) -> String {
    match ca_file {
        Some(f) => format!("; {f} is given, and does not hold the CA that signed this certificate"),
        None => String::new(),
    }
}

pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// The wait before retry number `retry` (0-based): a uniform draw from
/// `[0, min(cap, base * 2^retry))`, or the server's own wait (which the
/// caller has already held to `retry_max_wait`).
pub fn backoff_delay(retry: u32, server_wait: Option<Duration>) -> Duration {
    if let Some(after) = server_wait {
        return after;
    }
    let ceiling = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(retry.min(16)))
        .min(BACKOFF_CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=millis))
}

/// Sleeps, unless cancelled first.
pub async fn wait(delay: Duration, cancel: &CancellationToken) -> Result<(), TransportError> {
    tokio::select! {
        _ = cancel.cancelled() => Err(TransportError::Cancelled),
        _ = tokio::time::sleep(delay) => Ok(()),
    }
}

/// One attempt (number `attempt`, from 1), bounded by the timeout and the
/// cancellation token.
pub async fn send_once(
    request: RequestBuilder,
    timeout: Duration,
    cancel: &CancellationToken,
    attempt: u32,
) -> Result<Response, AttemptError> {
    let (client, built) = request.timeout(timeout).build_split();
    let request = built.map_err(|e| AttemptError::Build(describe(&e)))?;
    let method = request.method().clone();
    let url = loggable(request.url());
    let credential = credential_label(request.headers());
    let started = std::time::Instant::now();
    let send = client.execute(request);
    tokio::select! {
        _ = cancel.cancelled() => Err(AttemptError::Cancelled),
        result = send => {
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match &result {
                Ok(resp) => tracing::debug!(method = %method, url = %url, status = resp.status().as_u16(), duration_ms = ms, attempt, credential = %credential, "HTTP call"),
                Err(e) => tracing::debug!(method = %method, url = %url, duration_ms = ms, attempt, credential = %credential, error = %describe(e), "HTTP call failed"),
            }
            result.map_err(|e| {
            if let Some(problem) = cert_problem(&e) {
                AttemptError::Tls(problem)
            } else if e.is_timeout() {
                AttemptError::Timeout
            } else if e.is_connect() {
                AttemptError::Connect(describe(&e))
            } else if e.is_builder() {
                AttemptError::Build(describe(&e))
            } else {
                AttemptError::Dropped(describe(&e))
            }
        })
        }
    }
}

/// One path segment, percent-encoded (a space as `%20`, not `+`): names
/// from configuration end up in URL paths.
pub(crate) fn path_segment(s: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Which credential a request carries, as logs may show it: the username
/// of Basic auth, or the kind of token or key. Never a secret.
pub(crate) fn credential_label(headers: &reqwest::header::HeaderMap) -> String {
    use base64::Engine;
    if headers.contains_key("x-api-key") {
        return "SEI key (Harness platform token)".to_string();
    }
    let Some(auth) = headers
        .get(reqwest::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return "none".to_string();
    };
    let (scheme, rest) = auth.split_once(' ').unwrap_or((auth, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let user = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.split_once(':').map(|(u, _)| u.to_string()));
        return match user {
            Some(u) => format!("user {u}"),
            None => "Basic credential".to_string(),
        };
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return "Bearer token".to_string();
    }
    if scheme.eq_ignore_ascii_case("apikey") {
        return "SEI key (API key)".to_string();
    }
    "other".to_string()
}

/// A URL as logs may show it: never user info, the query string or the
/// fragment.
pub(crate) fn loggable(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// How one attempt failed, before the retry policy has had its say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    Cancelled,
    /// Sent, maybe processed, no answer.
    Timeout,
    /// Never reached the server: safe to retry anything.
    Connect(String),
    /// Sent, then the connection was reset or closed before an answer:
    /// maybe processed, like a timeout.
    Dropped(String),
    /// The request could not even be built (a header value with a control
    /// character): retrying cannot help.
    Build(String),
    /// The server's certificate is not trusted.
    Tls(CertProblem),
}

/// reqwest's error text without the URL's query string; our URLs never carry
/// secrets, but the error chain is what users see.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// What one attempt came to, for [`with_retries`].
pub enum Step<T> {
    /// Finished: the answer, or a failure the caller has already typed.
    Done(T),
    /// Send again after the backoff (or the server's own wait), for `why`.
    Again { why: String, server_wait: Option<Duration> },
}

/// The one retry loop every request goes through: it numbers the
/// attempts, waits between them (full-jitter backoff, or the server's
/// `Retry-After`), logs every retry, and ends a wait at once on
/// cancellation. `attempt(n, retries_left)` makes attempt `n` and decides
/// what it came to; with no retry left it must not answer `Again`. What
/// differs between requests is only that decision: an idempotent request
/// is simply sent again ([`send_idempotent`]), a create first looks for the
/// record its lost answer may have made (`SeiClient::create`).
pub async fn with_retries<T, E, F, Fut>(policy: &HttpPolicy, cancel: &CancellationToken, mut attempt: F) -> Result<T, E>
where
    E: From<TransportError>,
    F: FnMut(u32, bool) -> Fut,
    Fut: std::future::Future<Output = Result<Step<T>, E>>,
{
    let mut n = 0u32;
    loop {
        n += 1;
        let retries_left = n <= policy.max_retries;
        match attempt(n, retries_left).await? {
            Step::Done(out) => return Ok(out),
            Step::Again { why, server_wait } => {
                let delay = backoff_delay(n - 1, server_wait);
                let waits = if server_wait.is_some() {
                    "as the server asked"
                } else {
                    "full-jitter backoff"
                };
                let attempts = policy.max_retries + 1;
                if delay > Duration::from_secs(1) {
                    // Never silent: a wait a person would notice is said.
                    let secs = delay.as_secs();
                    tracing::info!(why = %why, attempt = n, attempts, wait_s = secs, waits, "waiting {secs} s before attempt {} of {attempts}", n + 1);
                } else {
                    tracing::debug!(why = %why, attempt = n, attempts, delay_ms = delay.as_millis() as u64, waits, "retrying");
                }
                wait(delay, cancel).await?;
            }
        }
    }
}

/// Sends an idempotent request under the retry policy. Returns the final
/// response (which may still be a 429 or 503 once retries are spent) and the
/// number of attempts made. A lost answer (timeout, reset, closed
/// connection) is retried like a 503: sending a GET, PUT, DELETE or list
/// again gives the same result. Creates never come here (`SeiClient::create`).
pub async fn send_idempotent(
    build: impl Fn() -> RequestBuilder,
    policy: &HttpPolicy,
    cancel: &CancellationToken,
) -> Result<(Response, u32), TransportError> {
    let build = &build;
    with_retries(policy, cancel, move |n, retries_left| async move {
        let request = build();
        let gate = gate_key(&request);
        let closed = policy.gates.remaining(&gate);
        if closed > policy.max_wait {
            // The window is closed for longer than anyone should wait:
            // another call of this credential already heard so.
            return Err(TransportError::RateLimited { reset_in: closed });
        }
        wait_for_gate(policy, &gate, cancel).await?;
        let again = |why: String| Ok(Step::Again { why, server_wait: None });
        match send_once(request, policy.request_timeout, cancel, n).await {
            Ok(resp) if is_retryable_status(resp.status()) && retries_left => {
                let asked = server_wait(resp.headers());
                if let Some(long) = asked.filter(|w| *w > policy.max_wait) {
                    // Longer than anyone should wait in a plan: stop now, let
                    // the caller say when the limit resets, and spare the
                    // credential's other calls the same answer.
                    if resp.status() == StatusCode::TOO_MANY_REQUESTS {
                        policy.gates.close(&gate, long);
                    }
                    return Ok(Step::Done((resp, n)));
                }
                if let Some(w) = asked.filter(|_| resp.status() == StatusCode::TOO_MANY_REQUESTS) {
                    policy.gates.close(&gate, w);
                }
                Ok(Step::Again {
                    why: format!(
                        "{} answered HTTP {} ({gate})",
                        loggable(resp.url()),
                        resp.status().as_u16()
                    ),
                    server_wait: asked,
                })
            }
            Ok(resp) => Ok(Step::Done((resp, n))),
            Err(AttemptError::Cancelled) => Err(TransportError::Cancelled),
            Err(AttemptError::Build(message)) => Err(TransportError::Other { message }),
            Err(AttemptError::Tls(problem)) => Err(tls_error(&build(), problem, policy)),
            Err(AttemptError::Connect(message)) if retries_left => again(format!("connection failed: {message}")),
            Err(AttemptError::Timeout) if retries_left => again("no answer within the request timeout".into()),
            Err(AttemptError::Dropped(message)) if retries_left => {
                again(format!("connection lost before an answer: {message}"))
            }
            Err(AttemptError::Connect(message)) => Err(TransportError::Connect { attempts: n, message }),
            Err(AttemptError::Timeout) => Err(TransportError::Timeout { attempts: n }),
            Err(AttemptError::Dropped(message)) => Err(TransportError::Dropped { attempts: n, message }),
        }
    })
    .await
}

/// Whose window a request waits on: its host and its credential (or key).
fn gate_key(request: &RequestBuilder) -> String {
    let Some(built) = request.try_clone().and_then(|r| r.build().ok()) else {
        return String::new();
    };
    format!(
        "{} {}",
        built.url().host_str().unwrap_or_default(),
        credential_label(built.headers())
    )
}

/// Waits while another call of the same credential holds the window
/// closed (at most `retry_max_wait`: nothing closes it for longer).
async fn wait_for_gate(policy: &HttpPolicy, gate: &str, cancel: &CancellationToken) -> Result<(), TransportError> {
    let remaining = policy.gates.remaining(gate).min(policy.max_wait);
    if remaining.is_zero() {
        return Ok(());
    }
    if remaining > Duration::from_secs(1) {
        tracing::info!(credential = %gate, wait_s = remaining.as_secs(), "waiting {} s for the rate limit of {gate}, shared with its other calls", remaining.as_secs());
    }
    wait(remaining, cancel).await
}

/// What a client reads of a finished idempotent request.
#[derive(Debug)]
pub struct Exchange {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    /// At most [`BODY_LIMIT`] bytes of the body, as text.
    pub body: String,
    pub attempts: u32,
}

/// The most of a response body a client reads: far above any page these
/// APIs send, and a bound on what a proxy's endless answer can cost.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// [`send_idempotent`], then the status, headers and body (bounded).
pub async fn exchange(
    build: impl Fn() -> RequestBuilder,
    policy: &HttpPolicy,
    cancel: &CancellationToken,
) -> Result<Exchange, TransportError> {
    let (resp, attempts) = send_idempotent(build, policy, cancel).await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = read_bounded(resp, BODY_LIMIT).await;
    Ok(Exchange {
        status,
        headers,
        body,
        attempts,
    })
}

/// Up to `limit` bytes of the body; a connection lost mid-body keeps what
/// arrived, and the caller's decoding says it is incomplete.
pub async fn read_bounded(mut resp: Response, limit: usize) -> String {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() >= limit {
            bytes.truncate(limit);
            break;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// One GET of `url` with `policy`'s trust, proxies and timeout: the status,
/// or why no answer came (a certificate this machine does not trust, a
/// proxy or network problem). What `terraform-provider-sei --probe URL`
/// prints, to tell from the machine that runs Terraform whether it reaches
/// and trusts a server.
pub async fn probe(url: &str, policy: &HttpPolicy) -> Result<u16, ProbeFailure> {
    let url = reqwest::Url::parse(url).map_err(|e| ProbeFailure::Url(e.to_string()))?;
    let client = build_http_client(policy)?;
    let probe_policy = HttpPolicy {
        max_retries: 0,
        ..policy.clone()
    };
    let cancel = CancellationToken::new();
    let (resp, _) = send_idempotent(|| client.get(url.clone()), &probe_policy, &cancel).await?;
    Ok(resp.status().as_u16())
}

/// Why a probe got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeFailure {
    #[error("not a URL: {0}")]
    Url(String),
    #[error(transparent)]
    Setup(#[from] ClientSetupError),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// The HTTP client could not be built (TLS roots, resolver): a local
/// problem, reported at configure time.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientSetupError(#[from] reqwest::Error);

/// The TLS failure of a request to `request`'s host.
pub fn tls_error(request: &RequestBuilder, problem: CertProblem, policy: &HttpPolicy) -> TransportError {
    let host = request
        .try_clone()
        .and_then(|r| r.build().ok())
        .map(|r| r.url().host_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    TransportError::Tls {
        host,
        problem,
        ca_file: policy.trust.ca_file.as_ref().map(|p| p.display().to_string()),
    }
}

/// A client that trusts what `policy.trust` says, follows no redirect, and
/// goes through `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY` says otherwise
/// (reqwest reads them).
pub fn build_http_client(policy: &HttpPolicy) -> Result<reqwest::Client, ClientSetupError> {
    super::install_crypto_provider();
    Ok(reqwest::Client::builder()
        .user_agent(super::user_agent())
        .redirect(reqwest::redirect::Policy::none())
        .use_preconfigured_tls(policy.trust.client_config())
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_the_cap() {
        for retry in 0..20 {
            let d = backoff_delay(retry, None);
            let ceiling = BACKOFF_BASE.saturating_mul(2u32.saturating_pow(retry)).min(BACKOFF_CAP);
            assert!(d <= ceiling, "retry {retry}: {d:?} > {ceiling:?}");
        }
        assert_eq!(backoff_delay(3, Some(Duration::from_secs(7))), Duration::from_secs(7));
    }

    #[test]
    fn the_server_wait_prefers_the_rate_limit_reset_and_reads_both_retry_after_forms() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        assert_eq!(server_wait(&h), None);
        h.insert("retry-after", HeaderValue::from_static("120"));
        assert_eq!(server_wait(&h), Some(Duration::from_secs(120)));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("3000"));
        assert_eq!(
            server_wait(&h),
            Some(Duration::from_secs(3000)),
            "X-RateLimit-Reset wins"
        );
        let mut dated = HeaderMap::new();
        let later = (chrono::Utc::now() + chrono::Duration::seconds(600)).to_rfc2822();
        dated.insert("retry-after", HeaderValue::from_str(&later).unwrap());
        let w = server_wait(&dated).unwrap();
        assert!(w > Duration::from_secs(590) && w <= Duration::from_secs(600), "{w:?}");
        let note = reset_note(Some(Duration::from_secs(3000)));
        assert!(
            note.starts_with("; the limit resets at ") && note.ends_with(" UTC, in 50 minutes"),
            "{note}"
        );
        assert_eq!(reset_note(None), "");
    }

    #[test]
    fn one_closed_window_is_shared_by_a_credentials_calls() {
        let gates = RateGates::default();
        assert_eq!(gates.remaining("api user a"), Duration::ZERO);
        gates.close("api user a", Duration::from_secs(20));
        gates.close("api user a", Duration::from_secs(5));
        let left = gates.remaining("api user a");
        assert!(left > Duration::from_secs(19), "the later end wins: {left:?}");
        assert_eq!(
            gates.remaining("api user b"),
            Duration::ZERO,
            "another credential is not held"
        );
    }

    #[test]
    fn the_credential_label_never_carries_a_secret() {
        use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
        let mut h = HeaderMap::new();
        // base64("svc-sei:s3cret")
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic c3ZjLXNlaTpzM2NyZXQ="));
        assert_eq!(credential_label(&h), "user svc-sei");
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert_eq!(credential_label(&h), "Bearer token");
        h.insert(AUTHORIZATION, HeaderValue::from_static("ApiKey s3cret"));
        assert_eq!(credential_label(&h), "SEI key (API key)");
        assert_eq!(credential_label(&HeaderMap::new()), "none");
    }

    #[test]
    fn retries_only_the_documented_statuses() {
        for s in [429, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [400, 401, 403, 404, 410, 500] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
    }
}
