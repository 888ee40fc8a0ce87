//! One namespace's side of the cluster: socket.io-adapter's `ClusterAdapter` and
//! `ClusterAdapterWithHeartbeat`, over any [`Transport`].

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use rand::Rng as _;
use rmpv::Value as Mp;
use sio_core::Room;
use sio_core::adapter::{
    AdapterError, AdapterFuture, BroadcastOptions, LocalAcks, LocalNamespace, NamespaceAdapter, Payload,
    RemoteAck, ServerAck, SocketInfo,
};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::config::ClusterConfig;
use crate::wire::messages::{
    BroadcastBody, ClientCountBody, DisconnectBody, EmitBody, ErasedBody, FetchBody, FetchResponseBody,
    Message, MessageType, Outgoing, ReplyBody, RoomsBody,
};
use crate::wire::{self, Args, DecodeError, from_mp};

/// The `uid` of Node's emitters (`@socket.io/*-emitter`): not a node, never counted.
pub const EMITTER_UID: &str = "emitter";

/// How the messages of a cluster travel: implemented by each adapter (Redis, PostgreSQL, ...).
///
/// Calls must not block: queue the message and return. Errors are the transport's to log;
/// a message that cannot be sent is lost, as in Node.
pub trait Transport: Send + Sync + 'static {
    /// Sends `message` to every node of its namespace ([`Outgoing::nsp`]). Whether the sender
    /// gets its own message back does not matter: it ignores it.
    fn publish(&self, message: Outgoing);

    /// Sends `message`, an answer to a request of node `requester`, to that node (sending it
    /// to every node, as Node's PostgreSQL adapter does, works too: the others ignore it).
    fn publish_response(&self, requester: &str, message: Outgoing);

    /// The number of nodes serving namespace `nsp`, this one included: used only by
    /// namespaces without heartbeats ([`ClusterNamespace::without_heartbeat`]). The default
    /// fails.
    fn server_count(&self, nsp: &str) -> AdapterFuture<usize> {
        let _ = nsp;
        Box::pin(async { Err(AdapterError::unavailable("this transport cannot count the nodes")) })
    }

    /// Whether the other nodes can be reached now. Operations that wait for them fail at once
    /// with this error (rather than at their timeout). The default: always.
    ///
    /// # Errors
    /// [`AdapterError::Unavailable`], saying why.
    fn available(&self) -> Result<(), AdapterError> {
        Ok(())
    }

    /// Namespace `nsp` of this node closed (after its last message): stop delivering to it.
    fn namespace_closed(&self, nsp: &str) {
        let _ = nsp;
    }

    /// See [`NamespaceAdapter::room_created`]; for transports with a channel per room.
    fn room_created(&self, nsp: &str, room: &str, private: bool) {
        let _ = (nsp, room, private);
    }

    /// See [`NamespaceAdapter::room_deleted`].
    fn room_deleted(&self, nsp: &str, room: &str, private: bool) {
        let _ = (nsp, room, private);
    }
}

/// 16 lowercase hex digits, like Node's `randomBytes(8).toString("hex")`.
pub(crate) fn random_id() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

/// Which answers a request still awaits.
enum Expect {
    /// One from each of these nodes (with heartbeats).
    Uids(HashSet<String>),
    /// This many more (without).
    Count(usize),
}

impl Expect {
    /// Counts an answer from `from`; whether it was awaited.
    fn count(&mut self, from: Option<&str>) -> bool {
        match self {
            Expect::Uids(uids) => from.is_some_and(|uid| uids.remove(uid)),
            Expect::Count(n) if *n > 0 => {
                *n -= 1;
                true
            }
            Expect::Count(_) => false,
        }
    }

    fn done(&self) -> bool {
        match self {
            Expect::Uids(uids) => uids.is_empty(),
            Expect::Count(n) => *n == 0,
        }
    }

    fn len(&self) -> usize {
        match self {
            Expect::Uids(uids) => uids.len(),
            Expect::Count(n) => *n,
        }
    }
}

/// What a broadcast with acks hears from the other nodes (relayed by its own task, which
/// knows how many counts to await).
enum AckEvent {
    Count(Option<String>, usize),
    Reply(Payload),
    NodeGone(String),
}

