//! Namespaces: the handler that serves them, their sockets and their rooms.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use super::adapter::{Adapter, LocalNamespace, NamespaceAdapter, ServerEventFn};
use super::socket::{Conn, Event, SocketInner};
use super::{ConnectError, DisconnectReason, Room, ServerConfig};
use crate::Sid;
use crate::engine::BoxFuture;

/// What serves a namespace. `#[namespace]` impl blocks generate an implementation with a
/// static `match` on event names; [`Handlers`] is the hand-written equivalent.
///
/// The handler is shared by every socket of the namespace (`Arc<Self>`), so its futures can
/// hold on to it across awaits.
pub trait NamespaceHandler: Send + Sync + 'static {
    /// A client asks to join. Refuse with `Err` (the client gets `connect_error`). Packets
    /// emitted here are delivered right after the CONNECT reply.
    fn connect(
        self: &Arc<Self>,
        conn: Conn,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send + 'static {
        let _ = conn;
        async { Ok(()) }
    }

    /// An event arrived.
    fn event(self: &Arc<Self>, conn: Conn, event: Event) -> impl Future<Output = ()> + Send + 'static;

    /// The socket left the namespace.
    fn disconnect(
        self: &Arc<Self>,
        conn: Conn,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send + 'static {
        let _ = (conn, reason);
        async {}
    }
}

type ConnectFuture = Pin<Box<dyn Future<Output = Result<(), ConnectError>> + Send + 'static>>;

/// Object-safe form of [`NamespaceHandler`].
pub(crate) trait DynHandler: Send + Sync + 'static {
    fn connect(&self, conn: Conn) -> ConnectFuture;
    fn event(&self, conn: Conn, event: Event) -> BoxFuture;
    fn disconnect(&self, conn: Conn, reason: DisconnectReason) -> BoxFuture;
}

/// Holds a handler for the namespace table.
pub(crate) struct Holder<T>(pub(crate) Arc<T>);

impl<T: NamespaceHandler> DynHandler for Holder<T> {
    fn connect(&self, conn: Conn) -> ConnectFuture {
        Box::pin(NamespaceHandler::connect(&self.0, conn))
    }
    fn event(&self, conn: Conn, event: Event) -> BoxFuture {
        // A panic in an event handler disconnects only its socket (the client sees
        // `io server disconnect`); the connection and its other namespaces stay. The guard
        // lives in the same allocation as the handler's future.
        let socket = conn.clone();
        let fut = NamespaceHandler::event(&self.0, conn, event);
        Box::pin(async move {
            use futures_util::FutureExt as _;
            if std::panic::AssertUnwindSafe(fut).catch_unwind().await.is_err() {
                tracing::error!(sid = %socket.id(), ns = socket.ns(), "an event handler panicked; disconnecting its socket");
                socket.disconnect();
            }
        })
    }
    fn disconnect(&self, conn: Conn, reason: DisconnectReason) -> BoxFuture {
        Box::pin(NamespaceHandler::disconnect(&self.0, conn, reason))
    }
}

/// A connect middleware: sees the socket (handshake, auth) before the handler and may refuse.
pub type Middleware = Arc<dyn Fn(Conn) -> ConnectFuture + Send + Sync>;

type EventFn = Box<dyn Fn(Conn, Event) -> BoxFuture + Send + Sync>;
type ConnectFn = Box<dyn Fn(Conn) -> ConnectFuture + Send + Sync>;
type DisconnectFn = Box<dyn Fn(Conn, DisconnectReason) -> BoxFuture + Send + Sync>;

/// Hand-written handlers for a namespace, one closure per event name.
///
/// ```
/// use sio_core::{Handlers, Conn, Event};
/// let chat = Handlers::new().on("msg", |conn: Conn, mut ev: Event| async move {
///     let text: String = ev.arg().unwrap_or_default();
///     if let Some(ack) = ev.take_ack() {
///         let _ = ack.send(&format!("recv {text}"));
///     }
/// });
/// ```
#[derive(Default)]
pub struct Handlers {
    events: HashMap<Box<str>, EventFn>,
    any: Option<EventFn>,
    connect: Option<ConnectFn>,
    disconnect: Option<DisconnectFn>,
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers").field("events", &self.events.keys().collect::<Vec<_>>()).finish()
    }
}

impl Handlers {
    /// No handlers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles event `name`.
    pub fn on<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Conn, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.events.insert(name.into(), Box::new(move |c, e| Box::pin(f(c, e))));
        self
    }

    /// Handles every event that has no handler of its own.
    pub fn on_any<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.any = Some(Box::new(move |c, e| Box::pin(f(c, e))));
        self
    }

    /// Runs on connect; `Err` refuses the connection.
    pub fn on_connect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.connect = Some(Box::new(move |c| Box::pin(f(c))));
        self
    }

    /// Runs when a socket leaves.
    pub fn on_disconnect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.disconnect = Some(Box::new(move |c, r| Box::pin(f(c, r))));
        self
    }
}

