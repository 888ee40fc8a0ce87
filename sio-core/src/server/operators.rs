//! Broadcast operators: `to`, `except`, `broadcast`, `local`, `volatile`, `timeout`.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use super::ack::{AckEntry, AckError, AckFuture, AckReplies};
use super::encode::{self, Encoded};
use super::namespace::Namespace;
use super::socket::{Conn, SocketInner, Untyped};
use super::{EmitError, Room};
use crate::Sid;
use crate::protocol::{One, ToArgs, WriteArgs};

/// Selects sockets of one namespace and sends to all of them. The packet is encoded once and
/// the same buffer is queued to every recipient.
pub struct BroadcastOperator<E = Untyped> {
    ns: Arc<Namespace>,
    rooms: Vec<Room>,
    except: Vec<Room>,
    except_sid: Option<Sid>,
    local: bool,
    volatile: bool,
    timeout: Option<Duration>,
    _events: PhantomData<fn() -> E>,
}

impl<E> fmt::Debug for BroadcastOperator<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", &self.ns.path())
            .field("rooms", &self.rooms)
            .field("except", &self.except)
            .field("local", &self.local)
            .field("volatile", &self.volatile)
            .finish()
    }
}

impl<E> BroadcastOperator<E> {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        Self {
            ns,
            rooms: Vec::new(),
            except: Vec::new(),
            except_sid: None,
            local: false,
            volatile: false,
            timeout: None,
            _events: PhantomData,
        }
    }

    pub(crate) fn except_sid(mut self, sid: Sid) -> Self {
        self.except_sid = Some(sid);
        self
    }

    /// Adds a target room (sockets in any of the rooms receive, once).
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.rooms.push(room.into());
        self
    }

    /// Adds several target rooms.
    pub fn to_all<I: IntoIterator<Item = R>, R: Into<Room>>(mut self, rooms: I) -> Self {
        self.rooms.extend(rooms.into_iter().map(Into::into));
        self
    }

    /// Excludes sockets in `room`.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.except.push(room.into());
        self
    }

    /// Only sockets on this server (once an adapter spans several).
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// Drops the packet for recipients whose queue is full instead of disconnecting them.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Timeout for [`BroadcastOperator::emit_with_ack`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Calls `f` for every selected socket.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Arc<SocketInner>)) {
        let sockets = self.ns.sockets.read();
        let excluded: HashSet<Sid> = if self.except.is_empty() {
            HashSet::new()
        } else {
            let index = self.ns.rooms.read();
            let mut set = HashSet::new();
            for room in &self.except {
                if let Some(members) = index.get(room) {
                    set.extend(members.iter().copied());
                } else if let Some(sid) = Sid::parse(room.as_str()) {
                    set.insert(sid);
                }
            }
            set
        };
        let skip = |sid: &Sid| Some(*sid) == self.except_sid || excluded.contains(sid);
        if self.rooms.is_empty() {
            for (sid, socket) in sockets.iter() {
                if !skip(sid) {
                    f(socket);
                }
            }
            return;
        }
        let index = self.ns.rooms.read();
        let mut seen = HashSet::new();
        let several = self.rooms.len() > 1;
        for room in &self.rooms {
            let mut visit = |sid: &Sid| {
                if skip(sid) || (several && !seen.insert(*sid)) {
                    return;
                }
                if let Some(socket) = sockets.get(sid) {
                    f(socket);
                }
            };
            match index.get(room) {
                Some(members) => members.iter().for_each(&mut visit),
                None => {
                    if let Some(sid) = Sid::parse(room.as_str()) {
                        visit(&sid);
                    }
                }
            }
        }
    }

    fn send_encoded(&self, enc: &Encoded) {
        let volatile = self.volatile;
        self.for_each(|socket| {
            if let Err(e) = socket.send(enc, volatile) {
                tracing::debug!(sid = %socket.id, error = %e, "broadcast not delivered");
            }
        });
    }

    #[doc(hidden)]
    pub fn __emit_args(&self, event: &str, args: &dyn WriteArgs) -> Result<(), EmitError> {
        let enc = encode::encode_args(self.ns.path(), Some(event), args, None)?;
        self.send_encoded(&enc);
        Ok(())
    }

    #[doc(hidden)]
    pub fn __emit_with_ack(&self, event: &str, args: &dyn WriteArgs) -> AckFuture<AckReplies> {
        let id = self.ns.next_ack_id();
        let encoded = encode::encode_args(self.ns.path(), Some(event), args, Some(id));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut targets = Vec::new();
        if let Ok(enc) = &encoded {
            self.for_each(|socket| {
                socket.register_ack(id, AckEntry::Many(tx.clone()));
                if socket.send(enc, self.volatile).is_ok() {
                    targets.push(socket.clone());
                } else {
                    socket.forget_ack(id);
                }
            });
        }
        drop(tx);
        let timeout = self.timeout.unwrap_or(self.ns.config.ack_timeout);
        Box::pin(async move {
            encoded.map_err(|e| AckError::Send(e.into()))?;
            let expected = targets.len();
            let mut replies = Vec::with_capacity(expected);
            let deadline = tokio::time::sleep(timeout);
            tokio::pin!(deadline);
            while replies.len() < expected {
                tokio::select! {
                    r = rx.recv() => match r {
                        Some(reply) => replies.push(reply),
                        None => break, // every remaining recipient disconnected
                    },
                    () = &mut deadline => break,
                }
            }
            for socket in &targets {
                socket.forget_ack(id);
            }
            Ok(AckReplies { replies, expected })
        })
    }

    /// The selected sockets.
    pub fn sockets(&self) -> Vec<Conn<E>> {
        let mut out = Vec::new();
        self.for_each(|s| out.push(Conn::from_inner(s.clone())));
        out
    }

    /// Makes every selected socket join `room`.
    pub fn join(&self, room: impl Into<Room>) {
        let room = room.into();
        for conn in self.sockets() {
            conn.join(room.clone());
        }
    }

    /// Makes every selected socket leave `room`.
    pub fn leave(&self, room: impl Into<Room>) {
        let room = room.into();
        for conn in self.sockets() {
            conn.leave(room.clone());
        }
    }

    /// Disconnects every selected socket from the namespace.
    pub fn disconnect(&self) {
        for conn in self.sockets() {
            conn.disconnect();
        }
    }
}

impl BroadcastOperator<Untyped> {
    /// Emits `event` with one argument to every selected socket.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.__emit_args(event, &One(data))
    }

    /// Emits `event` with several arguments.
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.__emit_args(event, &args)
    }

    /// Emits with an ack id and collects every reply until all arrived or the timeout passed.
    pub fn emit_with_ack<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> AckFuture<AckReplies> {
        self.__emit_with_ack(event, &One(data))
    }

    /// [`BroadcastOperator::emit_with_ack`] with several arguments.
    pub fn emit_args_with_ack<A: ToArgs>(&self, event: &str, args: A) -> AckFuture<AckReplies> {
        self.__emit_with_ack(event, &args)
    }
}
