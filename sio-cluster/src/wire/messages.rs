//! socket.io-adapter's `ClusterAdapter` messages: every message is `{type, data, uid, nsp}`
//! (heartbeats and `ADAPTER_CLOSE` have no `data`), written in JSON, or in MessagePack when
//! `data` holds binary.

use rmpv::Value as Mp;
use serde::{Deserialize, Serialize};
use sio_core::Room;
use sio_core::adapter::{BroadcastOptions, Payload, SocketInfo};

use super::{Args, Opts, Packet, Rooms, Sockets, lenient, present, to_json, to_msgpack};

message_types! {
    /// socket.io-adapter's `MessageType`: what a cluster message is.
    MessageType {
        /// A node starts (`ClusterAdapterWithHeartbeat`): the others answer with a heartbeat.
        InitialHeartbeat = 1,
        /// A node is alive (`ClusterAdapterWithHeartbeat`).
        Heartbeat = 2,
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
        /// A node's namespace closes (`ClusterAdapterWithHeartbeat`): forget it.
        AdapterClose = 13,
    }
}

impl MessageType {
    /// Whether this is an answer to another node's request (published with
    /// [`Transport::publish_response`](crate::Transport::publish_response)).
    pub fn is_response(self) -> bool {
        matches!(
            self,
            Self::FetchSocketsResponse
                | Self::ServerSideEmitResponse
                | Self::BroadcastClientCount
                | Self::BroadcastAck
        )
    }
}

fn nil() -> Mp {
    Mp::Nil
}

/// A received message: `{type, data, uid, nsp}`, the body as a MessagePack value, read
/// (`super::from_mp`) as the body its type calls for.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Message {
    /// What the message is.
    #[serde(rename = "type")]
    pub(crate) kind: MessageType,
    /// Its body (nil when absent: heartbeats).
    #[serde(default = "nil")]
    pub(crate) data: Mp,
    /// The sending node.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) uid: Option<String>,
    /// The namespace.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) nsp: Option<String>,
}

/// A message as it is written: `{type, data, uid, nsp}`, `data` left out when absent.
#[derive(Serialize)]
struct Written<'a> {
    #[serde(rename = "type")]
    kind: MessageType,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Mp>,
    uid: &'a str,
    nsp: &'a str,
}

/// A message this node sends, handed to the [`Transport`](crate::Transport), which writes it
/// with [`Outgoing::to_json`] or [`Outgoing::to_msgpack`] (or [`Outgoing::encode`], which
/// picks as Node's adapters do).
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    kind: MessageType,
    data: Option<Mp>,
    uid: String,
    nsp: String,
    binary: bool,
    rooms: Vec<Room>,
}

impl Outgoing {
    /// A message of type `kind` with body `data` from node `uid` in namespace `nsp`.
    pub(crate) fn new(
        kind: MessageType,
        data: Option<&dyn ErasedBody>,
        uid: &str,
        nsp: &str,
    ) -> Option<Self> {
        let (data, binary, rooms) = match data {
            Some(body) => (Some(body.to_mp()?), body.binary(), body.rooms()),
            None => (None, false, Vec::new()),
        };
        Some(Self { kind, data, uid: uid.to_owned(), nsp: nsp.to_owned(), binary, rooms })
    }

    /// What the message is.
    pub fn kind(&self) -> MessageType {
        self.kind
    }

    /// The sending node's id (`uid`).
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The namespace (`nsp`).
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// Whether binary is anywhere in the body (Node's `hasBinary`).
    pub fn has_binary(&self) -> bool {
        self.binary
    }

