//! The Socket.IO v5 server: namespaces, sockets, rooms, acks and broadcasts on top of the
//! engine. It knows nothing of HTTP.
//!
//! One module per concern: [`builder`] (settings, namespaces), [`handlers`] (what serves a
//! namespace), [`namespace`] (a live namespace and its locks), [`socket`] ([`Conn`], events,
//! ack senders), [`operators`] (broadcasts), [`handle`] ([`NsHandle`]), [`local`] (the
//! adapter contract's local side, [`RemoteSocket`]), [`client`] (one per Engine.IO session:
//! packet routing, connects), [`encode`] (outbound packets, encoded once), [`ack`], [`typed`]
//! (`ServerEvents`), [`error`], [`stats`].

mod ack;
pub(crate) mod builder;
mod client;
pub(crate) mod dispatch;
pub(crate) mod encode;
mod error;
mod event_ctx;
mod extensions;
mod handle;
mod handler_error;
mod handlers;
mod handshake;
mod local;
mod namespace;
mod operators;
mod reason;
mod recovery;
mod socket;
mod stats;
mod typed;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use parking_lot::RwLock;

pub use self::ack::{AckError, AckFuture, AckReplies, AckReply};
pub use self::builder::ServerBuilder;
pub(crate) use self::builder::ServerConfig;
use self::builder::normalize;
use self::client::SioHandler;
pub use self::error::{ConnectError, EmitError, EventError, IntoConnectError, IntoEventError};
pub use self::event_ctx::EventCtx;
pub use self::extensions::Extensions;
pub use self::handle::NsHandle;
pub use self::handler_error::HandlerError;
pub use self::handlers::{Handlers, Middleware, NamespaceHandler, middleware};
pub use self::handshake::Handshake;
pub use self::local::RemoteSocket;
use self::namespace::{Namespace, NamespaceDef};
pub use self::operators::BroadcastOperator;
pub use self::reason::DisconnectReason;
pub use self::recovery::RecoveryConfig;
pub use self::socket::{AckSender, Conn, ConnOperator, Event, Untyped};
pub use self::stats::{NamespaceStats, ServerStats};
pub use self::typed::{AckEvent, Ask, PlainEvent, ServerEvents, TypedReplies};
use crate::adapter::Adapter;
use crate::engine::{CloseReason, Engine};

type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// A [`Server`] that does not keep it alive (for its own background tasks).
#[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
pub(crate) struct WeakServer {
    inner: std::sync::Weak<ServerInner>,
    engine: std::sync::Weak<crate::engine::EngineInner<SioHandler>>,
    client_dist: Option<Arc<crate::client_dist::ClientDist>>,
}

#[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
impl WeakServer {
    pub(crate) fn upgrade(&self) -> Option<Server> {
        Some(Server {
            inner: self.inner.upgrade()?,
            engine: Engine::upgrade(&self.engine)?,
            client_dist: self.client_dist.clone(),
        })
    }
}

pub(crate) struct ServerInner {
    pub(crate) config: Arc<ServerConfig>,
    namespaces: RwLock<HashMap<Box<str>, Arc<Namespace>>>,
    dynamic: Vec<(Predicate, NamespaceDef)>,
    /// Namespaces created by `dynamic` alive now.
    dynamic_live: std::sync::atomic::AtomicUsize,
    adapter: Option<Arc<dyn Adapter>>,
}

