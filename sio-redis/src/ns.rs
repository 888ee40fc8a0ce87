//! One namespace's side of the cluster: the messages of Node's `@socket.io/redis-adapter`
//! (classic) 8.x, sent and received.

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

use crate::Shared;
use crate::gather;
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

/// A request of this node waiting for other nodes.
pub(crate) enum Pending {
    Fetch(mpsc::UnboundedSender<Vec<SocketInfo>>),
    ServerSideEmit(mpsc::UnboundedSender<Payload>),
    BroadcastAck(mpsc::UnboundedSender<RemoteAck>),
}

pub(crate) struct RedisNamespace {
    me: Weak<RedisNamespace>,
    shared: Arc<Shared>,
    local: LocalNamespace,
    uid: String,
    /// `key#nsp#`: broadcasts, plus `room#` for a single room.
    channel: String,
    request_channel: String,
    response_channel: String,
    pending: Mutex<HashMap<String, Pending>>,
}

/// Six characters of `[A-Za-z0-9-_]`, like Node's `uid2(6)`.
fn uid() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..6).map(|_| char::from(ALPHABET[rng.random_range(0..64)])).collect()
}

impl RedisNamespace {
    pub(crate) fn new(shared: Arc<Shared>, local: LocalNamespace) -> Arc<Self> {
        let (key, nsp) = (shared.config.key.clone(), local.path().to_owned());
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            uid: uid(),
            channel: format!("{key}#{nsp}#"),
            request_channel: format!("{key}-request#{nsp}#"),
            response_channel: format!("{key}-response#{nsp}#"),
            local,
            shared,
            pending: Mutex::new(HashMap::new()),
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

    async fn server_count_inner(&self) -> Result<usize, AdapterError> {
        self.shared
            .conns
            .numsub(&self.request_channel)
            .await
            .map_err(|e| AdapterError::Unavailable(e.to_string()))
    }

    /// Registers a request, publishes it, and gathers `expected` answers (or times out).
    fn new_request_id(&self, pending: impl FnOnce() -> Pending) -> String {
        let mut table = self.pending.lock();
        loop {
            let id = uid();
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
            && self.pending.lock().contains_key(id)
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
        let mut acks = self.local.broadcast_with_ack(&packet.data.payload(), &opts);
        let channel = self.response_to(request);
        self.publish(channel.clone(), ClientCountResponse::new(id, acks.count()).encode());
        if acks.count() == 0 {
            return;
        }
        let this = self.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let relay = async {
                while let Some(reply) = acks.next().await {
                    // Only the first argument travels; none: no `packet` key.
                    let value = Args::of(&reply.payload()).first();
                    this.publish(channel.clone(), AckResponse::new(&id, value).encode());
                }
            };
            let _ = tokio::time::timeout(timeout + Duration::from_secs(1), relay).await;
        });
    }

    fn on_response(&self, response: Response) {
        let Some(id) = &response.request_id else { return };
        let table = self.pending.lock();
        let Some(pending) = table.get(id) else { return };
        match pending {
            Pending::Fetch(tx) => {
                let _ = tx.send(response.sockets.0);
            }
            Pending::ServerSideEmit(tx) => {
                let _ = tx.send(Args::one(Some(response.data.unwrap_or(Mp::Nil))).payload());
            }
            Pending::BroadcastAck(tx) => match response.kind {
                Some(RequestType::BroadcastClientCount) => {
                    let _ = tx.send(RemoteAck::ClientCount(response.client_count));
                }
                Some(RequestType::BroadcastAck) => {
                    let _ = tx.send(RemoteAck::Reply(Args::one(response.packet).payload().into()));
                }
                _ => {}
            },
        }
    }
}

impl NamespaceAdapter for RedisNamespace {
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
        let (tx, rx) = mpsc::unbounded_channel();
        let (count_tx, mut count_rx) = mpsc::unbounded_channel();
        let id = self.new_request_id(|| Pending::BroadcastAck(count_tx));
        let request = BroadcastRequest::new(&self.uid, &id, self.local.path(), packet, opts);
        self.publish(self.request_channel.clone(), request.encode());
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        let this = self.me.upgrade();
        tokio::spawn(async move {
            let Some(this) = this else { return };
            // Every other node answers with its count first, then its sockets' replies.
            let others = this.server_count_inner().await.map(|n| n.saturating_sub(1));
            gather::relay_acks(others, &mut count_rx, &tx, timeout).await;
            this.forget(&id);
        });
        rx
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
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::Fetch(tx));
            this.publish(this.request_channel.clone(), FetchRequest::new(&this.uid, &id, &opts).encode());
            let answers = gather::answers(&mut rx, others, this.shared.config.requests_timeout).await;
            this.forget(&id);
            Ok(answers?.into_iter().flatten().collect())
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
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::ServerSideEmit(tx));
            let request = EmitRequest::new(&this.uid, Some(&id), &args);
            this.publish(this.request_channel.clone(), request.and_then(|r| r.encode()));
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
        self.shared.remove(std::ptr::from_ref(self).cast());
    }
}
