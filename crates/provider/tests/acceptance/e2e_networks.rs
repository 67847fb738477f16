//! Corporate networks: SEI, Bitbucket Cloud and a Data Center server behind
//! a private CA (the sandbox in `--tls` mode), trusted through
//! `ca_cert_file`, `SEI_CA_CERT_FILE` or `SSL_CERT_FILE`, and the message a
//! user gets when nothing trusts it.

use crate::common::*;
use serde_json::Value;

const SVC: (&str, &str) = ("svc-sei", "BBDC-sandbox-svc-sei-token");

/// A credential, a Cloud integration and a Data Center integration: every
/// kind of HTTPS call the provider makes at plan.
fn everything() -> String {
    r#"
variable "ops_token" {
  type      = string
  ephemeral = true
}
variable "bbdc_token" {
  type      = string
  ephemeral = true
}
variable "bbdc_url" {
  type = string
}

resource "sei_bitbucket_credential" "ops" {
  auth_type           = "api_token"
  username            = "ops@acme.example"
  password_wo         = var.ops_token
  password_wo_version = 1
  workspaces          = ["acme"]
}

resource "sei_bitbucket_integration" "cloud" {
  name         = "bb-tls"
  repositories = ["acme/api"]
  credential {
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }
  credentials_version = 1
}

resource "sei_bitbucket_server_integration" "dc" {
  name = "bbdc-tls"
  url  = var.bbdc_url
  credential {
    username    = "svc-sei"
    password_wo = var.bbdc_token
  }
  credentials_version = 1
}
"#
    .to_string()
}

fn tls_sandbox(kind: &str) -> Tf {
    let mut tf = Tf::with_sandbox_args(&default_seed(), &["--tls", kind]);
    assert!(tf.sandbox.base.starts_with("https://"), "{}", tf.sandbox.base);
    tf.set_env("TF_VAR_ops_token", OPS.1);
    tf.set_env("TF_VAR_bbdc_token", SVC.1);
    let url = format!("{}/bbdc", tf.sandbox.base);
    tf.set_env("TF_VAR_bbdc_url", &url);
    tf.config(&everything());
    tf
}

