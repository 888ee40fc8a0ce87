//! [`NsHandle`]: operations on one namespace from outside a handler.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::ack::AckFuture;
use super::error::EmitError;
use super::local::RemoteSocket;
use super::namespace::Namespace;
use super::operators::BroadcastOperator;
use super::socket::{Conn, Untyped};
use super::typed::{AckEvent, PlainEvent, ServerEvents, TypedReplies};
use crate::adapter::{AdapterError, AdapterFuture, Payload, ServerAck};
use crate::protocol::{RawArgs, ToArgs};
use crate::{Room, Sid};

/// Operations on one namespace: emit to all its sockets, select rooms, list sockets, talk to
/// the other servers of the cluster (Node's `io.of(path)`, `socket.nsp`). Cheap to clone.
///
/// From outside a handler: [`Server::of`](crate::Server::of) (untyped) or
/// [`Server::namespace`](crate::Server::namespace) (by the `#[namespace]` type, with its
/// server events as `E`). From a handler: [`Conn::namespace`](crate::Conn::namespace).
/// Selectors ([`NsHandle::to`], [`NsHandle::except`], ...) return a [`BroadcastOperator`].
///
/// ```
/// use sio_core::{Handlers, Server};
///
/// let io = Server::builder().ns("/chat", Handlers::new()).build();
/// let chat = io.of("/chat").unwrap();
/// chat.emit("announcement", &"maintenance at 5").unwrap(); // every socket of /chat
/// chat.to("lobby").emit("message", &"hi").unwrap();
/// assert_eq!(chat.len(), 0);
/// assert!(chat.rooms().is_empty());
/// ```
pub struct NsHandle<E = Untyped> {
    ns: Arc<Namespace>,
    _events: std::marker::PhantomData<fn() -> E>,
}

impl<E> Clone for NsHandle<E> {
    fn clone(&self) -> Self {
        Self { ns: self.ns.clone(), _events: std::marker::PhantomData }
    }
}

impl<E> fmt::Debug for NsHandle<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NsHandle").field("path", &self.ns.path()).finish()
    }
}

