//! The listener's acceptor, with the bounds poem's own accept loop lacks:
//!
//! - **A connection cap.** A connection holds a slot from accept until it closes; when
//!   every slot is taken, accepting pauses and new clients wait in the kernel's
//!   backlog instead of being served past the process's file-descriptor limit.
//! - **Back-off on accept errors.** poem retries a failed accept at once and silently;
//!   on `EMFILE` (no file descriptor left) that spins a core at full speed. Here a
//!   failure is logged and the next accept waits, doubling up to a second.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The first wait after a failed accept.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// The longest wait after failed accepts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// An acceptor with a connection cap and back-off (see the module documentation).
pub struct GuardedAcceptor<A> {
    inner: A,
    slots: Arc<Semaphore>,
    backoff: Duration,
}

impl<A: Acceptor> GuardedAcceptor<A> {
    /// `inner`, serving at most `max_connections` connections at once.
    pub fn new(inner: A, max_connections: usize) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(max_connections)),
            backoff: FIRST_BACKOFF,
        }
    }
}

/// Errors that consumed one pending connection (the peer went away): accept again
/// at once.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

impl<A: Acceptor> Acceptor for GuardedAcceptor<A> {
    type Io = Counted<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                tracing::warn!(
                    "connection limit reached (EMPORIUM_MAX_CONNECTIONS): new clients wait"
                );
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| io::Error::other("the connection limiter is closed"))?
            }
        };
        loop {
            match self.inner.accept().await {
                Ok((io, local, remote, scheme)) => {
                    self.backoff = FIRST_BACKOFF;
                    return Ok((Counted { io, _slot: permit }, local, remote, scheme));
                }
                Err(error) if is_per_connection(&error) => {
                    tracing::debug!(%error, "a client left before its connection was accepted");
                }
                Err(error) => {
                    tracing::error!(
                        %error,
                        os_error = error.raw_os_error(),
                        retry_in_ms = u64::try_from(self.backoff.as_millis()).unwrap_or(u64::MAX),
                        "accepting a connection failed; backing off"
                    );
                    tokio::time::sleep(self.backoff).await;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// A connection's I/O, holding its slot until it is dropped.
pub struct Counted<T> {
    io: T,
    _slot: OwnedSemaphorePermit,
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
