//! The classic adapter's messages (Node's `createAdapter`): broadcasts on `‹key›#‹nsp›#`
//! (MessagePack arrays), requests on `‹key›-request#‹nsp›#` and responses on
//! `‹key›-response#‹nsp›#` (JSON, or MessagePack for those that carry a packet; JSON ones
//! with sorted keys, see [`to_sorted_json`]).

use rmpv::Value as Mp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sio_core::Room;
use sio_core::adapter::{BroadcastOptions, Payload};

use super::{
    Args, DecodeError, Opts, Packet, Rooms, Sockets, decode, from_mp, lenient, present, room, to_json,
    to_msgpack, to_sorted_json,
};
use crate::codec;

message_types! {
    /// Node's `RequestType`: what a request, or a response that says, is.
    RequestType {
        /// The ids of the sockets in some rooms (legacy).
        Sockets = 0,
        /// Every room (legacy).
        AllRooms = 1,
        /// Sockets join rooms.
        RemoteJoin = 2,
        /// Sockets leave rooms.
        RemoteLeave = 3,
        /// Sockets are disconnected.
        RemoteDisconnect = 4,
        /// `fetchSockets`.
        RemoteFetch = 5,
        /// A server-side event, and the answer to one with an ack.
        ServerSideEmit = 6,
        /// A broadcast with acks.
        Broadcast = 7,
        /// How many sockets a node sent a broadcast with acks to.
        BroadcastClientCount = 8,
        /// One socket's reply to a broadcast with acks.
        BroadcastAck = 9,
    }
}

/// A broadcast, `[uid, packet, opts]` in MessagePack, on `‹key›#‹nsp›#` (to a single
/// room: `‹key›#‹nsp›#‹room›#`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Broadcast(
    /// The sender's uid (read as `None` when not a string).
    pub(crate) Option<String>,
    /// The packet, with `nsp`.
    pub(crate) Packet,
    /// Rooms, except and flags (no timeout).
    pub(crate) Opts,
);

impl Broadcast {
    /// `packet` from the node `uid` to the sockets `opts` selects in namespace `nsp`.
    pub(crate) fn new(uid: &str, nsp: &str, packet: &Payload, opts: &BroadcastOptions) -> Self {
        Self(Some(uid.to_owned()), Packet::event(packet, Some(nsp)), Opts::new(opts, false))
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_msgpack(self)
    }

    /// Reads a broadcast; parts after the third are ignored, options that are not a map
    /// select every socket.
    pub(crate) fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let parts: Vec<Mp> = decode(payload)?;
        let mut parts = parts.into_iter();
        let (Some(uid), Some(packet), Some(opts)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DecodeError::Syntax);
        };
        Ok(Self(from_mp(uid).ok(), from_mp(packet)?, from_mp(opts).unwrap_or_default()))
    }
}

/// A request as received (JSON or MessagePack): every request type's fields, each
/// optional; which ones count depends on `type`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request {
    /// What is asked.
    #[serde(rename = "type")]
    pub(crate) kind: RequestType,
    /// The requesting node.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) uid: Option<String>,
    /// Set when the requester waits for answers.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) request_id: Option<String>,
    /// Which sockets (join, leave, disconnect, fetch, broadcast); absent in the legacy
    /// forms, which name one socket (`sid`).
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) opts: Option<Opts>,
    /// The rooms to join or leave (legacy `Sockets`: the rooms to list).
    #[serde(default)]
    pub(crate) rooms: Rooms,
    /// Legacy join, leave and disconnect: the socket.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) sid: Option<String>,
    /// Legacy join and leave: the room.
    #[serde(default, deserialize_with = "room")]
    pub(crate) room: Option<Room>,
    /// Disconnect: close the underlying connection too.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) close: bool,
    /// Server-side event: its name and arguments.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) data: Option<Args>,
    /// Broadcast with acks: the packet.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) packet: Option<Packet>,
}

