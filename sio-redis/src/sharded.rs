//! One namespace's side of the cluster in sharded mode: the messages of Node's
//! `createShardedAdapter` (`@socket.io/redis-adapter` 8.x over socket.io-adapter's
//! `ClusterAdapter`), sent and received over Redis 7 sharded pub/sub.
//!
//! Every message is `{type, data, uid, nsp}` (JSON, or MessagePack when `data` holds
//! binary). Requests and broadcasts go on `‹key›#‹nsp›#` (or, for a broadcast to one room in
//! the dynamic modes, `‹key›#‹nsp›#‹room›#`); answers go on the requester's own
//! `‹key›#‹nsp›#‹uid›#`. Unlike the classic adapter, operations are applied locally by the
//! sender (as sio does anyway) and every node ignores its own messages.
//!
//! The Redis Streams adapter (`streams.rs`) shares all of this: its requests and answers
//! travel the same channels (always MessagePack, as Node's streams adapter reads them), and
//! what must not be lost goes to its stream instead of a channel.

use std::sync::{Arc, Weak};
use std::time::Duration;

use rand::Rng as _;
use rmpv::Value as Mp;
use sio_core::Room;
use sio_core::adapter::{
    AdapterFuture, BroadcastOptions, LocalNamespace, NamespaceAdapter, Payload, RemoteAck, RestoredSession,
    ServerAck, SessionState, SocketInfo,
};
use tokio::sync::mpsc;

