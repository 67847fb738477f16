//! Runs every `sh` example of docs/sandbox.md against a sandbox started
//! with the quickstart seed, substituting only the port.

use std::process::Command;

use crate::common::{default_seed, SandboxProc};

#[test]
fn every_curl_example_in_the_sandbox_docs_works() {
    let root = crate::common::repo_root();
    let root = root.display();
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
    let dir = tempfile::tempdir().unwrap();
    let sandbox = SandboxProc::start(&default_seed(), dir.path());
    let base = sandbox.base.clone();
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
    assert!(sandbox.route_calls("POST /sei/api/v1/integrations") >= 1);
    // Its stderr went to a file: plain text, no terminal colours.
    let log = std::fs::read_to_string(dir.path().join("sandbox.log")).unwrap();
    assert!(!log.is_empty(), "the sandbox logged nothing");
    assert!(!log.contains('\x1b'), "ANSI escapes in a log file:\n{log}");
}
