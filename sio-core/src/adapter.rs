//! The adapter contract: how broadcasts, room operations and server-side events reach the
//! sockets of other servers of a cluster.
//!
//! Without an adapter a server is alone: every operation is local. With one
//! ([`ServerBuilder::adapter`](crate::ServerBuilder::adapter)), the server still does the local
//! part itself (the fast path does not change: encode once, queue to every local recipient)
//! and hands the operation to the adapter, which forwards it to the other nodes. Operations
//! that arrive from other nodes are applied through a [`LocalNamespace`], always locally,
//! so they are never forwarded again.
//!
//! This module is the contract only: the traits an adapter implements and the values that
//! cross the boundary. The server's side of it (what a [`LocalNamespace`] does to local
//! sockets) lives with the namespaces. `sio-redis` implements the contract over Redis pub/sub,
//! wire-compatible with Node's `@socket.io/redis-adapter`.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use crate::protocol::Payload;
use crate::protocol::{EncodeError, One, RawArgs};
use crate::{Room, Sid};

/// A boxed future, as adapters return them.
pub type AdapterFuture<T> = Pin<Box<dyn Future<Output = Result<T, AdapterError>> + Send + 'static>>;

/// Creates the remote side of each namespace. Installed with
/// [`ServerBuilder::adapter`](crate::ServerBuilder::adapter).
pub trait Adapter: Send + Sync + 'static {
    /// Called once when namespace `ns` is created (at `build` for declared namespaces, on the
    /// first connection for dynamic ones). Must not block: start subscriptions in the
    /// background. `ns` is not usable until this returns.
    fn namespace(&self, ns: LocalNamespace) -> Arc<dyn NamespaceAdapter>;
}

