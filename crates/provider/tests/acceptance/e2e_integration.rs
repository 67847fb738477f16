//! `sei_bitbucket_integration` end to end: real terraform, real provider
//! binary over AutoMTLS, real sandbox over HTTP.

use crate::common::*;
use serde_json::json;

const VARS: &str = r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}
variable "ci_token" {
  type      = string
  ephemeral = true
}
"#;

fn with_tokens(tf: &mut Tf) {
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.set_env("TF_VAR_ci_token", CI.1);
}

fn two_credentials(name: &str, extra: &str) -> String {
    format!(
        r#"{VARS}
resource "sei_bitbucket_integration" "prod" {{
  name         = "{name}"
  repositories = ["acme/api", "acme/web"]
{extra}
  credential {{
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }}
  credential {{
    username    = "ci@acme.example"
    password_wo = var.ci_token
  }}
  credentials_version = 1
}}
"#
    )
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn create_empty_plan_update_in_place_and_destroy() {
    let mut tf = Tf::new();
    with_tokens(&mut tf);
    tf.config(&two_credentials("bb-prod", r#"  description = "Prod workspaces""#));
    tf.apply();
    let attrs = tf.attrs("sei_bitbucket_integration.prod");
    let id = attrs["id"].as_str().unwrap().to_string();
    assert_eq!(attrs["authentication"], "multiple_api_keys");
    assert!(attrs["created_at"].as_i64().unwrap() > 0);
    let (status, record) = tf.sandbox.integration(&id);
    assert_eq!(status, 200);
    assert_eq!(record["authentication"], "multiple_api_keys");
    assert_eq!(record["metadata"]["repos"], "acme/api,acme/web");
    assert_eq!(record["description"], "Prod workspaces");
    tf.assert_empty_plan();

    tf.config(&two_credentials(
        "bb-prod",
        r#"  description = "All prod"
  tags        = ["17"]"#,
    ));
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2);
    assert!(out.stdout.contains("1 to change, 0 to destroy"), "{}", out.stdout);
    tf.apply();
    let (_, record) = tf.sandbox.integration(&id);
    assert_eq!(record["description"], "All prod");
    assert_eq!(record["tags"], json!(["17"]));
    assert_eq!(
        tf.attrs("sei_bitbucket_integration.prod")["id"],
        id.as_str(),
        "updated in place, same id"
    );
    tf.assert_empty_plan();

    tf.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(tf.sandbox.integration(&id).0, 404);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn drift_is_shown_and_restored_keeping_unmanaged_metadata() {
    let mut tf = Tf::new();
    with_tokens(&mut tf);
    tf.config(&two_credentials("bb-drift", r#"  description = "managed""#));
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.prod")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, record) = tf.sandbox.integration(&id);
    let mut metadata = record["metadata"].clone();
    metadata["fetch_prs"] = json!(false);
    metadata["ui_only_setting"] = json!("keep me");
    let (status, _) = tf.sandbox.send(
        "PUT",
        &format!("/sei/api/v1/integrations/{id}"),
        Some(json!({"name": "bb-drift-renamed", "description": "changed in the UI", "tags": ["9"], "metadata": metadata})),
    );
    assert_eq!(status, 200);

    let (code, out) = tf.plan_code();
    assert_eq!(code, 2, "drift must show:\n{}", out.all());
    assert!(
        out.stdout.contains("bb-drift-renamed") && out.stdout.contains("fetch_prs"),
        "{}",
        out.stdout
    );
    tf.apply();
    let (_, record) = tf.sandbox.integration(&id);
    assert_eq!(record["name"], "bb-drift");
    assert_eq!(record["description"], "managed");
    assert_eq!(record["tags"], json!([]));
    assert_eq!(record["metadata"]["fetch_prs"], true);
    assert_eq!(
        record["metadata"]["ui_only_setting"], "keep me",
        "unmanaged metadata survives our update"
    );
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn out_of_band_delete_plans_a_create_and_destroy_tolerates_it() {
    let mut tf = Tf::new();
    with_tokens(&mut tf);
    tf.config(&two_credentials("bb-gone", ""));
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.prod")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, deleted) = tf
        .sandbox
        .send("DELETE", &format!("/sei/api/v1/integrations/{id}"), None);
    assert_eq!(deleted["success"], true);
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2);
    assert!(out.stdout.contains("will be created"), "{}", out.stdout);
    // Already gone, and not refreshed: delete must still succeed.
    let out = tf.run(&["destroy", "-auto-approve", "-refresh=false", "-no-color"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(tf.attrs("sei_bitbucket_integration.prod").is_null());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn one_block_is_api_key_and_resends_follow_the_rules() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_ops_password", OPS.1);
    let config = |password_var: &str, version: u32, url: &str| {
        format!(
            r#"
variable "ops_password" {{
  type      = string
  sensitive = true
}}
variable "other_password" {{
  type      = string
  sensitive = true
  default   = "rotated-secret"
}}
resource "sei_bitbucket_integration" "one" {{
  name = "bb-one"
  url  = "{url}"
  credential {{
    username = "ops@acme.example"
    password = var.{password_var}
  }}
  credentials_version = {version}
}}
"#
        )
    };
    tf.config(&config("ops_password", 1, "https://bitbucket.org"));
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.one")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(tf.sandbox.integration(&id).1["authentication"], "api_key");
    assert_eq!(tf.sandbox.token_record(&id)["replacements"], 0);
    tf.assert_empty_plan();

    // A credentials_version bump re-sends.
    tf.config(&config("ops_password", 2, "https://bitbucket.org"));
    tf.apply();
    assert_eq!(tf.sandbox.token_record(&id)["replacements"], 1);
    tf.assert_empty_plan();

    // A url change re-sends, with the new url.
    tf.config(&config("ops_password", 2, "https://bitbucket.example.org"));
    tf.apply();
    assert_eq!(tf.sandbox.token_record(&id)["replacements"], 2);
    assert_eq!(tf.sandbox.integration(&id).1["url"], "https://bitbucket.example.org");
    tf.assert_empty_plan();

    // A changed stored password re-sends (live checks off: the sandbox
    // knows one secret per account).
    tf.set_env("SEI_VALIDATE_CREDENTIALS", "false");
    let before = tf.sandbox.token_record(&id)["secret_sha256"].clone();
    tf.config(&config("other_password", 2, "https://bitbucket.example.org"));
    tf.apply();
    let after = tf.sandbox.token_record(&id);
    assert_eq!(after["replacements"], 3);
    assert_ne!(after["secret_sha256"], before);
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn import_by_id_and_by_name() {
    let mut tf = Tf::new();
    with_tokens(&mut tf);
    let (status, created) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "bb-legacy", "application": "bitbucket", "url": "https://bitbucket.org",
                    "method": "apikey", "username": OPS.0, "apikey": OPS.1, "tags": [],
                    "metadata": {"fetch_commits": true, "fetch_prs": true, "fetch_pr_reviews": true,
                                 "fetch_commit_files": false, "repos": "acme/api,acme/web"}}),
        ),
    );
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (_, sat) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "bb-satellite", "application": "bitbucket", "url": "https://bitbucket.org",
                    "satellite": true, "tags": ["4"], "metadata": {"repos": ""}}),
        ),
    );
    let sat_id = sat["id"].as_str().unwrap().to_string();

    tf.config(&format!(
        "{}\nresource \"sei_bitbucket_integration\" \"sat\" {{\n  name      = \"bb-satellite\"\n  satellite = true\n  tags      = [\"4\"]\n}}\n",
        two_credentials("bb-legacy", "")
    ));
    tf.ok(&["import", "-no-color", "sei_bitbucket_integration.prod", &id]);
    tf.ok(&[
        "import",
        "-no-color",
        "sei_bitbucket_integration.sat",
        "name:bb-satellite",
    ]);
    let sat_attrs = tf.attrs("sei_bitbucket_integration.sat");
    assert_eq!(sat_attrs["id"], sat_id.as_str());
    assert_eq!(sat_attrs["skip_preflight"], false);
    assert_eq!(sat_attrs["start_ingestion"], true);
    assert!(sat_attrs["credentials_version"].is_null());

    // The credentialed record: exactly one in-place update that sends the
    // configured credentials; the satellite plans no change.
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2);
    assert!(
        out.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("sei_bitbucket_integration.prod will be updated in-place"),
        "{}",
        out.stdout
    );
    tf.apply();
    let token = tf.sandbox.token_record(&id);
    assert_eq!(token["replacements"], 1);
    assert_eq!(token["usernames"], json!([OPS.0, CI.0]));
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn import_block_by_name() {
    let tf = Tf::new();
    let (_, sat) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "bb-imported", "application": "bitbucket", "url": "https://bitbucket.org",
                    "satellite": true, "tags": [], "metadata": {}}),
        ),
    );
    tf.config(
        "import {\n  to = sei_bitbucket_integration.sat\n  id = \"name:bb-imported\"\n}\nresource \"sei_bitbucket_integration\" \"sat\" {\n  name      = \"bb-imported\"\n  satellite = true\n}\n",
    );
    let out = tf.ok(&["plan", "-no-color"]);
    assert!(
        out.stdout
            .contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        out.stdout
    );
    tf.apply();
    assert_eq!(tf.attrs("sei_bitbucket_integration.sat")["id"], sat["id"]);
    tf.assert_empty_plan();
}

