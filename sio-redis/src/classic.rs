//! The classic adapter (Node's `@socket.io/redis-adapter` 8.x `createAdapter`): one
//! namespace's side of the cluster, its messages ([`crate::wire::classic`]) sent and
//! received over Redis pub/sub. Per namespace, broadcasts go on `‹key›#‹nsp›#` (to one
//! room: `‹key›#‹nsp›#‹room›#`, all of them listened to through a pattern), requests on
//! `‹key›-request#‹nsp›#`, answers on `‹key›-response#‹nsp›#` (or the requester's own
//! `‹key›-response#‹nsp›#‹uid›#`).

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

use crate::requests::{self, Answer, Expect, Requests, Waiter};
use crate::shared::Shared;
use crate::wire::classic::{
    AckResponse, Broadcast, BroadcastRequest, ClientCountResponse, DisconnectRequest, DoneResponse,
    EmitRequest, EmitResponse, FetchRequest, Request, RequestType, Response, RoomsRequest, RoomsResponse,
    SocketsResponse,
};
use crate::wire::{self, Args};

/// Which of a namespace's subscriptions a message arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Broadcast,
    Request,
    Response,
}

pub(crate) struct ClassicNamespace {
    me: Weak<ClassicNamespace>,
    shared: Arc<Shared>,
    local: LocalNamespace,
    uid: String,
    /// `key#nsp#`: broadcasts, plus `room#` for a single room.
    channel: String,
    request_channel: String,
    response_channel: String,
    /// This node's requests (its nodes: the listeners of `request_channel`).
    requests: Arc<Requests>,
}

/// Six characters of `[A-Za-z0-9-_]`, like Node's `uid2(6)`.
fn uid() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..6).map(|_| char::from(ALPHABET[rng.random_range(0..64)])).collect()
}

