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
use super::event_ctx::EventCtx;
use super::extensions::Extensions;
use super::handle::NsHandle;
use super::handshake::Handshake;
use super::namespace::Namespace;
use super::namespace::Selection;
use super::operators::BroadcastOperator;
use super::reason::DisconnectReason;
use super::recovery::{Appender, Restored};
use crate::adapter::{BroadcastOptions, SessionState, SocketInfo};
use crate::engine::{BoxFuture, Frame, ProtocolVersion, SendError};
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
    /// Connection state recovery's part, when the namespace has it on (boxed: a socket
    /// without it pays one pointer).
    pub(crate) recovery: Option<Box<SocketRecovery>>,
    /// Application data (Node's `socket.data`): `{}` until set (boxed when set).
    data: Mutex<Option<Box<serde_json::Value>>>,
}

/// A socket's connection state recovery.
pub(crate) struct SocketRecovery {
    /// The private session id the client presents to recover this socket.
    pub(crate) pid: Sid,
    /// Whether this socket took over a disconnected one's session.
    pub(crate) recovered: bool,
    /// The taken session, until the socket enters the namespace and gets what it missed.
    pub(crate) restored: Mutex<Option<Restored>>,
}

impl fmt::Debug for SocketInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket").field("id", &self.id).field("ns", &self.ns.path()).finish_non_exhaustive()
    }
}

impl SocketInner {
    pub(crate) fn new(
        id: Sid,
        ns: Arc<Namespace>,
        client: Arc<ClientShared>,
        auth: Option<Box<serde_json::value::RawValue>>,
        pid: Option<Sid>,
        restored: Option<Restored>,
    ) -> Self {
        let data = restored.as_ref().map(|r| Box::new(r.saved.data.clone()));
        Self {
            id,
            ns,
            client,
            state: AtomicU8::new(CONNECTING),
            rooms: Mutex::new(Vec::new()),
            acks: Mutex::new(HashMap::new()),
            pre_connect: Mutex::new(Vec::new()),
            extensions: Extensions::default(),
            auth,
            recovery: pid.map(|pid| {
                Box::new(SocketRecovery {
                    pid,
                    recovered: restored.is_some(),
                    restored: Mutex::new(restored),
                })
            }),
            data: Mutex::new(data),
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

    /// Whether this socket took over a disconnected one's session.
    pub(crate) fn recovered(&self) -> bool {
        self.recovery.as_ref().is_some_and(|r| r.recovered)
    }

    /// The application data, `{}` when none was set.
    pub(crate) fn data(&self) -> serde_json::Value {
        self.data
            .lock()
            .as_deref()
            .cloned()
            .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()))
    }

    /// Takes the session this socket recovered (once, when it enters the namespace).
    pub(crate) fn take_restored(&self) -> Option<Restored> {
        self.recovery.as_ref()?.restored.lock().take()
    }

    /// Queues a packet kept in the namespace's recovery log. A recovering socket still
    /// connecting gets it with what it missed, when it enters the namespace.
    pub(crate) fn send_logged(&self, enc: &Encoded) -> Result<(), EmitError> {
        if self.recovered() && self.state.load(Ordering::Acquire) == CONNECTING {
            return Ok(());
        }
        self.send(enc, false)
    }

    /// Sends what a recovered socket missed, the CONNECT reply and whatever the connect
    /// handler emitted.
    pub(crate) fn mark_connected(&self, missed: Vec<Encoded>) {
        let mut pre = self.pre_connect.lock();
        for enc in &missed {
            if self.client.session.send_all(enc.frames()).is_err() {
                tracing::warn!(sid = %self.id, "a recovered socket's missed packets overflow its buffer, closing");
                self.client.session.close(crate::engine::CloseReason::BufferFull);
                break;
            }
        }
        let reply = match self.client.session.protocol() {
            ProtocolVersion::V4 => encode::connect(
                self.ns.config.parser,
                self.ns.path(),
                self.id.as_str(),
                self.recovery.as_ref().map(|r| r.pid.as_str()),
            ),
            // Socket.IO v4: no payload (the client computes its id).
            ProtocolVersion::V3 => encode::connect_v3(self.ns.path()),
        };
        let _ = self.client.session.send(reply);
        if !pre.is_empty() {
            let _ = self.client.session.send_all(&pre);
        }
        pre.clear();
        pre.shrink_to_fit();
        self.state.store(CONNECTED, Ordering::Release);
    }