fn authorize_code(tf: &Tf) -> String {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client
        .get(format!(
            "{}/authorize?client_id=sei-consumer&response_type=code&state=s1",
            tf.sandbox.bitbucket_oauth()
        ))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string()
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn oauth_integration_from_an_authorize_code_and_import_records_version_without_a_code() {
    let mut tf = Tf::new();
    let first_code = authorize_code(&tf);
    tf.set_env("TF_VAR_code", &first_code);
    let config = |version: &str| {
        format!(
            "variable \"code\" {{\n  type      = string\n  ephemeral = true\n}}\nresource \"sei_bitbucket_integration\" \"oauth\" {{\n  name                = \"bb-oauth\"\n  oauth_code_wo       = var.code\n  credentials_version = {version}\n}}\n"
        )
    };
    tf.config(&config("null"));
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.oauth")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(tf.sandbox.integration(&id).1["authentication"], "oauth");
    assert!(!tf.state_text().contains(&first_code), "no code in state");
    tf.assert_empty_plan();

    // Import of an OAuth record made elsewhere: the first plan only records
    // credentials_version; no code is sent.
    let other = Tf::new();
    let code = authorize_code(&other);
    let (status, rec) = other.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "bb-oauth", "application": "bitbucket", "url": "https://bitbucket.org",
                    "method": "oauth", "code": code, "tags": [], "metadata": {}}),
        ),
    );
    assert_eq!(status, 200, "{rec}");
    let mut other = other;
    other.set_env("TF_VAR_code", "an-already-used-code");
    other.config(&config("1"));
    other.ok(&[
        "import",
        "-no-color",
        "sei_bitbucket_integration.oauth",
        rec["id"].as_str().unwrap(),
    ]);
    other.sandbox.reset_counters();
    let (code, out) = other.plan_code();
    assert_eq!(code, 2, "{}", out.all());
    assert!(
        out.stdout.contains("credentials_version") && out.stdout.contains("1 to change"),
        "{}",
        out.stdout
    );
    other.apply();
    assert_eq!(
        other.sandbox.token_record(rec["id"].as_str().unwrap())["replacements"],
        0
    );
    assert_eq!(
        other.sandbox.calls("PUT /sei/"),
        0,
        "no update, hence no code, was sent"
    );
    other.assert_empty_plan();
}

