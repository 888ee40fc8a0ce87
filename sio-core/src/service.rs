//! HTTP integration: an axum `Router`, a tower `Service` and a `Layer`.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::Server;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Server {
    /// An axum router serving the Socket.IO path (with and without its trailing `/`); merge
    /// it into your app.
    ///
    /// ```
    /// use axum::routing::get;
    /// use sio_core::{Handlers, Server};
    ///
    /// let io = Server::builder().ns("/", Handlers::new()).build();
    /// let app: axum::Router = axum::Router::new().route("/", get(|| async { "hello" })).merge(io.router());
    /// ```
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        let path = self.path().to_owned();
        let trimmed = path.trim_end_matches('/').to_owned();
        let svc = self.service();
        let mut router = axum::Router::new().route_service(&path, svc.clone());
        if let Some(dist) = self.client_dist() {
            for name in dist.names() {
                router = router.route_service(&format!("{path}{name}"), svc.clone());
            }
        }
        if !trimmed.is_empty() && trimmed != path {
            router = router.route_service(&trimmed, svc);
        }
        router
    }

    /// A tower service answering Socket.IO requests (any path; route it yourself), for
    /// HTTP stacks other than axum or a route of your own.
    ///
    /// ```
    /// use sio_core::{Handlers, Server};
    ///
    /// let io = Server::builder().ns("/", Handlers::new()).build();
    /// let app: axum::Router = axum::Router::new().route_service("/socket.io/", io.service());
    /// ```
    pub fn service(&self) -> SioService {
        SioService { server: self.clone() }
    }

    /// A tower layer that answers requests to the Socket.IO path and passes the rest on to
    /// the service it wraps.
    ///
    /// ```no_run
    /// use axum::ServiceExt;
    /// use axum::extract::Request;
    /// use axum::routing::get;
    /// use sio_core::{Handlers, Server};
    /// use tower_layer::Layer as _;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let io = Server::builder().ns("/", Handlers::new()).build();
    /// let site = axum::Router::new().route("/", get(|| async { "hello" }));
    /// let app = io.layer().layer(site); // /socket.io/ → io, the rest → site
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// axum::serve(listener, ServiceExt::<Request>::into_make_service(app)).await
    /// # }
    /// ```
    pub fn layer(&self) -> SioLayer {
        SioLayer { server: self.clone() }
    }
}

/// The tower service of a [`Server`].
#[derive(Clone)]
pub struct SioService {
    server: Server,
}

impl fmt::Debug for SioService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SioService").field("path", &self.server.path()).finish()
    }
}

impl<B> Service<Request<B>> for SioService
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if let Some(dist) = self.server.client_dist()
            && let Some(resp) =
                dist.answer(self.server.path(), self.server.engine().config().cors.as_ref(), &req)
        {
            return Box::pin(std::future::ready(Ok(resp)));
        }
        let fut = self.server.engine().handle(req);
        Box::pin(async move { Ok(fut.await) })
    }
}

/// A tower layer putting a [`Server`] in front of another service.
#[derive(Clone)]
pub struct SioLayer {
    server: Server,
}

impl fmt::Debug for SioLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SioLayer").field("path", &self.server.path()).finish()
    }
}

impl<S> Layer<S> for SioLayer {
    type Service = SioLayerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SioLayerService { server: self.server.clone(), inner }
    }
}

/// The service made by [`SioLayer`].
#[derive(Clone)]
pub struct SioLayerService<S> {
    server: Server,
    inner: S,
}

impl<S> fmt::Debug for SioLayerService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SioLayerService").field("path", &self.server.path()).finish()
    }
}

impl<S, B> Service<Request<B>> for SioLayerService<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Send,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if let Some(dist) = self.server.client_dist()
            && let Some(resp) =
                dist.answer(self.server.path(), self.server.engine().config().cors.as_ref(), &req)
        {
            // An async block: the inner service's error type need not be Send.
            return Box::pin(async move { Ok(resp) });
        }
        let path = self.server.path();
        let p = req.uri().path();
        if p == path || p == path.trim_end_matches('/') {
            let fut = self.server.engine().handle(req);
            Box::pin(async move { Ok(fut.await) })
        } else {
            Box::pin(self.inner.call(req))
        }
    }
}
