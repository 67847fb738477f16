//! `sei_bitbucket_server_integration` end to end: real terraform, the real
//! provider binary over AutoMTLS, the sandbox's SEI and its Data Center
//! instance (`/bbdc`) over HTTP.

use crate::common::*;
use base64::Engine;
use serde_json::json;

const SVC: (&str, &str) = ("svc-sei", "BBDC-sandbox-svc-sei-token");
const LIMITED: (&str, &str) = ("dev-limited", "BBDC-sandbox-dev-limited-token");
const PROJECT_TOKEN: &str = "BBDC-sandbox-plat-project-token";

const VARS: &str = r#"
variable "bbdc_token" {
  type      = string
  ephemeral = true
}
variable "bbdc_url" {
  type = string
}
"#;

fn dc(tf: &mut Tf, token: &str) {
    tf.set_env("TF_VAR_bbdc_token", token);
    let url = format!("{}/bbdc", tf.sandbox.base);
    tf.set_env("TF_VAR_bbdc_url", &url);
}

fn integration(name: &str, user: &str, body: &str) -> String {
    format!(
        r#"{VARS}
resource "sei_bitbucket_server_integration" "onprem" {{
  name = "{name}"
  url  = var.bbdc_url
{body}
  credential {{
    username    = "{user}"
    password_wo = var.bbdc_token
  }}
  credentials_version = 1
}}
"#
    )
}

fn failing_plan(tf: &Tf) -> Vec<serde_json::Value> {
    tf.sandbox.reset_counters();
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "plan must fail:\n{}", out.all());
    assert_eq!(tf.sandbox.sei_calls(), 0, "no SEI call before the credential is good");
    out.errors()
}

