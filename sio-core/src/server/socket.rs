//! One socket: a client's membership of one namespace. [`Conn`] is the handle handlers get.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::ack::{AckEntry, AckError, AckFuture, AckReply};
use super::client::ClientShared;
use super::encode::{self, Encoded};
use super::error::EmitError;
use super::extensions::Extensions;
use super::handle::NsHandle;
use super::handshake::Handshake;
use super::namespace::Namespace;
use super::operators::BroadcastOperator;
use super::reason::DisconnectReason;
use crate::adapter::SocketInfo;
use crate::engine::{Frame, SendError};
use crate::protocol::{FromArgs, One, Packet, Payload, RawArgs, ToArgs, WriteArgs, decode_args_at};
use crate::{Room, Sid};

const CONNECTING: u8 = 0;
const CONNECTED: u8 = 1;
const DISCONNECTED: u8 = 2;

pub(crate) struct SocketInner {
    pub(crate) id: Sid,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) client: Arc<ClientShared>,
    state: AtomicU8,
    pub(crate) rooms: Mutex<Vec<Room>>,
    acks: Mutex<HashMap<u64, AckEntry>>,
    pre_connect: Mutex<Vec<Frame>>,
    pub(crate) extensions: Extensions,
    pub(crate) auth: Option<Box<serde_json::value::RawValue>>,
}

impl fmt::Debug for SocketInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket").field("id", &self.id).field("ns", &self.ns.path()).finish_non_exhaustive()
    }
}

impl SocketInner {
    pub(crate) fn new(
        ns: Arc<Namespace>,
        client: Arc<ClientShared>,
        auth: Option<Box<serde_json::value::RawValue>>,
    ) -> Self {
        Self {
            id: Sid::new(),
            ns,
            client,
            state: AtomicU8::new(CONNECTING),
            rooms: Mutex::new(Vec::new()),
            acks: Mutex::new(HashMap::new()),
            pre_connect: Mutex::new(Vec::new()),
            extensions: Extensions::default(),
            auth,
        }
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        self.state.load(Ordering::Acquire) == DISCONNECTED
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.state.load(Ordering::Acquire) == CONNECTED
    }

    /// Queues an encoded packet for this socket's client.
    pub(crate) fn send(&self, enc: &Encoded, volatile: bool) -> Result<(), EmitError> {
        match self.state.load(Ordering::Acquire) {
            CONNECTED => {}
            CONNECTING => {
                // Emitted from the connect handler: delivered right after the CONNECT reply.
                let mut pre = self.pre_connect.lock();
                if self.state.load(Ordering::Acquire) == CONNECTING {
                    if pre.len() + enc.frames().len() > self.client.session.config.outbound_buffer {
                        return Err(EmitError::BufferFull);
                    }
                    pre.extend(enc.frames().iter().cloned());
                    return Ok(());
                }
            }
            _ => return Err(EmitError::Disconnected),
        }
        let session = &self.client.session;
        let r = match (enc, volatile) {
            (_, true) => session.send_volatile(enc.frames()),
            (Encoded::One(f), false) => session.send(f.clone()),
            (Encoded::Many(v), false) => session.send_all(v),
        };
        r.map_err(|e| match e {
            SendError::Full => EmitError::BufferFull,
            SendError::Closed => EmitError::Disconnected,
        })
    }

    /// Sends the CONNECT reply and whatever the connect handler emitted.
    pub(crate) fn mark_connected(&self) {
        let mut pre = self.pre_connect.lock();
        let _ = self.client.session.send(encode::connect(self.ns.path(), self.id.as_str()));
        if !pre.is_empty() {
            let _ = self.client.session.send_all(&pre);
        }
        pre.clear();
        pre.shrink_to_fit();
        self.state.store(CONNECTED, Ordering::Release);
    }

    /// Leaves the namespace: rooms, client table and pending acks. Returns false if it had
    /// already left.
    pub(crate) fn leave_namespace(self: &Arc<Self>, reason: DisconnectReason) -> bool {
        if self.state.swap(DISCONNECTED, Ordering::AcqRel) == DISCONNECTED {
            return false;
        }
        if reason == DisconnectReason::ServerNamespaceDisconnect {
            let _ = self.client.session.send(encode::disconnect(self.ns.path()));
        }
        self.ns.remove_socket(self);
        self.client.remove(self);
        self.acks.lock().clear();
        true
    }

