//! Sockets (one per namespace) multiplexed over one connection, and the task that keeps the
//! connection: it opens it, reads and dispatches packets, and reconnects with backoff.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use sio_core::engine::Message;
use sio_core::protocol::client::Outgoing;
use sio_core::protocol::{self, ArgCursor, FromArgs, Packet, PacketType, RawArgs, ToArgs};
use tokio::sync::{mpsc, oneshot};

use crate::backoff::Backoff;
use crate::engine::{self, Closed, Dispatch, EngineOptions, Opened, Outbox};
use crate::error::{DisconnectReason, Error};
use crate::options::{Options, Target, Transport};

type EventHandler = Arc<dyn Fn(Event) + Send + Sync>;
type ConnectHandler = Arc<dyn Fn(&Socket) + Send + Sync>;
type DisconnectHandler = Arc<dyn Fn(&Socket, DisconnectReason) + Send + Sync>;
type ErrorHandler = Arc<dyn Fn(&Socket, &Error) + Send + Sync>;
/// An ack's reply: its JSON array and attachments.
type Reply = Result<(Bytes, Vec<Bytes>), Error>;

/// The most binary attachments a server's packet may announce.
const MAX_ATTACHMENTS: usize = 1000;

/// Builds a [`Socket`]: socket.io-client's `io(url, options)`, with the options as methods
/// (Node's names in snake case, Node's defaults).
///
/// ```no_run
/// # async fn run() -> Result<(), sio_client::Error> {
/// use sio_client::Socket;
///
/// let socket = Socket::builder("http://127.0.0.1:3000/chat")
///     .auth(&serde_json::json!({ "name": "bot" }))
///     .on("message", |ev| println!("{}: {:?}", ev.name(), ev.raw_args()))
///     .connect()
///     .await?;
/// let reply: String = socket.emit_with_ack("msg", ("hello",)).await?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SocketBuilder {
    url: String,
    nsp: Option<String>,
    opts: Options,
    auth: Result<Option<Box<RawValue>>, Error>,
    handlers: Handlers,
    manager: Option<Arc<Manager>>,
}

#[derive(Default, Clone)]
struct Handlers {
    events: HashMap<String, Vec<EventHandler>>,
    any: Vec<EventHandler>,
    connect: Vec<ConnectHandler>,
    disconnect: Vec<DisconnectHandler>,
    connect_error: Vec<ErrorHandler>,
}

