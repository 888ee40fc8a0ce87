//! [`serve`]: an HTTP/1.1 server for an app, with the protections `axum::serve` leaves out.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

mod held;
mod listen;

use held::HeldWrites;
pub(crate) use held::WriteHold;
pub use listen::{LISTEN_BACKLOG, listen};

/// Default [`Serve::header_read_timeout`]: Node's `server.headersTimeout`.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a graceful shutdown waits for requests in flight once the signal came.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

type ShutdownSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves `app` (an axum `Router`, [`Server::router`](crate::Server::router), or any tower
/// service answering [`Request<Body>`]) on `listener` over HTTP/1.1, WebSocket upgrades
/// included. Unlike `axum::serve`:
/// - a connection that sends nothing, or stops in the middle of a request head, is closed
///   after the [header read timeout](Serve::header_read_timeout) (60 s, Node's
///   `headersTimeout`); the same bound applies to an idle keep-alive connection between two
///   requests;
/// - accepted sockets get `TCP_NODELAY` (small replies do not wait on the peer's delayed ACK;
///   inherited from the listener where [`listen`] set it on Linux, else set per connection);
/// - a direct WebSocket connection gets hyper's `101 Switching Protocols` and the Engine.IO
///   open packet in one write, so the client reads (and wakes) once; with a listener served
///   by `axum::serve` or your own accept loop they leave in two writes;
/// - every request carries axum's `ConnectInfo<SocketAddr>`, so
///   [`Handshake::address`](crate::Handshake::address) is known without
///   `into_make_service_with_connect_info`.
///
/// ```no_run
/// use std::time::Duration;
/// use sio_core::{Handlers, Server};
///
/// # async fn run() -> std::io::Result<()> {
/// let io = Server::builder().ns("/", Handlers::new()).build();
/// let listener = sio_core::listen("0.0.0.0:3000".parse().unwrap())?;
/// let app = axum::Router::new().merge(io.router());
/// sio_core::serve(listener, app)
///     .with_graceful_shutdown(async move {
///         let _ = tokio::signal::ctrl_c().await;
///         io.shutdown(Duration::from_secs(10)).await;
///     })
///     .await
/// # }
/// ```
pub fn serve<S>(listener: TcpListener, app: S) -> Serve<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    Serve { listener, app, header_read_timeout: Some(HEADER_READ_TIMEOUT), signal: None }
}

/// A server being set up by [`serve`]; `.await` it to run it.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve<S> {
    listener: TcpListener,
    app: S,
    header_read_timeout: Option<Duration>,
    signal: Option<ShutdownSignal>,
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("graceful_shutdown", &self.signal.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> Serve<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    /// Time a connection has to send a complete request head, counted from the moment the
    /// server waits for one (a new connection, or a keep-alive connection after its last
    /// answer); then it is closed (default 60 s, Node's `server.headersTimeout`; `None`: no
    /// limit, as `axum::serve`).
    ///
    /// ```no_run
    /// # async fn run(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    /// use std::time::Duration;
    /// sio_core::serve(listener, app).header_read_timeout(Duration::from_secs(20)).await
    /// # }
    /// ```
    #[doc(alias = "headersTimeout")]
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.header_read_timeout = timeout.into();
        self
    }

    /// Stops accepting connections when `signal` completes, lets the requests in flight
    /// finish (at most 10 s) and closes idle connections; the server's future then returns.
    /// Put [`Server::shutdown`](crate::Server::shutdown) in `signal` (as in [`serve`]'s
    /// example) so sessions are closed, and their pending long-polling requests answered,
    /// before connections are drained. Upgraded WebSocket connections belong to their
    /// sessions, which `Server::shutdown` closes.
    pub fn with_graceful_shutdown(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.signal = Some(Box::pin(signal));
        self
    }

    async fn run(self) -> io::Result<()> {
        let Serve { listener, app, header_read_timeout, signal } = self;
        let mut signal = signal.unwrap_or_else(|| Box::pin(std::future::pending()));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
        // Connections hold a receiver: `closed()` on the sender tells when all are gone.
        let (stop_tx, stop_rx) = watch::channel(false);
        let nodelay_inherited = listen::accepted_inherit_nodelay(&listener);
        loop {
            let (tcp, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
                () = &mut signal => break,
            };
            if !nodelay_inherited {
                let _ = tcp.set_nodelay(true);
            }
            let (io, hold) = HeldWrites::new(tcp);
            let svc = ConnService { app: app.clone(), remote, hold };
            let conn = builder.serve_connection(TokioIo::new(io), svc).with_upgrades();
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    r = conn.as_mut() => return log_end(r),
                    _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
                }
                log_end(conn.await);
                drop(stop);
            });
        }
        drop(listener);
        drop(stop_rx);
        let _ = stop_tx.send(true);
        if tokio::time::timeout(DRAIN_TIMEOUT, stop_tx.closed()).await.is_err() {
            tracing::debug!("requests still in flight after the shutdown's drain time");
        }
        Ok(())
    }
}

impl<S> IntoFuture for Serve<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn log_end(r: Result<(), hyper::Error>) {
    if let Err(e) = r {
        // Header timeouts, resets, malformed requests: the peer's business.
        tracing::debug!(error = %e, "connection ended");
    }
}

/// An accept error: a connection that failed before it was accepted is skipped; anything
/// else (out of file descriptors) is waited out for a second, as `axum::serve` does.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The app for one connection, each request tagged with the peer's address and the
/// connection's [`WriteHold`].
#[derive(Clone)]
struct ConnService<S> {
    app: S,
    remote: SocketAddr,
    hold: WriteHold,
}

impl<S> hyper::service::Service<Request<Incoming>> for ConnService<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.remote));
        req.extensions_mut().insert(self.hold.clone());
        let mut app = self.app.clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| app.poll_ready(cx)).await?;
            app.call(req).await
        })
    }
}
