//! [`NsHandle`]: operations on one namespace from outside a handler.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::error::EmitError;
use super::local::RemoteSocket;
use super::namespace::Namespace;
use super::operators::BroadcastOperator;
use super::socket::{Conn, Untyped};
use super::typed::ServerEvents;
use crate::adapter::{AdapterError, AdapterFuture, Payload, ServerAck};
use crate::protocol::{RawArgs, ToArgs};
use crate::{Room, Sid};

/// Operations on one namespace: emit to all its sockets, select rooms, list sockets.
///
/// `E` is the namespace's server events when it was looked up by type
/// ([`Server::namespace`](crate::Server::namespace)); [`Server::of`](crate::Server::of) gives the
/// untyped view.
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

    /// The namespace path.
    pub fn path(&self) -> &str {
        self.ns.path()
    }

    fn op(&self) -> BroadcastOperator<E> {
        BroadcastOperator::new(self.ns.clone())
    }

    /// Every socket of the namespace, as a broadcast target (`io.of(..).emit` in JavaScript).
    pub fn all(&self) -> BroadcastOperator<E> {
        self.op()
    }

    /// Selects the sockets in `room`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        self.op().to(room)
    }

    /// Selects every socket but those in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator<E> {
        self.op().except(room)
    }

    /// Selects every socket, restricted to this server.
    pub fn local(&self) -> BroadcastOperator<E> {
        self.op().local()
    }

    /// Selects every socket, dropping the packet for those whose queue is full.
    pub fn volatile(&self) -> BroadcastOperator<E> {
        self.op().volatile()
    }

    /// Selects every socket, with a timeout for acks.
    pub fn timeout(&self, d: Duration) -> BroadcastOperator<E> {
        self.op().timeout(d)
    }

    /// Every connected socket.
    pub fn sockets(&self) -> Vec<Conn<E>> {
        self.op().sockets()
    }

    /// The socket with id `sid`.
    pub fn socket(&self, sid: Sid) -> Option<Conn<E>> {
        self.ns.socket(sid).map(Conn::from_inner)
    }

    /// Number of connected sockets.
    pub fn len(&self) -> usize {
        self.ns.len()
    }

    /// Whether no socket is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sockets of every node (only this one without an adapter); see
    /// [`BroadcastOperator::fetch_sockets`].
    pub fn fetch_sockets(
        &self,
    ) -> impl Future<Output = Result<Vec<RemoteSocket>, AdapterError>> + Send + use<E> {
        self.op().fetch_sockets()
    }

    /// The number of servers serving this namespace, this one included (1 without an
    /// adapter).
    pub fn server_count(&self) -> AdapterFuture<usize> {
        match self.ns.adapter() {
            Some(a) => a.server_count(),
            None => Box::pin(async { Ok(1) }),
        }
    }

    /// Emits `event` to the other servers of the cluster (not to clients): their handlers
    /// registered with [`NsHandle::on_server_event`] run, as do Node servers'
    /// `io.on(event, ..)` listeners. A no-op without an adapter.
    pub fn server_side_emit<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        if let Some(a) = self.ns.adapter() {
            a.server_side_emit(&Payload::encode(Some(event), &args)?);
        }
        Ok(())
    }

    /// [`NsHandle::server_side_emit`], collecting one reply per other server (fails when
    /// not all of them replied within `timeout`). Empty without an adapter.
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
        let fut = adapter.server_side_emit_with_ack(&payload, timeout);
        Box::pin(async move { Ok(fut.await?.iter().map(Payload::args).collect()) })
    }

    /// Handles server-side event `event` sent by other servers ([`NsHandle::server_side_emit`]
    /// here, `io.serverSideEmit` on Node). `f` gets the arguments and, when the sender waits
    /// for replies, a [`ServerAck`]. Replaces an earlier handler of the same name. `f` runs on
    /// the adapter's listener: keep it short and spawn a task for slow work (the ack can move
    /// into it).
    pub fn on_server_event<F>(&self, event: &str, f: F)
    where
        F: Fn(RawArgs, Option<ServerAck>) + Send + Sync + 'static,
    {
        self.ns.on_server_event(event, Arc::new(f));
    }

    /// Rooms that have members, with their member counts.
    pub fn rooms(&self) -> Vec<(Room, usize)> {
        self.ns.room_sizes()
    }
}

impl NsHandle<Untyped> {
    /// Emits to every socket of the namespace.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.op().emit(event, data)
    }

    /// Emits several arguments to every socket of the namespace.
    pub fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitError> {
        self.op().emit_args(event, args)
    }
}

impl<E: ServerEvents> NsHandle<E> {
    /// Emits one of the namespace's server events to every socket.
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.op().emit(event)
    }
}
