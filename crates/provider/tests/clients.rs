//! The API clients and the credential validator against a live sandbox:
//! typed errors, retries, lost responses, cancellation, single-flight, and
//! secret-free logs. Plain Rust API: no gRPC anywhere in these tests.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use sei_sandbox::{self as sandbox, RunningSandbox};
use serde_json::{json, Value};
use terraform_provider_sei::clients::bitbucket::BitbucketClient;
use terraform_provider_sei::clients::http::HttpPolicy;
use terraform_provider_sei::clients::sei::{IntegrationRequest, SeiAuth, SeiClient, SeiError, SeiScope};
use terraform_provider_sei::clients::{BitbucketAuth, BitbucketError, TransportError};
use terraform_provider_sei::validate::{AuthType, CredentialCheck, CredentialValidator, ProblemKind, Subject};
use terraform_provider_sei::Secret;
use tokio_util::sync::CancellationToken;

const OPS: (&str, &str) = ("ops@acme.example", "ATATT-sandbox-ops-token");
const CI: (&str, &str) = ("ci@acme.example", "ATATT-sandbox-ci-token");

/// The examples' seed without its pre-existing integrations: these tests
/// count the records they make.
fn seed_json() -> Value {
    let mut seed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sandbox/seed.json")).unwrap(),
    )
    .unwrap();
    seed["sei"].as_object_mut().unwrap().remove("integrations");
    seed
}