/// Where the answers to a pending request go.
enum Waiter {
    /// `fetchSockets`.
    Sockets(mpsc::UnboundedSender<Vec<SocketInfo>>, Expect),
    /// A server-side event with ack.
    Replies(mpsc::UnboundedSender<Payload>, Expect),
    /// A broadcast with acks.
    Acks(mpsc::UnboundedSender<AckEvent>),
}

/// One answer to a pending request.
enum Answer {
    Sockets(Vec<SocketInfo>),
    Reply(Payload),
    Count(usize),
    Ack(Payload),
}

/// A request in the table; dropping it (answered, timed out or abandoned) removes it.
struct PendingGuard {
    ns: Arc<ClusterNamespace>,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.ns.pending.lock().remove(&self.id);
    }
}

/// One namespace of this node in a cluster: what socket.io-adapter's `ClusterAdapter` (or,
/// with heartbeats, `ClusterAdapterWithHeartbeat`) does for a Node namespace, over a
/// [`Transport`]. It implements [`NamespaceAdapter`]: an adapter's
/// [`Adapter::namespace`](sio_core::adapter::Adapter::namespace) creates one per namespace,
/// hands it what arrives for that namespace ([`ClusterNamespace::receive`]) and returns it.
///
/// ```
/// use std::sync::Arc;
/// use sio_cluster::{ClusterConfig, ClusterNamespace, Outgoing, Transport};
/// use sio_core::adapter::{Adapter, LocalNamespace, NamespaceAdapter};
///
/// /// A transport that drops everything (a real one publishes `message.encode()`).
/// struct Nowhere;
///
/// impl Transport for Nowhere {
///     fn publish(&self, message: Outgoing) {
///         let _ = message.encode();
///     }
///     fn publish_response(&self, _requester: &str, _message: Outgoing) {}
/// }
///
/// struct MyAdapter;
///
/// impl Adapter for MyAdapter {
///     fn namespace(&self, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
///         // Subscribe here, and pass what arrives to `ns.receive(bytes)`.
///         ClusterNamespace::with_heartbeat(local, Arc::new(Nowhere), ClusterConfig::default())
///     }
/// }
/// ```
pub struct ClusterNamespace {
    me: Weak<ClusterNamespace>,
    local: LocalNamespace,
    transport: Arc<dyn Transport>,
    config: ClusterConfig,
    heartbeat: bool,
    uid: String,
    /// With heartbeats: the other nodes, and when each was last heard from.
    nodes: Mutex<HashMap<String, Instant>>,
    /// When this node last published (heartbeats are sent when it has been quiet).
    last_publish: Mutex<Instant>,
    pending: Mutex<HashMap<String, Waiter>>,
    closed: AtomicBool,
    stop: Arc<Notify>,
}

impl fmt::Debug for ClusterNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterNamespace")
            .field("nsp", &self.local.path())
            .field("uid", &self.uid)
            .field("heartbeat", &self.heartbeat)
            .finish_non_exhaustive()
    }
}

impl ClusterNamespace {
    /// socket.io-adapter's `ClusterAdapterWithHeartbeat`: the nodes are those heard from
    /// within [`ClusterConfig::heartbeat_timeout`]; this node announces itself
    /// (`INITIAL_HEARTBEAT`) at once, publishes a heartbeat whenever it has published nothing
    /// for [`ClusterConfig::heartbeat_interval`], and says goodbye (`ADAPTER_CLOSE`) when it
    /// closes. Requests await one answer from each node known when they are sent (fewer if
    /// one of them goes).
    ///
    /// Must be called within a Tokio runtime (it starts the heartbeat task).
    pub fn with_heartbeat(
        local: LocalNamespace,
        transport: Arc<dyn Transport>,
        config: ClusterConfig,
    ) -> Arc<Self> {
        let ns = Self::new(local, transport, config, true);
        ns.publish(MessageType::InitialHeartbeat, None);
        tokio::spawn(heartbeats(Arc::downgrade(&ns), ns.stop.clone()));
        ns
    }

