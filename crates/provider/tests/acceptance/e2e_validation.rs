//! Plan-time credential checks: errors on the right line, naming the right
//! thing, before any SEI call; and the Bitbucket call budget.

use crate::common::*;
use serde_json::json;

fn config(first: (&str, &str), second: Option<&str>, repositories: &str) -> String {
    let second_block = second
        .map(|user| format!("  credential {{\n    username    = \"{user}\"\n    password_wo = var.second\n  }}\n"))
        .unwrap_or_default();
    format!(
        r#"variable "first" {{
  type      = string
  ephemeral = true
}}
variable "second" {{
  type      = string
  ephemeral = true
  default   = null
}}
resource "sei_bitbucket_integration" "x" {{
  name         = "bb-check"
  repositories = {repositories}
  credential {{
    username    = "{}"
    password_wo = var.first
  }}
{second_block}}}
"#,
        first.0
    )
}

/// Runs `plan -json`, expects failure, returns the error diagnostics.
fn failing_plan(tf: &Tf) -> Vec<serde_json::Value> {
    tf.sandbox.reset_counters();
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "plan must fail:\n{}", out.all());
    assert_eq!(tf.sandbox.sei_calls(), 0, "no SEI call before the credentials are good");
    out.errors()
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn revoked_token_fails_on_the_second_blocks_password_wo_line() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.set_env("TF_VAR_second", CI.1);
    tf.config(&config(OPS, Some(CI.0), r#"["acme/api"]"#));
    tf.sandbox.revoke(CI.0);
    let errors = failing_plan(&tf);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let d = &errors[0];
    let text = diag_text(d);
    assert!(text.contains(CI.0) && text.contains("401"), "{text}");
    let second_wo_line = std::fs::read_to_string(tf.work().join("main.tf"))
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("password_wo = var."))
        .nth(1)
        .map(|(i, _)| i as u64 + 1)
        .unwrap();
    assert_eq!(diag_line(d), second_wo_line, "{d}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn app_password_gets_the_removal_guidance() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", LEGACY.1);
    tf.config(&config(LEGACY, None, "[]"));
    let errors = failing_plan(&tf);
    let text = diag_text(&errors[0]);
    assert!(text.contains(LEGACY.0), "{text}");
    assert!(text.contains("removed App Passwords on 2026-07-28"), "{text}");
    assert!(text.contains("Create API token with scopes"), "{text}");
    // A credential block has no auth_type: the advice fits the block.
    assert!(
        text.contains("set this block's username to the Atlassian account's email"),
        "{text}"
    );
    assert!(!text.contains("auth_type"), "{text}");
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "password_wo = var.first"));
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn an_api_token_with_a_username_that_is_not_an_email_says_so_in_a_block_and_at_validate() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.config(&config(("ops", OPS.1), None, "[]"));
    let errors = failing_plan(&tf);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let text = diag_text(&errors[0]);
    assert!(
        text.contains("This password is an Atlassian API token (ATATT…), and an API token signs in with the Atlassian account's email address, not with \"ops\""),
        "{text}"
    );
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "password_wo = var.first"));

    tf.config(
        r#"variable "first" {
  type      = string
  ephemeral = true
}
resource "sei_bitbucket_credential" "ops" {
  auth_type   = "api_token"
  username    = "ops"
  password_wo = var.first
}
"#,
    );
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["summary"], "An API token needs the account's email", "{v}");
    assert_eq!(diag_line(d), line_of(&tf, "username    = \"ops\""));
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_repository_within_two_edits_of_a_listed_one_is_suggested() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.config(&config(OPS, None, r#"["acme/apu"]"#));
    let errors = failing_plan(&tf);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(diag_text(&errors[0]).contains("Did you mean acme/api?"), "{errors:?}");
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "repositories = [\"acme/apu\"]"));
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_missing_scope_is_named() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", NARROW.1);
    tf.config(&config(NARROW, None, "[]"));
    let errors = failing_plan(&tf);
    let text = diag_text(&errors[0]);
    assert!(
        text.contains(NARROW.0)
            && text.contains("read:workspace:bitbucket")
            && text.contains("read:pullrequest:bitbucket"),
        "{text}"
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_missing_repository_is_named_on_the_repositories_line() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.config(&config(OPS, None, r#"["acme/nope"]"#));
    let errors = failing_plan(&tf);
    let text = diag_text(&errors[0]);
    assert!(text.contains("acme/nope") && text.contains(OPS.0), "{text}");
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "repositories ="));
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_repository_one_credential_cannot_see_names_that_credential() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.set_env("TF_VAR_second", CI.1);
    // ci@ sees only acme/api and acme/web.
    tf.config(&config(OPS, Some(CI.0), r#"["acme/api", "acme/infra"]"#));
    let errors = failing_plan(&tf);
    assert_eq!(errors.len(), 1, "only ci@ is short of acme/infra: {errors:?}");
    let text = diag_text(&errors[0]);
    assert!(
        text.contains("acme/infra") && text.contains(CI.0) && !text.contains(OPS.0),
        "{text}"
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn provider_block_errors_at_validate_and_plan() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.config(&format!(
        "provider \"sei\" {{\n  endpoint = \"not a url\"\n}}\n{}",
        config(OPS, None, "[]")
    ));
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert!(diag_text(d).contains("endpoint"), "{d}");
    assert_eq!(diag_line(d), line_of(&tf, "endpoint = \"not a url\""));
    let counters = tf.sandbox.counters();
    assert_eq!(counters["routes"], json!({}), "validate makes no API call");

    tf.config(&config(OPS, None, "[]"));
    tf.unset_env("SEI_API_KEY");
    let out = tf.plan_json();
    assert_eq!(out.code, 1);
    let text = out.errors().iter().map(diag_text).collect::<String>();
    assert!(text.contains("SEI_API_KEY") && text.contains("api_key"), "{text}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn permanent_bitbucket_429_is_a_warning_not_a_failure() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.set_env("SEI_MAX_RETRIES", "1");
    tf.config(&config(OPS, None, r#"["acme/api"]"#));
    tf.sandbox
        .fault(json!({"path": "/bitbucket/2.0/*", "status": 429, "count": 1000}));
    let out = tf.plan_json();
    assert_eq!(out.code, 0, "{}", out.all());
    let warnings = out.warnings();
    let text = warnings.iter().map(diag_text).collect::<String>();
    assert!(text.contains("rate limited") && text.contains(OPS.0), "{text}");
    assert!(out.errors().is_empty());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn plan_of_30_integrations_sharing_2_credentials_stays_in_budget() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.set_env("TF_VAR_second", CI.1);
    tf.config(&config(OPS, Some(CI.0), r#"["acme/api", "acme/web"]"#).replace(
        "resource \"sei_bitbucket_integration\" \"x\" {\n  name         = \"bb-check\"",
        "resource \"sei_bitbucket_integration\" \"x\" {\n  count        = 30\n  name         = \"bb-check-${count.index}\"",
    ));
    tf.sandbox.reset_counters();
    let out = tf.ok(&["plan", "-no-color"]);
    assert!(out.stdout.contains("30 to add"), "{}", out.stdout);
    let calls = tf.sandbox.bitbucket_calls();
    println!("Bitbucket calls for a plan of 30 integrations sharing 2 credentials in 1 workspace: {calls} (budget 6)");
    // Per credential: one GET /user, one page of the workspace's repositories.
    assert_eq!(
        tf.sandbox.route_calls("GET /bitbucket/2.0/user"),
        2,
        "{}",
        tf.sandbox.counters()
    );
    assert_eq!(
        tf.sandbox.route_calls("GET /bitbucket/2.0/repositories/{workspace}"),
        2,
        "{}",
        tf.sandbox.counters()
    );
    assert_eq!(calls, 6, "{}", tf.sandbox.counters());
}

/// Bitbucket lists globex's public repository to anyone; ops is not a
/// member of globex, so SEI would ingest nothing there.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_credential_that_is_not_a_member_fails_on_its_workspace_and_repository_lines() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.config(&format!(
        r#"{}
resource "sei_bitbucket_credential" "ops" {{
  auth_type   = "api_token"
  username    = "{}"
  password_wo = var.first
  workspaces  = ["globex"]
}}
"#,
        config(OPS, None, r#"["globex/sdk"]"#),
        OPS.0
    ));
    let errors = failing_plan(&tf);
    assert_eq!(errors.len(), 2, "{errors:?}");
    let summary = format!("{} is not a member of workspace globex.", OPS.0);
    for d in &errors {
        assert_eq!(d["summary"], summary.as_str(), "{d}");
        assert!(
            diag_text(d).contains("public repositories are readable by anyone"),
            "{d}"
        );
    }
    let lines: Vec<u64> = errors.iter().map(diag_line).collect();
    assert!(
        lines.contains(&line_of(&tf, "repositories = [\"globex/sdk\"]")),
        "{errors:?}"
    );
    assert!(
        lines.contains(&line_of(&tf, "workspaces  = [\"globex\"]")),
        "{errors:?}"
    );
}

const ONE_SATELLITE: &str = r#"
resource "sei_bitbucket_integration" "sat" {
  name      = "bb-sei-at-plan"
  satellite = true
}
"#;

/// The SEI connection is checked at plan, before apply writes anything.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_wrong_key_or_account_fails_the_plan_and_bad_provider_settings_are_refused() {
    let mut tf = Tf::new();
    tf.config(ONE_SATELLITE);
    tf.set_env("SEI_API_KEY", "not-the-key");
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "SEI refuses this provider configuration");
    assert!(diag_text(&errors[0]).contains("`api_key` / SEI_API_KEY"), "{errors:?}");
    assert!(tf.sandbox.all_integrations().is_empty());

    // A trailing newline in the environment is refused, not sent.
    tf.set_env("SEI_API_KEY", &format!("{SEI_KEY}\n"));
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.errors().iter().any(|d| d["summary"] == "Invalid SEI API key"
            && diag_text(d).contains("SEI_API_KEY (the environment fallback of api_key)")),
        "{:?}",
        out.errors()
    );
    tf.set_env("SEI_API_KEY", SEI_KEY);

    // An empty key in the block is an error, not a fallback to SEI_API_KEY.
    tf.config(&format!("provider \"sei\" {{\n  api_key = \"\"\n}}\n{ONE_SATELLITE}"));
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let d = out
        .errors()
        .into_iter()
        .find(|d| d["summary"] == "Empty SEI API key")
        .unwrap();
    assert_eq!(diag_line(&d), line_of(&tf, "api_key = \"\""));

    // User info in a URL is refused at validate, and never echoed or logged.
    tf.config(&format!(
        "provider \"sei\" {{\n  endpoint = \"http://admin:hunter2@127.0.0.1:1/sei/api\"\n}}\n{ONE_SATELLITE}"
    ));
    tf.set_env("TF_LOG", "trace");
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["summary"] == "Credentials in a URL")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(diag_line(d), line_of(&tf, "endpoint = \"http://admin:hunter2@"));
    // Terraform quotes the user's own source line; nothing of ours repeats it.
    assert!(!diag_text(d).contains("hunter2"), "{d}");
    let provider_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-sei"))
        .collect();
    assert!(!provider_lines.is_empty(), "no provider log at TRACE");
    assert!(
        provider_lines.iter().all(|l| !l.contains("hunter2")),
        "{provider_lines:?}"
    );
}

