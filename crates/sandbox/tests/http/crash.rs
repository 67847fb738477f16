//! Crash safety of `--state`: SIGKILL the sandbox while writes are in
//! flight, restart it, and find every write that was answered 200.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{default_seed, SandboxProc};
use serde_json::json;

fn start(dir: &std::path::Path, state: &std::path::Path) -> SandboxProc {
    SandboxProc::start_with(&default_seed(), dir, &["--state", state.to_str().unwrap()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_sigkill() {
    sei_sandbox::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let client = reqwest::Client::new();
    for round in 0..6 {
        let mut sandbox = start(dir.path(), &state);
        let base = sandbox.base.clone();
        // Everything acknowledged before this restart is still there.
        let listed: serde_json::Value = client
            .post(format!("{base}/sei/api/v1/integrations/list"))
            .header("Authorization", "ApiKey sandbox-sei-api-key")
            .json(&json!({"filter": {}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: std::collections::HashSet<String> = listed["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        for name in acknowledged.lock().unwrap().iter() {
            assert!(
                names.contains(name),
                "round {round}: acknowledged write {name} was lost"
            );
        }
        // Writers run until the process dies under them.
        let acked_this_round = Arc::new(AtomicUsize::new(0));
        let mut writers = Vec::new();
        for w in 0..6 {
            let (client, base, acknowledged, acked) = (
                client.clone(),
                base.clone(),
                acknowledged.clone(),
                acked_this_round.clone(),
            );
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("r{round}-w{w}-{i}");
                    let sent = client
                        .post(format!("{base}/sei/api/v1/integrations"))
                        .header("Authorization", "ApiKey sandbox-sei-api-key")
                        .json(
                            &json!({"name": name, "application": "bitbucket", "url": "https://bitbucket.org",
                                      "satellite": true, "tags": [], "metadata": {}}),
                        )
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            acknowledged.lock().unwrap().push(name);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => return,
                    }
                }
            }));
        }
        while acked_this_round.load(Ordering::SeqCst) < 15 {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        sandbox.kill(); // SIGKILL, with writes in flight
        for w in writers {
            w.await.unwrap();
        }
    }
    assert!(acknowledged.lock().unwrap().len() >= 90);
}

#[test]
fn a_bad_seed_is_one_clear_error_and_no_start() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"{"sei":{"api_keys":[{"key":"k","account":"a"}]},"bitbucket":{"workspaces":[],"principals":[{"kind":"api_token","secret":"s"}]}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sei-sandbox"))
        .args(["--listen", "127.0.0.1:0", "--seed"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no ready line");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bitbucket.principals[0].email"), "{stderr}");
}

#[test]
fn sigterm_and_sigint_shut_it_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for signal in ["-TERM", "-INT"] {
        let mut sandbox = start(dir.path(), &dir.path().join("state.json"));
        assert!(Command::new("kill")
            .args([signal, &sandbox.pid().to_string()])
            .status()
            .unwrap()
            .success());
        assert!(sandbox.wait().success(), "{signal}");
    }
}
