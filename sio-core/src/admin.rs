//! The server side of the official Socket.IO Admin UI (`@socket.io/admin-ui` 0.5.x), behind
//! the cargo feature `admin-ui`: what Node's `instrument(io, { .. })` does, on the same wire.
//!
//! One builder call turns it on. The UI is a static app (the hosted
//! <https://admin.socket.io>, or the npm package's `ui/dist` served by you); it runs on
//! another origin and long-polls with credentials, so the server must allow that origin with
//! credentials (WebSocket-only mode needs no CORS):
//!
//! ```
//! use sio_core::admin::AdminUi;
//! use sio_core::{Cors, Handlers, Server};
//!
//! // AdminUi::hash_password("changeit") once, offline; keep only the hash.
//! let hash = "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS";
//! let io = Server::builder()
//!     .ns("/", Handlers::new())
//!     .admin_ui(AdminUi::basic("admin", hash))
//!     .cors(Cors::origins(["https://admin.socket.io"]).credentials(true))
//!     .build();
//! ```
//!
//! What the UI gets, as from Node (development mode, the default):
//! - the `/admin` namespace (see [`AdminUi::namespace`]), refusing a CONNECT without the right
//!   `username` and `password` (bcrypt-checked against the hash) with
//!   `{"message":"invalid credentials"}`; a `session` id that later CONNECTs may present instead.
//!   Passwords are checked one at a time off the runtime's threads (bcrypt costs tens of
//!   milliseconds of CPU on purpose), and with 8 logins already waiting another is refused at
//!   once with `"too many login attempts"`: a login flood takes one core at most;
//! - `config` (the features the UI may use), then `all_sockets`: every socket of every
//!   namespace, through the adapter, so a cluster's sockets are all listed;
//! - `server_stats` every 2 s from every server (through the adapter: each server of a cluster
//!   is a row of the Servers page), with the connection, disconnection and byte counts of the
//!   dashboard's charts;
//! - `socket_connected`, `socket_updated` ([`Conn::set_data`](crate::Conn::set_data), and
//!   the upgrade to WebSocket),
//!   `socket_disconnected`, `room_joined` and `room_left` as they happen;
//! - the actions `join`, `leave` and `_disconnect` (of one socket, a room or a namespace,
//!   through the adapter), unless [`AdminUi::readonly`].
//!
//! - `event_received` and `event_sent` for every event of the other namespaces (binary
//!   arguments as their placeholders).
//!
//! Not handled: the `emit` action, which the 0.5 UI never sends.
//!
//! Off, it costs nothing: each connect, disconnect, join and leave checks one `Option`.
//! On, those events go through a bounded queue to one task, which also sends the stats;
//! while no admin watches (no admin socket here, and no adapter through which another
//! server's admins might), nothing is queued. Under a load the UI cannot follow, the queue's
//! bound (16,384) and volatile emits to the admins drop what it could not show anyway,
//! instead of growing memory or disconnecting the UI.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::engine::EngineStats;
use crate::server::WeakServer;
use crate::{Conn, ConnectError, Event, Handlers, Server};

/// How often every server sends its stats (Node's interval).
const STATS_INTERVAL: Duration = Duration::from_secs(2);
/// Events queued for the admin namespace; beyond it they are dropped (the UI is informative).
const QUEUE: usize = 16 * 1024;

/// The Admin UI instrumentation's settings (Node's `instrument` options), for
/// [`ServerBuilder::admin_ui`](crate::ServerBuilder::admin_ui).
#[derive(Clone)]
pub struct AdminUi {
    auth: Option<(String, String)>,
    readonly: bool,
    namespace: String,
    server_id: Option<String>,
    production: bool,
}

impl fmt::Debug for AdminUi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminUi")
            .field("username", &self.auth.as_ref().map(|a| &a.0))
            .field("readonly", &self.readonly)
            .field("namespace", &self.namespace)
            .field("server_id", &self.server_id)
            .field("production", &self.production)
            .finish()
    }
}

