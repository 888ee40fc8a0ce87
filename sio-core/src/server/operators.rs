//! Broadcast operators: `to`, `except`, `broadcast`, `local`, `volatile`, `timeout`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use super::ack::{AckEntry, AckError, AckFuture, AckReplies, AckReply};
use super::encode::{self, Encoded};
use super::error::EmitError;
use super::local::RemoteSocket;
use super::namespace::{Namespace, Selection};
use super::recovery::{Appender, Recovery, payload_with_offset};
use super::socket::{Conn, ForgetAcks, SocketInner, Untyped};
use crate::adapter::{AdapterError, BroadcastOptions, NamespaceAdapter, Payload, RemoteAck, SocketInfo};
use crate::protocol::{EncodeError, One, ToArgs, WriteArgs};
use crate::{Room, Sid};

/// Selects sockets of one namespace and sends to all of them (Node's `BroadcastOperator`).
/// The packet is encoded once and the same buffer is queued to every recipient; every socket
/// receives broadcasts in emit order.
///
/// From a handler: [`Conn::to`], [`Conn::except`], [`Conn::broadcast`], [`Conn::local`] (all
/// without the sender). From anywhere: [`NsHandle::to`](crate::NsHandle::to),
/// [`NsHandle::all`](crate::NsHandle::all) and the other [`NsHandle`](crate::NsHandle)
/// selectors. Selectors chain: rooms add up (a socket in several receives once), `except`
/// removes, `local`, `volatile` and `timeout` set options. Without an adapter everything is
/// local; with one, emits, room operations and `fetch_sockets` reach the sockets of every
/// server.
///
/// ```
/// use std::time::Duration;
/// use sio_core::{Handlers, Server};
///
/// let io = Server::builder().ns("/chat", Handlers::new()).build();
/// let chat = io.of("/chat").unwrap();
/// chat.to("lobby").to("games").except("muted").emit("message", &"hi").unwrap();
/// chat.all().volatile().emit("tick", &1).unwrap();
/// chat.to("lobby").join("lobby-archive");  // every socket in "lobby" joins another room
/// let op = chat.to("games").timeout(Duration::from_secs(5)); // for emit_with_ack
/// ```
#[must_use = "an operator does nothing until you emit (or join, leave, disconnect) through it"]
pub struct BroadcastOperator<E = Untyped> {
    ns: Arc<Namespace>,
    sel: Selection,
    local: bool,
    volatile: bool,
    timeout: Option<Duration>,
    _events: PhantomData<fn() -> E>,
}

impl<E> fmt::Debug for BroadcastOperator<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", &self.ns.path())
            .field("rooms", &self.sel.rooms)
            .field("except", &self.sel.except)
            .field("local", &self.local)
            .field("volatile", &self.volatile)
            .finish()
    }
}