    /// socket.io-adapter's `ClusterAdapter`: the number of nodes comes from
    /// [`Transport::server_count`] (e.g. Redis's count of a channel's subscribers); no
    /// heartbeats.
    pub fn without_heartbeat(
        local: LocalNamespace,
        transport: Arc<dyn Transport>,
        config: ClusterConfig,
    ) -> Arc<Self> {
        Self::new(local, transport, config, false)
    }

    fn new(
        local: LocalNamespace,
        transport: Arc<dyn Transport>,
        config: ClusterConfig,
        heartbeat: bool,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            local,
            transport,
            config,
            heartbeat,
            uid: random_id(),
            nodes: Mutex::new(HashMap::new()),
            last_publish: Mutex::new(Instant::now()),
            pending: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            stop: Arc::new(Notify::new()),
        })
    }

    /// This node's id in the namespace (`uid` of its messages): 16 hex digits.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The namespace path.
    pub fn path(&self) -> &str {
        self.local.path()
    }

    /// With heartbeats, the other nodes currently known (their `uid`s).
    pub fn nodes(&self) -> Vec<String> {
        self.nodes.lock().keys().cloned().collect()
    }

    // ---- sending ----

    fn outgoing(&self, kind: MessageType, data: Option<&dyn ErasedBody>) -> Option<Outgoing> {
        Outgoing::new(kind, data, &self.uid, self.local.path())
    }

    /// Publishes to every node (nothing if the message could not be encoded).
    fn publish(&self, kind: MessageType, data: Option<&dyn ErasedBody>) {
        if self.heartbeat {
            *self.last_publish.lock() = Instant::now();
        }
        if let Some(message) = self.outgoing(kind, data) {
            self.transport.publish(message);
        }
    }

    /// Answers node `to`.
    fn respond(&self, to: &str, kind: MessageType, data: &dyn ErasedBody) {
        if let Some(message) = self.outgoing(kind, Some(data)) {
            self.transport.publish_response(to, message);
        }
    }

    // ---- receiving ----

    /// Handles a message that arrived for this namespace: JSON (starting with `{`) or
    /// MessagePack, as Node's adapters write them. Its own messages, those of another
    /// namespace and malformed ones (logged at debug level) are ignored; a message without
    /// `nsp` (Node's PostgreSQL emitter sends none) counts as this namespace's, the
    /// transport having routed it here.
    pub fn receive(&self, payload: &[u8]) {
        let message: Message = match wire::decode(payload) {
            Ok(message) => message,
            Err(e) => {
                tracing::debug!(nsp = self.local.path(), error = %e, "cluster adapter: undecodable message ignored");
                return;
            }
        };
        let kind = message.kind;
        if let Err(e) = self.on_message(message) {
            tracing::debug!(nsp = self.local.path(), ?kind, error = %e, "cluster adapter: malformed message ignored");
        }
    }

    fn on_message(&self, message: Message) -> Result<(), DecodeError> {
        let Message { kind, data, uid: from, nsp } = message;
        if from.as_deref() == Some(self.uid.as_str())
            || nsp.as_deref().is_some_and(|n| n != self.local.path())
        {
            return Ok(());
        }
        let Some(this) = self.me.upgrade() else { return Ok(()) };
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.heartbeat
            && let Some(uid) = from.as_deref()
            && uid != EMITTER_UID
        {
            let mut nodes = self.nodes.lock();
            match nodes.get_mut(uid) {
                Some(seen) => *seen = Instant::now(),
                None => {
                    tracing::debug!(nsp = self.local.path(), node = uid, "cluster adapter: new node");
                    nodes.insert(uid.to_owned(), Instant::now());
                }
            }
        }
        let from = from.as_deref();
        match kind {
            MessageType::InitialHeartbeat => {
                if self.heartbeat {
                    self.publish(MessageType::Heartbeat, None);
                }
                Ok(())
            }
            MessageType::Heartbeat => Ok(()),
            MessageType::AdapterClose => {
                if self.heartbeat
                    && let Some(uid) = from
                {
                    self.remove_node(uid);
                }
                Ok(())
            }
            MessageType::Broadcast => from_mp(data).map(|b| this.on_broadcast(from, b)),
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
                    &FetchResponseBody::new(&b.request_id, sockets),
                );
            }),
            MessageType::ServerSideEmit => from_mp(data).map(|b| this.on_server_side_emit(from, b)),
            MessageType::FetchSocketsResponse
            | MessageType::ServerSideEmitResponse
            | MessageType::BroadcastClientCount
            | MessageType::BroadcastAck => self.on_response(kind, from, data),
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
        let timeout = opts.timeout.unwrap_or(self.config.requests_timeout);
        let acks = self.local.broadcast_with_ack(&payload, &opts);
        self.respond(from, MessageType::BroadcastClientCount, &ClientCountBody::new(&id, acks.count()));
        let (this, from) = (self.clone(), from.to_owned());
        relay_replies(acks, timeout, move |value| {
            this.respond(&from, MessageType::BroadcastAck, &ReplyBody::new(&id, value));
        });
    }

    fn on_server_side_emit(self: &Arc<Self>, from: Option<&str>, body: EmitBody) {
        let ack = match (body.request_id, from) {
            (Some(id), Some(from)) => {
                let (this, from) = (self.clone(), from.to_owned());
                Some(ServerAck::new(move |reply: Payload| {
                    let value = Args::of(&reply).first();
                    this.respond(&from, MessageType::ServerSideEmitResponse, &ReplyBody::new(&id, value));
                }))
            }
            _ => None,
        };
        self.local.server_event(&body.packet.payload(), ack);
    }

    fn on_response(&self, kind: MessageType, from: Option<&str>, data: Mp) -> Result<(), DecodeError> {
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
                (body.request_id, Answer::Count(body.client_count))
            }
            _ => {
                let body: ReplyBody = from_mp(data)?;
                (body.request_id, Answer::Ack(Args::one(body.packet).payload()))
            }
        };
        self.answer(&id, from, answer);
        Ok(())
    }

    // ---- requests ----

    /// Hands an answer to request `id` if it is pending.
    fn answer(&self, id: &str, from: Option<&str>, answer: Answer) {
        let mut table = self.pending.lock();
        let Some(waiter) = table.get_mut(id) else { return };
        // A send fails only when the requester stopped waiting: its guard removes the entry.
        let done = match (waiter, answer) {
            (Waiter::Sockets(tx, expect), Answer::Sockets(sockets)) => {
                let _ = tx.send(sockets);
                expect.count(from) && expect.done()
            }
            (Waiter::Replies(tx, expect), Answer::Reply(reply)) => {
                let _ = tx.send(reply);
                expect.count(from) && expect.done()
            }
            (Waiter::Acks(tx), Answer::Count(n)) => {
                let _ = tx.send(AckEvent::Count(from.map(str::to_owned), n));
                false
            }
            (Waiter::Acks(tx), Answer::Ack(reply)) => {
                let _ = tx.send(AckEvent::Reply(reply));
                false
            }
            _ => {
                tracing::debug!(id, "cluster adapter: response of an unexpected type ignored");
                false
            }
        };
        if done {
            // Dropping the sender ends the requester's wait.
            table.remove(id);
        }
    }

    /// Node `uid` is gone: requests stop awaiting it.
    fn remove_node(&self, uid: &str) {
        if self.nodes.lock().remove(uid).is_some() {
            tracing::debug!(nsp = self.local.path(), node = uid, "cluster adapter: node gone");
        }
        let mut table = self.pending.lock();
        table.retain(|_, waiter| match waiter {
            Waiter::Sockets(_, expect) | Waiter::Replies(_, expect) => {
                expect.count(Some(uid));
                !expect.done()
            }
            Waiter::Acks(tx) => {
                let _ = tx.send(AckEvent::NodeGone(uid.to_owned()));
                true
            }
        });
    }

    /// Forgets the nodes not heard from within the heartbeat timeout.
    fn remove_dead_nodes(&self) {
        let now = Instant::now();
        let dead: Vec<String> = self
            .nodes
            .lock()
            .iter()
            .filter(|(_, seen)| now.duration_since(**seen) > self.config.heartbeat_timeout)
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in dead {
            self.remove_node(&uid);
        }
    }

    /// The answers to await for a new request.
    async fn expect(&self) -> Result<Expect, AdapterError> {
        self.transport.available()?;
        if self.heartbeat {
            Ok(Expect::Uids(self.nodes.lock().keys().cloned().collect()))
        } else {
            let count = self.transport.server_count(self.local.path()).await?;
            Ok(Expect::Count(count.saturating_sub(1)))
        }
    }

    /// Puts a waiter in the table under a fresh id.
    fn register(self: &Arc<Self>, waiter: Waiter) -> PendingGuard {
        let mut table = self.pending.lock();
        loop {
            if let Entry::Vacant(slot) = table.entry(random_id()) {
                let id = slot.key().clone();
                slot.insert(waiter);
                return PendingGuard { ns: self.clone(), id };
            }
        }
    }

    /// Asks every other node: `send` publishes the request under the id it is given, and
    /// the answers are awaited for `timeout` at most.
    async fn ask<T>(
        self: &Arc<Self>,
        waiter: fn(mpsc::UnboundedSender<T>, Expect) -> Waiter,
        timeout: Duration,
        send: impl FnOnce(&str),
    ) -> Result<Vec<T>, AdapterError> {
        let expect = self.expect().await?;
        let expected = expect.len();
        if expected == 0 {
            return Ok(Vec::new());
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let guard = self.register(waiter(tx, expect));
        send(&guard.id);
        let mut got = Vec::with_capacity(expected);
        let gather = async {
            while let Some(answer) = rx.recv().await {
                got.push(answer);
            }
        };
        let result = tokio::time::timeout(timeout, gather).await;
        drop(guard);
        match result {
            Ok(()) => Ok(got),
            Err(_) => Err(AdapterError::Timeout { received: got.len(), expected }),
        }
    }
}

