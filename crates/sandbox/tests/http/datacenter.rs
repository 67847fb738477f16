//! The Data Center instance under `/bbdc`: the checklist of
//! `shared/contract/bitbucket-datacenter-api.md`, one behaviour a test.

use reqwest::{Client, RequestBuilder, StatusCode};
use sei_sandbox::{self as sandbox, RunningSandbox};
use serde_json::{json, Value};

const SVC: (&str, &str) = ("svc-sei", "BBDC-sandbox-svc-sei-token");
const SVC_PASSWORD: &str = "sandbox-svc-sei-password";
const LIMITED: (&str, &str) = ("dev-limited", "BBDC-sandbox-dev-limited-token");
const PROJECT_TOKEN: &str = "BBDC-sandbox-plat-project-token";
const KEY: &str = "sandbox-sei-api-key";

fn seed() -> sandbox::Seed {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sandbox/seed.json")).unwrap();
    sandbox::parse_seed(&text).unwrap()
}

async fn start() -> (RunningSandbox, Client) {
    sei_sandbox::install_crypto_provider();
    let sb = sandbox::start(seed(), None, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (sb, Client::new())
}

fn api(sb: &RunningSandbox, c: &Client, tail: &str) -> RequestBuilder {
    c.get(format!("{}/rest/api/1.0{tail}", sb.datacenter_url()))
}

struct Answer {
    status: StatusCode,
    user: Option<String>,
    retry_after: Option<String>,
    body: Value,
}

async fn send(rb: RequestBuilder) -> Answer {
    let r = rb.send().await.unwrap();
    let header = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string());
    let (status, user, retry_after) = (r.status(), header("x-ausername"), header("retry-after"));
    let body = r.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        user,
        retry_after,
        body,
    }
}

fn names(body: &Value) -> Vec<String> {
    body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn application_properties_answer_without_credentials() {
    let (sb, c) = start().await;
    let a = send(api(&sb, &c, "/application-properties")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["version"], "8.19.1");
    assert_eq!(a.body["buildNumber"], "8019001");
    assert_eq!(a.body["displayName"], "Bitbucket");
    sb.stop().await;
}

#[tokio::test]
async fn a_password_and_a_user_token_both_work_in_basic_auth_and_identify_the_user() {
    let (sb, c) = start().await;
    for secret in [SVC_PASSWORD, SVC.1] {
        let a = send(api(&sb, &c, "/projects").basic_auth(SVC.0, Some(secret))).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_eq!(a.user.as_deref(), Some("svc-sei"));
        assert_eq!(names(&a.body), ["Mobile", "Platform"]);
    }
    let bearer = send(api(&sb, &c, "/projects").bearer_auth(SVC.1)).await;
    assert_eq!(bearer.user.as_deref(), Some("svc-sei"));
    sb.stop().await;
}

#[tokio::test]
async fn a_bad_credential_gets_401_without_identity() {
    let (sb, c) = start().await;
    let a = send(api(&sb, &c, "/projects").basic_auth(SVC.0, Some("wrong"))).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.user, None);
    assert_eq!(
        a.body["errors"][0]["exceptionName"],
        "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_project_token_works_only_as_bearer() {
    let (sb, c) = start().await;
    let basic = send(api(&sb, &c, "/projects").basic_auth(SVC.0, Some(PROJECT_TOKEN))).await;
    assert_eq!((basic.status.as_u16(), basic.user), (401, None));
    let bearer = send(api(&sb, &c, "/projects").bearer_auth(PROJECT_TOKEN)).await;
    assert_eq!(bearer.status, 200);
    assert_eq!(bearer.user.as_deref(), Some("plat-project-token"));
    assert_eq!(names(&bearer.body), ["Platform"]);
    sb.stop().await;
}

#[tokio::test]
async fn a_missing_permission_is_401_with_identity_and_a_missing_repository_404() {
    let (sb, c) = start().await;
    let auth = |rb: RequestBuilder| rb.basic_auth(LIMITED.0, Some(LIMITED.1));
    let denied = send(auth(api(&sb, &c, "/projects/MOB/repos/ios"))).await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.user.as_deref(), Some("dev-limited"));
    assert_eq!(
        denied.body["errors"][0]["exceptionName"],
        "com.atlassian.bitbucket.AuthorisationException"
    );
    let missing = send(auth(api(&sb, &c, "/projects/MOB/repos/nope"))).await;
    assert_eq!(
        (missing.status.as_u16(), missing.user.as_deref()),
        (404, Some("dev-limited"))
    );
    let project = send(auth(api(&sb, &c, "/projects/SEC"))).await;
    assert_eq!(project.status, 401);
    let listed = send(auth(api(&sb, &c, "/projects/MOB/repos"))).await;
    assert_eq!(names(&listed.body), ["android"]);
    let all = send(auth(api(&sb, &c, "/repos?name=AND"))).await;
    assert_eq!(names(&all.body), ["android"]);
    sb.stop().await;
}

