//! The sharded adapter's messages (Node's `createShardedAdapter`, socket.io-adapter's
//! `ClusterAdapter` format): every message is a [`Message`], `{type, data, uid, nsp}`, in
//! JSON, or in MessagePack when `data` holds binary.

use rmpv::Value as Mp;
use serde::{Deserialize, Serialize};
use sio_core::Room;
use sio_core::adapter::{BroadcastOptions, Payload, SocketInfo};

use super::{Args, Opts, Packet, Rooms, Sockets, lenient, present, to_json, to_msgpack};

message_types! {
    /// socket.io-adapter's `MessageType` (1, 2 and 13 belong to adapters with heartbeats).
    MessageType {
        /// A broadcast, with acks when it has a request id.
        Broadcast = 3,
        /// Sockets join rooms.
        SocketsJoin = 4,
        /// Sockets leave rooms.
        SocketsLeave = 5,
        /// Sockets are disconnected.
        DisconnectSockets = 6,
        /// `fetchSockets`.
        FetchSockets = 7,
        /// A node's sockets, answering `FetchSockets`.
        FetchSocketsResponse = 8,
        /// A server-side event.
        ServerSideEmit = 9,
        /// A node's answer to a server-side event with ack.
        ServerSideEmitResponse = 10,
        /// How many sockets a node sent a broadcast with acks to.
        BroadcastClientCount = 11,
        /// One socket's reply to a broadcast with acks.
        BroadcastAck = 12,
    }
}

/// A message: `{type, data, uid, nsp}`. `D` is the [`Body`] of its type; a received
/// message is read with the body as a MessagePack value first, then (`super::from_mp`)
/// as the body its type calls for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message<D = Mp> {
    /// What the message is.
    #[serde(rename = "type")]
    pub(crate) kind: MessageType,
    /// Its body.
    pub(crate) data: D,
    /// The sending node.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) uid: Option<String>,
    /// The namespace.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) nsp: Option<String>,
}

/// The body of a [`Message`].
pub(crate) trait Body: Serialize {
    /// Whether binary is anywhere in it, which makes the message MessagePack.
    fn has_binary(&self) -> bool {
        false
    }
}

impl<D: Body> Message<D> {
    /// A message of type `kind` from node `uid` in namespace `nsp`.
    pub(crate) fn new(kind: MessageType, data: D, uid: &str, nsp: &str) -> Self {
        Self { kind, data, uid: Some(uid.to_owned()), nsp: Some(nsp.to_owned()) }
    }

    /// The bytes to publish: MessagePack when the body holds binary, else JSON (as Node).
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        if self.data.has_binary() { to_msgpack(self) } else { to_json(self) }
    }
}

/// `Broadcast`: a packet for the sockets of `opts`; with a request id, a broadcast with
/// acks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BroadcastBody {
    /// The packet (without `nsp`: Node publishes it before its local broadcast sets it).
    pub(crate) packet: Packet,
    /// Set for a broadcast with acks.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub(crate) request_id: Option<String>,
    /// Which sockets, and the flags.
    pub(crate) opts: Opts,
}

impl BroadcastBody {
    /// `packet` to the sockets of `opts`; with acks when it has an `id`.
    pub(crate) fn new(packet: &Payload, id: Option<&str>, opts: &BroadcastOptions) -> Self {
        Self {
            packet: Packet::event(packet, None),
            request_id: id.map(str::to_owned),
            opts: Opts::new(opts, true),
        }
    }
}

impl Body for BroadcastBody {
    fn has_binary(&self) -> bool {
        self.packet.data.has_binary()
    }
}

/// `SocketsJoin` / `SocketsLeave`: the sockets of `opts` join or leave `rooms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RoomsBody {
    /// Which sockets.
    pub(crate) opts: Opts,
    /// The rooms.
    #[serde(default)]
    pub(crate) rooms: Rooms,
}

impl RoomsBody {
    /// The sockets of `opts` join or leave `rooms`.
    pub(crate) fn new(opts: &BroadcastOptions, rooms: &[Room]) -> Self {
        Self { opts: Opts::new(opts, true), rooms: Rooms::new(rooms) }
    }
}

impl Body for RoomsBody {}

/// `DisconnectSockets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DisconnectBody {
    /// Which sockets.
    pub(crate) opts: Opts,
    /// Close the underlying connections too.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) close: bool,
}

impl DisconnectBody {
    /// The sockets of `opts` are disconnected (their connections closed too if `close`).
    pub(crate) fn new(opts: &BroadcastOptions, close: bool) -> Self {
        Self { opts: Opts::new(opts, true), close }
    }
}

impl Body for DisconnectBody {}

/// `FetchSockets`: request `requestId`, for the sockets of `opts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchBody {
    /// Which sockets.
    pub(crate) opts: Opts,
    /// The request.
    pub(crate) request_id: String,
}

impl FetchBody {
    /// Request `id`: the sockets of `opts`.
    pub(crate) fn new(opts: &BroadcastOptions, id: &str) -> Self {
        Self { opts: Opts::new(opts, true), request_id: id.to_owned() }
    }
}

impl Body for FetchBody {}

/// `FetchSocketsResponse`: a node's sockets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchResponseBody {
    /// The request answered.
    pub(crate) request_id: String,
    /// The sockets.
    #[serde(default)]
    pub(crate) sockets: Sockets,
}

impl FetchResponseBody {
    /// The answer to request `id`.
    pub(crate) fn new(id: &str, sockets: Vec<SocketInfo>) -> Self {
        Self { request_id: id.to_owned(), sockets: Sockets(sockets) }
    }
}

impl Body for FetchResponseBody {}

/// `ServerSideEmit`: an event for the other servers; with a request id when the sender
/// waits for answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmitBody {
    /// Set when the sender waits for answers.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub(crate) request_id: Option<String>,
    /// The event name and arguments.
    pub(crate) packet: Args,
}

impl EmitBody {
    /// The event `args` (name first); with an `id` when answers are awaited.
    pub(crate) fn new(id: Option<&str>, args: &Payload) -> Self {
        Self { request_id: id.map(str::to_owned), packet: Args::of(args) }
    }
}

impl Body for EmitBody {
    fn has_binary(&self) -> bool {
        self.packet.has_binary()
    }
}

/// `ServerSideEmitResponse` and `BroadcastAck`: a reply's value (none: no `packet`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplyBody {
    /// The request answered.
    pub(crate) request_id: String,
    /// The reply's first argument.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub(crate) packet: Option<Mp>,
}

impl ReplyBody {
    /// The answer to request `id`: `value`.
    pub(crate) fn new(id: &str, value: Option<Mp>) -> Self {
        Self { request_id: id.to_owned(), packet: value }
    }
}

impl Body for ReplyBody {
    fn has_binary(&self) -> bool {
        self.packet.as_ref().is_some_and(crate::codec::has_binary)
    }
}

/// `BroadcastClientCount`: how many sockets of the node a broadcast with acks reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientCountBody {
    /// The request answered.
    pub(crate) request_id: String,
    /// The number of sockets.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) client_count: usize,
}

impl ClientCountBody {
    /// The answer to request `id`.
    pub(crate) fn new(id: &str, client_count: usize) -> Self {
        Self { request_id: id.to_owned(), client_count }
    }
}

impl Body for ClientCountBody {}
