//! A `sei-sandbox` process for the tests that need a real one (SIGKILL,
//! restarts, curl against a port).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub fn default_seed() -> String {
    std::fs::read_to_string(repo_root().join("examples/sandbox/seed.json")).expect("seed")
}

/// A `sei-sandbox` process on a free port, killed on drop.
pub struct SandboxProc {
    child: Child,
    pub base: String,
}

impl SandboxProc {
    pub fn start(seed_json: &str, dir: &Path) -> SandboxProc {
        Self::start_with(seed_json, dir, &[])
    }

    pub fn start_with(seed_json: &str, dir: &Path, extra: &[&str]) -> SandboxProc {
        let seed = dir.join("seed.json");
        std::fs::write(&seed, seed_json).unwrap();
        let log = std::fs::File::create(dir.join("sandbox.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sei-sandbox"))
            .args(["--listen", "127.0.0.1:0", "--seed"])
            .arg(&seed)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start sei-sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("sei-sandbox listening on ")
            .unwrap_or_else(|| panic!("unexpected ready line {line:?}"))
            .to_string();
        SandboxProc { child, base }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit by itself.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }

    /// Calls made to one route, from the control plane's counters.
    pub fn route_calls(&self, label: &str) -> u64 {
        // The blocking client needs the process's TLS crypto provider, even
        // for plain HTTP; do not rely on another test having installed it.
        sei_sandbox::install_crypto_provider();
        let counters: serde_json::Value = reqwest::blocking::get(format!("{}/_sandbox/counters", self.base))
            .unwrap()
            .json()
            .unwrap();
        counters["routes"][label].as_u64().unwrap_or(0)
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
