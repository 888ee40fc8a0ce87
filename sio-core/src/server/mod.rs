//! The Socket.IO v5 server: namespaces, sockets, rooms, acks and broadcasts on top of the
//! engine. It knows nothing of HTTP.

mod ack;
pub mod adapter;
mod client;
mod encode;
mod extensions;
mod handshake;
mod namespace;
mod operators;
mod reason;
mod socket;
mod typed;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;

pub use self::ack::{AckError, AckFuture, AckReplies, AckReply};
use self::adapter::{Adapter, AdapterError, AdapterFuture, Payload, RemoteSocket, ServerAck};
use self::client::SioHandler;
pub use self::encode::EncodeError;
pub use self::extensions::Extensions;
pub use self::handshake::Handshake;
use self::namespace::{DynHandler, Holder, Namespace, NamespaceDef};
pub use self::namespace::{Handlers, Middleware, NamespaceHandler};
pub use self::operators::BroadcastOperator;
pub use self::reason::DisconnectReason;
pub use self::socket::{AckSender, Conn, Event, TimeoutConn, Untyped};
pub use self::typed::{EventAck, ServerEvents, TypedReplies};
use crate::engine::{CloseReason, Cors, Engine, EngineConfig};
use crate::protocol::{RawArgs, ToArgs};

/// A room name. Every socket is also in a room named after its id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Room(Arc<str>);

impl Room {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for Room {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Room {
    fn from(s: &str) -> Self {
        Room(s.into())
    }
}

impl From<String> for Room {
    fn from(s: String) -> Self {
        Room(s.into())
    }
}

impl From<&String> for Room {
    fn from(s: &String) -> Self {
        Room(s.as_str().into())
    }
}

impl From<crate::Sid> for Room {
    fn from(s: crate::Sid) -> Self {
        Room(s.as_str().into())
    }
}

impl Serialize for Room {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Why an emit failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmitError {
    /// The payload's `Serialize` impl failed.
    Encode(EncodeError),
    /// The client's outbound queue is full; the client is being disconnected.
    BufferFull,
    /// The socket is disconnected.
    Disconnected,
}

impl From<EncodeError> for EmitError {
    fn from(e: EncodeError) -> Self {
        EmitError::Encode(e)
    }
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::Encode(e) => e.fmt(f),
            EmitError::BufferFull => f.write_str("the client's outbound queue is full"),
            EmitError::Disconnected => f.write_str("the socket is disconnected"),
        }
    }
}

impl std::error::Error for EmitError {}

/// A refused namespace connection: the client's `connect_error` gets `message` and `data`.
#[derive(Debug, Clone)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with a message (`err.message` on the client).
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), data: None }
    }

    /// Adds `data` (`err.data` on the client).
    pub fn with_data<T: Serialize>(mut self, data: &T) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Any displayable error refuses with its message: a `#[connect]` handler can return
/// `Result<(), E>` for its own error type. (`ConnectError` itself is deliberately not
/// `Display`, which keeps this conversion coherent.)
impl<E: fmt::Display> From<E> for ConnectError {
    fn from(e: E) -> Self {
        ConnectError::new(e.to_string())
    }
}

/// Socket.IO-level settings.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) ack_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_attachments: usize,
    pub(crate) max_attachment_bytes: usize,
    pub(crate) max_namespaces_per_client: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(45),
            max_attachments: 10,
            max_attachment_bytes: 0,
            max_namespaces_per_client: 64,
        }
    }
}

type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub(crate) struct ServerInner {
    pub(crate) config: Arc<ServerConfig>,
    namespaces: RwLock<HashMap<Box<str>, Arc<Namespace>>>,
    dynamic: Vec<(Predicate, NamespaceDef)>,
    adapter: Option<Arc<dyn Adapter>>,
}

