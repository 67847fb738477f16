//! sei-sandbox over HTTP: the SEI and Bitbucket contracts, quirks included,
//! plus the control plane. Each test starts its own sandbox on port 0.

use std::collections::HashSet;

use reqwest::{Client, StatusCode};
use sei_sandbox::{self as sandbox, RunningSandbox};
use serde_json::{json, Value};

const KEY: &str = "sandbox-sei-api-key";
const PAT: &str = "pat.acme.sandbox.token";
const OPS: (&str, &str) = ("ops@acme.example", "ATATT-sandbox-ops-token");

/// The examples' seed without its pre-existing integrations: these tests
/// count the records they make from an empty account.
fn seed() -> sandbox::Seed {
    let mut seed = seeded();
    seed.sei.integrations.clear();
    seed
}

fn seeded() -> sandbox::Seed {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sandbox/seed.json")).unwrap();
    sandbox::parse_seed(&text).unwrap()
}

/// SEI's tags API as gitsei's TagsController serves it: GET by id (404 for
/// none), the paged list with a lower-cased name prefix and tag ids, and
/// create with names stored lower case and unique.
#[tokio::test]
async fn tags_are_listed_read_and_created_as_sei_does() {
    sei_sandbox::install_crypto_provider();
    let sb = sandbox::start(seeded(), None, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = Client::new();
    let post = |path: &str, body: serde_json::Value| {
        client
            .post(format!("{}{path}", sb.sei_endpoint()))
            .header("Authorization", format!("ApiKey {KEY}"))
            .json(&body)
            .send()
    };
    let all: serde_json::Value = post("/v1/tags/list", serde_json::json!({"filter": {}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["count"], 6, "{all}");
    let pay: serde_json::Value = post(
        "/v1/tags/list",
        serde_json::json!({"filter": {"partial": {"name": "PAY"}}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        pay["records"],
        serde_json::json!([{"id": "7", "name": "payments", "created_at": 1_767_225_600}])
    );
    let by_id: serde_json::Value = post("/v1/tags/list", serde_json::json!({"filter": {"tag_ids": ["17", "4"]}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_id["count"], 2, "{by_id}");
    let got = client
        .get(format!("{}/v1/tags/17", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let missing = client
        .get(format!("{}/v1/tags/4242", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let created: serde_json::Value = post("/v1/tags", serde_json::json!({"name": "Data-Team"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let again = post("/v1/tags", serde_json::json!({"name": "data-team"}))
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    let read: serde_json::Value = client
        .get(format!("{}/v1/tags/{id}", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["name"], "data-team");
    let unauthenticated = client
        .post(format!("{}/v1/tags/list", sb.sei_endpoint()))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    sb.stop().await;
}

#[tokio::test]
async fn seeded_integrations_exist_in_a_new_world_below_the_ids_it_hands_out() {
    sei_sandbox::install_crypto_provider();
    let sb = sandbox::start(seeded(), None, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = Client::new();
    let listed: serde_json::Value = client
        .post(format!("{}/v1/integrations/list", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .json(&serde_json::json!({"filter": {}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = listed["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{listed}");
    assert_eq!(records[0]["name"], "acme-bitbucket");
    assert_eq!(records[0]["application"], "bitbucket");
    assert_eq!(records[0]["metadata"]["repos"], "acme/api,acme/web");
    assert!(records[0]["id"].as_str().unwrap().parse::<u64>().unwrap() < 4500);
    let created: serde_json::Value = client
        .post(format!("{}/v1/integrations", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .json(&serde_json::json!({"name": "bb-new", "application": "bitbucket", "url": "https://bitbucket.org", "satellite": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["id"], "4500", "{created}");
    sb.stop().await;
}

async fn start() -> (RunningSandbox, Client) {
    sei_sandbox::install_crypto_provider();
    let sb = sandbox::start(seed(), None, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (sb, client)
}

struct Sei<'a> {
    sb: &'a RunningSandbox,
    c: &'a Client,
}

impl Sei<'_> {
    fn url(&self, tail: &str) -> String {
        format!("{}/v1/integrations{tail}", self.sb.sei_endpoint())
    }

    async fn send(&self, method: reqwest::Method, tail: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self
            .c
            .request(method, self.url(tail))
            .header("Authorization", format!("ApiKey {KEY}"));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn create(&self, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, "", Some(body)).await
    }
}

fn satellite(name: &str) -> Value {
    json!({"name": name, "application": "bitbucket", "url": "https://bitbucket.org", "satellite": true, "tags": [], "metadata": {}})
}

fn with_key(name: &str, user: &str, key: &str, repos: &str) -> Value {
    json!({"name": name, "application": "bitbucket", "url": "https://bitbucket.org", "method": "apikey",
           "username": user, "apikey": key, "tags": ["7"], "metadata": {"repos": repos, "fetch_prs": true}})
}

#[tokio::test]
async fn create_checks_in_order_with_exact_messages() {
    let (sb, c) = start().await;
    let sei = Sei { sb: &sb, c: &c };
    let cases = [
        (
            json!({"name": "x"}),
            "Invalid application provided for integration Request",
        ),
        (
            json!({"name": "x", "application": "jira"}),
            "Invalid application provided for integration Request",
        ),
        (
            json!({"name": "  ", "application": "bitbucket"}),
            "The integration name can't be empty",
        ),
        (
            json!({"name": "x", "application": "bitbucket"}),
            "Invalid type provided for integration Request",
        ),
        (
            json!({"name": "x", "application": "bitbucket", "method": "token"}),
            "Unsupported token_type provided.",
        ),
    ];
    for (body, message) in cases {
        let (status, v) = sei.create(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(v["message"], message);
        assert_eq!(v["status"], 400);
        assert_eq!(v["error"], "Bad Request");
        assert_eq!(v["path"], "/v1/integrations");
    }
    let (status, created) = sei.create(with_key(" bb-prod ", OPS.0, OPS.1, "acme/api")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(created["name"], "bb-prod", "names are trimmed");
    assert_eq!(created["authentication"], "api_key");
    assert_eq!(created["append_metadata"], false);
    assert!(
        created.get("created_at").is_none() && created.get("updated_at").is_none(),
        "create answers without timestamps"
    );
    assert!(
        created.get("apikey").is_none() && !created.to_string().contains(OPS.1),
        "secrets are never returned"
    );
    let id = created["id"].as_str().unwrap();
    assert!(id.chars().all(|c| c.is_ascii_digit()));
    let (status, got) = sei.send(reqwest::Method::GET, &format!("/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got["created_at"].as_i64().unwrap() > 1_700_000_000, "epoch seconds");
    assert_eq!(got["tags"], json!(["7"]));
    // A duplicate name is SEI's generic 500.
    let (status, dup) = sei.create(with_key("bb-prod", OPS.0, OPS.1, "acme/api")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        dup,
        json!({"error": "INTERNAL_SERVER_ERROR", "status": 500, "message": "Unhandled exception during API invocation", "timestamp": dup["timestamp"]})
    );
    // Over-long columns fail in the database, as a 500.
    let (status, _) = sei.create(satellite(&"n".repeat(51))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, v) = sei.send(reqwest::Method::GET, "/999999", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["message"], "Could not find integration id=999999 for company=acme");
}

#[tokio::test]
async fn authentication_headers_and_account() {
    let (sb, c) = start().await;
    let url = format!("{}/v1/integrations/list", sb.sei_endpoint());
    let body = json!({"filter": {}});
    let ok = c
        .post(&url)
        .header("x-api-key", PAT)
        .header("Harness-Account", "acme")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let ok = c
        .post(&url)
        .header("Authorization", format!("APIKEY {KEY}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK, "the scheme is case-insensitive");
    for rb in [
        c.post(&url).json(&body),
        c.post(&url).header("x-api-key", "pat.wrong").json(&body),
        c.post(&url)
            .header("x-api-key", PAT)
            .header("Harness-Account", "globex")
            .json(&body),
    ] {
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.text().await.unwrap(), "", "SEI's 401 has an empty body");
    }
}

#[tokio::test]
async fn preflight_checks_credentials_unless_skipped() {
    let (sb, c) = start().await;
    let sei = Sei { sb: &sb, c: &c };
    let (status, _) = sei.create(with_key("good", OPS.0, OPS.1, "acme/api")).await;
    assert_eq!(status, StatusCode::OK);
    c.post(format!("{}/_sandbox/principals/{}/revoke", sb.base_url(), OPS.0))
        .send()
        .await
        .unwrap();
    let (status, v) = sei.create(with_key("revoked", OPS.0, OPS.1, "acme/api")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["message"], "preflight_check_failed");
    assert!(v["timestamp"].is_i64(), "epoch milliseconds here");
    let check = &v["preflight_check"]["checks"][0];
    assert_eq!(check["name"], "Get repositories");
    assert_eq!(check["success"], false);
    assert!(check["error"].as_str().unwrap().contains("401"), "{check}");
    let mut skipped = with_key("skipped", OPS.0, OPS.1, "acme/api");
    skipped["skip_preflight_check"] = json!(true);
    assert_eq!(sei.create(skipped).await.0, StatusCode::OK);
    let (status, v) = sei
        .create(with_key(
            "no-repo",
            "ci@acme.example",
            "ATATT-sandbox-ci-token",
            "acme/infra",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["preflight_check"]["checks"][0]["error"]
        .as_str()
        .unwrap()
        .contains("acme/infra"));
}

#[tokio::test]
async fn update_follows_the_partial_update_rules() {
    let (sb, c) = start().await;
    let sei = Sei { sb: &sb, c: &c };
    let (_, created) = sei.create(with_key("bb-u", OPS.0, OPS.1, "acme/api")).await;
    let id = created["id"].as_str().unwrap().to_string();
    let tail = format!("/{id}");
    let put = |body: Value| sei.send(reqwest::Method::PUT, &tail, Some(body));
    let (status, v) = put(json!({"name": " "})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["message"], "The integration name cannot be empty.");

    let (status, v) = put(json!({"name": "bb-u", "description": "first", "tags": ["1"], "metadata": {"a": 1}})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        v.get("url").is_none() && v.get("status").is_none(),
        "no credential replacement: partial answer"
    );
    // "" keeps the description; omitted tags clear them; metadata replaced.
    put(json!({"name": "bb-u", "description": "", "metadata": {"b": 2}})).await;
    let (_, got) = sei.send(reqwest::Method::GET, &format!("/{id}"), None).await;
    assert_eq!(got["description"], "first");
    assert_eq!(got["tags"], json!([]));
    assert_eq!(got["metadata"], json!({"b": 2}));
    // append_metadata merges.
    put(json!({"name": "bb-u", "metadata": {"c": 3}, "append_metadata": true})).await;
    let (_, got) = sei.send(reqwest::Method::GET, &format!("/{id}"), None).await;
    assert_eq!(got["metadata"], json!({"b": 2, "c": 3}));
    // url changes only with credentials; keys alone do not trigger.
    put(
        json!({"name": "bb-u", "url": "https://elsewhere.example", "method": "multiple_api_keys",
               "keys": [{"username": OPS.0, "apikey": OPS.1}]}),
    )
    .await;
    let (_, got) = sei.send(reqwest::Method::GET, &format!("/{id}"), None).await;
    assert_eq!(got["url"], "https://bitbucket.org");
    assert_eq!(got["authentication"], "api_key");
    let (_, v) = put(json!({"name": "bb-u", "url": "https://elsewhere.example", "method": "multiple_api_keys",
                            "username": OPS.0, "apikey": OPS.1,
                            "keys": [{"username": OPS.0, "apikey": OPS.1}, {"username": "ci@acme.example", "apikey": "x"}]}))
    .await;
    assert_eq!(v["url"], "https://elsewhere.example");
    let (_, got) = sei.send(reqwest::Method::GET, &format!("/{id}"), None).await;
    assert_eq!(got["authentication"], "multiple_api_keys");
    let (status, v) = sei
        .send(reqwest::Method::PUT, "/424242", Some(json!({"name": "n"})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["message"], "Could not update integration with id=424242");
}

#[tokio::test]
async fn delete_always_answers_200_and_list_pages_with_the_has_next_quirk() {
    let (sb, c) = start().await;
    let sei = Sei { sb: &sb, c: &c };
    let mut ids = Vec::new();
    for name in ["bb-a", "bb-b", "other-bb-x"] {
        ids.push(sei.create(satellite(name)).await.1["id"].as_str().unwrap().to_string());
    }
    let list = |body: Value| sei.send(reqwest::Method::POST, "/list", Some(body));
    let (_, page0) = list(json!({"page": 0, "page_size": 3, "filter": {}})).await;
    assert_eq!(page0["count"], 3);
    assert_eq!(page0["_metadata"]["has_next"], true, "a full page says there is more");
    assert_eq!(page0["_metadata"]["next_page"], 1);
    assert_eq!(page0["_metadata"]["total_count"], 3);
    let (_, page1) = list(json!({"page": 1, "page_size": 3, "filter": {}})).await;
    assert_eq!(page1["records"], json!([]));
    assert_eq!(page1["_metadata"]["has_next"], false);
    assert!(page1["_metadata"].get("next_page").is_none());
    let (_, partial) = list(json!({"filter": {"partial": {"name": "bb-"}}})).await;
    assert_eq!(partial["count"], 3, "partial.name matches substrings");
    assert_eq!(partial["_metadata"]["page_size"], 1000);
    let (_, by_id) = list(json!({"filter": {"integration_ids": [ids[0]]}})).await;
    assert_eq!(by_id["count"], 1);

    let (status, v) = sei.send(reqwest::Method::DELETE, &format!("/{}", ids[0]), None).await;
    assert_eq!((status, v), (StatusCode::OK, json!({"id": ids[0], "success": true})));
    let (status, v) = sei.send(reqwest::Method::DELETE, &format!("/{}", ids[0]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["success"], false);
    assert!(v["error"].as_str().unwrap().contains("Could not find integration"));
    let (status, v) = sei
        .send(reqwest::Method::DELETE, "", Some(json!([ids[1], "999"])))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["count"], 2);
    assert_eq!(v["records"][0]["success"], true);
    assert_eq!(v["records"][1]["success"], false);
}

#[tokio::test]
async fn bitbucket_auth_kinds_scopes_and_removed_endpoints() {
    let (sb, c) = start().await;
    let bb = sb.bitbucket_api_url();
    let r = c
        .get(format!("{bb}/user"))
        .basic_auth(OPS.0, Some(OPS.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-credential-type"], "api_token");
    assert!(r.headers()["x-oauth-scopes"]
        .to_str()
        .unwrap()
        .contains("read:user:bitbucket"));
    // The Bitbucket username instead of the email: 401 with WWW-Authenticate.
    let r = c
        .get(format!("{bb}/user"))
        .basic_auth("ops", Some(OPS.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"Bitbucket.org HTTP\"");
    // App Passwords are removed by default.
    let r = c
        .get(format!("{bb}/user"))
        .basic_auth("legacy-bot", Some("sandbox-app-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A valid credential missing a scope: 403 naming required and granted.
    let r = c
        .get(format!("{bb}/user/workspaces"))
        .basic_auth("narrow@acme.example", Some("ATATT-sandbox-narrow-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.headers()["x-accepted-oauth-scopes"], "read:workspace:bitbucket");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["detail"]["required"], json!(["read:workspace:bitbucket"]));
    assert_eq!(
        v["error"]["detail"]["granted"],
        json!(["read:user:bitbucket", "read:repository:bitbucket"])
    );
    // An access token: 403 on /user, but the headers still say what it is.
    let r = c
        .get(format!("{bb}/user"))
        .bearer_auth("sandbox-workspace-access-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.headers()["x-credential-type"], "workspace_access_token");
    let r = c
        .get(format!("{bb}/repositories/acme"))
        .bearer_auth("sandbox-workspace-access-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for path in [
        "/workspaces",
        "/user/permissions/workspaces",
        "/user/permissions/repositories",
        "/repositories",
    ] {
        let r = c
            .get(format!("{bb}{path}"))
            .basic_auth(OPS.0, Some(OPS.1))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::GONE, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["message"], "CHANGE-2770 - Functionality has been deprecated");
    }
    // Pagination: follow next verbatim; absent on the last page.
    let mut next = Some(format!("{bb}/repositories/acme?pagelen=3"));
    let mut names = Vec::new();
    let mut pages = 0;
    while let Some(url) = next {
        let v: Value = c
            .get(url)
            .basic_auth(OPS.0, Some(OPS.1))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        names.extend(
            v["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["full_name"].as_str().unwrap().to_string()),
        );
        next = v["next"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, 2);
    assert_eq!(
        names,
        ["acme/api", "acme/web", "acme/infra", "acme/docs", "acme/billing-api"]
    );
    // Bitbucket lists a workspace's public repositories to anyone: a
    // non-member, and a caller without credentials. Only role=member, and
    // /user/workspaces, tell membership.
    let full_names = |v: Value| -> Vec<String> {
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["full_name"].as_str().unwrap().to_string())
            .collect()
    };
    let non_member = c
        .get(format!("{bb}/repositories/globex"))
        .basic_auth(OPS.0, Some(OPS.1))
        .send()
        .await
        .unwrap();
    assert_eq!(non_member.status(), StatusCode::OK);
    assert_eq!(full_names(non_member.json().await.unwrap()), ["globex/sdk"]);
    let anonymous = c.get(format!("{bb}/repositories/globex")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::OK);
    assert_eq!(full_names(anonymous.json().await.unwrap()), ["globex/sdk"]);
    let as_member = c
        .get(format!("{bb}/repositories/globex?role=member"))
        .basic_auth(OPS.0, Some(OPS.1))
        .send()
        .await
        .unwrap();
    assert_eq!(full_names(as_member.json().await.unwrap()), Vec::<String>::new());
    let memberships: Value = c
        .get(format!("{bb}/user/workspaces"))
        .basic_auth(OPS.0, Some(OPS.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = memberships["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["workspace"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["acme"]);
    let unknown = c.get(format!("{bb}/repositories/nowhere")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn app_passwords_work_when_not_yet_removed() {
    sei_sandbox::install_crypto_provider();
    let mut s = seed();
    s.bitbucket.app_passwords = sandbox::seed::AppPasswordMode::Active;
    let sb = sandbox::start(s, None, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let r = Client::new()
        .get(format!("{}/user", sb.bitbucket_api_url()))
        .basic_auth("legacy-bot", Some("sandbox-app-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-credential-type"], "app_password");
}

#[tokio::test]
async fn oauth_grants_and_single_use_codes() {
    let (sb, c) = start().await;
    let oauth = sb.bitbucket_oauth_url();
    let token = |form: Vec<(&'static str, String)>| {
        c.post(format!("{oauth}/access_token"))
            .basic_auth("tf-consumer", Some("sandbox-tf-consumer-secret"))
            .form(&form)
            .send()
    };
    let r = token(vec![("grant_type", "client_credentials".into())]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["expires_in"], 7200);
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["state"], "client_credentials");
    let access = v["access_token"].as_str().unwrap().to_string();
    assert!(access.len() > 2500, "tokens are over 2,500 characters since 2026-05-04");
    assert!(v["scope"].as_str().unwrap().contains("repository"), "{v}");
    assert!(v.get("scopes").is_none(), "the field is `scope` since 2026-05-04: {v}");
    assert!(
        v.get("refresh_token").is_none(),
        "client credentials get no refresh token: {v}"
    );
    let r = c
        .get(format!("{}/user", sb.bitbucket_api_url()))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-credential-type"], "oauth");

    let r = token(vec![("grant_type", "refresh_token".into())]).await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_description"],
        "Bad request. Missing refresh token."
    );

    let r = c
        .get(format!(
            "{oauth}/authorize?client_id=tf-consumer&response_type=code&state=xyz"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();
    let first = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["state"], "authorization_code");
    // Refresh tokens rotate: each use answers a new one, and a used one
    // dies after the grace period (set to one second here).
    let refresh = first["refresh_token"].as_str().unwrap().to_string();
    assert!(refresh.len() > 2500);
    let r = c
        .put(format!("{}/_sandbox/oauth", sb.base_url()))
        .json(&json!({"refresh_grace_secs": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let refreshed: Value = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh.clone()),
    ])
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let next = refreshed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(next, refresh, "a refresh answers a new refresh token");
    let again = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the old token works within the grace period"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let dead = token(vec![("grant_type", "refresh_token".into()), ("refresh_token", refresh)])
        .await
        .unwrap();
    assert_eq!(dead.status(), StatusCode::BAD_REQUEST);
    assert_eq!(dead.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let r = token(vec![("grant_type", "refresh_token".into()), ("refresh_token", next)])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the new one works");
    let second = token(vec![("grant_type", "authorization_code".into()), ("code", code)])
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        second.json::<Value>().await.unwrap()["error"],
        "invalid_grant",
        "a code works once"
    );
    // SEI's method "oauth" exchanges a code issued to SEI's consumer at this
    // token endpoint; the same code twice fails.
    let r = c
        .get(format!("{oauth}/authorize?client_id=sei-consumer&response_type=code"))
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let sei_code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    let sei = Sei { sb: &sb, c: &c };
    let oauth_body = |name: &str| {
        json!({"name": name, "application": "bitbucket", "url": "https://bitbucket.org", "method": "oauth",
               "code": sei_code, "tags": [], "metadata": {"repos": "acme/api"}})
    };
    let (status, created) = sei.create(oauth_body("bb-oauth")).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["authentication"], "oauth");
    let (status, again) = sei.create(oauth_body("bb-oauth-2")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(again["message"].as_str().unwrap().contains("invalid_grant"), "{again}");
    let counters: Value = c
        .get(format!("{}/_sandbox/counters", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        counters["principal_routes"]["sei-consumer"]["POST /bitbucket/site/oauth2/access_token"], 2,
        "SEI called the token endpoint as its consumer: {}",
        counters["principal_routes"]
    );

    let bad = c
        .post(format!("{oauth}/access_token"))
        .basic_auth("tf-consumer", Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rate_limit_faults_and_counters() {
    let (sb, c) = start().await;
    let base = sb.base_url();
    let user = format!("{}/user", sb.bitbucket_api_url());
    c.put(format!("{base}/_sandbox/rate-limit"))
        .json(&json!({"per_hour": 2}))
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            c.get(&user)
                .basic_auth(OPS.0, Some(OPS.1))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    let r = c.get(&user).basic_auth(OPS.0, Some(OPS.1)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.headers().get("retry-after").is_none(),
        "Bitbucket sends no Retry-After by default"
    );
    assert_eq!(
        r.text().await.unwrap(),
        "Rate limit for this resource has been exceeded"
    );
    // Per principal: another account still has its budget.
    let r = c
        .get(&user)
        .basic_auth("ci@acme.example", Some("ATATT-sandbox-ci-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Faults: before (not processed) and after (processed, then failed).
    let sei = Sei { sb: &sb, c: &c };
    c.post(format!("{base}/_sandbox/faults"))
        .json(
            &json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": 503, "count": 1, "retry_after": 2}),
        )
        .send()
        .await
        .unwrap();
    let r = c
        .post(sei.url(""))
        .header("Authorization", format!("ApiKey {KEY}"))
        .json(&satellite("f1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "2");
    let (_, list) = sei
        .send(reqwest::Method::POST, "/list", Some(json!({"filter": {}})))
        .await;
    assert_eq!(list["count"], 0, "a before-fault does not process the request");
    c.post(format!("{base}/_sandbox/faults"))
        .json(&json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": 502, "when": "after"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sei.create(satellite("f2")).await.0, StatusCode::BAD_GATEWAY);
    let (_, list) = sei
        .send(reqwest::Method::POST, "/list", Some(json!({"filter": {}})))
        .await;
    assert_eq!(list["count"], 1, "an after-fault processes the request");
    assert_eq!(
        sei.create(satellite("f3")).await.0,
        StatusCode::OK,
        "faults expire after their count"
    );

    let counters: Value = c
        .get(format!("{base}/_sandbox/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["routes"]["GET /bitbucket/2.0/user"], 4);
    assert_eq!(counters["routes"]["POST /sei/api/v1/integrations"], 3);
    assert_eq!(
        counters["principals"]["ops@acme.example"], 2,
        "rate-limited calls are not admitted"
    );
    c.delete(format!("{base}/_sandbox/counters")).send().await.unwrap();
    let counters: Value = c
        .get(format!("{base}/_sandbox/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["routes"], json!({}));
}

#[tokio::test]
async fn concurrent_creates_get_unique_ids_and_one_winner_per_name() {
    let (sb, c) = start().await;
    let sei = Sei { sb: &sb, c: &c };
    let distinct = futures::future::join_all((0..200).map(|i| sei.create(satellite(&format!("c-{i}"))))).await;
    let ids: HashSet<String> = distinct
        .iter()
        .map(|(s, v)| {
            assert_eq!(*s, StatusCode::OK);
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 200);
    let same = futures::future::join_all((0..20).map(|_| sei.create(satellite("same-name")))).await;
    let winners = same.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(winners, 1);
    for (s, v) in same.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(v["message"], "Unhandled exception during API invocation");
    }
}

#[tokio::test]
async fn bad_requests_get_4xx_in_each_services_envelope() {
    let (sb, c) = start().await;
    let sei_url = format!("{}/v1/integrations", sb.sei_endpoint());
    let auth = format!("ApiKey {KEY}");
    let malformed = c
        .post(&sei_url)
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(malformed.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error"));
    // A field of the wrong type is Jackson's 400, in Spring's envelope, and
    // creates nothing.
    let sei = Sei { sb: &sb, c: &c };
    let (status, body) = sei
        .create(json!({"name": 5, "application": "bitbucket", "satellite": true, "url": "https://bitbucket.org"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], 400);
    assert!(
        body["message"].as_str().unwrap().starts_with("JSON parse error"),
        "{body}"
    );
    let (_, listed) = sei.send(reqwest::Method::POST, "/list", Some(json!({}))).await;
    assert_eq!(listed["count"], 0);
    let wrong_type = c
        .post(&sei_url)
        .header("Authorization", &auth)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(wrong_type.json::<Value>().await.unwrap()["status"], 415);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(1 << 21));
    let too_big = c
        .post(&sei_url)
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.json::<Value>().await.unwrap()["status"], 413);
    let unknown = c.get(format!("{}/v2/nothing", sb.sei_endpoint())).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["error"], "Not Found");
    let bb_unknown = c
        .get(format!("{}/nothing/here", sb.bitbucket_api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bb_unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(bb_unknown.json::<Value>().await.unwrap()["type"], "error");
    let bb_bad_form = c
        .post(format!("{}/access_token", sb.bitbucket_oauth_url()))
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert!(bb_bad_form.status().is_client_error());
}

#[tokio::test]
async fn latency_per_service_and_faults_with_any_status_and_body() {
    let (sb, c) = start().await;
    let control = |p: &str| format!("{}/_sandbox{p}", sb.base_url());
    let set: Value = c
        .put(control("/latency"))
        .json(&json!({"sei_ms": 120, "bitbucket_ms": 0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        set,
        json!({"sei_ms": 120, "bitbucket_ms": 0, "oauth_ms": 0, "datacenter_ms": 0})
    );
    let bad = c
        .put(control("/latency"))
        .json(&json!({"sei": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // The delay is a lower bound the sandbox sleeps for: it cannot be shorter.
    let sei = Sei { sb: &sb, c: &c };
    let started = std::time::Instant::now();
    sei.send(reqwest::Method::POST, "/list", Some(json!({}))).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(120));
    c.put(control("/latency")).json(&json!({})).send().await.unwrap();

    // A proxy's HTML 404 on one route, then the route answers normally.
    let added = c
        .post(control("/faults"))
        .json(
            &json!({"method": "GET", "path": "/sei/api/v1/integrations/*", "status": 404,
                      "body": "<html><body>Not Found</body></html>"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let r = c
        .get(format!("{}/v1/integrations/4500", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "text/html");
    assert_eq!(r.text().await.unwrap(), "<html><body>Not Found</body></html>");
    let (status, body) = sei.send(reqwest::Method::GET, "/4500", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "Not Found", "SEI's own not-found is Spring's JSON");
    let refused = c
        .post(control("/faults"))
        .json(&json!({"path": "/sei/*", "status": 302}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn names_are_unique_ignoring_case() {
    let (sb, c) = start().await;
    let sei = Sei { sb: &sb, c: &c };
    let (s, first) = sei.create(satellite("BB-Case")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = sei.create(satellite("bb-case")).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{v}");
    let (s, other) = sei.create(satellite("bb-other")).await;
    assert_eq!(s, StatusCode::OK);
    let id = other["id"].as_str().unwrap();
    let (s, _) = sei
        .send(reqwest::Method::PUT, &format!("/{id}"), Some(satellite("bb-CASE")))
        .await;
    assert_eq!(
        s,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a rename onto another case of a held name"
    );
    assert!(first["id"].is_string());
}

/// Faults that end the connection: no status line ever arrives, and with
/// `when: "after"` the request was processed all the same.
#[tokio::test]
async fn connection_faults_reset_or_close_without_an_answer() {
    let (sb, c) = start().await;
    let sei = Sei { sb: &sb, c: &c };
    let fault = |body: Value| {
        let c = c.clone();
        let url = format!("{}/_sandbox/faults", sb.base_url());
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
        }
    };
    let create = |name: &str| {
        c.post(sei.url(""))
            .header("Authorization", format!("ApiKey {KEY}"))
            .json(&satellite(name))
            .send()
    };
    fault(json!({"method": "POST", "path": "/sei/api/v1/integrations", "connection": "reset", "when": "after"})).await;
    let err = create("lost-reset").await.unwrap_err();
    assert!(err.is_request() && !err.is_connect() && !err.is_timeout(), "{err:?}");
    assert!(format!("{err:?}").to_lowercase().contains("reset"), "a reset: {err:?}");

    fault(json!({"method": "POST", "path": "/sei/api/v1/integrations", "connection": "close"})).await;
    let err = create("lost-close").await.unwrap_err();
    assert!(err.is_request() && !err.is_connect() && !err.is_timeout(), "{err:?}");

    // "after" created its record, "before" did not; the next call works.
    let (s, page) = sei
        .send(reqwest::Method::POST, "/list", Some(json!({"filter": {}})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"lost-reset"), "{names:?}");
    assert!(!names.contains(&"lost-close"), "{names:?}");

    // A fault needs a status or a connection action.
    let r = c
        .post(format!("{}/_sandbox/faults", sb.base_url()))
        .json(&json!({"path": "/sei/*"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