/// `{rooms, except}`: which sockets, in the JSON requests (which carry no flags).
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Selection {
    rooms: Rooms,
    except: Rooms,
}

impl Selection {
    fn new(opts: &BroadcastOptions) -> Self {
        Self { rooms: Rooms::new(&opts.rooms), except: Rooms::deduped(&opts.except) }
    }
}

/// A broadcast with acks, on the request channel (MessagePack).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BroadcastRequest {
    uid: String,
    request_id: String,
    #[serde(rename = "type")]
    kind: RequestType,
    packet: Packet,
    opts: Opts,
}

impl BroadcastRequest {
    /// Request `id` of node `uid`: `packet` to the sockets of `opts` in namespace `nsp`.
    pub(crate) fn new(uid: &str, id: &str, nsp: &str, packet: &Payload, opts: &BroadcastOptions) -> Self {
        Self {
            uid: uid.to_owned(),
            request_id: id.to_owned(),
            kind: RequestType::Broadcast,
            packet: Packet::event(packet, Some(nsp)),
            opts: Opts::new(opts, true),
        }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_msgpack(self)
    }
}

/// `socketsJoin` / `socketsLeave` (JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RoomsRequest {
    uid: String,
    #[serde(rename = "type")]
    kind: RequestType,
    opts: Selection,
    rooms: Rooms,
}

impl RoomsRequest {
    /// The sockets of `opts` join (`join`) or leave `rooms`.
    pub(crate) fn new(uid: &str, join: bool, opts: &BroadcastOptions, rooms: &[Room]) -> Self {
        let kind = if join { RequestType::RemoteJoin } else { RequestType::RemoteLeave };
        Self { uid: uid.to_owned(), kind, opts: Selection::new(opts), rooms: Rooms::new(rooms) }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_sorted_json(self)
    }
}

/// `disconnectSockets` (JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DisconnectRequest {
    uid: String,
    #[serde(rename = "type")]
    kind: RequestType,
    opts: Selection,
    close: bool,
}

impl DisconnectRequest {
    /// The sockets of `opts` are disconnected (their connection closed too if `close`).
    pub(crate) fn new(uid: &str, opts: &BroadcastOptions, close: bool) -> Self {
        Self { uid: uid.to_owned(), kind: RequestType::RemoteDisconnect, opts: Selection::new(opts), close }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_sorted_json(self)
    }
}

/// `fetchSockets` (JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchRequest {
    uid: String,
    request_id: String,
    #[serde(rename = "type")]
    kind: RequestType,
    opts: Selection,
}

impl FetchRequest {
    /// Request `id` of node `uid`: the sockets of `opts`.
    pub(crate) fn new(uid: &str, id: &str, opts: &BroadcastOptions) -> Self {
        Self {
            uid: uid.to_owned(),
            request_id: id.to_owned(),
            kind: RequestType::RemoteFetch,
            opts: Selection::new(opts),
        }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_sorted_json(self)
    }
}

/// A server-side event (JSON, in this key order; the arguments as [`json_args`] writes
/// them).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmitRequest {
    uid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    #[serde(rename = "type")]
    kind: RequestType,
    data: Box<RawValue>,
}

impl EmitRequest {
    /// The event `args` (name first) from node `uid`; with an `id` when it waits for
    /// answers. `None` (logged) if `args` is not JSON.
    pub(crate) fn new(uid: &str, id: Option<&str>, args: &Payload) -> Option<Self> {
        let data = RawValue::from_string(json_args(args))
            .map_err(
                |e| tracing::error!(error = %e, "redis adapter: server-side event arguments are not JSON"),
            )
            .ok()?;
        Some(Self {
            uid: uid.to_owned(),
            request_id: id.map(str::to_owned),
            kind: RequestType::ServerSideEmit,
            data,
        })
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_json(self)
    }
}

/// The JSON array of a payload as text: as it is when it has no attachments; otherwise
/// with binary values as Node's JSON form of a `Buffer` (`{"type":"Buffer","data":[..]}`),
/// as Node's adapter sends them in JSON requests. Keys keep their order.
fn json_args(args: &Payload) -> String {
    codec::payload_to_json_with_buffers(args)
}