impl ServerInner {
    /// The namespace serving `path`, creating it when a dynamic pattern matches.
    pub(crate) fn namespace_for(&self, path: &str) -> Option<Arc<Namespace>> {
        if let Some(ns) = self.namespaces.read().get(path) {
            return Some(ns.clone());
        }
        let (_, def) = self.dynamic.iter().find(|(matches, _)| matches(path))?;
        let mut map = self.namespaces.write();
        let ns = map
            .entry(path.into())
            .or_insert_with(|| Namespace::new(path, def.clone(), self.config.clone(), self.adapter.as_ref()));
        Some(ns.clone())
    }
}

/// Builds a [`Server`]: settings and namespaces.
pub struct ServerBuilder {
    engine: EngineConfig,
    config: ServerConfig,
    namespaces: Vec<(String, NamespaceDef)>,
    dynamic: Vec<(Predicate, NamespaceDef)>,
    adapter: Option<Arc<dyn Adapter>>,
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

fn normalize(path: &str) -> String {
    if path.starts_with('/') { path.to_owned() } else { format!("/{path}") }
}

impl ServerBuilder {
    /// HTTP path (default `/socket.io/`).
    pub fn path(mut self, path: &str) -> Self {
        let mut p = normalize(path);
        if !p.ends_with('/') {
            p.push('/');
        }
        self.engine.path = p;
        self
    }

    /// Interval between server pings (default 25 s).
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.engine.ping_interval = d;
        self
    }

    /// Time a client has to answer a ping (default 20 s).
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.engine.ping_timeout = d;
        self
    }

    /// Largest message or polling body in bytes (default 1 MB).
    pub fn max_payload(mut self, bytes: u64) -> Self {
        self.engine.max_payload = bytes;
        self
    }

    /// Time a polling connection has to finish upgrading to WebSocket (default 10 s).
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.engine.upgrade_timeout = d;
        self
    }

    /// Time a new connection has to join a namespace before it is closed (default 45 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// Default time to wait for a client's acknowledgement (default 10 s).
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.config.ack_timeout = d;
        self
    }

    /// Packets that may wait for one slow client before it is disconnected (default 1024).
    pub fn outbound_buffer(mut self, frames: usize) -> Self {
        self.engine.outbound_buffer = frames;
        self
    }

    /// Largest number of open connections; further handshakes answer `503` (default: none).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.engine.max_connections = Some(n);
        self
    }

    /// Binary attachments allowed in one packet (default 10).
    pub fn max_attachments(mut self, n: usize) -> Self {
        self.config.max_attachments = n;
        self
    }

    /// Bytes of binary attachments one packet may carry in total; more closes the session
    /// (default: `max_payload` × `max_attachments`, what the other limits allow anyway).
    pub fn max_attachment_bytes(mut self, bytes: usize) -> Self {
        self.config.max_attachment_bytes = bytes;
        self
    }

    /// Namespaces one connection may join at once (default 64).
    pub fn max_namespaces_per_client(mut self, n: usize) -> Self {
        self.config.max_namespaces_per_client = n;
        self
    }

    /// Which transports clients may use (both by default).
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        self.engine.polling = polling;
        self.engine.websocket = websocket;
        self
    }

    /// Cross-origin settings for browsers on another origin.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.engine.cors = Some(cors);
        self
    }

    /// Accepts or refuses handshake requests (`403 Forbidden` when refused).
    pub fn allow_request(
        mut self,
        f: impl Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.engine.allow_request = Some(Arc::new(f));
        self
    }

    /// Engine settings not covered by the methods above.
    pub fn engine_config(mut self, f: impl FnOnce(&mut EngineConfig)) -> Self {
        f(&mut self.engine);
        self
    }

    /// Spans several servers: broadcasts, room operations, `fetch_sockets` and server-side
    /// events reach the sockets of every node through `adapter` (e.g. `sio_redis`). Without
    /// one, the server is alone.
    pub fn adapter(mut self, adapter: impl Adapter) -> Self {
        self.adapter = Some(Arc::new(adapter));
        self
    }

    /// Serves a `#[namespace("/path")]` impl block at its declared path.
    pub fn namespace<N: TypedNamespace>(self, handler: N) -> Self {
        self.ns(N::PATH, handler)
    }

    /// Serves namespace `path` with `handler`.
    pub fn ns<H: NamespaceHandler>(self, path: &str, handler: H) -> Self {
        self.ns_with(path, handler, Vec::new())
    }

    /// Serves namespace `path` with `handler`, after connect `middlewares` (in order) accept.
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
    /// namespace per matching path, created on first connect).
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

    /// The server.
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
                let ns = Namespace::new(&p, def, config.clone(), self.adapter.as_ref());
                (p.into_boxed_str(), ns)
            })
            .collect();
        let inner = Arc::new(ServerInner {
            config,
            namespaces: RwLock::new(namespaces),
            dynamic: self.dynamic,
            adapter: self.adapter,
        });
        let engine = Engine::new(self.engine, SioHandler { server: inner.clone() });
        Server { inner, engine }
    }
}