impl SocketBuilder {
    fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            nsp: None,
            opts: Options::default(),
            auth: Ok(None),
            handlers: Handlers::default(),
            manager: None,
        }
    }

    /// The Engine.IO path (`path`, default `/socket.io/`).
    pub fn path(mut self, path: &str) -> Self {
        self.opts.path = path.to_owned();
        self
    }

    /// The namespace, instead of the URL's path.
    pub fn namespace(mut self, nsp: &str) -> Self {
        self.nsp = Some(if nsp.starts_with('/') { nsp.to_owned() } else { format!("/{nsp}") });
        self
    }

    /// The transports, in the order they are tried (`transports`, default polling then
    /// WebSocket). With polling first the connection upgrades to WebSocket when the server
    /// offers it and `upgrade` is on.
    pub fn transports(mut self, transports: &[Transport]) -> Self {
        self.opts.transports = transports.to_vec();
        self
    }

    /// Whether to upgrade from polling to WebSocket (`upgrade`, default true).
    pub fn upgrade(mut self, upgrade: bool) -> Self {
        self.opts.upgrade = upgrade;
        self
    }

    /// Whether to reconnect after losing the connection (`reconnection`, default true).
    pub fn reconnection(mut self, on: bool) -> Self {
        self.opts.reconnection = on;
        self
    }

    /// How many reconnection attempts before giving up (`reconnectionAttempts`, default
    /// unlimited).
    pub fn reconnection_attempts(mut self, n: u32) -> Self {
        self.opts.reconnection_attempts = n;
        self
    }

    /// The first reconnection delay (`reconnectionDelay`, default 1 s), doubled at each
    /// attempt.
    pub fn reconnection_delay(mut self, d: Duration) -> Self {
        self.opts.reconnection_delay = d;
        self
    }

    /// The longest reconnection delay (`reconnectionDelayMax`, default 5 s).
    pub fn reconnection_delay_max(mut self, d: Duration) -> Self {
        self.opts.reconnection_delay_max = d;
        self
    }

    /// How much each delay is spread at random, ± this fraction (`randomizationFactor`,
    /// default 0.5).
    pub fn randomization_factor(mut self, f: f64) -> Self {
        self.opts.randomization_factor = f.clamp(0.0, 1.0);
        self
    }

    /// How long a connection attempt (the handshake, then the namespace's `CONNECT`) may
    /// take (`timeout`, default 20 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.opts.timeout = d;
        self
    }

    /// How long [`Socket::emit_with_ack`] waits for the reply (`ackTimeout`; Node waits
    /// forever by default, sio 20 s, so a silent server is an error, not a hang).
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.opts.ack_timeout = d;
        self
    }

    /// How many packets a disconnected socket keeps to send once connected (default 1,024;
    /// Node's `sendBuffer` has no bound). Beyond it, emits fail with [`Error::BufferFull`].
    pub fn send_buffer_capacity(mut self, n: usize) -> Self {
        self.opts.send_buffer_capacity = n;
        self
    }

    /// The largest HTTP response or WebSocket message read from the server (default 16 MiB).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.opts.max_payload = bytes;
        self
    }

    /// A query parameter of every request (`query`).
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.opts.query.push((key.to_owned(), value.to_owned()));
        self
    }

    /// A header of every request (`extraHeaders`).
    pub fn extra_header(mut self, name: http::HeaderName, value: http::HeaderValue) -> Self {
        self.opts.headers.append(name, value);
        self
    }

    /// The auth payload of the namespace's `CONNECT` (`auth`): a value that serializes as a
    /// JSON object.
    pub fn auth<T: Serialize + ?Sized>(mut self, auth: &T) -> Self {
        self.auth = serde_json::value::to_raw_value(auth).map_err(Error::from).and_then(|raw| {
            if raw.get().starts_with('{') {
                Ok(Some(raw))
            } else {
                Err(Error::Config("the auth payload must serialize as a JSON object".into()))
            }
        });
        self
    }

    /// Calls `handler` for each `event` the server sends.
    pub fn on(mut self, event: &str, handler: impl Fn(Event) + Send + Sync + 'static) -> Self {
        self.handlers.events.entry(event.to_owned()).or_default().push(Arc::new(handler));
        self
    }

    /// Calls `handler` for every event the server sends (`onAny`), before the event's own
    /// handlers.
    pub fn on_any(mut self, handler: impl Fn(Event) + Send + Sync + 'static) -> Self {
        self.handlers.any.push(Arc::new(handler));
        self
    }

    /// Calls `handler` at each connection of the socket (the first and each reconnection).
    pub fn on_connect(mut self, handler: impl Fn(&Socket) + Send + Sync + 'static) -> Self {
        self.handlers.connect.push(Arc::new(handler));
        self
    }

    /// Calls `handler` when the socket is disconnected, with the reason.
    pub fn on_disconnect(
        mut self,
        handler: impl Fn(&Socket, DisconnectReason) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.disconnect.push(Arc::new(handler));
        self
    }

    /// Calls `handler` when a connection attempt fails (`connect_error`): the server refused
    /// the namespace ([`Error::ConnectRefused`]), a reconnection attempt failed, or
    /// reconnection gave up ([`Error::ReconnectFailed`]).
    pub fn on_connect_error(mut self, handler: impl Fn(&Socket, &Error) + Send + Sync + 'static) -> Self {
        self.handlers.connect_error.push(Arc::new(handler));
        self
    }

    /// Connects: opens the connection (or reuses the one of the socket this builder came
    /// from) and joins the namespace. Resolves once the server accepted it.
    ///
    /// # Errors
    /// [`Error::ConnectRefused`] when the server refused the namespace; a transport or
    /// protocol error, or [`Error::Timeout`], when the connection could not be made. A
    /// socket whose first connection failed does not retry by itself.
    pub async fn connect(self) -> Result<Socket, Error> {
        let auth = self.auth?;
        let (manager, nsp, task) = match self.manager {
            Some(m) => {
                let nsp = self.nsp.unwrap_or_else(|| "/".into());
                (m, nsp, None)
            }
            None => {
                let (target, url_nsp) = Target::parse(&self.url, &self.opts.path)?;
                if self.opts.transports.is_empty() {
                    return Err(Error::Config("no transport".into()));
                }
                let (m, rx) = Manager::new(target, self.opts);
                (m, self.nsp.unwrap_or(url_nsp), Some(rx))
            }
        };
        let inner = Arc::new(SocketInner {
            nsp: nsp.clone(),
            auth,
            handlers: Mutex::new(self.handlers),
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(0),
            manager: manager.clone(),
            guard: Mutex::new(std::sync::Weak::new()),
        });
        let guard = Arc::new(Guard { inner: Arc::downgrade(&inner) });
        *inner.guard.lock() = Arc::downgrade(&guard);
        let socket = Socket { inner, _guard: guard };
        {
            let mut sockets = manager.sockets.lock();
            if sockets.get(&nsp).is_some_and(|s| s.state.lock().active) {
                return Err(Error::Config(format!("a socket of this connection is already in {nsp}")));
            }
            sockets.insert(nsp, socket.inner.clone());
        }
        if let Some(rx) = task {
            // Started once the socket is in the map, which the task's idle check reads.
            tokio::spawn(manager.clone().run(rx));
        }
        socket.connect().await?;
        Ok(socket)
    }
}

/// A Socket.IO socket: one namespace of one connection (socket.io-client's `Socket`).
/// Cheap to clone; every clone is the same socket. When the last clone is dropped the socket
/// disconnects, as with [`disconnect`](Self::disconnect) (clones held by its own handlers
/// count: such a socket lives until `disconnect`).
#[derive(Clone)]
pub struct Socket {
    inner: Arc<SocketInner>,
    _guard: Arc<Guard>,
}

/// Disconnects the socket when the last user handle goes.
struct Guard {
    inner: std::sync::Weak<SocketInner>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.disconnect();
        }
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.inner.state.lock();
        f.debug_struct("Socket")
            .field("nsp", &self.inner.nsp)
            .field("id", &st.id)
            .field("connected", &st.connected)
            .finish()
    }
}

struct SocketInner {
    nsp: String,
    auth: Option<Box<RawValue>>,
    handlers: Mutex<Handlers>,
    state: Mutex<State>,
    /// The id of the next ack this socket asks for.
    next_id: AtomicU64,
    manager: Arc<Manager>,
    /// The user handles' guard, while there are handles.
    guard: Mutex<std::sync::Weak<Guard>>,
}