    /// Leaves the namespace: rooms, client table and pending acks. Returns false if it had
    /// already left.
    /// Takes the socket out of its namespace with `reason`; `None` when it had left already.
    /// The future runs the namespace's `disconnecting` hook (the socket still in its rooms),
    /// takes it out of its rooms, then runs the `disconnect` handler. Without a hook the socket
    /// is out of its rooms before this returns.
    pub(crate) fn leave(self: &Arc<Self>, reason: DisconnectReason) -> Option<BoxFuture> {
        if self.state.swap(DISCONNECTED, Ordering::AcqRel) == DISCONNECTED {
            return None;
        }
        if reason == DisconnectReason::ServerNamespaceDisconnect {
            let _ = self.client.session.send(encode::disconnect(self.ns.config.parser, self.ns.path()));
        }
        self.client.remove(self);
        self.acks.lock().clear();
        #[cfg(feature = "admin-ui")]
        if let Some(admin) = &self.ns.config.admin {
            admin.disconnected(self.ns.path(), self.id.as_str(), reason);
        }
        let conn = Conn::from_inner(self.clone());
        let Some(hook) = self.ns.handler.disconnecting(conn.clone(), reason) else {
            self.leave_rooms(reason);
            return Some(self.ns.handler.disconnect(conn, reason));
        };
        /// Takes the socket out of its rooms when the hook ends, even by a panic.
        struct OutOfRooms(Arc<SocketInner>, DisconnectReason);
        impl Drop for OutOfRooms {
            fn drop(&mut self) {
                self.0.leave_rooms(self.1);
            }
        }
        let rooms = OutOfRooms(self.clone(), reason);
        Some(Box::pin(async move {
            use futures_util::FutureExt as _;
            if std::panic::AssertUnwindSafe(hook).catch_unwind().await.is_err() {
                crate::log::limited!(error, crate::log::Kind::Panic, sid = %conn.id(), ns = conn.namespace().path(), "a disconnecting hook panicked");
            }
            drop(rooms);
            let handler = conn.inner.ns.handler.clone();
            handler.disconnect(conn, reason).await;
        }))
    }