impl<E> BroadcastOperator<E> {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self {
            ns,
            sel: Selection::default(),
            local: false,
            volatile: false,
            timeout: None,
            _events: PhantomData,
        }
    }

    pub(crate) fn except_sid(mut self, sid: Sid) -> Self {
        self.sel.except_sid = Some(sid);
        self
    }

    /// Adds a target room (sockets in any of the rooms receive, once).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.to("lobby").to("games").emit("news", &"tournament at 8").ok();
    /// # });
    /// ```
    #[doc(alias = "in")]
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.sel.rooms.push(room.into());
        self
    }

    /// Adds several target rooms.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// let rooms = vec!["lobby".to_owned(), "games".to_owned()];
    /// conn.broadcast().to_all(&rooms).emit("news", &"tournament at 8").ok();
    /// # });
    /// ```
    pub fn to_all<I: IntoIterator<Item = R>, R: Into<Room>>(mut self, rooms: I) -> Self {
        self.sel.rooms.extend(rooms.into_iter().map(Into::into));
        self
    }

    /// Excludes sockets in `room` (several calls exclude several rooms).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.to("lobby").except("muted").except("away").emit("message", &"hi").ok();
    /// # });
    /// ```
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.sel.except.push(room.into());
        self
    }

    /// Only sockets on this server (once an adapter spans several; Node's `.local`).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.to("lobby").local().emit("node-news", &"restarting soon").ok();
    /// # });
    /// ```
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// Drops the packet for recipients whose queue is full instead of disconnecting them
    /// (Node's `.volatile`): for data that is stale soon anyway.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// conn.broadcast().volatile().emit("typing", &conn.id()).ok();
    /// # });
    /// ```
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Timeout for [`BroadcastOperator::emit_with_ack`] (the server's ack timeout when not
    /// set; Node's `.timeout(ms)`).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// use std::time::Duration;
    ///
    /// let replies = conn.broadcast().timeout(Duration::from_secs(2)).emit_with_ack("vote", &"pizza?").await;
    /// # });
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Calls `f` for every selected local socket (with the namespace's tables locked).
    pub(crate) fn for_each(&self, f: impl FnMut(&Arc<SocketInner>)) {
        self.ns.for_each_selected(&self.sel, f);
    }

    /// The remote side, unless this operation stays on this node.
    fn remote(&self) -> Option<&Arc<dyn NamespaceAdapter>> {
        if self.local { None } else { self.ns.adapter() }
    }

    /// The selection as it travels to other nodes (the excluded sender included).
    pub(crate) fn options(&self) -> BroadcastOptions {
        let mut except = self.sel.except.clone();
        if let Some(sid) = self.sel.except_sid {
            except.push(Room::from(sid));
        }
        BroadcastOptions {
            rooms: self.sel.rooms.clone(),
            except,
            local: self.local,
            volatile: self.volatile,
            timeout: self.timeout,
        }
    }

    /// Queues `enc` with ack id `id` to every selected local socket, replies going to `tx`;
    /// returns the sockets that took it.
    /// `json` is the packet's arguments in JSON form, for the namespace's outgoing listeners
    /// (only called when it has some).
    pub(crate) fn send_with_ack(
        &self,
        enc: &Encoded,
        id: u64,
        tx: &mpsc::UnboundedSender<(Sid, Payload)>,
        json: impl FnOnce() -> Payload,
    ) -> Vec<Arc<SocketInner>> {
        let mut targets = Vec::new();
        self.for_each(|socket| {
            socket.register_ack(id, AckEntry::Many(tx.clone()));
            if socket.send(enc, self.volatile).is_ok() {
                targets.push(socket.clone());
            } else {
                socket.forget_ack(id);
            }
        });
        if self.ns.any_outgoing {
            self.ns.notify_outgoing(&targets, &json());
        }
        targets
    }

    /// Queues `enc` to every selected local socket; returns how many took it. `json` is as for
    /// [`BroadcastOperator::send_with_ack`].
    pub(crate) fn send_encoded(&self, enc: &Encoded, json: impl FnOnce() -> Payload) -> usize {
        let (sent, took) = self.deliver(enc);
        if self.ns.any_outgoing {
            // Outside the namespace's locks: a listener may join, leave or emit.
            self.ns.notify_outgoing(&took, &json());
        }
        sent
    }

    /// Queues `enc` to every selected local socket; returns how many took it and, when the
    /// namespace has outgoing listeners, which (to tell them once the locks are released).
    fn deliver(&self, enc: &Encoded) -> (usize, Vec<Arc<SocketInner>>) {
        let volatile = self.volatile;
        let mut sent = 0;
        let mut took = Vec::new();
        let listened = self.ns.any_outgoing;
        self.for_each(|socket| match socket.send(enc, volatile) {
            Ok(()) => {
                sent += 1;
                if listened {
                    took.push(socket.clone());
                }
            }
            Err(e) => tracing::debug!(sid = %socket.id, error = %e, "broadcast not delivered"),
        });
        (sent, took)
    }

    /// Calls `f` for every selected local socket, outside the namespace's locks (joining,
    /// leaving and disconnecting take them).
    pub(crate) fn for_each_conn(&self, mut f: impl FnMut(Conn)) {
        self.ns.selected(&self.sel).into_iter().for_each(|s| f(Conn::from_inner(s)));
    }

    pub(crate) fn emit_dyn(&self, event: &str, args: &dyn WriteArgs) -> Result<(), EmitError> {
        if !self.volatile
            && let Some(rec) = &self.ns.recovery
        {
            if !self.ns.adapter_logs {
                return self.emit_logged(rec, event, args);
            }
            // The adapter's log gives the offset and delivers here too; a local-only
            // broadcast is not recoverable then (as Node's `local` flag).
            if let Some(remote) = self.remote() {
                let packed =
                    encode::encode_packet(self.ns.config.parser, self.ns.path(), Some(event), args, None)?;
                remote.publish_logged(&packed.payload(), &self.options());
                return Ok(());
            }
        }
        let packed = encode::encode_packet(self.ns.config.parser, self.ns.path(), Some(event), args, None)?;
        self.send_encoded(&packed.enc, || packed.payload());
        if let Some(remote) = self.remote() {
            remote.broadcast(&packed.payload(), &self.options());
        }
        Ok(())
    }

    /// [`emit_dyn`](Self::emit_dyn) with connection state recovery: the local packet carries
    /// its offset and stays in the namespace's log; other nodes get it without (they give it
    /// their own).
    fn emit_logged(&self, rec: &Recovery, event: &str, args: &dyn WriteArgs) -> Result<(), EmitError> {
        let (parser, path) = (self.ns.config.parser, self.ns.path());
        let took = {
            let mut log = rec.appender();
            let (n, offset) = log.next_offset();
            let enc = encode::encode_args(parser, path, Some(event), &Appender::args(args, &offset), None)
                .inspect_err(|_| log.unget())?;
            log.keep(n, self.sel.clone(), &enc);
            self.deliver(&enc).1
        };
        // Other nodes and outgoing listeners get the arguments without the offset, and
        // listeners run outside the log's lock (they may emit).
        let remote = self.remote();
        if remote.is_some() || self.ns.any_outgoing {
            let payload = encode::encode_packet(parser, path, Some(event), args, None)?.payload();
            if let Some(remote) = remote {
                remote.broadcast(&payload, &self.options());
            }
            if self.ns.any_outgoing {
                self.ns.notify_outgoing(&took, &payload);
            }
        }
        Ok(())
    }

    /// Queues an EVENT from another node to the selected local sockets, with its offset when
    /// the namespace has connection state recovery. Returns the number of recipients.
    pub(crate) fn deliver_payload(&self, packet: &Payload) -> Result<usize, EncodeError> {
        let (parser, path) = (self.ns.config.parser, self.ns.path());
        match &self.ns.recovery {
            Some(rec) if !self.volatile && !self.ns.adapter_logs => {
                let (sent, took) = {
                    let mut log = rec.appender();
                    let (n, offset) = log.next_offset();
                    let enc =
                        encode::encode_payload(parser, path, &payload_with_offset(packet, &offset), None)
                            .inspect_err(|_| log.unget())?;
                    log.keep(n, self.sel.clone(), &enc);
                    self.deliver(&enc)
                };
                if self.ns.any_outgoing {
                    self.ns.notify_outgoing(&took, packet);
                }
                Ok(sent)
            }
            _ => {
                Ok(self.send_encoded(&encode::encode_payload(parser, path, packet, None)?, || packet.clone()))
            }
        }
    }

    /// Queues a packet of the adapter's log to the selected local sockets with its `offset`
    /// (recovery on, the adapter logging packets). Returns the number of recipients.
    pub(crate) fn deliver_payload_at(&self, packet: &Payload, offset: &str) -> Result<usize, EncodeError> {
        let (parser, path) = (self.ns.config.parser, self.ns.path());
        let enc = encode::encode_payload(parser, path, &payload_with_offset(packet, offset), None)?;
        let (sent, took) = self.deliver(&enc);
        if self.ns.any_outgoing {
            self.ns.notify_outgoing(&took, packet);
        }
        Ok(sent)
    }

    pub(crate) fn emit_with_ack_dyn(&self, event: &str, args: &dyn WriteArgs) -> AckFuture<AckReplies> {
        let id = self.ns.next_ack_id();
        let encoded =
            encode::encode_packet(self.ns.config.parser, self.ns.path(), Some(event), args, Some(id));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut targets = Vec::new();
        let mut remote = None;
        let mut opts = self.options();
        opts.timeout = Some(self.timeout.unwrap_or(self.ns.config.ack_timeout));
        if let Ok(packed) = &encoded {
            targets = self.send_with_ack(&packed.enc, id, &tx, || packed.payload());
            remote = self.remote().map(|r| {
                self.ns.count_adapter_request();
                r.broadcast_with_ack(&packed.payload(), &opts)
            });
        }
        drop(tx);
        let timeout = opts.timeout.unwrap_or_default();
        // The local sockets' entries go when the future ends, or is dropped unfinished.
        let guard = ForgetAcks { id, sockets: targets };
        Box::pin(async move {
            let targets = &guard.sockets;
            encoded.map_err(|e| AckError::Send(e.into()))?;
            let local = targets.len();
            let mut replies = Vec::with_capacity(local);
            // The local channel closes once every local recipient replied or left.
            let mut local_open = true;
            let mut remote_expected = 0;
            let mut remote_replies = 0;
            let mut counting = remote.is_some();
            let deadline = tokio::time::sleep(timeout);
            tokio::pin!(deadline);
            while local_open || counting || remote_replies < remote_expected {
                tokio::select! {
                    r = rx.recv(), if local_open => match r {
                        Some((sid, reply)) => replies.push(AckReply::new(reply, Some(sid))),
                        None => local_open = false,
                    },
                    r = recv_remote(&mut remote) => match r {
                        Some(RemoteAck::ClientCount(n)) => remote_expected += n,
                        Some(RemoteAck::Reply(reply)) => {
                            remote_replies += 1;
                            replies.push(AckReply::new(reply, None));
                        }
                        Some(RemoteAck::CountsComplete) => counting = false,
                        None => {
                            // The adapter gave up: nothing more will come from other nodes.
                            remote = None;
                            counting = false;
                            remote_expected = remote_replies;
                        }
                    },
                    () = &mut deadline => break,
                }
            }
            Ok(AckReplies { replies, expected: local + remote_expected })
        })
    }

    /// The selected sockets of this server (for every server of the cluster,
    /// [`BroadcastOperator::fetch_sockets`]).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// for other in conn.to("lobby").sockets() {
    ///     println!("{} is in the lobby", other.id());
    /// }
    /// # });
    /// ```
    pub fn sockets(&self) -> Vec<Conn<E>> {
        let mut out = Vec::new();
        self.for_each(|s| out.push(Conn::from_inner(s.clone())));
        out
    }

    pub(crate) fn local_infos(&self) -> Vec<SocketInfo> {
        let mut out = Vec::new();
        self.for_each_conn(|c| out.push(c.info()));
        out
    }

    /// The selected sockets of every node of the cluster (only this one without an adapter):
    /// ids, rooms and handshakes, with [`RemoteSocket`] methods to emit to them, make them
    /// join or leave rooms and disconnect them wherever they are.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// if let Ok(sockets) = conn.to("lobby").fetch_sockets().await {
    ///     for s in sockets {
    ///         println!("{} in {:?}", s.id(), s.rooms());
    ///     }
    /// }
    /// # });
    /// ```
    ///
    /// # Errors
    /// With an adapter, the future fails with an [`AdapterError`] when the other servers
    /// cannot be reached or do not all answer in time. Without one it does not fail.
    #[doc(alias = "fetchSockets")]
    pub fn fetch_sockets(
        &self,
    ) -> impl Future<Output = Result<Vec<RemoteSocket>, AdapterError>> + Send + use<E> {
        let local = self.local_infos();
        let remote =
            self.remote().map(|r| self.ns.adapter_request("fetch sockets", r.fetch_sockets(&self.options())));
        let ns = self.ns.clone();
        async move {
            let mut all = local;
            if let Some(remote) = remote {
                all.extend(remote.await?);
            }
            Ok(all.into_iter().map(|info| RemoteSocket::new(ns.clone(), info)).collect())
        }
    }

    /// Makes every selected socket join `room` (on every node; Node's `socketsJoin`).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// // Everyone in "lobby" also joins "lobby-2024":
    /// io.of("/chat").unwrap().to("lobby").join("lobby-2024");
    /// ```
    #[doc(alias = "socketsJoin")]
    pub fn join(&self, room: impl Into<Room>) {
        let room = room.into();
        self.for_each_conn(|c| c.join(room.clone()));
        if let Some(remote) = self.remote() {
            remote.add_sockets(&self.options(), std::slice::from_ref(&room));
        }
    }

    /// Makes every selected socket leave `room` (on every node; Node's `socketsLeave`).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().all().leave("lobby"); // empties the room
    /// ```
    #[doc(alias = "socketsLeave")]
    pub fn leave(&self, room: impl Into<Room>) {
        let room = room.into();
        self.for_each_conn(|c| c.leave(room.clone()));
        if let Some(remote) = self.remote() {
            remote.del_sockets(&self.options(), std::slice::from_ref(&room));
        }
    }

    /// Disconnects every selected socket from the namespace (on every node; Node's
    /// `disconnectSockets()`), as [`Conn::disconnect`] does for one.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().to("banned").disconnect();
    /// ```
    #[doc(alias = "disconnectSockets")]
    pub fn disconnect(&self) {
        self.for_each_conn(|c| c.disconnect());
        if let Some(remote) = self.remote() {
            remote.disconnect_sockets(&self.options(), false);
        }
    }

    /// Closes the whole connection of every selected socket (on every node; Node's
    /// `disconnectSockets(true)`), as [`Conn::close`] does for one.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().to("banned").close();
    /// ```
    pub fn close(&self) {
        self.for_each_conn(|c| c.close());
        if let Some(remote) = self.remote() {
            remote.disconnect_sockets(&self.options(), true);
        }
    }
}

/// Awaits the next remote ack event (never called without a receiver).
async fn recv_remote(remote: &mut Option<mpsc::UnboundedReceiver<RemoteAck>>) -> Option<RemoteAck> {
    match remote {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl BroadcastOperator<Untyped> {
    /// Emits `event` with one argument to every selected socket.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().to("lobby").emit("message", &"hello, lobby").unwrap();
    /// ```
    ///
    /// # Errors
    /// [`EmitError::Encode`] when `data` cannot be serialized. Recipients whose queue is full
    /// or that have left are skipped (logged at debug level), not reported.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_dyn(event, &One(data))
    }

    /// Emits `event` with several arguments (a tuple, `()` or [`RawArgs`](crate::RawArgs)).
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # let io = Server::builder().ns("/chat", Handlers::new()).build();
    /// io.of("/chat").unwrap().to("lobby").emit_args("message", ("server", "hello")).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`BroadcastOperator::emit`].
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.emit_dyn(event, &args)
    }

    /// Emits with an ack id and collects every reply until all arrived or the timeout passed
    /// (the server's ack timeout unless [`BroadcastOperator::timeout`] sets one). With an
    /// adapter, the replies of the sockets of every server.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # async fn demo(io: Server) -> Option<()> {
    /// use std::time::Duration;
    ///
    /// let chat = io.of("/chat")?;
    /// let replies = chat.all().timeout(Duration::from_secs(5)).emit_with_ack("status?", &()).await.ok()?;
    /// let ready: Vec<bool> = replies.values().ok()?;
    /// println!("{} of {} answered", replies.replies.len(), replies.expected);
    /// # Some(()) }
    /// ```
    ///
    /// # Errors
    /// The future fails with [`AckError::Send`] when `data` cannot be serialized. Missing
    /// replies are not an error: [`AckReplies::is_complete`] tells.
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> AckFuture<AckReplies> {
        self.emit_with_ack_dyn(event, &One(data))
    }

    /// [`BroadcastOperator::emit_with_ack`] with several arguments.
    ///
    /// ```
    /// # use sio_core::{Handlers, Server};
    /// # async fn demo(io: Server) -> Option<()> {
    /// let replies = io.of("/chat")?.all().emit_args_with_ack("sum", (1, 2)).await.ok()?;
    /// # Some(()) }
    /// ```
    ///
    /// # Errors
    /// As [`BroadcastOperator::emit_with_ack`].
    pub fn emit_args_with_ack<A: ToArgs>(&self, event: &str, args: A) -> AckFuture<AckReplies> {
        self.emit_with_ack_dyn(event, &args)
    }
}