#[derive(Default)]
struct State {
    /// Connected (the server accepted the namespace, and the connection is up).
    connected: bool,
    /// Wants to be connected: set by `connect`, cleared by `disconnect`, a refusal or the
    /// server's `DISCONNECT`.
    active: bool,
    /// A `CONNECT` left on the current connection and was not answered yet.
    connecting: bool,
    id: Option<String>,
    pid: Option<String>,
    last_offset: Option<String>,
    recovered: bool,
    /// The connection's outbox, while connected (emits send under this lock only).
    tx: Option<Arc<Outbox>>,
    /// Packets emitted while disconnected.
    buffer: VecDeque<Outgoing>,
    /// Events received before the `CONNECT` (a recovered session's missed packets, which
    /// Node sends first), dispatched once connected.
    received: Vec<(Packet, Vec<Bytes>)>,
    acks: HashMap<u64, PendingAck, BuildHasherDefault<AckIdHasher>>,
    waiters: Vec<oneshot::Sender<Result<(), Error>>>,
}

/// Hashes ack ids (this client's own counter, so no flooding to fear) with one
/// multiplication instead of SipHash: an ack costs an insert and a remove.
#[derive(Default)]
struct AckIdHasher(u64);

impl Hasher for AckIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        // Fibonacci hashing: spreads consecutive ids over the high bits hashbrown reads too.
        self.0 = (self.0 ^ id).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// An ack asked for: its [`AckFuture`] takes the reply from here.
struct PendingAck {
    state: AckState,
    /// Still in the send buffer (kept across a disconnection).
    buffered: bool,
}

enum AckState {
    /// No reply yet: the task to wake when it comes.
    Waiting(Option<Waker>),
    Done(Reply),
}

impl PendingAck {
    /// Stores the reply; the waker to wake (after the lock is released).
    fn resolve(&mut self, reply: Reply) -> Option<Waker> {
        match std::mem::replace(&mut self.state, AckState::Done(reply)) {
            AckState::Waiting(w) => w,
            // A second reply to the same id: the first stays.
            AckState::Done(first) => {
                self.state = AckState::Done(first);
                None
            }
        }
    }
}

impl Socket {
    /// A builder for a socket to `url` (`http://host:port/namespace`): socket.io-client's
    /// `io(url, options)`.
    pub fn builder(url: &str) -> SocketBuilder {
        SocketBuilder::new(url)
    }

    /// Connects to `url` with the default options.
    ///
    /// # Errors
    /// As [`SocketBuilder::connect`].
    pub async fn connect_to(url: &str) -> Result<Socket, Error> {
        Self::builder(url).connect().await
    }

    /// A builder for a socket in another namespace over the same connection (socket.io-client
    /// multiplexes `io(url + "/admin")` this way). Options of the builder that concern the
    /// connection are those of this socket's.
    pub fn socket(&self, nsp: &str) -> SocketBuilder {
        let mut b = SocketBuilder::new("");
        b.manager = Some(self.inner.manager.clone());
        b.namespace(nsp)
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.inner.nsp
    }

    /// The socket's id, while connected.
    pub fn id(&self) -> Option<String> {
        self.inner.state.lock().id.clone()
    }

    /// Whether the socket is connected.
    pub fn connected(&self) -> bool {
        self.inner.state.lock().connected
    }

    /// Whether the last connection recovered the session (connection state recovery): the
    /// same id, the rooms, and the missed packets replayed before the connect handlers ran.
    pub fn recovered(&self) -> bool {
        self.inner.state.lock().recovered
    }

    /// The transport in use.
    pub fn transport(&self) -> Option<Transport> {
        self.inner.manager.conn.lock().as_ref().map(|c| *c.transport.lock())
    }

    /// Adds a handler for `event`.
    pub fn on(&self, event: &str, handler: impl Fn(Event) + Send + Sync + 'static) {
        self.inner.handlers.lock().events.entry(event.to_owned()).or_default().push(Arc::new(handler));
    }

    /// Adds a handler for every event.
    pub fn on_any(&self, handler: impl Fn(Event) + Send + Sync + 'static) {
        self.inner.handlers.lock().any.push(Arc::new(handler));
    }

    /// Removes the handlers of `event`.
    pub fn off(&self, event: &str) {
        self.inner.handlers.lock().events.remove(event);
    }

    /// Emits `event` with `args` (a tuple of `Serialize` values; `()` for none; `Binary` for
    /// bytes). While disconnected, the packet waits in the send buffer.
    ///
    /// # Errors
    /// [`Error::Serde`] when an argument does not serialize, [`Error::BufferFull`] when the
    /// socket is disconnected and its buffer full, [`Error::Disconnected`] after
    /// [`disconnect`](Self::disconnect).
    pub fn emit<A: ToArgs>(&self, event: &str, args: A) -> Result<(), Error> {
        let packet = protocol::client::event(&self.inner.nsp, event, &args, None)?;
        self.inner.send(packet, false, None)
    }

    /// Emits `event` only if the socket is connected; dropped otherwise (`socket.volatile.emit`).
    ///
    /// # Errors
    /// [`Error::Serde`] when an argument does not serialize.
    pub fn emit_volatile<A: ToArgs>(&self, event: &str, args: A) -> Result<(), Error> {
        let packet = protocol::client::event(&self.inner.nsp, event, &args, None)?;
        self.inner.send(packet, true, None)
    }

