//! The end-to-end harness: the real `terraform` binary launches our real
//! provider binary (handshake, AutoMTLS, gRPC), which talks to a real
//! `sei-sandbox` process over HTTP. Each test gets its own temp dir, CLI
//! config, environment and sandbox on port 0, so tests run in parallel.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const OPS: (&str, &str) = ("ops@acme.example", "ATATT-sandbox-ops-token");
pub const CI: (&str, &str) = ("ci@acme.example", "ATATT-sandbox-ci-token");
pub const NARROW: (&str, &str) = ("narrow@acme.example", "ATATT-sandbox-narrow-token");
pub const LEGACY: (&str, &str) = ("legacy-bot", "sandbox-app-password");
pub const SEI_KEY: &str = "sandbox-sei-api-key";

/// The repository root: examples, docs and scripts live there, above the
/// workspace's crates.
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The examples' seed without its pre-existing integrations: most tests
/// count and name records from an empty SEI account.
pub fn default_seed() -> String {
    let mut seed: Value = serde_json::from_str(&examples_seed()).expect("seed");
    seed["sei"].as_object_mut().expect("sei").remove("integrations");
    seed.to_string()
}

/// The seed as the quickstart and the examples use it.
pub fn examples_seed() -> String {
    std::fs::read_to_string(repo_root().join("examples/sandbox/seed.json")).expect("seed")
}

pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-sei"))
}

pub fn terraform_binary() -> String {
    std::env::var("TERRAFORM").unwrap_or_else(|_| "terraform".to_string())
}

/// Whether a terraform binary answers; the acceptance gate, as `TF_ACC` is
/// for Go providers. Checked once per test process.
pub fn terraform_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let found = Command::new(terraform_binary())
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        found
    })
}

/// `sei-sandbox`, built by the same `cargo build` as this test: it is another
/// crate's binary, so cargo gives us no `CARGO_BIN_EXE_` for it, but it sits
/// beside our own binary in the target directory.
pub fn sandbox_binary() -> PathBuf {
    let path = provider_binary().with_file_name("sei-sandbox");
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (cargo build --workspace)",
        path.display()
    );
    path
}

/// A temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("sei-acc-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `sei-sandbox` process on a free port, killed on drop.
pub struct SandboxProc {
    child: Child,
    pub base: String,
    /// With `--tls`: the PEM file a client must trust.
    pub trust_file: Option<PathBuf>,
    /// Created on first use, so async tests can hold a `SandboxProc` too.
    http: std::sync::OnceLock<reqwest::blocking::Client>,
}

impl SandboxProc {
    pub fn start(seed_json: &str, dir: &Path) -> SandboxProc {
        Self::start_with(seed_json, dir, &[])
    }

    pub fn start_with(seed_json: &str, dir: &Path, extra: &[&str]) -> SandboxProc {
        // The blocking reqwest client of `http()` needs the process's TLS
        // crypto provider.
        terraform_provider_sei::clients::install_crypto_provider();
        let seed = dir.join("seed.json");
        std::fs::write(&seed, seed_json).unwrap();
        let log = std::fs::File::create(dir.join("sandbox.log")).unwrap();
        let mut child = Command::new(sandbox_binary())
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
        let rest = line
            .trim()
            .strip_prefix("sei-sandbox listening on ")
            .unwrap_or_else(|| panic!("unexpected ready line {line:?}"));
        let (base, trust_file) = match rest.split_once(" (trust: ") {
            Some((base, file)) => (base.to_string(), Some(PathBuf::from(file.trim_end_matches(')')))),
            None => (rest.to_string(), None),
        };
        SandboxProc {
            child,
            base,
            trust_file,
            http: std::sync::OnceLock::new(),
        }
    }

