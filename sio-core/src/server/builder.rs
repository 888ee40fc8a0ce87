//! [`ServerBuilder`]: the settings of a server and the namespaces it serves.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

use super::client::SioHandler;
use super::handlers::{Holder, Middleware, NamespaceHandler};
use super::namespace::{Namespace, NamespaceDef};
use super::{Predicate, RecoveryConfig, Server, ServerInner, TypedNamespace};
use crate::adapter::Adapter;
use crate::client_dist::{ClientDirError, ClientDist};
use crate::engine::{
    ConnectionError, Cors, Engine, EngineConfig, Forbidden, HttpCompression, PerMessageDeflate, SessionCookie,
};
use crate::protocol::Parser;

/// Socket.IO-level settings.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) ack_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_attachments: usize,
    pub(crate) max_attachment_bytes: usize,
    pub(crate) max_namespaces_per_client: usize,
    pub(crate) parser: Parser,
    pub(crate) cleanup_empty_child_namespaces: bool,
    pub(crate) max_dynamic_namespaces: usize,
    pub(crate) recovery: Option<super::RecoveryConfig>,
    /// Where handler latency goes, with metrics on.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<crate::metrics::Recorder>,
    /// The Admin UI's hooks, with it on.
    #[cfg(feature = "admin-ui")]
    pub(crate) admin: Option<Arc<crate::admin::Hooks>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(45),
            max_attachments: 10,
            max_attachment_bytes: 0,
            parser: Parser::Json,
            max_namespaces_per_client: 64,
            cleanup_empty_child_namespaces: false,
            max_dynamic_namespaces: 10_000,
            recovery: None,
            #[cfg(feature = "metrics")]
            metrics: None,
            #[cfg(feature = "admin-ui")]
            admin: None,
        }
    }
}

/// Builds a [`Server`]: settings and namespaces. Start with [`Server::builder`]; every
/// setting defaults to the reference server's (the
/// [configuration table](crate#configuration) lists them with Node's option names).
///
/// ```
/// use std::time::Duration;
/// use sio_core::{Cors, Handlers, Server};
///
/// let io = Server::builder()
///     .ping_interval(Duration::from_secs(10))
///     .cors(Cors::any())
///     .ns("/", Handlers::new())
///     .ns("/admin", Handlers::new())
///     .build();
/// assert!(io.of("/admin").is_some());
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct ServerBuilder {
    engine: EngineConfig,
    config: ServerConfig,
    namespaces: Vec<(String, NamespaceDef)>,
    dynamic: Vec<(Predicate, NamespaceDef)>,
    adapter: Option<Arc<dyn Adapter>>,
    client_dist: Option<Arc<ClientDist>>,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("engine", &self.engine)
            .field("config", &self.config)
            .field("namespaces", &self.namespaces.iter().map(|(p, _)| p).collect::<Vec<_>>())
            .finish()
    }
}

impl ServerBuilder {
    pub(crate) fn new() -> Self {
        ServerBuilder {
            engine: EngineConfig::default(),
            config: ServerConfig::default(),
            namespaces: Vec::new(),
            dynamic: Vec::new(),
            adapter: None,
            client_dist: None,
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// HTTP path (default `/socket.io/`; Node's `path`). A leading and a trailing `/` are
    /// added when missing; the client's `path` option must match.
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().path("realtime").build();
    /// assert_eq!(io.path(), "/realtime/");
    /// ```
    pub fn path(mut self, path: &str) -> Self {
        let mut p = normalize(path);
        if !p.ends_with('/') {
            p.push('/');
        }
        self.engine.path = p;
        self
    }

    /// Interval between server pings (default 25 s; Node's `pingInterval`).
    ///
    /// ```
    /// # use sio_core::Server;
    /// # use std::time::Duration;
    /// let io = Server::builder().ping_interval(Duration::from_secs(10)).build();
    /// ```
    #[doc(alias = "pingInterval")]
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.engine.ping_interval = d;
        self
    }

    /// Time a client has to answer a ping before its connection is closed with
    /// `ping timeout` (default 20 s; Node's `pingTimeout`).
    ///
    /// ```
    /// # use sio_core::Server;
    /// # use std::time::Duration;
    /// let io = Server::builder().ping_timeout(Duration::from_secs(5)).build();
    /// ```
    #[doc(alias = "pingTimeout")]
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.engine.ping_timeout = d;
        self
    }