    /// Out of the namespace's tables (its rooms); an emptied dynamic namespace may go. With
    /// recovery on and a recoverable `reason`, the session stays behind for its client.
    fn leave_rooms(self: &Arc<Self>, reason: DisconnectReason) {
        if let (Some(rec), Some(pid)) = (&self.ns.recovery, self.recovery.as_ref().map(|r| r.pid))
            && reason.is_recoverable()
        {
            let session =
                SessionState { sid: self.id, pid, rooms: self.rooms.lock().clone(), data: self.data() };
            if let Some(adapter) = self.ns.adapter() {
                adapter.persist_session(&session, rec.config.max_disconnection_duration);
            }
            if !self.ns.adapter_logs {
                rec.persist(session);
            }
        }
        self.ns.remove_socket(self);
        self.client.server.sweep(&self.ns);
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

/// A connected socket: one client in one namespace (Node's `socket`). Cheap to clone.
///
/// Handlers get one: an injected parameter of a `#[namespace]` handler, or the first argument
/// of a [`Handlers`](crate::Handlers) closure. It stays usable after the handler returns;
/// once the socket has left, its emits fail with [`EmitError::Disconnected`].
///
/// `E` is the namespace's set of server-to-client events when typed (`emits = E`, see
/// [`ServerEvents`](trait@crate::ServerEvents)): [`Conn::emit`] then takes an `E` and nothing
/// else. The default [`Untyped`] takes event names and payloads.
///
/// ```
/// use sio_core::{Conn, Event, Handlers};
///
/// let handlers = Handlers::new().on("join", |conn: Conn, ev: Event| async move {
///     let Ok(room) = ev.arg::<String>() else { return };
///     conn.join(room.as_str());
///     conn.to(room.as_str()).emit("joined", &conn.id()).ok();
///     conn.emit("welcome", &room).ok();
/// });
/// ```
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
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// // Another socket can reach this one through its id room:
    /// conn.namespace().to(conn.id()).emit("private", &"hello").ok();
    /// # });
    /// ```
    pub fn id(&self) -> Sid {
        self.inner.id
    }

    /// The connection's handshake (headers, query, address), shared by its sockets in every
    /// namespace.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// let lang = conn.handshake().query("lang").unwrap_or_else(|| "en".into());
    /// let agent = conn.handshake().headers().get("user-agent");
    /// # });
    /// ```
    pub fn handshake(&self) -> &Handshake {
        &self.inner.client.handshake
    }

    /// The auth payload sent with the namespace CONNECT, deserialized as `T`. When the client
    /// sent none, it is read from `{}` (as the reference server shows it), and an `Option`
    /// that cannot be read from `{}` is `None`.
    ///
    /// ```
    /// # use sio_core::{Conn, ConnectError, Handlers};
    /// #[derive(serde::Deserialize)]
    /// struct Login { token: String }
    ///
    /// let h = Handlers::new().on_connect(|conn: Conn| async move {
    ///     // io(url, { auth: { token: "..." } }) on the client
    ///     let login: Login = conn.auth().map_err(|e| ConnectError::new(e.to_string()))?;
    ///     if login.token.is_empty() {
    ///         return Err(ConnectError::new("no token"));
    ///     }
    ///     Ok(())
    /// });
    /// ```
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

    /// Whether this socket recovered the session of a disconnected one
    /// ([`ServerBuilder::connection_state_recovery`](crate::ServerBuilder::connection_state_recovery)):
    /// its id, rooms and [`data`](Self::data) are the old socket's, and the packets it missed
    /// were delivered before the CONNECT reply. Node's `socket.recovered`.
    ///
    /// ```
    /// # use sio_core::{Conn, Handlers};
    /// let ns = Handlers::new().on_connect(|conn: Conn| async move {
    ///     if !conn.recovered() {
    ///         conn.join("lobby");
    ///     }
    ///     Ok(())
    /// });
    /// # let _ = ns;
    /// ```
    pub fn recovered(&self) -> bool {
        self.inner.recovered()
    }

    /// The socket's application data (Node's `socket.data`): whatever [`set_data`](Self::set_data)
    /// stored, as `T`. Unlike [`extensions`](Self::extensions) it is JSON: `fetch_sockets` on
    /// any node of a cluster (Node's included) sees it, and connection state recovery brings
    /// it back. `{}` until set.
    ///
    /// ```
    /// # use sio_core::{Conn, Handlers};
    /// #[derive(serde::Serialize, serde::Deserialize, Default)]
    /// struct Profile { nick: String, score: u32 }
    ///
    /// let ns = Handlers::new().on_connect(|conn: Conn| async move {
    ///     let mut profile: Profile = conn.data().unwrap_or_default();
    ///     profile.score += 1;
    ///     conn.set_data(&profile).ok();
    ///     Ok(())
    /// });
    /// # let _ = ns;
    /// ```
    ///
    /// # Errors
    /// When the stored JSON does not deserialize as `T`.
    #[doc(alias = "socket.data")]
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &*self.inner.data.lock() {
            Some(value) => T::deserialize(&**value),
            None => T::deserialize(&serde_json::Value::Object(serde_json::Map::new())),
        }
    }

