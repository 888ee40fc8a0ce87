//! The session task: one per Engine.IO session. It reads the WebSocket (or the packets that
//! POST requests hand over), runs handler futures, writes queued frames in batches and keeps
//! the heartbeat, all from a single task and without spawning per message.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::time::{Instant, Sleep};

use super::packet::{Frame, Inbound, Message};
use super::reason::CloseReason;
use super::session::{ProtocolVersion, Session, TransportKind};
use super::tasks::{Guarded, Tasks};
use super::ws::{WsConn, WsError, WsMessage};
use super::{EngineHandler, EngineInner};

/// Messages read from a WebSocket in one turn before the task yields to others.
const READ_BUDGET: usize = 64;

/// How long a polling session closed by the server waits for a GET to take its last packets.
const POLLING_FLUSH_GRACE: Duration = Duration::from_secs(2);

/// How long a closing WebSocket may take to send its close frame before it is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

enum Phase {
    Running,
    /// Delivering what is queued, then closing the transport.
    Closing {
        flush: bool,
        deadline: Pin<Box<Sleep>>,
    },
    /// Transport closing; waiting for the close frame to leave (bounded) and for handler
    /// futures to finish.
    Draining {
        deadline: Pin<Box<Sleep>>,
    },
}

pub(crate) struct Driver<H: EngineHandler> {
    engine: Arc<EngineInner<H>>,
    session: Arc<Session>,
    state: H::State,
    ws: Option<WsConn>,
    /// Handler futures still running; `None` while there are none (most of the time).
    tasks: Option<FuturesUnordered<Guarded>>,
    panicked: bool,
    heartbeat: Pin<Box<Sleep>>,
    awaiting_pong: bool,
    writing: VecDeque<Frame>,
    phase: Phase,
    started: bool,
    /// A message was handled in this turn (what it queued is written at once).
    handled_input: bool,
    /// The last turn put off its write (see `poll_write`).
    deferred: bool,
}

impl<H: EngineHandler> Drop for Driver<H> {
    fn drop(&mut self) {
        // However the task ends (finished, or dropped with the runtime), it is accounted for.
        self.engine.remove(self.session.id());
        self.engine.task_finished();
    }
}

impl<H: EngineHandler> Driver<H> {
    pub(crate) fn new(
        engine: Arc<EngineInner<H>>,
        session: Arc<Session>,
        state: H::State,
        ws: Option<WsConn>,
    ) -> Self {
        // v4: the server pings after an interval. v3: the client pings, and must do so within
        // the interval plus the timeout.
        let interval = match session.protocol() {
            ProtocolVersion::V4 => session.config.ping_interval,
            ProtocolVersion::V3 => session.config.ping_interval + session.config.ping_timeout,
        };
        engine.task_started();
        Self {
            engine,
            session,
            state,
            ws,
            tasks: None,
            panicked: false,
            heartbeat: Box::pin(tokio::time::sleep(interval)),
            awaiting_pong: false,
            writing: VecDeque::new(),
            phase: Phase::Running,
            started: false,
            handled_input: false,
            deferred: false,
        }
    }