    /// Largest message or polling body in bytes (default 1 MB = 1,000,000 bytes; Node's
    /// `maxHttpBufferSize`). A larger POST answers `413` and closes the session; a larger
    /// WebSocket message closes it.
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().max_payload(64 * 1024).build();
    /// ```
    #[doc(alias = "maxHttpBufferSize")]
    pub fn max_payload(mut self, bytes: u64) -> Self {
        self.engine.max_payload = bytes;
        self
    }

    /// Time a polling connection has to finish upgrading to WebSocket (default 10 s; Node's
    /// `upgradeTimeout`). An upgrade that does not finish in time is dropped; polling goes on.
    ///
    /// ```
    /// # use sio_core::Server;
    /// # use std::time::Duration;
    /// let io = Server::builder().upgrade_timeout(Duration::from_secs(5)).build();
    /// ```
    #[doc(alias = "upgradeTimeout")]
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.engine.upgrade_timeout = d;
        self
    }

    /// Time a new connection has to join a namespace before it is closed (default 45 s;
    /// Node's `connectTimeout`).
    ///
    /// ```
    /// # use sio_core::Server;
    /// # use std::time::Duration;
    /// let io = Server::builder().connect_timeout(Duration::from_secs(10)).build();
    /// ```
    #[doc(alias = "connectTimeout")]
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// Default time to wait for a client's acknowledgement (default 10 s), for every emit
    /// with ack that sets no timeout of its own (`.timeout(d)`). Node's server has no such
    /// default: without `.timeout(ms)` it waits forever.
    ///
    /// ```
    /// # use sio_core::Server;
    /// # use std::time::Duration;
    /// let io = Server::builder().ack_timeout(Duration::from_secs(3)).build();
    /// ```
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.config.ack_timeout = d;
        self
    }

    /// Packets that may wait for one slow client before it is disconnected with
    /// `outbound buffer full` (default 1024). Volatile packets are dropped instead.
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().outbound_buffer(4096).build();
    /// ```
    pub fn outbound_buffer(mut self, frames: usize) -> Self {
        self.engine.outbound_buffer = frames;
        self
    }

    /// Largest number of open connections; further handshakes answer
    /// `503 Too many connections` (default: none).
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().max_connections(10_000).build();
    /// ```
    pub fn max_connections(mut self, n: usize) -> Self {
        self.engine.max_connections = Some(n);
        self
    }

    /// Binary attachments allowed in one packet (default 10); a packet with more closes the
    /// session.
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().max_attachments(2).build();
    /// ```
    pub fn max_attachments(mut self, n: usize) -> Self {
        self.config.max_attachments = n;
        self
    }

    /// The wire format of Socket.IO packets, for every client (Node: `parser`; default
    /// [`Parser::Json`]). [`Parser::MsgPack`] serves clients created with
    /// `io(url, { parser: require("socket.io-msgpack-parser") })`; clients of the other parser
    /// cannot connect to the same server, as with Node. Custom parsers are not pluggable yet.
    ///
    /// ```
    /// use sio_core::{Parser, Server};
    ///
    /// let io = Server::builder().parser(Parser::MsgPack).build();
    /// ```
    pub fn parser(mut self, parser: Parser) -> Self {
        self.config.parser = parser;
        self
    }

    /// Bytes of binary attachments one packet may carry in total; more closes the session
    /// (default: `max_payload` × `max_attachments`, what the other limits allow anyway).
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().max_attachment_bytes(4 * 1024 * 1024).build();
    /// ```
    pub fn max_attachment_bytes(mut self, bytes: usize) -> Self {
        self.config.max_attachment_bytes = bytes;
        self
    }

    /// Namespaces one connection may join at once (default 64). A CONNECT beyond it gets a
    /// `connect_error` `Too many namespaces`; the connection stays.
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().max_namespaces_per_client(4).build();
    /// ```
    pub fn max_namespaces_per_client(mut self, n: usize) -> Self {
        self.config.max_namespaces_per_client = n;
        self
    }

    /// Which transports clients may use (both by default; Node's `transports`).
    ///
    /// ```
    /// # use sio_core::Server;
    /// // WebSocket only (Node: transports: ["websocket"]); clients must then
    /// // connect with `transports: ["websocket"]` too.
    /// let io = Server::builder().transports(false, true).build();
    /// ```
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        self.engine.polling = polling;
        self.engine.websocket = websocket;
        self
    }

    /// Also serves Engine.IO v3 clients: socket.io-client 1.x and 2.x (default false; Node's
    /// `allowEIO3`). One server then serves both generations side by side: in the same
    /// namespaces and rooms, with the same handlers (typed ones included) and broadcasts.
    ///
    /// What the older protocol changes, as Node's server does it: the client pings and the
    /// server answers (the timeout is `ping_interval + ping_timeout`); every client is in `/`
    /// from the start, without a CONNECT of its own; the auth of a namespace is the query
    /// string the client put on it (`io("/chat?token=x")` gives `{"token":"x"}`); a refusal
    /// sends the error's data, or else its message, as the client's `error` event; the socket
    /// in `/` has the connection's id. Unlike Node, a socket in another namespace gets an id
    /// of its own rather than `/nsp#<connection id>` (what the v2 client shows as its id).
    /// v3 clients speak the JSON parser: under [`Parser::MsgPack`](crate::Parser::MsgPack)
    /// none is served (their MessagePack parser, 2.x, has an older packet format).
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder().allow_eio3(true).build();
    /// ```
    #[doc(alias = "allowEIO3")]
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.engine.allow_eio3 = allow;
        self
    }

    /// Cross-origin settings for browsers on another origin (default: no CORS headers;
    /// Node's `cors`). See [`Cors`].
    ///
    /// ```
    /// # use sio_core::{Cors, Server};
    /// let io = Server::builder().cors(Cors::origins(["https://app.example.com"]).credentials(true)).build();
    /// ```
    pub fn cors(mut self, cors: Cors) -> Self {
        self.engine.cors = Some(cors);
        self
    }

    /// Accepts or refuses handshake requests (`403 Forbidden` when refused; Node's
    /// `allowRequest`). `f` sees the request's method, URI and headers.
    ///
    /// ```
    /// # use sio_core::Server;
    /// let io = Server::builder()
    ///     .allow_request(|req| req.headers.get("origin").is_some_and(|o| o == "https://app.example.com"))
    ///     .build();
    /// ```
    #[doc(alias = "allowRequest")]
    pub fn allow_request(
        mut self,
        f: impl Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.engine.allow_request = Some(Arc::new(f));
        self
    }

    /// Accepts or refuses handshake requests asynchronously, e.g. after asking a database
    /// (Node's `allowRequest(req, callback)`). `f` sees the request's method, URI and headers
    /// and returns a future: `Err(`[`Forbidden`]`)` answers `403` with the refusal's message
    /// (or `Forbidden`), and the [`connection_error`](Self::connection_error) hook gets code 4.
    /// It runs after [`allow_request`](Self::allow_request) when both are set, and only on
    /// handshakes (a session's later requests and its upgrade are not asked again, as in Node).
    ///
    /// ```
    /// use sio_core::Server;
    /// use sio_core::engine::Forbidden;
    ///
    /// # async fn token_is_valid(_: Option<http::HeaderValue>) -> bool { true }
    /// let io = Server::builder()
    ///     .allow_request_async(|req| {
    ///         // Take what the check needs: the future outlives the borrow of `req`.
    ///         let token = req.headers.get("authorization").cloned();
    ///         async move {
    ///             if token_is_valid(token).await { Ok(()) } else { Err(Forbidden::with_message("bad token")) }
    ///         }
    ///     })
    ///     .build();
    /// ```
    #[doc(alias = "allowRequest")]
    pub fn allow_request_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Forbidden>> + Send + 'static,
    {
        self.engine.allow_request_async = Some(Arc::new(move |req| Box::pin(f(req))));
        self
    }

    /// Called with every request the engine refuses, with Node's codes and messages (Node's
    /// `io.engine.on("connection_error", err => ..)`): the request, the [`ErrorCode`](crate::engine::ErrorCode)
    /// (`Transport unknown` 0, `Session ID unknown` 1, `Bad handshake method` 2, `Bad
    /// request` 3, `Forbidden` 4, `Unsupported protocol version` 5, and sio's own 6 and 7),
    /// and the context Node gives. The client gets the same answer as without the hook. It
    /// runs on the request's task: keep it short (log, count). A panic in this hook, or in
    /// [`headers`](Self::headers), [`initial_headers`](Self::initial_headers) or
    /// [`allow_request_async`](Self::allow_request_async), ends that request's connection
    /// only (the task serving it); other connections go on.
    ///
    /// ```
    /// use sio_core::Server;
    ///
    /// let io = Server::builder()
    ///     .connection_error(|err| {
    ///         eprintln!("refused {} {}: {} ({})", err.req().method, err.req().uri, err.message(), err.code().code());
    ///     })
    ///     .build();
    /// ```
    pub fn connection_error(mut self, f: impl Fn(&ConnectionError<'_>) + Send + Sync + 'static) -> Self {
        self.engine.connection_error = Some(Arc::new(f));
        self
    }

    /// Adds headers to every successful Engine.IO answer: polling GETs and POSTs, the
    /// handshake, and the `101` of every WebSocket, direct or upgrade (Node's
    /// `io.engine.on("headers", (headers, req) => ..)`). `f` gets the headers to add (the
    /// cookie and the [`initial_headers`](Self::initial_headers) ones are there already) and
    /// the request; a name it sets replaces the engine's header of that name. Refusals get
    /// none, as in Node.
    ///
    /// ```
    /// use sio_core::Server;
    ///
    /// let io = Server::builder()
    ///     .headers(|headers, _req| {
    ///         headers.insert("x-served-by", http::HeaderValue::from_static("node-1"));
    ///     })
    ///     .build();
    /// ```
    pub fn headers(
        mut self,
        f: impl Fn(&mut http::HeaderMap, &http::request::Parts) + Send + Sync + 'static,
    ) -> Self {
        self.engine.headers = Some(Arc::new(f));
        self
    }

    /// Adds headers to the answer of a handshake only: the first polling GET of a session, or
    /// the `101` of a direct WebSocket (Node's `io.engine.on("initial_headers", ..)`). Runs
    /// before [`headers`](Self::headers), after the [`cookie`](Self::cookie) is set.
    ///
    /// ```
    /// use sio_core::Server;
    ///
    /// let io = Server::builder()
    ///     .initial_headers(|headers, req| {
    ///         let lang = req.headers.get("accept-language").cloned();
    ///         headers.insert("content-language", lang.unwrap_or(http::HeaderValue::from_static("en")));
    ///     })
    ///     .build();
    /// ```
    pub fn initial_headers(
        mut self,
        f: impl Fn(&mut http::HeaderMap, &http::request::Parts) + Send + Sync + 'static,
    ) -> Self {
        self.engine.initial_headers = Some(Arc::new(f));
        self
    }

    /// Sets a cookie to the session id on a polling handshake's answer, for load balancers
    /// that keep a client on one server by cookie (Node's `cookie`; off by default, as in
    /// Node). [`SessionCookie::new`] has Node's defaults: `io=<sid>; Path=/; HttpOnly;
    /// SameSite=Lax`.
    ///
    /// ```
    /// use sio_core::{Server, SessionCookie};
    ///
    /// let io = Server::builder().cookie(SessionCookie::new()).build();
    /// let named = Server::builder().cookie(SessionCookie::new().name("srv").secure(true)).build();
    /// let off = Server::builder().cookie(None).build();
    /// ```
    pub fn cookie(mut self, cookie: impl Into<Option<SessionCookie>>) -> Self {
        self.engine.cookie = cookie.into();
        self
    }

    /// Serves the browser client from `dir` (Node's `serveClient`, which serves the copy
    /// bundled with the `socket.io` package): `<path>socket.io.js`, `socket.io.min.js`,
    /// `socket.io.esm.min.js`, `socket.io.msgpack.min.js` and their `.map`s, as found in
    /// `node_modules/socket.io-client/dist`. Only those names are served, so no request can
    /// reach another file. The files are read now and kept in memory (about 1.5 MB); each
    /// answer has an `ETag` (a `If-None-Match` that matches gets `304`), is gzipped for
    /// clients that take it and, as Node's, has `Cache-Control: public, max-age=0` and the
    /// server's [`cors`](Self::cors) headers. `GET` and `HEAD` only.
    ///
    /// # Errors
    /// If `dir` cannot be read or holds no `socket.io.js`.
    ///
    /// ```no_run
    /// use sio_core::Server;
    ///
    /// # fn main() -> Result<(), sio_core::ClientDirError> {
    /// let io = Server::builder().serve_client_from("node_modules/socket.io-client/dist")?.build();
    /// let app: axum::Router = axum::Router::new().merge(io.router()); // also /socket.io/socket.io.js
    /// # Ok(())
    /// # }
    /// ```
    #[doc(alias = "serveClient")]
    pub fn serve_client_from(mut self, dir: impl AsRef<std::path::Path>) -> Result<Self, ClientDirError> {
        self.client_dist = Some(Arc::new(ClientDist::read(dir.as_ref())?));
        Ok(self)
    }

    /// Compresses WebSocket messages of at least the threshold (1024 bytes by default) with
    /// permessage-deflate (RFC 7692) when the client offers it (Node's `perMessageDeflate`;
    /// off by default, as in Node). Costs CPU per message and, with context takeover, memory
    /// per connection that sends or receives compressed messages (see [`PerMessageDeflate`]).
    ///
    /// ```
    /// # use sio_core::{PerMessageDeflate, Server};
    /// let io = Server::builder().per_message_deflate(PerMessageDeflate::default()).build();
    /// let off = Server::builder().per_message_deflate(None).build();
    /// ```
    #[doc(alias = "perMessageDeflate")]
    pub fn per_message_deflate(mut self, deflate: impl Into<Option<PerMessageDeflate>>) -> Self {
        self.engine.per_message_deflate = deflate.into();
        self
    }

    /// gzip or deflate of long-polling responses of at least the threshold (1024 bytes by
    /// default) for clients whose `Accept-Encoding` takes it (Node's `httpCompression`; on by
    /// default, as in Node). `None` turns it off.
    ///
    /// ```
    /// # use sio_core::{HttpCompression, Server};
    /// let io = Server::builder().http_compression(HttpCompression::default().threshold(2048)).build();
    /// let off = Server::builder().http_compression(None).build();
    /// ```
    #[doc(alias = "httpCompression")]
    pub fn http_compression(mut self, compression: impl Into<Option<HttpCompression>>) -> Self {
        self.engine.http_compression = compression.into();
        self
    }

    /// Engine settings not covered by the methods above ([`EngineConfig`]).
    ///
    /// ```
    /// # use sio_core::Server;
    /// // No upgrade from polling to WebSocket (Node's allowUpgrades: false):
    /// let io = Server::builder().engine_config(|c| c.allow_upgrades = false).build();
    /// ```
    pub fn engine_config(mut self, f: impl FnOnce(&mut EngineConfig)) -> Self {
        f(&mut self.engine);
        self
    }

    /// Spans several servers: broadcasts, room operations, `fetch_sockets` and server-side
    /// events reach the sockets of every node through `adapter` (e.g. `sio_redis`). Without
    /// one, the server is alone (Node's `adapter` option). With `sio-redis`:
    ///
    /// ```text
    /// let adapter = sio_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// let io = Server::builder().adapter(adapter).namespace(Chat).build();
    /// ```
    ///
    /// The contract an adapter implements is the [`adapter`](crate::adapter) module.
    pub fn adapter(mut self, adapter: impl Adapter) -> Self {
        self.adapter = Some(Arc::new(adapter));
        self
    }

    /// Serves a `#[namespace("/path")]` impl block at its declared path.
    ///
    /// ```
    /// # use sio_core::{Server, namespace};
    /// struct Chat;
    ///
    /// #[namespace("/chat")]
    /// impl Chat {
    ///     #[event]
    ///     async fn msg(&self, text: String) -> String {
    ///         format!("recv {text}")
    ///     }
    /// }
    ///
    /// let io = Server::builder().namespace(Chat).build();
    /// assert!(io.of("/chat").is_some());
    /// ```
    pub fn namespace<N: TypedNamespace>(self, handler: N) -> Self {
        self.ns(N::PATH, handler)
    }

    /// Serves namespace `path` with `handler` (a leading `/` is added when missing). A second
    /// call with the same path replaces the first.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers, Server};
    /// let io = Server::builder()
    ///     .ns("/", Handlers::new().on("ping", |_conn: Conn, mut ev: Event| async move {
    ///         if let Some(ack) = ev.take_ack() {
    ///             ack.send(&"pong").ok();
    ///         }
    ///     }))
    ///     .build();
    /// ```
    pub fn ns<H: NamespaceHandler>(self, path: &str, handler: H) -> Self {
        self.ns_with(path, handler, Vec::new())
    }

    /// Serves namespace `path` with `handler`, after connect `middlewares` (in order) accept
    /// (Node's `nsp.use(fn)`). The first refusal is the client's `connect_error`; the
    /// handler's connect runs only when every middleware accepted.
    ///
    /// ```
    /// # use sio_core::{ConnectError, Handlers, Server, middleware};
    /// let log = middleware(|conn| async move {
    ///     println!("{} connecting from {:?}", conn.id(), conn.handshake().address());
    ///     Ok(())
    /// });
    /// let auth = middleware(|conn| async move {
    ///     conn.handshake().query("token").map(|_| ()).ok_or_else(|| ConnectError::new("no token"))
    /// });
    /// let io = Server::builder().ns_with("/admin", Handlers::new(), vec![log, auth]).build();
    /// ```
    #[doc(alias = "use")]
    pub fn ns_with<H: NamespaceHandler>(
        mut self,
        path: &str,
        handler: H,
        middlewares: Vec<Middleware>,
    ) -> Self {
        let path = normalize(path);
        let def = NamespaceDef { handler: Arc::new(Holder(Arc::new(handler))), middlewares };
        self.namespaces.retain(|(p, _)| *p != path);
        self.namespaces.push((path, def));
        self
    }

    /// Serves every namespace whose path satisfies `matches` with `handler` (one live
    /// namespace per matching path, created on first connect; Node's `io.of(regex)`).
    /// `handler` is shared by all of them; [`Conn::namespace`](crate::Conn::namespace) tells
    /// which one a socket is in. Declared namespaces take precedence.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers, Server};
    /// let teams = Handlers::new().on("msg", |conn: Conn, ev: Event| async move {
    ///     let team = conn.namespace().path().trim_start_matches("/team-").to_owned();
    ///     conn.broadcast().emit("msg", &(team, ev.arg::<String>().unwrap_or_default())).ok();
    /// });
    /// let io = Server::builder().dynamic_ns(|path| path.starts_with("/team-"), teams, Vec::new()).build();
    /// ```
    pub fn dynamic_ns<H: NamespaceHandler>(
        mut self,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
        handler: H,
        middlewares: Vec<Middleware>,
    ) -> Self {
        let def = NamespaceDef { handler: Arc::new(Holder(Arc::new(handler))), middlewares };
        self.dynamic.push((Arc::new(matches), def));
        self
    }

    /// Turns on connection state recovery (Node's `connectionStateRecovery`; off by default):
    /// a client of socket.io-client 4.6+ that loses its transport (network drop, ping
    /// timeout, server shutdown) and reconnects within
    /// [`max_disconnection_duration`](RecoveryConfig::max_disconnection_duration) gets its
    /// socket back: the same id, its rooms, its [`data`](crate::Conn::data), and the
    /// packets emitted to it meanwhile, in order and once, before the CONNECT reply.
    /// [`Conn::recovered`](crate::Conn::recovered) tells the connect handler.
    ///
    /// With it on, CONNECT replies carry a private session id (`pid`) and every event sent
    /// to a socket without an ack and not volatile carries its *offset* as a last string
    /// argument, which socket.io-client remembers (a JavaScript listener sees it as one more
    /// argument; the generated typings leave it out). Each namespace keeps one log of those
    /// packets, bounded by [`RecoveryConfig`]; a socket whose missed packets are no longer
    /// all in the log gets a fresh session instead. A client that disconnects on purpose,
    /// or a socket the server disconnects, is not kept. Clients of socket.io-client 1.x and
    /// 2.x ([`allow_eio3`](Self::allow_eio3)) are never recovered, and their listeners see
    /// the offset argument too, as with Node.
    ///
    /// Across servers: a server keeps its own log and sessions, so a client recovers on the
    /// server it left (sticky sessions), unless the [adapter](Self::adapter) keeps them for
    /// the whole cluster ([`NamespaceAdapter::logs_packets`], e.g. sio-redis's Redis Streams
    /// adapter): then the adapter's log gives the offsets, sessions live in it, the bounds
    /// of [`RecoveryConfig`] other than the window are the adapter's, and a client recovers
    /// on any server.
    ///
    /// [`NamespaceAdapter::logs_packets`]: crate::adapter::NamespaceAdapter::logs_packets
    ///
    /// ```
    /// use std::time::Duration;
    /// use sio_core::{Conn, Handlers, RecoveryConfig, Server};
    ///
    /// let chat = Handlers::new().on_connect(|conn: Conn| async move {
    ///     if !conn.recovered() {
    ///         conn.join("lobby"); // a recovered socket is back in its rooms already
    ///     }
    ///     Ok(())
    /// });
    /// let io = Server::builder()
    ///     .connection_state_recovery(RecoveryConfig {
    ///         max_disconnection_duration: Duration::from_secs(60),
    ///         ..RecoveryConfig::default()
    ///     })
    ///     .ns("/", chat)
    ///     .build();
    /// # let _ = io;
    /// ```
    #[doc(alias = "connectionStateRecovery")]
    pub fn connection_state_recovery(mut self, config: RecoveryConfig) -> Self {
        self.config.recovery = Some(config);
        self
    }

    /// Drops a namespace created by [`dynamic_ns`](Self::dynamic_ns) when its last socket
    /// leaves (default false, as Node's `cleanupEmptyChildNamespaces`): its rooms, its
    /// server-side event handlers and its adapter side go with it, and the next client to
    /// connect to that path creates it afresh. Declared namespaces are never dropped.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// let io = Server::builder()
    ///     .dynamic_ns(|p| p.starts_with("/room-"), Handlers::new(), Vec::new())
    ///     .cleanup_empty_child_namespaces(true)
    ///     .build();
    /// ```
    #[doc(alias = "cleanupEmptyChildNamespaces")]
    pub fn cleanup_empty_child_namespaces(mut self, yes: bool) -> Self {
        self.config.cleanup_empty_child_namespaces = yes;
        self
    }

    /// The most namespaces [`dynamic_ns`](Self::dynamic_ns) patterns may have alive at once
    /// (default 10,000; Node has no such bound). A CONNECT that would create one more gets
    /// `connect_error` `Too many namespaces`, so clients cannot grow the server's memory
    /// without bound through a matching pattern. Without
    /// [`cleanup_empty_child_namespaces`](Self::cleanup_empty_child_namespaces), dynamic
    /// namespaces live as long as the server, so this is also how many distinct paths it ever
    /// serves.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// let io = Server::builder()
    ///     .dynamic_ns(|p| p.starts_with("/room-"), Handlers::new(), Vec::new())
    ///     .cleanup_empty_child_namespaces(true)
    ///     .max_dynamic_namespaces(1_000)
    ///     .build();
    /// ```
    pub fn max_dynamic_namespaces(mut self, n: usize) -> Self {
        self.config.max_dynamic_namespaces = n;
        self
    }

    /// Reports this server in `metrics` (cargo feature `metrics`): [`Server::stats`] at each
    /// scrape, and the handler latency of every namespace. Without this call nothing is
    /// recorded.
    ///
    /// ```
    /// use sio_core::metrics::Metrics;
    /// use sio_core::{Handlers, Server};
    ///
    /// let metrics = Metrics::new();
    /// let io = Server::builder().metrics(&metrics).ns("/", Handlers::new()).build();
    /// let app: axum::Router = io.router().merge(metrics.router("/metrics"));
    /// ```
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, metrics: &crate::metrics::Metrics) -> Self {
        self.config.metrics = Some(metrics.recorder());
        self.metrics = Some(metrics.clone());
        self
    }

    /// Turns on the Socket.IO Admin UI's instrumentation (cargo feature `admin-ui`; Node's
    /// `instrument(io, ..)`): the admin namespace, its events and actions. See
    /// [`crate::admin`]; allow the UI's origin with credentials in [`ServerBuilder::cors`].
    ///
    /// ```
    /// use sio_core::admin::AdminUi;
    /// use sio_core::{Handlers, Server};
    ///
    /// let io = Server::builder().ns("/", Handlers::new()).admin_ui(AdminUi::no_auth().readonly(true)).build();
    /// assert!(io.of("/admin").is_some());
    /// ```
    #[cfg(feature = "admin-ui")]
    pub fn admin_ui(mut self, ui: crate::admin::AdminUi) -> Self {
        let path = ui.namespace_path().to_owned();
        let hooks = crate::admin::Hooks::new(ui);
        self.config.admin = Some(hooks.clone());
        self.ns(&path, hooks.handlers())
    }

    /// The server. Declared namespaces exist from now on (and their adapter side, if any);
    /// no tokio runtime is needed until it serves.
    pub fn build(mut self) -> Server {
        if self.config.max_attachment_bytes == 0 {
            let per = usize::try_from(self.engine.max_payload).unwrap_or(usize::MAX);
            self.config.max_attachment_bytes = per.saturating_mul(self.config.max_attachments);
        }
        let config = Arc::new(self.config);
        let namespaces = self
            .namespaces
            .into_iter()
            .map(|(p, def)| {
                let ns = Namespace::new(&p, def, config.clone(), self.adapter.as_ref(), false);
                (p.into_boxed_str(), ns)
            })
            .collect::<HashMap<_, _>>();
        let inner = Arc::new(ServerInner {
            config,
            namespaces: RwLock::new(namespaces),
            dynamic: self.dynamic,
            dynamic_live: Default::default(),
            adapter: self.adapter,
        });
        let engine = Engine::new(self.engine, SioHandler { server: inner.clone() });
        let server = Server { inner, engine, client_dist: self.client_dist };
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.attach(&server);
        }
        #[cfg(feature = "admin-ui")]
        if let Some(h) = &server.inner.config.admin {
            h.attach(&server);
        }
        server
    }
}

/// `path` with a leading `/`.
pub(crate) fn normalize(path: &str) -> String {
    if path.starts_with('/') { path.to_owned() } else { format!("/{path}") }
}
