//! One Engine.IO session: its id, outbound queue and control state, shared by the HTTP
//! handlers, the session task and the layers above.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;

use super::config::EngineConfig;
use super::outbox::{Outbox, PushError};
use super::packet::{Frame, Inbound};
use super::reason::CloseReason;
use super::ws::WsConn;
use crate::Sid;

/// The transport a session currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }
}

/// The Engine.IO protocol revision a session speaks (Node's `conn.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// Engine.IO v3, with Socket.IO v4 above it: socket.io-client 1.x and 2.x (served when
    /// [`EngineConfig::allow_eio3`] is set).
    V3,
    /// Engine.IO v4, with Socket.IO v5 above it: socket.io-client 3.x and 4.x.
    V4,
}

/// A live Engine.IO session. Cheap to share (`Arc`); every method can be called from any task.
pub struct Session {
    id: Sid,
    pub(crate) outbox: Outbox,
    transport: AtomicU8,
    protocol: ProtocolVersion,
    /// v3 polling only: the client reads binary payloads (it did not ask for `b64`).
    pub(crate) binary_polling: bool,
    upgrading: AtomicBool,
    probed: AtomicBool,
    pub(crate) get_active: AtomicBool,
    pub(crate) post_active: AtomicBool,
    control: Mutex<Control>,
    task: AtomicWaker,
    pub(crate) config: Arc<EngineConfig>,
    counters: Arc<super::stats::Counters>,
    peer: Option<std::net::SocketAddr>,
}

#[derive(Default)]
struct Control {
    close: Option<CloseReason>,
    closed: bool,
    upgrade: Option<Box<WsConn>>,
    inbound: VecDeque<Inbound>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("transport", &self.transport())
            .field("queued", &self.outbox.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        transport: TransportKind,
        protocol: ProtocolVersion,
        binary_polling: bool,
        config: Arc<EngineConfig>,
        counters: Arc<super::stats::Counters>,
        peer: Option<std::net::SocketAddr>,
    ) -> Self {
        Self {
            id: Sid::new(),
            outbox: Outbox::new(config.outbound_buffer),
            transport: AtomicU8::new(transport as u8),
            protocol,
            binary_polling,
            upgrading: AtomicBool::new(false),
            probed: AtomicBool::new(false),
            get_active: AtomicBool::new(false),
            post_active: AtomicBool::new(false),
            control: Mutex::new(Control::default()),
            task: AtomicWaker::new(),
            config,
            counters,
            peer,
        }
    }

    /// The client's address as the handshake request came (`None` when the server was not
    /// started with [`crate::serve`] or axum's `ConnectInfo`).
    pub fn peer(&self) -> Option<std::net::SocketAddr> {
        self.peer
    }

    /// The session id (`sid`).
    pub fn id(&self) -> Sid {
        self.id
    }

    /// The Engine.IO protocol revision of the client.
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// The transport in use now.
    pub fn transport(&self) -> TransportKind {
        if self.transport.load(Ordering::Acquire) == TransportKind::WebSocket as u8 {
            TransportKind::WebSocket
        } else {
            TransportKind::Polling
        }
    }

    /// Queues a frame. When the queue is full the session is closed
    /// ([`CloseReason::BufferFull`]) and the frame is dropped.
    ///
    /// # Errors
    /// [`SendError::Full`] when the queue was full (the session is closing now),
    /// [`SendError::Closed`] when the session is closed.
    pub fn send(&self, frame: Frame) -> Result<(), PushError> {
        let r = self.outbox.push(frame);
        self.on_push_result(r)
    }

    /// Queues frames that belong together (a binary packet and its attachments), all or none.
    ///
    /// # Errors
    /// As [`Session::send`].
    pub fn send_all(&self, frames: &[Frame]) -> Result<(), PushError> {
        let r = self.outbox.push_all(frames);
        self.on_push_result(r)
    }

