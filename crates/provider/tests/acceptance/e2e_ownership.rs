//! Several Terraform states against one SEI account: a second state, a
//! copied directory or another `terraform workspace` with the same
//! configuration never takes, changes or deletes the first one's record.
//! Names are checked at plan, and a record is adopted only by the very
//! create call that made it.

use crate::common::*;
use serde_json::{json, Value};

const CREDENTIALS: &str = r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}

resource "sei_bitbucket_integration" "x" {
  name         = "bb-shared"
  repositories = ["acme/api"]
  credential {
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }
  credentials_version = 1
}
"#;

const SATELLITE: &str = r#"
resource "sei_bitbucket_integration" "x" {
  name      = "bb-shared"
  satellite = true
  tags      = ["7"]
}
"#;

fn records_named(tf: &Tf, name: &str) -> Vec<Value> {
    tf.sandbox
        .all_integrations()
        .into_iter()
        .filter(|r| r["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .collect()
}

/// The one record named `bb-shared`, as SEI holds it.
fn the_record(tf: &Tf) -> Value {
    let records = records_named(tf, "bb-shared");
    assert_eq!(records.len(), 1, "{records:?}");
    let (status, rec) = tf.sandbox.integration(records[0]["id"].as_str().unwrap());
    assert_eq!(status, 200);
    rec
}

/// The second state's apply fails at plan on `name`, naming the first
/// state's record and the import block, and sends SEI no write.
fn assert_second_apply_refused(tf: &Tf, out: &Out, id: &str, config_line: u64) {
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "Integration name already taken");
    let text = diag_text(&errors[0]);
    assert!(text.contains(&format!("with id {id}")), "{text}");
    assert!(
        text.contains(&format!(
            "import {{\n    to = <this resource's address>\n    id = \"{id}\"\n  }}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("terraform import <this resource's address> {id}")),
        "{text}"
    );
    assert!(
        !text.contains("HTTP 500") && !text.contains("Unhandled exception"),
        "{text}"
    );
    assert_eq!(diag_line(&errors[0]), config_line);
    assert_eq!(
        tf.sandbox.route_calls("POST /sei/api/v1/integrations"),
        0,
        "no create sent"
    );
    assert_eq!(tf.sandbox.calls("PUT /sei/"), 0, "no update sent");
    assert_eq!(tf.sandbox.calls("DELETE /sei/"), 0, "no delete sent");
}

fn two_directories(config: &str) {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.config(config);
    tf.apply();
    let first = the_record(&tf);
    let id = first["id"].as_str().unwrap().to_string();

    // A copy of the directory without its state: another team's state.
    let second = tf.other_work("second");
    tf.config_in(&second, config);
    tf.sandbox.reset_counters();
    let out = tf.run_in(&second, &["apply", "-auto-approve", "-json", "-input=false"]);
    assert_second_apply_refused(&tf, &out, &id, line_of(&tf, "name "));
    let destroyed = tf.run_in(&second, &["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.all());

    assert_eq!(the_record(&tf), first, "id, updated_at and metadata unchanged");
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_second_directory_with_credential_blocks_never_takes_the_first_ones_record() {
    two_directories(CREDENTIALS);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_second_directory_with_a_satellite_never_takes_the_first_ones_record() {
    two_directories(SATELLITE);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_second_workspace_of_one_directory_never_takes_the_first_ones_record() {
    let tf = Tf::new();
    tf.config(SATELLITE);
    tf.apply();
    let first = the_record(&tf);
    let id = first["id"].as_str().unwrap().to_string();

    tf.ok(&["workspace", "new", "-no-color", "staging"]);
    tf.sandbox.reset_counters();
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_second_apply_refused(&tf, &out, &id, line_of(&tf, "name "));
    tf.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);

    tf.ok(&["workspace", "select", "-no-color", "default"]);
    assert_eq!(the_record(&tf), first, "id, updated_at and metadata unchanged");
    tf.assert_empty_plan();
}

/// An answer lost after SEI processed the create (the connection reset, or
/// a 503 from a gateway): the create call finds its own marker and adopts,
/// with a warning, and nothing is created twice.
fn ambiguous_create_is_adopted(fault: Value) {
    let tf = Tf::new();
    tf.sandbox.fault(fault);
    tf.config(SATELLITE);
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let warnings = out.warnings();
    let adopted: Vec<_> = warnings
        .iter()
        .filter(|w| w["summary"] == "Adopted the integration this create made")
        .collect();
    assert_eq!(adopted.len(), 1, "{warnings:?}");
    let rec = the_record(&tf);
    assert!(
        diag_text(adopted[0]).contains(&format!("integration {}", rec["id"].as_str().unwrap())),
        "{adopted:?}"
    );
    assert_eq!(tf.attrs("sei_bitbucket_integration.x")["id"], rec["id"]);
    assert_eq!(
        tf.sandbox.route_calls("POST /sei/api/v1/integrations"),
        1,
        "never re-sent"
    );
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_create_whose_connection_is_reset_after_processing_is_adopted_once() {
    ambiguous_create_is_adopted(json!({"method": "POST", "path": "/sei/api/v1/integrations",
        "connection": "reset", "when": "after"}));
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_create_answered_503_after_processing_is_adopted_once() {
    ambiguous_create_is_adopted(json!({"method": "POST", "path": "/sei/api/v1/integrations",
        "status": 503, "when": "after"}));
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_record_orphaned_by_an_interrupted_apply_is_a_name_conflict_until_imported() {
    let tf = Tf::new();
    // The create's answer never comes and the lookup cannot run, as when
    // terraform or the provider dies between the create and the state
    // write: the record exists in SEI and not in state.
    tf.sandbox
        .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations",
        "connection": "close", "when": "after"}));
    tf.sandbox.fault(
        json!({"method": "POST", "path": "/sei/api/v1/integrations/list", "status": 503, "count": 50, "skip": 1}),
    );
    tf.config(&format!("provider \"sei\" {{\n  max_retries = 0\n}}\n{SATELLITE}"));
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    tf.sandbox.send("DELETE", "/_sandbox/faults", None);
    let orphan = the_record(&tf);
    let id = orphan["id"].as_str().unwrap().to_string();
    assert_eq!(
        tf.state()["resources"][0]["instances"].as_array().map_or(0, Vec::len),
        0
    );

    // The re-apply adopts nothing: the marker is from an earlier call.
    tf.sandbox.reset_counters();
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_second_apply_refused(&tf, &out, &id, line_of(&tf, "name "));
    let text = diag_text(&out.errors()[0]);
    assert!(text.contains("creation marker from an earlier create call"), "{text}");
    assert_eq!(
        tf.state()["resources"][0]["instances"].as_array().map_or(0, Vec::len),
        0
    );

    // The import the error gives, then an empty plan.
    tf.ok(&[
        "import",
        "-no-color",
        "-input=false",
        "sei_bitbucket_integration.x",
        &id,
    ]);
    tf.assert_empty_plan();
    assert_eq!(the_record(&tf), orphan, "nothing was changed or deleted");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn names_are_checked_at_plan_create_rename_and_twice_in_one_configuration() {
    let tf = Tf::new();
    let (_, other) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "BB-Taken", "application": "bitbucket_server", "url": "https://bitbucket.acme.example",
                    "satellite": true, "tags": [], "metadata": {}}),
        ),
    );
    let other_id = other["id"].as_str().unwrap().to_string();

    // Create onto a name SEI holds, in another case and another application.
    tf.config(
        r#"
resource "sei_bitbucket_integration" "x" {
  name      = "bb-taken"
  satellite = true
}
"#,
    );
    tf.sandbox.reset_counters();
    let out = tf.plan_json();
    assert_second_apply_refused(&tf, &out, &other_id, line_of(&tf, "name "));

    // Rename onto it.
    tf.config(
        r#"
resource "sei_bitbucket_integration" "x" {
  name      = "bb-mine"
  satellite = true
}
"#,
    );
    tf.apply();
    let mine = tf.attrs("sei_bitbucket_integration.x")["id"]
        .as_str()
        .unwrap()
        .to_string();
    tf.config(
        r#"
resource "sei_bitbucket_integration" "x" {
  name      = "bb-TAKEN"
  satellite = true
}
"#,
    );
    tf.sandbox.reset_counters();
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "Integration name already taken");
    assert!(
        diag_text(&errors[0]).contains(&format!("SEI already holds integration {other_id}")),
        "{errors:?}"
    );
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "name "));
    assert_eq!(tf.sandbox.calls("PUT /sei/"), 0);
    // A rename that changes only the case of its own name is not a conflict.
    tf.config(
        r#"
resource "sei_bitbucket_integration" "x" {
  name      = "BB-Mine"
  satellite = true
}
"#,
    );
    tf.apply();
    assert_eq!(tf.attrs("sei_bitbucket_integration.x")["id"], mine.as_str());

    // Two resources of one configuration with one name.
    tf.config(
        r#"
resource "sei_bitbucket_integration" "x" {
  name      = "BB-Mine"
  satellite = true
}

resource "sei_bitbucket_integration" "a" {
  name      = "bb-twice"
  satellite = true
}

resource "sei_bitbucket_server_integration" "b" {
  name      = "BB-TWICE"
  url       = "https://bitbucket.acme.example"
  satellite = true
}
"#,
    );
    tf.sandbox.reset_counters();
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "Duplicate integration name");
    let line = diag_line(&errors[0]);
    assert!(
        line == line_of(&tf, "name      = \"bb-twice\"") || line == line_of(&tf, "name      = \"BB-TWICE\""),
        "{errors:?}"
    );
    assert_eq!(tf.sandbox.route_calls("POST /sei/api/v1/integrations"), 0);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn one_reset_on_the_get_put_and_delete_is_retried() {
    let tf = Tf::new();
    tf.config(SATELLITE);
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.x")["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Refresh: the record's own GET is reset once.
    tf.sandbox
        .fault(json!({"method": "GET", "path": format!("/sei/api/v1/integrations/{id}"), "connection": "reset"}));
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color", "-input=false"]);
    assert_eq!(tf.attrs("sei_bitbucket_integration.x")["id"], id.as_str());

    // Update: the PUT is reset once, before SEI sees it.
    tf.sandbox
        .fault(json!({"method": "PUT", "path": format!("/sei/api/v1/integrations/{id}"), "connection": "reset"}));
    tf.config(&SATELLITE.replace(r#"tags      = ["7"]"#, r#"tags      = ["8"]"#));
    tf.apply();
    assert_eq!(tf.sandbox.integration(&id).1["tags"], json!(["8"]));

    // Destroy: the DELETE's connection is closed after SEI deleted.
    tf.sandbox.fault(
        json!({"method": "DELETE", "path": format!("/sei/api/v1/integrations/{id}"),
        "connection": "close", "when": "after"}),
    );
    tf.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert_eq!(tf.sandbox.integration(&id).0, 404);
    assert_eq!(tf.state()["resources"].as_array().map_or(0, Vec::len), 0);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn explicit_nulls_fail_validate_on_their_attribute_without_an_api_call() {
    let tf = Tf::new();
    let cases = [
        (
            r#"resource "sei_bitbucket_integration" "x" {
  name      = null
  satellite = true
}"#,
            "name      = null",
            "Missing Configuration for Required Attribute",
        ),
        (
            r#"resource "sei_bitbucket_integration" "x" {
  name = "bb-null"
  credential {
    username = null
    password = "x"
  }
}"#,
            "username = null",
            "Missing Configuration for Required Attribute",
        ),
        (
            r#"resource "sei_bitbucket_integration" "x" {
  name         = "bb-null"
  satellite    = true
  repositories = [null]
}"#,
            "repositories = [null]",
            "Invalid null element",
        ),
        (
            r#"resource "sei_bitbucket_server_integration" "x" {
  name      = "bb-null"
  url       = "https://bitbucket.acme.example"
  satellite = true
  tags      = ["1", null]
}"#,
            "tags      = [",
            "Invalid null element",
        ),
    ];
    for (body, line, summary) in cases {
        tf.config(body);
        tf.sandbox.reset_counters();
        let out = tf.run(&["validate", "-json", "-no-color"]);
        assert_eq!(out.code, 1, "{body}\n{}", out.all());
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        let errors: Vec<&Value> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "{body}\n{errors:?}");
        assert_eq!(errors[0]["summary"], summary, "{body}");
        assert_eq!(diag_line(errors[0]), line_of(&tf, line), "{body}");
        assert!(!diag_text(errors[0]).contains("Internal provider error"), "{body}");
        assert_eq!(tf.sandbox.sei_calls() + tf.sandbox.bitbucket_calls(), 0);
    }
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn values_that_were_accepted_and_failed_later_fail_validate_on_their_line() {
    let tf = Tf::new();
    let cases = [
        (
            r#"resource "sei_bitbucket_integration" "x" {
  name          = "bb-oauth"
  oauth_code_wo = ""
}"#,
            "oauth_code_wo = \"\"",
            "oauth_code_wo",
        ),
        (
            r#"resource "sei_bitbucket_integration" "x" {
  name                = "bb-big"
  satellite           = true
  credentials_version = 1e300
}"#,
            "credentials_version = 1e300",
            "too large to keep exactly",
        ),
        (
            "resource \"sei_bitbucket_integration\" \"x\" {\n  name        = \"bb-ansi\"\n  satellite   = true\n  description = \"\\u001b[31mred\"\n}",
            "description =",
            "control character U+001B",
        ),
        (
            r#"resource "sei_bitbucket_credential" "x" {
  auth_type       = "api_token"
  username        = "ops@acme.example"
  password        = "x"
  required_scopes = ["read:repositories:bitbucket"]
}"#,
            "required_scopes",
            "Did you mean \"read:repository:bitbucket\"?",
        ),
        (
            r#"data "sei_bitbucket_integration" "x" {
  id = "45/12"
}"#,
            "id = \"45/12\"",
            "integration ids are numbers",
        ),
        (
            "provider \"sei\" {\n  org_id = \"default\\n\"\n}\nresource \"sei_bitbucket_integration\" \"x\" {\n  name      = \"bb-org\"\n  satellite = true\n}",
            "org_id",
            "control character",
        ),
    ];
    for (body, line, text) in cases {
        tf.config(body);
        tf.sandbox.reset_counters();
        let out = tf.run(&["validate", "-json", "-no-color"]);
        assert_eq!(out.code, 1, "{body}\n{}", out.all());
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        let errors: Vec<&Value> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "{body}\n{errors:?}");
        assert!(diag_text(errors[0]).contains(text), "{body}\n{errors:?}");
        assert_eq!(diag_line(errors[0]), line_of(&tf, line), "{body}");
        assert_eq!(tf.sandbox.sei_calls() + tf.sandbox.bitbucket_calls(), 0);
    }
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_rename_that_collides_at_apply_is_named_never_seis_500() {
    let tf = Tf::new();
    tf.config(&format!("provider \"sei\" {{\n  max_retries = 0\n}}\n{SATELLITE}"));
    tf.apply();
    tf.config(&format!(
        "provider \"sei\" {{\n  max_retries = 0\n}}\n{}",
        SATELLITE.replace("bb-shared", "bb-renamed")
    ));
    tf.ok(&["plan", "-out", "tfplan", "-no-color", "-input=false"]);
    // Someone takes the name after the plan, and the apply's own name check
    // cannot list: the PUT meets SEI's generic 500.
    let (_, other) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "BB-Renamed", "application": "bitbucket", "url": "https://bitbucket.org",
                    "satellite": true, "tags": [], "metadata": {}}),
        ),
    );
    let other_id = other["id"].as_str().unwrap();
    tf.sandbox
        .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations/list", "status": 503, "count": 1}));
    tf.sandbox.reset_counters();
    let out = tf.run(&["apply", "-json", "tfplan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(tf.sandbox.calls("PUT /sei/"), 1, "the rename went out");
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "Integration name already taken");
    let text = diag_text(&errors[0]);
    assert!(
        text.contains(&format!("SEI already holds integration {other_id}")),
        "{text}"
    );
    assert!(
        !text.contains("HTTP 500") && !text.contains("Unhandled exception"),
        "{text}"
    );
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "name "));
}