impl ClassicNamespace {
    pub(crate) fn new(shared: Arc<Shared>, local: LocalNamespace) -> Arc<Self> {
        let (key, nsp) = (shared.config.key.clone(), local.path().to_owned());
        let request_channel = format!("{key}-request#{nsp}#");
        let requests = Requests::new(shared.clone(), request_channel.clone(), uid);
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            uid: uid(),
            channel: format!("{key}#{nsp}#"),
            request_channel,
            response_channel: format!("{key}-response#{nsp}#"),
            local,
            shared,
            requests,
        })
    }

    fn specific_response_channel(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response_channel)
    }

    /// Every subscription of this namespace with what arrives on it.
    pub(crate) fn subscriptions(&self) -> Vec<(String, Channel)> {
        vec![
            (format!("{}*", self.channel), Channel::Broadcast),
            (self.request_channel.clone(), Channel::Request),
            (self.response_channel.clone(), Channel::Response),
            (self.specific_response_channel(&self.uid), Channel::Response),
        ]
    }

    /// (channels, patterns) to subscribe to.
    pub(crate) fn channel_lists(&self) -> (Vec<String>, Vec<String>) {
        let mut channels = Vec::new();
        let mut patterns = Vec::new();
        for (name, kind) in self.subscriptions() {
            if kind == Channel::Broadcast { patterns.push(name) } else { channels.push(name) }
        }
        (channels, patterns)
    }

    /// Publishes `message` (nothing if it could not be encoded).
    fn publish(&self, channel: String, message: Option<Vec<u8>>) {
        if let Some(bytes) = message {
            self.shared.conns.publish(channel, bytes);
        }
    }

    /// The channel a response to `request` goes to.
    fn response_to(&self, request: &Request) -> String {
        match &request.uid {
            Some(uid) if self.shared.config.publish_on_specific_response_channel => {
                self.specific_response_channel(uid)
            }
            _ => self.response_channel.clone(),
        }
    }

    // ---- receiving ----

    pub(crate) fn on_message(self: &Arc<Self>, kind: Channel, channel: &str, payload: &[u8]) {
        match kind {
            Channel::Broadcast => self.on_broadcast(channel, payload),
            Channel::Request => match wire::decode(payload) {
                Ok(request) => self.on_request(request),
                Err(e) => tracing::debug!(channel, error = %e, "redis adapter: undecodable request ignored"),
            },
            Channel::Response => match wire::decode(payload) {
                Ok(response) => self.on_response(response),
                Err(e) => tracing::debug!(channel, error = %e, "redis adapter: undecodable response ignored"),
            },
        }
    }

    fn on_broadcast(&self, channel: &str, payload: &[u8]) {
        let Some(rest) = channel.strip_prefix(self.channel.as_str()) else { return };
        // `room#` gates the message: only nodes having that room deliver it.
        let room = rest.strip_suffix('#').unwrap_or("");
        if !room.is_empty() && !self.local.has_room(room) {
            return;
        }
        let Broadcast(uid, packet, opts) = match Broadcast::decode(payload) {
            Ok(broadcast) => broadcast,
            Err(e) => {
                tracing::debug!(channel, error = %e, "redis adapter: malformed broadcast ignored");
                return;
            }
        };
        if uid.as_deref() == Some(self.uid.as_str()) {
            return;
        }
        if packet.nsp.as_deref().unwrap_or("/") != self.local.path() {
            return;
        }
        let mut opts = opts.options();
        opts.timeout = None;
        self.local.broadcast(&packet.data.payload(), &opts);
    }

    fn on_request(self: &Arc<Self>, request: Request) {
        // This node applied its own operations already (Node applies them through this
        // round trip instead; the other nodes cannot tell the difference).
        if request.uid.as_deref() == Some(self.uid.as_str()) {
            return;
        }
        if let Some(id) = &request.request_id
            && self.requests.is_pending(id)
        {
            return;
        }
        let id = request.request_id.as_deref();
        let reply = |message: Option<Vec<u8>>| self.publish(self.response_to(&request), message);
        match request.kind {
            RequestType::Sockets => {
                let opts = BroadcastOptions { rooms: request.rooms.0.clone(), ..Default::default() };
                let ids: Vec<String> =
                    self.local.socket_ids(&opts).iter().map(|s| s.as_str().to_owned()).collect();
                reply(SocketsResponse::new(id, ids).encode());
            }
            RequestType::AllRooms => {
                let mut rooms: Vec<String> =
                    self.local.rooms().iter().map(|r| r.as_str().to_owned()).collect();
                let all = BroadcastOptions::default();
                rooms.extend(self.local.socket_ids(&all).iter().map(|s| s.as_str().to_owned()));
                reply(RoomsResponse::new(id, rooms).encode());
            }
            RequestType::RemoteJoin | RequestType::RemoteLeave => {
                let join = request.kind == RequestType::RemoteJoin;
                match &request.opts {
                    Some(opts) => self.apply_rooms(join, &opts.clone().options(), &request.rooms.0),
                    // The legacy form: one socket id and one room, answered by its owner.
                    None => {
                        let (Some(sid), Some(room)) = (&request.sid, &request.room) else { return };
                        if !self.local.has_room(sid) {
                            return;
                        }
                        let target = BroadcastOptions { rooms: vec![Room::from(sid)], ..Default::default() };
                        self.apply_rooms(join, &target, std::slice::from_ref(room));
                        reply(DoneResponse::new(id).encode());
                    }
                }
            }
            RequestType::RemoteDisconnect => match &request.opts {
                Some(opts) => self.local.disconnect_sockets(&opts.clone().options(), request.close),
                None => {
                    let Some(sid) = &request.sid else { return };
                    if self.local.has_room(sid) {
                        let target = BroadcastOptions { rooms: vec![Room::from(sid)], ..Default::default() };
                        self.local.disconnect_sockets(&target, request.close);
                        reply(DoneResponse::new(id).encode());
                    }
                }
            },
            RequestType::RemoteFetch => {
                let Some(opts) = &request.opts else { return };
                let sockets = self.local.fetch_sockets(&opts.clone().options());
                reply(SocketsResponse::new(id, wire::Sockets(sockets)).encode());
            }
            RequestType::ServerSideEmit => self.on_server_side_emit(&request),
            RequestType::Broadcast => self.on_broadcast_with_ack(&request),
            other => {
                tracing::debug!(kind = ?other, "redis adapter: a response on the request channel ignored")
            }
        }
    }

    fn apply_rooms(&self, join: bool, opts: &BroadcastOptions, rooms: &[Room]) {
        if join {
            self.local.add_sockets(opts, rooms);
        } else {
            self.local.del_sockets(opts, rooms);
        }
    }

    fn on_server_side_emit(self: &Arc<Self>, request: &Request) {
        let Some(args) = &request.data else { return };
        let ack = request.request_id.clone().map(|id| {
            let this = self.clone();
            ServerAck::new(move |reply: Payload| {
                // Node always answers these on the shared response channel.
                this.publish(this.response_channel.clone(), EmitResponse::new(&id, &reply).encode());
            })
        });
        self.local.server_event(&args.payload(), ack);
    }

    fn on_broadcast_with_ack(self: &Arc<Self>, request: &Request) {
        let (Some(id), Some(packet), Some(opts)) = (&request.request_id, &request.packet, &request.opts)
        else {
            return;
        };
        let mut opts = opts.clone().options();
        // As Node: flags of a received ack broadcast are not honoured, but its timeout
        // bounds how long this node relays replies.
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        opts.volatile = false;
        let acks = self.local.broadcast_with_ack(&packet.data.payload(), &opts);
        let channel = self.response_to(request);
        self.publish(channel.clone(), ClientCountResponse::new(id, acks.count()).encode());
        let (this, id) = (self.clone(), id.clone());
        requests::relay_replies(acks, timeout, move |value| {
            this.publish(channel.clone(), AckResponse::new(&id, value).encode());
        });
    }

    fn on_response(&self, response: Response) {
        let Some(id) = &response.request_id else { return };
        // Only some responses say what they are: read them as what the request awaits.
        self.requests.answer(id, |expect| match expect {
            Expect::Sockets => Some(Answer::Sockets(response.sockets.0)),
            Expect::Replies => {
                Some(Answer::Reply(Args::one(Some(response.data.unwrap_or(Mp::Nil))).payload()))
            }
            Expect::Acks => match response.kind {
                Some(RequestType::BroadcastClientCount) => {
                    Some(Answer::Ack(RemoteAck::ClientCount(response.client_count)))
                }
                Some(RequestType::BroadcastAck) => {
                    Some(Answer::Ack(RemoteAck::Reply(Args::one(response.packet).payload())))
                }
                _ => None,
            },
        });
    }
}