    /// The target rooms of a broadcast (none for other messages, and for a broadcast to every
    /// socket): for transports with a channel per room.
    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }

    fn from_emitter(kind: MessageType, data: &dyn ErasedBody, nsp: &str) -> Option<Self> {
        Self::new(kind, Some(data), crate::EMITTER_UID, nsp)
    }

    /// An emitter's broadcast of `packet` (the event name first) to the sockets of `opts`
    /// in namespace `nsp`, as Node's emitters send it (`uid` [`EMITTER_UID`](crate::EMITTER_UID),
    /// the packet's `nsp` set). `None` (logged) if it cannot be written.
    pub fn emitter_broadcast(nsp: &str, packet: &Payload, opts: &BroadcastOptions) -> Option<Self> {
        let body = BroadcastBody {
            packet: Packet::event(packet, Some(nsp)),
            request_id: None,
            opts: Opts::new(opts, false),
        };
        Self::from_emitter(MessageType::Broadcast, &body, nsp)
    }

    /// An emitter's `socketsJoin(rooms)` for the sockets of `opts`.
    pub fn emitter_sockets_join(nsp: &str, opts: &BroadcastOptions, rooms: &[Room]) -> Option<Self> {
        Self::from_emitter(MessageType::SocketsJoin, &RoomsBody::new(opts, rooms), nsp)
    }

    /// An emitter's `socketsLeave(rooms)` for the sockets of `opts`.
    pub fn emitter_sockets_leave(nsp: &str, opts: &BroadcastOptions, rooms: &[Room]) -> Option<Self> {
        Self::from_emitter(MessageType::SocketsLeave, &RoomsBody::new(opts, rooms), nsp)
    }

    /// An emitter's `disconnectSockets(close)` for the sockets of `opts`.
    pub fn emitter_disconnect_sockets(nsp: &str, opts: &BroadcastOptions, close: bool) -> Option<Self> {
        Self::from_emitter(MessageType::DisconnectSockets, &DisconnectBody::new(opts, close), nsp)
    }

    /// An emitter's `serverSideEmit` of `args` (the event name first; no acknowledgement).
    pub fn emitter_server_side_emit(nsp: &str, args: &Payload) -> Option<Self> {
        Self::from_emitter(MessageType::ServerSideEmit, &EmitBody::new(None, args), nsp)
    }

    fn written(&self) -> Written<'_> {
        Written { kind: self.kind, data: self.data.as_ref(), uid: &self.uid, nsp: &self.nsp }
    }

    /// The message in JSON (binary, if any, as arrays of numbers: check
    /// [`Outgoing::has_binary`] first). `None` (logged) if it cannot be written.
    pub fn to_json(&self) -> Option<Vec<u8>> {
        to_json(&self.written())
    }

    /// The message in MessagePack, objects as maps with string keys, binary as `bin` (as
    /// notepack.io and @msgpack/msgpack write them). `None` (logged) if it cannot be written.
    pub fn to_msgpack(&self) -> Option<Vec<u8>> {
        to_msgpack(&self.written())
    }

    /// MessagePack when the body holds binary, else JSON (as Node's Redis adapters).
    pub fn encode(&self) -> Option<Vec<u8>> {
        if self.binary { self.to_msgpack() } else { self.to_json() }
    }
}

/// A body, type erased.
pub(crate) trait ErasedBody {
    fn to_mp(&self) -> Option<Mp>;
    fn binary(&self) -> bool;
    fn rooms(&self) -> Vec<Room>;
}

impl<B: Body> ErasedBody for B {
    fn to_mp(&self) -> Option<Mp> {
        let bytes = to_msgpack(self)?;
        let mut slice = bytes.as_slice();
        rmpv::decode::read_value(&mut slice).ok()
    }

    fn binary(&self) -> bool {
        self.has_binary()
    }

    fn rooms(&self) -> Vec<Room> {
        self.target_rooms()
    }
}

/// The body of a message (`data`).
pub trait Body: Serialize {
    /// Whether binary is anywhere in it, which makes the message MessagePack.
    fn has_binary(&self) -> bool {
        false
    }

    /// The rooms a broadcast targets.
    fn target_rooms(&self) -> Vec<Room> {
        Vec::new()
    }
}

/// `Broadcast`: a packet for the sockets of `opts`; with a request id, a broadcast with
/// acks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastBody {
    /// The packet (without `nsp`: Node publishes it before its local broadcast sets it).
    pub packet: Packet,
    /// Set for a broadcast with acks.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub request_id: Option<String>,
    /// Which sockets, and the flags.
    pub opts: Opts,
}

impl BroadcastBody {
    /// `packet` to the sockets of `opts`; with acks when it has an `id`.
    pub fn new(packet: &Payload, id: Option<&str>, opts: &BroadcastOptions) -> Self {
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

    fn target_rooms(&self) -> Vec<Room> {
        self.opts.rooms.0.clone()
    }
}

/// `SocketsJoin` / `SocketsLeave`: the sockets of `opts` join or leave `rooms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomsBody {
    /// Which sockets.
    pub opts: Opts,
    /// The rooms.
    #[serde(default)]
    pub rooms: Rooms,
}