async fn start_with(seed: Value) -> RunningSandbox {
    terraform_provider_sei::clients::install_crypto_provider();
    let seed = sandbox::parse_seed(&seed.to_string()).unwrap();
    sandbox::start(seed, None, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn start() -> RunningSandbox {
    start_with(seed_json()).await
}

fn policy(max_retries: u32, timeout_ms: u64) -> HttpPolicy {
    HttpPolicy {
        max_retries,
        request_timeout: Duration::from_millis(timeout_ms),
        ..HttpPolicy::default()
    }
}

fn sei(sb: &RunningSandbox, p: HttpPolicy) -> SeiClient {
    SeiClient::new(
        sb.sei_endpoint().parse().unwrap(),
        SeiAuth::from_key(Secret::new("pat.acme.sandbox.token")),
        SeiScope {
            account_id: Some("acme".into()),
            org_id: Some("default".into()),
            project_id: Some("sei".into()),
        },
        p,
    )
    .unwrap()
}

fn satellite(name: &str) -> IntegrationRequest {
    IntegrationRequest {
        name: name.into(),
        application: Some("bitbucket".into()),
        url: Some("https://bitbucket.org".into()),
        satellite: Some(true),
        ..Default::default()
    }
}

async fn control(sb: &RunningSandbox, method: reqwest::Method, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .request(method, format!("{}/_sandbox{path}", sb.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}

async fn counters(sb: &RunningSandbox) -> Value {
    reqwest::get(format!("{}/_sandbox/counters", sb.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn route(c: &Value, label: &str) -> u64 {
    c["routes"][label].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn sei_errors_are_typed() {
    let sb = start().await;
    let cancel = CancellationToken::new();
    let client = sei(&sb, policy(1, 5000));
    assert!(matches!(client.get("4242", &cancel).await, Err(SeiError::NotFound { id, .. }) if id == "4242"));

    let mut req = satellite("bb-typed");
    req.satellite = None;
    req.method = Some("apikey".into());
    req.username = Some("ops@acme.example".into());
    req.apikey = Some(Secret::new("wrong-token"));
    req.metadata.insert("repos".into(), json!("acme/api"));
    match client.create(&req, &cancel).await {
        Err(SeiError::PreflightFailed { checks }) => {
            assert_eq!(checks[0].name, "Get repositories");
            assert!(checks[0].error.contains("401"), "{checks:?}");
        }
        other => panic!("{other:?}"),
    }
    let created = client.create(&satellite("bb-typed"), &cancel).await.unwrap().record;
    control(&sb, reqwest::Method::DELETE, "/counters", Value::Null).await;
    // The marker SEI stored is this call's own: the same request again,
    // after a delete, stores another.
    let marker =
        |rec: &terraform_provider_sei::clients::sei::Integration| rec.metadata["terraform_create_marker"].clone();
    let first_marker = marker(&client.get(&created.id, &cancel).await.unwrap());
    let again = client.create(&satellite("bb-marker"), &cancel).await.unwrap().record;
    client.delete(&again.id, &cancel).await.unwrap();
    let recreated = client.create(&satellite("bb-marker"), &cancel).await.unwrap().record;
    let markers = [first_marker, marker(&again), marker(&recreated)];
    assert!(
        markers
            .iter()
            .all(|m| m.as_str().is_some_and(|m| m.starts_with("create-"))),
        "{markers:?}"
    );
    assert_ne!(
        markers[1], markers[2],
        "one configuration, two create calls, two markers"
    );
    control(&sb, reqwest::Method::DELETE, "/counters", Value::Null).await;
    // The same create again, with the same key and body (another state or
    // workspace with this configuration, or a re-apply after a crash), is a
    // conflict that says the record carries an earlier marker: only the
    // create call that made a record may adopt it.
    match client.create(&satellite("BB-Typed"), &cancel).await {
        Err(SeiError::NameConflict {
            name,
            existing_id,
            earlier_marker: true,
        }) => {
            assert_eq!((name.as_str(), existing_id.as_str()), ("BB-Typed", created.id.as_str()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        route(&counters(&sb).await, "POST /sei/api/v1/integrations"),
        1,
        "a 500 is never retried"
    );

    let mut bad = satellite("x");
    bad.application = None;
    assert!(
        matches!(client.create(&bad, &cancel).await, Err(SeiError::BadRequest { status: 400, message }) if message.contains("Invalid application"))
    );

    let unauthorized = SeiClient::new(
        sb.sei_endpoint().parse().unwrap(),
        SeiAuth::from_key("nope".into()),
        SeiScope::default(),
        policy(0, 5000),
    )
    .unwrap();
    assert!(matches!(
        unauthorized.get("1", &cancel).await,
        Err(SeiError::Unauthorized { status: 401, .. })
    ));

    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"method": "GET", "path": "/sei/*", "status": 429, "count": 10}),
    )
    .await;
    match client.get(&created.id, &cancel).await {
        Err(e @ SeiError::RateLimited { attempts: 2, .. }) => assert!(e.to_string().contains("2 attempt")),
        other => panic!("{other:?}"),
    }
    control(&sb, reqwest::Method::DELETE, "/faults", Value::Null).await;
    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"method": "GET", "path": "/sei/*", "status": 500, "count": 1}),
    )
    .await;
    assert!(matches!(
        client.get(&created.id, &cancel).await,
        Err(SeiError::Server {
            status: 500,
            attempts: 1,
            ..
        })
    ));

    let closed = SeiClient::new(
        "http://127.0.0.1:9/sei/api".parse().unwrap(),
        SeiAuth::from_key("k".into()),
        SeiScope::default(),
        policy(1, 2000),
    )
    .unwrap();
    assert!(matches!(
        closed.get("1", &cancel).await,
        Err(SeiError::Transport(TransportError::Connect { attempts: 2, .. }))
    ));

    // Delete: success, then success:false + GET 404 = already gone = Ok.
    client.delete(&created.id, &cancel).await.unwrap();
    client.delete(&created.id, &cancel).await.unwrap();
}

#[tokio::test]
async fn list_follows_every_page() {
    let sb = start().await;
    let cancel = CancellationToken::new();
    let client = sei(&sb, policy(1, 5000));
    for i in 0..230 {
        client.create(&satellite(&format!("bb-{i}")), &cancel).await.unwrap();
    }
    control(&sb, reqwest::Method::DELETE, "/counters", Value::Null).await;
    let all = client.list(&Default::default(), &cancel).await.unwrap();
    assert_eq!(all.len(), 230);
    let ids: std::collections::HashSet<_> = all.iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids.len(), 230);
    assert_eq!(route(&counters(&sb).await, "POST /sei/api/v1/integrations/list"), 3);
}

#[tokio::test]
async fn retries_lost_responses_and_cancellation() {
    let sb = start().await;
    let cancel = CancellationToken::new();
    let client = sei(&sb, policy(5, 1000));
    let rec = client.create(&satellite("bb-retry"), &cancel).await.unwrap().record;

    // 3 x 429 without Retry-After, then success.
    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"method": "GET", "path": "/sei/*", "status": 429, "count": 3}),
    )
    .await;
    assert_eq!(client.get(&rec.id, &cancel).await.unwrap().name, "bb-retry");

    // A create processed by SEI whose answer is lost past the timeout: the
    // client looks the name up and adopts the record instead of re-sending.
    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"method": "POST", "path": "/sei/api/v1/integrations", "status": 504, "when": "after", "delay_ms": 3000}),
    )
    .await;
    let adopted = client.create(&satellite("bb-lost"), &cancel).await.unwrap();
    assert!(adopted.adopted.is_some(), "said so");
    let adopted = adopted.record;
    let matching: Vec<_> = client
        .list(&Default::default(), &cancel)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.name == "bb-lost")
        .collect();
    assert_eq!(matching.len(), 1);
    assert_eq!(adopted.id, matching[0].id);

    // A GET whose answer is lost past the timeout is simply sent again.
    control(&sb, reqwest::Method::DELETE, "/counters", Value::Null).await;
    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"method": "GET", "path": "/sei/*", "status": 503, "when": "after", "delay_ms": 3000}),
    )
    .await;
    assert_eq!(client.get(&rec.id, &cancel).await.unwrap().name, "bb-retry");
    assert_eq!(route(&counters(&sb).await, "GET /sei/api/v1/integrations/{id}"), 2);

    // Retries exhausted: the error says how many attempts were made.
    let few = sei(&sb, policy(2, 5000));
    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"method": "GET", "path": "/sei/*", "status": 503, "count": 3}),
    )
    .await;
    let err = few.get(&rec.id, &cancel).await.unwrap_err();
    assert!(err.to_string().contains("3 attempt"), "{err}");

    // Cancelled during the server's wait (20 s, within retry_max_wait):
    // returns Cancelled at once, not the 429 that would come after it.
    control(&sb, reqwest::Method::DELETE, "/faults", Value::Null).await;
    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"method": "GET", "path": "/sei/*", "status": 429, "count": 5, "retry_after": 20}),
    )
    .await;
    control(&sb, reqwest::Method::DELETE, "/counters", Value::Null).await;
    let token = CancellationToken::new();
    let waiting = {
        let client = client.clone();
        let token = token.clone();
        let id = rec.id.clone();
        tokio::spawn(async move { client.get(&id, &token).await })
    };
    while route(&counters(&sb).await, "GET /sei/api/v1/integrations/{id}") < 1 {
        tokio::task::yield_now().await;
    }
    token.cancel();
    let result = waiting.await.unwrap();
    assert!(
        matches!(result, Err(SeiError::Transport(TransportError::Cancelled))),
        "{result:?}"
    );
}

