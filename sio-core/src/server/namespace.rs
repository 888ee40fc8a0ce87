//! A live namespace: its sockets, its rooms and the locks that guard them.
//!
//! Locking rules, all kept in this file: a namespace has two tables, `sockets` (id → socket)
//! and `rooms` (room → members), and every socket has its own list of joined rooms. They are
//! taken in the order socket list → `sockets` → `rooms`, never the other way round. The
//! callback of [`Namespace::for_each_selected`] runs with `sockets` and `rooms` read-locked:
//! it may queue packets but must not join, leave or disconnect (collect the sockets first).
//! The adapter's room hooks run under the table lock that changed, so that the creation and
//! the deletion of one room reach it in order.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use super::builder::ServerConfig;
use super::handlers::{DynHandler, Middleware};
use super::recovery::Recovery;
use super::socket::{Conn, SocketInner};
use super::stats::NamespaceStats;
use crate::adapter::{Adapter, LocalNamespace, NamespaceAdapter, ServerAck};
use crate::protocol::{Payload, RawArgs};
use crate::{Room, Sid};

/// A handler of server-side events from other nodes.
pub(crate) type ServerEventFn = Arc<dyn Fn(RawArgs, Option<ServerAck>) + Send + Sync>;

/// How a namespace is served: its handler and connect middlewares.
#[derive(Clone)]
pub(crate) struct NamespaceDef {
    pub(crate) handler: Arc<dyn DynHandler>,
    pub(crate) middlewares: Vec<Middleware>,
}

/// Which sockets of a namespace an operation reaches: those in any of `rooms` (every socket
/// when empty), minus those in `except` and the socket `except_sid`. A room name that is a
/// socket id of this namespace selects that socket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) rooms: Vec<Room>,
    pub(crate) except: Vec<Room>,
    pub(crate) except_sid: Option<Sid>,
}

/// Whether the Admin UI reports the events of namespace `path` (`event_received`,
/// `event_sent`).
#[cfg(feature = "admin-ui")]
fn admin_watches(config: &ServerConfig, path: &str) -> bool {
    config.admin.as_ref().is_some_and(|a| a.may_watch(path))
}

#[cfg(not(feature = "admin-ui"))]
fn admin_watches(_: &ServerConfig, _: &str) -> bool {
    false
}

/// A live namespace: sockets, rooms, ack ids.
pub(crate) struct Namespace {
    path: Box<str>,
    pub(crate) handler: Arc<dyn DynHandler>,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) config: Arc<ServerConfig>,
    sockets: RwLock<HashMap<Sid, Arc<SocketInner>>>,
    rooms: RwLock<HashMap<Room, HashSet<Sid>>>,
    ack_ids: AtomicU64,
    adapter: Option<Arc<dyn NamespaceAdapter>>,
    server_events: RwLock<HashMap<Box<str>, ServerEventFn>>,
    /// Created by a dynamic pattern (and so may be dropped when empty).
    pub(crate) dynamic: bool,
    /// CONNECTs resolved to this namespace whose socket is not in it yet: a namespace with
    /// some is not empty (see `ServerInner::sweep`).
    pub(crate) pending: std::sync::atomic::AtomicUsize,
    /// Connection state recovery, when the server has it on.
    pub(crate) recovery: Option<Arc<Recovery>>,
    /// The handler listens to outgoing events (asked once): emits check only this.
    pub(crate) any_outgoing: bool,
    /// Of which the handler's own listener (the rest: the Admin UI's `event_sent`).
    handler_outgoing: bool,
    /// Recovery is on and the adapter logs packets
    /// ([`NamespaceAdapter::logs_packets`]): no log or session kept here.
    pub(crate) adapter_logs: bool,
    /// Requests to the other servers through the adapter (fetch sockets, server count,
    /// server-side emits and broadcasts with ack), and those that failed.
    adapter_requests: AtomicU64,
    adapter_failures: AtomicU64,
    /// Handler latency, with metrics on.
    #[cfg(feature = "metrics")]
    pub(crate) latency: Option<crate::metrics::Latency>,
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace").field("path", &self.path).field("sockets", &self.len()).finish()
    }
}