    fn http(&self) -> &reqwest::blocking::Client {
        self.http.get_or_init(|| {
            let mut client = reqwest::blocking::Client::builder();
            if let Some(file) = &self.trust_file {
                let pem = std::fs::read(file).unwrap();
                client = client.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
            }
            client.build().unwrap()
        })
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

    pub fn sei_endpoint(&self) -> String {
        format!("{}/sei/api", self.base)
    }

    pub fn bitbucket_api(&self) -> String {
        format!("{}/bitbucket/2.0", self.base)
    }

    pub fn bitbucket_oauth(&self) -> String {
        format!("{}/bitbucket/site/oauth2", self.base)
    }

    pub fn get(&self, path: &str) -> Value {
        self.http()
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    pub fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .http()
            .request(m, format!("{}{path}", self.base))
            .header("Authorization", format!("ApiKey {SEI_KEY}"));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub fn counters(&self) -> Value {
        self.get("/_sandbox/counters")
    }

    pub fn reset_counters(&self) {
        self.http()
            .delete(format!("{}/_sandbox/counters", self.base))
            .send()
            .unwrap();
    }

    /// Calls received on routes whose label starts with `prefix`, such as
    /// `"GET /bitbucket/"` or `"POST /sei/"`.
    pub fn calls(&self, prefix: &str) -> u64 {
        let c = self.counters();
        c["routes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.starts_with(prefix) || (prefix.ends_with(' ') && k.contains(prefix.trim())))
                    .map(|(_, v)| v.as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Calls received on exactly this route label.
    pub fn route_calls(&self, label: &str) -> u64 {
        self.counters()["routes"][label].as_u64().unwrap_or(0)
    }

    pub fn bitbucket_calls(&self) -> u64 {
        let c = self.counters();
        c["routes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.contains(" /bitbucket/"))
                    .map(|(_, v)| v.as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn sei_calls(&self) -> u64 {
        let c = self.counters();
        c["routes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.contains(" /sei/"))
                    .map(|(_, v)| v.as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn fault(&self, fault: Value) {
        let r = self
            .http()
            .post(format!("{}/_sandbox/faults", self.base))
            .json(&fault)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "fault not accepted");
    }

    pub fn control(&self, method: &str, path: &str, body: Option<Value>) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http().request(m, format!("{}/_sandbox{path}", self.base));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().unwrap();
        assert!(r.status().is_success(), "control {path}: {}", r.status());
    }

    pub fn revoke(&self, principal: &str) {
        self.control("POST", &format!("/principals/{principal}/revoke"), None);
    }

    pub fn integration(&self, id: &str) -> (u16, Value) {
        self.send("GET", &format!("/sei/api/v1/integrations/{id}"), None)
    }

    pub fn token_record(&self, id: &str) -> Value {
        self.get(&format!("/_sandbox/integrations/{id}/token"))
    }

    pub fn all_integrations(&self) -> Vec<Value> {
        let (_, v) = self.send(
            "POST",
            "/sei/api/v1/integrations/list",
            Some(serde_json::json!({"filter": {}})),
        );
        v["records"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one terraform command did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// `-json` output: the diagnostics, as Terraform reports them.
    pub fn diagnostics(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "diagnostic")
            .map(|v| v["diagnostic"].clone())
            .collect()
    }

    pub fn errors(&self) -> Vec<Value> {
        self.diagnostics()
            .into_iter()
            .filter(|d| d["severity"] == "error")
            .collect()
    }

    pub fn warnings(&self) -> Vec<Value> {
        self.diagnostics()
            .into_iter()
            .filter(|d| {
                d["severity"] == "warning"
                    && !d["summary"]
                        .as_str()
                        .unwrap_or("")
                        .contains("Provider development overrides")
            })
            .collect()
    }
}

/// One Terraform working directory against one sandbox.
pub struct Tf {
    pub dir: TempDir,
    pub sandbox: SandboxProc,
    env: Vec<(String, String)>,
}

impl Tf {
    /// A working directory, its CLI config and a sandbox. Panics without a
    /// terraform: a test that gets here was not built as ignored (see
    /// build.rs), so a missing terraform is a failure, never a pass.
    pub fn new() -> Tf {
        Self::with_seed(&default_seed())
    }

    pub fn with_seed(seed: &str) -> Tf {
        Self::with_sandbox_args(seed, &[])
    }

    /// A sandbox started with `extra` arguments (`--tls ca`).
    pub fn with_sandbox_args(seed: &str, extra: &[&str]) -> Tf {
        assert!(
            terraform_available(),
            "no terraform found: put terraform >= 1.11 on PATH or set TERRAFORM (outside CI, a build without one marks these tests ignored)"
        );
        let dir = TempDir::new();
        let sandbox = SandboxProc::start_with(seed, dir.path(), extra);
        let cli = dir.path().join("cli.tfrc");
        let bin_dir = provider_binary().parent().unwrap().to_path_buf();
        std::fs::write(
            &cli,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"sei-oss/sei\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                bin_dir.display()
            ),
        )
        .unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        let env = vec![
            ("TF_CLI_CONFIG_FILE".into(), cli.display().to_string()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("HOME".into(), dir.path().display().to_string()),
            ("SEI_ENDPOINT".into(), sandbox.sei_endpoint()),
            ("SEI_API_KEY".into(), SEI_KEY.into()),
            ("BITBUCKET_API_URL".into(), sandbox.bitbucket_api()),
            ("BITBUCKET_OAUTH_URL".into(), sandbox.bitbucket_oauth()),
        ];
        Tf { dir, sandbox, env }
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.retain(|(n, _)| n != k);
        self.env.push((k.into(), v.into()));
    }

    pub fn unset_env(&mut self, k: &str) {
        self.env.retain(|(n, _)| n != k);
    }

    /// Writes `main.tf`: the required_providers block, then `body`.
    pub fn config(&self, body: &str) {
        self.config_in(&self.work(), body);
    }

    /// Another working directory against the same sandbox and environment:
    /// another Terraform state, as a second team or a copied directory has.
    pub fn other_work(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    pub fn config_in(&self, work: &Path, body: &str) {
        let text = format!(
            "terraform {{\n  required_providers {{\n    sei = {{ source = \"sei-oss/sei\" }}\n  }}\n}}\n\n{body}\n"
        );
        std::fs::write(work.join("main.tf"), text).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Out {
        self.run_in(&self.work(), args)
    }

    pub fn run_in(&self, work: &Path, args: &[&str]) -> Out {
        let mut cmd = Command::new(terraform_binary());
        cmd.args(args).current_dir(work).env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run terraform");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts terraform without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = Command::new(terraform_binary());
        cmd.args(args).current_dir(self.work()).env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start terraform")
    }

    pub fn ok(&self, args: &[&str]) -> Out {
        let out = self.run(args);
        assert_eq!(out.code, 0, "terraform {args:?} failed:\n{}", out.all());
        out
    }

    pub fn apply(&self) -> Out {
        self.ok(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `plan -detailed-exitcode`: 0 = no changes, 2 = changes.
    pub fn plan_code(&self) -> (i32, Out) {
        let out = self.run(&["plan", "-detailed-exitcode", "-no-color", "-input=false"]);
        (out.code, out)
    }

    pub fn assert_empty_plan(&self) {
        let (code, out) = self.plan_code();
        assert_eq!(code, 0, "expected an empty plan:\n{}", out.all());
    }

    pub fn plan_json(&self) -> Out {
        self.run(&["plan", "-json", "-input=false"])
    }

    /// The saved plan as JSON (`terraform show -json FILE`).
    pub fn plan_file_json(&self, file: &str) -> Value {
        self.ok(&["plan", "-out", file, "-no-color", "-input=false"]);
        let out = self.ok(&["show", "-json", file]);
        serde_json::from_str(&out.stdout).unwrap()
    }

    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.work().join("terraform.tfstate")).unwrap_or_else(|_| "{}".into());
        serde_json::from_str(&text).unwrap()
    }

    /// The attributes of resource `addr` (`sei_bitbucket_integration.prod`).
    pub fn attrs(&self, addr: &str) -> Value {
        let state = self.state();
        let (ty, name) = addr.split_once('.').unwrap();
        state["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["type"] == ty && r["name"] == name && r["mode"] == "managed")
            .map(|r| r["instances"][0]["attributes"].clone())
            .unwrap_or(Value::Null)
    }

    /// The attributes of instance `index` of a counted resource.
    pub fn attrs_of(&self, addr: &str, index: u64) -> Value {
        let state = self.state();
        let (ty, name) = addr.split_once('.').unwrap();
        state["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["type"] == ty && r["name"] == name && r["mode"] == "managed")
            .and_then(|r| {
                r["instances"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|i| i["index_key"] == index)
                    .map(|i| i["attributes"].clone())
            })
            .unwrap_or(Value::Null)
    }

    pub fn state_text(&self) -> String {
        std::fs::read_to_string(self.work().join("terraform.tfstate")).unwrap_or_default()
    }
}

/// The 1-based line of the first occurrence of `needle` in main.tf.
pub fn line_of(tf: &Tf, needle: &str) -> u64 {
    let text = std::fs::read_to_string(tf.work().join("main.tf")).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in main.tf"))
}

/// The start line of a diagnostic's source range.
pub fn diag_line(d: &Value) -> u64 {
    d["range"]["start"]["line"].as_u64().unwrap_or(0)
}

pub fn diag_text(d: &Value) -> String {
    format!(
        "{} {}",
        d["summary"].as_str().unwrap_or(""),
        d["detail"].as_str().unwrap_or("")
    )
}