    pub(crate) fn register_ack(&self, id: u64, entry: AckEntry) {
        self.acks.lock().insert(id, entry);
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        self.acks.lock().remove(&id);
    }

    /// Acks awaiting a reply.
    pub(crate) fn pending_acks(&self) -> usize {
        self.acks.lock().len()
    }

    pub(crate) fn on_ack(&self, id: u64, reply: Payload) {
        let entry = self.acks.lock().remove(&id);
        match entry {
            Some(AckEntry::One(tx)) => {
                let _ = tx.send(reply);
            }
            Some(AckEntry::Many(tx)) => {
                let _ = tx.send((self.id, reply));
            }
            None => tracing::debug!(sid = %self.id, id, "ack for an unknown id"),
        }
    }

    pub(crate) fn ack_timeout(&self) -> Duration {
        self.ns.config.ack_timeout
    }
}

/// Removes ack `id` from the tables of `sockets` when dropped: the pending entries of an emit
/// with ack never outlive its future.
pub(crate) struct ForgetAcks {
    pub(crate) id: u64,
    pub(crate) sockets: Vec<Arc<SocketInner>>,
}

impl Drop for ForgetAcks {
    fn drop(&mut self) {
        for socket in &self.sockets {
            socket.forget_ack(self.id);
        }
    }
}

/// Marker for a [`Conn`] whose emits are untyped (`emit("name", &payload)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Untyped;

/// A connected socket: one client in one namespace. Cheap to clone.
///
/// `E` is the namespace's set of server-to-client events when typed (see the `ServerEvents`
/// derive); the default [`Untyped`] takes event names and payloads.
pub struct Conn<E = Untyped> {
    pub(crate) inner: Arc<SocketInner>,
    _events: PhantomData<fn() -> E>,
}

impl<E> Clone for Conn<E> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), _events: PhantomData }
    }
}

impl<E> fmt::Debug for Conn<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn").field("id", &self.inner.id).field("ns", &self.inner.ns.path()).finish()
    }
}

impl<E> Conn<E> {
    pub(crate) fn from_inner(inner: Arc<SocketInner>) -> Self {
        Self { inner, _events: PhantomData }
    }

    /// The socket id (also the name of a room holding only this socket).
    pub fn id(&self) -> Sid {
        self.inner.id
    }

    /// The connection's handshake (headers, query, address).
    pub fn handshake(&self) -> &Handshake {
        &self.inner.client.handshake
    }

