//! The server's side of the adapter contract: what a [`LocalNamespace`] does to this node's
//! sockets when another node asks, and [`RemoteSocket`], a socket of the cluster as
//! `fetch_sockets` returns it.
//!
//! [`LocalNamespace`]: crate::adapter::LocalNamespace

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc;

use super::encode;
use super::error::EmitError;
use super::namespace::Namespace;
use super::operators::BroadcastOperator;
use super::socket::ForgetAcks;
use crate::adapter::{BroadcastOptions, LocalAcks, LocalOps, Payload, ServerAck, SocketInfo};
use crate::protocol::RawArgs;
use crate::{Room, Sid};

/// The local sockets `opts` selects: never forwarded to other nodes again.
fn select(ns: &Arc<Namespace>, opts: &BroadcastOptions) -> BroadcastOperator {
    let mut op = BroadcastOperator::new(ns.clone()).to_all(opts.rooms.iter().cloned()).local();
    for room in &opts.except {
        op = op.except(room.clone());
    }
    if opts.volatile {
        op = op.volatile();
    }
    op
}

/// Called on the namespace the adapter's [`LocalNamespace`](crate::adapter::LocalNamespace)
/// upgraded its weak reference to.
impl LocalOps for Namespace {
    fn broadcast(self: Arc<Self>, packet: &Payload, opts: &BroadcastOptions) -> usize {
        match select(&self, opts).deliver_payload(packet) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "broadcast from another node not delivered");
                0
            }
        }
    }

    fn broadcast_with_offset(
        self: Arc<Self>,
        packet: &Payload,
        opts: &BroadcastOptions,
        offset: &str,
    ) -> usize {
        let op = select(&self, opts);
        let delivered = if self.recovery.is_some() && !opts.volatile {
            op.deliver_payload_at(packet, offset)
        } else {
            op.deliver_payload(packet)
        };
        delivered.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "broadcast from the adapter's log not delivered");
            0
        })
    }

    fn broadcast_with_ack(self: Arc<Self>, packet: &Payload, opts: &BroadcastOptions) -> LocalAcks {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.next_ack_id();
        let targets = match encode::encode_payload(self.config.parser, self.path(), packet, Some(id)) {
            Ok(enc) => select(&self, opts).send_with_ack(&enc, id, &tx, || packet.clone()),
            Err(e) => {
                tracing::debug!(error = %e, "broadcast from another node not delivered");
                Vec::new()
            }
        };
        LocalAcks::new(targets.len(), rx, ForgetAcks { id, sockets: targets })
    }

    fn add_sockets(self: Arc<Self>, opts: &BroadcastOptions, rooms: &[Room]) {
        select(&self, opts).for_each_conn(|c| rooms.iter().for_each(|r| c.join(r.clone())));
    }

    fn del_sockets(self: Arc<Self>, opts: &BroadcastOptions, rooms: &[Room]) {
        select(&self, opts).for_each_conn(|c| rooms.iter().for_each(|r| c.leave(r.clone())));
    }

    fn disconnect_sockets(self: Arc<Self>, opts: &BroadcastOptions, close: bool) {
        select(&self, opts).for_each_conn(|c| if close { c.close() } else { c.disconnect() });
    }

    fn fetch_sockets(self: Arc<Self>, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        select(&self, opts).local_infos()
    }

    fn socket_ids(self: Arc<Self>, opts: &BroadcastOptions) -> Vec<Sid> {
        let mut out = Vec::new();
        select(&self, opts).for_each_conn(|c| out.push(c.id()));
        out
    }

    fn rooms(self: Arc<Self>) -> Vec<Room> {
        self.room_names()
    }

    fn has_room(self: Arc<Self>, room: &str) -> bool {
        Namespace::has_room(&self, room)
    }

    fn server_event(self: Arc<Self>, name: &str, args: RawArgs, ack: Option<ServerAck>) -> bool {
        match self.server_event_handler(name) {
            Some(h) => {
                // A panicking handler must not take the adapter's listener down with it.
                let run = std::panic::AssertUnwindSafe(|| h(args, ack));
                if std::panic::catch_unwind(run).is_err() {
                    crate::log::limited!(error, crate::log::Kind::Panic, ns = %self.path(), event = %name, "a server-side event handler panicked");
                }
                true
            }
            None => {
                tracing::debug!(ns = %self.path(), event = %name, "no handler for this server-side event");
                false
            }
        }
    }
}

/// A socket of the cluster, as [`BroadcastOperator::fetch_sockets`] returns it: on this node
/// or another (Node's `RemoteSocket`). Its methods reach it wherever it is (through its own id
/// room). A snapshot: its rooms are those it had when it was fetched.
///
/// ```
/// # use sio_core::{Handlers, Server};
/// # async fn demo(io: Server) -> Option<()> {
/// for socket in io.of("/chat")?.to("lobby").fetch_sockets().await.ok()? {
///     let user_agent = socket.handshake()["headers"]["user-agent"].as_str().unwrap_or("");
///     if user_agent.contains("bot") {
///         socket.emit("bye", &"no bots").ok();
///         socket.disconnect();
///     } else {
///         socket.join("humans");
///     }
/// }
/// # Some(()) }
/// ```
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

    /// Its handshake, in the reference server's shape: `headers`, `time`, `address`,
    /// `xdomain`, `secure`, `issued`, `url`, `query`, `auth`.
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
    ///
    /// # Errors
    /// [`EmitError::Encode`] when `data` cannot be serialized. Delivery is not confirmed (the
    /// socket may have left since it was fetched).
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

    /// Disconnects it from the namespace, as [`Conn::disconnect`](crate::Conn::disconnect)
    /// does.
    pub fn disconnect(&self) {
        self.op().disconnect()
    }
}