use crate::config::SubscriptionMode;
use crate::requests::{self, Answer, Requests, Waiter};
use crate::shared::Shared;
use crate::streams::{self, Entry, Streams};
use crate::wire::sharded::{
    Body, BroadcastBody, ClientCountBody, DisconnectBody, EmitBody, FetchBody, FetchResponseBody, Message,
    MessageType, ReplyBody, RoomsBody,
};
use crate::wire::{self, Args, DecodeError, from_mp};

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
    /// This node's requests (its nodes: the listeners of `channel`).
    requests: Arc<Requests>,
    /// The streams adapter's state and this namespace's stream; `None` in sharded mode.
    streams: Option<(Arc<Streams>, String)>,
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
    /// A namespace of the sharded adapter in `mode`, or of the streams adapter (`streams`,
    /// where `mode` is static: no room channels).
    pub(crate) fn new(
        shared: Arc<Shared>,
        local: LocalNamespace,
        mode: SubscriptionMode,
        streams: Option<Arc<Streams>>,
    ) -> Arc<Self> {
        let channel = format!("{}#{}#", shared.config.key, local.path());
        let uid = random_id();
        let requests = Requests::new(shared.clone(), channel.clone(), random_id);
        let streams = streams.map(|s| {
            let name = streams::stream_of(&s.config, local.path());
            (s, name)
        });
        let ns = Arc::new_cyclic(|me| Self {
            streams,
            me: me.clone(),
            response_channel: format!("{channel}{uid}#"),
            channel,
            uid,
            local,
            shared,
            mode,
            requests,
        });
        if let Some((streams, name)) = &ns.streams {
            streams.add(ns.local.path(), name, &ns);
        }
        ns
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

    /// The bytes of a message of this node (always MessagePack for the streams adapter).
    fn encode(&self, kind: MessageType, data: impl Body) -> Option<Vec<u8>> {
        let message = Message::new(kind, data, &self.uid, self.local.path());
        if self.streams.is_some() { wire::to_msgpack(&message) } else { message.encode() }
    }

    /// Sends what must reach every node even across a Redis disconnection: appended to the
    /// stream by the streams adapter (a packet in `then` then delivered here with its id),
    /// published on the namespace channel in sharded mode.
    fn publish_durable<D: Body>(
        &self,
        kind: MessageType,
        data: D,
        then: Option<(Payload, BroadcastOptions)>,
    ) {
        let Some((streams, name)) = &self.streams else {
            self.publish(kind, data);
            return;
        };
        let Some(entry) =
            Entry::new(kind, &data, &self.uid, self.local.path(), streams.config.only_plaintext)
        else {
            if let Some((packet, opts)) = then {
                self.local.broadcast(&packet, &opts);
            }
            return;
        };
        streams.append(name, entry, then.map(|(packet, opts)| (self.local.clone(), packet, opts)));
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
            self.on_cluster_message(message, None)
        };
        if let Err(e) = read {
            tracing::debug!(channel, ?kind, error = %e, "redis adapter: malformed message ignored");
        }
    }

    /// An entry of the streams adapter's stream, `id` being its offset.
    pub(crate) fn on_stream_entry(self: &Arc<Self>, id: &str, entry: Entry) {
        if entry.uid == self.uid {
            return;
        }
        let read = entry.message_type().and_then(|kind| {
            let data = entry.body()?;
            let message = Message { kind, data, uid: Some(entry.uid), nsp: Some(entry.nsp) };
            self.on_cluster_message(message, Some(id))
        });
        if let Err(e) = read {
            tracing::debug!(id, error = %e, "redis streams adapter: malformed entry ignored");
        }
    }

    /// A message for the whole cluster; `offset`: its stream id (streams adapter).
    fn on_cluster_message(
        self: &Arc<Self>,
        message: Message,
        offset: Option<&str>,
    ) -> Result<(), DecodeError> {
        let Message { kind, data, uid: from, nsp } = message;
        if from.as_deref() == Some(self.uid.as_str()) || nsp.as_deref() != Some(self.local.path()) {
            return Ok(());
        }
        let from = from.as_deref();
        match kind {
            MessageType::Broadcast => from_mp(data).map(|b| self.on_broadcast(from, b, offset)),
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
            // Heartbeats and ADAPTER_CLOSE belong to adapters with heartbeats (PostgreSQL);
            // Node's sharded and streams adapters neither send nor read them.
            _ => Ok(()),
        }
    }

    fn on_broadcast(self: &Arc<Self>, from: Option<&str>, body: BroadcastBody, offset: Option<&str>) {
        let mut opts = body.opts.options();
        let payload = body.packet.data.payload();
        let Some(id) = body.request_id else {
            opts.timeout = None;
            match offset {
                Some(offset) => self.local.broadcast_with_offset(&payload, &opts, offset),
                None => self.local.broadcast(&payload, &opts),
            };
            return;
        };
        let Some(from) = from else { return };
        // Unlike the classic adapter, flags (volatile) apply to ack broadcasts too; the
        // timeout bounds how long this node relays replies.
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let acks = self.local.broadcast_with_ack(&payload, &opts);
        self.respond(from, MessageType::BroadcastClientCount, ClientCountBody::new(&id, acks.count()));
        let (this, from) = (self.clone(), from.to_owned());
        requests::relay_replies(acks, timeout, move |value| {
            this.respond(&from, MessageType::BroadcastAck, ReplyBody::new(&id, value));
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
        let (id, answer) = match kind {
            MessageType::FetchSocketsResponse => {
                let body: FetchResponseBody = from_mp(data)?;
                (body.request_id, Answer::Sockets(body.sockets.0))
            }
            MessageType::ServerSideEmitResponse => {
                let body: ReplyBody = from_mp(data)?;
                (body.request_id, Answer::Reply(Args::one(Some(body.packet.unwrap_or(Mp::Nil))).payload()))
            }
            MessageType::BroadcastClientCount => {
                let body: ClientCountBody = from_mp(data)?;
                (body.request_id, Answer::Ack(RemoteAck::ClientCount(body.client_count)))
            }
            MessageType::BroadcastAck => {
                let body: ReplyBody = from_mp(data)?;
                (body.request_id, Answer::Ack(RemoteAck::Reply(Args::one(body.packet).payload())))
            }
            other => {
                tracing::debug!(kind = ?other, "redis adapter: a request on the response channel ignored");
                return Ok(());
            }
        };
        self.requests.answer(&id, |_| Some(answer));
        Ok(())
    }
}

impl NamespaceAdapter for ShardedNamespace {
    fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) {
        if opts.local {
            return;
        }
        if self.streams.is_some() {
            self.publish_durable(MessageType::Broadcast, BroadcastBody::new(packet, None, opts), None);
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
        self.requests.broadcast_with_ack(opts.timeout, |id| {
            // Always on the namespace channel: every node answers with its count.
            self.publish(MessageType::Broadcast, BroadcastBody::new(packet, Some(id), opts));
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.publish_durable(MessageType::SocketsJoin, RoomsBody::new(opts, rooms), None);
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.publish_durable(MessageType::SocketsLeave, RoomsBody::new(opts, rooms), None);
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.publish_durable(MessageType::DisconnectSockets, DisconnectBody::new(opts, close), None);
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let opts = opts.clone();
        Box::pin(async move {
            let answers = this.requests.ask(Waiter::Sockets, timeout, |id| {
                this.publish(MessageType::FetchSockets, FetchBody::new(&opts, id));
            });
            Ok(answers.await?.into_iter().flatten().collect())
        })
    }

    fn server_side_emit(&self, args: &Payload) {
        self.publish(MessageType::ServerSideEmit, EmitBody::new(None, args));
    }

    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let args = args.clone();
        Box::pin(async move {
            let answers = this.requests.ask(Waiter::Replies, timeout, |id| {
                this.publish(MessageType::ServerSideEmit, EmitBody::new(Some(id), &args));
            });
            answers.await
        })
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        let requests = self.requests.clone();
        Box::pin(async move { requests.server_count().await })
    }

    fn logs_packets(&self) -> bool {
        self.streams.is_some()
    }

    fn publish_logged(&self, packet: &Payload, opts: &BroadcastOptions) {
        let body = BroadcastBody::new(packet, None, opts);
        self.publish_durable(MessageType::Broadcast, body, Some((packet.clone(), opts.clone())));
    }

    fn persist_session(&self, session: &SessionState, ttl: Duration) {
        if let Some((streams, _)) = &self.streams {
            streams.persist(session, ttl);
        }
    }

    fn restore_session(&self, pid: &str, offset: &str) -> Option<AdapterFuture<Option<RestoredSession>>> {
        let (streams, name) = self.streams.clone()?;
        let (nsp, pid, offset) = (self.local.path().to_owned(), pid.to_owned(), offset.to_owned());
        Some(Box::pin(async move { streams.restore(&name, &nsp, &pid, &offset).await }))
    }

    fn close(&self) {
        if let Some((streams, _)) = &self.streams {
            streams.remove(self.local.path());
        }
        let owner = std::ptr::from_ref(self).cast();
        self.shared.conns.unsubscribe(&self.shared.channels_of(owner));
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