    /// Emits `event` and waits for the server's reply, its first argument read as `R` (what
    /// `emitWithAck` resolves with; `Option<T>` when it may be missing), for at most the
    /// `ack_timeout`. The packet leaves when this is called, not when the future is first
    /// polled.
    ///
    /// # Errors
    /// [`Error::Timeout`] when no reply came in time, [`Error::Disconnected`] when the
    /// connection was lost after the packet left, [`Error::Serde`] when the reply is not an
    /// `R`, and the errors of [`emit`](Self::emit).
    pub fn emit_with_ack<A: ToArgs, R: DeserializeOwned + Send + 'static>(
        &self,
        event: &str,
        args: A,
    ) -> AckFuture<R> {
        let timeout = self.inner.manager.opts.ack_timeout;
        self.timeout(timeout).emit_with_ack(event, args)
    }

    /// With a timeout for the ack of the next emit (`socket.timeout(ms).emitWithAck(..)`).
    pub fn timeout(&self, timeout: Duration) -> WithTimeout<'_> {
        WithTimeout { socket: self, timeout }
    }

    /// Leaves the namespace (`socket.disconnect()`): a `DISCONNECT` to the server, the
    /// disconnect handlers with [`DisconnectReason::IoClientDisconnect`]. The connection
    /// closes with the last socket that leaves. [`reconnect`](Self::reconnect) joins again.
    pub fn disconnect(&self) {
        self.inner.disconnect();
    }

    /// Connects again after [`disconnect`](Self::disconnect), a refusal or the server's
    /// disconnection (`socket.connect()`).
    ///
    /// # Errors
    /// As [`SocketBuilder::connect`].
    pub async fn reconnect(&self) -> Result<(), Error> {
        self.connect().await
    }

    async fn connect(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.inner.state.lock();
            if st.connected {
                return Ok(());
            }
            st.active = true;
            st.waiters.push(tx);
        }
        let _ = self.inner.manager.cmd.send(Cmd::Connect(self.inner.clone()));
        let timeout = self.inner.manager.opts.timeout;
        match tokio::time::timeout(timeout.saturating_mul(2), rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(Error::Disconnected),
            Err(_) => {
                self.inner.state.lock().active = false;
                Err(Error::Timeout("the connection"))
            }
        }
    }
}

/// A socket with a timeout for its next ack ([`Socket::timeout`]).
pub struct WithTimeout<'a> {
    socket: &'a Socket,
    timeout: Duration,
}

impl WithTimeout<'_> {
    /// [`Socket::emit_with_ack`] with this timeout.
    ///
    /// # Errors
    /// As [`Socket::emit_with_ack`].
    pub fn emit_with_ack<A: ToArgs, R: DeserializeOwned + Send + 'static>(
        self,
        event: &str,
        args: A,
    ) -> AckFuture<R> {
        let inner = &self.socket.inner;
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let sent = protocol::client::event(&inner.nsp, event, &args, Some(id))
            .map_err(Error::from)
            .and_then(|packet| inner.send(packet, false, Some(id)));
        AckFuture {
            socket: Some(inner.clone()),
            id,
            failed: sent.err(),
            timeout: self.timeout,
            timer: None,
            reply: PhantomData,
        }
    }
}

/// The reply to an [`emit_with_ack`](Socket::emit_with_ack): resolves with its first argument
/// read as `R`, or an error (a timeout, the connection lost). The packet left when it was
/// made; dropping it forgets the reply.
#[must_use = "the reply is read only when this is awaited"]
pub struct AckFuture<R> {
    /// None once resolved.
    socket: Option<Arc<SocketInner>>,
    id: u64,
    /// The emit failed.
    failed: Option<Error>,
    timeout: Duration,
    /// Started at the first poll that finds no reply (a reply already there needs no timer).
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    reply: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for AckFuture<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckFuture").field("id", &self.id).field("done", &self.socket.is_none()).finish()
    }
}

impl<R: DeserializeOwned> Future for AckFuture<R> {
    type Output = Result<R, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(socket) = this.socket.as_ref() else { return Poll::Ready(Err(Error::Disconnected)) };
        if let Some(e) = this.failed.take() {
            socket.state.lock().acks.remove(&this.id);
            this.socket = None;
            return Poll::Ready(Err(e));
        }
        let reply = {
            let mut st = socket.state.lock();
            match st.acks.entry(this.id) {
                Entry::Occupied(mut o) => match &mut o.get_mut().state {
                    AckState::Waiting(w) => {
                        if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            *w = Some(cx.waker().clone());
                        }
                        None
                    }
                    AckState::Done(_) => match o.remove().state {
                        AckState::Done(r) => Some(r),
                        AckState::Waiting(_) => None,
                    },
                },
                Entry::Vacant(_) => Some(Err(Error::Disconnected)),
            }
        };
        if let Some(reply) = reply {
            this.socket = None;
            return Poll::Ready(
                reply.and_then(|(data, attachments)| Ok(protocol::client::first_arg(&data, &attachments)?)),
            );
        }
        let timeout = this.timeout;
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if timer.as_mut().poll(cx).is_ready() {
            if let Some(socket) = this.socket.take() {
                socket.state.lock().acks.remove(&this.id);
            }
            return Poll::Ready(Err(Error::Timeout("the ack")));
        }
        Poll::Pending
    }
}

impl<R> Drop for AckFuture<R> {
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            socket.state.lock().acks.remove(&self.id);
        }
    }
}

impl SocketInner {
    /// A handle for the handlers; none once every user handle is gone.
    fn socket(self: &Arc<Self>) -> Option<Socket> {
        let guard = self.guard.lock().upgrade()?;
        Some(Socket { inner: self.clone(), _guard: guard })
    }