/// The remote side of one namespace: forwards what this node does to the other nodes.
///
/// The server has already applied every operation to its own sockets when it calls these
/// methods; the adapter only reaches the others. Methods that return nothing must not block
/// (queue the message and return).
pub trait NamespaceAdapter: Send + Sync + 'static {
    /// Forwards a broadcast.
    fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions);

    /// Forwards a broadcast whose recipients acknowledge. The receiver yields, for every
    /// other node, its [`RemoteAck::ClientCount`], then the replies of its sockets, and
    /// [`RemoteAck::CountsComplete`] once every node has reported its count (or the adapter
    /// gave up on the missing ones). Dropping the receiver abandons the request.
    fn broadcast_with_ack(
        &self,
        packet: &Payload,
        opts: &BroadcastOptions,
    ) -> mpsc::UnboundedReceiver<RemoteAck>;

    /// Makes the selected sockets of the other nodes join `rooms`.
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]);

    /// Makes the selected sockets of the other nodes leave `rooms`.
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]);

    /// Disconnects the selected sockets of the other nodes (`close`: their whole connection).
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool);

    /// The selected sockets of the other nodes.
    ///
    /// # Errors
    /// [`AdapterError::Timeout`] when not every node answered in time (`opts.timeout`, or the
    /// adapter's own), [`AdapterError::Unavailable`] when the other nodes cannot be reached.
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>>;

    /// Emits a server-side event to the other nodes. `args` holds the event name first.
    fn server_side_emit(&self, args: &Payload);

    /// Emits a server-side event to the other nodes and collects one reply per node.
    ///
    /// # Errors
    /// [`AdapterError::Timeout`] when not every node replied within `timeout`,
    /// [`AdapterError::Unavailable`] when the other nodes cannot be reached.
    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>>;

    /// The number of nodes serving this namespace, this one included.
    ///
    /// # Errors
    /// [`AdapterError::Unavailable`] when it cannot be known (e.g. Redis is down).
    fn server_count(&self) -> AdapterFuture<usize>;

    /// The server is shutting down: unsubscribe, stop background work.
    fn close(&self) {}

    /// Connection state recovery across nodes: keeps the session of a socket that left for a
    /// recoverable reason, for `ttl` (the recovery window), where every node can find it
    /// (Node's `persistSession`). The server keeps it itself too (a client that comes back to
    /// the same node is recovered from there); an adapter that stores sessions replaces a
    /// session of the same `pid`. The default does nothing. Must not block.
    fn persist_session(&self, session: &SessionState, ttl: Duration) {
        let _ = (session, ttl);
    }

    /// Connection state recovery across nodes: the session `pid` persisted by another node and
    /// the packets its socket missed after `offset`, oldest first (Node's `restoreSession`),
    /// taken so that it is restored once. The server asks when it does not know `pid` itself;
    /// `None` (the default) when the adapter does not store sessions. Each missed packet is
    /// the EVENT's arguments, the event name first and the offset last, as they are sent.
    ///
    /// The offsets a client presents are those of the node it was connected to: an adapter
    /// that restores sessions must be able to find the packets after such an offset.
    fn restore_session(&self, pid: &str, offset: &str) -> Option<AdapterFuture<Option<RestoredSession>>> {
        let _ = (pid, offset);
        None
    }

    /// Connection state recovery through the adapter's own log (Node's `ClusterAdapter` over a
    /// stream, as `@socket.io/redis-streams-adapter`): `true` when the adapter gives every
    /// recoverable packet its offset, the same on every node. The default is `false`: each
    /// node keeps a log of its own.
    ///
    /// With recovery on and an adapter that logs packets, the server keeps no log and no
    /// session itself: it hands every recoverable packet (an EVENT without ack, not volatile,
    /// to a room, to all or to one socket) to [`publish_logged`](Self::publish_logged)
    /// instead of delivering it, persists sessions only through
    /// [`persist_session`](Self::persist_session) and restores them only through
    /// [`restore_session`](Self::restore_session). Asked once, when the namespace is created.
    fn logs_packets(&self) -> bool {
        false
    }

    /// A recoverable packet for the sockets `opts` selects on every node, this one included
    /// (see [`logs_packets`](Self::logs_packets)): the adapter appends it to its log, then
    /// delivers it on this node with the offset the log gave it
    /// ([`LocalNamespace::broadcast_with_offset`]), as every other node does when it reads it.
    /// When the log cannot be written, it delivers it on this node without an offset
    /// ([`LocalNamespace::broadcast`]). Packets must be delivered in the order they are
    /// published. Must not block. The default forwards it as a broadcast.
    fn publish_logged(&self, packet: &Payload, opts: &BroadcastOptions) {
        self.broadcast(packet, opts)
    }

    /// Room `room` got its first member on this node. `private` is true for a socket's own
    /// id room, which exists from the moment the socket enters the namespace until it leaves
    /// it; false for rooms that sockets join.
    ///
    /// For adapters that listen per room (e.g. sio-redis's sharded mode); the default does
    /// nothing. Called with the namespace's room or socket table locked, so that creations
    /// and deletions of one room arrive in order: it must not block and must not call back
    /// into the namespace (no [`LocalNamespace`] method).
    fn room_created(&self, room: &str, private: bool) {
        let _ = (room, private);
    }

    /// Room `room` lost its last member on this node (see [`NamespaceAdapter::room_created`]).
    fn room_deleted(&self, room: &str, private: bool) {
        let _ = (room, private);
    }
}

/// Which sockets an operation selects, as it travels between nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Target rooms (none: every socket of the namespace).
    pub rooms: Vec<Room>,
    /// Excluded rooms; a socket id excludes that socket.
    pub except: Vec<Room>,
    /// Only this node (set on the sending side; a receiver never forwards anyway).
    pub local: bool,
    /// Drop for recipients whose queue is full.
    pub volatile: bool,
    /// Ack timeout of a broadcast with acks.
    pub timeout: Option<Duration>,
}

/// What the other nodes report for a broadcast with acks
/// ([`NamespaceAdapter::broadcast_with_ack`]).
#[derive(Debug)]
pub enum RemoteAck {
    /// A node sent the packet to this many sockets.
    ClientCount(usize),
    /// One socket's reply (its arguments).
    Reply(Payload),
    /// Every node has reported its count.
    CountsComplete,
}

/// A socket as `fetch_sockets` describes it, on this node or another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The socket id.
    pub id: String,
    /// The handshake, in the reference server's shape (`headers`, `time`, `address`,
    /// `xdomain`, `secure`, `issued`, `url`, `query`, `auth`).
    pub handshake: serde_json::Value,
    /// The rooms, its own id room included.
    pub rooms: Vec<String>,
    /// Application data (`socket.data` in JavaScript; `{}` for sio sockets).
    #[serde(default)]
    pub data: serde_json::Value,
}

/// A disconnected socket's session, kept for connection state recovery
/// ([`NamespaceAdapter::persist_session`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    /// The socket id, which the recovered socket takes again.
    pub sid: Sid,
    /// The private session id the client presents to recover it.
    pub pid: Sid,
    /// The rooms it was in (its own id room not included).
    pub rooms: Vec<Room>,
    /// Its application data ([`Conn::data`](crate::Conn::data)).
    pub data: serde_json::Value,
}

