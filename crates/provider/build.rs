//! Says at build time what the acceptance suite will find, so that a test
//! that cannot run is reported as *ignored* by the test runner instead of
//! passing without doing anything:
//!
//! - `cfg(no_terraform)`: no `terraform` answers (on PATH, or at
//!   `TERRAFORM`). Set only outside CI: with `CI=true` the acceptance tests
//!   run and fail, because a CI without terraform has tested nothing.
//! - `cfg(no_grpcio)`: `scripts/python-grpc.sh` has not installed grpcio
//!   into target/tools/grpcio. Set only outside CI, like `no_terraform`.
//! - `cfg(static_build)`: the build links glibc statically
//!   (`scripts/static-env.sh`), so the static-binary test has a static binary
//!   to check.

use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rustc-check-cfg=cfg(no_terraform)");
    println!("cargo:rustc-check-cfg=cfg(static_build)");
    println!("cargo:rustc-check-cfg=cfg(no_grpcio)");
    for var in ["PATH", "TERRAFORM", "CI"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let terraform = std::env::var("TERRAFORM").unwrap_or_else(|_| "terraform".to_string());
    let found = Command::new(&terraform)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if !found && !ci {
        println!("cargo:rustc-cfg=no_terraform");
        println!("cargo:warning=no terraform found: the acceptance tests are built as ignored (put terraform >= 1.11 on PATH, or set TERRAFORM)");
    }
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/tools/grpcio/bin/python");
    println!("cargo:rerun-if-changed={python}");
    let grpcio = Command::new(python)
        .args(["-c", "import grpc"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !grpcio && !ci {
        println!("cargo:rustc-cfg=no_grpcio");
        println!("cargo:warning=grpcio not installed: the Python client test is built as ignored (run scripts/python-grpc.sh)");
    }
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    if features.split(',').any(|f| f == "crt-static") {
        println!("cargo:rustc-cfg=static_build");
    }
}