#[tokio::test]
async fn bitbucket_errors_are_typed_and_keep_the_message() {
    let sb = start().await;
    let cancel = CancellationToken::new();
    let bb = BitbucketClient::new(sb.bitbucket_api_url().parse().unwrap(), policy(1, 5000)).unwrap();
    let basic = |u: &str, s: &str| BitbucketAuth::Basic {
        username: u.into(),
        secret: Secret::new(s),
    };
    let ok = bb.user(&basic(OPS.0, OPS.1), &cancel).await;
    assert_eq!(ok.facts.credential_type.as_deref(), Some("api_token"));
    assert!(ok
        .facts
        .scopes
        .unwrap()
        .contains(&"read:pullrequest:bitbucket".to_string()));
    assert_eq!(ok.result.unwrap().display_name.as_deref(), Some("Acme Ops"));
    assert!(matches!(
        bb.user(&basic(OPS.0, "nope"), &cancel).await.result,
        Err(BitbucketError::Unauthorized { .. })
    ));
    match bb
        .user_workspaces(&basic("narrow@acme.example", "ATATT-sandbox-narrow-token"), &cancel)
        .await
        .result
    {
        Err(BitbucketError::Forbidden {
            required,
            granted,
            message,
        }) => {
            assert_eq!(required, ["read:workspace:bitbucket"]);
            assert_eq!(granted, ["read:user:bitbucket", "read:repository:bitbucket"]);
            assert!(message.contains("required privilege scopes"));
        }
        other => panic!("{other:?}"),
    }
    let token = BitbucketAuth::Bearer(Secret::new("sandbox-workspace-access-token"));
    let reply = bb.user(&token, &cancel).await;
    assert!(matches!(reply.result, Err(BitbucketError::Forbidden { .. })));
    assert_eq!(reply.facts.credential_type.as_deref(), Some("workspace_access_token"));
    // A workspace that does not exist is a 404; one the account is not a
    // member of answers role=member with nothing.
    assert!(matches!(
        bb.repositories(&basic(OPS.0, OPS.1), "nowhere", &cancel).await.result,
        Err(BitbucketError::NotFound { .. })
    ));
    assert_eq!(
        bb.repositories(&basic(OPS.0, OPS.1), "globex", &cancel)
            .await
            .result
            .unwrap(),
        Vec::new()
    );
    assert_eq!(
        bb.workspace_permission(&basic(OPS.0, OPS.1), "acme", &cancel)
            .await
            .result
            .unwrap(),
        "member"
    );
    assert_eq!(
        bb.repositories(&basic(OPS.0, OPS.1), "acme", &cancel)
            .await
            .result
            .unwrap()
            .len(),
        5,
        "acme's api, web, infra, docs and billing-api"
    );
    assert!(bb
        .pull_request_probe(&basic(OPS.0, OPS.1), "acme", "api", &cancel)
        .await
        .result
        .is_ok());
    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"path": "/bitbucket/*", "status": 429, "count": 10}),
    )
    .await;
    assert!(matches!(
        bb.user(&basic(OPS.0, OPS.1), &cancel).await.result,
        Err(BitbucketError::RateLimited { attempts: 2, .. })
    ));
    let counts = counters(&sb).await;
    let removed: u64 = ["GET /bitbucket/2.0/workspaces", "GET /bitbucket/2.0/repositories"]
        .iter()
        .map(|r| route(&counts, r))
        .sum();
    assert_eq!(removed, 0, "never calls a removed endpoint");
}

