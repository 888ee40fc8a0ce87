//! Support for `sio-client`: the client's side of sio's WebSocket framing, so the client and
//! the server share one implementation (and its fuzzing). Not public API: may change in any
//! release.
#![doc(hidden)]

use std::collections::VecDeque;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;

use crate::engine::ws::WsConn;
pub use crate::engine::ws::{WireFrame, WsError, WsMessage};

/// How much one read takes from the socket (larger frames are read straight into their own
/// buffer).
const READ_SIZE: usize = 4 * 1024;

/// The client's side of a WebSocket whose handshake is done: reads the server's unmasked
/// frames, masks every frame it writes. Pings are answered on the next write.
pub struct WebSocket(WsConn<TokioIo<Upgraded>>);

/// A frame the client writes.
#[derive(Debug, Clone)]
pub enum OutFrame {
    /// A text frame; its bytes must be UTF-8 (a packet encoded by `sio_core`'s protocol).
    Text(Bytes),
    /// A binary frame.
    Binary(Bytes),
}

impl WireFrame for OutFrame {
    fn wire(&self) -> (bool, &[u8]) {
        match self {
            OutFrame::Text(t) => (true, t),
            OutFrame::Binary(b) => (false, b),
        }
    }
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl WebSocket {
    /// The connection over `io`, the upgraded HTTP connection; a message above `max_message`
    /// bytes is a protocol error (1009).
    pub fn new(io: Upgraded, max_message: usize) -> Self {
        Self(WsConn::client(TokioIo::new(io), max_message, READ_SIZE))
    }

    /// The next message (pings and pongs are handled here).
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<WsMessage, WsError>> {
        self.0.poll_next(cx)
    }

    /// Writes `frames`, taking them from the front; ready when all were handed to the socket.
    pub fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        frames: &mut VecDeque<OutFrame>,
    ) -> Poll<Result<(), WsError>> {
        self.0.poll_write(cx, frames)
    }

    /// Whether something waits to be written: a pong to the server's ping, the unsent rest
    /// of a write, a close frame ([`poll_write`](Self::poll_write) with no frames writes it).
    pub fn has_pending_writes(&self) -> bool {
        self.0.has_pending_writes()
    }

    /// The next message.
    pub async fn recv(&mut self) -> Result<WsMessage, WsError> {
        self.0.recv().await
    }

    /// Writes one frame now.
    pub async fn send(&mut self, frame: OutFrame) -> Result<(), WsError> {
        self.0.send(frame).await
    }

    /// Writes a close frame (with the status code of the server's protocol error, or its
    /// own echoed) and drops the connection.
    pub async fn close(self) {
        self.0.close().await;
    }
}

/// The `Sec-WebSocket-Accept` a server answers to `key` (RFC 6455 §4.2.2).
pub fn accept_key(key: &[u8]) -> String {
    crate::engine::http::accept_key(key)
}
