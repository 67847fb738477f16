//! Runs every `sh` example of docs/sandbox.md against a sandbox started
//! with the quickstart seed, substituting only the port.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn every_curl_example_in_the_sandbox_docs_works() {
    let root = env!("CARGO_MANIFEST_DIR");
    let doc = std::fs::read_to_string(format!("{root}/docs/sandbox.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(block.clone());
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            _ => {}
        }
    }
    assert!(blocks.len() >= 6, "found {} examples", blocks.len());
    let mut child = Command::new(env!("CARGO_BIN_EXE_sei-sandbox"))
        .args(["--listen", "127.0.0.1:0", "--seed"])
        .arg(format!("{root}/examples/sandbox/seed.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("sei-sandbox listening on ")
        .unwrap()
        .to_string();
    let port = base.rsplit(':').next().unwrap().to_string();
    for block in &blocks {
        let script = block.replace("127.0.0.1:8787", &format!("127.0.0.1:{port}"));
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "example failed:\n{script}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let counters: serde_json::Value = serde_json::from_str(&{
        let out = Command::new("curl")
            .args(["-fsS", &format!("{base}/_sandbox/counters")])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    })
    .unwrap();
    assert!(counters["routes"]["POST /sei/api/v1/integrations"].as_u64().unwrap() >= 1);
    let _ = child.kill();
    let _ = child.wait();
}