/// A session restored by an adapter ([`NamespaceAdapter::restore_session`]).
#[derive(Debug, Clone)]
pub struct RestoredSession {
    /// The session as it was persisted.
    pub session: SessionState,
    /// The EVENT packets the socket missed, oldest first: each its arguments (event name
    /// first, offset last).
    pub missed: Vec<Payload>,
}

/// Why a cluster-wide operation failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AdapterError {
    /// Not every node answered in time.
    Timeout {
        /// Answers received.
        received: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The adapter cannot reach the other nodes (e.g. the Redis connection is down); the
    /// cause is the error's [`source`](StdError::source).
    Unavailable(Arc<dyn StdError + Send + Sync>),
    /// The payload could not be encoded.
    Encode(Arc<EncodeError>),
}

impl AdapterError {
    /// The other nodes are unreachable because of `cause`.
    pub fn unavailable(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        AdapterError::Unavailable(Arc::from(cause.into()))
    }
}

impl From<EncodeError> for AdapterError {
    fn from(e: EncodeError) -> Self {
        AdapterError::Encode(Arc::new(e))
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdapterError::Timeout { received, expected } => {
                write!(f, "timeout reached: only {received} responses received out of {expected}")
            }
            AdapterError::Unavailable(why) => write!(f, "the other nodes are unreachable: {why}"),
            AdapterError::Encode(why) => why.fmt(f),
        }
    }
}

impl StdError for AdapterError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            AdapterError::Timeout { .. } => None,
            AdapterError::Unavailable(e) => Some(&**e),
            AdapterError::Encode(e) => Some(&**e),
        }
    }
}

/// Replies to a server-side event with acknowledgement
/// ([`NsHandle::on_server_event`](crate::NsHandle::on_server_event)).
pub struct ServerAck(Box<dyn FnOnce(Payload) + Send>);

impl fmt::Debug for ServerAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerAck")
    }
}

impl ServerAck {
    /// An acknowledgement that calls `f` with the reply.
    pub fn new(f: impl FnOnce(Payload) + Send + 'static) -> Self {
        Self(Box::new(f))
    }

    /// Replies with one value (what the emitting node receives for this node).
    ///
    /// # Errors
    /// When `value`'s `Serialize` implementation fails (nothing is sent then).
    pub fn send<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        let payload = Payload::encode(None, &One(value))?;
        (self.0)(payload);
        Ok(())
    }

    /// Replies with a raw payload (a JSON array holding the reply value first).
    pub fn send_payload(self, payload: Payload) {
        (self.0)(payload)
    }
}

/// What a [`LocalNamespace`] asks of this node's namespace: implemented by the server.
/// Everything here acts on local sockets only.
pub(crate) trait LocalOps: Send + Sync + 'static {
    fn broadcast(self: Arc<Self>, packet: &Payload, opts: &BroadcastOptions) -> usize;
    fn broadcast_with_offset(
        self: Arc<Self>,
        packet: &Payload,
        opts: &BroadcastOptions,
        offset: &str,
    ) -> usize;
    fn broadcast_with_ack(self: Arc<Self>, packet: &Payload, opts: &BroadcastOptions) -> LocalAcks;
    fn add_sockets(self: Arc<Self>, opts: &BroadcastOptions, rooms: &[Room]);
    fn del_sockets(self: Arc<Self>, opts: &BroadcastOptions, rooms: &[Room]);
    fn disconnect_sockets(self: Arc<Self>, opts: &BroadcastOptions, close: bool);
    fn fetch_sockets(self: Arc<Self>, opts: &BroadcastOptions) -> Vec<SocketInfo>;
    fn socket_ids(self: Arc<Self>, opts: &BroadcastOptions) -> Vec<Sid>;
    fn rooms(self: Arc<Self>) -> Vec<Room>;
    fn has_room(self: Arc<Self>, room: &str) -> bool;
    fn server_event(self: Arc<Self>, name: &str, args: RawArgs, ack: Option<ServerAck>) -> bool;
}

/// A namespace of this node, as an adapter sees it: applies what other nodes ask, to local
/// sockets only. Holds the namespace weakly: once it is gone every method is a no-op.
#[derive(Clone)]
pub struct LocalNamespace {
    ns: Weak<dyn LocalOps>,
    path: Arc<str>,
}

