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

use crate::gather;
use crate::ns::Pending;
use crate::wire::sharded::{
    Body, BroadcastBody, ClientCountBody, DisconnectBody, EmitBody, FetchBody, FetchResponseBody, Message,
    MessageType, ReplyBody, RoomsBody,
};
use crate::wire::{self, Args, DecodeError, from_mp};
use crate::{Shared, SubscriptionMode};

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

    /// The bytes of a message of this node.
    fn encode(&self, kind: MessageType, data: impl Body) -> Option<Vec<u8>> {
        Message::new(kind, data, &self.uid, self.local.path()).encode()
    }

    /// Publishes on `channel` (nothing if the message could not be encoded).
    fn publish_on(&self, channel: String, kind: MessageType, data: impl Body) {
        if let Some(bytes) = self.encode(kind, data) {
            self.shared.conns.publish(channel, bytes);
        }
    }

    /// Publishes on the namespace channel.
    fn publish(&self, kind: MessageType, data: impl Body) {
        self.publish_on(self.channel.clone(), kind, data);
    }

    /// Answers the node `to` on its own channel.
    fn respond(&self, to: &str, kind: MessageType, data: impl Body) {
        self.publish_on(format!("{}{to}#", self.channel), kind, data);
    }

    async fn server_count_inner(&self) -> Result<usize, AdapterError> {
        self.shared.conns.numsub(&self.channel).await.map_err(|e| AdapterError::Unavailable(e.to_string()))
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
        let message: Message = match wire::decode(payload) {
            Ok(message) => message,
            Err(e) => {
                tracing::debug!(channel, error = %e, "redis adapter: undecodable message ignored");
                return;
            }
        };
        let kind = message.kind;
        let read = if channel == self.response_channel {
            self.on_response(kind, message.data)
        } else {
            self.on_cluster_message(message)
        };
        if let Err(e) = read {
            tracing::debug!(channel, ?kind, error = %e, "redis adapter: malformed message ignored");
        }
    }

    fn on_cluster_message(self: &Arc<Self>, message: Message) -> Result<(), DecodeError> {
        let Message { kind, data, uid: from, nsp } = message;
        if from.as_deref() == Some(self.uid.as_str()) || nsp.as_deref() != Some(self.local.path()) {
            return Ok(());
        }
        let from = from.as_deref();
        match kind {
            MessageType::Broadcast => from_mp(data).map(|b| self.on_broadcast(from, b)),
            MessageType::SocketsJoin | MessageType::SocketsLeave => from_mp(data).map(|b: RoomsBody| {
                let opts = b.opts.options();
                if kind == MessageType::SocketsJoin {
                    self.local.add_sockets(&opts, &b.rooms.0);
                } else {
                    self.local.del_sockets(&opts, &b.rooms.0);
                }
            }),
            MessageType::DisconnectSockets => from_mp(data)
                .map(|b: DisconnectBody| self.local.disconnect_sockets(&b.opts.options(), b.close)),
            MessageType::FetchSockets => from_mp(data).map(|b: FetchBody| {
                let Some(from) = from else { return };
                let sockets = self.local.fetch_sockets(&b.opts.options());
                self.respond(
                    from,
                    MessageType::FetchSocketsResponse,
                    FetchResponseBody::new(&b.request_id, sockets),
                );
            }),
            MessageType::ServerSideEmit => from_mp(data).map(|b| self.on_server_side_emit(from, b)),
            MessageType::FetchSocketsResponse
            | MessageType::ServerSideEmitResponse
            | MessageType::BroadcastClientCount
            | MessageType::BroadcastAck => self.on_response(kind, data),
        }
    }

    fn on_broadcast(self: &Arc<Self>, from: Option<&str>, body: BroadcastBody) {
        let mut opts = body.opts.options();
        let payload = body.packet.data.payload();
        let Some(id) = body.request_id else {
            opts.timeout = None;
            self.local.broadcast(&payload, &opts);
            return;
        };
        let Some(from) = from else { return };
        // Unlike the classic adapter, flags (volatile) apply to ack broadcasts too; the
        // timeout bounds how long this node relays replies.
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let mut acks = self.local.broadcast_with_ack(&payload, &opts);
        self.respond(from, MessageType::BroadcastClientCount, ClientCountBody::new(&id, acks.count()));
        if acks.count() == 0 {
            return;
        }
        let (this, from) = (self.clone(), from.to_owned());
        tokio::spawn(async move {
            let relay = async {
                while let Some(reply) = acks.next().await {
                    // Only the first argument travels; none: no `packet` key.
                    let value = Args::of(&reply.payload()).first();
                    this.respond(&from, MessageType::BroadcastAck, ReplyBody::new(&id, value));
                }
            };
            let _ = tokio::time::timeout(timeout + Duration::from_secs(1), relay).await;
        });
    }

    fn on_server_side_emit(self: &Arc<Self>, from: Option<&str>, body: EmitBody) {
        let ack = match (body.request_id, from) {
            (Some(id), Some(from)) => {
                let (this, from) = (self.clone(), from.to_owned());
                Some(ServerAck::new(move |reply: Payload| {
                    let value = Args::of(&reply).first();
                    this.respond(&from, MessageType::ServerSideEmitResponse, ReplyBody::new(&id, value));
                }))
            }
            _ => None,
        };
        self.local.server_event(&body.packet.payload(), ack);
    }

    fn on_response(&self, kind: MessageType, data: Mp) -> Result<(), DecodeError> {
        let table = self.pending.lock();
        match kind {
            MessageType::FetchSocketsResponse => {
                let body: FetchResponseBody = from_mp(data)?;
                if let Some(Pending::Fetch(tx)) = table.get(&body.request_id) {
                    let _ = tx.send(body.sockets.0);
                }
            }
            MessageType::ServerSideEmitResponse => {
                let body: ReplyBody = from_mp(data)?;
                if let Some(Pending::ServerSideEmit(tx)) = table.get(&body.request_id) {
                    let _ = tx.send(Args::one(Some(body.packet.unwrap_or(Mp::Nil))).payload());
                }
            }
            MessageType::BroadcastClientCount => {
                let body: ClientCountBody = from_mp(data)?;
                if let Some(Pending::BroadcastAck(tx)) = table.get(&body.request_id) {
                    let _ = tx.send(RemoteAck::ClientCount(body.client_count));
                }
            }
            MessageType::BroadcastAck => {
                let body: ReplyBody = from_mp(data)?;
                if let Some(Pending::BroadcastAck(tx)) = table.get(&body.request_id) {
                    let _ = tx.send(RemoteAck::Reply(Args::one(body.packet).payload().into()));
                }
            }
            other => tracing::debug!(kind = ?other, "redis adapter: response of an unexpected type ignored"),
        }
        Ok(())
    }
}