/// The OAuth guide's import, as written: `credentials_version = 1` and no
/// `oauth_code_wo` placeholder. The first plan imports and records the
/// version (one in-place update that sends SEI nothing); the next is empty.
/// Without credentials_version, or for a record that holds keys, the
/// configuration is still "Missing credentials".
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn an_oauth_integration_imports_with_credentials_version_only() {
    let tf = Tf::new();
    let code = authorize_code(&tf);
    let (status, rec) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "bb-oauth-ui", "application": "bitbucket", "url": "https://bitbucket.org",
                    "method": "oauth", "code": code, "tags": [], "metadata": {}}),
        ),
    );
    assert_eq!(status, 200, "{rec}");
    let id = rec["id"].as_str().unwrap().to_string();
    let config = |version: &str| {
        format!(
            "import {{\n  to = sei_bitbucket_integration.oauth\n  id = \"{id}\"\n}}\nresource \"sei_bitbucket_integration\" \"oauth\" {{\n  name                = \"bb-oauth-ui\"\n  credentials_version = {version}\n}}\n"
        )
    };
    tf.config(&config("null"));
    let refused = tf.run(&["validate", "-json"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(refused.stdout.contains("Missing credentials"), "{}", refused.stdout);

    tf.config(&config("1"));
    tf.sandbox.reset_counters();
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2, "{}", out.all());
    assert!(
        out.stdout.contains("1 to import, 0 to add, 1 to change, 0 to destroy"),
        "{}",
        out.stdout
    );
    tf.apply();
    assert_eq!(tf.sandbox.calls("PUT /sei/"), 0, "no update, hence no code, was sent");
    assert_eq!(tf.sandbox.token_record(&id)["replacements"], 0);
    assert_eq!(tf.attrs("sei_bitbucket_integration.oauth")["credentials_version"], 1);
    assert_eq!(tf.attrs("sei_bitbucket_integration.oauth")["authentication"], "oauth");
    tf.assert_empty_plan();

    // A record that holds keys, configured the same way, is told to add them.
    let (_, keyed) = tf.sandbox.send(
        "POST",
        "/sei/api/v1/integrations",
        Some(
            json!({"name": "bb-keyed-ui", "application": "bitbucket", "url": "https://bitbucket.org",
                    "method": "apikey", "username": OPS.0, "apikey": OPS.1, "tags": [], "metadata": {}}),
        ),
    );
    let keyed_id = keyed["id"].as_str().unwrap_or_else(|| panic!("{keyed}")).to_string();
    let other = tf.other_work("keyed");
    tf.config_in(
        &other,
        &format!("import {{\n  to = sei_bitbucket_integration.keyed\n  id = \"{keyed_id}\"\n}}\nresource \"sei_bitbucket_integration\" \"keyed\" {{\n  name                = \"bb-keyed-ui\"\n  credentials_version = 1\n}}\n"),
    );
    let out = tf.run_in(&other, &["plan", "-no-color", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("Missing credentials"), "{}", out.all());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_name_conflict_gives_the_import_command_at_plan_and_at_apply() {
    let mut tf = Tf::new();
    with_tokens(&mut tf);
    let taken = |tf: &Tf, name: &str| {
        let (_, existing) = tf.sandbox.send(
            "POST",
            "/sei/api/v1/integrations",
            Some(
                json!({"name": name, "application": "bitbucket", "url": "https://bitbucket.org",
                        "satellite": true, "tags": [], "metadata": {}}),
            ),
        );
        existing["id"].as_str().unwrap().to_string()
    };
    let check = |tf: &Tf, out: &Out, id: &str, name: &str| {
        assert_ne!(out.code, 0);
        let errors = out.errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["summary"], "Integration name already taken");
        let text = diag_text(&errors[0]);
        let block = format!("  import {{\n    to = <this resource's address>\n    id = \"{id}\"\n  }}");
        assert!(text.contains(&block), "a valid import block: {text}");
        assert!(
            text.contains(&format!("terraform import <this resource's address> {id}")),
            "{text}"
        );
        assert!(text.contains("create_before_destroy"), "{text}");
        assert!(!text.contains("HTTP 500"), "{text}");
        assert_eq!(
            diag_line(&errors[0]),
            line_of(tf, &format!("name         = \"{name}\""))
        );
        assert_eq!(
            tf.sandbox.route_calls("POST /sei/api/v1/integrations"),
            0,
            "no create sent"
        );
    };

    // At plan: the name is held, in another case.
    let id = taken(&tf, "BB-Taken");
    tf.config(&two_credentials("bb-taken", ""));
    tf.sandbox.reset_counters();
    let out = tf.run(&["apply", "-auto-approve", "-json"]);
    check(&tf, &out, &id, "bb-taken");

    // At apply: the name was free when the plan was saved, and is taken
    // when it is applied; the apply's own plan says so before any POST.
    tf.config(&two_credentials("bb-later", ""));
    tf.ok(&["plan", "-out", "tfplan", "-no-color", "-input=false"]);
    let id = taken(&tf, "bb-later");
    tf.sandbox.reset_counters();
    let out = tf.run(&["apply", "-json", "tfplan"]);
    check(&tf, &out, &id, "bb-later");
    assert_eq!(tf.sandbox.all_integrations().len(), 2);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn retried_create_under_injected_faults_makes_exactly_one_record() {
    let mut tf = Tf::new();
    with_tokens(&mut tf);
    tf.config(&two_credentials("bb-faults", ""));
    for (status, count) in [(429, 3), (503, 2)] {
        tf.sandbox
            .fault(json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": status, "count": count}));
    }
    tf.apply();
    let records: Vec<_> = tf
        .sandbox
        .all_integrations()
        .into_iter()
        .filter(|r| r["name"] == "bb-faults")
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(
        tf.sandbox.route_calls("POST /sei/api/v1/integrations"),
        6,
        "5 faults, then the create"
    );
    tf.assert_empty_plan();
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn preflight_failures_quote_sei_and_ingestion_flags_act_as_documented() {
    let mut tf = Tf::new();
    with_tokens(&mut tf);
    // With live checks off, SEI's own preflight is what catches a revoked token.
    tf.set_env("SEI_VALIDATE_CREDENTIALS", "false");
    tf.sandbox.revoke(CI.0);
    tf.config(&two_credentials("bb-preflight", "  start_ingestion = false"));
    let out = tf.run(&["apply", "-auto-approve", "-json"]);
    assert_ne!(out.code, 0);
    let text = out.errors().iter().map(diag_text).collect::<String>();
    assert!(
        text.contains("Get repositories") && text.contains(CI.0) && text.contains("401"),
        "{text}"
    );
    assert!(tf.sandbox.all_integrations().is_empty(), "nothing half-created");

    tf.sandbox
        .control("POST", &format!("/principals/{}/restore", CI.0), None);
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.prod")["id"]
        .as_str()
        .unwrap()
        .to_string();
    tf.sandbox.reset_counters();
    // skip_preflight acts at create only: changing it later touches state only.
    tf.config(&two_credentials(
        "bb-preflight",
        "  start_ingestion = false\n  skip_preflight = true",
    ));
    tf.apply();
    assert_eq!(tf.sandbox.route_calls("PUT /sei/api/v1/integrations/{id}"), 0);
    assert_eq!(tf.attrs("sei_bitbucket_integration.prod")["skip_preflight"], true);
    // start_ingestion false -> true resumes ingestion with an update.
    tf.config(&two_credentials(
        "bb-preflight",
        "  start_ingestion = true\n  skip_preflight = true",
    ));
    tf.apply();
    assert_eq!(tf.sandbox.route_calls("PUT /sei/api/v1/integrations/{id}"), 1);
    assert_eq!(tf.attrs("sei_bitbucket_integration.prod")["id"], id.as_str());
    tf.assert_empty_plan();
}

/// The resource and both data sources map SEI's record in one place, so a
/// record created without `url` shows the same url everywhere.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn resource_and_data_sources_agree_on_a_record_created_without_url() {
    let tf = Tf::new();
    tf.config(
        r#"
resource "sei_bitbucket_integration" "sat" {
  name      = "bb-no-url"
  satellite = true
}
data "sei_bitbucket_integration" "by_id" {
  id = sei_bitbucket_integration.sat.id
}
data "sei_bitbucket_integrations" "all" {
  name_prefix = "bb-no-url"
  depends_on  = [sei_bitbucket_integration.sat]
}
output "urls" {
  value = [
    sei_bitbucket_integration.sat.url,
    data.sei_bitbucket_integration.by_id.url,
    data.sei_bitbucket_integrations.all.integrations[0].url,
  ]
}
"#,
    );
    tf.apply();
    let out = tf.ok(&["output", "-json", "urls"]);
    let urls: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        urls,
        json!([
            "https://bitbucket.org",
            "https://bitbucket.org",
            "https://bitbucket.org"
        ])
    );
    let id = tf.attrs("sei_bitbucket_integration.sat")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, record) = tf.sandbox.integration(&id);
    assert_eq!(record["url"], "https://bitbucket.org");
}

/// Only SEI's own not-found answer for an id means "gone": a wrong endpoint
/// path or a proxy's HTML 404 is an error naming `endpoint`, and neither
/// state nor SEI changes.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_404_that_is_not_seis_own_answer_fails_naming_endpoint_and_loses_nothing() {
    let mut tf = Tf::new();
    tf.config(
        r#"
resource "sei_bitbucket_integration" "sat" {
  name      = "bb-honest"
  satellite = true
}
"#,
    );
    tf.apply();
    let id = tf.attrs("sei_bitbucket_integration.sat")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let state_before = tf.attrs("sei_bitbucket_integration.sat");
    let right = tf.sandbox.sei_endpoint();
    let wrong = right.replace("/sei/api", "/gateway/sei/api");

    let expect_endpoint_error = |tf: &Tf, args: &[&str], url_part: &str| {
        let out = tf.run(args);
        assert_eq!(out.code, 1, "{}", out.all());
        let errors = out.errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let text = diag_text(&errors[0]);
        assert!(text.contains("`endpoint` (SEI_ENDPOINT)"), "{text}");
        assert!(text.contains(url_part), "{text}");
        assert!(!text.contains("Could not find"), "{text}");
    };
    tf.set_env("SEI_ENDPOINT", &wrong);
    let wrong_url = format!("{wrong}/v1/integrations/{id}");
    expect_endpoint_error(&tf, &["plan", "-json", "-input=false"], &wrong_url);
    expect_endpoint_error(&tf, &["apply", "-auto-approve", "-json", "-input=false"], &wrong_url);
    assert_eq!(tf.attrs("sei_bitbucket_integration.sat"), state_before);

    // A proxy in front of the right endpoint answers one GET with HTML.
    tf.set_env("SEI_ENDPOINT", &right);
    tf.sandbox.fault(
        json!({"method": "GET", "path": format!("/sei/api/v1/integrations/{id}"),
                            "status": 404, "count": 1,
                            "body": "<html><head><title>404 Not Found</title></head><body>nginx</body></html>"}),
    );
    expect_endpoint_error(
        &tf,
        &["apply", "-auto-approve", "-json", "-input=false"],
        &format!("{right}/v1/integrations/{id}"),
    );
    assert_eq!(tf.attrs("sei_bitbucket_integration.sat"), state_before);
    assert_eq!(tf.sandbox.integration(&id).0, 200, "SEI still holds it");
    tf.sandbox.send("DELETE", "/_sandbox/faults", None);
    tf.assert_empty_plan();
}