/// The answer to a legacy `Sockets` request or to `fetchSockets` (JSON): `sockets` is the
/// ids, or the [`Sockets`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SocketsResponse<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    sockets: T,
}

impl<T: Serialize> SocketsResponse<T> {
    /// The answer to request `id`.
    pub(crate) fn new(id: Option<&str>, sockets: T) -> Self {
        Self { request_id: id.map(str::to_owned), sockets }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_sorted_json(self)
    }
}

/// The answer to a legacy `AllRooms` request (JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoomsResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    rooms: Vec<String>,
}

impl RoomsResponse {
    /// The answer to request `id`.
    pub(crate) fn new(id: Option<&str>, rooms: Vec<String>) -> Self {
        Self { request_id: id.map(str::to_owned), rooms }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_sorted_json(self)
    }
}

/// The answer to a legacy join, leave or disconnect by the socket's node: done (JSON,
/// `{}` plus the request id).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DoneResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl DoneResponse {
    /// The answer to request `id`.
    pub(crate) fn new(id: Option<&str>) -> Self {
        Self { request_id: id.map(str::to_owned) }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_sorted_json(self)
    }
}

/// This node's answer to a server-side event with ack (JSON; no `data` when the reply has
/// no value).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmitResponse {
    #[serde(rename = "type")]
    kind: RequestType,
    request_id: String,
    /// The reply's first value as it was written (its keys in their order).
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Box<RawValue>>,
}

impl EmitResponse {
    /// The answer to request `id`: the first value of `reply`.
    pub(crate) fn new(id: &str, reply: &Payload) -> Self {
        let data = serde_json::from_slice::<Vec<Box<RawValue>>>(&reply.data)
            .ok()
            .and_then(|mut v| (!v.is_empty()).then(|| v.swap_remove(0)));
        Self { kind: RequestType::ServerSideEmit, request_id: id.to_owned(), data }
    }

    /// The bytes to publish: `type`, `requestId`, then the reply unchanged.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_json(self)
    }
}

/// How many sockets of this node a broadcast with acks reached (JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientCountResponse {
    #[serde(rename = "type")]
    kind: RequestType,
    request_id: String,
    client_count: usize,
}

impl ClientCountResponse {
    /// The answer to request `id`.
    pub(crate) fn new(id: &str, client_count: usize) -> Self {
        Self { kind: RequestType::BroadcastClientCount, request_id: id.to_owned(), client_count }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_sorted_json(self)
    }
}

/// One socket's reply to a broadcast with acks (MessagePack; no `packet` when the reply
/// has no value).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AckResponse {
    #[serde(rename = "type")]
    kind: RequestType,
    request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    packet: Option<Mp>,
}

impl AckResponse {
    /// The answer to request `id`: `value`, the reply's first argument.
    pub(crate) fn new(id: &str, value: Option<Mp>) -> Self {
        Self { kind: RequestType::BroadcastAck, request_id: id.to_owned(), packet: value }
    }

    /// The bytes to publish.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        to_msgpack(self)
    }
}

/// A response as received (JSON or MessagePack): every response's fields, each optional;
/// which ones count depends on the request it answers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response {
    /// Set by the answers to server-side events and broadcasts with acks.
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub(crate) kind: Option<RequestType>,
    /// The request answered.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) request_id: Option<String>,
    /// `fetchSockets`: the node's sockets.
    #[serde(default)]
    pub(crate) sockets: Sockets,
    /// Server-side event: the reply's value.
    #[serde(default, deserialize_with = "present")]
    pub(crate) data: Option<Mp>,
    /// Broadcast with acks: how many sockets the node sent it to.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) client_count: usize,
    /// Broadcast with acks: one socket's reply value.
    #[serde(default, deserialize_with = "present")]
    pub(crate) packet: Option<Mp>,
}
