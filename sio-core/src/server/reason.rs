//! Why a socket left its namespace.

use std::fmt;

use crate::engine::CloseReason;

/// Why a socket disconnected, named as the reference server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The connection was closed (the user left the page, the network dropped).
    TransportClose,
    /// The connection hit an error.
    TransportError,
    /// The client did not answer a ping in time.
    PingTimeout,
    /// The client sent an invalid packet.
    ParseError,
    /// The server closed the whole connection.
    ForcedClose,
    /// The server is shutting down.
    ServerShutdown,
    /// The client left this namespace (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server removed the socket from this namespace ([`Conn::disconnect`](crate::Conn::disconnect)).
    ServerNamespaceDisconnect,
    /// The client did not read fast enough; its outbound queue filled up.
    BufferFull,
}

impl DisconnectReason {
    /// The reason as the reference server (and the JS client's `disconnect` event) spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShutdown => "server shutting down",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::BufferFull => "outbound buffer full",
        }
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ForcedClose => DisconnectReason::ForcedClose,
            CloseReason::ServerShutdown => DisconnectReason::ServerShutdown,
            CloseReason::BufferFull => DisconnectReason::BufferFull,
            _ => DisconnectReason::TransportError,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