    pub(crate) async fn run(&mut self) {
        use tracing::Instrument as _;
        let span = tracing::debug_span!("session", sid = %self.session.id());
        std::future::poll_fn(|cx| self.poll(cx)).instrument(span).await;
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.session.register_task(cx.waker());
        let mut yield_now = false;
        self.handled_input = false;
        if !self.started {
            self.started = true;
            let mut tasks = Tasks::new(&mut self.tasks, cx, &mut self.panicked);
            self.engine.handler.on_start(&mut self.state, &mut tasks);
        }

        if let Phase::Running = self.phase
            && let Some(reason) = self.session.take_close_request()
        {
            self.begin_close(reason, cx);
        }
        if let Phase::Running = self.phase {
            if let Some(ws) = self.session.take_upgrade() {
                self.engine.counters.upgrades.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.ws = Some(*ws);
                self.session.set_transport(TransportKind::WebSocket);
                tracing::debug!(sid = %self.session.id(), "upgraded to websocket");
                self.engine.handler.on_upgrade(&mut self.state);
            }
            self.poll_heartbeat(cx);
        }
        if let Phase::Running = self.phase {
            yield_now = self.poll_read(cx);
        }

        if let Some(set) = &mut self.tasks {
            while let Poll::Ready(Some(r)) = set.poll_next_unpin(cx) {
                if r.is_err() {
                    self.panicked = true;
                }
            }
            if set.is_empty() {
                self.tasks = None;
            }
        }
        if std::mem::take(&mut self.panicked) {
            crate::log::limited!(error, crate::log::Kind::Panic, sid = %self.session.id(), peer = ?self.session.peer(), "a handler panicked; closing its connection");
            self.session.close(CloseReason::TransportError);
            cx.waker().wake_by_ref();
        }

        if self.ws.is_some() {
            self.poll_write(cx);
        }

        match &mut self.phase {
            Phase::Running => {}
            Phase::Closing { flush, deadline } => {
                let done = match &self.ws {
                    Some(ws) => {
                        !*flush
                            || (self.writing.is_empty()
                                && !ws.has_pending_writes()
                                && self.session.outbox.len() == 0)
                    }
                    // Polling: a GET takes the close packet, or nobody does before the deadline.
                    None => self.session.outbox.len() == 0,
                };
                if done || deadline.as_mut().poll(cx).is_ready() {
                    self.finish_transport(cx);
                }
            }
            Phase::Draining { .. } => {}
        }

        if let Phase::Draining { deadline } = &mut self.phase {
            if let Some(ws) = &mut self.ws {
                // Best effort: let the close frame go out, then drop the connection without
                // waiting for the peer's answer. A peer that stopped reading does not keep the
                // socket: the deadline drops it.
                let mut none = VecDeque::<Frame>::new();
                match ws.poll_write(cx, &mut none) {
                    Poll::Ready(_) => self.ws = None,
                    Poll::Pending if deadline.as_mut().poll(cx).is_ready() => {
                        tracing::debug!(sid = %self.session.id(), "close frame not taken in time, dropping the connection");
                        self.ws = None;
                    }
                    Poll::Pending => {}
                }
            }
            if self.ws.is_none() && self.tasks.is_none() {
                return Poll::Ready(());
            }
        }
        if yield_now {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) {
        if self.heartbeat.as_mut().poll(cx).is_pending() {
            return;
        }
        if self.awaiting_pong || self.session.protocol() == ProtocolVersion::V3 {
            tracing::debug!(sid = %self.session.id(), "ping timeout");
            self.begin_close(CloseReason::PingTimeout, cx);
            return;
        }
        self.session.send_control(Frame::PING);
        self.awaiting_pong = true;
        // From the intended ping time, so a late timer does not stretch the timeout.
        let deadline = self.heartbeat.deadline() + self.session.config.ping_timeout;
        self.heartbeat.as_mut().reset(deadline);
        // Register the timer with the new deadline.
        let _ = self.heartbeat.as_mut().poll(cx);
    }

    /// Reads what is available; true when the budget ran out and the task should yield.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> bool {
        if self.ws.is_none() {
            let inbound = self.session.take_inbound();
            let (messages, bytes) = inbound.iter().fold((0, 0), |(n, b), p| match p {
                Inbound::Message(m) => (n + 1, b + m.len() as u64),
                _ => (n, b),
            });
            self.engine.counters.count_in(messages, bytes);
            for packet in inbound {
                self.on_packet(packet, cx);
                if !matches!(self.phase, Phase::Running) {
                    break;
                }
            }
            return false;
        }
        let mut messages = 0;
        let mut bytes = 0;
        let mut exhausted = true;
        for _ in 0..READ_BUDGET {
            let Some(ws) = self.ws.as_mut() else { break };
            let packet = match ws.poll_next(cx) {
                Poll::Pending => {
                    exhausted = false;
                    break;
                }
                Poll::Ready(Ok(WsMessage::Text(text))) => match Inbound::decode_text(text) {
                    Ok(p) => p,
                    Err(e) => {
                        crate::log::limited!(warn, crate::log::Kind::Parse, sid = %self.session.id(), peer = ?self.session.peer(), error = ?e, "closing a session: invalid Engine.IO packet");
                        self.begin_close(CloseReason::ParseError, cx);
                        exhausted = false;
                        break;
                    }
                },
                Poll::Ready(Ok(WsMessage::Binary(data))) if !ws.is_eio3() => {
                    Inbound::Message(Message::Binary(data))
                }
                Poll::Ready(Ok(WsMessage::Binary(data))) => {
                    // v3: the packet type, then the data; only messages travel as binary.
                    if data.first() == Some(&4) {
                        Inbound::Message(Message::Binary(data.slice(1..)))
                    } else {
                        crate::log::limited!(warn, crate::log::Kind::Parse, sid = %self.session.id(), peer = ?self.session.peer(), "closing a session: invalid Engine.IO v3 binary packet");
                        self.begin_close(CloseReason::ParseError, cx);
                        exhausted = false;
                        break;
                    }
                }
                Poll::Ready(Ok(WsMessage::Close)) => {
                    self.begin_close(CloseReason::TransportClose, cx);
                    exhausted = false;
                    break;
                }
                Poll::Ready(Err(e)) => {
                    match &e {
                        WsError::Protocol { code: super::ws::CLOSE_TOO_BIG, .. } => {
                            crate::log::limited!(warn, crate::log::Kind::TooLarge, sid = %self.session.id(), peer = ?self.session.peer(), limit = self.session.config.max_payload, "closing a session: WebSocket message over max_payload");
                        }
                        WsError::Protocol { .. } => {
                            crate::log::limited!(warn, crate::log::Kind::Parse, sid = %self.session.id(), peer = ?self.session.peer(), error = %e, "closing a session: WebSocket protocol error");
                        }
                        WsError::Gone(_) => {
                            tracing::debug!(sid = %self.session.id(), error = %e, "websocket read failed")
                        }
                    }
                    // The connection going away (reset, EOF without a close frame) is a
                    // `transport close`, as in the reference; a peer breaking the protocol or
                    // the size limit is a `transport error`, and the WebSocket stays to send
                    // the close frame that says why (it is not read again).
                    let reason = match e {
                        WsError::Gone(_) => {
                            self.ws = None;
                            CloseReason::TransportClose
                        }
                        WsError::Protocol { .. } => CloseReason::TransportError,
                    };
                    self.begin_close(reason, cx);
                    exhausted = false;
                    break;
                }
            };
            if let Inbound::Message(m) = &packet {
                messages += 1;
                bytes += m.len() as u64;
            }
            self.on_packet(packet, cx);
            if !matches!(self.phase, Phase::Running) {
                exhausted = false;
                break;
            }
        }
        if messages > 0 {
            // Once per turn rather than per message: the counter is shared by every thread.
            self.engine.counters.count_in(messages, bytes);
        }
        exhausted && self.ws.is_some()
    }