/// `description = ""` means "no description": accepted while SEI holds none,
/// refused at plan on its line once SEI holds one it cannot clear.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn an_empty_description_applies_replans_empty_and_is_refused_when_sei_holds_one() {
    let tf = Tf::new();
    tf.config(
        r#"
resource "sei_bitbucket_integration" "sat" {
  name        = "bb-no-description"
  description = ""
  satellite   = true
}
"#,
    );
    tf.apply();
    assert_eq!(tf.attrs("sei_bitbucket_integration.sat")["description"], "");
    let id = tf.attrs("sei_bitbucket_integration.sat")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, record) = tf.sandbox.integration(&id);
    assert!(
        record.get("description").is_none_or(|d| d.is_null() || d == ""),
        "{record}"
    );
    tf.assert_empty_plan();

    // Someone sets a description in the SEI UI.
    let (status, _) = tf.sandbox.send(
        "PUT",
        &format!("/sei/api/v1/integrations/{id}"),
        Some(
            json!({"name": "bb-no-description", "description": "set in the UI", "tags": [],
                    "metadata": record["metadata"].clone()}),
        ),
    );
    assert_eq!(status, 200);
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["summary"], "SEI cannot clear a description");
    assert!(diag_text(&errors[0]).contains("\"set in the UI\""), "{errors:?}");
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "description = \"\""));
}