fn trust_file(tf: &Tf) -> String {
    tf.sandbox
        .trust_file
        .as_ref()
        .expect("the sandbox prints its trust file")
        .display()
        .to_string()
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_private_ca_is_named_until_it_is_trusted_then_everything_works() {
    let mut tf = tls_sandbox("ca");
    let host = "127.0.0.1";

    // Nothing trusts the CA: the plan fails on SEI, and every message names
    // the host and ca_cert_file, never a satellite.
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let all: Vec<Value> = out.diagnostics();
    assert!(!all.is_empty());
    let errors = out.errors();
    assert!(!errors.is_empty(), "{all:?}");
    for d in &all {
        let text = diag_text(d);
        if d["summary"]
            .as_str()
            .unwrap_or("")
            .contains("Provider development overrides")
        {
            continue;
        }
        assert!(!text.contains("satellite"), "{text}");
        assert!(
            text.contains(host) && text.contains("ca_cert_file") && text.contains("SEI_CA_CERT_FILE"),
            "{text}"
        );
        assert!(text.contains("unknown issuer"), "{text}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e["summary"] == "SEI's TLS certificate is not trusted"),
        "{errors:?}"
    );
    assert_eq!(tf.sandbox.route_calls("POST /sei/api/v1/integrations"), 0);

    // SEI_CA_CERT_FILE: plan, apply and destroy.
    tf.set_env("SEI_CA_CERT_FILE", &trust_file(&tf));
    tf.apply();
    assert_eq!(tf.attrs("sei_bitbucket_credential.ops")["valid"], true);
    assert!(tf.attrs("sei_bitbucket_server_integration.dc")["server_version"].is_string());
    assert_eq!(tf.sandbox.all_integrations().len(), 2);
    tf.assert_empty_plan();
    tf.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert_eq!(tf.sandbox.all_integrations().len(), 0);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn ssl_cert_file_alone_is_trusted() {
    let mut tf = tls_sandbox("ca");
    let bundle = tf.dir.path().join("bundle.pem");
    std::fs::write(&bundle, std::fs::read(trust_file(&tf)).unwrap()).unwrap();
    tf.set_env("SSL_CERT_FILE", bundle.to_str().unwrap());
    let (code, out) = tf.plan_code();
    assert_eq!(code, 2, "{}", out.all());
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_self_signed_server_certificate_given_as_ca_cert_file_is_trusted() {
    let tf = tls_sandbox("self-signed");
    let file = trust_file(&tf);
    tf.config(&format!(
        "provider \"sei\" {{\n  ca_cert_file = \"{file}\"\n}}\n{}",
        everything()
    ));
    tf.apply();
    assert_eq!(tf.sandbox.all_integrations().len(), 2);
    tf.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_ca_cert_file_without_a_certificate_fails_validate_on_its_line() {
    let tf = tls_sandbox("ca");
    let empty = tf.dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    for (file, says) in [
        (empty.display().to_string(), "holds no PEM certificate"),
        ("/nonexistent/ca.pem".to_string(), "cannot read /nonexistent/ca.pem"),
    ] {
        tf.config(&format!(
            "provider \"sei\" {{\n  ca_cert_file = \"{file}\"\n}}\n{}",
            everything()
        ));
        let out = tf.run(&["validate", "-json", "-no-color"]);
        assert_eq!(out.code, 1, "{}", out.all());
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        let errors: Vec<&Value> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(diag_text(errors[0]).contains(says), "{errors:?}");
        assert_eq!(diag_line(errors[0]), line_of(&tf, "ca_cert_file"));
    }
}

fn one_credential(token_var_user: &str, repositories: &str) -> String {
    format!(
        r#"
variable "token" {{
  type      = string
  ephemeral = true
}}

resource "sei_bitbucket_integration" "x" {{
  name         = "bb-allowlist"
  repositories = {repositories}
  credential {{
    username    = "{token_var_user}"
    password_wo = var.token
  }}
  credentials_version = 1
}}
"#
    )
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn an_ip_allowlist_403_is_told_apart_from_a_missing_scope() {
    let mut tf = Tf::new();
    // The account's calls now come from an address the workspace's IP
    // allowlist refuses: its private repositories answer 403, no scope named.
    tf.sandbox
        .control("POST", &format!("/principals/{}/restrict", OPS.0), None);
    tf.set_env("TF_VAR_token", OPS.1);
    tf.config(&one_credential(OPS.0, r#"["acme/api"]"#));
    let out = tf.plan_json();
    assert_eq!(
        out.code,
        0,
        "a warning, not an error: SEI may still connect\n{}",
        out.all()
    );
    let warnings = out.warnings();
    let allowlist: Vec<_> = warnings
        .iter()
        .filter(|w| diag_text(w).contains("IP allowlisting"))
        .collect();
    assert_eq!(allowlist.len(), 1, "{warnings:?}");
    let text = diag_text(allowlist[0]);
    assert!(text.contains("Harness's IP addresses"), "{text}");
    assert!(text.contains("skip_preflight = false"), "{text}");
    assert!(!text.contains("lacks required Bitbucket scopes"), "{text}");

    // A missing scope still names the scope, as an error.
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_token", NARROW.1);
    tf.config(&one_credential(NARROW.0, "[]"));
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let text = diag_text(&out.errors()[0]);
    assert!(text.contains("read:workspace:bitbucket"), "{text}");
    assert!(!text.contains("IP allowlisting"), "{text}");
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_clear_text_data_center_url_is_warned_about_on_its_line() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_bbdc_token", SVC.1);
    // An address that is never called: the live check is off, and a plan
    // sends nothing to a Data Center.
    tf.config(
        r#"
provider "sei" {
  validate_credentials = false
}

variable "bbdc_token" {
  type      = string
  ephemeral = true
}

resource "sei_bitbucket_server_integration" "dc" {
  name = "bbdc-clear"
  url  = "http://bitbucket.acme.example/bbdc"
  credential {
    username    = "svc-sei"
    password_wo = var.bbdc_token
  }
  credentials_version = 1
}
"#,
    );
    let out = tf.plan_json();
    assert_eq!(out.code, 0, "{}", out.all());
    let warnings = out.warnings();
    let clear: Vec<_> = warnings
        .iter()
        .filter(|w| w["summary"] == "Credentials would travel in clear text")
        .collect();
    assert_eq!(clear.len(), 1, "{warnings:?}");
    assert_eq!(diag_line(clear[0]), line_of(&tf, "url  = \"http://"));
    assert!(diag_text(clear[0]).contains("http://bitbucket.acme.example/bbdc"));
    assert_eq!(tf.sandbox.calls("GET /bbdc"), 0);
}

/// A forward proxy for the test, on loopback: `CONNECT host:port` tunnels
/// (https), absolute-URI requests (http) are piped to their host. It knows
/// one name the rest of the machine does not, `sandbox.internal`, which it
/// maps to the sandbox: a call that reaches the sandbox under that name
/// went through the proxy. It requires the `Proxy-Authorization` the
/// proxy URL's user info gives.
struct Proxy {
    addr: std::net::SocketAddr,
    requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    fn start(sandbox_port: u16) -> Proxy {
        use std::io::{BufRead, BufReader, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().take(500) {
                let Ok(client) = client else { continue };
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(client.try_clone().unwrap());
                    let mut head = Vec::new();
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 {
                        head.push(line.clone());
                        if line == "\r\n" {
                            break;
                        }
                        line.clear();
                    }
                    let Some(first) = head.first().cloned() else { return };
                    let authorized = head
                        .iter()
                        .any(|h| h.to_ascii_lowercase().starts_with("proxy-authorization: basic "));
                    let mut client = client;
                    if !authorized {
                        let _ = client
                            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
                        return;
                    }
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let target = first.split_whitespace().nth(1).unwrap_or_default().to_string();
                    let authority = target
                        .trim_start_matches("http://")
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let port = authority.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
                    if !authority.starts_with("sandbox.internal:") || port != Some(sandbox_port) {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                        return;
                    }
                    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", sandbox_port)) else {
                        return;
                    };
                    if first.starts_with("CONNECT ") {
                        let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                    } else {
                        // The sandbox takes absolute-form request targets.
                        for h in &head {
                            let _ = upstream.write_all(h.as_bytes());
                        }
                    }
                    let mut up_read = upstream.try_clone().unwrap();
                    let mut down = client.try_clone().unwrap();
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut up_read, &mut down);
                    });
                    let _ = std::io::copy(&mut reader, &mut upstream);
                });
            }
        });
        Proxy { addr, requests }
    }

    fn seen(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn proxied(tf: &mut Tf, host: &str, proxy: &Proxy) {
    let port = tf.sandbox.base.rsplit(':').next().unwrap().to_string();
    let scheme = if tf.sandbox.base.starts_with("https") {
        "https"
    } else {
        "http"
    };
    let base = format!("{scheme}://{host}:{port}");
    tf.set_env("SEI_ENDPOINT", &format!("{base}/sei/api"));
    tf.set_env("BITBUCKET_API_URL", &format!("{base}/bitbucket/2.0"));
    tf.set_env("BITBUCKET_OAUTH_URL", &format!("{base}/bitbucket/site/oauth2"));
    tf.set_env("TF_VAR_bbdc_url", &format!("{base}/bbdc"));
    let proxy_url = format!("http://corp-user:proxy-s3cret@{}", proxy.addr);
    tf.set_env("HTTPS_PROXY", &proxy_url);
    tf.set_env("HTTP_PROXY", &proxy_url);
}

#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn every_call_goes_through_the_proxy_unless_no_proxy_says_otherwise() {
    for tls in [false, true] {
        let args: &[&str] = if tls {
            &["--tls", "ca", "--tls-name", "sandbox.internal"]
        } else {
            &[]
        };
        let mut tf = Tf::with_sandbox_args(&default_seed(), args);
        tf.set_env("TF_VAR_ops_token", OPS.1);
        tf.set_env("TF_VAR_bbdc_token", SVC.1);
        if let Some(file) = &tf.sandbox.trust_file {
            let file = file.display().to_string();
            tf.set_env("SEI_CA_CERT_FILE", &file);
        }
        tf.config(&everything());
        let port: u16 = tf.sandbox.base.rsplit(':').next().unwrap().parse().unwrap();
        let proxy = Proxy::start(port);

        // `sandbox.internal` resolves only inside the proxy: every call that
        // reaches the sandbox went through it (CONNECT for https, absolute
        // URIs for http).
        proxied(&mut tf, "sandbox.internal", &proxy);
        tf.set_env("TF_LOG", "trace");
        let out = tf.run(&["apply", "-auto-approve", "-no-color", "-input=false"]);
        assert_eq!(out.code, 0, "tls={tls}\n{}", out.all());
        assert_eq!(tf.sandbox.all_integrations().len(), 2, "tls={tls}");
        assert!(proxy.seen() > 0, "tls={tls}");
        assert!(
            !out.all().contains("proxy-s3cret"),
            "tls={tls}: the proxy's password was logged"
        );
        assert!(
            !out.all().contains("corp-user:"),
            "tls={tls}: the proxy's user info was logged"
        );
        tf.unset_env("TF_LOG");
        tf.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);

        // NO_PROXY covering the host: the proxy sees nothing.
        let before = proxy.seen();
        proxied(&mut tf, "127.0.0.1", &proxy);
        tf.set_env("NO_PROXY", "127.0.0.1");
        tf.apply();
        assert_eq!(proxy.seen(), before, "tls={tls}: NO_PROXY was not honoured");
        tf.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    }
}

/// An `http://` endpoint behind a load balancer that redirects to
/// `https://`: the provider follows no redirect (it would carry the key
/// elsewhere) and says so, instead of a bare "301 Moved Permanently".
#[test]
#[cfg_attr(no_terraform, ignore = "needs terraform >= 1.11 on PATH")]
fn a_redirecting_endpoint_is_explained() {
    let mut tf = Tf::new();
    tf.set_env("TF_VAR_token", OPS.1);
    tf.sandbox
        .fault(serde_json::json!({"path": "/sei/api/*", "status": 301, "count": 100,
        "location": "https://sei.example.com/gateway/sei/api/v1/integrations/list"}));
    tf.config(&one_credential(OPS.0, r#"["acme/api"]"#));
    let out = tf.plan_json();
    assert_eq!(out.code, 1, "{}", out.all());
    let text: String = out.errors().iter().map(diag_text).collect();
    assert!(
        text.contains("SEI answered 301 with a redirect")
            && text.contains("follows no redirect")
            && text.contains("Set `endpoint` (SEI_ENDPOINT)"),
        "{text}"
    );
}