    fn disconnect(self: &Arc<Self>) {
        let was_connected = {
            let mut st = self.state.lock();
            st.active = false;
            st.buffer.clear();
            st.received.clear();
            std::mem::replace(&mut st.connected, false)
        };
        if was_connected {
            self.manager.send_now(protocol::client::disconnect(&self.nsp));
            self.on_disconnected(DisconnectReason::IoClientDisconnect);
        }
        let _ = self.manager.cmd.send(Cmd::Released);
    }

    /// Sends a packet now if connected, else buffers it (unless volatile); `ack`: the id of
    /// the ack it asks for, whose reply is then awaited.
    fn send(&self, packet: Outgoing, volatile: bool, ack: Option<u64>) -> Result<(), Error> {
        let mut st = self.state.lock();
        if st.connected {
            // Sent under the lock, so packets leave in the order they were emitted.
            let sent = st.tx.as_ref().is_some_and(|tx| tx.send(packet));
            if sent {
                if let Some(id) = ack {
                    st.acks.insert(id, PendingAck { state: AckState::Waiting(None), buffered: false });
                }
                return Ok(());
            }
            // The connection just went away: nothing was sent.
            if volatile {
                return Ok(());
            }
            return Err(Error::Disconnected);
        }
        if volatile {
            return Ok(());
        }
        if !st.active {
            return Err(Error::Disconnected);
        }
        if st.buffer.len() >= self.manager.opts.send_buffer_capacity {
            return Err(Error::BufferFull);
        }
        if let Some(id) = ack {
            st.acks.insert(id, PendingAck { state: AckState::Waiting(None), buffered: true });
        }
        st.buffer.push_back(packet);
        Ok(())
    }

    /// Sends this socket's `CONNECT` on `tx`, unless it is connected or one is on its way.
    fn send_connect(&self, tx: &Outbox) {
        {
            let mut st = self.state.lock();
            if !st.active || st.connected || st.connecting {
                return;
            }
            st.connecting = true;
        }
        let packet = self.connect_packet();
        tracing::trace!(?packet, "CONNECT");
        tx.send(packet);
    }

    /// The `CONNECT` this socket sends: the auth payload, with `pid` and `offset` first when
    /// there is a session to recover.
    fn connect_packet(&self) -> Outgoing {
        let st = self.state.lock();
        let Some(pid) = &st.pid else {
            return protocol::client::connect(&self.nsp, self.auth.as_deref());
        };
        let mut json = String::from("{\"pid\":");
        json.push_str(&serde_json::to_string(pid).unwrap_or_default());
        if let Some(offset) = &st.last_offset {
            json.push_str(",\"offset\":");
            json.push_str(&serde_json::to_string(offset).unwrap_or_default());
        }
        match self.auth.as_deref().map(|a| a.get().trim()) {
            Some(a) if a.len() > 2 => {
                json.push(',');
                json.push_str(&a[1..]);
            }
            _ => json.push('}'),
        }
        let raw = RawValue::from_string(json).ok();
        protocol::client::connect(&self.nsp, raw.as_deref())
    }

    fn on_connected(self: &Arc<Self>, data: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Connected {
            sid: String,
            #[serde(default)]
            pid: Option<String>,
        }
        tracing::trace!(nsp = %self.nsp, data = %String::from_utf8_lossy(data), "CONNECT from the server");
        let Ok(c) = serde_json::from_slice::<Connected>(data) else {
            tracing::debug!(nsp = %self.nsp, "a CONNECT without a sid, ignored");
            return;
        };
        let waiters = {
            let mut st = self.state.lock();
            if !st.active {
                // Connected after a disconnect() raced it: leave again.
                drop(st);
                self.manager.send_now(protocol::client::disconnect(&self.nsp));
                return;
            }
            st.recovered = c.pid.is_some() && st.pid == c.pid;
            if !st.recovered {
                st.last_offset = None;
            }
            st.pid = c.pid;
            st.id = Some(c.sid);
            st.connected = true;
            st.connecting = false;
            st.tx = self.manager.conn.lock().as_ref().map(|c| c.tx.clone());
            // The send buffer, in order, before anything emitted from now on.
            let buffered = std::mem::take(&mut st.buffer);
            for ack in st.acks.values_mut() {
                ack.buffered = false;
            }
            if let Some(tx) = &st.tx {
                for packet in buffered {
                    tx.send(packet);
                }
            }
            (std::mem::take(&mut st.waiters), std::mem::take(&mut st.received))
        };
        let (waiters, received) = waiters;
        // As socket.io-client: what came before the CONNECT first, then the connect handlers.
        for (packet, attachments) in received {
            self.on_event(packet, attachments);
        }
        for w in waiters {
            let _ = w.send(Ok(()));
        }
        let handlers = self.handlers.lock().connect.clone();
        let Some(socket) = self.socket() else { return };
        for h in handlers {
            h(&socket);
        }
    }

    fn on_refused(self: &Arc<Self>, err: Error, keep_active: bool) {
        let waiters = {
            let mut st = self.state.lock();
            st.connected = false;
            st.connecting = false;
            if !keep_active {
                st.active = false;
                st.buffer.clear();
            }
            std::mem::take(&mut st.waiters)
        };
        for w in waiters {
            let _ = w.send(Err(err.clone()));
        }
        let handlers = self.handlers.lock().connect_error.clone();
        let Some(socket) = self.socket() else { return };
        for h in handlers {
            h(&socket, &err);
        }
    }

