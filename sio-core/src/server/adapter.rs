//! Adapters: how broadcasts, room operations and server-side events reach the sockets of
//! other servers of a cluster.
//!
//! Without an adapter a server is alone: every operation is local. With one
//! ([`ServerBuilder::adapter`](crate::ServerBuilder::adapter)), the server still does the local
//! part itself (the fast path does not change: encode once, queue to every local recipient)
//! and hands the operation to the adapter, which forwards it to the other nodes. Operations
//! that arrive from other nodes are applied through a [`LocalNamespace`], always locally,
//! so they are never forwarded again.
//!
//! `sio-redis` implements this over Redis pub/sub, wire-compatible with Node's
//! `@socket.io/redis-adapter`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::ack::AckReply;
use super::encode;
use super::namespace::Namespace;
use super::operators::BroadcastOperator;
use super::socket::SocketInner;
use super::{EmitError, Room};
use crate::Sid;
use crate::protocol::{RawArgs, ToArgs, WriteArgs};

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
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>>;

    /// Emits a server-side event to the other nodes. `args` holds the event name first.
    fn server_side_emit(&self, args: &Payload);

    /// Emits a server-side event to the other nodes and collects one reply per node.
    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>>;

    /// The number of nodes serving this namespace, this one included.
    fn server_count(&self) -> AdapterFuture<usize>;

    /// The server is shutting down: unsubscribe, stop background work.
    fn close(&self) {}

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

/// A packet's arguments as they cross nodes: a JSON array (binary values are
/// `{"_placeholder":true,"num":N}`) and the attachments the placeholders point to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    /// The JSON array, e.g. `["event",1,{"_placeholder":true,"num":0}]`.
    pub data: Bytes,
    /// Binary attachments, by placeholder number.
    pub attachments: Vec<Bytes>,
}

impl Payload {
    /// Encodes `args` (with the event name first when given).
    pub fn encode<A: ToArgs>(event: Option<&str>, args: &A) -> Result<Self, EmitError> {
        Self::encode_dyn(event, args)
    }

    pub(crate) fn encode_dyn(event: Option<&str>, args: &dyn WriteArgs) -> Result<Self, EmitError> {
        let mut data = Vec::with_capacity(64);
        let bins = crate::protocol::write_array(&mut data, event, args).map_err(encode::EncodeError)?;
        Ok(Self { data: data.into(), attachments: bins })
    }

    /// The arguments, untyped (the event name included when there is one).
    pub fn args(&self) -> RawArgs {
        crate::protocol::decode_args::<RawArgs>(&self.data, 0, &self.attachments).unwrap_or_default()
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
    /// One socket's reply.
    Reply(AckReply),
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

/// Why a cluster-wide operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdapterError {
    /// Not every node answered in time.
    Timeout {
        /// Answers received.
        received: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The adapter cannot reach the other nodes (e.g. the Redis connection is down).
    Unavailable(String),
    /// The payload could not be encoded.
    Encode(String),
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdapterError::Timeout { received, expected } => {
                write!(f, "timeout reached: only {received} responses received out of {expected}")
            }
            AdapterError::Unavailable(why) => write!(f, "the other nodes are unreachable: {why}"),
            AdapterError::Encode(why) => write!(f, "could not encode the payload: {why}"),
        }
    }
}

impl std::error::Error for AdapterError {}

/// Replies to a server-side event with acknowledgement ([`NsHandle::on_server_event`](crate::NsHandle::on_server_event)).
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
    pub fn send<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EmitError> {
        let payload = Payload::encode(None, &crate::protocol::One(value))?;
        (self.0)(payload);
        Ok(())
    }

    /// Replies with a raw payload (a JSON array holding the reply value first).
    pub fn send_payload(self, payload: Payload) {
        (self.0)(payload)
    }
}

pub(crate) type ServerEventFn = Arc<dyn Fn(RawArgs, Option<ServerAck>) + Send + Sync>;

/// A namespace of this node, as an adapter sees it: applies what other nodes ask, to local
/// sockets only.
#[derive(Clone)]
pub struct LocalNamespace {
    ns: Weak<Namespace>,
    path: Arc<str>,
}

impl fmt::Debug for LocalNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalNamespace").field("path", &self.path).finish()
    }
}

impl LocalNamespace {
    pub(crate) fn new(ns: Weak<Namespace>, path: &str) -> Self {
        Self { ns, path: path.into() }
    }

