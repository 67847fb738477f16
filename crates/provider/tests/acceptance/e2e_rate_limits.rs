//! Rate-limit windows that last an hour: a plan never waits for them in
//! silence. The server's own wait (`X-RateLimit-Reset`, `Retry-After`) is
//! honoured up to `retry_max_wait`; asked for longer, the call stops at once
//! and says when the limit resets; every wait over a second is logged.

use crate::common::*;
use serde_json::json;

const CONFIG: &str = r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}

resource "sei_bitbucket_credential" "ops" {
  auth_type           = "api_token"
  username            = "ops@acme.example"
  password_wo         = var.ops_token
  password_wo_version = 1
  workspaces          = ["acme"]
}

resource "sei_bitbucket_integration" "x" {
  name         = "bb-limited"
  repositories = ["acme/api"]
  credential {
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }
  credentials_version = 1
}
"#;

fn limited(tf: &mut Tf) {
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.config(CONFIG);
}

/// Bitbucket refuses every call for the rest of an hour: the plan goes on,
/// each check a warning with the reset time, and no call spends its retries
/// against the closed window.
fn a_long_bitbucket_limit_ends_the_wait_at_once(limit: serde_json::Value, minutes: u64) {
    let mut tf = Tf::new();
    limited(&mut tf);
    tf.sandbox.control("PUT", "/rate-limit", Some(limit));
    tf.sandbox.reset_counters();
    let out = tf.plan_json();
    assert_eq!(out.code, 0, "{}", out.all());
    let warnings: Vec<_> = out
        .warnings()
        .into_iter()
        .filter(|w| diag_text(w).contains("rate limited"))
        .collect();
    assert!(!warnings.is_empty(), "{}", out.all());
    for w in &warnings {
        let text = diag_text(w);
        assert!(
            text.contains("the limit resets at") && text.contains(" UTC, in "),
            "{text}"
        );
        assert!(text.contains(&format!("in {minutes} minutes")), "{text}");
    }
    // The first 429 closes the window: identity and memberships (sent
    // together) are the only calls, none retried, no later check asks again.
    let bitbucket = tf.sandbox.bitbucket_calls();
    assert!(bitbucket <= 2, "{bitbucket} Bitbucket calls: {}", tf.sandbox.counters());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn x_ratelimit_reset_without_retry_after_is_honoured() {
    a_long_bitbucket_limit_ends_the_wait_at_once(json!({"per_hour": 0, "reset": 3000}), 50);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn retry_after_of_an_hour_is_honoured() {
    a_long_bitbucket_limit_ends_the_wait_at_once(json!({"per_hour": 0, "retry_after": 3600}), 60);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn seis_list_rate_limited_for_an_hour_says_rate_limited_not_endpoint() {
    let mut tf = Tf::new();
    limited(&mut tf);
    tf.sandbox
        .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations/list",
        "status": 429, "retry_after": 3600, "count": 100}));
    tf.sandbox.reset_counters();
    let out = tf.plan_json();
    let said: Vec<_> = out
        .diagnostics()
        .into_iter()
        .filter(|d| diag_text(d).contains("SEI is rate limiting this key"))
        .collect();
    assert_eq!(said.len(), 1, "{}", out.all());
    let text = diag_text(&said[0]);
    assert!(text.contains("in 60 minutes"), "{text}");
    assert!(!text.contains("endpoint"), "{text}");
    assert_eq!(
        tf.sandbox.route_calls("POST /sei/api/v1/integrations/list"),
        1,
        "not retried"
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_short_wait_is_taken_and_said_at_info() {
    let mut tf = Tf::new();
    limited(&mut tf);
    tf.set_env("TF_LOG", "info");
    tf.sandbox
        .fault(json!({"method": "GET", "path": "/bitbucket/2.0/user", "status": 429,
        "rate_limit_reset": 2, "count": 1}));
    let out = tf.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let waits: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("waiting 2 s before attempt 2"))
        .collect();
    assert_eq!(waits.len(), 1, "{}", out.stderr);
    assert!(
        waits[0].contains("\"@level\":\"info\"") || waits[0].contains("[INFO]"),
        "{}",
        waits[0]
    );
    assert!(!out.all().contains("rate limited"), "the wait was taken: {}", out.all());
}
