//! `sei_bitbucket_credential`, the data sources, the ephemeral token, and
//! where secrets may and may not appear.

use crate::common::*;
use base64::Engine;
use serde_json::json;

const WO: &str = r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}
resource "sei_bitbucket_credential" "ops" {
  auth_type           = "api_token"
  username            = "ops@acme.example"
  password_wo         = var.ops_token
  password_wo_version = VERSION
  workspaces          = ["acme"]
}
"#;

const STORED: &str = r#"
variable "ops_password" {
  type      = string
  sensitive = true
}
resource "sei_bitbucket_credential" "ops" {
  auth_type  = "api_token"
  username   = "ops@acme.example"
  password   = var.ops_password
  workspaces = ["acme"]
}
check "ops_credential" {
  assert {
    condition     = sei_bitbucket_credential.ops.valid == true
    error_message = "The ops Bitbucket credential is not valid."
  }
}
"#;

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn write_only_credential_create_empty_plan_and_version_bump() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.config(&WO.replace("VERSION", "1"));
    tf.apply();
    let a = tf.attrs("sei_bitbucket_credential.ops");
    assert_eq!(a["id"], "api_token:ops@acme.example");
    assert_eq!(a["valid"], true);
    assert_eq!(a["credential_type"], "api_token");
    assert_eq!(a["display_name"], "Acme Ops");
    assert_eq!(a["visible_workspaces"], json!(["acme"]));
    assert!(a["password_wo"].is_null());
    assert!(a["granted_scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("read:repository:bitbucket")));
    let validated_at = a["validated_at"].clone();
    tf.assert_empty_plan();
    assert_eq!(
        tf.attrs("sei_bitbucket_credential.ops")["validated_at"],
        validated_at,
        "a refresh with the same facts keeps validated_at"
    );

    tf.config(&WO.replace("VERSION", "2"));
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2);
    assert!(out.stdout.contains("1 to change"), "{}", out.stdout);
    tf.apply();
    assert_eq!(tf.attrs("sei_bitbucket_credential.ops")["password_wo_version"], 2);
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn revoked_stored_password_shows_on_refresh_warns_at_plan_and_fails_the_apply_on_its_line() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_password", OPS.1);
    tf.config(STORED);
    tf.apply();
    tf.assert_empty_plan();
    tf.sandbox.revoke(OPS.0);

    // A check block reports it as a warning; the refresh records valid = false.
    let out = tf.run(&["apply", "-refresh-only", "-auto-approve", "-json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let warnings = out.warnings().iter().map(diag_text).collect::<Vec<_>>().join("\n");
    assert!(
        warnings.contains("no longer valid") && warnings.contains(OPS.0),
        "{warnings}"
    );
    assert!(
        warnings.contains("The ops Bitbucket credential is not valid."),
        "{warnings}"
    );
    assert_eq!(tf.attrs("sei_bitbucket_credential.ops")["valid"], false);

    // The plan checks it again and says so on its line, as a warning: the
    // same plan runs as the refresh before a destroy, which must not fail.
    let out = tf.run(&["plan", "-json", "-input=false", "-detailed-exitcode"]);
    assert_eq!(out.code, 2, "an update in place that checks again:\n{}", out.all());
    let warnings = out.warnings();
    let revoked = warnings
        .iter()
        .find(|w| diag_text(w).contains("401"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    assert_eq!(diag_line(revoked), line_of(&tf, "password   = var.ops_password"));
    assert!(diag_text(revoked).contains("validate_credentials = false"), "{revoked}");
    let said: Vec<&serde_json::Value> = warnings.iter().filter(|w| diag_text(w).contains("401")).collect();
    assert_eq!(said.len(), 1, "one plan warns about the revocation once: {said:?}");
    // Applying it fails on the same line, and keeps the state as it was.
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(diag_text(&errors[0]).contains("401"), "{errors:?}");
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "password   = var.ops_password"));
    assert_eq!(tf.attrs("sei_bitbucket_credential.ops")["valid"], false);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn import_of_a_credential_says_to_declare_it() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.config(&WO.replace("VERSION", "1"));
    let out = tf.run(&["import", "-no-color", "sei_bitbucket_credential.ops", "anything"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot be imported") && out.stderr.contains("Declare the resource"),
        "{}",
        out.stderr
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn secrets_stay_out_of_logs_output_and_write_only_state() {
    let mut tf = Tf::new();
    // Distinct secrets: the write-only one is ops', the stored one is ci's.
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.set_env("TF_VAR_ci_password", CI.1);
    tf.set_env("TF_LOG", "trace");
    tf.config(
        r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}
variable "ci_password" {
  type      = string
  sensitive = true
}
resource "sei_bitbucket_credential" "ops" {
  auth_type   = "api_token"
  username    = "ops@acme.example"
  password_wo = var.ops_token
}
resource "sei_bitbucket_integration" "x" {
  name = "bb-secrets"
  credential {
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }
  credential {
    username = "ci@acme.example"
    password = var.ci_password
  }
}
"#,
    );
    let mut outputs = Vec::new();
    let plan_json = tf.plan_file_json("tfplan");
    outputs.push(tf.run(&["plan", "-out", "tfplan", "-no-color"]));
    outputs.push(tf.apply());
    outputs.push(tf.run(&["plan", "-no-color"]));
    outputs.push(tf.run(&["show", "-no-color"]));
    let plan_file = std::fs::read(tf.work().join("tfplan")).unwrap();
    let plan_unzipped = std::process::Command::new("python3")
        .args(["-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); sys.stdout.buffer.write(b''.join(z.read(n) for n in z.namelist()))"])
        .arg(tf.work().join("tfplan"))
        .output()
        .unwrap()
        .stdout;
    let state = tf.state_text();
    let forms = |user: &str, secret: &str| {
        vec![
            secret.to_string(),
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}")),
        ]
    };
    let terminal: String = outputs.iter().map(|o| o.all()).collect();
    for s in forms(OPS.0, OPS.1) {
        assert!(!state.contains(&s), "write-only secret in state");
        assert!(!plan_json.to_string().contains(&s), "write-only secret in plan JSON");
        assert!(
            !String::from_utf8_lossy(&plan_file).contains(&s),
            "write-only secret in the plan file"
        );
        assert!(
            !String::from_utf8_lossy(&plan_unzipped).contains(&s),
            "write-only secret in the unzipped plan file"
        );
        assert!(!terminal.contains(&s), "write-only secret in terminal output or TF_LOG");
    }
    for s in forms(CI.0, CI.1) {
        assert!(!terminal.contains(&s), "stored secret in terminal output or TF_LOG");
    }
    assert!(state.contains(CI.1), "a stored password is in state, as documented");
    // Every provider line logged while an RPC is served says which RPC and
    // which type, as terraform-plugin-go's do.
    let plan_lines: Vec<&str> = terminal
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-sei") && l.contains("tf_rpc=PlanResourceChange"))
        .collect();
    assert!(
        !plan_lines.is_empty(),
        "no provider line inside PlanResourceChange: {:?}",
        terminal
            .lines()
            .filter(|l| l.contains("provider.terraform-provider-sei"))
            .collect::<Vec<_>>()
    );
    for l in &plan_lines {
        assert!(
            l.contains("tf_req_id=") && l.contains("tf_provider_addr=registry.terraform.io/sei-oss/sei"),
            "{l}"
        );
    }
    assert!(
        plan_lines
            .iter()
            .any(|l| l.contains("tf_resource_type=sei_bitbucket_integration")),
        "{plan_lines:?}"
    );
    let sensitive = &plan_json["planned_values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "sei_bitbucket_integration.x")
        .unwrap()["sensitive_values"];
    assert_eq!(sensitive["credential"][1]["password"], true, "{sensitive}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn check_data_source_reports_and_list_data_source_pages_with_a_true_prefix() {
    let tf = Tf::new();
    for i in 0..105 {
        let (status, _) = tf.sandbox.send(
            "POST",
            "/sei/api/v1/integrations",
            Some(json!({"name": format!("bb-{i:03}"), "application": "bitbucket", "url": "https://bitbucket.org",
                        "satellite": true, "tags": if i % 2 == 0 { json!(["1", "2"]) } else { json!(["1"]) }, "metadata": {}})),
        );
        assert_eq!(status, 200);
    }
    tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(json!({"name": "legacy-bb-x", "application": "bitbucket", "url": "https://bitbucket.org", "satellite": true, "tags": [], "metadata": {}})),
    );
    tf.config(&format!(
        r#"
data "sei_bitbucket_credential_check" "narrow" {{
  username   = "{}"
  password   = "{}"
  workspaces = ["acme"]
}}
data "sei_bitbucket_integrations" "bb" {{
  name_prefix = "bb-"
}}
data "sei_bitbucket_integrations" "tagged" {{
  tag_ids = ["1", "2"]
}}
output "valid" {{ value = data.sei_bitbucket_credential_check.narrow.valid }}
output "problems" {{ value = data.sei_bitbucket_credential_check.narrow.problems }}
output "count" {{ value = length(data.sei_bitbucket_integrations.bb.integrations) }}
output "tagged" {{ value = length(data.sei_bitbucket_integrations.tagged.integrations) }}
output "names" {{ value = [for i in data.sei_bitbucket_integrations.bb.integrations : i.name] }}
"#,
        NARROW.0, NARROW.1
    ));
    tf.sandbox.reset_counters();
    tf.apply();
    let out = tf.ok(&["output", "-json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["valid"]["value"], false);
    let problems = v["problems"]["value"].to_string();
    assert!(problems.contains("read:workspace:bitbucket"), "{problems}");
    assert_eq!(v["count"]["value"], 105, "all pages, and no legacy-bb-x");
    assert!(!v["names"]["value"].to_string().contains("legacy-bb-x"));
    assert_eq!(v["tagged"]["value"], 53, "records carrying every given tag");
    assert!(
        tf.sandbox.route_calls("POST /sei/api/v1/integrations/list") >= 2,
        "more than one page was read"
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn ephemeral_token_opens_and_closes_and_never_shows_in_logs() {
    let mut tf = Tf::new();
    tf.set_env("TF_LOG", "trace");
    tf.config(&format!(
        r#"
ephemeral "sei_bitbucket_oauth_token" "bb" {{
  client_id     = "tf-consumer"
  client_secret = "sandbox-tf-consumer-secret"
}}
provider "sei" {{
  alias   = "with_token"
  api_key = ephemeral.sei_bitbucket_oauth_token.bb.access_token
}}
data "sei_bitbucket_credential_check" "ops" {{
  provider = sei.with_token
  username = "{}"
  password = "{}"
}}
output "valid" {{ value = data.sei_bitbucket_credential_check.ops.valid }}
"#,
        OPS.0, OPS.1
    ));
    let out = tf.apply();
    let grants = tf.sandbox.route_calls("POST /bitbucket/site/oauth2/access_token");
    assert!(
        grants >= 1,
        "the token grant reached Bitbucket: {}",
        tf.sandbox.counters()
    );
    assert!(
        out.stderr.contains("OpenEphemeralResource") && out.stderr.contains("CloseEphemeralResource"),
        "opened and closed"
    );
    let all = out.all();
    assert!(!all.contains("bbat_"), "no access token in TF_LOG=trace output");
    assert!(!tf.state_text().contains("bbat_"), "no access token in state");
}

/// People decommission exactly when tokens are revoked: destroy must work.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn destroy_after_every_token_was_revoked_exits_0_and_leaves_no_record() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.set_env("TF_VAR_ci_password", CI.1);
    tf.config(
        r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}
variable "ci_password" {
  type      = string
  sensitive = true
}
resource "sei_bitbucket_credential" "wo" {
  auth_type   = "api_token"
  username    = "ops@acme.example"
  password_wo = var.ops_token
  workspaces  = ["acme"]
}
resource "sei_bitbucket_credential" "stored" {
  auth_type  = "api_token"
  username   = "ci@acme.example"
  password   = var.ci_password
  workspaces = ["acme"]
}
resource "sei_bitbucket_integration" "prod" {
  name         = "bb-decommission"
  repositories = ["acme/api"]
  credential {
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }
  credential {
    username = "ci@acme.example"
    password = var.ci_password
  }
}
"#,
    );
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.prod")["id"]
        .as_str()
        .unwrap()
        .to_string();
    tf.sandbox.revoke(OPS.0);
    tf.sandbox.revoke(CI.0);
    let out = tf.run(&["destroy", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // The stored password is re-checked on refresh: a warning, never an error.
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    assert_eq!(tf.sandbox.integration(&id).0, 404);
    assert_eq!(
        tf.state()["resources"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        tf.state_text()
    );
}

/// App Passwords are gone: the value is deprecated on its own line, at
/// validate, before any call to Bitbucket.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn auth_type_app_password_is_deprecated_on_its_line() {
    let tf = Tf::new();
    tf.config(
        r#"
variable "legacy" {
  type      = string
  ephemeral = true
}
resource "sei_bitbucket_credential" "legacy" {
  auth_type   = "app_password"
  username    = "legacy-bot"
  password_wo = var.legacy
}
"#,
    );
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["summary"] == "Deprecated: auth_type = \"app_password\"")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(d["severity"], "warning");
    assert!(diag_text(d).contains("removed App Passwords on 2026-07-28"), "{d}");
    assert_eq!(diag_line(d), line_of(&tf, "auth_type   = \"app_password\""));
}

/// A `password_wo` credential cannot be checked at refresh (the secret is
/// not stored), so the plan's own check plans what it finds: a `check {}`
/// on `valid` fails in that very plan.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_revoked_write_only_credential_fails_its_check_block_at_plan() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_token", OPS.1);
    let config = format!(
        "{}\ncheck \"ops_token_valid\" {{\n  assert {{\n    condition     = sei_bitbucket_credential.ops.valid\n    error_message = \"The ops token no longer works.\"\n  }}\n}}\n",
        WO.replace("VERSION", "1")
    );
    tf.config(&config);
    tf.apply();
    assert_eq!(tf.attrs("sei_bitbucket_credential.ops")["valid"], true);
    tf.sandbox.revoke(OPS.0);
    let out = tf.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let text = out.all();
    assert!(text.contains("Check block assertion failed"), "{text}");
    assert!(text.contains("The ops token no longer works."), "{text}");
    assert!(
        !text.contains("known after apply") || !text.contains("Check block assertion known after apply"),
        "{text}"
    );
    let planned = tf.plan_file_json("tfplan");
    let after = planned["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "sei_bitbucket_credential.ops")
        .map(|c| c["change"]["after"].clone())
        .unwrap();
    assert_eq!(after["valid"], false, "{after}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_stored_password_in_a_credential_block_is_deprecated_on_its_line_at_validate() {
    let tf = Tf::new();
    tf.config(
        r#"
resource "sei_bitbucket_integration" "x" {
  name = "bb-stored"
  credential {
    username = "ops@acme.example"
    password = "ATATT-stored"
  }
  credentials_version = 1
}
"#,
    );
    let out = tf.run(&["validate", "-json", "-no-color"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let deprecated: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["summary"] == "Deprecated attribute")
        .collect();
    assert_eq!(deprecated.len(), 1, "{report}");
    assert_eq!(deprecated[0]["severity"], "warning");
    assert_eq!(diag_line(deprecated[0]), line_of(&tf, "password = \"ATATT-stored\""));
    assert!(diag_text(deprecated[0]).contains("password_wo"), "{report}");
}

/// A refresh token from the sandbox's authorization-code grant, as a user
/// who authorised the consumer in a browser holds one.
fn authorised_refresh_token(tf: &Tf) -> String {
    let oauth = tf.sandbox.bitbucket_oauth();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("{oauth}/authorize?client_id=tf-consumer&response_type=code"))
        .send()
        .unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    let v: serde_json::Value = client
        .post(format!("{oauth}/access_token"))
        .basic_auth("tf-consumer", Some("sandbox-tf-consumer-secret"))
        .form(&[("grant_type", "authorization_code"), ("code", code.as_str())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["refresh_token"].as_str().unwrap().to_string()
}

/// OAuth as Bitbucket answers since 2026-05-04: the refresh grant returns
/// a new refresh token (the old one dies minutes after use), tokens are
/// over 2,500 characters, and the scopes come as `scope`.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn the_ephemeral_token_returns_the_rotated_refresh_token_and_reads_scope() {
    let mut tf = Tf::new();
    let refresh = authorised_refresh_token(&tf);
    tf.set_env("TF_VAR_refresh", &refresh);
    tf.config(
        r#"
variable "refresh" {
  type      = string
  ephemeral = true
}
ephemeral "sei_bitbucket_oauth_token" "bb" {
  client_id     = "tf-consumer"
  client_secret = "sandbox-tf-consumer-secret"
  grant_type    = "refresh_token"
  refresh_token = var.refresh
}
resource "terraform_data" "probe" {
  lifecycle {
    precondition {
      condition     = ephemeral.sei_bitbucket_oauth_token.bb.new_refresh_token != var.refresh && length(ephemeral.sei_bitbucket_oauth_token.bb.new_refresh_token) > 2500
      error_message = "the result is not the rotated refresh token"
    }
    precondition {
      condition     = length(ephemeral.sei_bitbucket_oauth_token.bb.access_token) > 2500
      error_message = "the access token was cut"
    }
    precondition {
      condition     = contains(ephemeral.sei_bitbucket_oauth_token.bb.scopes, "repository")
      error_message = "scopes not read from `scope`"
    }
  }
}
"#,
    );
    let out = tf.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.all().contains("bbrt_"), "no refresh token in the output");
}

/// `BITBUCKET_API_URL` without `/2.0`: the 404 is said to be the URL's,
/// not the credential's, and the URL is warned about where it is set.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn an_api_url_without_2_0_is_not_called_a_bad_credential() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_token", OPS.1);
    let without = format!("{}/bitbucket", tf.sandbox.base);
    tf.set_env("BITBUCKET_API_URL", &without);
    tf.config(&WO.replace("VERSION", "1"));
    let out = tf.plan_json();
    assert_eq!(out.code, 0, "a check that could not run is a warning: {}", out.all());
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let warnings = out.warnings();
    let summaries: Vec<&str> = warnings.iter().filter_map(|d| d["summary"].as_str()).collect();
    assert!(summaries.contains(&"Not Bitbucket Cloud's API base"), "{summaries:?}");
    let check = warnings
        .iter()
        .find(|d| {
            d["summary"]
                .as_str()
                .unwrap_or("")
                .starts_with("Could not check the credential")
        })
        .unwrap_or_else(|| panic!("{summaries:?}"));
    assert!(diag_text(check).contains("ends in /2.0"), "{check}");
    assert!(!out.all().contains("rejected the credential"), "{}", out.all());
    assert!(!out.all().contains("wrong, revoked or expired"), "{}", out.all());
}

/// A refresh token used once already (Bitbucket rotates them) is refused
/// with a message that says why and what to use instead.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_reused_refresh_token_is_explained() {
    let mut tf = Tf::new();
    let refresh = authorised_refresh_token(&tf);
    tf.sandbox
        .control("PUT", "/oauth", Some(serde_json::json!({"refresh_grace_secs": 0})));
    // Another tool used it first.
    let used = reqwest::blocking::Client::new()
        .post(format!("{}/access_token", tf.sandbox.bitbucket_oauth()))
        .basic_auth("tf-consumer", Some("sandbox-tf-consumer-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
        .send()
        .unwrap();
    assert!(used.status().is_success());
    tf.set_env("TF_VAR_refresh", &refresh);
    tf.config(
        r#"
variable "refresh" {
  type      = string
  ephemeral = true
}
ephemeral "sei_bitbucket_oauth_token" "bb" {
  client_id     = "tf-consumer"
  client_secret = "sandbox-tf-consumer-secret"
  grant_type    = "refresh_token"
  refresh_token = var.refresh
}
"#,
    );
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "Bitbucket refused the refresh token");
    let text = diag_text(&errors[0]);
    assert!(
        text.contains("Refresh tokens rotate") && text.contains("new_refresh_token"),
        "{text}"
    );
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "refresh_token = var.refresh"));
    assert!(!out.all().contains(&refresh), "the token itself is never shown");
}