    /// Replaces the socket's application data (see [`data`](Self::data)).
    ///
    /// # Errors
    /// When `value`'s `Serialize` implementation fails (the data is unchanged then).
    pub fn set_data<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        *self.inner.data.lock() = Some(Box::new(value));
        #[cfg(feature = "admin-ui")]
        if let Some(admin) = &self.inner.ns.config.admin {
            admin.updated(&self.untyped());
        }
        Ok(())
    }

    /// What `fetch_sockets` reports for this socket.
    pub(crate) fn info(&self) -> SocketInfo {
        SocketInfo {
            id: self.inner.id.as_str().to_owned(),
            handshake: self.handshake().to_json(self.auth_raw()),
            rooms: self.rooms().iter().map(|r| r.as_str().to_owned()).collect(),
            data: self.inner.data(),
        }
    }

    /// Typed per-socket storage (what Node keeps in `socket.data`), one value per type.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// #[derive(Clone)]
    /// struct Nickname(String);
    ///
    /// conn.extensions().insert(Nickname("ann".into()));
    /// let name = conn.extensions().get::<Nickname>().map(|n| n.0);
    /// # });
    /// ```
    #[doc(alias = "data")]
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

    /// Joins `room` (a `&str`, a `String`, a [`Room`] or a [`Sid`]). Joining a room twice is
    /// the same as once; a socket that has left joins nothing.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.join("lobby");
    /// assert!(conn.rooms().iter().any(|r| r.as_str() == "lobby"));
    /// # });
    /// ```
    pub fn join(&self, room: impl Into<Room>) {
        self.inner.ns.join(&self.inner, room.into());
    }

    /// Leaves `room` (nothing happens when the socket is not in it).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.leave("lobby");
    /// # });
    /// ```
    pub fn leave(&self, room: impl Into<Room>) {
        self.inner.ns.leave(&self.inner, &room.into());
    }

    /// Leaves every room but its own id room (socket.io 2's `leaveAll`).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.join("a");
    /// conn.join("b");
    /// conn.leave_all();
    /// assert_eq!(conn.rooms().len(), 1); // its own id room
    /// # });
    /// ```
    #[doc(alias = "leaveAll")]
    pub fn leave_all(&self) {
        self.inner.ns.leave_all(&self.inner);
    }

    /// The rooms this socket is in, its own id room first (as in the reference server).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.join("lobby");
    /// let rooms = conn.rooms();
    /// assert_eq!(rooms[0].as_str(), conn.id().as_str());
    /// # });
    /// ```
    pub fn rooms(&self) -> Vec<Room> {
        let mut out = vec![Room::from(self.inner.id)];
        out.extend(self.inner.rooms.lock().iter().cloned());
        out
    }

    /// Removes the socket from its namespace; the client sees the reason
    /// `io server disconnect`. The disconnect handler runs (with
    /// [`DisconnectReason::ServerNamespaceDisconnect`]). The connection and its sockets in other
    /// namespaces stay; see [`Conn::close`] to end them all.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// if conn.handshake().query("token").is_none() {
    ///     conn.disconnect();
    /// }
    /// # });
    /// ```
    pub fn disconnect(&self) {
        if let Some(handlers) = self.inner.leave(DisconnectReason::ServerNamespaceDisconnect) {
            tokio::spawn(handlers);
        }
    }

    /// Closes the client's whole connection, as Node's `socket.disconnect(true)`: what is queued
    /// is delivered first, then a DISCONNECT for each of the connection's namespaces (the
    /// client sees `io server disconnect` everywhere and does not reconnect by itself), then the
    /// connection closes. The disconnect handlers run with
    /// [`DisconnectReason::ServerNamespaceDisconnect`], as Node reports it.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.emit("bye", &"banned").ok(); // delivered before the connection closes
    /// conn.close();
    /// # });
    /// ```
    pub fn close(&self) {
        for socket in self.inner.client.sockets() {
            if let Some(handlers) = socket.leave(DisconnectReason::ServerNamespaceDisconnect) {
                tokio::spawn(handlers);
            }
        }
        self.inner.client.session.close(crate::engine::CloseReason::ForcedClose);
    }

    /// A broadcast to `room` (and other rooms chained with `.to`), without this socket
    /// (`socket.to(room)` in JavaScript).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// // Every socket in "lobby" or "games" (once each), except this one and those in "muted":
    /// conn.to("lobby").to("games").except("muted").emit("message", &"hi").ok();
    /// # });
    /// ```
    #[doc(alias = "in")]
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id).to(room)
    }

    /// A broadcast to every socket of the namespace but this one and those in `room`
    /// (`socket.except(room)` in JavaScript).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.except("muted").emit("announcement", &"maintenance at 5").ok();
    /// # });
    /// ```
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id).except(room)
    }

    /// This socket's namespace (`socket.nsp` in JavaScript): its path, every socket in it
    /// (`conn.namespace().emit(..)` reaches this socket too, as the reference's
    /// `io.of(nsp).emit(..)`), rooms, server-side events, `fetch_sockets`, server count.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// let path = conn.namespace().path().to_owned(); // e.g. "/chat"
    /// conn.namespace().emit("online", &conn.namespace().len()).ok(); // this socket included
    /// # });
    /// ```
    #[doc(alias = "nsp")]
    pub fn namespace(&self) -> NsHandle<E> {
        NsHandle::new(self.inner.ns.clone())
    }

    /// A broadcast to every socket of the namespace but this one (`socket.broadcast` in
    /// JavaScript).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.broadcast().emit("user-joined", &conn.id()).ok();
    /// # });
    /// ```
    pub fn broadcast(&self) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id)
    }

    /// A broadcast to every socket of the namespace but this one, restricted to this server
    /// (matters once an adapter spans several; `socket.local` in JavaScript).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.local().emit("node-news", &"cache cleared").ok();
    /// # });
    /// ```
    pub fn local(&self) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.inner.ns.clone()).except_sid(self.inner.id).local()
    }

    /// An emit to this socket with a timeout for its acknowledgement
    /// (`socket.timeout(ms).emit(..)` in JavaScript).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// use std::time::Duration;
    ///
    /// match conn.timeout(Duration::from_secs(2)).emit_with_ack("ping", &()).await {
    ///     Ok(reply) => println!("pong: {:?}", reply.get::<String>()),
    ///     Err(e) => println!("no answer: {e}"), // AckError::Timeout after 2 s
    /// }
    /// # });
    /// ```
    pub fn timeout(&self, timeout: Duration) -> ConnOperator<E> {
        ConnOperator { conn: self.clone(), timeout: Some(timeout), volatile: false }
    }

    /// An emit to this socket that is dropped, not queued, when the client's queue is full
    /// (`socket.volatile.emit(..)` in JavaScript): for data that is stale soon anyway. A
    /// volatile packet never gets the client disconnected for a full queue.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.volatile().emit("position", &(10, 20)).ok();
    /// # });
    /// ```
    pub fn volatile(&self) -> ConnOperator<E> {
        ConnOperator { conn: self.clone(), timeout: None, volatile: true }
    }

    /// The untyped view of this socket (escape hatch for events outside `E`).
    ///
    /// ```
    /// # use sio_core::{Conn, server_events};
    /// #[server_events]
    /// enum ChatEvent {
    ///     Message(String),
    /// }
    ///
    /// fn greet(conn: &Conn<ChatEvent>) {
    ///     conn.emit(ChatEvent::Message("hi".into())).ok();
    ///     // conn.emit("debug", &1);   // does not compile: only ChatEvent
    ///     conn.untyped().emit("debug", &1).ok();
    /// }
    /// ```
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
        let ns = &self.inner.ns;
        if !volatile
            && ns.adapter_logs
            && self.inner.state.load(Ordering::Acquire) == CONNECTED
            && let Some(adapter) = ns.adapter()
        {
            // The adapter's log gives the offset and delivers it (as Node sends a socket's
            // emits through its adapter under recovery). From the connect handler the packet
            // goes straight out, ahead of the CONNECT reply, and is not recoverable.
            let packed = encode::encode_packet(ns.config.parser, ns.path(), Some(event), args, None)?;
            let opts =
                BroadcastOptions { rooms: vec![Room::from(self.inner.id)], ..BroadcastOptions::default() };
            adapter.publish_logged(&packed.payload(), &opts);
            return Ok(());
        }
        if !volatile
            && !ns.adapter_logs
            && let Some(rec) = &ns.recovery
        {
            {
                let mut log = rec.appender();
                let (n, offset) = log.next_offset();
                let enc = encode::encode_args(
                    ns.config.parser,
                    ns.path(),
                    Some(event),
                    &Appender::args(args, &offset),
                    None,
                )
                .inspect_err(|_| log.unget())?;
                let sel = Selection { rooms: vec![Room::from(self.inner.id)], ..Selection::default() };
                log.keep(n, sel, &enc);
                self.inner.send_logged(&enc)?;
            }
            // Listeners see the arguments without the offset, outside the log's lock.
            if ns.any_outgoing {
                let packed = encode::encode_packet(ns.config.parser, ns.path(), Some(event), args, None)?;
                ns.notify_outgoing(std::slice::from_ref(&self.inner), &packed.payload());
            }
            return Ok(());
        }
        let packed = encode::encode_packet(ns.config.parser, ns.path(), Some(event), args, None)?;
        self.inner.send(&packed.enc, volatile)?;
        if ns.any_outgoing {
            ns.notify_outgoing(std::slice::from_ref(&self.inner), &packed.payload());
        }
        Ok(())
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
        let sent =
            encode::encode_packet(inner.ns.config.parser, inner.ns.path(), Some(event), args, Some(id))
                .map_err(EmitError::from)
                .and_then(|packed| {
                    inner.register_ack(id, AckEntry::One(tx));
                    inner.send(&packed.enc, volatile)?;
                    if inner.ns.any_outgoing {
                        inner.ns.notify_outgoing(std::slice::from_ref(&inner), &packed.payload());
                    }
                    Ok(())
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
    /// Emits `event` with one argument, `data` (for several, [`Conn::emit_args`]; for none,
    /// `emit_args(event, ())`).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// #[derive(serde::Serialize)]
    /// struct Msg<'a> { from: &'a str, text: &'a str }
    ///
    /// if let Err(e) = conn.emit("message", &Msg { from: "server", text: "hi" }) {
    ///     println!("not sent: {e}"); // the socket left, or cannot keep up
    /// }
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`EmitError::Encode`] when `data` cannot be serialized, [`EmitError::BufferFull`] when
    /// the client's queue is full (it is being disconnected), [`EmitError::Disconnected`] when
    /// the socket has left.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_dyn(event, &One(data), false)
    }

    /// Emits `event` with several arguments: a tuple `(a, b, ...)`, `()` or [`RawArgs`].
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// use sio_core::Binary;
    ///
    /// conn.emit_args("file", ("a.txt", Binary::from(vec![1u8, 2, 3]))).ok(); // (name: string, data: ArrayBuffer)
    /// conn.emit_args("ready", ()).ok();                                       // no arguments
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit`].
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.emit_dyn(event, &args, false)
    }

    /// Emits `event` and waits for the client's acknowledgement (the server's ack timeout
    /// applies; see [`Conn::timeout`] to change it). The client acknowledges with its
    /// callback: `socket.on("event", (data, cb) => cb(reply))`.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// let reply = conn.emit_with_ack("confirm", &"delete everything?").await;
    /// let yes = reply.and_then(|r| r.get::<bool>()).unwrap_or(false);
    /// # });
    /// ```
    ///
    /// # Errors
    /// The future fails with [`AckError::Timeout`] when no reply came in time,
    /// [`AckError::Disconnected`] when the socket left first, [`AckError::Send`] when the
    /// packet could not be sent (as [`Conn::emit`]). Reading the reply may fail with
    /// [`AckError::Decode`].
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &One(data), None, false)
    }

    /// [`Conn::emit_with_ack`] with several arguments.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// if let Ok(reply) = conn.emit_args_with_ack("sum", (1, 2)).await {
    ///     let (sum,): (i32,) = reply.args().unwrap_or((0,));
    /// }
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit_with_ack`].
    pub fn emit_args_with_ack<A: ToArgs>(&self, event: &str, args: A) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &args, None, false)
    }
}

/// An emit to one socket with options: an ack timeout ([`Conn::timeout`]), volatile delivery
/// ([`Conn::volatile`]), or both (`conn.volatile().timeout(d)`).
///
/// ```
/// # use sio_core::{Conn, Event, Handlers};
/// use std::time::Duration;
///
/// let h = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
///     conn.volatile().emit("cursor", &(3, 4)).ok();
///     let reply = conn.volatile().timeout(Duration::from_millis(500)).emit_with_ack("ping", &()).await;
/// });
/// ```
#[derive(Debug, Clone)]
#[must_use = "an operator does nothing until you emit through it"]
pub struct ConnOperator<E = Untyped> {
    conn: Conn<E>,
    timeout: Option<Duration>,
    volatile: bool,
}

