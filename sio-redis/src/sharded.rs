//! One namespace's side of the cluster in sharded mode: the messages of Node's
//! `createShardedAdapter` (`@socket.io/redis-adapter` 8.x over socket.io-adapter's
//! `ClusterAdapter`), sent and received over Redis 7 sharded pub/sub.
//!
//! Every message is `{type, data, uid, nsp}` (JSON, or MessagePack when `data` holds
//! binary). Requests and broadcasts go on `‹key›#‹nsp›#` (or, for a broadcast to one room in
//! the dynamic modes, `‹key›#‹nsp›#‹room›#`); answers go on the requester's own
//! `‹key›#‹nsp›#‹uid›#`. Unlike the classic adapter, operations are applied locally by the
//! sender (as sio does anyway) and every node ignores its own messages.

use std::sync::{Arc, Weak};
use std::time::Duration;

use rand::Rng as _;
use rmpv::Value as Mp;
use sio_core::Room;
use sio_core::adapter::{
    AdapterFuture, BroadcastOptions, LocalNamespace, NamespaceAdapter, Payload, RemoteAck, ServerAck,
    SocketInfo,
};
use tokio::sync::mpsc;

use crate::config::SubscriptionMode;
use crate::requests::{self, Answer, Requests, Waiter};
use crate::shared::Shared;
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
        let requests = Requests::new(shared.clone(), channel.clone(), random_id);
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            response_channel: format!("{channel}{uid}#"),
            channel,
            uid,
            local,
            shared,
            mode,
            requests,
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

    fn close(&self) {
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