impl<E> NsHandle<E> {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self { ns, _events: std::marker::PhantomData }
    }

    /// The namespace path, with its leading `/`.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// assert_eq!(io.of("chat").unwrap().path(), "/chat");
    /// ```
    pub fn path(&self) -> &str {
        self.ns.path()
    }

    fn op(&self) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.ns.clone())
    }

    /// Every socket of the namespace, as a broadcast target (`io.of(..).emit` in JavaScript),
    /// to chain options onto or make them all join, leave or disconnect.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().all().local().emit("node-news", &"restarting").unwrap();
    /// ```
    pub fn all(&self) -> BroadcastOperator<E> {
        self.op()
    }

    /// Selects the sockets in `room` (`io.to(room)` in JavaScript).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().to("lobby").emit("message", &"hi").unwrap();
    /// ```
    #[doc(alias = "in")]
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        self.op().to(room)
    }

    /// Selects every socket but those in `room`.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().except("muted").emit("message", &"hi").unwrap();
    /// ```
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        self.op().except(room)
    }

    /// Selects every socket, restricted to this server (`io.local` in JavaScript).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().local().emit("node-news", &"restarting").unwrap();
    /// ```
    pub fn local(&self) -> BroadcastOperator<E> {
        self.op().local()
    }

    /// Selects every socket, dropping the packet for those whose queue is full.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().volatile().emit("tick", &1).unwrap();
    /// ```
    pub fn volatile(&self) -> BroadcastOperator<E> {
        self.op().volatile()
    }

    /// Selects every socket, with a timeout for acks.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # async fn demo(io: Server) -> Option<()> {
    /// use std::time::Duration;
    ///
    /// let replies = io.of("/chat")?.timeout(Duration::from_secs(5)).emit_with_ack("status?", &()).await.ok()?;
    /// # Some(()) }
    /// ```
    pub fn timeout(&self, d: Duration) -> BroadcastOperator<E> {
        self.op().timeout(d)
    }

    /// Every connected socket of this server (for every server of the cluster,
    /// [`NsHandle::fetch_sockets`]).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// for conn in io.of("/chat").unwrap().sockets() {
    ///     println!("{}: {:?}", conn.id(), conn.rooms());
    /// }
    /// ```
    pub fn sockets(&self) -> Vec<Conn<E>> {
        self.op().sockets()
    }

    /// The socket with id `sid`, if it is connected to this namespace on this server.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// use sio_core::Sid;
    ///
    /// // An id kept from earlier, e.g. in a database:
    /// if let Some(sid) = Sid::parse("AAAAAAAAAAAAAAAAAAAA") {
    ///     if let Some(conn) = io.of("/chat").unwrap().socket(sid) {
    ///         conn.emit("reminder", &"your turn").ok();
    ///     }
    /// }
    /// ```
    pub fn socket(&self, sid: Sid) -> Option<Conn<E>> {
        self.ns.socket(sid).map(Conn::from_inner)
    }

    /// Number of connected sockets (on this server).
    pub fn len(&self) -> usize {
        self.ns.len()
    }

    /// Whether no socket is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sockets of every node (only this one without an adapter); see
    /// [`BroadcastOperator::fetch_sockets`].
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # async fn demo(io: Server) -> Option<()> {
    /// for s in io.of("/chat")?.fetch_sockets().await.ok()? {
    ///     if s.rooms().iter().any(|r| r == "banned") {
    ///         s.disconnect(); // wherever it is connected
    ///     }
    /// }
    /// # Some(()) }
    /// ```
    ///
    /// # Errors
    /// With an adapter, the future fails with an [`AdapterError`] when the other servers
    /// cannot be reached or do not all answer in time.
    #[doc(alias = "fetchSockets")]
    pub fn fetch_sockets(
        &self,
    ) -> impl Future<Output = Result<Vec<RemoteSocket>, AdapterError>> + Send + use<E> {
        self.op().fetch_sockets()
    }

    /// The number of servers serving this namespace, this one included (1 without an
    /// adapter).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # async fn demo(io: Server) -> Option<()> {
    /// let servers = io.of("/chat")?.server_count().await.ok()?;
    /// # Some(()) }
    /// ```
    ///
    /// # Errors
    /// With an adapter, the future fails with an [`AdapterError`] when Redis (or whatever
    /// connects the servers) cannot be reached.
    #[doc(alias = "serverCount")]
    pub fn server_count(&self) -> AdapterFuture<usize> {
        match self.ns.adapter() {
            Some(a) => self.ns.adapter_request("server count", a.server_count()),
            None => Box::pin(async { Ok(1) }),
        }
    }

    /// Emits `event` to the other servers of the cluster (not to clients): their handlers
    /// registered with [`NsHandle::on_server_event`] run, as do Node servers'
    /// `io.on(event, ..)` listeners. A no-op without an adapter.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().server_side_emit("reload-config", ("v2",)).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`EmitError::Encode`] when `args` cannot be serialized. Delivery is not confirmed:
    /// with the adapter down, the message is dropped (and logged by the adapter).
    #[doc(alias = "serverSideEmit")]
    pub fn server_side_emit<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        if let Some(a) = self.ns.adapter() {
            a.server_side_emit(&Payload::encode(Some(event), &args)?);
        }
        Ok(())
    }

    /// [`NsHandle::server_side_emit`], collecting one reply per other server (fails when
    /// not all of them replied within `timeout`). Empty without an adapter.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # async fn demo(io: Server) -> Option<()> {
    /// use std::time::Duration;
    ///
    /// let replies = io.of("/chat")?.server_side_emit_with_ack("load?", (), Duration::from_secs(2)).await.ok()?;
    /// let loads: Vec<f64> = replies.iter().filter_map(|r| r.get::<f64>(0)?.ok()).collect();
    /// # Some(()) }
    /// ```
    ///
    /// # Errors
    /// The future fails with [`AdapterError::Encode`] when `args` cannot be serialized,
    /// [`AdapterError::Timeout`] when not every other server replied within `timeout`,
    /// [`AdapterError::Unavailable`] when they cannot be reached.
    #[doc(alias = "serverSideEmit")]
    pub fn server_side_emit_with_ack<A: ToArgs>(
        &self,
        event: &str,
        args: A,
        timeout: Duration,
    ) -> AdapterFuture<Vec<RawArgs>> {
        let payload = match Payload::encode(Some(event), &args) {
            Ok(p) => p,
            Err(e) => {
                let e = AdapterError::from(e);
                return Box::pin(async move { Err(e) });
            }
        };
        let Some(adapter) = self.ns.adapter() else { return Box::pin(async { Ok(Vec::new()) }) };
        let fut =
            self.ns.adapter_request("server-side emit", adapter.server_side_emit_with_ack(&payload, timeout));
        Box::pin(async move { Ok(fut.await?.iter().map(Payload::args).collect()) })
    }

    /// Handles server-side event `event` sent by other servers ([`NsHandle::server_side_emit`]
    /// here, `io.serverSideEmit` on Node). `f` gets the arguments and, when the sender waits
    /// for replies, a [`ServerAck`]. Replaces an earlier handler of the same name. `f` runs on
    /// the adapter's listener: keep it short and spawn a task for slow work (the ack can move
    /// into it).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().on_server_event("load?", |args, ack| {
    ///     if let Some(ack) = ack {
    ///         ack.send(&0.25).ok(); // what server_side_emit_with_ack collects
    ///     }
    /// });
    /// ```
    pub fn on_server_event<F>(&self, event: &str, f: F)
    where
        F: Fn(RawArgs, Option<ServerAck>) + Send + Sync + 'static,
    {
        self.ns.on_server_event(event, Arc::new(f));
    }

    /// Rooms that have members on this server, with their member counts (sockets' own id
    /// rooms excluded).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// for (room, members) in io.of("/chat").unwrap().rooms() {
    ///     println!("{room}: {members}");
    /// }
    /// ```
    pub fn rooms(&self) -> Vec<(Room, usize)> {
        self.ns.room_sizes()
    }

    /// How many sockets of this server are in `room` (a socket id counts as a room of one),
    /// without collecting them; the seed servers' `RoomLen`. For the whole cluster, count
    /// [`BroadcastOperator::fetch_sockets`].
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// let chat = io.of("/chat").unwrap();
    /// assert_eq!(chat.room_len("lobby"), 0);
    /// ```
    #[doc(alias = "RoomLen")]
    pub fn room_len(&self, room: &str) -> usize {
        self.ns.room_len(room)
    }
}

