//! Connections the sandbox can cut.
//!
//! axum offers no way for a handler to abandon its connection, yet
//! drop-after-commit must look to the client exactly like a server that died
//! after committing: no status line, just a reset. So every accepted socket is
//! wrapped in [`ConnIo`], whose reads and writes fail with `ConnectionReset` once
//! its kill switch is thrown (then hyper drops it, and with `SO_LINGER` 0 the
//! kernel sends an RST). The same wrapper lets shutdown cut connections that a
//! client keeps open (half-sent requests, idle keep-alives that never close).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Accepts TCP connections and wraps them in [`ConnIo`].
pub(crate) struct SandboxListener {
    inner: TcpListener,
    hard_stop: watch::Receiver<bool>,
}

impl SandboxListener {
    pub(crate) fn new(inner: TcpListener, hard_stop: watch::Receiver<bool>) -> Self {
        SandboxListener { inner, hard_stop }
    }
}

/// Per-connection data handed to handlers through `ConnectInfo`.
#[derive(Clone)]
pub(crate) struct ConnMeta {
    peer: SocketAddr,
    kill: Arc<AtomicBool>,
}

impl ConnMeta {
    /// Makes the connection fail at its next read or write, before any byte of
    /// the answer being prepared is sent.
    pub(crate) fn kill(&self) {
        self.kill.store(true, Ordering::Release);
    }
}

impl fmt::Debug for ConnMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.peer)
    }
}

impl Connected<IncomingStream<'_, SandboxListener>> for ConnMeta {
    fn connect_info(stream: IncomingStream<'_, SandboxListener>) -> Self {
        stream.remote_addr().clone()
    }
}

impl Listener for SandboxListener {
    type Io = ConnIo;
    type Addr = ConnMeta;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    // Small request/answer exchanges: do not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    let mut hard_stop = self.hard_stop.clone();
                    let stop: StopFuture = Box::pin(async move {
                        // A dropped sender also means "stop".
                        let _ = hard_stop.wait_for(|stop| *stop).await;
                    });
                    let io = ConnIo {
                        stream,
                        kill: kill.clone(),
                        stop: Some(stop),
                        reset: false,
                    };
                    return (io, ConnMeta { peer, kill });
                }
                // Per-connection failures (the peer gave up during the handshake)
                // concern only that peer; resource exhaustion (EMFILE) clears up
                // as connections close, so back off briefly instead of spinning.
                Err(e) if is_connection_error(&e) => continue,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnMeta {
            peer: self.inner.local_addr()?,
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

type StopFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A TCP stream that fails on demand.
pub(crate) struct ConnIo {
    stream: TcpStream,
    kill: Arc<AtomicBool>,
    /// Resolves at hard stop; `None` once it has (a finished future must not be
    /// polled again).
    stop: Option<StopFuture>,
    reset: bool,
}

impl ConnIo {
    /// `Some(error)` when this connection must die now.
    fn check(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        let mut dead = self.reset || self.kill.load(Ordering::Acquire);
        if !dead
            && let Some(stop) = self.stop.as_mut()
            && stop.as_mut().poll(cx).is_ready()
        {
            self.stop = None;
            dead = true;
        }
        if !dead {
            return None;
        }
        if !self.reset {
            self.reset = true;
            // RST instead of FIN: the client sees "connection reset", the same as
            // a crashed server, and no bytes are flushed.
            let _ = self.stream.set_zero_linger();
        }
        Some(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection cut by the sandbox",
        ))
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}