/// A namespace declared by a `#[namespace("/path")]` impl block.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a namespace",
    note = "put `#[sio_core::namespace(\"/path\")]` on an `impl {Self} {{ .. }}` block with `#[event]` methods"
)]
pub trait TypedNamespace: NamespaceHandler {
    /// The declared path.
    const PATH: &'static str;
    /// The declared `emits = E` type ([`Untyped`] when none).
    type Events: Send + Sync + 'static;
    /// The events, acks and auth it declares.
    fn schema() -> crate::schema::NamespaceSchema;
}

/// Builds a connect middleware from an async closure.
pub fn middleware<F, Fut>(f: F) -> Middleware
where
    F: Fn(Conn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    Arc::new(move |c| Box::pin(f(c)))
}

/// A Socket.IO server. Cheap to clone; serve it with [`Server::router`] or [`Server::service`].
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
    engine: Engine<SioHandler>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("path", &self.engine.config().path)
            .field("namespaces", &self.inner.namespaces.read().keys().collect::<Vec<_>>())
            .field("sessions", &self.engine.session_count())
            .finish()
    }
}

impl Server {
    /// Starts a builder with the reference server's defaults.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            engine: EngineConfig::default(),
            config: ServerConfig::default(),
            namespaces: Vec::new(),
            dynamic: Vec::new(),
            adapter: None,
        }
    }

    /// The engine (HTTP handling, sessions).
    pub(crate) fn engine(&self) -> &Engine<SioHandler> {
        &self.engine
    }

    /// The HTTP path this server answers under.
    pub fn path(&self) -> &str {
        &self.engine.config().path
    }

    /// Operations on namespace `path`, if it exists (untyped emits).
    pub fn of(&self, path: &str) -> Option<NsHandle> {
        let ns = self.inner.namespaces.read().get(normalize(path).as_str()).cloned()?;
        Some(NsHandle::new(ns))
    }

    /// Operations on the `#[namespace]` `N`, with its typed server events:
    /// `io.namespace::<Chat>()?.emit(ChatEvent::Announcement(..))`.
    pub fn namespace<N: TypedNamespace>(&self) -> Option<NsHandle<N::Events>> {
        let ns = self.inner.namespaces.read().get(N::PATH).cloned()?;
        Some(NsHandle::new(ns))
    }

    /// Number of open connections (engine sessions).
    pub fn connection_count(&self) -> usize {
        self.engine.session_count()
    }

    /// Disconnects every client with the reason `server shutting down`. Queued packets are
    /// flushed first. Does not wait; see [`Server::shutdown`].
    pub fn close(&self) {
        self.engine.close_all(CloseReason::ServerShutdown);
    }

    /// Graceful shutdown: refuses new connections (`503`), disconnects every socket with the
    /// reason `server shutting down` after delivering what is queued to it, runs the
    /// disconnect handlers, and waits for all of that, at most `timeout`. Returns whether
    /// everything finished in time.
    ///
    /// With axum: `axum::serve(listener, app).with_graceful_shutdown(async move {
    /// ctrl_c().await; io.shutdown(Duration::from_secs(10)).await; })`.
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        let done = self.engine.shutdown(timeout).await;
        let namespaces: Vec<_> = self.inner.namespaces.read().values().cloned().collect();
        for ns in namespaces {
            if let Some(adapter) = ns.adapter() {
                adapter.close();
            }
        }
        done
    }

    /// Counters: connections by transport, sockets per namespace, packets, drops, close
    /// reasons.
    pub fn stats(&self) -> ServerStats {
        let mut namespaces: Vec<NamespaceStats> = self
            .inner
            .namespaces
            .read()
            .values()
            .map(|ns| NamespaceStats {
                path: ns.path().to_owned(),
                sockets: ns.sockets.read().len(),
                rooms: ns.rooms.read().len(),
                pending_acks: ns.sockets.read().values().map(|s| s.pending_acks()).sum(),
            })
            .collect();
        namespaces.sort_by(|a, b| a.path.cmp(&b.path));
        ServerStats { engine: self.engine.stats(), namespaces }
    }
}

