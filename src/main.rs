//! `terraform-provider-sei`: started by Terraform, never by hand (except
//! with `--debug`, to attach a debugger).

use std::sync::Arc;

use terraform_provider_sei::{clients, logging, server, SeiProvider};

fn main() {
    let debug = std::env::args().skip(1).any(|a| a == "--debug" || a == "-debug");
    if std::env::args().skip(1).any(|a| a == "--version" || a == "-v") {
        println!("terraform-provider-sei {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    logging::init_provider_logging();
    clients::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-sei: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let provider = Arc::new(SeiProvider::new());
    let code = runtime.block_on(async move {
        if debug {
            server::serve_for_debugging(provider).await
        } else {
            server::serve_for_terraform(provider).await
        }
    });
    // Exit without waiting for idle connections or blocking tasks: Terraform
    // kills a provider that lingers 2 s after Shutdown.
    runtime.shutdown_background();
    std::process::exit(code);
}
