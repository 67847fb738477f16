//! The plugin server: go-plugin handshake, AutoMTLS and the gRPC services.
//!
//! This room only translates. Terraform's protobuf messages stop here; the
//! framework and everything behind it work on codec values and diagnostics.
//! It knows no provider: it serves any [`Provider`] through its
//! [`ProviderHost`].

mod controller;
pub mod convert;
mod grpc;
pub mod handshake;
pub mod tls;
pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use transport::{PluginAddr, PluginListener, SocketFile};

pub use grpc::ProviderService;

use crate::framework::{Provider, ProviderHost};

/// Generated protocol code, and nothing else.
pub mod proto {
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

/// gRPC message limit. tonic's 4 MiB default is too small for a large list
/// data source; terraform-plugin-go's 256 MiB would let one request hold
/// gigabytes once decoded. 64 MiB is far above any value of ours, and the
/// codec bounds the values inside it.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Runs the provider as Terraform launches it. Returns the process exit code.
pub async fn serve_for_terraform<P: Provider>(host: Arc<ProviderHost<P>>) -> i32 {
    let env = |k: &str| std::env::var(k).ok();
    let info = host.provider.info();
    let me = info.binary();
    if let Err(message) = handshake::check_magic_cookie(&env, &info) {
        eprintln!("{message}");
        return 1;
    }
    ignore_sigint();
    let Some((listener, addr, _socket)) = listen(&me, &env).await else {
        return 1;
    };
    tracing::debug!(network = addr.network(), address = %addr, "plugin listening");
    let version = handshake::negotiate_version(env("PLUGIN_PROTOCOL_VERSIONS").as_deref());
    let tls_disabled = env("TF_DISABLE_PLUGIN_TLS").is_some_and(|v| !v.is_empty());
    let client_cert = env("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty());
    let shutdown = CancellationToken::new();
    exit_with_parent(shutdown.clone());
    let service = ProviderService::new(host);

    let outcome = match (tls_disabled, client_cert) {
        (false, Some(pem)) => {
            let server_tls = match tls::ServerTls::new(&pem) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{me}: AutoMTLS setup failed: {e}");
                    return 1;
                }
            };
            handshake::print_handshake_line(version, &addr, Some(server_tls.certificate_der()));
            let incoming = tls::accept_tls(listener, server_tls.acceptor(), shutdown.clone());
            grpc::serve_incoming(service, incoming, shutdown.clone()).await
        }
        _ => {
            handshake::print_handshake_line(version, &addr, None);
            let incoming = tls::accept_plain(listener, shutdown.clone());
            grpc::serve_incoming(service, incoming, shutdown.clone()).await
        }
    };
    if let Err(e) = outcome {
        tracing::error!(error = %e, "plugin server stopped with an error");
        return 1;
    }
    0
}

/// `--debug`: serve plaintext on a loopback port and print the
/// `TF_REATTACH_PROVIDERS` value for a Terraform run in another shell, so a
/// debugger can hold this process. Ctrl-C stops it.
pub async fn serve_for_debugging<P: Provider>(host: Arc<ProviderHost<P>>) -> i32 {
    let info = host.provider.info();
    let me = info.binary();
    let env = |k: &str| std::env::var(k).ok();
    let Some((listener, addr, _socket)) = listen(&me, &env).await else {
        return 1;
    };
    let reattach = handshake::reattach_json(&info.registry_address(), std::process::id(), &addr);
    println!("Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n");
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    let incoming = tls::accept_plain(listener, shutdown.clone());
    match grpc::serve_incoming(ProviderService::new(host), incoming, shutdown).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{me}: {e}");
            1
        }
    }
}

/// Listens as go-plugin does: a Unix socket, else (the directory is not
/// writable, the path too long) loopback TCP in the plugin port range.
/// Failures are reported on stderr, where Terraform shows them, and yield
/// `None`. The returned guard removes the socket file when serving ends.
async fn listen(me: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<(PluginListener, PluginAddr, SocketFile)> {
    match transport::bind_unix(env) {
        Ok((listener, path)) => {
            return Some((
                PluginListener::Unix(listener),
                PluginAddr::Unix(path.clone()),
                SocketFile(Some(path)),
            ))
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen on a Unix socket; using loopback TCP"),
    }
    let listener = handshake::bind_plugin_port(env)
        .await
        .map_err(|e| eprintln!("{me}: cannot listen on a local port: {e}"))
        .ok()?;
    let addr = listener.local_addr().map_err(|e| eprintln!("{me}: {e}")).ok()?;
    Some((PluginListener::Tcp(listener), PluginAddr::Tcp(addr), SocketFile(None)))
}

/// How often the provider looks whether Terraform is still there.
const PARENT_CHECK: Duration = Duration::from_millis(500);

/// Ends serving when Terraform dies. A Terraform killed with SIGKILL never
/// calls `Shutdown`, and its plugin would otherwise linger (holding a socket
/// and, mid-apply, a half-done HTTP call) until the OS reaps it. When the
/// parent goes, the child is re-parented, so its parent id changes.
fn exit_with_parent(shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(PARENT_CHECK) => {}
            }
            if std::os::unix::process::parent_id() != parent {
                tracing::warn!("Terraform (pid {parent}) is gone; stopping");
                shutdown.cancel();
                return;
            }
        }
    });
}

/// go-plugin servers ignore SIGINT: the plugin shares Terraform's process
/// group, so Ctrl-C reaches it too, and Terraform wants in-flight RPCs to
/// finish and then cancels them through `StopProvider`.
/// The handler is installed before this returns, so a Ctrl-C right after the
/// handshake is already ignored.
fn ignore_sigint() {
    let Ok(mut interrupts) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) else {
        tracing::warn!("cannot install a SIGINT handler; Ctrl-C may stop this provider");
        return;
    };
    tokio::spawn(async move {
        while interrupts.recv().await.is_some() {
            tracing::debug!("ignoring SIGINT; Terraform stops providers through StopProvider");
        }
    });
}

/// How long `Shutdown` waits for the response to flush before exiting.
/// Terraform kills the process 2 s after calling Shutdown.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);