fn check(user: (&str, &str), auth_type: AuthType, workspaces: &[&str], repos: &[&str]) -> CredentialCheck {
    CredentialCheck {
        auth_type,
        username: user.0.into(),
        secret: Secret::new(user.1),
        required_scopes: None,
        workspaces: workspaces.iter().map(|s| s.to_string()).collect(),
        repositories: repos.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test]
async fn validator_reports_problems_with_their_subjects() {
    let sb = start().await;
    let cancel = CancellationToken::new();
    let v = CredentialValidator::new(
        BitbucketClient::new(sb.bitbucket_api_url().parse().unwrap(), policy(1, 5000)).unwrap(),
    );

    let good = v
        .check(&check(OPS, AuthType::ApiToken, &["acme"], &["acme/api"]), &cancel)
        .await;
    assert!(good.is_valid(), "{good:?}");
    assert_eq!(good.visible_workspaces, ["acme"]);

    let legacy = v
        .check(
            &check(("legacy-bot", "sandbox-app-password"), AuthType::AppPassword, &[], &[]),
            &cancel,
        )
        .await;
    let p = &legacy.problems[0];
    assert_eq!((p.kind, p.subject), (ProblemKind::InvalidCredential, Subject::Secret));
    assert!(
        p.detail.contains("removed App Passwords on 2026-07-28") && p.detail.contains("Create API token with scopes")
    );

    let narrow = v
        .check(
            &check(
                ("narrow@acme.example", "ATATT-sandbox-narrow-token"),
                AuthType::ApiToken,
                &[],
                &[],
            ),
            &cancel,
        )
        .await;
    assert_eq!(narrow.problems[0].kind, ProblemKind::MissingScopes);
    assert!(narrow.problems[0].detail.contains("read:workspace:bitbucket"));

    let repos = v
        .check(
            &check(CI, AuthType::ApiToken, &["globex"], &["acme/api", "acme/infra"]),
            &cancel,
        )
        .await;
    let kinds: Vec<_> = repos.problems.iter().map(|p| (p.kind, p.subject)).collect();
    assert_eq!(
        kinds,
        [
            (ProblemKind::WorkspaceNotVisible, Subject::Workspace(0)),
            (ProblemKind::RepositoryNotFound, Subject::Repository(1))
        ]
    );
    assert!(repos.problems[1].summary.contains("acme/infra") && repos.problems[1].summary.contains(CI.0));

    control(
        &sb,
        reqwest::Method::POST,
        "/faults",
        json!({"path": "/bitbucket/*", "status": 429, "count": 100}),
    )
    .await;
    let limited = v
        .check(&check(("other@x", "s"), AuthType::ApiToken, &[], &[]), &cancel)
        .await;
    assert!(limited.could_not_check() && !limited.is_invalid());
    assert!(limited.problems[0].summary.contains("rate limited"));
}

#[tokio::test]
async fn fifty_concurrent_checks_of_two_credentials_make_the_calls_of_two() {
    let mut seed = seed_json();
    for p in seed["bitbucket"]["principals"].as_array_mut().unwrap() {
        if p["email"] == OPS.0 || p["email"] == CI.0 {
            p["workspaces"] = json!({"acme": "member", "globex": "member"});
            p.as_object_mut().unwrap().remove("repositories");
        }
    }
    let sb = start_with(seed).await;
    let v = Arc::new(CredentialValidator::new(
        BitbucketClient::new(sb.bitbucket_api_url().parse().unwrap(), policy(1, 5000)).unwrap(),
    ));
    let repos = ["acme/api", "acme/web", "globex/billing"];
    let tasks = (0..50).map(|i| {
        let v = v.clone();
        let c = check(
            if i % 2 == 0 { OPS } else { CI },
            AuthType::ApiToken,
            &["acme", "globex"],
            &repos,
        );
        tokio::spawn(async move { v.check(&c, &CancellationToken::new()).await })
    });
    for r in futures::future::join_all(tasks).await {
        assert!(r.unwrap().is_valid());
    }
    let c = counters(&sb).await;
    println!(
        "Bitbucket calls for 50 concurrent checks of 2 credentials: {}",
        c["routes"]
    );
    assert_eq!(route(&c, "GET /bitbucket/2.0/user"), 2);
    assert_eq!(route(&c, "GET /bitbucket/2.0/user/workspaces"), 2);
    assert_eq!(route(&c, "GET /bitbucket/2.0/repositories/{workspace}"), 4);
    assert_eq!(c["routes"].as_object().unwrap().len(), 3, "no other calls");
}

#[test]
fn clients_and_validator_do_not_depend_on_the_grpc_layer() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    for dir in ["clients", "validate"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for forbidden in [
                "tonic",
                "prost",
                "tfplugin",
                "crate::resources",
                "crate::data_sources",
                "crate::ephemeral",
                "crate::provider",
            ] {
                assert!(!text.contains(forbidden), "{} mentions {forbidden}", path.display());
            }
        }
    }
}