/// Sends a heartbeat whenever the namespace has been quiet for the interval, and forgets the
/// nodes gone silent; ends when the namespace closes or is dropped.
async fn heartbeats(ns: Weak<ClusterNamespace>, stop: Arc<Notify>) {
    loop {
        let wake = {
            let Some(ns) = ns.upgrade() else { return };
            if ns.closed.load(Ordering::Acquire) {
                return;
            }
            let interval = ns.config.heartbeat_interval;
            let due = *ns.last_publish.lock() + interval;
            if Instant::now() >= due {
                ns.publish(MessageType::Heartbeat, None);
            }
            ns.remove_dead_nodes();
            // Node checks every second; a shorter timeout is checked more often.
            let check =
                (ns.config.heartbeat_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
            let next_heartbeat = *ns.last_publish.lock() + interval.max(Duration::from_millis(10));
            next_heartbeat.min(Instant::now() + check)
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            () = stop.notified() => return,
        }
    }
}

/// Relays what the other nodes answer to a broadcast with acks (`from`) to the server (`to`),
/// adding [`RemoteAck::CountsComplete`] once each awaited node reported its count (or went).
/// Ends when the server stops listening, or at `timeout`.
async fn relay_acks(
    mut expect: Expect,
    from: &mut mpsc::UnboundedReceiver<AckEvent>,
    to: &mpsc::UnboundedSender<RemoteAck>,
    timeout: Duration,
) {
    let run = async {
        let mut complete = expect.done();
        if complete && to.send(RemoteAck::CountsComplete).is_err() {
            return;
        }
        while let Some(event) = from.recv().await {
            let counted = match event {
                AckEvent::Count(uid, n) => {
                    if to.send(RemoteAck::ClientCount(n)).is_err() {
                        return;
                    }
                    expect.count(uid.as_deref())
                }
                AckEvent::Reply(reply) => {
                    if to.send(RemoteAck::Reply(reply)).is_err() {
                        return;
                    }
                    false
                }
                AckEvent::NodeGone(uid) => expect.count(Some(&uid)),
            };
            if counted && !complete && expect.done() {
                complete = true;
                if to.send(RemoteAck::CountsComplete).is_err() {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(timeout, run).await;
}

/// This node's part of another node's broadcast with acks (`acks`, already sent to its
/// sockets): `reply` sends back each socket's reply (only its first argument travels;
/// `None` for none) as it comes, for `timeout` and a second at most.
fn relay_replies(mut acks: LocalAcks, timeout: Duration, mut reply: impl FnMut(Option<Mp>) + Send + 'static) {
    if acks.count() == 0 {
        return;
    }
    tokio::spawn(async move {
        let relay = async {
            while let Some((_, ack)) = acks.next().await {
                reply(Args::of(&ack).first());
            }
        };
        let _ = tokio::time::timeout(timeout + Duration::from_secs(1), relay).await;
    });
}

impl NamespaceAdapter for ClusterNamespace {
    fn broadcast(&self, packet: &Payload, opts: &BroadcastOptions) {
        if opts.local {
            return;
        }
        self.publish(MessageType::Broadcast, Some(&BroadcastBody::new(packet, None, opts)));
    }

    fn broadcast_with_ack(
        &self,
        packet: &Payload,
        opts: &BroadcastOptions,
    ) -> mpsc::UnboundedReceiver<RemoteAck> {
        let (tx, rx) = mpsc::unbounded_channel();
        let Some(this) = self.me.upgrade() else { return rx };
        if opts.local || self.transport.available().is_err() {
            // Dropping `tx` tells the server nothing will come from other nodes.
            return rx;
        }
        let timeout = opts.timeout.unwrap_or(self.config.requests_timeout);
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let guard = this.register(Waiter::Acks(events_tx));
        // The nodes known now are those awaited (with heartbeats).
        let known = self.heartbeat.then(|| Expect::Uids(self.nodes.lock().keys().cloned().collect()));
        self.publish(MessageType::Broadcast, Some(&BroadcastBody::new(packet, Some(&guard.id), opts)));
        tokio::spawn(async move {
            let expect = match known {
                Some(expect) => expect,
                None => match this.transport.server_count(this.local.path()).await {
                    Ok(n) => Expect::Count(n.saturating_sub(1)),
                    Err(_) => return,
                },
            };
            relay_acks(expect, &mut events, &tx, timeout).await;
            drop(guard);
        });
        rx
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if !opts.local {
            self.publish(MessageType::SocketsJoin, Some(&RoomsBody::new(opts, rooms)));
        }
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if !opts.local {
            self.publish(MessageType::SocketsLeave, Some(&RoomsBody::new(opts, rooms)));
        }
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        if !opts.local {
            self.publish(MessageType::DisconnectSockets, Some(&DisconnectBody::new(opts, close)));
        }
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        if opts.local {
            return Box::pin(async { Ok(Vec::new()) });
        }
        let timeout = opts.timeout.unwrap_or(self.config.requests_timeout);
        let opts = opts.clone();
        Box::pin(async move {
            let answers = this
                .ask(Waiter::Sockets, timeout, |id| {
                    this.publish(MessageType::FetchSockets, Some(&FetchBody::new(&opts, id)));
                })
                .await?;
            Ok(answers.into_iter().flatten().collect())
        })
    }

    fn server_side_emit(&self, args: &Payload) {
        self.publish(MessageType::ServerSideEmit, Some(&EmitBody::new(None, args)));
    }

    fn server_side_emit_with_ack(&self, args: &Payload, timeout: Duration) -> AdapterFuture<Vec<Payload>> {
        let Some(this) = self.me.upgrade() else { return Box::pin(async { Ok(Vec::new()) }) };
        let args = args.clone();
        Box::pin(async move {
            this.ask(Waiter::Replies, timeout, |id| {
                this.publish(MessageType::ServerSideEmit, Some(&EmitBody::new(Some(id), &args)));
            })
            .await
        })
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        if let Err(e) = self.transport.available() {
            return Box::pin(async move { Err(e) });
        }
        if self.heartbeat {
            let count = 1 + self.nodes.lock().len();
            return Box::pin(async move { Ok(count) });
        }
        let fut = self.transport.server_count(self.local.path());
        Box::pin(fut)
    }

    fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.stop.notify_one();
        if self.heartbeat {
            self.publish(MessageType::AdapterClose, None);
        }
        self.pending.lock().clear();
        self.transport.namespace_closed(self.local.path());
    }

    fn room_created(&self, room: &str, private: bool) {
        self.transport.room_created(self.local.path(), room, private);
    }

    fn room_deleted(&self, room: &str, private: bool) {
        self.transport.room_deleted(self.local.path(), room, private);
    }
}