    /// Queues frames unless the queue is full, in which case they are dropped (volatile
    /// messages) and the session stays open.
    ///
    /// # Errors
    /// [`SendError::Full`] when they were dropped, [`SendError::Closed`] when the session is
    /// closed.
    pub fn send_volatile(&self, frames: &[Frame]) -> Result<(), PushError> {
        let r = self.outbox.push_all(frames);
        if r == Err(PushError::Full) {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    pub(crate) fn count_frames_out<'a>(&self, frames: impl ExactSizeIterator<Item = &'a Frame>) {
        let n = frames.len() as u64;
        let bytes: usize = frames.map(Frame::len).sum();
        self.counters.frames_out.fetch_add(n, Ordering::Relaxed);
        self.counters.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn on_push_result(&self, r: Result<(), PushError>) -> Result<(), PushError> {
        if r == Err(PushError::Full) {
            crate::log::limited!(warn, crate::log::Kind::BufferFull, sid = %self.id, peer = ?self.peer, limit = self.config.outbound_buffer, "closing a session: outbound buffer full (a slow client; see outbound_buffer)");
            self.close(CloseReason::BufferFull);
        }
        r
    }

    /// Asks the session to close. Packets already queued are delivered first when the reason
    /// is a server-side close ([`CloseReason::ForcedClose`], [`CloseReason::ServerShutdown`]).
    pub fn close(&self, reason: CloseReason) {
        {
            let mut c = self.control.lock();
            if c.close.is_some() || c.closed {
                return;
            }
            c.close = Some(reason);
        }
        self.task.wake();
    }

    /// Whether the session has been asked to close or is closed.
    pub fn is_closed(&self) -> bool {
        let c = self.control.lock();
        c.close.is_some() || c.closed
    }

    pub(crate) fn register_task(&self, waker: &std::task::Waker) {
        self.task.register(waker);
    }

    pub(crate) fn wake_task(&self) {
        self.task.wake();
    }

    pub(crate) fn take_close_request(&self) -> Option<CloseReason> {
        let mut c = self.control.lock();
        let r = c.close.take();
        if r.is_some() {
            c.closed = true;
        }
        r
    }

    pub(crate) fn mark_closed(&self) {
        self.control.lock().closed = true;
    }

    /// Hands packets decoded from a POST body to the session task.
    pub(crate) fn push_inbound(&self, packets: Vec<Inbound>) {
        self.control.lock().inbound.extend(packets);
        self.task.wake();
    }

    pub(crate) fn take_inbound(&self) -> VecDeque<Inbound> {
        std::mem::take(&mut self.control.lock().inbound)
    }

    /// Marks an upgrade as started; false if one is already running or done.
    pub(crate) fn begin_upgrade(&self) -> bool {
        self.transport() == TransportKind::Polling
            && self.upgrading.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    pub(crate) fn abort_upgrade(&self) {
        self.probed.store(false, Ordering::Release);
        self.upgrading.store(false, Ordering::Release);
    }

    /// The client probed the WebSocket: a waiting GET is answered with a noop so the client
    /// can pause polling.
    pub(crate) fn mark_probed(&self) {
        self.probed.store(true, Ordering::Release);
        self.outbox.wake_consumer();
    }

    pub(crate) fn is_probed(&self) -> bool {
        self.probed.load(Ordering::Acquire)
    }

    /// Gives a WebSocket that completed the upgrade handshake to the session task. From now
    /// on polling requests are refused.
    pub(crate) fn hand_over(&self, ws: Box<WsConn>) {
        self.control.lock().upgrade = Some(ws);
        self.transport.store(TransportKind::WebSocket as u8, Ordering::Release);
        self.outbox.wake_consumer();
        self.task.wake();
    }

    pub(crate) fn take_upgrade(&self) -> Option<Box<WsConn>> {
        self.control.lock().upgrade.take()
    }

    pub(crate) fn set_transport(&self, t: TransportKind) {
        self.transport.store(t as u8, Ordering::Release);
        if t == TransportKind::WebSocket {
            self.upgrading.store(false, Ordering::Release);
        }
    }

    /// Queues a control frame that bypasses the bound (noop, close).
    pub(crate) fn send_control(&self, frame: Frame) {
        self.outbox.push_control(frame);
    }
}

/// Outcome of pushing into a full or closed queue, re-exported for users of [`Session::send`].
pub use super::outbox::PushError as SendError;
