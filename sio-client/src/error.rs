//! The client's errors.

use std::fmt;

/// Why connecting, emitting or waiting for an ack failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The URL or an option is wrong.
    Config(String),
    /// A transport failed: the server is unreachable, an HTTP request was refused, the
    /// WebSocket broke (socket.io-client's `xhr poll error`, `websocket error`).
    Transport(String),
    /// The server sent something that is not Engine.IO or Socket.IO.
    Protocol(String),
    /// The server refused the namespace (a `CONNECT_ERROR`): its message and `data`, as
    /// socket.io-client's `connect_error` gives them (`err.message`, `err.data`).
    ConnectRefused {
        /// The error's message (`next(new Error("..."))` on a Node server).
        message: String,
        /// The error's `data`, when the server set some.
        data: Option<serde_json::Value>,
    },
    /// Nothing came back in time: the handshake, the namespace's `CONNECT`, an ack.
    Timeout(&'static str),
    /// The socket is disconnected (for an ack that was sent and will not come back, or an
    /// emit on a socket that was closed with [`Socket::disconnect`](crate::Socket::disconnect)).
    Disconnected,
    /// Reconnection gave up after `reconnection_attempts`.
    ReconnectFailed,
    /// The send buffer of a disconnected socket is full (`send_buffer_capacity`).
    BufferFull,
    /// An argument could not be serialized, or a reply not deserialized as the type asked for.
    Serde(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::Protocol(m) => write!(f, "protocol error: {m}"),
            Error::ConnectRefused { message, data: None } => write!(f, "connection refused: {message}"),
            Error::ConnectRefused { message, data: Some(d) } => {
                write!(f, "connection refused: {message} ({d})")
            }
            Error::Timeout(what) => write!(f, "timeout: {what} did not complete in time"),
            Error::Disconnected => f.write_str("the socket is disconnected"),
            Error::ReconnectFailed => f.write_str("reconnection failed"),
            Error::BufferFull => f.write_str("the send buffer is full"),
            Error::Serde(m) => write!(f, "could not (de)serialize: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Serde(e.to_string())
    }
}

impl From<sio_core::EncodeError> for Error {
    fn from(e: sio_core::EncodeError) -> Self {
        Error::Serde(e.to_string())
    }
}

/// Why a socket was disconnected: socket.io-client's reasons, with the same strings
/// ([`as_str`](Self::as_str)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server disconnected the socket (`socket.disconnect()` on the server):
    /// `"io server disconnect"`. The client does not reconnect by itself.
    IoServerDisconnect,
    /// The client called [`Socket::disconnect`](crate::Socket::disconnect):
    /// `"io client disconnect"`.
    IoClientDisconnect,
    /// No ping from the server in time: `"ping timeout"`.
    PingTimeout,
    /// The connection was closed or lost: `"transport close"`.
    TransportClose,
    /// The connection failed: `"transport error"`.
    TransportError,
    /// The server sent an invalid packet: `"parse error"`.
    ParseError,
}

impl DisconnectReason {
    /// socket.io-client's string for it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::IoServerDisconnect => "io server disconnect",
            DisconnectReason::IoClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
        }
    }

    /// Whether the client reconnects by itself after it (it does not after
    /// [`IoServerDisconnect`](Self::IoServerDisconnect) and
    /// [`IoClientDisconnect`](Self::IoClientDisconnect), as socket.io-client).
    pub fn reconnects(self) -> bool {
        !matches!(self, DisconnectReason::IoServerDisconnect | DisconnectReason::IoClientDisconnect)
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