impl NsHandle<Untyped> {
    /// Emits to every socket of the namespace.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().emit("announcement", &"maintenance at 5").unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`BroadcastOperator::emit`]: only when `data` cannot be serialized.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.op().emit(event, data)
    }

    /// Emits several arguments to every socket of the namespace.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().emit_args("announcement", ("maintenance", 5)).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`BroadcastOperator::emit`].
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.op().emit_args(event, args)
    }
}

impl<E: ServerEvents> NsHandle<E> {
    /// Emits one of the namespace's server events to every socket.
    ///
    /// ```
    /// use sio_core::prelude::*;
    ///
    /// #[server_events]
    /// enum ChatEvent {
    ///     Announcement(String),
    /// }
    ///
    /// struct Chat;
    ///
    /// #[namespace("/chat", emits = ChatEvent)]
    /// impl Chat {
    ///     #[event]
    ///     async fn msg(&self, text: String) {}
    /// }
    ///
    /// let io = Server::builder().namespace(Chat).build();
    /// let chat = io.namespace::<Chat>().unwrap(); // NsHandle<ChatEvent>
    /// chat.emit(ChatEvent::Announcement("maintenance at 5".into())).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`BroadcastOperator::emit`]: only when the payload cannot be serialized.
    pub fn emit(&self, event: impl PlainEvent<E>) -> Result<(), EmitError> {
        self.op().emit(event)
    }

    /// Emits an event declared with `#[event(ack = R)]` to every socket and collects the
    /// replies, typed `R`, as [`BroadcastOperator::emit_with_ack`](BroadcastOperator#method.emit_with_ack-1).
    ///
    /// ```
    /// use sio_core::prelude::*;
    ///
    /// #[server_events]
    /// enum PollEvent {
    ///     #[event(ack = bool)]
    ///     StillThere,
    /// }
    ///
    /// struct Poll;
    ///
    /// #[namespace("/poll", emits = PollEvent)]
    /// impl Poll {}
    ///
    /// async fn count(io: &Server) -> usize {
    ///     let Some(poll) = io.namespace::<Poll>() else { return 0 };
    ///     match poll.emit_with_ack(PollEvent::StillThere).await {
    ///         Ok(r) => r.replies.iter().filter(|(_, yes)| matches!(yes, Ok(true))).count(),
    ///         Err(_) => 0,
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`BroadcastOperator::emit_with_ack`](BroadcastOperator#method.emit_with_ack-1).
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<Q: AckEvent<E>>(&self, event: Q) -> AckFuture<TypedReplies<Q::Reply>> {
        self.op().emit_with_ack(event)
    }
}