impl NamespaceHandler for Handlers {
    fn connect(
        self: &Arc<Self>,
        conn: Conn,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send + 'static {
        match &self.connect {
            Some(f) => f(conn),
            None => Box::pin(async { Ok(()) }),
        }
    }
    fn event(self: &Arc<Self>, conn: Conn, event: Event) -> impl Future<Output = ()> + Send + 'static {
        match self.events.get(event.name()).or(self.any.as_ref()) {
            Some(f) => f(conn, event),
            None => {
                tracing::debug!(event = event.name(), "no handler for event");
                Box::pin(async {})
            }
        }
    }
    fn disconnect(
        self: &Arc<Self>,
        conn: Conn,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send + 'static {
        match &self.disconnect {
            Some(f) => f(conn, reason),
            None => Box::pin(async {}),
        }
    }
}

/// How a namespace is served: its handler and connect middlewares.
pub(crate) struct NamespaceDef {
    pub(crate) handler: Arc<dyn DynHandler>,
    pub(crate) middlewares: Vec<Middleware>,
}

impl Clone for NamespaceDef {
    fn clone(&self) -> Self {
        Self { handler: self.handler.clone(), middlewares: self.middlewares.clone() }
    }
}

/// A live namespace: sockets, rooms, ack ids.
pub(crate) struct Namespace {
    path: Box<str>,
    pub(crate) handler: Arc<dyn DynHandler>,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) sockets: RwLock<HashMap<Sid, Arc<SocketInner>>>,
    pub(crate) rooms: RwLock<HashMap<Room, HashSet<Sid>>>,
    ack_ids: AtomicU64,
    adapter: Option<Arc<dyn NamespaceAdapter>>,
    pub(crate) server_events: RwLock<HashMap<Box<str>, ServerEventFn>>,
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace")
            .field("path", &self.path)
            .field("sockets", &self.sockets.read().len())
            .finish()
    }
}

impl Namespace {
    pub(crate) fn new(
        path: &str,
        def: NamespaceDef,
        config: Arc<ServerConfig>,
        adapter: Option<&Arc<dyn Adapter>>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|weak| Self {
            path: path.into(),
            handler: def.handler,
            middlewares: def.middlewares,
            config,
            sockets: RwLock::new(HashMap::new()),
            rooms: RwLock::new(HashMap::new()),
            ack_ids: AtomicU64::new(0),
            adapter: adapter.map(|a| a.namespace(LocalNamespace::new(weak.clone(), path))),
            server_events: RwLock::new(HashMap::new()),
        })
    }

    /// The remote side, when the server has an adapter.
    pub(crate) fn adapter(&self) -> Option<&Arc<dyn NamespaceAdapter>> {
        self.adapter.as_ref()
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    // The adapter's room hooks run under the table lock that changed, so that the creation
    // and the deletion of one room reach it in order.

    pub(crate) fn insert_socket(&self, socket: &Arc<SocketInner>) {
        let mut sockets = self.sockets.write();
        if sockets.insert(socket.id, socket.clone()).is_none()
            && let Some(adapter) = &self.adapter
        {
            adapter.room_created(socket.id.as_str(), true);
        }
    }

    pub(crate) fn remove_socket(&self, socket: &SocketInner) {
        {
            let mut sockets = self.sockets.write();
            if sockets.remove(&socket.id).is_some()
                && let Some(adapter) = &self.adapter
            {
                adapter.room_deleted(socket.id.as_str(), true);
            }
        }
        let rooms = std::mem::take(&mut *socket.rooms.lock());
        if !rooms.is_empty() {
            let mut index = self.rooms.write();
            for room in rooms {
                if let Some(set) = index.get_mut(&room) {
                    set.remove(&socket.id);
                    if set.is_empty() {
                        index.remove(&room);
                        if let Some(adapter) = &self.adapter {
                            adapter.room_deleted(room.as_str(), false);
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn join(&self, socket: &SocketInner, room: Room) {
        let mut rooms = socket.rooms.lock();
        // Checked under the rooms lock: `leave_namespace` marks the socket before it takes the
        // rooms, so a late join from a still-running handler cannot leave an entry behind.
        if socket.is_disconnected() || rooms.contains(&room) {
            return;
        }
        rooms.push(room.clone());
        match self.rooms.write().entry(room) {
            Entry::Occupied(mut members) => {
                members.get_mut().insert(socket.id);
            }
            Entry::Vacant(slot) => {
                if let Some(adapter) = &self.adapter {
                    adapter.room_created(slot.key().as_str(), false);
                }
                slot.insert(HashSet::from([socket.id]));
            }
        }
    }

    pub(crate) fn leave(&self, socket: &SocketInner, room: &Room) {
        let mut rooms = socket.rooms.lock();
        let Some(pos) = rooms.iter().position(|r| r == room) else { return };
        rooms.swap_remove(pos);
        let mut index = self.rooms.write();
        if let Some(set) = index.get_mut(room) {
            set.remove(&socket.id);
            if set.is_empty() {
                index.remove(room);
                if let Some(adapter) = &self.adapter {
                    adapter.room_deleted(room.as_str(), false);
                }
            }
        }
    }
}