/// What to check when SEI refuses the key or cannot be reached.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_key_of_another_account_and_an_unreachable_endpoint_name_their_settings() {
    let mut tf = Tf::new();
    tf.config(
        r#"
resource "sei_bitbucket_integration" "sat" {
  name      = "bb-settings"
  satellite = true
}
"#,
    );
    tf.set_env("SEI_ACCOUNT_ID", "SomeOtherAccount");
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let text = diag_text(&out.errors()[0]);
    assert!(text.contains("401"), "{text}");
    assert!(
        text.contains("`api_key` / SEI_API_KEY")
            && text.contains("\"SomeOtherAccount\" (`account_id` / SEI_ACCOUNT_ID)"),
        "{text}"
    );
    tf.unset_env("SEI_ACCOUNT_ID");

    tf.set_env("SEI_ENDPOINT", "http://127.0.0.1:1/sei/api");
    tf.set_env("SEI_MAX_RETRIES", "0");
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let text = diag_text(&out.errors()[0]);
    assert!(
        text.contains("Check the provider's `endpoint` (SEI_ENDPOINT), now http://127.0.0.1:1/sei/api"),
        "{text}"
    );
    assert!(tf.sandbox.all_integrations().is_empty());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn an_imported_integration_without_credential_blocks_is_told_what_to_add() {
    let tf = Tf::new();
    tf.config(
        r#"
import {
  to = sei_bitbucket_integration.imported
  id = "4512"
}
resource "sei_bitbucket_integration" "imported" {
  name = "bb-from-the-ui"
}
"#,
    );
    let out = tf.run(&["validate", "-json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["summary"], "Missing credentials", "{v}");
    let text = diag_text(d);
    assert!(
        text.contains("add one `credential` block per Bitbucket account SEI should use")
            && text.contains("the first apply after the import sends the configured ones"),
        "{text}"
    );
    assert_eq!(
        diag_line(d),
        line_of(&tf, "resource \"sei_bitbucket_integration\" \"imported\"")
    );
}

/// SEI answers a code it cannot exchange with a bare 500; the provider
/// says what it is, on `oauth_code_wo`, and what to do.
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_bad_oauth_code_is_explained_on_its_line() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_code", "a-code-bitbucket-never-issued");
    tf.config(
        "variable \"code\" {\n  type      = string\n  ephemeral = true\n}\nresource \"sei_bitbucket_integration\" \"oauth\" {\n  name                = \"bb-oauth-bad\"\n  oauth_code_wo       = var.code\n  credentials_version = 1\n}\n",
    );
    let out = tf.run(&["apply", "-auto-approve", "-json", "-input=false"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let text = diag_text(&errors[0]);
    assert!(
        text.contains("SEI could not exchange the authorization code with Bitbucket")
            && text.contains("A code works once")
            && text.contains("oauth-reauthorization.md"),
        "{text}"
    );
    assert_eq!(diag_line(&errors[0]), line_of(&tf, "oauth_code_wo       = var.code"));
    assert!(tf.sandbox.all_integrations().is_empty());
}