/// A snapshot of a server's counters ([`Server::stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections (Engine.IO sessions), packets, drops, close reasons.
    pub engine: crate::engine::EngineStats,
    /// Each namespace's sockets and non-empty rooms (besides the sockets' own id rooms).
    pub namespaces: Vec<NamespaceStats>,
}

impl ServerStats {
    /// Sockets over all namespaces.
    pub fn sockets(&self) -> usize {
        self.namespaces.iter().map(|n| n.sockets).sum()
    }

    /// Non-empty rooms over all namespaces.
    pub fn rooms(&self) -> usize {
        self.namespaces.iter().map(|n| n.rooms).sum()
    }
}

/// One namespace in [`ServerStats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamespaceStats {
    /// The path.
    pub path: String,
    /// Connected sockets.
    pub sockets: usize,
    /// Non-empty rooms.
    pub rooms: usize,
    /// Emits with ack whose reply has not arrived yet (entries in the sockets' tables).
    pub pending_acks: usize,
}

/// Operations on one namespace: emit to all its sockets, select rooms, list sockets.
///
/// `E` is the namespace's server events when it was looked up by type
/// ([`Server::namespace`]); [`Server::of`] gives the untyped view.
pub struct NsHandle<E = Untyped> {
    ns: Arc<Namespace>,
    _events: std::marker::PhantomData<fn() -> E>,
}

impl<E> Clone for NsHandle<E> {
    fn clone(&self) -> Self {
        Self { ns: self.ns.clone(), _events: std::marker::PhantomData }
    }
}

impl<E> fmt::Debug for NsHandle<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NsHandle").field("path", &self.ns.path()).finish()
    }
}

