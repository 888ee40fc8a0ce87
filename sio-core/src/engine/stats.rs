//! Counters a user can read: sessions by transport, packets in and out, drops, close reasons.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::reason::CloseReason;

const REASONS: [CloseReason; 7] = [
    CloseReason::TransportClose,
    CloseReason::TransportError,
    CloseReason::PingTimeout,
    CloseReason::ParseError,
    CloseReason::ForcedClose,
    CloseReason::ServerShutdown,
    CloseReason::BufferFull,
];

fn index(r: CloseReason) -> usize {
    REASONS.iter().position(|x| *x == r).unwrap_or(0)
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) live_tasks: AtomicUsize,
    pub(crate) opened: AtomicU64,
    pub(crate) upgrades: AtomicU64,
    pub(crate) messages_in: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) dropped: AtomicU64,
    closed: [AtomicU64; 7],
}

impl Counters {
    /// Messages received in one turn of a session (one update per turn, not per message:
    /// the counters are shared by every thread).
    pub(crate) fn count_in(&self, messages: u64, bytes: u64) {
        if messages > 0 {
            self.messages_in.fetch_add(messages, Ordering::Relaxed);
            self.bytes_in.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    pub(crate) fn closed(&self, r: CloseReason) {
        self.closed[index(r)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn closed_by(&self) -> Vec<(CloseReason, u64)> {
        REASONS
            .iter()
            .map(|r| (*r, self.closed[index(*r)].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// A snapshot of an engine's counters (see [`Engine::stats`](super::Engine::stats)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineStats {
    /// Sessions open now.
    pub sessions: usize,
    /// Of which on long-polling.
    pub polling: usize,
    /// Of which on WebSocket.
    pub websocket: usize,
    /// Session tasks still running (closing sessions finish their handlers first).
    pub tasks: usize,
    /// Sessions opened since start.
    pub opened: u64,
    /// Polling sessions upgraded to WebSocket since start.
    pub upgrades: u64,
    /// Messages received (Engine.IO message packets) since start.
    pub messages_in: u64,
    /// Payload bytes of the messages received since start.
    pub bytes_in: u64,
    /// Frames sent since start.
    pub frames_out: u64,
    /// Bytes of the frames sent since start (the Engine.IO packet type included, before
    /// compression and the transport's framing).
    pub bytes_out: u64,
    /// Volatile frames dropped because a queue was full.
    pub dropped: u64,
    /// Closed sessions by reason, since start.
    pub closed: Vec<(CloseReason, u64)>,
}