/// What used to be accepted silently is an error on its attribute at validate.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn bad_values_fail_at_validate_on_their_attributes() {
    let tf = Tf::new();
    let body = r#"variable "first" {
  type      = string
  ephemeral = true
}
PROVIDER
resource "sei_bitbucket_integration" "x" {
  name                = "bb-\u0007bell"
  tags                = ["17", "prod"]
  credentials_version = 1.5
  credential {
    username    = "ops@acme.example"
    password_wo = var.first
  }
  credential {
    username    = "OPS@acme.example"
    password_wo = var.first
  }
}
resource "sei_bitbucket_credential" "legacy" {
  auth_type   = "app_password"
  username    = "legacy@acme.example"
  password_wo = var.first
}
data "sei_bitbucket_integrations" "tagged" {
  tag_ids = ["x1"]
}
"#;
    // Terraform validates the provider block first, and stops there.
    tf.config(&body.replace("PROVIDER", "provider \"sei\" {\n  request_timeout = \"999h\"\n}"));
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("Duration out of range"), "{}", out.stdout);
    assert!(
        out.stdout.contains("request_timeout must be from 1ms to 600s"),
        "{}",
        out.stdout
    );
    tf.config(&body.replace("PROVIDER", ""));
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    let find = |summary: &str| {
        diags
            .iter()
            .find(|d| d["summary"] == summary)
            .unwrap_or_else(|| panic!("no {summary:?} in {v}"))
    };
    assert_eq!(
        diag_line(find("Control character")),
        line_of(&tf, "name                = \"bb-")
    );
    assert_eq!(
        diag_line(find("Not a whole number")),
        line_of(&tf, "credentials_version = 1.5")
    );
    let dup = find("Duplicate credential");
    assert_eq!(diag_line(dup), line_of(&tf, "username    = \"OPS@acme.example\""));
    assert_eq!(
        diag_line(find("An App Password needs the Bitbucket username")),
        line_of(&tf, "username    = \"legacy@acme.example\"")
    );
    let invalid: Vec<u64> = diags
        .iter()
        .filter(|d| d["summary"] == "Invalid element")
        .map(diag_line)
        .collect();
    assert!(
        invalid.contains(&line_of(&tf, "tags                = [\"17\", \"prod\"]")),
        "{v}"
    );
    assert!(invalid.contains(&line_of(&tf, "tag_ids = [\"x1\"]")), "{v}");
}

/// SEI's preflight compares names as given: check the same way at plan.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_repository_in_the_wrong_case_fails_the_plan_and_names_the_listed_one() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_first", OPS.1);
    tf.config(&config(OPS, None, r#"["acme/API"]"#));
    let errors = failing_plan(&tf);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(diag_text(&errors[0]).contains("Did you mean acme/api?"), "{errors:?}");
}
