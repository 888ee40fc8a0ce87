//! One namespace's side of the cluster in sharded mode: the messages of Node's
//! `createShardedAdapter` (`@socket.io/redis-adapter` 8.x over socket.io-adapter's
//! `ClusterAdapter`), sent and received over Redis 7 sharded pub/sub.
//!
//! Every message is `{type, data, uid, nsp}` (JSON, or MessagePack when `data` holds
//! binary). Requests and broadcasts go on `‹key›#‹nsp›#` (or, for a broadcast to one room in
//! the dynamic modes, `‹key›#‹nsp›#‹room›#`); answers go on the requester's own
//! `‹key›#‹nsp›#‹uid›#`. Unlike the classic adapter, operations are applied locally by the
//! sender (as sio does anyway) and every node ignores its own messages.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use rand::Rng as _;
use rmpv::Value as Mp;
use sio_core::Room;
use sio_core::adapter::{
    AdapterError, AdapterFuture, BroadcastOptions, LocalNamespace, NamespaceAdapter, Payload, RemoteAck,
    ServerAck, SocketInfo,
};
use tokio::sync::mpsc;

use crate::codec::{self, get};
use crate::gather;
use crate::ns::{Pending, decode_any, first_arg, options_mp, options_of, rooms_of, sockets_of, str_of};
use crate::{Shared, SubscriptionMode};

/// socket.io-adapter's `MessageType` (1, 2 and 13 belong to adapters with heartbeats).
mod kind {
    pub(super) const BROADCAST: u64 = 3;
    pub(super) const SOCKETS_JOIN: u64 = 4;
    pub(super) const SOCKETS_LEAVE: u64 = 5;
    pub(super) const DISCONNECT_SOCKETS: u64 = 6;
    pub(super) const FETCH_SOCKETS: u64 = 7;
    pub(super) const FETCH_SOCKETS_RESPONSE: u64 = 8;
    pub(super) const SERVER_SIDE_EMIT: u64 = 9;
    pub(super) const SERVER_SIDE_EMIT_RESPONSE: u64 = 10;
    pub(super) const BROADCAST_CLIENT_COUNT: u64 = 11;
    pub(super) const BROADCAST_ACK: u64 = 12;
}

pub(crate) struct ShardedNamespace {
    me: Weak<ShardedNamespace>,
    shared: Arc<Shared>,
    local: LocalNamespace,
    mode: SubscriptionMode,
    uid: String,
    /// `key#nsp#`: every node listens; room channels append `room#`.
    channel: String,
    /// `key#nsp#uid#`: answers to this node's requests.
    response_channel: String,
    pending: Mutex<HashMap<String, Pending>>,
}

/// 16 lowercase hex digits, like Node's `randomBytes(8).toString("hex")`.
fn random_id() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

