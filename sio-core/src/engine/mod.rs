//! The Engine.IO layer (v4, and v3 when [`EngineConfig::allow_eio3`] is set): handshake, long-polling, WebSocket (direct and upgrade),
//! heartbeat and per-session outbound queues. It knows nothing of namespaces; the layer above
//! plugs in through [`EngineHandler`].
//!
//! The Socket.IO [`Server`](crate::Server) is built on it and configures it through
//! [`ServerBuilder`](crate::ServerBuilder); used on its own, it is a bare Engine.IO server
//! (what Node's `engine.io` package is), e.g. an echo:
//!
//! ```no_run
//! use std::sync::Arc;
//! use sio_core::engine::{CloseReason, Engine, EngineConfig, EngineHandler, Frame, Message, Session, Tasks};
//!
//! struct Echo;
//!
//! impl EngineHandler for Echo {
//!     type State = Arc<Session>;
//!
//!     fn on_open(&self, session: &Arc<Session>, _req: &http::request::Parts) -> Arc<Session> {
//!         session.clone()
//!     }
//!
//!     fn on_message(&self, session: &mut Arc<Session>, msg: Message, _tasks: &mut Tasks<'_, '_>) {
//!         let frame = match msg {
//!             Message::Text(t) => Frame::message(std::str::from_utf8(&t).unwrap_or_default()),
//!             Message::Binary(b) => Frame::Binary(b),
//!         };
//!         let _ = session.send(frame);
//!     }
//!
//!     fn on_close(&self, _: &mut Arc<Session>, _: CloseReason, _: &mut Tasks<'_, '_>) {}
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let config = EngineConfig { path: "/engine.io/".into(), ..EngineConfig::default() };
//!     let engine = Engine::new(config, Echo);
//!     let app = axum::Router::new().route(
//!         "/engine.io/",
//!         axum::routing::any(move |req: axum::extract::Request| {
//!             let engine = engine.clone();
//!             async move { engine.handle(req).await }
//!         }),
//!     );
//!     axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await
//! }
//! ```

mod compress;
mod config;
mod cookie;
mod driver;
mod hooks;
pub(crate) mod http;
mod outbox;
mod packet;
mod payload;
mod reason;
mod session;
mod stats;
mod tasks;
pub(crate) mod ws;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use std::sync::atomic::Ordering;

use parking_lot::RwLock;

pub(crate) use self::compress::{Coding, choose_coding};
pub use self::compress::{HttpCompression, PerMessageDeflate};
pub use self::config::{Cors, EngineConfig};
pub use self::cookie::{SameSite, SessionCookie};
pub use self::hooks::{
    AllowRequest, AllowRequestAsync, ConnectionError, ConnectionErrorHook, ErrorCode, Forbidden, HeadersHook,
};
pub(crate) use self::http::add_cors;
pub use self::packet::{Frame, Message};
pub use self::reason::CloseReason;
pub use self::session::{ProtocolVersion, SendError, Session, TransportKind};
pub use self::stats::EngineStats;
pub use self::tasks::{BoxFuture, Tasks};
use crate::Sid;

/// Decoder entry points for the fuzz targets (see `sio_core::__fuzz`).
#[cfg(feature = "__internals")]
pub(crate) mod fuzz {
    use bytes::Bytes;

    /// Decodes an Engine.IO text packet.
    pub(crate) fn decode_text(b: Bytes) {
        let _ = super::packet::Inbound::decode_text(b);
    }

    /// Decodes a polling payload.
    pub(crate) fn decode_payload(b: Bytes) {
        let _ = super::payload::decode(b);
    }

    /// Parses WebSocket frames (see `ws::fuzz::frames` for the input layout).
    pub(crate) fn ws_frames(data: &[u8]) {
        super::ws::fuzz::frames(data);
    }
}

/// What the engine calls as sessions open, receive messages and close. The Socket.IO server
/// implements it; so can anything that wants bare Engine.IO.
pub trait EngineHandler: Send + Sync + 'static {
    /// Per-session state, owned by the session's task.
    type State: Send + 'static;

    /// A handshake succeeded; `req` is the handshake request.
    fn on_open(&self, session: &Arc<Session>, req: &::http::request::Parts) -> Self::State;

    /// The session task started; work that awaits (timers) goes to `tasks`.
    fn on_start(&self, state: &mut Self::State, tasks: &mut Tasks<'_, '_>) {
        let _ = (state, tasks);
    }

    /// A message arrived. Work that awaits goes to `tasks`.
    fn on_message(&self, state: &mut Self::State, msg: Message, tasks: &mut Tasks<'_, '_>);

    /// The session closed; no more messages follow.
    fn on_close(&self, state: &mut Self::State, reason: CloseReason, tasks: &mut Tasks<'_, '_>);

    /// The session moved from long-polling to WebSocket.
    fn on_upgrade(&self, state: &mut Self::State) {
        let _ = state;
    }
}

/// A bare Engine.IO server: a map of sessions and the handler that serves them.
pub struct Engine<H: EngineHandler> {
    inner: Arc<EngineInner<H>>,
}