    /// The namespace path.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn select(&self, opts: &BroadcastOptions) -> Option<BroadcastOperator> {
        let ns = self.ns.upgrade()?;
        let mut op = BroadcastOperator::new(ns).to_all(opts.rooms.iter().cloned()).local();
        for room in &opts.except {
            op = op.except(room.clone());
        }
        if opts.volatile {
            op = op.volatile();
        }
        Some(op)
    }

    /// Delivers an event from another node to the selected local sockets (encoded once).
    /// Returns the number of recipients.
    pub fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) -> usize {
        let Some(op) = self.select(opts) else { return 0 };
        let enc = encode::encode_payload(&self.path, packet, None);
        op.send_encoded(&enc)
    }

    /// Delivers an event from another node with an ack id; the replies come from
    /// [`LocalAcks::next`].
    pub fn broadcast_with_ack(&self, packet: &Payload, opts: &BroadcastOptions) -> LocalAcks {
        let (tx, rx) = mpsc::unbounded_channel();
        let Some(op) = self.select(opts) else {
            return LocalAcks { id: 0, count: 0, rx, targets: Vec::new() };
        };
        let id = op.ns().next_ack_id();
        let enc = encode::encode_payload(&self.path, packet, Some(id));
        let targets = op.send_with_ack(&enc, id, &tx);
        LocalAcks { id, count: targets.len(), rx, targets }
    }

    /// Makes the selected local sockets join `rooms`.
    pub fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(op) = self.select(opts) {
            op.for_each_conn(|c| rooms.iter().for_each(|r| c.join(r.clone())));
        }
    }

    /// Makes the selected local sockets leave `rooms`.
    pub fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(op) = self.select(opts) {
            op.for_each_conn(|c| rooms.iter().for_each(|r| c.leave(r.clone())));
        }
    }

    /// Disconnects the selected local sockets (`close`: their whole connection).
    pub fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        if let Some(op) = self.select(opts) {
            op.for_each_conn(|c| if close { c.close() } else { c.disconnect() });
        }
    }

    /// The selected local sockets.
    pub fn fetch_sockets(&self, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        self.select(opts).map(|op| op.local_infos()).unwrap_or_default()
    }

    /// The ids of the selected local sockets.
    pub fn socket_ids(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let mut out = Vec::new();
        if let Some(op) = self.select(opts) {
            op.for_each_conn(|c| out.push(c.id()));
        }
        out
    }

    /// The rooms with members on this node (sockets' own id rooms excluded).
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.upgrade().map(|ns| ns.rooms.read().keys().cloned().collect()).unwrap_or_default()
    }

    /// Whether `room` has members on this node (a local socket id counts as a room).
    pub fn has_room(&self, room: &str) -> bool {
        let Some(ns) = self.ns.upgrade() else { return false };
        if ns.rooms.read().contains_key(room) {
            return true;
        }
        Sid::parse(room).is_some_and(|sid| ns.sockets.read().contains_key(&sid))
    }

    /// Runs this node's handler of a server-side event from another node. `args` holds the
    /// event name first. Returns false when no handler is registered for it (an ack, if any,
    /// is dropped then).
    pub fn server_event(&self, args: &Payload, ack: Option<ServerAck>) -> bool {
        let Some(ns) = self.ns.upgrade() else { return false };
        let raw = args.args();
        let Some(Ok(name)) = raw.get::<String>(0) else { return false };
        let handler = ns.server_events.read().get(name.as_str()).cloned();
        match handler {
            Some(h) => {
                // A panicking handler must not take the adapter's listener down with it.
                let run = std::panic::AssertUnwindSafe(|| h(raw.skip_first(), ack));
                if std::panic::catch_unwind(run).is_err() {
                    tracing::error!(ns = %self.path, event = %name, "a server-side event handler panicked");
                }
                true
            }
            None => {
                tracing::debug!(ns = %self.path, event = %name, "no handler for this server-side event");
                false
            }
        }
    }
}

/// Replies of local sockets to a broadcast with acks that came from another node. Dropping
/// it forgets the pending acks.
#[derive(Debug)]
pub struct LocalAcks {
    id: u64,
    count: usize,
    rx: mpsc::UnboundedReceiver<(Sid, AckReply)>,
    targets: Vec<Arc<SocketInner>>,
}

impl LocalAcks {
    /// How many local sockets the packet was sent to.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The next reply; `None` once every recipient replied or left.
    pub async fn next(&mut self) -> Option<AckReply> {
        self.rx.recv().await.map(|(sid, mut reply)| {
            reply.sid = Some(sid);
            reply
        })
    }
}

impl Drop for LocalAcks {
    fn drop(&mut self) {
        for socket in &self.targets {
            socket.forget_ack(self.id);
        }
    }
}

/// A socket of the cluster, as [`BroadcastOperator::fetch_sockets`] returns it: on this node
/// or another. Its methods reach it wherever it is (through its own id room).
#[derive(Clone)]
pub struct RemoteSocket {
    ns: Arc<Namespace>,
    info: SocketInfo,
}

impl fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteSocket").field("id", &self.info.id).field("rooms", &self.info.rooms).finish()
    }
}

impl RemoteSocket {
    pub(crate) fn new(ns: Arc<Namespace>, info: SocketInfo) -> Self {
        Self { ns, info }
    }

    /// The socket id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Its rooms, its own id room included.
    pub fn rooms(&self) -> &[String] {
        &self.info.rooms
    }

    /// Its handshake, in the reference server's shape.
    pub fn handshake(&self) -> &serde_json::Value {
        &self.info.handshake
    }

    /// Its application data (`socket.data` of a Node socket).
    pub fn data(&self) -> &serde_json::Value {
        &self.info.data
    }

    /// Everything above.
    pub fn info(&self) -> &SocketInfo {
        &self.info
    }

    fn op(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).to(self.info.id.as_str())
    }

    /// Emits `event` to this socket.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.op().emit(event, data)
    }

    /// Makes it join `room`.
    pub fn join(&self, room: impl Into<Room>) {
        self.op().join(room)
    }

    /// Makes it leave `room`.
    pub fn leave(&self, room: impl Into<Room>) {
        self.op().leave(room)
    }

    /// Disconnects it from the namespace.
    pub fn disconnect(&self) {
        self.op().disconnect()
    }
}