    /// The socket lost its connection or left: fails the acks that left, calls the handlers.
    fn on_disconnected(self: &Arc<Self>, reason: DisconnectReason) {
        let wakers: Vec<Waker> = {
            let mut st = self.state.lock();
            st.connected = false;
            st.connecting = false;
            st.id = None;
            st.tx = None;
            if !reason.reconnects() {
                st.active = false;
            }
            // The acks that left fail; those still in the send buffer wait for it.
            st.acks
                .values_mut()
                .filter(|a| !a.buffered)
                .filter_map(|a| a.resolve(Err(Error::Disconnected)))
                .collect()
        };
        for w in wakers {
            w.wake();
        }
        let handlers = self.handlers.lock().disconnect.clone();
        let Some(socket) = self.socket() else { return };
        for h in handlers {
            h(&socket, reason);
        }
    }

    fn on_event(self: &Arc<Self>, packet: Packet, attachments: Vec<Bytes>) {
        let Some(name) = packet.event_name().map(str::to_owned) else { return };
        let mut data = packet.data.clone();
        let packet_id = packet.id;
        {
            let mut st = self.state.lock();
            if !st.connected {
                if st.active && st.received.len() < self.manager.opts.send_buffer_capacity {
                    st.received.push((packet, attachments));
                }
                return;
            }
            // Connection state recovery: the server appends the packet's offset to events
            // without an ack; it is kept for the next CONNECT and removed from the arguments.
            if st.pid.is_some()
                && packet_id.is_none()
                && let Some((offset, rest)) = strip_offset(&name, &data, &attachments)
            {
                st.last_offset = Some(offset);
                data = rest;
            }
        }
        let ack = packet_id.map(|id| AckSlot { id, used: AtomicBool::new(false), socket: self.clone() });
        let event = Event { inner: Arc::new(EventInner { name, data, attachments, ack }) };
        let (any, own) = {
            let h = self.handlers.lock();
            (h.any.clone(), h.events.get(event.name()).cloned().unwrap_or_default())
        };
        for h in any.iter().chain(own.iter()) {
            h(event.clone());
        }
    }

    fn on_ack(&self, packet: Packet, attachments: Vec<Bytes>) {
        let Some(id) = packet.id else { return };
        let waker =
            self.state.lock().acks.get_mut(&id).and_then(|p| p.resolve(Ok((packet.data, attachments))));
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The offset at the end of an event's arguments, and the arguments without it.
fn strip_offset(name: &str, data: &Bytes, attachments: &[Bytes]) -> Option<(String, Bytes)> {
    let raw: RawArgs = protocol::decode_args::<SkipName<RawArgs>>(data, attachments).ok()?.0;
    let elements: Vec<&str> = raw.json().collect();
    let (last, rest) = elements.split_last()?;
    let offset: String = serde_json::from_str(last).ok()?;
    let mut out = String::with_capacity(data.len());
    out.push('[');
    out.push_str(&serde_json::to_string(name).ok()?);
    for e in rest {
        out.push(',');
        out.push_str(e);
    }
    out.push(']');
    Some((offset, Bytes::from(out)))
}

/// Reads the arguments after an event's name.
struct SkipName<T>(T);

impl<T: FromArgs> FromArgs for SkipName<T> {
    fn from_args(args: &mut ArgCursor<'_>) -> Result<Self, serde_json::Error> {
        args.next::<serde::de::IgnoredAny>()?;
        T::from_args(args).map(SkipName)
    }
}

/// An event from the server: its name, its arguments, and its ack when the server asked
/// for one. Cheap to clone.
#[derive(Clone)]
pub struct Event {
    inner: Arc<EventInner>,
}

struct EventInner {
    name: String,
    /// The JSON array, name first.
    data: Bytes,
    attachments: Vec<Bytes>,
    ack: Option<AckSlot>,
}

struct AckSlot {
    id: u64,
    used: AtomicBool,
    socket: Arc<SocketInner>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.inner.name)
            .field("data", &String::from_utf8_lossy(&self.inner.data))
            .field("attachments", &self.inner.attachments.len())
            .field("ack", &self.inner.ack.as_ref().map(|a| a.id))
            .finish()
    }
}

impl Event {
    /// The event's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The arguments, read as `T`: a tuple (one element per argument; a trailing `Option`
    /// may be missing), or [`RawArgs`].
    ///
    /// # Errors
    /// [`Error::Serde`] with serde's message when they are not a `T`.
    pub fn args<T: FromArgs>(&self) -> Result<T, Error> {
        Ok(protocol::decode_args::<SkipName<T>>(&self.inner.data, &self.inner.attachments)?.0)
    }

    /// The arguments, untyped.
    pub fn raw_args(&self) -> RawArgs {
        self.args::<RawArgs>().unwrap_or_default()
    }

    /// Whether the server waits for an ack.
    pub fn wants_ack(&self) -> bool {
        self.inner.ack.is_some()
    }

