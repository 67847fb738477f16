//! "Rotation is never silent": a new token in `password_wo` with the same
//! `credentials_version` is planned, sent, and then quiet, and the state
//! keeps nothing that confirms the token.

use base64::Engine;
use serde_json::json;
use sha2::Digest;

use crate::common::*;

const TOKEN_B: &str = "ATATT-sandbox-ops-token-rotated-B";

fn integration(version: u32) -> String {
    format!(
        r#"
variable "ops_token" {{
  type      = string
  ephemeral = true
}}
resource "sei_bitbucket_integration" "prod" {{
  name         = "bb-rotated"
  repositories = ["acme/api"]
  credential {{
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }}
  credentials_version = {version}
}}
"#
    )
}

fn sha256_hex(s: &str) -> String {
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// The state file, with every private blob decoded beside it: Terraform
/// stores private data base64-encoded, so a secret inside it would not show
/// in the raw text.
fn state_and_private(tf: &Tf) -> String {
    let text = tf.state_text();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut all = text.clone();
    for r in state["resources"].as_array().into_iter().flatten() {
        for i in r["instances"].as_array().into_iter().flatten() {
            if let Some(p) = i["private"].as_str() {
                let bytes = base64::engine::general_purpose::STANDARD.decode(p).unwrap();
                all.push('\n');
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    all
}

fn assert_holds_nothing_of(tf: &Tf, secret: &str) {
    let all = state_and_private(tf);
    let b64 = base64::engine::general_purpose::STANDARD;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    for needle in [
        secret.to_string(),
        b64.encode(secret),
        b64.encode(format!("ops@acme.example:{secret}")),
        hex::encode(digest),
        hex::encode(digest).to_uppercase(),
        b64.encode(digest),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
    ] {
        assert!(!all.contains(&needle), "state holds {needle:?}");
    }
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_rotated_write_only_token_is_planned_sent_and_then_quiet() {
    let mut tf = Tf::new();
    tf.sandbox.control(
        "POST",
        &format!("/principals/{}/tokens", OPS.0),
        Some(json!({"secret": TOKEN_B})),
    );
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.config(&integration(1));
    tf.apply();
    let attrs = tf.attrs("sei_bitbucket_integration.prod");
    let id = attrs["id"].as_str().unwrap().to_string();
    let first_sent = attrs["credentials_sent_at"].as_str().unwrap().to_string();
    assert!(first_sent.ends_with('Z'), "{first_sent}");
    assert_eq!(
        tf.sandbox.token_record(&id)["secret_sha256"],
        json!([sha256_hex(OPS.1)])
    );
    tf.assert_empty_plan();

    // Token B, both valid, same credentials_version.
    tf.set_env("TF_VAR_ops_token", TOKEN_B);
    let out = tf.run(&["plan", "-json", "-detailed-exitcode", "-input=false"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let warning = out
        .warnings()
        .into_iter()
        .find(|d| d["summary"] == "Write-only secret changed")
        .unwrap_or_else(|| panic!("{}", out.all()));
    assert_eq!(
        warning["detail"],
        "credential[0].password_wo changed since it was last sent to SEI; it will be sent."
    );
    assert_eq!(diag_line(&warning), line_of(&tf, "password_wo = var.ops_token"));
    let planned = tf.plan_file_json("tfplan");
    let change = planned["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "sei_bitbucket_integration.prod")
        .unwrap()["change"]
        .clone();
    assert_eq!(change["actions"], json!(["update"]));
    assert_eq!(change["after_unknown"]["credentials_sent_at"], true, "{change}");

    tf.apply();
    let token = tf.sandbox.token_record(&id);
    assert_eq!(token["secret_sha256"], json!([sha256_hex(TOKEN_B)]));
    assert_eq!(token["replacements"], 1);
    assert_ne!(
        tf.attrs("sei_bitbucket_integration.prod")["credentials_sent_at"],
        json!(first_sent),
        "credentials_sent_at moves when credentials are sent"
    );
    tf.assert_empty_plan();
    assert_holds_nothing_of(&tf, TOKEN_B);
    assert_holds_nothing_of(&tf, OPS.1);

    // Token A is revoked now; B keeps working, and the plan stays quiet.
    tf.sandbox.control(
        "POST",
        &format!("/principals/{}/tokens/revoke", OPS.0),
        Some(json!({"secret": OPS.1})),
    );
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_rotated_credential_token_is_checked_again_as_an_update() {
    let mut tf = Tf::new();
    tf.sandbox.control(
        "POST",
        &format!("/principals/{}/tokens", OPS.0),
        Some(json!({"secret": TOKEN_B})),
    );
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.config(
        r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}
resource "sei_bitbucket_credential" "ops" {
  auth_type           = "api_token"
  username            = "ops@acme.example"
  password_wo         = var.ops_token
  password_wo_version = 1
}
"#,
    );
    tf.apply();
    tf.assert_empty_plan();
    tf.set_env("TF_VAR_ops_token", TOKEN_B);
    let out = tf.run(&["plan", "-json", "-detailed-exitcode", "-input=false"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let warning = out
        .warnings()
        .into_iter()
        .find(|d| d["summary"] == "Write-only secret changed")
        .unwrap_or_else(|| panic!("{}", out.all()));
    assert_eq!(
        warning["detail"],
        "password_wo changed since it was last checked; it will be checked again."
    );
    tf.apply();
    tf.assert_empty_plan();
    assert_holds_nothing_of(&tf, TOKEN_B);
}

/// The fingerprint's slow step runs once per distinct secret per process,
/// however many resources share it.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn many_integrations_sharing_two_tokens_compute_two_fingerprints() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.set_env("TF_VAR_ci_token", CI.1);
    tf.config(
        r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}
variable "ci_token" {
  type      = string
  ephemeral = true
}
resource "sei_bitbucket_integration" "many" {
  count        = 24
  name         = "bb-many-${count.index}"
  repositories = ["acme/api"]
  credential {
    username    = count.index % 2 == 0 ? "ops@acme.example" : "ci@acme.example"
    password_wo = count.index % 2 == 0 ? var.ops_token : var.ci_token
  }
  credentials_version = 1
}
"#,
    );
    tf.apply();
    tf.set_env("TF_LOG", "debug");
    let out = tf.run(&["plan", "-detailed-exitcode", "-no-color", "-input=false"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let computed = out
        .stderr
        .lines()
        .filter(|l| l.contains("computed the fingerprint key of a write-only secret"))
        .count();
    assert_eq!(computed, 2, "one slow step per distinct token");
}