    /// The auth payload sent with the namespace CONNECT, deserialized as `T`. When the client
    /// sent none, it is read from `{}` (as the reference server shows it), and an `Option`
    /// that cannot be read from `{}` is `None`.
    ///
    /// # Errors
    /// When the payload does not deserialize as `T`.
    pub fn auth<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.inner.auth {
            Some(raw) => serde_json::from_str(raw.get()),
            None => serde_json::from_str("{}").or_else(|e| {
                use serde::de::IntoDeserializer as _;
                T::deserialize(().into_deserializer()).map_err(|_: serde::de::value::Error| e)
            }),
        }
    }

    /// The auth payload as raw JSON (`{}` when the client sent none).
    pub fn auth_raw(&self) -> &str {
        self.inner.auth.as_deref().map_or("{}", |r| r.get())
    }

    /// What `fetch_sockets` reports for this socket.
    pub(crate) fn info(&self) -> SocketInfo {
        SocketInfo {
            id: self.inner.id.as_str().to_owned(),
            handshake: self.handshake().to_json(self.auth_raw()),
            rooms: self.rooms().iter().map(|r| r.as_str().to_owned()).collect(),
            data: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// Typed per-socket storage.
    pub fn extensions(&self) -> &Extensions {
        &self.inner.extensions
    }

    /// The transport the connection uses now (`polling` or `websocket`).
    pub fn transport(&self) -> crate::engine::TransportKind {
        self.inner.client.session.transport()
    }

    /// Whether the socket is still connected.
    pub fn connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// Joins `room`.
    pub fn join(&self, room: impl Into<Room>) {
        self.inner.ns.join(&self.inner, room.into());
    }

    /// Leaves `room`.
    pub fn leave(&self, room: impl Into<Room>) {
        self.inner.ns.leave(&self.inner, &room.into());
    }

    /// The rooms this socket is in, its own id room first (as in the reference server).
    pub fn rooms(&self) -> Vec<Room> {
        let mut out = vec![Room::from(self.inner.id)];
        out.extend(self.inner.rooms.lock().iter().cloned());
        out
    }

    /// Removes the socket from its namespace; the client sees the reason
    /// `io server disconnect`. The disconnect handler runs.
    pub fn disconnect(&self) {
        if self.inner.leave_namespace(DisconnectReason::ServerNamespaceDisconnect) {
            let fut = self.inner.ns.handler.disconnect(
                Conn::from_inner(self.inner.clone()),
                DisconnectReason::ServerNamespaceDisconnect,
            );
            tokio::spawn(fut);
        }
    }

    /// Closes the client's whole connection (all its namespaces).
    pub fn close(&self) {
        self.inner.client.session.close(crate::engine::CloseReason::ForcedClose);
    }

    /// A broadcast to `room` (and other rooms chained with `.to`), without this socket.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id).to(room)
    }

    /// A broadcast to every socket of the namespace but this one and those in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id).except(room)
    }

    /// This socket's namespace (`socket.nsp` in JavaScript): its path, every socket in it
    /// (`conn.namespace().emit(..)` reaches this socket too, as the reference's
    /// `io.of(nsp).emit(..)`), rooms, server-side events, `fetch_sockets`, server count.
    pub fn namespace(&self) -> NsHandle<E> {
        NsHandle::new(self.inner.ns.clone())
    }

    /// A broadcast to every socket of the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id)
    }

    /// A broadcast restricted to this server (matters once an adapter spans several).
    pub fn local(&self) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id).local()
    }

    /// An emit to this socket with a timeout for its acknowledgement
    /// (`socket.timeout(ms).emit(..)` in JavaScript).
    pub fn timeout(&self, timeout: Duration) -> ConnOperator<E> {
        ConnOperator { conn: self.clone(), timeout: Some(timeout), volatile: false }
    }

    /// An emit to this socket that is dropped, not queued, when the client's queue is full
    /// (`socket.volatile.emit(..)` in JavaScript): for data that is stale soon anyway.
    pub fn volatile(&self) -> ConnOperator<E> {
        ConnOperator { conn: self.clone(), timeout: None, volatile: true }
    }

    /// The untyped view of this socket (escape hatch for events outside `E`).
    pub fn untyped(&self) -> Conn<Untyped> {
        Conn::from_inner(self.inner.clone())
    }

    /// Encodes and sends an EVENT (typed and untyped emits use this).
    pub(crate) fn emit_dyn(
        &self,
        event: &str,
        args: &dyn WriteArgs,
        volatile: bool,
    ) -> Result<(), EmitError> {
        let enc = encode::encode_args(self.inner.ns.path(), Some(event), args, None)?;
        self.inner.send(&enc, volatile)
    }

    /// Emits with an ack id and waits for the reply (typed and untyped emits use this).
    pub(crate) fn emit_with_ack_dyn(
        &self,
        event: &str,
        args: &dyn WriteArgs,
        timeout: Option<Duration>,
        volatile: bool,
    ) -> AckFuture<AckReply> {
        let inner = self.inner.clone();
        let id = inner.ns.next_ack_id();
        let (tx, rx) = oneshot::channel();
        let sent = encode::encode_args(inner.ns.path(), Some(event), args, Some(id))
            .map_err(EmitError::from)
            .and_then(|enc| {
                inner.register_ack(id, AckEntry::One(tx));
                inner.send(&enc, volatile)
            });
        let timeout = timeout.unwrap_or_else(|| inner.ack_timeout());
        // However the future ends (reply, timeout, error, or dropped by the caller before it
        // finished), the socket's table does not keep the entry.
        let guard = ForgetAcks { id, sockets: vec![inner] };
        Box::pin(async move {
            let _guard = &guard;
            sent.map_err(AckError::Send)?;
            match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(reply)) => Ok(AckReply::new(reply, None)),
                Ok(Err(_)) => Err(AckError::Disconnected),
                Err(_) => Err(AckError::Timeout),
            }
        })
    }
}

impl Conn<Untyped> {
    /// Emits `event` with one argument, `data`.
    ///
    /// # Errors
    /// When `data` cannot be serialized, the client's queue is full (it is being
    /// disconnected) or the socket is disconnected.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_dyn(event, &One(data), false)
    }

    /// Emits `event` with several arguments: a tuple `(a, b, ...)`, `()` or [`RawArgs`].
    ///
    /// # Errors
    /// As [`Conn::emit`].
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.emit_dyn(event, &args, false)
    }

    /// Emits `event` and waits for the client's acknowledgement (the server's ack timeout
    /// applies; see [`Conn::timeout`] to change it).
    pub fn emit_with_ack<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &One(data), None, false)
    }

    /// [`Conn::emit_with_ack`] with several arguments.
    pub fn emit_args_with_ack<A: ToArgs>(&self, event: &str, args: A) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &args, None, false)
    }
}