    fn on_packet(&mut self, packet: Inbound, cx: &mut Context<'_>) {
        match packet {
            Inbound::Message(msg) => {
                self.handled_input = true;
                let mut tasks = Tasks::new(&mut self.tasks, cx, &mut self.panicked);
                self.engine.handler.on_message(&mut self.state, msg, &mut tasks);
            }
            Inbound::Ping(_) if self.session.protocol() == ProtocolVersion::V3 => {
                self.session.send_control(Frame::PONG);
                let cfg = &self.session.config;
                let next = Instant::now() + cfg.ping_interval + cfg.ping_timeout;
                self.heartbeat.as_mut().reset(next);
                let _ = self.heartbeat.as_mut().poll(cx);
            }
            Inbound::Pong(_) if self.session.protocol() == ProtocolVersion::V3 => {
                tracing::debug!(sid = %self.session.id(), "invalid heartbeat direction");
                self.begin_close(CloseReason::TransportError, cx);
            }
            Inbound::Pong(_) => {
                if self.awaiting_pong {
                    self.awaiting_pong = false;
                    let next = Instant::now() + self.session.config.ping_interval;
                    self.heartbeat.as_mut().reset(next);
                    let _ = self.heartbeat.as_mut().poll(cx);
                }
            }
            Inbound::Close => self.begin_close(CloseReason::TransportClose, cx),
            Inbound::Ping(_) => {
                // In v4 only the server pings; the reference treats this as an error.
                tracing::debug!(sid = %self.session.id(), "invalid heartbeat direction");
                self.begin_close(CloseReason::TransportError, cx);
            }
            Inbound::Upgrade | Inbound::Noop => {}
        }
    }

