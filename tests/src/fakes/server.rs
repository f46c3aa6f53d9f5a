//! Running one fake: bound to 127.0.0.1 on a free port, served by axum on a thread with its
//! own tokio runtime (the end-to-end tests are synchronous and run `postctl` as a child
//! process), and stopped when the handle is dropped.
//!
//! Connections go through [`KillableStream`] so that chaos can drop a connection without
//! answering, which is what a client sees when a server or a proxy dies mid-request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Bodies up to this size are read; the networks' own limits are checked by each fake and
/// answered with the network's error, which axum's 2 MB default would pre-empt.
const MAX_BODY: usize = 128 * 1024 * 1024;

/// A port bound before the router is built, so the router can know its own base URL
/// (Mastodon and Slack put it into the URLs they answer with).
pub(crate) struct BoundPort {
    listener: std::net::TcpListener,
    addr: SocketAddr,
}

impl BoundPort {
    /// Binds 127.0.0.1:0. Panics when the machine has no free port, which no test can
    /// recover from.
    pub(crate) fn bind() -> BoundPort {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("a fake server cannot bind 127.0.0.1:0: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("a fake server cannot read its address: {e}"));
        BoundPort { listener, addr }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `router` until the returned handle is dropped.
    pub(crate) fn serve(self, name: &str, router: Router) -> RunningServer {
        let base_url = self.base_url();
        let (stop, stopped) = oneshot::channel::<()>();
        let listener = self.listener;
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("fake {name}: cannot make the listener non-blocking: {e}"));
        let router = router.layer(DefaultBodyLimit::max(MAX_BODY));
        let thread_name = format!("fake-{name}");
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| panic!("{thread_name}: cannot build a runtime: {e}"));
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => KillableListener(listener),
                        Err(e) => panic!("{thread_name}: cannot adopt the listener: {e}"),
                    };
                    let app = router.into_make_service_with_connect_info::<Connection>();
                    let server = axum::serve(listener, app);
                    tokio::select! {
                        _ = async { server.await } => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime cancels every connection still open (a slow answer
                // in its sleep, a client that keeps its connection alive), so Drop never waits
                // for a client.
            })
            .unwrap_or_else(|e| panic!("cannot start the thread of fake {name}: {e}"));
        RunningServer {
            base_url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// A fake that is serving; dropping it stops the server and frees the port.
pub(crate) struct RunningServer {
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningServer {
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may have stopped on its own; nothing is waiting for the signal then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread was already printed; a test's Drop must not panic.
            let _ = thread.join();
        }
    }
}

/// Hands out [`KillableStream`]s.
struct KillableListener(TcpListener);

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (KillableStream, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    // Small answers must not wait for Nagle: the benchmarks time them.
                    let _ = stream.set_nodelay(true);
                    let stream = KillableStream {
                        stream,
                        killed: Arc::new(AtomicBool::new(false)),
                    };
                    return (stream, addr);
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A TCP stream that fails every read and write once killed; hyper then drops the
/// connection without having written a response, and the zero linger makes the close an RST.
struct KillableStream {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            // Best effort: without it the peer sees a clean FIN instead of a reset, which is
            // still "connection closed before an answer".
            let _ = self.stream.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection dropped by the fake's chaos",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The connection a request came on, available to handlers as `ConnectInfo<Connection>`.
#[derive(Clone)]
pub(crate) struct Connection {
    killed: Arc<AtomicBool>,
}

impl Connection {
    /// Closes the connection without answering: the response the handler returns is never
    /// written.
    pub(crate) fn drop_without_answer(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        Connection {
            killed: stream.io().killed.clone(),
        }
    }
}
