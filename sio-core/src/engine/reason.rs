//! Why an Engine.IO session ended.

use std::fmt;

/// Why an Engine.IO session closed, named as the reference server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client closed the transport, or sent a close packet (`transport close`).
    TransportClose,
    /// The transport failed: connection reset, protocol violation (`transport error`).
    TransportError,
    /// The client did not answer a ping in time (`ping timeout`).
    PingTimeout,
    /// The client sent bytes that are not a valid packet (`parse error`).
    ParseError,
    /// The server closed the session (`forced close`).
    ForcedClose,
    /// The server is shutting down (`server shutting down`).
    ServerShutdown,
    /// The client did not read fast enough and its outbound queue filled up
    /// (`outbound buffer full`; the reference has no bound, so no name for it).
    BufferFull,
}

impl CloseReason {
    /// The reason as the reference server spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
            CloseReason::ServerShutdown => "server shutting down",
            CloseReason::BufferFull => "outbound buffer full",
        }
    }

    /// Whether queued packets should still be delivered before the transport closes.
    pub(crate) fn flushes(&self) -> bool {
        matches!(self, CloseReason::ForcedClose | CloseReason::ServerShutdown)
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
