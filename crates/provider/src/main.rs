//! `terraform-provider-sei`: started by Terraform, never by hand (except
//! with `--debug`, to attach a debugger).

use std::sync::Arc;

use terraform_provider_sei::{clients, SeiProvider, LOG_TARGETS};
use tfplugin::framework::ProviderHost;
use tfplugin::{logging, server};

fn main() {
    let debug = std::env::args().skip(1).any(|a| a == "--debug" || a == "-debug");
    if std::env::args().skip(1).any(|a| a == "--version" || a == "-v") {
        println!("terraform-provider-sei {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    if let Some(url) = std::env::args().skip_while(|a| a != "--probe").nth(1) {
        std::process::exit(probe(&url));
    }
    logging::init_provider_logging("sei", LOG_TARGETS);
    clients::install_crypto_provider();
    // One thread: the work is I/O waits and small decodes, and Terraform
    // sends at most -parallelism RPCs at once; worker threads would only
    // add wake-ups and CPU to every run.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-sei: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let host = Arc::new(ProviderHost::new(SeiProvider::new()));
    let code = runtime.block_on(async move {
        if debug {
            server::serve_for_debugging(host).await
        } else {
            server::serve_for_terraform(host).await
        }
    });
    // Exit without waiting for idle connections or blocking tasks: Terraform
    // kills a provider that lingers 2 s after Shutdown.
    runtime.shutdown_background();
    std::process::exit(code);
}

/// `--probe URL`: one GET with the trust the provider would use (the
/// system's store, `SSL_CERT_FILE`/`SSL_CERT_DIR`, and `SEI_CA_CERT_FILE`)
/// and the proxies it would use; prints the status or why there is none.
fn probe(url: &str) -> i32 {
    clients::install_crypto_provider();
    let trust = match std::env::var("SEI_CA_CERT_FILE").ok().filter(|f| !f.trim().is_empty()) {
        Some(file) => match clients::Trust::with_ca_file(std::path::Path::new(file.trim())) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("SEI_CA_CERT_FILE: {e}");
                return 2;
            }
        },
        None => clients::Trust::default(),
    };
    let policy = clients::HttpPolicy {
        trust,
        ..clients::HttpPolicy::default()
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return 2;
        }
    };
    match runtime.block_on(clients::http::probe(url, &policy)) {
        Ok(status) => {
            println!("ok: {url} answered HTTP {status}");
            0
        }
        Err(e) => {
            println!("failed: {e}");
            1
        }
    }
}