impl<E> NsHandle<E> {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self { ns, _events: std::marker::PhantomData }
    }

    /// The namespace path.
    pub fn path(&self) -> &str {
        self.ns.path()
    }

    fn op(&self) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.ns.clone())
    }

    /// Every socket of the namespace, as a broadcast target (`io.of(..).emit` in JavaScript).
    pub fn all(&self) -> BroadcastOperator<E> {
        self.op()
    }

    /// Selects the sockets in `room`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        self.op().to(room)
    }

    /// Selects every socket but those in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        self.op().except(room)
    }

    /// Selects every socket, restricted to this server.
    pub fn local(&self) -> BroadcastOperator<E> {
        self.op().local()
    }

    /// Selects every socket, dropping the packet for those whose queue is full.
    pub fn volatile(&self) -> BroadcastOperator<E> {
        self.op().volatile()
    }

    /// Selects every socket, with a timeout for acks.
    pub fn timeout(&self, d: Duration) -> BroadcastOperator<E> {
        self.op().timeout(d)
    }

    /// Every connected socket.
    pub fn sockets(&self) -> Vec<Conn<E>> {
        self.op().sockets()
    }

    /// The socket with id `sid`.
    pub fn socket(&self, sid: crate::Sid) -> Option<Conn<E>> {
        self.ns.sockets.read().get(&sid).cloned().map(Conn::from_inner)
    }

    /// Number of connected sockets.
    pub fn len(&self) -> usize {
        self.ns.sockets.read().len()
    }

    /// Whether no socket is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sockets of every node (only this one without an adapter); see
    /// [`BroadcastOperator::fetch_sockets`].
    pub fn fetch_sockets(
        &self,
    ) -> impl Future<Output = Result<Vec<RemoteSocket>, AdapterError>> + Send + use<E> {
        self.op().fetch_sockets()
    }

    /// The number of servers serving this namespace, this one included (1 without an
    /// adapter).
    pub fn server_count(&self) -> AdapterFuture<usize> {
        match self.ns.adapter() {
            Some(a) => a.server_count(),
            None => Box::pin(async { Ok(1) }),
        }
    }

    /// Emits `event` to the other servers of the cluster (not to clients): their handlers
    /// registered with [`NsHandle::on_server_event`] run, as do Node servers'
    /// `io.on(event, ..)` listeners. A no-op without an adapter.
    pub fn server_side_emit<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        if let Some(a) = self.ns.adapter() {
            a.server_side_emit(&Payload::encode(Some(event), &args)?);
        }
        Ok(())
    }

    /// [`NsHandle::server_side_emit`], collecting one reply per other server (fails when
    /// not all of them replied within `timeout`). Empty without an adapter.
    pub fn server_side_emit_with_ack<A: ToArgs>(
        &self,
        event: &str,
        args: A,
        timeout: Duration,
    ) -> AdapterFuture<Vec<RawArgs>> {
        let payload = match Payload::encode(Some(event), &args) {
            Ok(p) => p,
            Err(e) => {
                let e = AdapterError::Encode(e.to_string());
                return Box::pin(async move { Err(e) });
            }
        };
        let Some(adapter) = self.ns.adapter() else { return Box::pin(async { Ok(Vec::new()) }) };
        let fut = adapter.server_side_emit_with_ack(&payload, timeout);
        Box::pin(async move { Ok(fut.await?.iter().map(Payload::args).collect()) })
    }

    /// Handles server-side event `event` sent by other servers ([`NsHandle::server_side_emit`]
    /// here, `io.serverSideEmit` on Node). `f` gets the arguments and, when the sender waits
    /// for replies, a [`ServerAck`]. Replaces an earlier handler of the same name. `f` runs on
    /// the adapter's listener: keep it short and spawn a task for slow work (the ack can move
    /// into it).
    pub fn on_server_event<F>(&self, event: &str, f: F)
    where
        F: Fn(RawArgs, Option<ServerAck>) + Send + Sync + 'static,
    {
        self.ns.server_events.write().insert(event.into(), Arc::new(f));
    }

    /// Rooms that have members, with their member counts.
    pub fn rooms(&self) -> Vec<(Room, usize)> {
        let mut v: Vec<_> = self.ns.rooms.read().iter().map(|(r, m)| (r.clone(), m.len())).collect();
        v.sort();
        v
    }
}

impl NsHandle<Untyped> {
    /// Emits to every socket of the namespace.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.op().emit(event, data)
    }

    /// Emits several arguments to every socket of the namespace.
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.op().emit_args(event, args)
    }
}

impl<E: ServerEvents> NsHandle<E> {
    /// Emits one of the namespace's server events to every socket.
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.op().emit(event)
    }
}

/// Keeps `DynHandler` reachable for generated code without making it public API.
#[allow(dead_code)]
fn _assert_object_safe(_: &dyn DynHandler) {}