impl NamespaceAdapter for ClassicNamespace {
    fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) {
        let channel = match opts.rooms.as_slice() {
            [room] => format!("{}{}#", self.channel, room),
            _ => self.channel.clone(),
        };
        self.publish(channel, Broadcast::new(&self.uid, self.local.path(), packet, opts).encode());
    }

    fn broadcast_with_ack(
        &self,
        packet: &Payload,
        opts: &BroadcastOptions,
    ) -> mpsc::UnboundedReceiver<RemoteAck> {
        self.requests.broadcast_with_ack(opts.timeout, |id| {
            let request = BroadcastRequest::new(&self.uid, id, self.local.path(), packet, opts);
            self.publish(self.request_channel.clone(), request.encode());
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.publish(self.request_channel.clone(), RoomsRequest::new(&self.uid, true, opts, rooms).encode());
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.publish(self.request_channel.clone(), RoomsRequest::new(&self.uid, false, opts, rooms).encode());
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.publish(self.request_channel.clone(), DisconnectRequest::new(&self.uid, opts, close).encode());
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let opts = opts.clone();
        Box::pin(async move {
            let timeout = this.shared.config.requests_timeout;
            let answers = this.requests.ask(Waiter::Sockets, timeout, |id| {
                this.publish(this.request_channel.clone(), FetchRequest::new(&this.uid, id, &opts).encode());
            });
            Ok(answers.await?.into_iter().flatten().collect())
        })
    }

    fn server_side_emit(&self, args: &Payload) {
        let request = EmitRequest::new(&self.uid, None, args);
        self.publish(self.request_channel.clone(), request.and_then(|r| r.encode()));
    }

    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let args = args.clone();
        Box::pin(async move {
            let answers = this.requests.ask(Waiter::Replies, timeout, |id| {
                let request = EmitRequest::new(&this.uid, Some(id), &args);
                this.publish(this.request_channel.clone(), request.and_then(|r| r.encode()));
            });
            answers.await
        })
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        let requests = self.requests.clone();
        Box::pin(async move { requests.server_count().await })
    }

    fn close(&self) {
        self.shared.remove(std::ptr::from_ref(self).cast());
    }
}