impl AdminUi {
    /// Basic authentication (Node's `auth: { type: "basic", username, password }`):
    /// `bcrypt_hash` is the password's bcrypt hash (`$2a$`, `$2b$` or `$2y$`), e.g. from
    /// [`AdminUi::hash_password`] or `htpasswd -bnBC 10 "" password`.
    pub fn basic(username: impl Into<String>, bcrypt_hash: impl Into<String>) -> Self {
        Self { auth: Some((username.into(), bcrypt_hash.into())), ..Self::no_auth() }
    }

    /// No authentication (Node's `auth: false`): anyone who reaches the server may watch it
    /// and, unless [`AdminUi::readonly`], act on it.
    pub fn no_auth() -> Self {
        Self { auth: None, readonly: false, namespace: "/admin".into(), server_id: None, production: false }
    }

    /// The bcrypt hash of `password` (cost 10, as Node's examples), for [`AdminUi::basic`].
    ///
    /// ```
    /// let hash = sio_core::admin::AdminUi::hash_password("changeit");
    /// assert!(hash.starts_with("$2b$10$"));
    /// ```
    pub fn hash_password(password: &str) -> String {
        bcrypt::hash(password, 10).unwrap_or_default()
    }

    /// Refuses the UI's actions (join, leave, disconnect): the UI only watches. Default: off.
    pub fn readonly(mut self, yes: bool) -> Self {
        self.readonly = yes;
        self
    }

    /// The admin namespace (Node's `namespaceName`). Default: `/admin`.
    pub fn namespace(mut self, path: &str) -> Self {
        self.namespace = crate::server::builder::normalize(path);
        self
    }

    /// This server's name on the Servers page (Node's `serverId`). Default: the host name.
    /// Give each server of a cluster on one host its own.
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = Some(id.into());
        self
    }

    /// Node's `mode: "production"`: stats only (no socket list, no per-socket events), which
    /// is cheaper with many sockets. Default: development mode.
    pub fn production(mut self, yes: bool) -> Self {
        self.production = yes;
        self
    }

    pub(crate) fn namespace_path(&self) -> &str {
        &self.namespace
    }
}

/// What the server's code reports, queued for the admin task.
enum Note {
    Connected { socket: Value },
    Disconnected { nsp: String, sid: String, reason: &'static str },
    Joined { nsp: String, room: String, sid: String },
    Left { nsp: String, room: String, sid: String },
    Updated { nsp: String, sid: String, data: Value },
    Upgraded { nsp: String, sid: String },
    Received { nsp: String, sid: String, args: Vec<Box<RawValue>> },
    Sent { nsp: String, sid: String, args: Vec<Box<RawValue>> },
}

/// `[name, ...args]` of an event as JSON (binary arguments as their placeholders).
/// The arguments stay as the JSON text they came as (not parsed again).
fn event_json(name: Option<&str>, args: &crate::RawArgs) -> Vec<Box<RawValue>> {
    let raw = |text: String| RawValue::from_string(text).ok();
    let mut out: Vec<Box<RawValue>> =
        name.and_then(|n| serde_json::to_string(n).ok()).and_then(raw).into_iter().collect();
    out.extend(args.json().filter_map(|j| raw(j.to_owned())));
    out
}

/// The instrumentation's state, shared by the server's code paths (through its config) and
/// the admin namespace's handlers.
pub(crate) struct Hooks {
    ui: AdminUi,
    tx: mpsc::Sender<(Note, SystemTime)>,
    rx: Mutex<Option<mpsc::Receiver<(Note, SystemTime)>>>,
    server: OnceLock<WeakServer>,
    started: AtomicBool,
    /// Admin sockets connected here; with none, and no other server that may have some, what
    /// happens is not reported at all (nobody would see it).
    admins: AtomicUsize,
    clustered: AtomicBool,
    sessions: Mutex<HashSet<String>>,
    /// One password check at a time (bcrypt costs tens of milliseconds of CPU on purpose):
    /// a flood of logins takes one core at most, never the runtime's.
    login_check: Arc<tokio::sync::Semaphore>,
    /// Logins waiting for their check or in it; beyond [`MAX_PENDING_LOGINS`] a login is
    /// refused at once.
    pending_logins: AtomicUsize,
    since: Instant,
}

/// Logins waiting for the password check (or in it) at most: more are refused at once with
/// "too many login attempts", so a flood costs neither unbounded CPU nor memory.
const MAX_PENDING_LOGINS: usize = 8;

/// Counts a login as pending while it lives (a login whose client went away included).
struct PendingLogin<'a>(&'a AtomicUsize);