impl<H: EngineHandler> Engine<H> {
    /// A handle that does not keep the engine alive.
    pub(crate) fn downgrade(&self) -> std::sync::Weak<EngineInner<H>> {
        Arc::downgrade(&self.inner)
    }

    /// The engine, if it is still alive.
    pub(crate) fn upgrade(weak: &std::sync::Weak<EngineInner<H>>) -> Option<Self> {
        weak.upgrade().map(|inner| Self { inner })
    }
}

impl<H: EngineHandler> Clone for Engine<H> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<H: EngineHandler> fmt::Debug for Engine<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .field("sessions", &self.inner.sessions.read().len())
            .finish()
    }
}

pub(crate) struct EngineInner<H> {
    pub(crate) config: Arc<EngineConfig>,
    pub(crate) handler: H,
    sessions: RwLock<HashMap<Sid, Arc<Session>>>,
    pub(crate) counters: Arc<stats::Counters>,
    pub(crate) shutting_down: std::sync::atomic::AtomicBool,
    tasks_done: tokio::sync::Notify,
}

impl<H: EngineHandler> EngineInner<H> {
    pub(crate) fn get(&self, sid: Sid) -> Option<Arc<Session>> {
        self.sessions.read().get(&sid).cloned()
    }

    pub(crate) fn insert(&self, session: Arc<Session>) {
        self.sessions.write().insert(session.id(), session);
    }

    pub(crate) fn remove(&self, sid: Sid) {
        self.sessions.write().remove(&sid);
    }

    pub(crate) fn session_count(&self) -> usize {
        self.sessions.read().len()
    }

    pub(crate) fn new_session(
        &self,
        transport: TransportKind,
        protocol: ProtocolVersion,
        binary_polling: bool,
        peer: Option<std::net::SocketAddr>,
    ) -> Arc<Session> {
        self.counters.opened.fetch_add(1, Ordering::Relaxed);
        Arc::new(Session::new(
            transport,
            protocol,
            binary_polling,
            self.config.clone(),
            self.counters.clone(),
            peer,
        ))
    }

    pub(crate) fn task_started(&self) {
        self.counters.live_tasks.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn task_finished(&self) {
        self.counters.live_tasks.fetch_sub(1, Ordering::AcqRel);
        self.tasks_done.notify_waiters();
    }
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with `config`, serving sessions with `handler`.
    pub fn new(config: EngineConfig, handler: H) -> Self {
        Self {
            inner: Arc::new(EngineInner {
                config: Arc::new(config),
                handler,
                sessions: RwLock::new(HashMap::new()),
                counters: Arc::new(stats::Counters::default()),
                shutting_down: std::sync::atomic::AtomicBool::new(false),
                tasks_done: tokio::sync::Notify::new(),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.read().len()
    }

    /// The counters.
    pub fn stats(&self) -> EngineStats {
        let c = &self.inner.counters;
        let (mut polling, mut websocket) = (0, 0);
        let sessions: Vec<_> = self.inner.sessions.read().values().cloned().collect();
        for s in &sessions {
            match s.transport() {
                TransportKind::Polling => polling += 1,
                TransportKind::WebSocket => websocket += 1,
            }
        }
        EngineStats {
            sessions: sessions.len(),
            polling,
            websocket,
            tasks: c.live_tasks.load(Ordering::Acquire),
            opened: c.opened.load(Ordering::Relaxed),
            upgrades: c.upgrades.load(Ordering::Relaxed),
            messages_in: c.messages_in.load(Ordering::Relaxed),
            bytes_in: c.bytes_in.load(Ordering::Relaxed),
            frames_out: c.frames_out.load(Ordering::Relaxed),
            bytes_out: c.bytes_out.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            closed: c.closed_by(),
        }
    }

    /// Stops accepting sessions (handshakes answer `503`), closes every session with
    /// [`CloseReason::ServerShutdown`] after delivering what is queued, and waits until every
    /// session task (and the disconnect handlers they run) has finished, at most `timeout`.
    /// Returns whether everything finished in time.
    pub async fn shutdown(&self, timeout: std::time::Duration) -> bool {
        self.inner.shutting_down.store(true, Ordering::Release);
        self.close_all(CloseReason::ServerShutdown);
        let inner = &self.inner;
        tokio::time::timeout(timeout, async {
            loop {
                let done = inner.tasks_done.notified();
                if inner.counters.live_tasks.load(Ordering::Acquire) == 0 {
                    return;
                }
                done.await;
            }
        })
        .await
        .is_ok()
    }

    /// Closes every session with `reason`.
    pub fn close_all(&self, reason: CloseReason) {
        let sessions: Vec<_> = self.inner.sessions.read().values().cloned().collect();
        for s in sessions {
            s.close(reason);
        }
    }

    /// Answers one HTTP request addressed to the engine's path.
    pub fn handle<B>(
        &self,
        req: ::http::Request<B>,
    ) -> impl std::future::Future<Output = ::http::Response<axum::body::Body>> + Send + 'static + use<H, B>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        http::handle(self.inner.clone(), req.map(axum::body::Body::new))
    }
}
