//! Connections that a fault can end without an answer.
//!
//! Real networks lose answers in two ways that an HTTP status cannot model:
//! a peer (a load balancer, a crashing pod) resets the connection, or closes
//! it cleanly before a response. Clients must treat both as "maybe
//! processed". The control plane's `"connection": "reset" | "close"` faults
//! reach the connection through the [`ConnHandle`] every request carries.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// How a fault ends a connection instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionFault {
    /// TCP RST (SO_LINGER 0): the client reads "connection reset by peer".
    Reset,
    /// An orderly close (FIN) before any byte of the answer: the client
    /// reads "connection closed before message completed".
    Close,
}

const OPEN: u8 = 0;
const CLOSE: u8 = 1;
const RESET: u8 = 2;

/// The switch of one accepted connection, shared by its requests, and
/// whether it is TLS (links the sandbox writes use its scheme).
#[derive(Debug, Clone, Default)]
pub struct ConnHandle {
    state: Arc<AtomicU8>,
    tls: bool,
}

impl ConnHandle {
    /// `https` or `http`, as the client reached this connection.
    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// Ends the connection: nothing more is written on it, and dropping it
    /// closes or resets it.
    pub fn end(&self, how: ConnectionFault) {
        let state = match how {
            ConnectionFault::Reset => RESET,
            ConnectionFault::Close => CLOSE,
        };
        self.state.store(state, Ordering::SeqCst);
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::SeqCst)
    }
}

/// A TCP stream whose writes fail once its handle ends it, so not one byte
/// of a response leaves after the fault fired.
pub struct FaultableStream {
    inner: TcpStream,
    handle: ConnHandle,
}

impl FaultableStream {
    fn ended(&self) -> Option<io::Error> {
        (self.handle.state() != OPEN).then(|| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection ended by an injected fault",
            )
        })
    }
}

impl Drop for FaultableStream {
    fn drop(&mut self) {
        if self.handle.state() == RESET {
            // Linger 0: close() sends RST instead of FIN.
            if let Err(e) = socket2::SockRef::from(&self.inner).set_linger(Some(Duration::ZERO)) {
                tracing::debug!(error = %e, "cannot set SO_LINGER for a reset");
            }
        }
    }
}

impl AsyncRead for FaultableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.ended() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Some(e) = self.ended() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.ended() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.ended().is_some() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One accepted connection, in clear or over TLS (`--tls`).
pub enum SandboxStream {
    Plain(FaultableStream),
    Tls(Box<tokio_rustls::server::TlsStream<FaultableStream>>),
}

impl SandboxStream {
    fn handle(&self) -> &ConnHandle {
        match self {
            SandboxStream::Plain(s) => &s.handle,
            SandboxStream::Tls(s) => &s.get_ref().0.handle,
        }
    }
}

impl AsyncRead for SandboxStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            SandboxStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            SandboxStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for SandboxStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            SandboxStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            SandboxStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            SandboxStream::Plain(s) => Pin::new(s).poll_flush(cx),
            SandboxStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            SandboxStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            SandboxStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A TCP listener whose connections carry a [`ConnHandle`], with Nagle off
/// as a production server has it, and TLS when the sandbox has a
/// certificate. A client that refuses the certificate fails its handshake
/// and is dropped; the listener goes on.
pub struct FaultableListener {
    pub tcp: TcpListener,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// A handshake that takes longer than this is a client that went away.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl Listener for FaultableListener {
    type Io = SandboxStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (inner, addr) = Listener::accept(&mut self.tcp).await;
            if let Err(e) = inner.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
            let stream = FaultableStream {
                inner,
                handle: ConnHandle {
                    state: Arc::default(),
                    tls: self.tls.is_some(),
                },
            };
            let Some(acceptor) = &self.tls else {
                return (SandboxStream::Plain(stream), addr);
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => return (SandboxStream::Tls(Box::new(tls)), addr),
                Ok(Err(e)) => tracing::debug!(error = %e, peer = %addr, "TLS handshake failed"),
                Err(_) => tracing::debug!(peer = %addr, "TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl Connected<IncomingStream<'_, FaultableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, FaultableListener>) -> Self {
        stream.io().handle().clone()
    }
}
