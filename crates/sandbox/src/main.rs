//! `sei-sandbox`: the local SEI + Bitbucket emulator, as a program.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use sei_sandbox as sandbox;

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
    /// Serve HTTPS with a throwaway certificate: `ca` (issued by a throwaway
    /// CA) or `self-signed`. The file clients must trust is printed with
    /// the ready line.
    #[arg(long, value_enum)]
    tls: Option<sandbox::tls::TlsKind>,
    /// Where `--tls` writes the file to trust; default: a new directory
    /// under the system's temporary directory.
    #[arg(long)]
    tls_dir: Option<PathBuf>,
    /// Another host name the `--tls` certificate is good for (repeatable),
    /// such as one that only a proxy resolves.
    #[arg(long)]
    tls_name: Vec<String>,
    /// trace, debug, info, warn or error.
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
    // Handlers go in before the ready line: a signal sent as soon as the
    // line is read must still mean "shut down cleanly".
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sei-sandbox: cannot install signal handlers: {e}");
            std::process::exit(2);
        }
    };
    let tls = args.tls.map(|kind| sandbox::tls::TlsOptions {
        kind,
        dir: args
            .tls_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("sei-sandbox-tls-{}", std::process::id()))),
        names: args.tls_name.clone(),
    });
    let running = match sandbox::start_with(seed, args.state, args.listen, tls).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sei-sandbox: {e}");
            std::process::exit(2);
        }
    };
    match &running.trust_file {
        Some(file) => println!(
            "sei-sandbox listening on {} (trust: {})",
            running.base_url(),
            file.display()
        ),
        None => println!("sei-sandbox listening on {}", running.base_url()),
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tracing::info!(sei = %running.sei_endpoint(), bitbucket = %running.bitbucket_api_url(), "ready");
    signals.wait().await;
    tracing::info!("shutting down");
    running.stop().await;
}

/// SIGINT and SIGTERM on Unix; Ctrl-C elsewhere (the release ships a
/// Windows build of the sandbox too, for the quickstart on prebuilt binaries).
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