impl NamespaceAdapter for ShardedNamespace {
    fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) {
        if opts.local {
            return;
        }
        // A broadcast to one room goes on that room's channel in the dynamic modes, except,
        // in `dynamic`, to what looks like a socket id (Node's `computeChannel`).
        let channel = match (self.mode, opts.rooms.as_slice()) {
            (SubscriptionMode::DynamicPrivate, [room]) => self.room_channel(room.as_str()),
            (SubscriptionMode::Dynamic, [room]) if !looks_like_a_socket_id(room.as_str()) => {
                self.room_channel(room.as_str())
            }
            _ => self.channel.clone(),
        };
        self.publish_on(channel, MessageType::Broadcast, BroadcastBody::new(packet, None, opts));
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
        self.publish(MessageType::Broadcast, BroadcastBody::new(packet, Some(&id), opts));
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
        self.publish(MessageType::SocketsJoin, RoomsBody::new(opts, rooms));
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.publish(MessageType::SocketsLeave, RoomsBody::new(opts, rooms));
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.publish(MessageType::DisconnectSockets, DisconnectBody::new(opts, close));
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let opts = opts.clone();
        Box::pin(async move {
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::Fetch(tx));
            this.publish(MessageType::FetchSockets, FetchBody::new(&opts, &id));
            let answers = gather::answers(&mut rx, others, timeout).await;
            this.forget(&id);
            Ok(answers?.into_iter().flatten().collect())
        })
    }

    fn server_side_emit(&self, args: &Payload) {
        self.publish(MessageType::ServerSideEmit, EmitBody::new(None, args));
    }

    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let args = args.clone();
        Box::pin(async move {
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::ServerSideEmit(tx));
            this.publish(MessageType::ServerSideEmit, EmitBody::new(Some(&id), &args));
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