impl<E> ConnOperator<E> {
    /// Sets the ack timeout (for `emit_with_ack`; a plain emit has none).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Makes the emit volatile: dropped, not queued, when the client's queue is full.
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
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.volatile().emit("position", &(10, 20)).ok();
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit`]. A volatile emit to a full queue is dropped: it returns
    /// [`EmitError::BufferFull`] too, but the client is not disconnected.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_dyn(event, &One(data))
    }

    /// Emits `event` with several arguments.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.volatile().emit_args("position", (10, 20)).ok(); // two arguments
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`ConnOperator::emit`].
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.emit_dyn(event, &args)
    }

    /// Emits `event` and waits at most the timeout (the server's ack timeout when none is
    /// set) for the acknowledgement.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// use std::time::Duration;
    ///
    /// let answer = conn.timeout(Duration::from_secs(1)).emit_with_ack("question", &"ready?").await;
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit_with_ack`]; [`AckError::Timeout`] after this operator's timeout.
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &One(data))
    }

    /// [`ConnOperator::emit_with_ack`] with several arguments.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// use std::time::Duration;
    ///
    /// let answer = conn.timeout(Duration::from_secs(1)).emit_args_with_ack("sum", (1, 2)).await;
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`ConnOperator::emit_with_ack`].
    pub fn emit_args_with_ack<A: ToArgs>(&self, event: &str, args: A) -> AckFuture<AckReply> {
        self.emit_with_ack_dyn(event, &args)
    }
}

