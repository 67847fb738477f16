//! The provider binary runs wherever Terraform runs: statically linked, no
//! ELF interpreter and no shared libraries, so it starts on Alpine (musl),
//! RHEL 8 or Amazon Linux 2 as well as here. `scripts/test.sh` builds every
//! test binary that way on x86_64 Linux and the build script
//! sees `crt-static`; a plain `cargo test` builds dynamically and reports
//! this test as ignored.

use std::process::{Command, Stdio};

use crate::common::*;

/// What `readelf` says about the binary's dynamic linking.
fn elf_facts(binary: &std::path::Path) -> (bool, Vec<String>) {
    let headers = Command::new("readelf")
        .arg("-lW")
        .arg(binary)
        .output()
        .expect("readelf");
    let interp = String::from_utf8_lossy(&headers.stdout).contains("INTERP");
    let dynamic = Command::new("readelf")
        .arg("-dW")
        .arg(binary)
        .output()
        .expect("readelf");
    let needed = String::from_utf8_lossy(&dynamic.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .map(|l| l.trim().to_string())
        .collect();
    (interp, needed)
}

#[test]
#[cfg_attr(
    not(static_build),
    ignore = "the build is not static: build with scripts/test.sh (static on x86_64 Linux)"
)]
fn the_provider_is_static_and_prints_its_handshake_in_an_empty_root() {
    let binary = provider_binary();
    let (interp, needed) = elf_facts(&binary);
    assert!(!interp, "{} has an ELF interpreter", binary.display());
    assert!(
        needed.is_empty(),
        "{} needs shared libraries: {needed:?}",
        binary.display()
    );

    // An empty root with nothing but the binary: no libc, no /etc, no /tmp.
    let root = TempDir::new();
    std::fs::copy(&binary, root.path().join("terraform-provider-sei")).unwrap();
    let cert = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:secp521r1",
            "-nodes",
        ])
        .args(["-keyout", "/dev/null", "-subj", "/CN=terraform", "-days", "1"])
        .stderr(Stdio::null())
        .output()
        .expect("openssl");
    assert!(cert.status.success());
    let mut child = Command::new("unshare")
        .args(["--user", "--map-root-user", "chroot"])
        .arg(root.path())
        .arg("/terraform-provider-sei")
        .env_clear()
        // For unshare to find chroot; inside the root there is nothing to find.
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", String::from_utf8(cert.stdout).unwrap())
        .env("PLUGIN_UNIX_SOCKET_DIR", "/")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    // core-protocol|app-protocol|network|address|protocol|server-cert
    let fields: Vec<&str> = line.trim().split('|').collect();
    assert_eq!(
        fields.len(),
        6,
        "no handshake line: {line:?}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&fields[..3], ["1", "6", "unix"], "{line}");
    assert!(fields[3].starts_with("/plugin"), "{line}");
    assert_eq!(fields[4], "grpc");
    assert!(!fields[5].is_empty(), "AutoMTLS server certificate");
}

/// In the same empty root (no `/etc/ssl`, no system trust store at all),
/// the binary checks a TLS server it is given the CA of, and names the
/// problem when it is not.
#[test]
#[cfg_attr(
    not(static_build),
    ignore = "the build is not static: build with scripts/test.sh (static on x86_64 Linux)"
)]
fn in_an_empty_root_the_binary_trusts_the_ca_file_it_is_given() {
    let dir = TempDir::new();
    let sandbox = SandboxProc::start_with(&default_seed(), dir.path(), &["--tls", "ca"]);
    let root = TempDir::new();
    std::fs::copy(provider_binary(), root.path().join("terraform-provider-sei")).unwrap();
    std::fs::copy(sandbox.trust_file.as_ref().unwrap(), root.path().join("ca.pem")).unwrap();
    let url = format!("{}/sei/api/v1/integrations/4500", sandbox.base);
    let probe = |ca: Option<&str>| {
        let mut cmd = Command::new("unshare");
        cmd.args(["--user", "--map-root-user", "chroot"])
            .arg(root.path())
            .args(["/terraform-provider-sei", "--probe", &url])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        if let Some(ca) = ca {
            cmd.env("SEI_CA_CERT_FILE", ca);
        }
        let out = cmd.output().expect("unshare");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // SEI's own answer for a record that is not there: a TLS conversation.
    let (code, out) = probe(Some("/ca.pem"));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("answered HTTP 401"), "{out}");
    let (code, out) = probe(None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("unknown issuer") && out.contains("ca_cert_file"), "{out}");
}