impl RoomsBody {
    /// The sockets of `opts` join or leave `rooms`.
    pub fn new(opts: &BroadcastOptions, rooms: &[Room]) -> Self {
        Self { opts: Opts::new(opts, true), rooms: Rooms::new(rooms) }
    }
}

impl Body for RoomsBody {}

/// `DisconnectSockets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisconnectBody {
    /// Which sockets.
    pub opts: Opts,
    /// Close the underlying connections too.
    #[serde(default, deserialize_with = "lenient")]
    pub close: bool,
}

impl DisconnectBody {
    /// The sockets of `opts` are disconnected (their connections closed too if `close`).
    pub fn new(opts: &BroadcastOptions, close: bool) -> Self {
        Self { opts: Opts::new(opts, true), close }
    }
}

impl Body for DisconnectBody {}

/// `FetchSockets`: request `requestId`, for the sockets of `opts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchBody {
    /// Which sockets.
    pub opts: Opts,
    /// The request.
    pub request_id: String,
}

impl FetchBody {
    /// Request `id`: the sockets of `opts`.
    pub fn new(opts: &BroadcastOptions, id: &str) -> Self {
        Self { opts: Opts::new(opts, true), request_id: id.to_owned() }
    }
}

impl Body for FetchBody {}

/// `FetchSocketsResponse`: a node's sockets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchResponseBody {
    /// The request answered.
    pub request_id: String,
    /// The sockets.
    #[serde(default)]
    pub sockets: Sockets,
}

impl FetchResponseBody {
    /// The answer to request `id`.
    pub fn new(id: &str, sockets: Vec<SocketInfo>) -> Self {
        Self { request_id: id.to_owned(), sockets: Sockets(sockets) }
    }
}

impl Body for FetchResponseBody {}

/// `ServerSideEmit`: an event for the other servers; with a request id when the sender
/// waits for answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmitBody {
    /// Set when the sender waits for answers.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub request_id: Option<String>,
    /// The event name and arguments.
    pub packet: Args,
}

