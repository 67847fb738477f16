//! `sei-sandbox`: the local SEI + Bitbucket emulator, as a program.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use terraform_provider_sei::sandbox;

/// Local emulator of the Harness SEI integrations API and the Bitbucket
/// Cloud API, for the quickstart and the tests.
#[derive(Parser)]
#[command(name = "sei-sandbox", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Seed file (JSON): API keys, Bitbucket principals, workspaces.
    #[arg(long)]
    seed: PathBuf,
    /// Persist all changes to this file, atomically, and reload it on start.
    #[arg(long)]
    state: Option<PathBuf>,
    /// trace, debug, info, warn or error.
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(args.log_level)
        .init();
    let text = match std::fs::read_to_string(&args.seed) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sei-sandbox: cannot read seed file {}: {e}", args.seed.display());
            std::process::exit(2);
        }
    };
    let seed = match sandbox::parse_seed(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sei-sandbox: {}: {e}", args.seed.display());
            std::process::exit(2);
        }
    };
    let running = match sandbox::start(seed, args.state, args.listen).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sei-sandbox: {e}");
            std::process::exit(2);
        }
    };
    println!("sei-sandbox listening on {}", running.base_url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tracing::info!(sei = %running.sei_endpoint(), bitbucket = %running.bitbucket_api_url(), "ready");
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