impl fmt::Debug for LocalNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalNamespace").field("path", &self.path).finish()
    }
}

impl LocalNamespace {
    pub(crate) fn new(ns: Weak<dyn LocalOps>, path: &str) -> Self {
        Self { ns, path: path.into() }
    }

    /// The namespace path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Delivers an event from another node to the selected local sockets (encoded once).
    /// Returns the number of recipients.
    pub fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) -> usize {
        self.ns.upgrade().map_or(0, |ns| ns.broadcast(packet, opts))
    }

    /// Delivers a packet of the adapter's log to the local sockets `opts` selects, with
    /// `offset` (the log's id for it) appended as its last argument, as connection state
    /// recovery sends packets (see [`NamespaceAdapter::logs_packets`]). Without recovery on
    /// the server, the offset is left out. Returns the number of recipients.
    pub fn broadcast_with_offset(&self, packet: &Payload, opts: &BroadcastOptions, offset: &str) -> usize {
        self.ns.upgrade().map_or(0, |ns| ns.broadcast_with_offset(packet, opts, offset))
    }

    /// Delivers an event from another node with an ack id; the replies come from
    /// [`LocalAcks::next`].
    pub fn broadcast_with_ack(&self, packet: &Payload, opts: &BroadcastOptions) -> LocalAcks {
        match self.ns.upgrade() {
            Some(ns) => ns.broadcast_with_ack(packet, opts),
            None => LocalAcks::none(),
        }
    }

    /// Makes the selected local sockets join `rooms`.
    pub fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(ns) = self.ns.upgrade() {
            ns.add_sockets(opts, rooms);
        }
    }

    /// Makes the selected local sockets leave `rooms`.
    pub fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(ns) = self.ns.upgrade() {
            ns.del_sockets(opts, rooms);
        }
    }

    /// Disconnects the selected local sockets (`close`: their whole connection).
    pub fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        if let Some(ns) = self.ns.upgrade() {
            ns.disconnect_sockets(opts, close);
        }
    }

    /// The selected local sockets.
    pub fn fetch_sockets(&self, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        self.ns.upgrade().map(|ns| ns.fetch_sockets(opts)).unwrap_or_default()
    }

    /// The ids of the selected local sockets.
    pub fn socket_ids(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.ns.upgrade().map(|ns| ns.socket_ids(opts)).unwrap_or_default()
    }

    /// The rooms with members on this node (sockets' own id rooms excluded).
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.upgrade().map(|ns| ns.rooms()).unwrap_or_default()
    }

    /// Whether `room` has members on this node (a local socket id counts as a room).
    pub fn has_room(&self, room: &str) -> bool {
        self.ns.upgrade().is_some_and(|ns| ns.has_room(room))
    }

    /// Runs this node's handler of a server-side event from another node. `args` holds the
    /// event name first. Returns false when no handler is registered for it (an ack, if any,
    /// is dropped then).
    pub fn server_event(&self, args: &Payload, ack: Option<ServerAck>) -> bool {
        let Some(ns) = self.ns.upgrade() else { return false };
        let raw = args.args();
        let Some(Ok(name)) = raw.get::<String>(0) else { return false };
        ns.server_event(&name, raw.skip_first(), ack)
    }
}

/// Replies of local sockets to a broadcast with acks that came from another node. Dropping
/// it forgets the pending acks.
pub struct LocalAcks {
    count: usize,
    rx: Option<mpsc::UnboundedReceiver<(Sid, Payload)>>,
    /// Removes the sockets' pending entries when dropped.
    _pending: Box<dyn Send + Sync>,
}

impl fmt::Debug for LocalAcks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAcks").field("count", &self.count).finish_non_exhaustive()
    }
}

impl LocalAcks {
    pub(crate) fn new(
        count: usize,
        rx: mpsc::UnboundedReceiver<(Sid, Payload)>,
        pending: impl Send + Sync + 'static,
    ) -> Self {
        Self { count, rx: Some(rx), _pending: Box::new(pending) }
    }

    fn none() -> Self {
        Self { count: 0, rx: None, _pending: Box::new(()) }
    }

    /// How many local sockets the packet was sent to.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The next reply and the socket it came from; `None` once every recipient replied or
    /// left.
    pub async fn next(&mut self) -> Option<(Sid, Payload)> {
        self.rx.as_mut()?.recv().await
    }
}