/// An event received from a client, as [`Handlers`](crate::Handlers) closures get it (a
/// `#[namespace]` handler gets its arguments as parameters instead).
///
/// Its arguments are read on demand, typed ([`Event::arg`], [`Event::args`]) or untyped
/// ([`Event::raw`]); the means to acknowledge it is [`Event::take_ack`].
///
/// ```
/// use sio_core::{Conn, Event, Handlers};
///
/// let h = Handlers::new().on_fallback(|conn: Conn, mut ev: Event| async move {
///     println!("{} sent {}", conn.id(), ev.name());
///     if let Some(ack) = ev.take_ack() {
///         ack.send(&"got it").ok();
///     }
/// });
/// ```
pub struct Event {
    packet: Packet,
    attachments: Vec<Bytes>,
    ack: Option<AckSender>,
    /// Per-event data: shared with the event middlewares' [`EventCtx`], or made on first use.
    extensions: std::sync::OnceLock<Arc<Extensions>>,
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
        Self { packet, attachments, ack, extensions: std::sync::OnceLock::new() }
    }

    /// What event middlewares see: the same name, arguments and extensions, owned (the
    /// extensions are shared: what a middleware stores there, the handler reads).
    pub fn ctx(&self) -> EventCtx {
        let extensions = self.extensions.get_or_init(Default::default).clone();
        EventCtx::new(self.packet.clone(), self.attachments.clone(), self.ack.is_some(), extensions)
    }

    /// The ack id the client asked for (kept to answer it when the handler panicked).
    pub(crate) fn ack_id(&self) -> Option<u64> {
        self.packet.id
    }

    /// The event's name, kept cheaply (a reference count) for an error report.
    pub(crate) fn name_handle(&self) -> Option<crate::protocol::EventName> {
        self.packet.name.clone()
    }

    /// Per-event storage: what the namespace's event middlewares left for the handler
    /// ([`EventCtx::extensions`]); empty when none did.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// #[derive(Clone)]
    /// struct User(u64);
    ///
    /// let h = Handlers::new().on("post", |conn: Conn, ev: Event| async move {
    ///     let Some(User(id)) = ev.extensions().get::<User>() else { return };
    /// });
    /// ```
    pub fn extensions(&self) -> &Extensions {
        self.extensions.get_or_init(Default::default)
    }

    /// The event name.
    pub fn name(&self) -> &str {
        self.packet.event_name().unwrap_or("")
    }

    /// The arguments, typed as a tuple (or any [`FromArgs`] type). A missing trailing
    /// `Option` argument is `None`; extra arguments are ignored.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, ev: Event| async move {
    /// // socket.emit("move", "lobby", 3, 4) on the client
    /// if let Ok((room, x, y)) = ev.args::<(String, i32, Option<i32>)>() {
    ///     conn.to(room).emit_args("moved", (x, y)).ok();
    /// }
    /// # });
    /// ```
    ///
    /// # Errors
    /// When an argument does not deserialize as its type, or a required one is missing.
    pub fn args<T: FromArgs>(&self) -> Result<T, serde_json::Error> {
        decode_args_at(&self.packet.data, self.packet.args_at(), &self.attachments)
    }

    /// The arguments, read by `read` (the code `#[namespace]` generates). Not public API.
    #[doc(hidden)]
    pub fn __decode<T>(
        &self,
        read: impl FnOnce(&mut crate::protocol::ArgCursor<'_>) -> Result<T, serde_json::Error>,
    ) -> Result<T, serde_json::Error> {
        crate::protocol::decode_args_with(&self.packet.data, self.packet.args_at(), &self.attachments, read)
    }

    /// The first argument, typed.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, ev: Event| async move {
    /// #[derive(serde::Deserialize)]
    /// struct Msg { room: String, text: String }
    ///
    /// let Ok(msg) = ev.arg::<Msg>() else { return };
    /// conn.to(msg.room).emit("message", &msg.text).ok();
    /// # });
    /// ```
    ///
    /// # Errors
    /// When the first argument is missing or does not deserialize as `T`.
    pub fn arg<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        decode_args_at::<(T,)>(&self.packet.data, self.packet.args_at(), &self.attachments).map(|(v,)| v)
    }

    /// Every argument, untyped (JSON and binary), e.g. to re-emit them unchanged (empty if
    /// they cannot be read).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, ev: Event| async move {
    /// conn.broadcast().emit_args(ev.name(), ev.raw()).ok(); // a relay, binary included
    /// # });
    /// ```
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

    /// Takes the means to acknowledge this event (`None` when the client asked for no ack,
    /// or it was taken already). If it is dropped unused, no ack is sent (the client's
    /// callback only fires if it set a timeout).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// let h = Handlers::new().on("save", |conn: Conn, mut ev: Event| async move {
    ///     let ack = ev.take_ack();
    ///     let saved = ev.arg::<String>().is_ok();
    ///     if let Some(ack) = ack {
    ///         ack.send(&saved).ok(); // the client's callback gets `true` or `false`
    ///     }
    /// });
    /// ```
    pub fn take_ack(&mut self) -> Option<AckSender> {
        self.ack.take()
    }
}

