//! One namespace's side of the cluster: the messages of Node's `@socket.io/redis-adapter`
//! (classic) 8.x, sent and received.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rand::Rng as _;
use rmpv::Value as Mp;
use serde_json::Value as Json;
use sio_core::Room;
use sio_core::adapter::{
    AdapterError, AdapterFuture, BroadcastOptions, LocalNamespace, NamespaceAdapter, Payload, RemoteAck,
    ServerAck, SocketInfo,
};
use tokio::sync::mpsc;

use crate::Shared;
use crate::codec::{self, get};
use crate::gather;

/// Request and response types of the classic adapter.
mod kind {
    pub(super) const SOCKETS: u64 = 0;
    pub(super) const ALL_ROOMS: u64 = 1;
    pub(super) const REMOTE_JOIN: u64 = 2;
    pub(super) const REMOTE_LEAVE: u64 = 3;
    pub(super) const REMOTE_DISCONNECT: u64 = 4;
    pub(super) const REMOTE_FETCH: u64 = 5;
    pub(super) const SERVER_SIDE_EMIT: u64 = 6;
    pub(super) const BROADCAST: u64 = 7;
    pub(super) const BROADCAST_CLIENT_COUNT: u64 = 8;
    pub(super) const BROADCAST_ACK: u64 = 9;
}

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

pub(crate) fn json_bytes(v: &Json) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// A room name from the wire: strings as they are, numbers as their decimal text.
pub(crate) fn room_of(v: &Mp) -> Option<Room> {
    match v {
        Mp::String(s) => s.as_str().map(Room::from),
        Mp::Integer(i) => Some(Room::from(i.to_string())),
        Mp::F64(f) => Some(Room::from(f.to_string())),
        _ => None,
    }
}

pub(crate) fn rooms_of(v: Option<&Mp>) -> Vec<Room> {
    match v {
        Some(Mp::Array(items)) => items.iter().filter_map(room_of).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn str_of<'a>(v: &'a Mp, key: &str) -> Option<&'a str> {
    get(v, key).and_then(Mp::as_str)
}

/// `{rooms, except, flags}` from the wire.
pub(crate) fn options_of(opts: &Mp) -> BroadcastOptions {
    let flags = get(opts, "flags");
    BroadcastOptions {
        rooms: rooms_of(get(opts, "rooms")),
        except: rooms_of(get(opts, "except")),
        local: false,
        volatile: flags.and_then(|f| get(f, "volatile")).and_then(Mp::as_bool).unwrap_or(false),
        timeout: flags.and_then(|f| get(f, "timeout")).and_then(Mp::as_u64).map(Duration::from_millis),
    }
}

fn rooms_mp(rooms: &[Room]) -> Mp {
    Mp::Array(rooms.iter().map(|r| Mp::from(r.as_str())).collect())
}