/// A server whose certificate no root vouches for: the error names the
/// host and what is wrong, and trusting its CA through the policy works.
#[tokio::test]
async fn an_untrusted_certificate_is_named_and_a_trusted_ca_works() {
    terraform_provider_sei::clients::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let sb = sei_sandbox::start_with(
        sandbox::parse_seed(&seed_json().to_string()).unwrap(),
        None,
        "127.0.0.1:0".parse().unwrap(),
        Some(sei_sandbox::tls::TlsOptions {
            kind: sei_sandbox::tls::TlsKind::Ca,
            dir: dir.path().to_path_buf(),
            names: Vec::new(),
        }),
    )
    .await
    .unwrap();
    let cancel = CancellationToken::new();
    let untrusted = sei(&sb, policy(2, 5000));
    match untrusted.get("4500", &cancel).await {
        Err(SeiError::Transport(TransportError::Tls {
            host,
            problem,
            ca_file: None,
        })) => {
            assert_eq!(host, "127.0.0.1");
            assert_eq!(
                problem,
                terraform_provider_sei::clients::tls::CertProblem::UnknownIssuer
            );
        }
        other => panic!("{other:?}"),
    }
    let trust = terraform_provider_sei::clients::Trust::with_ca_file(sb.trust_file.as_ref().unwrap()).unwrap();
    let trusted = sei(
        &sb,
        HttpPolicy {
            trust,
            ..policy(0, 5000)
        },
    );
    assert!(matches!(
        trusted.get("4500", &cancel).await,
        Err(SeiError::NotFound { .. })
    ));
}