    /// Answers the server's ack with `args` (the callback's arguments on a Node server;
    /// `emit_with_ack`'s reply on sio). Only the first call sends.
    ///
    /// # Errors
    /// [`Error::Config`] when the server asked for no ack or it was already sent,
    /// [`Error::Serde`] when an argument does not serialize, [`Error::Disconnected`] when
    /// the socket is no longer connected.
    pub fn ack<A: ToArgs>(&self, args: A) -> Result<(), Error> {
        let Some(slot) = &self.inner.ack else {
            return Err(Error::Config(format!("the server asked for no ack of {:?}", self.inner.name)));
        };
        if slot.used.swap(true, Ordering::AcqRel) {
            return Err(Error::Config("this event was already acknowledged".into()));
        }
        let packet = protocol::client::ack(&slot.socket.nsp, slot.id, &args)?;
        let st = slot.socket.state.lock();
        if !st.connected || !slot.socket.manager.send_now(packet) {
            return Err(Error::Disconnected);
        }
        Ok(())
    }
}

enum Cmd {
    /// A socket wants to connect.
    Connect(Arc<SocketInner>),
    /// A socket left: close the connection if it was the last.
    Released,
}

/// The connection shared by the sockets of one server (socket.io-client's `Manager`).
struct Manager {
    opts: Options,
    engine: Arc<EngineOptions>,
    cmd: mpsc::UnboundedSender<Cmd>,
    sockets: Mutex<HashMap<String, Arc<SocketInner>>>,
    /// The open connection.
    conn: Mutex<Option<Conn>>,
}

struct Conn {
    tx: Arc<Outbox>,
    transport: Arc<Mutex<Transport>>,
}

impl Manager {
    /// A manager, and the receiver its task ([`Manager::run`]) reads.
    fn new(target: Target, opts: Options) -> (Arc<Self>, mpsc::UnboundedReceiver<Cmd>) {
        let engine = Arc::new(EngineOptions {
            target,
            transports: opts.transports.clone(),
            upgrade: opts.upgrade,
            headers: opts.headers.clone(),
            query: opts.query.clone(),
            max_payload: opts.max_payload,
            timeout: opts.timeout,
        });
        let (cmd, rx) = mpsc::unbounded_channel();
        let manager =
            Arc::new(Self { opts, engine, cmd, sockets: Mutex::new(HashMap::new()), conn: Mutex::new(None) });
        (manager, rx)
    }

    /// Sends a packet on the open connection; false when there is none.
    fn send_now(&self, packet: Outgoing) -> bool {
        match &*self.conn.lock() {
            Some(c) => c.tx.send(packet),
            None => false,
        }
    }

    fn active(&self) -> Vec<Arc<SocketInner>> {
        self.sockets.lock().values().filter(|s| s.state.lock().active).cloned().collect()
    }

    async fn run(self: Arc<Self>, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
        let mut backoff = Backoff {
            min: self.opts.reconnection_delay,
            max: self.opts.reconnection_delay_max,
            jitter: self.opts.randomization_factor,
            attempts: 0,
        };
        // Whether the sockets are reconnecting (after a loss) rather than connecting.
        let mut reconnecting = false;
        loop {
            if self.active().is_empty() {
                // Idle: done when no socket has a handle left, else wait for one to connect.
                let handles = self.sockets.lock().values().any(|s| s.guard.lock().strong_count() > 0);
                if !handles {
                    self.sockets.lock().clear();
                    return;
                }
                match cmds.recv().await {
                    Some(Cmd::Connect(_)) => {}
                    Some(Cmd::Released) => continue,
                    None => return,
                }
                if self.active().is_empty() {
                    continue;
                }
            }
            if reconnecting {
                if backoff.attempts >= self.opts.reconnection_attempts {
                    for s in self.active() {
                        s.on_refused(Error::ReconnectFailed, false);
                    }
                    reconnecting = false;
                    continue;
                }
                let delay = backoff.next_delay();
                tracing::debug!(?delay, attempt = backoff.attempts, "reconnecting");
                tokio::time::sleep(delay).await;
                if self.active().is_empty() {
                    reconnecting = false;
                    continue;
                }
            }
            let dispatch = Box::new(Dispatcher { manager: self.clone(), pending: None });
            let opened = match engine::open(self.engine.clone(), dispatch).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::debug!(error = %e, "connection failed");
                    // A first connection fails at once; a reconnection tries again.
                    for s in self.active() {
                        s.on_refused(e.clone(), reconnecting);
                    }
                    continue;
                }
            };
            backoff.reset();
            let closed = self.serve(opened, &mut cmds).await;
            let reason = match closed {
                Closed::Client => None,
                Closed::TransportClose => Some(DisconnectReason::TransportClose),
                Closed::TransportError(_) => Some(DisconnectReason::TransportError),
                Closed::PingTimeout => Some(DisconnectReason::PingTimeout),
                Closed::ParseError(_) => Some(DisconnectReason::ParseError),
            };
            let sockets: Vec<_> = self.sockets.lock().values().cloned().collect();
            for s in sockets {
                let was = std::mem::replace(&mut s.state.lock().connected, false);
                if was && let Some(r) = reason {
                    s.on_disconnected(r);
                }
                if !self.opts.reconnection || reason.is_none() {
                    let waiters = {
                        let mut st = s.state.lock();
                        if reason.is_some() {
                            st.active = false;
                        }
                        std::mem::take(&mut st.waiters)
                    };
                    for w in waiters {
                        let _ = w.send(Err(Error::Disconnected));
                    }
                }
            }
            reconnecting = reason.is_some() && self.opts.reconnection;
        }
    }

    /// Runs an open connection until it closes (its task dispatches what the server sends).
    async fn serve(&self, opened: Opened, cmds: &mut mpsc::UnboundedReceiver<Cmd>) -> Closed {
        let Opened { outbox: tx, mut closed, transport } = opened;
        *self.conn.lock() = Some(Conn { tx: tx.clone(), transport });
        for s in self.sockets.lock().values() {
            s.state.lock().connecting = false;
        }
        for s in self.active() {
            s.send_connect(&tx);
        }
        let closed = loop {
            tokio::select! {
                c = &mut closed => break c.unwrap_or(Closed::TransportClose),
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Connect(s)) => s.send_connect(&tx),
                    Some(Cmd::Released) => {
                        if self.active().is_empty() {
                            tx.close();
                            break Closed::Client;
                        }
                    }
                    None => {
                        tx.close();
                        break Closed::Client;
                    }
                },
            }
        };
        *self.conn.lock() = None;
        closed
    }
}