impl Namespace {
    pub(crate) fn new(
        path: &str,
        def: NamespaceDef,
        config: Arc<ServerConfig>,
        adapter: Option<&Arc<dyn Adapter>>,
        dynamic: bool,
    ) -> Arc<Self> {
        Arc::new_cyclic(|weak: &std::sync::Weak<Namespace>| {
            let local: std::sync::Weak<dyn crate::adapter::LocalOps> = weak.clone();
            let adapter = adapter.map(|a| a.namespace(LocalNamespace::new(local, path)));
            let adapter_logs =
                config.recovery.is_some() && adapter.as_ref().is_some_and(|a| a.logs_packets());
            Self {
                adapter_logs,
                path: path.into(),
                any_outgoing: def.handler.has_any_outgoing() || admin_watches(&config, path),
                handler_outgoing: def.handler.has_any_outgoing(),
                handler: def.handler,
                middlewares: def.middlewares,
                config: config.clone(),
                sockets: RwLock::new(HashMap::new()),
                rooms: RwLock::new(HashMap::new()),
                ack_ids: AtomicU64::new(0),
                adapter,
                server_events: RwLock::new(HashMap::new()),
                dynamic,
                pending: std::sync::atomic::AtomicUsize::new(0),
                recovery: config.recovery.clone().map(|c| Arc::new(Recovery::new(c))),
                adapter_requests: AtomicU64::new(0),
                adapter_failures: AtomicU64::new(0),
                #[cfg(feature = "metrics")]
                latency: config.metrics.as_ref().map(|m| m.latency(path)),
            }
        })
    }