impl EmitBody {
    /// The event `args` (name first); with an `id` when answers are awaited.
    pub fn new(id: Option<&str>, args: &Payload) -> Self {
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
pub struct ReplyBody {
    /// The request answered.
    pub request_id: String,
    /// The reply's first argument.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub packet: Option<Mp>,
}

impl ReplyBody {
    /// The answer to request `id`: `value`.
    pub fn new(id: &str, value: Option<Mp>) -> Self {
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
pub struct ClientCountBody {
    /// The request answered.
    pub request_id: String,
    /// The number of sockets.
    #[serde(default, deserialize_with = "lenient")]
    pub client_count: usize,
}

impl ClientCountBody {
    /// The answer to request `id`.
    pub fn new(id: &str, client_count: usize) -> Self {
        Self { request_id: id.to_owned(), client_count }
    }
}

impl Body for ClientCountBody {}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::wire::{decode, from_mp};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    }

    fn text(bytes: Option<Vec<u8>>) -> String {
        String::from_utf8(bytes.expect("encodes")).expect("utf-8")
    }

    const UID: &str = "0123456789abcdef";

    /// A broadcast with binary as Node's `@msgpack/msgpack` writes it (what the PostgreSQL
    /// adapter stores in its table): sio writes the same bytes and reads them back.
    const NODE_BINARY_BROADCAST: &str = "84a47479706503a46461746182a67061636b657482a47479706502a46461746193a3\
        62696ec40301020381a16e01a46f70747383a5726f6f6d7391a172a665786365707490a5666c61677380a375\
        6964b030313233343536373839616263646566a36e7370a12f";

    #[test]
    fn heartbeats_have_no_data() {
        for (kind, n) in
            [(MessageType::InitialHeartbeat, 1), (MessageType::Heartbeat, 2), (MessageType::AdapterClose, 13)]
        {
            let m = Outgoing::new(kind, None, UID, "/").expect("message");
            assert_eq!(text(m.to_json()), format!(r#"{{"type":{n},"uid":"{UID}","nsp":"/"}}"#));
            let back: Message = decode(&m.to_msgpack().expect("msgpack")).expect("reads");
            assert_eq!((back.kind, back.data, back.uid.as_deref()), (kind, Mp::Nil, Some(UID)));
        }
        let node: Message = decode(br#"{"type":2,"uid":"0123456789abcdef","nsp":"/"}"#).expect("reads");
        assert_eq!(node.kind, MessageType::Heartbeat);
    }

    #[test]
    fn binary_broadcasts_match_node_msgpack() {
        let packet = Payload {
            data: Bytes::from_static(br#"["bin",{"_placeholder":true,"num":0},{"n":1}]"#),
            attachments: vec![Bytes::from_static(&[1, 2, 3])],
        };
        let opts = BroadcastOptions { rooms: vec![Room::from("r")], ..Default::default() };
        let body = BroadcastBody::new(&packet, None, &opts);
        let m = Outgoing::new(MessageType::Broadcast, Some(&body), UID, "/").expect("message");
        assert!(m.has_binary());
        assert_eq!(m.rooms(), [Room::from("r")]);
        assert_eq!(m.to_msgpack().expect("msgpack"), hex(NODE_BINARY_BROADCAST));
        assert_eq!(m.encode(), m.to_msgpack());
        let back: Message = decode(&hex(NODE_BINARY_BROADCAST)).expect("reads");
        assert_eq!(back.kind, MessageType::Broadcast);
        let body: BroadcastBody = from_mp(back.data).expect("a broadcast");
        assert_eq!(body.packet.data.payload(), packet);
        assert_eq!(body.opts.options().rooms, [Room::from("r")]);
    }

    #[test]
    fn emitter_messages_carry_the_emitter_uid_and_the_packet_nsp() {
        let packet = Payload { data: Bytes::from_static(br#"["hi",1]"#), attachments: Vec::new() };
        let opts = BroadcastOptions {
            rooms: vec![Room::from("r")],
            except: vec![Room::from("x")],
            volatile: true,
            timeout: Some(Duration::from_secs(1)),
            local: false,
        };
        let m = Outgoing::emitter_broadcast("/chat", &packet, &opts).expect("message");
        assert_eq!(
            text(m.to_json()),
            r#"{"type":3,"data":{"packet":{"type":2,"data":["hi",1],"nsp":"/chat"},"opts":{"rooms":["r"],"except":["x"],"flags":{"volatile":true}}},"uid":"emitter","nsp":"/chat"}"#
        );
        let join = Outgoing::emitter_sockets_join("/", &BroadcastOptions::default(), &[Room::from("a")]);
        assert_eq!(
            text(join.expect("message").to_json()),
            r#"{"type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["a"]},"uid":"emitter","nsp":"/"}"#
        );
        let close = Outgoing::emitter_disconnect_sockets("/", &BroadcastOptions::default(), true);
        assert_eq!(
            text(close.expect("message").to_json()),
            r#"{"type":6,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"close":true},"uid":"emitter","nsp":"/"}"#
        );
        let sse = Outgoing::emitter_server_side_emit("/", &packet).expect("message");
        assert_eq!(text(sse.to_json()), r#"{"type":9,"data":{"packet":["hi",1]},"uid":"emitter","nsp":"/"}"#);
    }

    #[test]
    fn node_emitter_messages_without_nsp_read() {
        // @socket.io/postgres-emitter 0.1.1: no `nsp`, opts without flags.
        let m: Message = decode(
            br#"{"type":4,"data":{"opts":{"rooms":["r"],"except":[]},"rooms":["j"]},"uid":"emitter"}"#,
        )
        .expect("reads");
        assert_eq!((m.kind, m.nsp), (MessageType::SocketsJoin, None));
        let body: RoomsBody = from_mp(m.data).expect("rooms body");
        assert_eq!(body.rooms.0, [Room::from("j")]);
    }

    #[test]
    fn unknown_types_and_bad_shapes_are_errors_not_panics() {
        assert!(decode::<Message>(br#"{"type":99,"uid":"x"}"#).is_err());
        assert!(decode::<Message>(br#"{"type":"3"}"#).is_err());
        assert!(decode::<Message>(b"\xc1").is_err());
        let m: Message = decode(br#"{"type":3,"data":5}"#).expect("reads");
        assert!(from_mp::<BroadcastBody>(m.data).is_err());
    }
}