/// An emit to one socket with options: an ack timeout ([`Conn::timeout`]), volatile delivery
/// ([`Conn::volatile`]), or both (`conn.volatile().timeout(d)`).
#[derive(Debug, Clone)]
#[must_use = "an operator does nothing until you emit through it"]
pub struct ConnOperator<E = Untyped> {
    conn: Conn<E>,
    timeout: Option<Duration>,
    volatile: bool,
}

impl<E> ConnOperator<E> {
    /// Sets the ack timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Makes the emit volatile.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// The socket.
    pub fn conn(&self) -> &Conn<E> {
        &self.conn
    }

    pub(crate) fn emit_dyn(&self, event: &str, args: &dyn WriteArgs) -> Result<(), EmitError> {
        self.conn.emit_dyn(event, args, self.volatile)
    }

    pub(crate) fn emit_with_ack_dyn(&self, event: &str, args: &dyn WriteArgs) -> AckFuture<AckReply> {
        self.conn.emit_with_ack_dyn(event, args, self.timeout, self.volatile)
    }
}

impl ConnOperator<Untyped> {
    /// Emits `event` with one argument.
    ///
    /// # Errors
    /// As [`Conn::emit`]; a volatile emit to a full queue is dropped without error.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_dyn(event, &One(data))
    }

    /// Emits `event` with several arguments.
    ///
    /// # Errors
    /// As [`ConnOperator::emit`].
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.emit_dyn(event, &args)
    }

    /// Emits `event` and waits at most the timeout (the server's ack timeout when none is
    /// set) for the acknowledgement.
    pub fn emit_with_ack<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &One(data))
    }

    /// Several arguments.
    pub fn emit_args_with_ack<A: ToArgs>(&self, event: &str, args: A) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &args)
    }
}

/// An event received from a client.
pub struct Event {
    packet: Packet,
    attachments: Vec<Bytes>,
    ack: Option<AckSender>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("data", &String::from_utf8_lossy(&self.packet.data))
            .field("attachments", &self.attachments.len())
            .field("ack", &self.ack.as_ref().map(|a| a.id))
            .finish()
    }
}

impl Event {
    pub(crate) fn new(packet: Packet, attachments: Vec<Bytes>, socket: &Arc<SocketInner>) -> Self {
        let ack = packet.id.map(|id| AckSender { socket: socket.clone(), id });
        Self { packet, attachments, ack }
    }

    /// The event name.
    pub fn name(&self) -> &str {
        self.packet.event_name().unwrap_or("")
    }

    /// The arguments, typed as a tuple: `let (room, text): (String, String) = ev.args()?`.
    pub fn args<T: FromArgs>(&self) -> Result<T, serde_json::Error> {
        decode_args_at(&self.packet.data, self.packet.args_at(), &self.attachments)
    }

    /// The first argument, typed.
    pub fn arg<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        decode_args_at::<(T,)>(&self.packet.data, self.packet.args_at(), &self.attachments).map(|(v,)| v)
    }

    /// Every argument, untyped (JSON and binary), e.g. to re-emit them unchanged.
    pub fn raw(&self) -> RawArgs {
        decode_args_at(&self.packet.data, self.packet.args_at(), &self.attachments).unwrap_or_default()
    }

    /// The binary attachments.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Whether the client asked for an acknowledgement.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Takes the means to acknowledge this event. If it is dropped unused, no ack is sent
    /// (the client's callback only fires if it set a timeout).
    pub fn take_ack(&mut self) -> Option<AckSender> {
        self.ack.take()
    }
}

/// Acknowledges one event (consumed by sending).
pub struct AckSender {
    socket: Arc<SocketInner>,
    id: u64,
}

impl fmt::Debug for AckSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckSender").field("id", &self.id).finish()
    }
}

impl AckSender {
    /// Replies with one argument.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), EmitError> {
        self.send_args(One(data))
    }

    /// Replies with several arguments (a tuple, `()` or [`RawArgs`]).
    pub fn send_args<A: ToArgs>(self, args: A) -> Result<(), EmitError> {
        let enc = encode::encode_args(self.socket.ns.path(), None, &args, Some(self.id))?;
        self.socket.send(&enc, false)
    }
}