/// A `{key: value}` map in this key order.
fn map<const N: usize>(fields: [(&str, Mp); N]) -> Mp {
    Mp::Map(fields.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

/// JavaScript's `room.length === 20`: what Node's dynamic mode takes for a socket id.
fn looks_like_a_socket_id(room: &str) -> bool {
    room.encode_utf16().count() == 20
}

impl ShardedNamespace {
    pub(crate) fn new(shared: Arc<Shared>, local: LocalNamespace, mode: SubscriptionMode) -> Arc<Self> {
        let channel = format!("{}#{}#", shared.config.key, local.path());
        let uid = random_id();
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            response_channel: format!("{channel}{uid}#"),
            channel,
            uid,
            local,
            shared,
            mode,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// The channels every node subscribes to for this namespace.
    pub(crate) fn channels(&self) -> Vec<String> {
        vec![self.channel.clone(), self.response_channel.clone()]
    }

    fn room_channel(&self, room: &str) -> String {
        format!("{}{room}#", self.channel)
    }

    /// Whether this node listens to the channel of `room` (Node's `shouldUseASeparateNamespace`).
    fn listens_to_room(&self, private: bool) -> bool {
        match self.mode {
            SubscriptionMode::Static => false,
            SubscriptionMode::Dynamic => !private,
            SubscriptionMode::DynamicPrivate => true,
        }
    }

    /// `{type, data, uid, nsp}`, as MessagePack when `data` holds binary, else as JSON.
    fn encode(&self, kind: u64, data: Mp) -> Vec<u8> {
        let binary = codec::has_binary(&data);
        let message = map([
            ("type", Mp::from(kind)),
            ("data", data),
            ("uid", Mp::from(self.uid.as_str())),
            ("nsp", Mp::from(self.local.path())),
        ]);
        if binary { codec::encode(&message) } else { codec::to_json(&message) }
    }

    /// Publishes on the namespace channel.
    fn publish(&self, kind: u64, data: Mp) {
        self.shared.conns.publish(self.channel.clone(), self.encode(kind, data));
    }

    /// Answers the node `to` on its own channel.
    fn respond(&self, to: &str, kind: u64, data: Mp) {
        self.shared.conns.publish(format!("{}{to}#", self.channel), self.encode(kind, data));
    }

    async fn server_count_inner(&self) -> Result<usize, AdapterError> {
        self.shared.conns.numsub(&self.channel).await.map_err(AdapterError::unavailable)
    }

    fn new_request_id(&self, pending: impl FnOnce() -> Pending) -> String {
        let mut table = self.pending.lock();
        loop {
            let id = random_id();
            if !table.contains_key(&id) {
                table.insert(id.clone(), pending());
                return id;
            }
        }
    }

    fn forget(&self, request_id: &str) {
        self.pending.lock().remove(request_id);
    }

    // ---- receiving ----

    pub(crate) fn on_message(self: &Arc<Self>, channel: &str, payload: &[u8]) {
        let Some(message) = decode_any(payload) else {
            tracing::debug!(channel, "redis adapter: undecodable message ignored");
            return;
        };
        if channel == self.response_channel {
            self.on_response(&message);
        } else {
            self.on_cluster_message(&message);
        }
    }

    fn on_cluster_message(self: &Arc<Self>, message: &Mp) {
        let from = str_of(message, "uid");
        if from == Some(self.uid.as_str()) || str_of(message, "nsp") != Some(self.local.path()) {
            return;
        }
        let (Some(kind), Some(data)) = (get(message, "type").and_then(Mp::as_u64), get(message, "data"))
        else {
            tracing::debug!("redis adapter: message without type or data ignored");
            return;
        };
        let opts = get(data, "opts").map(options_of);
        match kind {
            kind::BROADCAST => self.on_broadcast(from, data),
            kind::SOCKETS_JOIN | kind::SOCKETS_LEAVE => {
                let Some(opts) = opts else { return };
                let rooms = rooms_of(get(data, "rooms"));
                if kind == kind::SOCKETS_JOIN {
                    self.local.add_sockets(&opts, &rooms);
                } else {
                    self.local.del_sockets(&opts, &rooms);
                }
            }
            kind::DISCONNECT_SOCKETS => {
                let Some(opts) = opts else { return };
                let close = get(data, "close").and_then(Mp::as_bool).unwrap_or(false);
                self.local.disconnect_sockets(&opts, close);
            }
            kind::FETCH_SOCKETS => {
                let (Some(opts), Some(id), Some(from)) = (opts, get(data, "requestId"), from) else { return };
                let sockets = self.local.fetch_sockets(&opts).into_iter().map(socket_mp).collect();
                let data = map([("requestId", id.clone()), ("sockets", Mp::Array(sockets))]);
                self.respond(from, kind::FETCH_SOCKETS_RESPONSE, data);
            }
            kind::SERVER_SIDE_EMIT => self.on_server_side_emit(from, data),
            kind::FETCH_SOCKETS_RESPONSE
            | kind::SERVER_SIDE_EMIT_RESPONSE
            | kind::BROADCAST_CLIENT_COUNT
            | kind::BROADCAST_ACK => self.on_response(message),
            other => tracing::debug!(kind = other, "redis adapter: unknown message type ignored"),
        }
    }

    fn on_broadcast(self: &Arc<Self>, from: Option<&str>, data: &Mp) {
        let (Some(packet), Some(opts)) = (get(data, "packet"), get(data, "opts")) else { return };
        let Some(args @ Mp::Array(_)) = get(packet, "data") else { return };
        let mut opts = options_of(opts);
        let payload = codec::mp_to_payload(args);
        let Some(id) = get(data, "requestId") else {
            opts.timeout = None;
            self.local.broadcast(&payload, &opts);
            return;
        };
        let Some(from) = from else { return };
        // Unlike the classic adapter, flags (volatile) apply to ack broadcasts too; the
        // timeout bounds how long this node relays replies.
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let mut acks = self.local.broadcast_with_ack(&payload, &opts);
        let count = Mp::from(acks.count());
        self.respond(
            from,
            kind::BROADCAST_CLIENT_COUNT,
            map([("requestId", id.clone()), ("clientCount", count)]),
        );
        if acks.count() == 0 {
            return;
        }
        let (this, from, id) = (self.clone(), from.to_owned(), id.clone());
        tokio::spawn(async move {
            let relay = async {
                while let Some((_, reply)) = acks.next().await {
                    let mut fields = vec![(Mp::from("requestId"), id.clone())];
                    // Only the first argument travels; none: no `packet` key.
                    if let Some(value) = first_arg(&reply) {
                        fields.push((Mp::from("packet"), value));
                    }
                    this.respond(&from, kind::BROADCAST_ACK, Mp::Map(fields));
                }
            };
            let _ = tokio::time::timeout(timeout + Duration::from_secs(1), relay).await;
        });
    }

    fn on_server_side_emit(self: &Arc<Self>, from: Option<&str>, data: &Mp) {
        let Some(args @ Mp::Array(_)) = get(data, "packet") else { return };
        let ack = match (get(data, "requestId"), from) {
            (Some(id), Some(from)) => {
                let (this, from, id) = (self.clone(), from.to_owned(), id.clone());
                Some(ServerAck::new(move |reply: Payload| {
                    let mut fields = vec![(Mp::from("requestId"), id)];
                    if let Some(value) = first_arg(&reply) {
                        fields.push((Mp::from("packet"), value));
                    }
                    this.respond(&from, kind::SERVER_SIDE_EMIT_RESPONSE, Mp::Map(fields));
                }))
            }
            _ => None,
        };
        self.local.server_event(&codec::mp_to_payload(args), ack);
    }

    fn on_response(&self, response: &Mp) {
        let (Some(kind), Some(data)) = (get(response, "type").and_then(Mp::as_u64), get(response, "data"))
        else {
            return;
        };
        let Some(id) = str_of(data, "requestId") else { return };
        let table = self.pending.lock();
        let Some(pending) = table.get(id) else { return };
        match (pending, kind) {
            (Pending::Fetch(tx), kind::FETCH_SOCKETS_RESPONSE) => {
                let _ = tx.send(sockets_of(get(data, "sockets")));
            }
            (Pending::ServerSideEmit(tx), kind::SERVER_SIDE_EMIT_RESPONSE) => {
                let value = get(data, "packet").cloned().unwrap_or(Mp::Nil);
                let _ = tx.send(codec::mp_to_payload(&Mp::Array(vec![value])));
            }
            (Pending::BroadcastAck(tx), kind::BROADCAST_CLIENT_COUNT) => {
                let n = get(data, "clientCount").and_then(Mp::as_u64).unwrap_or(0);
                let _ = tx.send(RemoteAck::ClientCount(usize::try_from(n).unwrap_or(0)));
            }
            (Pending::BroadcastAck(tx), kind::BROADCAST_ACK) => {
                let args = Mp::Array(get(data, "packet").cloned().into_iter().collect());
                let _ = tx.send(RemoteAck::Reply(codec::mp_to_payload(&args)));
            }
            _ => tracing::debug!(kind, "redis adapter: response of an unexpected type ignored"),
        }
    }

    fn room_message(&self, kind: u64, opts: &BroadcastOptions, rooms: &[Room]) {
        let rooms = Mp::Array(rooms.iter().map(|r| Mp::from(r.as_str())).collect());
        self.publish(kind, map([("opts", options_mp(opts, true)), ("rooms", rooms)]));
    }
}

/// A socket of a fetch response, keys in Node's order.
fn socket_mp(info: SocketInfo) -> Mp {
    map([
        ("id", Mp::from(info.id)),
        ("handshake", codec::json_to_mp(info.handshake, &[])),
        ("rooms", Mp::Array(info.rooms.into_iter().map(Mp::from).collect())),
        ("data", codec::json_to_mp(info.data, &[])),
    ])
}

fn packet_mp(packet: &Payload) -> Mp {
    // No `nsp`: Node publishes the packet before its local broadcast sets it.
    map([("type", Mp::from(2)), ("data", codec::payload_to_mp(packet))])
}

impl NamespaceAdapter for ShardedNamespace {
    fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) {
        if opts.local {
            return;
        }
        let data = map([("packet", packet_mp(packet)), ("opts", options_mp(opts, true))]);
        // A broadcast to one room goes on that room's channel in the dynamic modes, except,
        // in `dynamic`, to what looks like a socket id (Node's `computeChannel`).
        let channel = match (self.mode, opts.rooms.as_slice()) {
            (SubscriptionMode::DynamicPrivate, [room]) => self.room_channel(room.as_str()),
            (SubscriptionMode::Dynamic, [room]) if !looks_like_a_socket_id(room.as_str()) => {
                self.room_channel(room.as_str())
            }
            _ => self.channel.clone(),
        };
        self.shared.conns.publish(channel, self.encode(kind::BROADCAST, data));
    }

    fn broadcast_with_ack(
        &self,
        packet: &Payload,
        opts: &BroadcastOptions,
    ) -> mpsc::UnboundedReceiver<RemoteAck> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (count_tx, mut count_rx) = mpsc::unbounded_channel();
        let id = self.new_request_id(|| Pending::BroadcastAck(count_tx));
        // Always on the namespace channel: every node answers with its count.
        let data = map([
            ("packet", packet_mp(packet)),
            ("requestId", Mp::from(id.as_str())),
            ("opts", options_mp(opts, true)),
        ]);
        self.publish(kind::BROADCAST, data);
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let this = self.me.upgrade();
        tokio::spawn(async move {
            let Some(this) = this else { return };
            let others = this.server_count_inner().await.map(|n| n.saturating_sub(1));
            gather::relay_acks(others, &mut count_rx, &tx, timeout).await;
            this.forget(&id);
        });
        rx
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.room_message(kind::SOCKETS_JOIN, opts, rooms);
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.room_message(kind::SOCKETS_LEAVE, opts, rooms);
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.publish(
            kind::DISCONNECT_SOCKETS,
            map([("opts", options_mp(opts, true)), ("close", Mp::from(close))]),
        );
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let opts = options_mp(opts, true);
        Box::pin(async move {
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::Fetch(tx));
            this.publish(kind::FETCH_SOCKETS, map([("opts", opts), ("requestId", Mp::from(id.as_str()))]));
            let answers = gather::answers(&mut rx, others, timeout).await;
            this.forget(&id);
            Ok(answers?.into_iter().flatten().collect())
        })
    }

    fn server_side_emit(&self, args: &Payload) {
        self.publish(kind::SERVER_SIDE_EMIT, map([("packet", codec::payload_to_mp(args))]));
    }

    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let packet = codec::payload_to_mp(args);
        Box::pin(async move {
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::ServerSideEmit(tx));
            this.publish(
                kind::SERVER_SIDE_EMIT,
                map([("requestId", Mp::from(id.as_str())), ("packet", packet)]),
            );
            let answers = gather::answers(&mut rx, others, timeout).await;
            this.forget(&id);
            answers
        })
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(1) }) };
        Box::pin(async move { this.server_count_inner().await })
    }

    fn close(&self) {
        let owner = std::ptr::from_ref(self).cast();
        let mine: Vec<String> = self
            .shared
            .routes
            .read()
            .iter()
            .filter(|(_, route)| route.owner() == owner)
            .map(|(channel, _)| channel.clone())
            .collect();
        self.shared.conns.unsubscribe(&mine);
        self.shared.remove(owner);
    }

    fn room_created(&self, room: &str, private: bool) {
        if !self.listens_to_room(private) {
            return;
        }
        if let Some(this) = self.me.upgrade() {
            self.shared.add_route(self.room_channel(room), this);
        }
    }

    fn room_deleted(&self, room: &str, private: bool) {
        if !self.listens_to_room(private) {
            return;
        }
        let channel = self.room_channel(room);
        // A room named like this node's uid shares its response channel: keep listening.
        if channel != self.response_channel {
            self.shared.remove_route(&channel, std::ptr::from_ref(self).cast());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_16_lowercase_hex_digits() {
        let id = random_id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
    }

    #[test]
    fn socket_ids_are_told_by_their_javascript_length() {
        assert!(looks_like_a_socket_id(sio_core::Sid::new().as_str()));
        assert!(!looks_like_a_socket_id("room1"));
        // 20 UTF-16 code units, not 20 bytes: "é" is one unit and two bytes.
        assert!(looks_like_a_socket_id("éééééééééééééééééééé"));
        assert!(!looks_like_a_socket_id("ééééééééééééééééééé"));
    }
}