    /// The remote side, when the server has an adapter.
    pub(crate) fn adapter(&self) -> Option<&Arc<dyn NamespaceAdapter>> {
        self.adapter.as_ref()
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Counts a request to the other servers and, when `fut` fails, a failure (with a
    /// rate-limited warning: an adapter that cannot reach its peers is what an operator
    /// must see).
    pub(crate) fn adapter_request<T: Send + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        fut: crate::adapter::AdapterFuture<T>,
    ) -> crate::adapter::AdapterFuture<T> {
        self.adapter_requests.fetch_add(1, Ordering::Relaxed);
        let ns = self.clone();
        Box::pin(async move {
            let r = fut.await;
            if let Err(e) = &r {
                ns.adapter_failures.fetch_add(1, Ordering::Relaxed);
                crate::log::limited!(warn, crate::log::Kind::Adapter, ns = ns.path(), request = what, error = %e, "an adapter request failed");
            }
            r
        })
    }

    /// Counts a request whose failure is not reported (a broadcast with ack, whose replies
    /// simply stop coming).
    pub(crate) fn count_adapter_request(&self) {
        self.adapter_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    // --- the socket table --------------------------------------------------------------------

    /// Number of connected sockets.
    pub(crate) fn is_empty(&self) -> bool {
        self.sockets.read().is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.sockets.read().len()
    }

    /// The connected socket `sid`.
    pub(crate) fn socket(&self, sid: Sid) -> Option<Arc<SocketInner>> {
        self.sockets.read().get(&sid).cloned()
    }

    pub(crate) fn insert_socket(&self, socket: &Arc<SocketInner>) {
        let mut sockets = self.sockets.write();
        if sockets.insert(socket.id, socket.clone()).is_none()
            && let Some(adapter) = &self.adapter
        {
            adapter.room_created(socket.id.as_str(), true);
        }
    }

    /// Removes the socket from both tables.
    pub(crate) fn remove_socket(&self, socket: &SocketInner) {
        let removed = {
            let mut sockets = self.sockets.write();
            let removed = sockets.remove(&socket.id).is_some();
            if removed && let Some(adapter) = &self.adapter {
                adapter.room_deleted(socket.id.as_str(), true);
            }
            removed
        };
        let rooms = std::mem::take(&mut *socket.rooms.lock());
        #[cfg(feature = "admin-ui")]
        if let Some(admin) = &self.config.admin
            && removed
        {
            admin.left(self.path(), socket.id.as_str(), socket.id.as_str());
            for room in &rooms {
                admin.left(self.path(), room.as_str(), socket.id.as_str());
            }
        }
        let _ = removed;
        if !rooms.is_empty() {
            let mut index = self.rooms.write();
            for room in rooms {
                self.remove_member(&mut index, &room, socket.id);
            }
        }
    }

    // --- the room table ----------------------------------------------------------------------

    pub(crate) fn join(&self, socket: &SocketInner, room: Room) {
        let mut rooms = socket.rooms.lock();
        // Checked under the socket's list: `SocketInner::leave` marks the socket before it takes
        // the list, so a late join from a still-running handler cannot leave an entry behind.
        // A socket is always in its own id room (not kept in the list).
        if socket.is_disconnected() || rooms.contains(&room) || room.as_str() == socket.id.as_str() {
            return;
        }
        rooms.push(room.clone());
        #[cfg(feature = "admin-ui")]
        if let Some(admin) = &self.config.admin {
            admin.joined(self.path(), room.as_str(), socket.id.as_str());
        }
        match self.rooms.write().entry(room) {
            Entry::Occupied(mut members) => {
                members.get_mut().insert(socket.id);
            }
            Entry::Vacant(slot) => {
                if let Some(adapter) = &self.adapter {
                    adapter.room_created(slot.key().as_str(), false);
                }
                slot.insert(HashSet::from([socket.id]));
            }
        }
    }

    pub(crate) fn leave(&self, socket: &SocketInner, room: &Room) {
        let mut rooms = socket.rooms.lock();
        let Some(pos) = rooms.iter().position(|r| r == room) else { return };
        rooms.swap_remove(pos);
        self.remove_member(&mut self.rooms.write(), room, socket.id);
        #[cfg(feature = "admin-ui")]
        if let Some(admin) = &self.config.admin {
            admin.left(self.path(), room.as_str(), socket.id.as_str());
        }
    }

    /// Leaves every room but the socket's own id room.
    pub(crate) fn leave_all(&self, socket: &SocketInner) {
        let left = std::mem::take(&mut *socket.rooms.lock());
        if left.is_empty() {
            return;
        }
        let mut index = self.rooms.write();
        for room in &left {
            self.remove_member(&mut index, room, socket.id);
            #[cfg(feature = "admin-ui")]
            if let Some(admin) = &self.config.admin {
                admin.left(self.path(), room.as_str(), socket.id.as_str());
            }
        }
    }

    /// Members of `room` on this node (a socket id of this namespace is a room of one).
    pub(crate) fn room_len(&self, room: &str) -> usize {
        if let Some(members) = self.rooms.read().get(room) {
            return members.len();
        }
        usize::from(Sid::parse(room).is_some_and(|sid| self.sockets.read().contains_key(&sid)))
    }

    fn remove_member(&self, index: &mut HashMap<Room, HashSet<Sid>>, room: &Room, sid: Sid) {
        if let Some(set) = index.get_mut(room) {
            set.remove(&sid);
            if set.is_empty() {
                index.remove(room);
                if let Some(adapter) = &self.adapter {
                    adapter.room_deleted(room.as_str(), false);
                }
            }
        }
    }

    /// Rooms that have members, with their member counts, sorted by name.
    pub(crate) fn room_sizes(&self) -> Vec<(Room, usize)> {
        let mut v: Vec<_> = self.rooms.read().iter().map(|(r, m)| (r.clone(), m.len())).collect();
        v.sort();
        v
    }

    /// Rooms that have members.
    pub(crate) fn room_names(&self) -> Vec<Room> {
        self.rooms.read().keys().cloned().collect()
    }

    /// Whether `room` has members (a socket id of this namespace counts as a room).
    pub(crate) fn has_room(&self, room: &str) -> bool {
        if self.rooms.read().contains_key(room) {
            return true;
        }
        Sid::parse(room).is_some_and(|sid| self.sockets.read().contains_key(&sid))
    }

    // --- selections --------------------------------------------------------------------------

    /// Calls `f` once for every socket `sel` selects, with both tables read-locked (see the
    /// module's locking rules).
    pub(crate) fn for_each_selected(&self, sel: &Selection, mut f: impl FnMut(&Arc<SocketInner>)) {
        let sockets = self.sockets.read();
        let excluded: HashSet<Sid> = if sel.except.is_empty() {
            HashSet::new()
        } else {
            let index = self.rooms.read();
            let mut set = HashSet::new();
            for room in &sel.except {
                if let Some(members) = index.get(room) {
                    set.extend(members.iter().copied());
                } else if let Some(sid) = Sid::parse(room.as_str()) {
                    set.insert(sid);
                }
            }
            set
        };
        let skip = |sid: &Sid| Some(*sid) == sel.except_sid || excluded.contains(sid);
        if sel.rooms.is_empty() {
            for (sid, socket) in sockets.iter() {
                if !skip(sid) {
                    f(socket);
                }
            }
            return;
        }
        let index = self.rooms.read();
        let mut seen = HashSet::new();
        let several = sel.rooms.len() > 1;
        for room in &sel.rooms {
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

    /// The sockets `sel` selects, collected, so that the caller may act on them without the
    /// namespace's locks.
    pub(crate) fn selected(&self, sel: &Selection) -> Vec<Arc<SocketInner>> {
        let mut out = Vec::new();
        self.for_each_selected(sel, |s| out.push(s.clone()));
        out
    }

    // --- outgoing listeners ------------------------------------------------------------------

    /// Shows the event in `payload` (its JSON array, name first) to the outgoing listeners,
    /// once for each of `sockets`. Call only when `any_outgoing`. A panicking listener is
    /// caught: the emit already happened.
    pub(crate) fn notify_outgoing(&self, sockets: &[Arc<SocketInner>], payload: &Payload) {
        if sockets.is_empty() {
            return;
        }
        let all = payload.args();
        #[cfg(feature = "admin-ui")]
        if let Some(admin) = &self.config.admin
            && admin.watches(self.path())
        {
            for socket in sockets {
                admin.event_sent(self.path(), socket.id.as_str(), &all);
            }
        }
        if !self.handler_outgoing {
            return;
        }
        let Some(Ok(name)) = all.get::<String>(0) else { return };
        let args = all.skip_first();
        for socket in sockets {
            let conn = Conn::from_inner(socket.clone());
            let call = std::panic::AssertUnwindSafe(|| self.handler.any_outgoing(&conn, &name, &args));
            if std::panic::catch_unwind(call).is_err() {
                crate::log::limited!(error, crate::log::Kind::Panic, sid = %socket.id, ns = self.path(), "an outgoing listener panicked");
            }
        }
    }

    // --- server-side events ------------------------------------------------------------------

    pub(crate) fn on_server_event(&self, event: &str, f: ServerEventFn) {
        self.server_events.write().insert(event.into(), f);
    }

    pub(crate) fn server_event_handler(&self, event: &str) -> Option<ServerEventFn> {
        self.server_events.read().get(event).cloned()
    }

    // --- counters ----------------------------------------------------------------------------

    pub(crate) fn stats(&self) -> NamespaceStats {
        let sockets = self.sockets.read();
        NamespaceStats {
            path: self.path().to_owned(),
            sockets: sockets.len(),
            rooms: self.rooms.read().len(),
            pending_acks: sockets.values().map(|s| s.pending_acks()).sum(),
            adapter_requests: self.adapter_requests.load(Ordering::Relaxed),
            adapter_failures: self.adapter_failures.load(Ordering::Relaxed),
        }
    }
}