/// Acknowledges one event (consumed by sending): the arguments the client's callback gets.
/// From [`Event::take_ack`].
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
    /// Answers ack `id` of `socket` (when the handler that held the sender is gone).
    pub(crate) fn for_id(socket: Arc<SocketInner>, id: u64) -> Self {
        Self { socket, id }
    }

    /// Replies with one argument.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// let h = Handlers::new().on("add", |_conn: Conn, mut ev: Event| async move {
    ///     let (a, b) = ev.args::<(i64, i64)>().unwrap_or_default();
    ///     if let Some(ack) = ev.take_ack() {
    ///         ack.send(&(a + b)).ok(); // socket.emit("add", 1, 2, (sum) => ..)
    ///     }
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit`]: the reply does not serialize, the client's queue is full, or the
    /// socket has left.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), EmitError> {
        self.send_args(One(data))
    }

    /// Replies with several arguments (a tuple, `()` or [`RawArgs`]).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// let echo = Handlers::new().on("echo", |_conn: Conn, mut ev: Event| async move {
    ///     if let Some(ack) = ev.take_ack() {
    ///         ack.send_args(ev.raw()).ok(); // every argument back, binary included
    ///     }
    /// });
    /// ```
    ///
    /// # Errors
    /// As [`AckSender::send`].
    pub fn send_args<A: ToArgs>(self, args: A) -> Result<(), EmitError> {
        let enc = encode::encode_args(
            self.socket.ns.config.parser,
            self.socket.ns.path(),
            None,
            &args,
            Some(self.id),
        )?;
        self.socket.send(&enc, false)
    }
}