fn only_error(tf: &Tf) -> serde_json::Value {
    let errors = failing_plan(tf);
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].clone()
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn create_with_a_user_token_update_in_place_drift_and_destroy() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    tf.config(&integration(
        "bbdc-prod",
        SVC.0,
        r#"  description  = "On-prem"
  projects     = ["Platform"]
  repositories = ["api", "web"]"#,
    ));
    tf.apply();
    let attrs = tf.attrs("sei_bitbucket_server_integration.onprem");
    let id = attrs["id"].as_str().unwrap().to_string();
    assert_eq!(attrs["authentication"], "api_key");
    assert_eq!(attrs["server_version"], "8.19.1");
    assert_eq!(attrs["credential"][0]["username"], SVC.0);
    assert!(attrs["credential"][0]["password_wo"].is_null());
    let (status, record) = tf.sandbox.integration(&id);
    assert_eq!(status, 200);
    assert_eq!(record["application"], "bitbucket_server");
    assert_eq!(record["url"], format!("{}/bbdc", tf.sandbox.base));
    assert_eq!(record["metadata"]["projects"], "Platform");
    assert_eq!(record["metadata"]["repos"], "api,web");
    let token = tf.sandbox.token_record(&id);
    assert_eq!(token["method"], "apikey");
    assert_eq!(token["usernames"], json!([SVC.0]));
    tf.assert_empty_plan();

    // Update in place: projects, repositories, description.
    tf.config(&integration(
        "bbdc-prod",
        SVC.0,
        r#"  description  = "On-prem, all of Mobile too"
  projects     = ["Platform", "Mobile"]
  repositories = ["api", "web", "ios"]"#,
    ));
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2);
    assert!(out.stdout.contains("1 to change, 0 to destroy"), "{}", out.stdout);
    tf.apply();
    let (_, record) = tf.sandbox.integration(&id);
    assert_eq!(record["metadata"]["projects"], "Mobile,Platform");
    assert_eq!(record["metadata"]["repos"], "api,ios,web");
    assert_eq!(record["description"], "On-prem, all of Mobile too");
    assert_eq!(tf.attrs("sei_bitbucket_server_integration.onprem")["id"], id.as_str());
    assert_eq!(tf.sandbox.token_record(&id)["replacements"], 0, "no credential re-sent");
    tf.assert_empty_plan();

    // Drift from the SEI UI shows, and apply restores it.
    let mut metadata = record["metadata"].clone();
    metadata["projects"] = json!("Mobile");
    let (status, _) = tf.sandbox.send(
        "PUT",
        &format!("/sei/api/v1/integrations/{id}"),
        Some(json!({"name": "bbdc-renamed", "description": "UI", "tags": [], "metadata": metadata})),
    );
    assert_eq!(status, 200);
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2, "{}", out.all());
    assert!(
        out.stdout.contains("bbdc-renamed") && out.stdout.contains("Platform"),
        "{}",
        out.stdout
    );
    tf.apply();
    let (_, record) = tf.sandbox.integration(&id);
    assert_eq!(record["name"], "bbdc-prod");
    assert_eq!(record["metadata"]["projects"], "Mobile,Platform");

    // Bumping credentials_version re-sends the credential.
    let config = integration(
        "bbdc-prod",
        SVC.0,
        r#"  description  = "On-prem, all of Mobile too"
  projects     = ["Platform", "Mobile"]
  repositories = ["api", "web", "ios"]"#,
    )
    .replace("credentials_version = 1", "credentials_version = 2");
    tf.config(&config);
    tf.apply();
    assert_eq!(tf.sandbox.token_record(&id)["replacements"], 1);
    tf.assert_empty_plan();

    tf.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(tf.sandbox.integration(&id).0, 404);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_satellite_record_sends_nothing_checks_nothing_and_imports_by_id_and_name() {
    let tf = Tf::new();
    let satellite = r#"
resource "sei_bitbucket_server_integration" "sat" {
  name       = "bbdc-satellite"
  url        = "https://bitbucket.acme.internal"
  repositories = ["api"]
  satellite  = true
}
"#;
    tf.config(satellite);
    tf.sandbox.reset_counters();
    tf.apply();
    assert_eq!(
        tf.sandbox.calls("GET /bbdc/"),
        0,
        "a satellite is never checked from here"
    );
    let attrs = tf.attrs("sei_bitbucket_server_integration.sat");
    let id = attrs["id"].as_str().unwrap().to_string();
    assert_eq!(attrs["authentication"], "none");
    assert!(attrs["server_version"].is_null());
    let token = tf.sandbox.token_record(&id);
    assert!(token["usernames"].as_array().unwrap().is_empty(), "{token}");
    tf.assert_empty_plan();

    // Import by id: state forgotten, then `terraform import`.
    tf.ok(&["state", "rm", "sei_bitbucket_server_integration.sat"]);
    tf.ok(&["import", "-no-color", "sei_bitbucket_server_integration.sat", &id]);
    tf.assert_empty_plan();

    // Import by name, with an import block.
    tf.ok(&["state", "rm", "sei_bitbucket_server_integration.sat"]);
    tf.config(&format!(
        "{satellite}\nimport {{\n  to = sei_bitbucket_server_integration.sat\n  id = \"name:bbdc-satellite\"\n}}\n"
    ));
    let out = tf.apply();
    assert!(
        out.stdout.contains("1 imported, 0 added, 0 changed, 0 destroyed"),
        "{}",
        out.stdout
    );
    assert_eq!(tf.attrs("sei_bitbucket_server_integration.sat")["id"], id.as_str());
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_cloud_record_is_refused_by_the_data_center_resource_and_the_other_way_round() {
    let tf = Tf::new();
    let (status, cloud) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "bb-cloud", "application": "bitbucket", "url": "https://bitbucket.org", "satellite": true}),
        ),
    );
    assert_eq!(status, 200, "{cloud}");
    let (status, server) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(json!({"name": "bbdc-other", "application": "bitbucket_server", "url": "https://bitbucket.acme.internal", "satellite": true})),
    );
    assert_eq!(status, 200, "{server}");
    tf.config(
        r#"
resource "sei_bitbucket_server_integration" "x" {
  name      = "bb-cloud"
  url       = "https://bitbucket.acme.internal"
  satellite = true
}
resource "sei_bitbucket_integration" "y" {
  name      = "bbdc-other"
  satellite = true
}
"#,
    );
    let out = tf.run(&[
        "import",
        "-no-color",
        "sei_bitbucket_server_integration.x",
        "name:bb-cloud",
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.all().contains("Not a Bitbucket Data Center integration")
            && out.all().contains("has application \"bitbucket\"")
            && out.all().contains("sei_bitbucket_integration resource instead"),
        "{}",
        out.all()
    );
    let id = server["id"].as_str().unwrap();
    let out = tf.run(&["import", "-no-color", "sei_bitbucket_integration.y", id]);
    assert_ne!(out.code, 0);
    assert!(
        out.all().contains("Not a Bitbucket Cloud integration")
            && out.all().contains("sei_bitbucket_server_integration"),
        "{}",
        out.all()
    );
    assert!(tf.state()["resources"].as_array().is_none_or(|r| r.is_empty()));
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_bad_token_fails_on_the_password_wo_line() {
    let mut tf = Tf::new();
    dc(&mut tf, "BBDC-not-a-token");
    tf.config(&integration("bbdc-bad", SVC.0, ""));
    let d = only_error(&tf);
    let text = diag_text(&d);
    assert!(
        text.contains("rejected the credential for svc-sei") && text.contains("401 without a user"),
        "{text}"
    );
    assert_eq!(diag_line(&d), line_of(&tf, "password_wo = var.bbdc_token"), "{d}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_user_without_repo_read_on_a_listed_repository_fails_on_the_repositories_line() {
    let mut tf = Tf::new();
    dc(&mut tf, LIMITED.1);
    tf.config(&integration(
        "bbdc-limited",
        LIMITED.0,
        r#"  repositories = ["android", "ios"]"#,
    ));
    let d = only_error(&tf);
    let text = diag_text(&d);
    assert!(
        text.contains("dev-limited cannot read repository \"ios\" in project \"Mobile\"") && text.contains("REPO_READ"),
        "{text}"
    );
    assert_eq!(diag_line(&d), line_of(&tf, "repositories = "), "{d}");
    // The probe that told "exists, no permission" from "no such repository".
    assert_eq!(
        tf.sandbox
            .route_calls("GET /bbdc/rest/api/1.0/projects/{key}/repos/{slug}"),
        1
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_project_not_visible_and_a_repository_that_does_not_exist_are_named() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    tf.config(&integration(
        "bbdc-missing",
        SVC.0,
        r#"  projects     = ["PLAT", "Security"]
  repositories = ["apii"]"#,
    ));
    let errors = failing_plan(&tf);
    let text: String = errors.iter().map(diag_text).collect();
    assert!(text.contains("\"PLAT\" is the key of project \"Platform\""), "{text}");
    assert!(
        text.contains("Project \"Security\" is not visible to svc-sei"),
        "{text}"
    );
    assert!(text.contains("Did you mean \"api\"?"), "{text}");
    let lines: Vec<u64> = errors.iter().map(diag_line).collect();
    assert!(lines.contains(&line_of(&tf, "projects     =")), "{errors:?}");
    assert!(lines.contains(&line_of(&tf, "repositories =")), "{errors:?}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_repository_outside_the_listed_projects_is_named() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    // svc-sei reads Mobile's ios, but SEI ingests only Platform's repositories.
    tf.config(&integration(
        "bbdc-outside",
        SVC.0,
        r#"  projects     = ["Platform"]
  repositories = ["api", "ios"]"#,
    ));
    let d = only_error(&tf);
    let text = diag_text(&d);
    assert!(
        text.contains("Repository \"ios\" is not visible to svc-sei")
            && text.contains("in the listed projects (Platform)")
            && text.contains("SEI ingests only repositories inside the listed projects"),
        "{text}"
    );
    assert_eq!(diag_line(&d), line_of(&tf, "repositories = "), "{d}");
    assert_eq!(
        tf.sandbox.route_calls("GET /bbdc/rest/api/1.0/projects/{key}/repos"),
        1,
        "only the listed project's repositories are listed"
    );
    assert_eq!(tf.sandbox.route_calls("GET /bbdc/rest/api/1.0/repos"), 0);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_project_token_in_basic_auth_is_explained() {
    let mut tf = Tf::new();
    dc(&mut tf, PROJECT_TOKEN);
    tf.config(&integration("bbdc-project-token", SVC.0, ""));
    let d = only_error(&tf);
    let text = diag_text(&d);
    assert!(
        text.contains("it is a project or repository HTTP access token")
            && text.contains("SEI sends Basic credentials")
            && text.contains("plat-project-token"),
        "{text}"
    );
    assert_eq!(diag_line(&d), line_of(&tf, "password_wo = var.bbdc_token"), "{d}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_url_that_is_not_data_center_fails_on_url() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    // Bitbucket Cloud's side: it answers, but not as Data Center does.
    let cloud = format!("{}/bitbucket", tf.sandbox.base);
    tf.set_env("TF_VAR_bbdc_url", &cloud);
    tf.config(&integration("bbdc-wrong-url", SVC.0, ""));
    let d = only_error(&tf);
    let text = diag_text(&d);
    assert!(
        text.contains("not a Bitbucket Data Center") && text.contains("answered HTTP 404"),
        "{text}"
    );
    assert_eq!(diag_line(&d), line_of(&tf, "url  = var.bbdc_url"), "{d}");
    // A literal trailing slash or /rest is refused at validate.
    tf.config(&integration("bbdc-slash", SVC.0, "").replace(
        "url  = var.bbdc_url",
        "url  = \"https://bitbucket.acme.internal/rest/api/1.0\"",
    ));
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("without \\\"/rest/...\\\""), "{}", out.stdout);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn twenty_integrations_sharing_one_credential_and_server_cost_what_one_does() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    let body = r#"  projects     = ["Platform"]
  repositories = ["api", "web"]"#;
    let counted = |n: u32| {
        integration("bbdc-many", SVC.0, body).replace(
            "resource \"sei_bitbucket_server_integration\" \"onprem\" {\n  name = \"bbdc-many\"",
            &format!("resource \"sei_bitbucket_server_integration\" \"onprem\" {{\n  count = {n}\n  name = \"bbdc-many-${{count.index}}\""),
        )
    };
    let mut calls = Vec::new();
    for n in [1, 20] {
        tf.config(&counted(n));
        tf.sandbox.reset_counters();
        let out = tf.ok(&["plan", "-no-color"]);
        assert!(out.stdout.contains(&format!("{n} to add")), "{}", out.stdout);
        calls.push(tf.sandbox.calls("GET /bbdc/"));
    }
    println!("Data Center calls for a plan of 1 and of 20 integrations sharing one credential: {calls:?}");
    assert_eq!(calls[0], calls[1], "{}", tf.sandbox.counters());
    // The version probe, the projects, the listed project's repositories.
    assert_eq!(calls[1], 3, "{}", tf.sandbox.counters());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_data_center_that_keeps_answering_429_gives_a_warning_after_the_retries() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    tf.set_env("SEI_MAX_RETRIES", "1");
    tf.config(&integration("bbdc-throttled", SVC.0, ""));
    tf.sandbox.control(
        "PUT",
        "/datacenter/rate-limit",
        Some(json!({"size": 1, "refill_per_second": 1})),
    );
    tf.sandbox
        .fault(json!({"path": "/bbdc/rest/api/1.0/projects", "status": 429, "count": 100, "retry_after": 1}));
    let out = tf.plan_json();
    assert_eq!(out.code, 0, "{}", out.all());
    let text: String = out.warnings().iter().map(diag_text).collect();
    assert!(
        text.contains("rate limited") && text.contains("the limit resets at"),
        "{text}"
    );
    assert_eq!(
        tf.sandbox.route_calls("GET /bbdc/rest/api/1.0/projects"),
        2,
        "one retry"
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn the_data_sources_take_and_return_the_application() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    tf.config(&format!(
        "{}\n{}",
        integration("bbdc-listed", SVC.0, r#"  projects = ["Mobile"]"#),
        r#"
data "sei_bitbucket_integrations" "dc" {
  application = "bitbucket_server"
  depends_on  = [sei_bitbucket_server_integration.onprem]
}
data "sei_bitbucket_integration" "one" {
  name        = "bbdc-listed"
  application = "bitbucket_server"
  depends_on  = [sei_bitbucket_server_integration.onprem]
}
data "sei_bitbucket_integrations" "cloud" {
  depends_on = [sei_bitbucket_server_integration.onprem]
}
output "dc" {
  value = [for i in data.sei_bitbucket_integrations.dc.integrations : "${i.name}:${i.application}:${join(",", i.projects)}"]
}
output "one" {
  value = data.sei_bitbucket_integration.one.application
}
output "cloud" {
  value = length(data.sei_bitbucket_integrations.cloud.integrations)
}
"#
    ));
    tf.apply();
    let out = tf.ok(&["output", "-json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["dc"]["value"], json!(["bbdc-listed:bitbucket_server:Mobile"]));
    assert_eq!(v["one"]["value"], "bitbucket_server");
    assert_eq!(v["cloud"]["value"], 0);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn data_center_secrets_stay_out_of_state_plan_and_trace_logs() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    tf.set_env("TF_LOG", "trace");
    tf.config(&integration("bbdc-secrets", SVC.0, r#"  repositories = ["api"]"#));
    let plan_json = tf.plan_file_json("tfplan");
    let mut outputs = vec![tf.run(&["plan", "-out", "tfplan", "-no-color"])];
    outputs.push(tf.apply());
    outputs.push(tf.run(&["plan", "-no-color"]));
    let state = tf.state_text();
    let terminal: String = outputs.iter().map(|o| o.all()).collect();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", SVC.0, SVC.1));
    for s in [SVC.1.to_string(), basic] {
        assert!(!state.contains(&s), "write-only secret in state");
        assert!(!plan_json.to_string().contains(&s), "secret in plan JSON");
        assert!(!terminal.contains(&s), "secret in terminal output or TF_LOG=trace");
    }
    // The check's HTTP calls are logged, with the URL and no secret.
    assert!(
        terminal.contains("/bbdc/rest/api/1.0/projects")
            && terminal.contains("tf_resource_type=sei_bitbucket_server_integration"),
        "the Data Center calls are in the trace log"
    );
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn the_datacenter_example_applies_against_the_sandbox() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    std::fs::copy(
        repo_root().join("examples/datacenter/main.tf"),
        tf.work().join("main.tf"),
    )
    .unwrap();
    tf.apply();
    let out = tf.ok(&["output", "-json", "integrations"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["bbdc-platform"]["server_version"], "8.19.1", "{v}");
    assert_eq!(v["bbdc-mobile"]["status"], "ACTIVE", "{v}");
    tf.assert_empty_plan();
    tf.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(tf.sandbox.all_integrations().is_empty());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_failing_plans_trace_log_shows_the_failing_call_and_no_secret() {
    let mut tf = Tf::new();
    let bad = "BBDC-wrong-secret-for-the-log-test";
    dc(&mut tf, bad);
    tf.set_env("TF_LOG", "trace");
    // Two integrations on one credential: the second is a cache hit.
    tf.config(&integration("bbdc-log", SVC.0, "").replace(
        "resource \"sei_bitbucket_server_integration\" \"onprem\" {\n  name = \"bbdc-log\"",
        "resource \"sei_bitbucket_server_integration\" \"onprem\" {\n  count = 2\n  name = \"bbdc-log-${count.index}\"",
    ));
    let out = tf.run(&["plan", "-no-color"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    let failing: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-sei: HTTP call") && l.contains("status=401"))
        .collect();
    let line = failing
        .iter()
        .find(|l| l.contains("/bbdc/rest/api/1.0/projects"))
        .unwrap_or_else(|| panic!("no failing call in the log: {failing:?}"));
    for field in [
        "method=GET",
        "duration_ms=",
        "attempt=1",
        "credential=\"user svc-sei\"",
        "tf_rpc=PlanResourceChange",
        "tf_resource_type=sei_bitbucket_server_integration",
        "tf_req_id=",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{bad}", SVC.0));
    assert!(!all.contains(bad) && !all.contains(&basic), "a secret in the log");
    // Cache hits of the check are TRACE lines.
    assert!(
        all.lines()
            .any(|l| l.contains("[TRACE] provider.terraform-provider-sei: credential check answered from the cache")),
        "no cache-hit line at TRACE"
    );
}

/// dev-limited's own token given with svc-sei's username: the diagnostic
/// names the token's owner, not "a project or repository token".
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_user_token_given_with_another_username_names_its_owner() {
    let mut tf = Tf::new();
    dc(&mut tf, LIMITED.1);
    tf.config(&integration("bbdc-wrong-owner", SVC.0, ""));
    let d = only_error(&tf);
    let text = diag_text(&d);
    assert!(
        text.contains(
            "an HTTP access token (or the password) of the Data Center user \"dev-limited\", not of \"svc-sei\""
        ) && text.contains("Set `username = \"dev-limited\"`"),
        "{text}"
    );
    assert!(!text.contains("project or repository HTTP access token"), "{text}");
    assert_eq!(diag_line(&d), line_of(&tf, "password_wo = var.bbdc_token"), "{d}");
}

/// An empty secret (an unset variable) is said on its attribute, before
/// any call to Bitbucket.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn an_empty_secret_is_named_before_any_call() {
    let mut tf = Tf::new();
    dc(&mut tf, "");
    tf.config(&integration("bbdc-empty", SVC.0, ""));
    let d = only_error(&tf);
    assert_eq!(d["summary"], "Empty secret", "{d}");
    assert!(
        diag_text(&d).contains("credential[0].password_wo is an empty string"),
        "{d}"
    );
    assert_eq!(diag_line(&d), line_of(&tf, "password_wo = var.bbdc_token"), "{d}");
    assert_eq!(tf.sandbox.calls("GET /bbdc"), 0, "no Data Center call");
}

/// A server this machine reaches but SEI's servers do not (here: the same
/// sandbox by another host name, which the sandbox's SEI treats as a
/// server it cannot connect to). The apply's error says so on `url`, not
/// "Fix the credentials".
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_server_sei_cannot_reach_is_not_called_a_credential_problem() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    let port = tf.sandbox.base.rsplit(':').next().unwrap().to_string();
    tf.set_env("TF_VAR_bbdc_url", &format!("http://localhost:{port}/bbdc"));
    tf.config(&integration("bbdc-unreachable", SVC.0, ""));
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let text = diag_text(&errors[0]);
    assert!(
        text.contains("SEI's servers could not connect to the server at `url`"),
        "{text}"
    );
    assert!(text.contains("satellite = true"), "{text}");
    assert!(!text.contains("Fix the credentials"), "{text}");
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "url  = var.bbdc_url"));
    assert!(tf.sandbox.all_integrations().is_empty(), "nothing was created");
}

/// A Data Center record looked up by name without `application` (which
/// defaults to Bitbucket Cloud) is named, with the setting to add.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_data_center_lookup_without_application_says_which_to_set() {
    let mut tf = Tf::new();
    dc(&mut tf, SVC.1);
    tf.config(&integration("bbdc-looked-up", SVC.0, ""));
    tf.apply();
    let id = tf.attrs("sei_bitbucket_server_integration.onprem")["id"]
        .as_str()
        .unwrap()
        .to_string();
    tf.config(&format!(
        "{}\ndata \"sei_bitbucket_integration\" \"one\" {{\n  name = \"bbdc-looked-up\"\n}}\n",
        integration("bbdc-looked-up", SVC.0, "")
    ));
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let text = diag_text(&errors[0]);
    assert!(
        text.contains(&format!(
            "named \"bbdc-looked-up\" (id {id}) has application \"bitbucket_server\""
        )) && text.contains("the default")
            && text.contains("set application = \"bitbucket_server\""),
        "{text}"
    );
    assert_eq!(
        diag_line(&errors[0]),
        line_of(&tf, "data \"sei_bitbucket_integration\" \"one\"")
    );
}