#[tokio::test]
async fn pages_follow_next_page_start_and_cap_at_1000() {
    let (sb, c) = start().await;
    let auth = |rb: RequestBuilder| rb.basic_auth(SVC.0, Some(SVC.1));
    let first = send(auth(api(&sb, &c, "/repos?limit=2"))).await;
    assert_eq!(first.body["isLastPage"], false);
    assert_eq!(first.body["nextPageStart"], 2);
    let second = send(auth(api(&sb, &c, "/repos?limit=2&start=2"))).await;
    assert_eq!(second.body["size"], 2);
    let last = send(auth(api(&sb, &c, "/repos?limit=2&start=4"))).await;
    assert_eq!(last.body["isLastPage"], true);
    assert!(last.body.get("nextPageStart").is_none());
    let capped = send(auth(api(&sb, &c, "/repos?limit=5000"))).await;
    assert_eq!(capped.body["limit"], 1000);
    let default = send(auth(api(&sb, &c, "/repos"))).await;
    assert_eq!(default.body["limit"], 25);
    sb.stop().await;
}

#[tokio::test]
async fn the_token_bucket_answers_429_with_retry_after() {
    let (sb, c) = start().await;
    let r = c
        .put(format!("{}/_sandbox/datacenter/rate-limit", sb.base_url()))
        .json(&json!({"size": 2, "refill_per_second": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let auth = |rb: RequestBuilder| rb.basic_auth(SVC.0, Some(SVC.1));
    for _ in 0..2 {
        assert_eq!(send(auth(api(&sb, &c, "/projects"))).await.status, 200);
    }
    let limited = send(auth(api(&sb, &c, "/projects"))).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.retry_after.as_deref(), Some("1"));
    // Another user has a bucket of its own.
    let other = send(api(&sb, &c, "/projects").basic_auth(LIMITED.0, Some(LIMITED.1))).await;
    assert_eq!(other.status, 200);
    sb.stop().await;
}

#[tokio::test]
async fn revocation_counters_and_faults_cover_data_center() {
    let (sb, c) = start().await;
    let control = |path: &str| format!("{}/_sandbox{path}", sb.base_url());
    let r = c
        .post(control("/principals/svc-sei-token/revoke"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let revoked = send(api(&sb, &c, "/projects").basic_auth(SVC.0, Some(SVC.1))).await;
    assert_eq!((revoked.status.as_u16(), revoked.user), (401, None));
    // The password of the same user still works.
    let password = send(api(&sb, &c, "/projects").basic_auth(SVC.0, Some(SVC_PASSWORD))).await;
    assert_eq!(password.status, 200);
    let counters: Value = c.get(control("/counters")).send().await.unwrap().json().await.unwrap();
    assert_eq!(counters["routes"]["GET /bbdc/rest/api/1.0/projects"], 2);
    assert_eq!(counters["principals"]["svc-sei"], 1);
    let r = c
        .post(control("/faults"))
        .json(&json!({"path": "/bbdc/rest/api/1.0/projects", "status": 503}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let fault = send(api(&sb, &c, "/projects").basic_auth(SVC.0, Some(SVC_PASSWORD))).await;
    assert_eq!(fault.status, 503);
    assert!(fault.body["errors"][0]["message"].is_string(), "{:?}", fault.body);
    sb.stop().await;
}

async fn create(sb: &RunningSandbox, c: &Client, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(format!("{}/v1/integrations", sb.sei_endpoint()))
        .header("Authorization", format!("ApiKey {KEY}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn seis_create_runs_the_data_center_preflight_against_the_instance() {
    let (sb, c) = start().await;
    let body = |name: &str, user: &str, key: &str, url: &str| {
        json!({"name": name, "application": "bitbucket_server", "url": url, "method": "apikey",
               "username": user, "apikey": key, "metadata": {"projects": "Platform", "repos": ""}})
    };
    let url = sb.datacenter_url();
    let (status, ok) = create(&sb, &c, body("dc-ok", SVC.0, SVC.1, &url)).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["authentication"], "api_key");
    let (status, bad) = create(&sb, &c, body("dc-bad", SVC.0, "wrong", &url)).await;
    assert_eq!(status, 400);
    let check = &bad["preflight_check"]["checks"][0];
    assert_eq!(check["name"], "Get projects");
    assert!(check["error"].as_str().unwrap().contains("401"), "{check}");
    let (status, elsewhere) = create(&sb, &c, body("dc-far", SVC.0, SVC.1, "https://bitbucket.invalid")).await;
    assert_eq!(status, 400);
    assert!(elsewhere["preflight_check"]["checks"][0]["error"]
        .as_str()
        .unwrap()
        .contains("Failed to connect"));
    // A project token in Basic auth: what SEI sends, and Data Center refuses.
    let (status, _) = create(&sb, &c, body("dc-project-token", "svc-sei", PROJECT_TOKEN, &url)).await;
    assert_eq!(status, 400);
    // Data Center takes one key: multiple_api_keys has no client there.
    let mut multi = body("dc-multi", SVC.0, SVC.1, &url);
    multi["method"] = json!("multiple_api_keys");
    multi["keys"] = json!([{"username": SVC.0, "apikey": SVC.1}]);
    let (status, err) = create(&sb, &c, multi).await;
    assert_eq!(status, 400, "{err}");
    let mut satellite = body("dc-satellite", "", "", "https://bitbucket.acme.internal");
    satellite["satellite"] = json!(true);
    let (status, sat) = create(&sb, &c, satellite).await;
    assert_eq!((status.as_u16(), sat["authentication"].as_str()), (200, Some("none")));
    sb.stop().await;
}
