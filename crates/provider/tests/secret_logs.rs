//! No secret in TRACE logs or in the Debug/Display of any client, request,
//! report or error. In its own test binary: the capturing subscriber is
//! the process-wide default, so no other test's callsites can hide events
//! from it.

// Tests: an unwrap that fails is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sei_sandbox as sandbox;
use terraform_provider_sei::clients::bitbucket::BitbucketClient;
use terraform_provider_sei::clients::http::HttpPolicy;
use terraform_provider_sei::clients::sei::{IntegrationRequest, SeiAuth, SeiClient, SeiScope};
use terraform_provider_sei::clients::BitbucketAuth;
use terraform_provider_sei::validate::{AuthType, CredentialCheck, CredentialValidator};
use terraform_provider_sei::Secret;
use tokio_util::sync::CancellationToken;

const OPS: (&str, &str) = ("ops@acme.example", "ATATT-sandbox-ops-token");
const CI: (&str, &str) = ("ci@acme.example", "ATATT-sandbox-ci-token");

fn policy() -> HttpPolicy {
    HttpPolicy {
        max_retries: 1,
        request_timeout: Duration::from_secs(5),
        ..HttpPolicy::default()
    }
}

fn check(user: (&str, &str), workspaces: &[&str], repos: &[&str]) -> CredentialCheck {
    CredentialCheck {
        auth_type: AuthType::ApiToken,
        username: user.0.into(),
        secret: Secret::new(user.1),
        required_scopes: None,
        workspaces: workspaces.iter().map(|s| s.to_string()).collect(),
        repositories: repos.iter().map(|s| s.to_string()).collect(),
    }
}

/// A tracing writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_in_trace_logs_or_debug_output() {
    use tracing_subscriber::layer::SubscriberExt;
    let capture = Capture::default();
    let sink = capture.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tfplugin::logging::HclogLayer::new(move || sink.clone()))
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    tracing::subscriber::set_global_default(subscriber).unwrap();

    terraform_provider_sei::clients::install_crypto_provider();
    let seed = sandbox::parse_seed(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sandbox/seed.json")).unwrap(),
    )
    .unwrap();
    let sb = sandbox::start(seed, None, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let v = CredentialValidator::new(BitbucketClient::new(sb.bitbucket_api_url().parse().unwrap(), policy()).unwrap());
    let report = v.check(&check(OPS, &["acme"], &["acme/api"]), &cancel).await;
    let bad = v.check(&check((CI.0, "ATATT-wrong-secret"), &[], &[]), &cancel).await;
    let client = SeiClient::new(
        sb.sei_endpoint().parse().unwrap(),
        SeiAuth::from_key(Secret::new("pat.acme.sandbox.token")),
        SeiScope::default(),
        policy(),
    )
    .unwrap();
    let mut req = IntegrationRequest {
        name: "bb-logs".into(),
        application: Some("bitbucket".into()),
        url: Some("https://bitbucket.org".into()),
        ..Default::default()
    };
    req.method = Some("apikey".into());
    req.username = Some(OPS.0.into());
    req.apikey = Some(Secret::new(OPS.1));
    let created = client.create(&req, &cancel).await.unwrap().record;
    // Another create of that name is the name-conflict error, whose text
    // must not carry the secret either.
    let conflict = client.create(&req, &cancel).await.unwrap_err();

    let mut everything = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(everything.contains("\"@level\""), "logging was captured");
    for text in [
        format!("{client:?}"),
        format!("{req:?}"),
        format!("{v:?}"),
        format!("{report:?}"),
        format!("{bad:?}"),
        format!("{created:?}"),
        format!("{conflict:?} {conflict}"),
        format!("{:?}", check(OPS, &[], &[])),
        format!("{:?}", BitbucketAuth::Bearer(Secret::new(OPS.1))),
    ] {
        everything.push_str(&text);
    }
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", OPS.0, OPS.1),
    );
    for secret in [OPS.1, "ATATT-wrong-secret", "pat.acme.sandbox.token", b64.as_str()] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}