impl Drop for PendingLogin<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks").field("ui", &self.ui).finish_non_exhaustive()
    }
}

fn iso(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

impl Hooks {
    pub(crate) fn new(ui: AdminUi) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        Arc::new(Self {
            ui,
            tx,
            rx: Mutex::new(Some(rx)),
            server: OnceLock::new(),
            started: AtomicBool::new(false),
            admins: AtomicUsize::new(0),
            clustered: AtomicBool::new(false),
            sessions: Mutex::new(HashSet::new()),
            login_check: Arc::new(tokio::sync::Semaphore::new(1)),
            pending_logins: AtomicUsize::new(0),
            since: Instant::now(),
        })
    }

    /// Called once the server exists: starts the task now if a runtime runs (else at the
    /// first event or admin connection).
    pub(crate) fn attach(self: &Arc<Self>, server: &Server) {
        let _ = self.server.set(server.downgrade());
        self.clustered.store(server.has_adapter(), Ordering::Relaxed);
        if tokio::runtime::Handle::try_current().is_ok() {
            self.start();
        }
    }

    fn start(self: &Arc<Self>) {
        if self.started.load(Ordering::Relaxed) || self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(rx) = self.rx.lock().take() else { return };
        tokio::spawn(run(self.clone(), rx));
    }

    fn dev(&self) -> bool {
        !self.ui.production
    }

    /// Whether an admin may be watching (here, or on another server of the cluster).
    fn listened(&self) -> bool {
        self.clustered.load(Ordering::Relaxed) || self.admins.load(Ordering::Relaxed) > 0
    }

    fn note(self: &Arc<Self>, note: Note) {
        self.start();
        if !self.listened() {
            return;
        }
        let _ = self.tx.try_send((note, SystemTime::now()));
    }

    // --- what the server's code reports (development mode) -----------------------------------

    pub(crate) fn connected(self: &Arc<Self>, conn: &Conn) {
        if !self.dev() || !self.listened() {
            return;
        }
        let nsp = conn.namespace().path().to_owned();
        let sid = conn.id().as_str().to_owned();
        let socket = serialize_local(conn);
        self.note(Note::Joined { nsp, room: sid.clone(), sid });
        self.note(Note::Connected { socket });
    }

    pub(crate) fn disconnected(self: &Arc<Self>, nsp: &str, sid: &str, reason: crate::DisconnectReason) {
        if self.dev() {
            self.note(Note::Disconnected {
                nsp: nsp.to_owned(),
                sid: sid.to_owned(),
                reason: reason.as_str(),
            });
        }
    }

    pub(crate) fn joined(self: &Arc<Self>, nsp: &str, room: &str, sid: &str) {
        if self.dev() {
            self.note(Note::Joined { nsp: nsp.to_owned(), room: room.to_owned(), sid: sid.to_owned() });
        }
    }

    pub(crate) fn left(self: &Arc<Self>, nsp: &str, room: &str, sid: &str) {
        if self.dev() {
            self.note(Note::Left { nsp: nsp.to_owned(), room: room.to_owned(), sid: sid.to_owned() });
        }
    }

    pub(crate) fn upgraded(self: &Arc<Self>, nsp: &str, sid: &str) {
        if self.dev() {
            self.note(Note::Upgraded { nsp: nsp.to_owned(), sid: sid.to_owned() });
        }
    }

    pub(crate) fn updated(self: &Arc<Self>, conn: &Conn) {
        if self.dev() && self.listened() {
            let data = strip_admin(conn.inner.data());
            self.note(Note::Updated {
                nsp: conn.namespace().path().to_owned(),
                sid: conn.id().as_str().to_owned(),
                data,
            });
        }
    }

    /// Whether the events of namespace `path` are reported (development mode, and not the
    /// admin namespace itself).
    pub(crate) fn watches(&self, path: &str) -> bool {
        self.may_watch(path) && self.listened()
    }

    /// Whether the events of namespace `path` may ever be reported (fixed at its creation).
    pub(crate) fn may_watch(&self, path: &str) -> bool {
        self.dev() && path != self.ui.namespace
    }

    pub(crate) fn event_received(self: &Arc<Self>, nsp: &str, sid: &str, name: &str, args: &crate::RawArgs) {
        let args = event_json(Some(name), args);
        self.note(Note::Received { nsp: nsp.to_owned(), sid: sid.to_owned(), args });
    }

    /// `all` is the emitted event's `[name, ...args]`.
    pub(crate) fn event_sent(self: &Arc<Self>, nsp: &str, sid: &str, all: &crate::RawArgs) {
        let args = event_json(None, all);
        self.note(Note::Sent { nsp: nsp.to_owned(), sid: sid.to_owned(), args });
    }

    // --- the admin namespace -------------------------------------------------------------------

    /// The features the UI may use (Node's `supportedFeatures`).
    fn features(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if !self.ui.readonly {
            f.extend(["JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]);
        }
        f.push("AGGREGATED_EVENTS");
        if self.dev() {
            f.push("ALL_EVENTS");
        }
        f
    }

    async fn authenticate(&self, conn: &Conn) -> Result<(), ConnectError> {
        let Some((username, hash)) = self.ui.auth.clone() else { return Ok(()) };
        let auth: Value = conn.auth().unwrap_or_default();
        if let Some(id) = auth.get("sessionId").and_then(Value::as_str)
            && self.sessions.lock().contains(id)
        {
            return Ok(());
        }
        let refused = || ConnectError::new("invalid credentials");
        if auth.get("username").and_then(Value::as_str) != Some(username.as_str()) {
            return Err(refused());
        }
        let Some(password) = auth.get("password").and_then(Value::as_str).map(str::to_owned) else {
            return Err(refused());
        };
        if self.pending_logins.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING_LOGINS {
            self.pending_logins.fetch_sub(1, Ordering::AcqRel);
            crate::log::limited!(warn, crate::log::Kind::Refused, sid = %conn.id(), limit = MAX_PENDING_LOGINS, "refused an Admin UI login: too many login attempts pending");
            return Err(ConnectError::new("too many login attempts"));
        }
        let _pending = PendingLogin(&self.pending_logins);
        let Ok(permit) = self.login_check.clone().acquire_owned().await else { return Err(refused()) };
        // bcrypt is slow on purpose (tens of ms): off the connection's task, one at a time
        // (the permit goes with the check, which runs to its end even if this login is gone).
        let ok = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            bcrypt::verify(password, &hash).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !ok {
            return Err(refused());
        }
        let id = format!("{:016x}", rand::random::<u64>());
        self.sessions.lock().insert(id.clone());
        let _ = conn.emit("session", &id);
        Ok(())
    }

    fn server(&self) -> Option<Server> {
        self.server.get()?.upgrade()
    }

    /// The admin namespace's handlers: authentication, then `config` and `all_sockets`, and
    /// the actions unless read-only.
    pub(crate) fn handlers(self: &Arc<Self>) -> Handlers {
        let hooks = self.clone();
        let mut h = Handlers::new().on_connect(move |conn: Conn| {
            let hooks = hooks.clone();
            async move {
                hooks.start();
                hooks.authenticate(&conn).await?;
                hooks.admins.fetch_add(1, Ordering::Relaxed);
                let _ = conn.emit("config", &json!({ "supportedFeatures": hooks.features() }));
                if hooks.dev()
                    && let Some(io) = hooks.server()
                {
                    let conn = conn.clone();
                    tokio::spawn(async move {
                        let sockets = all_sockets(&io).await;
                        let _ = conn.emit("all_sockets", &sockets);
                    });
                }
                Ok(())
            }
        });
        let hooks = self.clone();
        h = h.on_disconnect(move |_conn: Conn, _reason| {
            hooks.admins.fetch_sub(1, Ordering::Relaxed);
            async {}
        });
        if self.ui.readonly {
            return h;
        }
        for action in ["join", "leave", "_disconnect"] {
            let hooks = self.clone();
            h = h.on(action, move |_conn: Conn, ev: Event| {
                let hooks = hooks.clone();
                async move {
                    if let Some(io) = hooks.server() {
                        act(&io, action, &ev);
                    }
                }
            });
        }
        h
    }
}

/// Runs one action of the UI: `join(nsp, room, filter?)`, `leave(nsp, room, filter?)`,
/// `_disconnect(nsp, close, filter?)`, where `filter` is a room or socket id (none: the whole
/// namespace), on every server through the adapter.
fn act(io: &Server, action: &str, ev: &Event) {
    let args = ev.raw();
    let Some(Ok(nsp)) = args.get::<String>(0) else { return };
    let Some(ns) = io.of(&nsp) else { return };
    let filter = match args.get::<Option<String>>(2) {
        Some(Ok(f)) => f.filter(|f| !f.is_empty()),
        // None, or no filter: the whole namespace (as Node).
        None => None,
        // Not a room or socket id: nothing, never the whole namespace (Node would look for
        // a room of that name and find none).
        Some(Err(_)) => return,
    };
    let op = match filter {
        Some(f) => ns.to(f),
        None => ns.all(),
    };
    match action {
        "join" | "leave" => {
            let Some(Ok(room)) = args.get::<String>(1) else { return };
            if action == "join" { op.join(room) } else { op.leave(room) }
        }
        _ => match args.get::<bool>(1) {
            Some(Ok(true)) => op.close(),
            _ => op.disconnect(),
        },
    }
}

/// `socket.data` without Node's `_admin` entry (`{}` when unset).
fn strip_admin(mut data: Value) -> Value {
    if let Value::Object(m) = &mut data {
        m.remove("_admin");
    }
    if data.is_null() { json!({}) } else { data }
}

/// The UI's form of a socket: its handshake without `auth`, the address a proxy forwarded.
fn serialize(info: &crate::adapter::SocketInfo, nsp: &str, client_id: &str, transport: &str) -> Value {
    let mut handshake = info.handshake.clone();
    if let Value::Object(h) = &mut handshake {
        h.remove("auth");
        let forwarded = h.get("headers").and_then(|headers| {
            ["cf-connecting-ip", "x-forwarded-for"]
                .iter()
                .find_map(|k| headers.get(*k).and_then(Value::as_str).map(str::to_owned))
        });
        if let Some(address) = forwarded {
            h.insert("address".into(), address.into());
        }
    }
    json!({
        "id": info.id,
        "clientId": client_id,
        "transport": transport,
        "nsp": nsp,
        "data": strip_admin(info.data.clone()),
        "handshake": handshake,
        "rooms": info.rooms,
    })
}

fn transport_name(t: crate::engine::TransportKind) -> &'static str {
    match t {
        crate::engine::TransportKind::Polling => "polling",
        crate::engine::TransportKind::WebSocket => "websocket",
    }
}

fn serialize_local(conn: &Conn) -> Value {
    let session = conn.inner.client.session.id();
    let client_id: String = session.as_str().chars().take(12).collect();
    serialize(&conn.info(), conn.namespace().path(), &client_id, transport_name(conn.transport()))
}

/// Every socket of every namespace, on every server (Node's `fetchAllSockets`).
async fn all_sockets(io: &Server) -> Vec<Value> {
    let mut out = Vec::new();
    for path in io.namespace_paths() {
        let Some(ns) = io.of(&path) else { continue };
        let Ok(sockets) = ns.fetch_sockets().await else { continue };
        for s in sockets {
            let local = crate::Sid::parse(s.id()).and_then(|sid| ns.socket(sid));
            out.push(match local {
                Some(conn) => serialize_local(&conn),
                None => {
                    // Another server's socket: Node keeps its client id and transport in
                    // `data._admin`; other servers' sockets without it are their own client.
                    let admin = s.data().get("_admin");
                    let client_id = admin
                        .and_then(|a| a.get("clientId"))
                        .and_then(Value::as_str)
                        .map_or_else(|| s.id().chars().take(12).collect(), str::to_owned);
                    let transport =
                        admin.and_then(|a| a.get("transport")).and_then(Value::as_str).unwrap_or("websocket");
                    serialize(s.info(), &path, &client_id, transport)
                }
            });
        }
    }
    out
}

/// Counter deltas since the last stats, as the UI's `aggregatedEvents` (one bucket: now).
fn aggregated(prev: &EngineStats, now: &EngineStats) -> Vec<Value> {
    let ts =
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() * 1000).unwrap_or(0);
    let mut out = Vec::new();
    let mut push = |kind: &str, sub: Option<&str>, count: u64| {
        if count > 0 {
            let mut v = json!({ "timestamp": ts, "type": kind, "count": count });
            if let Some(sub) = sub {
                v["subType"] = sub.into();
            }
            out.push(v);
        }
    };
    push("rawConnection", None, now.opened.saturating_sub(prev.opened));
    for (reason, n) in &now.closed {
        let before = prev.closed.iter().find(|(r, _)| r == reason).map_or(0, |(_, n)| *n);
        push("rawDisconnection", Some(reason.as_str()), n.saturating_sub(before));
    }
    push("packetsIn", None, now.messages_in.saturating_sub(prev.messages_in));
    push("bytesIn", None, now.bytes_in.saturating_sub(prev.bytes_in));
    push("packetsOut", None, now.frames_out.saturating_sub(prev.frames_out));
    push("bytesOut", None, now.bytes_out.saturating_sub(prev.bytes_out));
    out
}

fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// The admin task: forwards what happened to the admin namespace (through the adapter) and
/// sends this server's stats every 2 s; ends with the server.
async fn run(hooks: Arc<Hooks>, mut rx: mpsc::Receiver<(Note, SystemTime)>) {
    let hostname = host_name();
    let server_id = hooks.ui.server_id.clone().unwrap_or_else(|| hostname.clone());
    let mut prev = EngineStats::default();
    let mut tick = tokio::time::interval(STATS_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            note = rx.recv() => {
                let Some((note, at)) = note else { return };
                let Some(io) = hooks.server() else { return };
                // Volatile, as everything sent to the admins: a UI that cannot keep up with a
                // busy server misses some events (and the next stats tell the counts), rather
                // than being disconnected for a full queue.
                let Some(admin) = io.of(&hooks.ui.namespace).map(|ns| ns.volatile()) else { return };
                let t = iso(at);
                let _ = match note {
                    Note::Connected { socket, .. } => admin.emit_args("socket_connected", (socket, t)),
                    Note::Disconnected { nsp, sid, reason } => admin.emit_args("socket_disconnected", (nsp, sid, reason, t)),
                    Note::Joined { nsp, room, sid } => admin.emit_args("room_joined", (nsp, room, sid, t)),
                    Note::Left { nsp, room, sid } => admin.emit_args("room_left", (nsp, room, sid, t)),
                    Note::Updated { nsp, sid, data } => admin.emit_args("socket_updated", (json!({ "id": sid, "nsp": nsp, "data": data }),)),
                    Note::Upgraded { nsp, sid } => admin.emit_args("socket_updated", (json!({ "id": sid, "nsp": nsp, "transport": "websocket" }),)),
                    Note::Received { nsp, sid, args } => admin.emit_args("event_received", (nsp, sid, args, t)),
                    Note::Sent { nsp, sid, args } => admin.emit_args("event_sent", (nsp, sid, args, t)),
                };
            }
            _ = tick.tick() => {
                let Some(io) = hooks.server() else { return };
                let Some(admin) = io.of(&hooks.ui.namespace).map(|ns| ns.volatile()) else { return };
                let stats = io.stats();
                let events = aggregated(&prev, &stats.engine);
                let namespaces: Vec<Value> = stats
                    .namespaces
                    .iter()
                    .map(|n| json!({ "name": n.path, "socketsCount": n.sockets }))
                    .collect();
                let _ = admin.emit(
                    "server_stats",
                    &json!({
                        "serverId": server_id,
                        "hostname": hostname,
                        "pid": std::process::id(),
                        "uptime": hooks.since.elapsed().as_secs_f64(),
                        "clientsCount": stats.engine.sessions,
                        "pollingClientsCount": stats.engine.polling,
                        "aggregatedEvents": events,
                        "namespaces": namespaces,
                    }),
                );
                prev = stats.engine;
            }
        }
    }
}