    fn begin_close(&mut self, reason: CloseReason, cx: &mut Context<'_>) {
        if !matches!(self.phase, Phase::Running) {
            return;
        }
        self.session.mark_closed();
        self.engine.counters.closed(reason);
        // Over polling, the packets queued before a server-side close, the final noop of a
        // client that closed itself (its GET may race the close POST), and the replies that
        // fit before a POST's replies overflowed the queue, followed by a close packet, are
        // still delivered: the session stays reachable until a GET took them or the grace
        // period ends (a client told by a close packet reconnects at once; an unknown sid
        // would look like a network error). Every other close makes the sid unknown at once,
        // as in the reference.
        let linger = self.ws.is_none()
            && (reason.flushes() || matches!(reason, CloseReason::TransportClose | CloseReason::BufferFull));
        if !linger {
            self.engine.remove(self.session.id());
        }
        tracing::debug!(sid = %self.session.id(), %reason, "session closing");
        {
            let mut tasks = Tasks::new(&mut self.tasks, cx, &mut self.panicked);
            self.engine.handler.on_close(&mut self.state, reason, &mut tasks);
        }
        let flush = reason.flushes();
        if self.ws.is_none() {
            // A waiting GET (or the next one, until the deadline) is released: with a noop
            // when the client itself closed, with a close packet otherwise (as the reference).
            let last = if reason == CloseReason::TransportClose { Frame::NOOP } else { Frame::CLOSE };
            self.session.send_control(last);
        }
        self.session.outbox.close();
        // How long queued packets may take to leave: a WebSocket flushes as fast as the peer
        // reads; a polling client normally has a GET waiting or sends the next one at once.
        let grace = match (flush, self.ws.is_some()) {
            (true, true) => self.session.config.ping_timeout.max(Duration::from_secs(1)),
            (true, false) => POLLING_FLUSH_GRACE,
            (false, true) => Duration::ZERO,
            (false, false) => Duration::from_secs(1),
        };
        let mut deadline = Box::pin(tokio::time::sleep(grace));
        let _ = deadline.as_mut().poll(cx);
        self.phase = Phase::Closing { flush, deadline };
        // Re-run the loop so a flush or the final close starts now.
        cx.waker().wake_by_ref();
    }

    fn finish_transport(&mut self, cx: &mut Context<'_>) {
        self.engine.remove(self.session.id());
        if let Some(ws) = &mut self.ws {
            ws.queue_close();
        }
        let mut deadline = Box::pin(tokio::time::sleep(CLOSE_TIMEOUT));
        let _ = deadline.as_mut().poll(cx);
        self.phase = Phase::Draining { deadline };
        cx.waker().wake_by_ref();
    }

    /// Moves queued frames to the WebSocket: everything queued in one batch, one write.
    fn poll_write(&mut self, cx: &mut Context<'_>) {
        if matches!(self.phase, Phase::Draining { .. }) {
            return;
        }
        if self.defer_write(cx) {
            return;
        }
        loop {
            let mut fresh = false;
            if self.writing.is_empty()
                && self.session.outbox.poll_drain(cx, &mut self.writing).is_ready()
                && !self.writing.is_empty()
            {
                self.session.count_frames_out(self.writing.iter());
                fresh = true;
            }
            let Some(ws) = self.ws.as_mut() else { return };
            match ws.poll_write(cx, &mut self.writing) {
                Poll::Pending => return,
                Poll::Ready(Err(e)) => return self.write_failed(e, cx),
                Poll::Ready(Ok(())) if !fresh => return,
                Poll::Ready(Ok(())) => {
                    // Written: the queue's room goes with it. The next batch gets its own,
                    // and an idle session keeps none (this and the outbox trade queues).
                    self.writing = VecDeque::new();
                }
            }
        }
    }

    /// Whether to put off writing to the end of this round of the runtime: when the task was
    /// woken by frames others queued (a broadcast) rather than by its own messages, the other
    /// producers of this round, and the I/O that wakes them, get to queue theirs first, and
    /// one write takes them all. Never twice in a row, so it costs one scheduling round.
    fn defer_write(&mut self, cx: &mut Context<'_>) -> bool {
        if std::mem::take(&mut self.deferred)
            || self.handled_input
            || !matches!(self.phase, Phase::Running)
            || !self.writing.is_empty()
            || self.ws.as_ref().is_none_or(WsConn::has_pending_writes)
            || self.session.outbox.len() == 0
        {
            return false;
        }
        self.deferred = true;
        // tokio wakes a yielding task after it has polled the I/O driver.
        let _ = std::pin::pin!(tokio::task::yield_now()).poll(cx);
        true
    }

    fn write_failed(&mut self, e: WsError, cx: &mut Context<'_>) {
        tracing::debug!(sid = %self.session.id(), error = %e, "websocket write failed");
        self.ws = None;
        self.writing.clear();
        if matches!(self.phase, Phase::Running) {
            self.begin_close(CloseReason::TransportError, cx);
        }
    }
}