impl ServerInner {
    /// The namespace a CONNECT to `path` joins, creating it when a dynamic pattern matches;
    /// the error is the `connect_error` message. The CONNECT is counted as pending on the
    /// namespace until [`ServerInner::settle`] says how it ended.
    pub(crate) fn namespace_for(&self, path: &str) -> Result<Arc<Namespace>, &'static str> {
        {
            let map = self.namespaces.read();
            if let Some(ns) = map.get(path) {
                // Under the map's lock, so that `sweep` sees it.
                ns.pending.fetch_add(1, Ordering::AcqRel);
                return Ok(ns.clone());
            }
        }
        let (_, def) = self.dynamic.iter().find(|(matches, _)| matches(path)).ok_or("Invalid namespace")?;
        let mut map = self.namespaces.write();
        if let Some(ns) = map.get(path) {
            ns.pending.fetch_add(1, Ordering::AcqRel);
            return Ok(ns.clone());
        }
        if self.dynamic_live.load(Ordering::Acquire) >= self.config.max_dynamic_namespaces {
            tracing::debug!(path, "dynamic namespace limit reached");
            return Err("Too many namespaces");
        }
        let ns = Namespace::new(path, def.clone(), self.config.clone(), self.adapter.as_ref(), true);
        ns.pending.fetch_add(1, Ordering::AcqRel);
        self.dynamic_live.fetch_add(1, Ordering::AcqRel);
        map.insert(path.into(), ns.clone());
        Ok(ns)
    }

    /// A CONNECT counted by [`ServerInner::namespace_for`] ended (its socket joined, or not).
    pub(crate) fn settle(&self, ns: &Arc<Namespace>) {
        ns.pending.fetch_sub(1, Ordering::AcqRel);
        self.sweep(ns);
    }

    /// Drops `ns` if it is a dynamic namespace with no socket and no pending CONNECT, when
    /// empty ones are cleaned up.
    pub(crate) fn sweep(&self, ns: &Arc<Namespace>) {
        let idle = || ns.is_empty() && ns.pending.load(Ordering::Acquire) == 0;
        if !ns.dynamic || !self.config.cleanup_empty_child_namespaces || !idle() {
            return;
        }
        let mut map = self.namespaces.write();
        if !idle() || !map.get(ns.path()).is_some_and(|n| Arc::ptr_eq(n, ns)) {
            return;
        }
        map.remove(ns.path());
        self.dynamic_live.fetch_sub(1, Ordering::AcqRel);
        drop(map);
        tracing::debug!(path = ns.path(), "empty dynamic namespace dropped");
        if let Some(adapter) = ns.adapter() {
            adapter.close();
        }
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

/// A Socket.IO server (Node's `io`). Cheap to clone; serve it with [`Server::router`] (axum),
/// [`Server::service`] or [`Server::layer`] (tower).
///
/// Built by [`Server::builder`] with its settings and namespaces. It needs a tokio runtime to
/// serve, not to be built.
///
/// ```
/// use sio_core::{Handlers, Server};
///
/// let io = Server::builder().ns("/", Handlers::new()).build();
/// let app: axum::Router = axum::Router::new().merge(io.router());
/// assert_eq!(io.connection_count(), 0);
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
    engine: Engine<SioHandler>,
    /// The browser client's files, when served ([`ServerBuilder::serve_client_from`]).
    client_dist: Option<Arc<crate::client_dist::ClientDist>>,
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
    /// The packet parser of every client.
    #[cfg(feature = "__internals")]
    pub(crate) fn parser(&self) -> crate::protocol::Parser {
        self.inner.config.parser
    }

    /// Starts a builder with the reference server's defaults (see the
    /// [configuration table](crate#configuration)).
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// The engine (HTTP handling, sessions).
    pub(crate) fn engine(&self) -> &Engine<SioHandler> {
        &self.engine
    }

    /// The browser client's files, when served.
    pub(crate) fn client_dist(&self) -> Option<&crate::client_dist::ClientDist> {
        self.client_dist.as_deref()
    }

    /// The HTTP path this server answers under, with its trailing `/`.
    ///
    /// ```
    /// # use sio_core::Server;
    /// assert_eq!(Server::builder().build().path(), "/socket.io/");
    /// assert_eq!(Server::builder().path("/ws").build().path(), "/ws/");
    /// ```
    pub fn path(&self) -> &str {
        &self.engine.config().path
    }

    /// Operations on namespace `path`, if it exists (untyped emits; Node's `io.of(path)`).
    /// A leading `/` is added when missing. A dynamic namespace exists once a client has
    /// connected to it.
    ///
    /// ```
    /// use sio_core::{Handlers, Server};
    ///
    /// let io = Server::builder()
    ///     .ns("/chat", Handlers::new())
    ///     .dynamic_ns(|p| p.starts_with("/team-"), Handlers::new(), Vec::new())
    ///     .build();
    /// io.of("/chat").unwrap().emit("announcement", &"hi").unwrap();
    /// assert!(io.of("/nope").is_none());
    /// assert!(io.of("/team-1").is_none()); // until its first connection
    /// ```
    pub fn of(&self, path: &str) -> Option<NsHandle> {
        let ns = self.inner.namespaces.read().get(normalize(path).as_str()).cloned()?;
        Some(NsHandle::new(ns))
    }

    /// Operations on the `#[namespace]` `N`, with its typed server events (`None` when the
    /// server does not serve `N`).
    ///
    /// ```
    /// use sio_core::prelude::*;
    ///
    /// #[server_events]
    /// enum ChatEvent {
    ///     Announcement(String),
    /// }
    ///
    /// struct Chat;
    ///
    /// #[namespace("/chat", emits = ChatEvent)]
    /// impl Chat {
    ///     #[event]
    ///     async fn msg(&self, text: String) {}
    /// }
    ///
    /// let io = Server::builder().namespace(Chat).build();
    /// io.namespace::<Chat>().unwrap().emit(ChatEvent::Announcement("maintenance at 5".into())).unwrap();
    /// ```
    pub fn namespace<N: TypedNamespace>(&self) -> Option<NsHandle<N::Events>> {
        let ns = self.inner.namespaces.read().get(N::PATH).cloned()?;
        Some(NsHandle::new(ns))
    }

    /// Number of open connections (engine sessions; Node's `io.engine.clientsCount`). One
    /// connection may hold sockets in several namespaces.
    #[doc(alias = "clientsCount")]
    pub fn connection_count(&self) -> usize {
        self.engine.session_count()
    }

    /// Disconnects every client with the reason `server shutting down`. Queued packets are
    /// flushed first. Does not wait, and does not refuse new connections; see
    /// [`Server::shutdown`].
    pub fn close(&self) {
        self.engine.close_all(CloseReason::ServerShutdown);
    }

    /// Graceful shutdown: refuses new connections (`503`), disconnects every socket with the
    /// reason `server shutting down` after delivering what is queued to it, runs the
    /// disconnect handlers, and waits for all of that, at most `timeout`. Returns whether
    /// everything finished in time.
    ///
    /// With [`crate::serve`] (or `axum::serve`, the same way):
    ///
    /// ```no_run
    /// # async fn run(io: sio_core::Server) -> std::io::Result<()> {
    /// use std::time::Duration;
    ///
    /// let app = axum::Router::new().merge(io.router());
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
    /// sio_core::serve(listener, app)
    ///     .with_graceful_shutdown(async move {
    ///         let _ = tokio::signal::ctrl_c().await;
    ///         if !io.shutdown(Duration::from_secs(10)).await {
    ///             eprintln!("some disconnect handlers were still running");
    ///         }
    ///     })
    ///     .await
    /// # }
    /// ```
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

    /// A handle that does not keep the server alive.
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> WeakServer {
        WeakServer {
            inner: Arc::downgrade(&self.inner),
            engine: self.engine.downgrade(),
            client_dist: self.client_dist.clone(),
        }
    }

    /// Whether the server has an adapter (other servers may share its namespaces).
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn has_adapter(&self) -> bool {
        self.inner.adapter.is_some()
    }

    /// The paths of the live namespaces, sorted.
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn namespace_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.inner.namespaces.read().keys().map(|k| k.to_string()).collect();
        paths.sort();
        paths
    }

    /// Counters: connections by transport, sockets per namespace, packets, drops, close
    /// reasons. A snapshot, cheap enough to take for every metrics scrape.
    ///
    /// ```
    /// use sio_core::{Handlers, Server};
    ///
    /// let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// let stats = io.stats();
    /// println!("{} connections ({} on WebSocket)", stats.engine.sessions, stats.engine.websocket);
    /// for ns in &stats.namespaces {
    ///     println!("{}: {} sockets, {} rooms", ns.path, ns.sockets, ns.rooms);
    /// }
    /// assert_eq!(stats.sockets(), 0);
    /// ```
    pub fn stats(&self) -> ServerStats {
        let mut namespaces: Vec<NamespaceStats> =
            self.inner.namespaces.read().values().map(|ns| ns.stats()).collect();
        namespaces.sort_by(|a, b| a.path.cmp(&b.path));
        ServerStats { engine: self.engine.stats(), namespaces }
    }
}