fn dedup(rooms: &[Room]) -> Vec<Room> {
    let mut out: Vec<Room> = Vec::with_capacity(rooms.len());
    for r in rooms {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// `{rooms, except, flags}` for the wire (as Node sends it: `flags` always a map).
pub(crate) fn options_mp(opts: &BroadcastOptions, with_timeout: bool) -> Mp {
    let mut flags = Vec::new();
    if opts.volatile {
        flags.push((Mp::from("volatile"), Mp::Boolean(true)));
    }
    if with_timeout && let Some(t) = opts.timeout {
        flags.push((Mp::from("timeout"), Mp::from(u64::try_from(t.as_millis()).unwrap_or(u64::MAX))));
    }
    Mp::Map(vec![
        (Mp::from("rooms"), rooms_mp(&opts.rooms)),
        (Mp::from("except"), rooms_mp(&dedup(&opts.except))),
        (Mp::from("flags"), Mp::Map(flags)),
    ])
}

/// `{rooms, except}` as JSON (requests other than broadcasts carry no flags).
fn options_json(opts: &BroadcastOptions) -> Json {
    let names = |rooms: &[Room]| Json::Array(rooms.iter().map(|r| Json::from(r.as_str())).collect());
    serde_json::json!({ "rooms": names(&opts.rooms), "except": names(&dedup(&opts.except)) })
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

    fn publish(&self, channel: String, payload: Vec<u8>) {
        self.shared.conns.publish(channel, payload);
    }

    /// The channel a response to `request` goes to.
    fn response_to(&self, request: &Mp) -> String {
        match str_of(request, "uid") {
            Some(uid) if self.shared.config.publish_on_specific_response_channel => {
                self.specific_response_channel(uid)
            }
            _ => self.response_channel.clone(),
        }
    }

    async fn server_count_inner(&self) -> Result<usize, AdapterError> {
        self.shared.conns.numsub(&self.request_channel).await.map_err(AdapterError::unavailable)
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
            Channel::Request => match decode_any(payload) {
                Some(request) => self.on_request(&request),
                None => tracing::debug!(channel, "redis adapter: undecodable request ignored"),
            },
            Channel::Response => match decode_any(payload) {
                Some(response) => self.on_response(&response),
                None => tracing::debug!(channel, "redis adapter: undecodable response ignored"),
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
        let Some(Mp::Array(parts)) = codec::decode(payload) else {
            tracing::debug!(channel, "redis adapter: malformed broadcast ignored");
            return;
        };
        let [uid, packet, opts, ..] = parts.as_slice() else {
            tracing::debug!(channel, "redis adapter: broadcast without options ignored");
            return;
        };
        if uid.as_str() == Some(self.uid.as_str()) {
            return;
        }
        if str_of(packet, "nsp").unwrap_or("/") != self.local.path() {
            return;
        }
        let Some(data @ Mp::Array(_)) = get(packet, "data") else { return };
        let mut opts = options_of(opts);
        opts.timeout = None;
        self.local.broadcast(&codec::mp_to_payload(data), &opts);
    }

    fn on_request(self: &Arc<Self>, request: &Mp) {
        let Some(kind) = get(request, "type").and_then(Mp::as_u64) else { return };
        let from = str_of(request, "uid");
        // This node applied its own operations already (Node applies them through this
        // round trip instead; the other nodes cannot tell the difference).
        if from == Some(self.uid.as_str()) {
            return;
        }
        if let Some(id) = str_of(request, "requestId")
            && self.pending.lock().contains_key(id)
        {
            return;
        }
        let request_id = get(request, "requestId").cloned();
        let reply = |body: Json| {
            let mut body = body;
            if let (Json::Object(map), Some(id)) = (&mut body, request_id.as_ref().and_then(Mp::as_str)) {
                map.insert("requestId".to_owned(), Json::from(id));
            }
            self.publish(self.response_to(request), json_bytes(&body));
        };
        let opts = get(request, "opts").map(options_of);
        match kind {
            kind::SOCKETS => {
                let opts = BroadcastOptions { rooms: rooms_of(get(request, "rooms")), ..Default::default() };
                let ids: Vec<String> =
                    self.local.socket_ids(&opts).iter().map(|s| s.as_str().to_owned()).collect();
                reply(serde_json::json!({ "sockets": ids }));
            }
            kind::ALL_ROOMS => {
                let mut rooms: Vec<String> =
                    self.local.rooms().iter().map(|r| r.as_str().to_owned()).collect();
                let all = BroadcastOptions::default();
                rooms.extend(self.local.socket_ids(&all).iter().map(|s| s.as_str().to_owned()));
                reply(serde_json::json!({ "rooms": rooms }));
            }
            kind::REMOTE_JOIN | kind::REMOTE_LEAVE => {
                let (opts, rooms) = match opts {
                    Some(o) => (o, rooms_of(get(request, "rooms"))),
                    // The legacy form: one socket id and one room, answered by its owner.
                    None => {
                        let (Some(sid), Some(room)) =
                            (str_of(request, "sid"), get(request, "room").and_then(room_of))
                        else {
                            return;
                        };
                        if !self.local.has_room(sid) {
                            return;
                        }
                        let target = BroadcastOptions { rooms: vec![Room::from(sid)], ..Default::default() };
                        self.apply_rooms(kind, &target, &[room]);
                        reply(serde_json::json!({}));
                        return;
                    }
                };
                self.apply_rooms(kind, &opts, &rooms);
            }
            kind::REMOTE_DISCONNECT => {
                let close = get(request, "close").and_then(Mp::as_bool).unwrap_or(false);
                match opts {
                    Some(opts) => self.local.disconnect_sockets(&opts, close),
                    None => {
                        let Some(sid) = str_of(request, "sid") else { return };
                        if self.local.has_room(sid) {
                            let target =
                                BroadcastOptions { rooms: vec![Room::from(sid)], ..Default::default() };
                            self.local.disconnect_sockets(&target, close);
                            reply(serde_json::json!({}));
                        }
                    }
                }
            }
            kind::REMOTE_FETCH => {
                let Some(opts) = opts else { return };
                let sockets = self.local.fetch_sockets(&opts);
                reply(serde_json::json!({ "sockets": sockets }));
            }
            kind::SERVER_SIDE_EMIT => self.on_server_side_emit(request),
            kind::BROADCAST => self.on_broadcast_with_ack(request),
            other => tracing::debug!(kind = other, "redis adapter: unknown request type ignored"),
        }
    }

    fn apply_rooms(&self, kind: u64, opts: &BroadcastOptions, rooms: &[Room]) {
        if kind == kind::REMOTE_JOIN {
            self.local.add_sockets(opts, rooms);
        } else {
            self.local.del_sockets(opts, rooms);
        }
    }

    fn on_server_side_emit(self: &Arc<Self>, request: &Mp) {
        let Some(data @ Mp::Array(_)) = get(request, "data") else { return };
        let ack = str_of(request, "requestId").map(|id| {
            let this = self.clone();
            let id = id.to_owned();
            ServerAck::new(move |reply: Payload| {
                let mut body = serde_json::json!({ "type": kind::SERVER_SIDE_EMIT, "requestId": id });
                let value = serde_json::from_slice::<Json>(&reply.data).ok().and_then(|v| {
                    if let Json::Array(mut v) = v { (!v.is_empty()).then(|| v.swap_remove(0)) } else { None }
                });
                if let (Json::Object(map), Some(value)) = (&mut body, value) {
                    map.insert("data".to_owned(), value);
                }
                // Node always answers these on the shared response channel.
                this.publish(this.response_channel.clone(), json_bytes(&body));
            })
        });
        self.local.server_event(&codec::mp_to_payload(data), ack);
    }

    fn on_broadcast_with_ack(self: &Arc<Self>, request: &Mp) {
        let (Some(id), Some(packet), Some(opts)) =
            (str_of(request, "requestId"), get(request, "packet"), get(request, "opts"))
        else {
            return;
        };
        let Some(data @ Mp::Array(_)) = get(packet, "data") else { return };
        let mut opts = options_of(opts);
        // As Node: flags of a received ack broadcast are not honoured, but its timeout
        // bounds how long this node relays replies.
        let timeout = opts.timeout.unwrap_or(self.shared.config.requests_timeout);
        opts.volatile = false;
        let mut acks = self.local.broadcast_with_ack(&codec::mp_to_payload(data), &opts);
        let channel = self.response_to(request);
        let count = serde_json::json!({
            "type": kind::BROADCAST_CLIENT_COUNT, "requestId": id, "clientCount": acks.count()
        });
        self.publish(channel.clone(), json_bytes(&count));
        if acks.count() == 0 {
            return;
        }
        let this = self.clone();
        let id = id.to_owned();
        tokio::spawn(async move {
            let relay = async {
                while let Some((_, reply)) = acks.next().await {
                    let mut fields = vec![
                        (Mp::from("type"), Mp::from(kind::BROADCAST_ACK)),
                        (Mp::from("requestId"), Mp::from(id.as_str())),
                    ];
                    // Only the first argument travels; none: no `packet` key.
                    if let Some(value) = first_arg(&reply) {
                        fields.push((Mp::from("packet"), value));
                    }
                    this.publish(channel.clone(), codec::encode(&Mp::Map(fields)));
                }
            };
            let _ = tokio::time::timeout(timeout + Duration::from_secs(1), relay).await;
        });
    }

    fn on_response(&self, response: &Mp) {
        let Some(id) = str_of(response, "requestId") else { return };
        let table = self.pending.lock();
        let Some(pending) = table.get(id) else { return };
        match pending {
            Pending::Fetch(tx) => {
                let _ = tx.send(sockets_of(get(response, "sockets")));
            }
            Pending::ServerSideEmit(tx) => {
                let value = get(response, "data").cloned().unwrap_or(Mp::Nil);
                let _ = tx.send(codec::mp_to_payload(&Mp::Array(vec![value])));
            }
            Pending::BroadcastAck(tx) => match get(response, "type").and_then(Mp::as_u64) {
                Some(kind::BROADCAST_CLIENT_COUNT) => {
                    let n = get(response, "clientCount").and_then(Mp::as_u64).unwrap_or(0);
                    let _ = tx.send(RemoteAck::ClientCount(usize::try_from(n).unwrap_or(0)));
                }
                Some(kind::BROADCAST_ACK) => {
                    let value = get(response, "packet").cloned();
                    let args = Mp::Array(value.into_iter().collect());
                    let _ = tx.send(RemoteAck::Reply(codec::mp_to_payload(&args)));
                }
                _ => {}
            },
        }
    }
}

/// The sockets of a fetch response (entries that do not parse are skipped).
pub(crate) fn sockets_of(sockets: Option<&Mp>) -> Vec<SocketInfo> {
    let Some(sockets) = sockets else { return Vec::new() };
    let mut items = match codec::mp_to_json(sockets, &mut Vec::new()) {
        Json::Array(items) => items,
        _ => Vec::new(),
    };
    // Numeric rooms of Node sockets become their decimal text.
    for item in &mut items {
        if let Some(Json::Array(rooms)) = item.get_mut("rooms") {
            for r in rooms.iter_mut() {
                if let Json::Number(n) = r {
                    *r = Json::from(n.to_string());
                }
            }
        }
    }
    items.into_iter().filter_map(|i| serde_json::from_value(i).ok()).collect()
}

/// The first value of a reply (what travels of an acknowledgement); `None` for no value.
pub(crate) fn first_arg(reply: &Payload) -> Option<Mp> {
    match codec::payload_to_mp(reply) {
        Mp::Array(mut args) if !args.is_empty() => Some(args.swap_remove(0)),
        _ => None,
    }
}

/// A request or response: JSON when it starts with `{`, MessagePack otherwise.
pub(crate) fn decode_any(payload: &[u8]) -> Option<Mp> {
    if payload.first() == Some(&b'{') {
        let json: Json = serde_json::from_slice(payload).ok()?;
        Some(codec::json_to_mp(json, &[]))
    } else {
        codec::decode(payload)
    }
}

impl NamespaceAdapter for RedisNamespace {
    fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) {
        let channel = match opts.rooms.as_slice() {
            [room] => format!("{}{}#", self.channel, room),
            _ => self.channel.clone(),
        };
        let message = Mp::Array(vec![
            Mp::from(self.uid.as_str()),
            Mp::Map(vec![
                (Mp::from("type"), Mp::from(2)),
                (Mp::from("data"), codec::payload_to_mp(packet)),
                (Mp::from("nsp"), Mp::from(self.local.path())),
            ]),
            options_mp(opts, false),
        ]);
        self.publish(channel, codec::encode(&message));
    }

    fn broadcast_with_ack(
        &self,
        packet: &Payload,
        opts: &BroadcastOptions,
    ) -> mpsc::UnboundedReceiver<RemoteAck> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (count_tx, mut count_rx) = mpsc::unbounded_channel();
        let id = self.new_request_id(|| Pending::BroadcastAck(count_tx));
        let message = Mp::Map(vec![
            (Mp::from("uid"), Mp::from(self.uid.as_str())),
            (Mp::from("requestId"), Mp::from(id.as_str())),
            (Mp::from("type"), Mp::from(kind::BROADCAST)),
            (
                Mp::from("packet"),
                Mp::Map(vec![
                    (Mp::from("type"), Mp::from(2)),
                    (Mp::from("data"), codec::payload_to_mp(packet)),
                    (Mp::from("nsp"), Mp::from(self.local.path())),
                ]),
            ),
            (Mp::from("opts"), options_mp(opts, true)),
        ]);
        self.publish(self.request_channel.clone(), codec::encode(&message));
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
        self.room_request(kind::REMOTE_JOIN, opts, rooms);
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.room_request(kind::REMOTE_LEAVE, opts, rooms);
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        let request = serde_json::json!({
            "uid": self.uid, "type": kind::REMOTE_DISCONNECT, "opts": options_json(opts), "close": close
        });
        self.publish(self.request_channel.clone(), json_bytes(&request));
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let opts = options_json(opts);
        Box::pin(async move {
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::Fetch(tx));
            let request = serde_json::json!({
                "uid": this.uid, "requestId": id, "type": kind::REMOTE_FETCH, "opts": opts
            });
            this.publish(this.request_channel.clone(), json_bytes(&request));
            let answers = gather::answers(&mut rx, others, this.shared.config.requests_timeout).await;
            this.forget(&id);
            Ok(answers?.into_iter().flatten().collect())
        })
    }

    fn server_side_emit(&self, args: &Payload) {
        let request = format!(
            r#"{{"uid":{},"type":{},"data":{}}}"#,
            Json::from(self.uid.as_str()),
            kind::SERVER_SIDE_EMIT,
            data_json(args)
        );
        self.publish(self.request_channel.clone(), request.into_bytes());
    }

    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let data = data_json(args);
        Box::pin(async move {
            let others = this.server_count_inner().await?.saturating_sub(1);
            if others == 0 {
                return Ok(Vec::new());
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let id = this.new_request_id(|| Pending::ServerSideEmit(tx));
            let request = format!(
                r#"{{"uid":{},"requestId":{},"type":{},"data":{}}}"#,
                Json::from(this.uid.as_str()),
                Json::from(id.as_str()),
                kind::SERVER_SIDE_EMIT,
                data
            );
            this.publish(this.request_channel.clone(), request.into_bytes());
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

impl RedisNamespace {
    fn room_request(&self, kind: u64, opts: &BroadcastOptions, rooms: &[Room]) {
        let names: Vec<&str> = rooms.iter().map(Room::as_str).collect();
        let request = serde_json::json!({
            "uid": self.uid, "type": kind, "opts": options_json(opts), "rooms": names
        });
        self.publish(self.request_channel.clone(), json_bytes(&request));
    }
}

/// The JSON array of a payload as text; binary values become Node's JSON form of a
/// `Buffer` (`{"type":"Buffer","data":[..]}`), as Node's adapter sends them in JSON requests.
fn data_json(args: &Payload) -> String {
    if args.attachments.is_empty() {
        return String::from_utf8_lossy(&args.data).into_owned();
    }
    fn buffers(v: Mp) -> Json {
        match v {
            Mp::Binary(b) => serde_json::json!({ "type": "Buffer", "data": b }),
            Mp::Array(items) => Json::Array(items.into_iter().map(buffers).collect()),
            Mp::Map(entries) => Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.as_str().map_or_else(|| k.to_string(), str::to_owned), buffers(v)))
                    .collect(),
            ),
            other => codec::mp_to_json(&other, &mut Vec::<Bytes>::new()),
        }
    }
    buffers(codec::payload_to_mp(args)).to_string()
}
