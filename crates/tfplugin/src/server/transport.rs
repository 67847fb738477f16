//! Where the plugin listens: a Unix domain socket, as go-plugin servers do
//! on Linux and macOS, or loopback TCP with `TCP_NODELAY` as the fallback.
//!
//! Terraform sends one small request per RPC and waits for its answer.
//! Without `TCP_NODELAY`, each response on TCP waits for the client's
//! delayed ACK (Nagle), about 40 ms per RPC; a Unix socket has no such
//! stall and skips the TCP stack altogether.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// The address printed in the handshake line and the reattach JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginAddr {
    Tcp(std::net::SocketAddr),
    Unix(PathBuf),
}

impl PluginAddr {
    /// go-plugin's network name: `tcp` or `unix`.
    pub fn network(&self) -> &'static str {
        match self {
            PluginAddr::Tcp(_) => "tcp",
            PluginAddr::Unix(_) => "unix",
        }
    }
}

impl std::fmt::Display for PluginAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginAddr::Tcp(a) => write!(f, "{a}"),
            PluginAddr::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

pub enum PluginListener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl PluginListener {
    pub async fn accept(&self) -> io::Result<PluginStream> {
        match self {
            PluginListener::Tcp(l) => {
                let (tcp, _) = l.accept().await?;
                // A failure only costs latency; the connection still works.
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
                Ok(PluginStream::Tcp(tcp))
            }
            PluginListener::Unix(l) => Ok(PluginStream::Unix(l.accept().await?.0)),
        }
    }
}

/// One accepted connection, of either kind.
pub enum PluginStream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            PluginStream::Tcp($s) => $e,
            PluginStream::Unix($s) => $e,
        }
    };
}

impl AsyncRead for PluginStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for PluginStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => Pin::new(s).poll_shutdown(cx))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            PluginStream::Tcp(s) => s.is_write_vectored(),
            PluginStream::Unix(s) => s.is_write_vectored(),
        }
    }
}

/// A Unix socket in `PLUGIN_UNIX_SOCKET_DIR` (else the temp dir), named
/// `plugin<random>` as go-plugin names it, group-owned by
/// `PLUGIN_UNIX_SOCKET_GROUP` when that is set.
pub fn bind_unix(env: &dyn Fn(&str) -> Option<String>) -> io::Result<(UnixListener, PathBuf)> {
    let dir = env("PLUGIN_UNIX_SOCKET_DIR")
        .filter(|d| !d.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("plugin{}", rand::random::<u32>()));
    let listener = UnixListener::bind(&path)?;
    if let Some(group) = env("PLUGIN_UNIX_SOCKET_GROUP").filter(|g| !g.trim().is_empty()) {
        if let Err(e) = give_to_group(&path, group.trim()) {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    }
    Ok((listener, path))
}

/// As go-plugin does: the socket belongs to `group` (a name or a gid) and is
/// readable and writable by it.
fn give_to_group(path: &Path, group: &str) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let gid = match group.parse::<u32>() {
        Ok(gid) => gid,
        Err(_) => {
            let groups = std::fs::read_to_string("/etc/group")?;
            groups
                .lines()
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    let gid = f.nth(1)?.parse::<u32>().ok()?;
                    (name == group).then_some(gid)
                })
                .next()
                .ok_or_else(|| io::Error::other(format!("PLUGIN_UNIX_SOCKET_GROUP: no group {group:?}")))?
        }
    };
    std::os::unix::fs::chown(path, None, Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
}

/// Removes the socket file when the server is done with it.
pub struct SocketFile(pub Option<PathBuf>);

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unix_socket_lives_in_the_requested_dir_and_is_removed() {
        let dir = std::env::temp_dir().join(format!("tfplugin-sock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display().to_string();
        let env = |k: &str| (k == "PLUGIN_UNIX_SOCKET_DIR").then(|| d.clone());
        let (listener, path) = bind_unix(&env).unwrap();
        assert_eq!(path.parent(), Some(dir.as_path()));
        assert!(path.file_name().unwrap().to_str().unwrap().starts_with("plugin"));
        let l = PluginListener::Unix(listener);
        let client = tokio::spawn({
            let path = path.clone();
            async move { UnixStream::connect(path).await.unwrap() }
        });
        assert!(matches!(l.accept().await.unwrap(), PluginStream::Unix(_)));
        client.await.unwrap();
        drop(SocketFile(Some(path.clone())));
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn accepted_tcp_connections_have_nodelay() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let l = PluginListener::Tcp(l);
        let client = tokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        match l.accept().await.unwrap() {
            PluginStream::Tcp(s) => assert!(s.nodelay().unwrap()),
            PluginStream::Unix(_) => panic!("expected TCP"),
        }
        client.await.unwrap();
    }
}