/// Reads the server's packets and hands them to their sockets, in the connection's task.
struct Dispatcher {
    manager: Arc<Manager>,
    /// A binary packet waiting for its attachments.
    pending: Option<(Packet, Vec<Bytes>)>,
}

impl Dispatch for Dispatcher {
    fn messages(&mut self, batch: &mut Vec<Message>) -> Result<(), String> {
        // The socket of the previous packet: looked up once for a run of the same namespace.
        let mut socket: Option<Arc<SocketInner>> = None;
        for msg in batch.drain(..) {
            let Some((packet, attachments)) = self.assemble(msg)? else { continue };
            if socket.as_ref().is_none_or(|s| s.nsp != packet.nsp.as_str()) {
                socket = self.manager.sockets.lock().get(packet.nsp.as_str()).cloned();
            }
            let Some(socket) = &socket else {
                tracing::debug!(
                    nsp = packet.nsp.as_str(),
                    "a packet for a namespace without socket, ignored"
                );
                continue;
            };
            self.manager.on_packet(socket, packet, attachments);
        }
        Ok(())
    }
}

impl Dispatcher {
    /// A whole packet: a text one, or a binary one with its last attachment.
    fn assemble(&mut self, msg: Message) -> Result<Option<(Packet, Vec<Bytes>)>, String> {
        match msg {
            Message::Text(text) => {
                if self.pending.is_some() {
                    return Err("a text packet while attachments were expected".into());
                }
                let packet = Packet::decode_from_server(text, MAX_ATTACHMENTS).map_err(|e| e.to_string())?;
                if packet.attachments > 0 {
                    let n = packet.attachments;
                    self.pending = Some((packet, Vec::with_capacity(n)));
                    return Ok(None);
                }
                Ok(Some((packet, Vec::new())))
            }
            Message::Binary(b) => {
                let Some((packet, atts)) = self.pending.as_mut() else {
                    return Err("an unexpected binary message".into());
                };
                atts.push(b);
                // One packet's attachments together stay within `max_payload`.
                if atts.iter().map(Bytes::len).sum::<usize>() > self.manager.opts.max_payload {
                    return Err("a packet's attachments above max_payload".into());
                }
                if atts.len() < packet.attachments {
                    return Ok(None);
                }
                self.pending.take().map(Some).ok_or_else(|| "no pending packet".into())
            }
        }
    }
}

impl Manager {
    fn on_packet(&self, socket: &Arc<SocketInner>, packet: Packet, attachments: Vec<Bytes>) {
        match packet.kind {
            PacketType::Connect => socket.on_connected(&packet.data),
            PacketType::ConnectError => socket.on_refused(refusal(&packet.data), false),
            PacketType::Disconnect => {
                let was = std::mem::replace(&mut socket.state.lock().connected, false);
                if was {
                    socket.on_disconnected(DisconnectReason::IoServerDisconnect);
                }
                socket.state.lock().active = false;
                let _ = self.cmd.send(Cmd::Released);
            }
            PacketType::Event | PacketType::BinaryEvent => socket.on_event(packet, attachments),
            PacketType::Ack | PacketType::BinaryAck => socket.on_ack(packet, attachments),
        }
    }
}

/// A `CONNECT_ERROR`'s payload: `{"message":..,"data":..}`, or a string (Socket.IO v4).
fn refusal(data: &[u8]) -> Error {
    #[derive(serde::Deserialize)]
    struct Refusal {
        #[serde(default)]
        message: String,
        #[serde(default)]
        data: Option<serde_json::Value>,
    }
    if let Ok(r) = serde_json::from_slice::<Refusal>(data) {
        return Error::ConnectRefused { message: r.message, data: r.data };
    }
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(serde_json::Value::String(message)) => Error::ConnectRefused { message, data: None },
        Ok(other) => Error::ConnectRefused { message: String::new(), data: Some(other) },
        Err(_) => Error::ConnectRefused { message: String::new(), data: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_stripped() {
        let data = Bytes::from_static(br#"["ev",1,{"a":"b"},"1700-0"]"#);
        let (offset, rest) = strip_offset("ev", &data, &[]).expect("an offset");
        assert_eq!((offset.as_str(), &rest[..]), ("1700-0", &br#"["ev",1,{"a":"b"}]"#[..]));
        assert!(strip_offset("ev", &Bytes::from_static(br#"["ev",1]"#), &[]).is_none());
        assert!(strip_offset("ev", &Bytes::from_static(br#"["ev"]"#), &[]).is_none());
    }

    #[test]
    fn refusals() {
        assert_eq!(
            refusal(br#"{"message":"no","data":{"why":1}}"#),
            Error::ConnectRefused { message: "no".into(), data: Some(serde_json::json!({"why":1})) }
        );
        assert_eq!(refusal(br#""old""#), Error::ConnectRefused { message: "old".into(), data: None });
    }
}
