//! A Socket.IO client for Rust: Socket.IO v5 over Engine.IO v4 (long-polling, WebSocket and
//! the upgrade between them), for any Socket.IO 3/4 server, Node's included.
//!
//! What socket.io-client does, with its option names in snake case and its defaults:
//! several namespaces over one connection ([`Socket::socket`]), the auth payload, refusals as
//! [`Error::ConnectRefused`] with the server's message and data, events with
//! [`Binary`] values, acks both ways (with timeouts), volatile emits, the
//! disconnect reasons ([`DisconnectReason`]), reconnection with exponential backoff and jitter,
//! a bounded send buffer while disconnected, and connection state recovery (the session's
//! `pid` and the last `offset` are sent back on reconnection; [`Socket::recovered`] tells).
//!
//! ```no_run
//! use std::time::Duration;
//! use sio_client::{Socket, Transport};
//!
//! # async fn run() -> Result<(), sio_client::Error> {
//! let socket = Socket::builder("http://127.0.0.1:3000/chat")
//!     .transports(&[Transport::WebSocket])
//!     .auth(&serde_json::json!({ "name": "bot" }))
//!     .on("message", |ev| {
//!         // Arguments are read as a tuple of `Deserialize` types.
//!         if let Ok((text,)) = ev.args::<(String,)>() {
//!             println!("message: {text}");
//!         }
//!         // The server asked for an ack: answer it.
//!         if ev.wants_ack() {
//!             let _ = ev.ack(("thanks",));
//!         }
//!     })
//!     .connect()
//!     .await?;
//!
//! socket.emit("msg", ("hello", 42))?;
//! let reply: String = socket.timeout(Duration::from_secs(5)).emit_with_ack("msg", ("hi",)).await?;
//! let admin = socket.socket("/admin").connect().await?;     // same connection
//! admin.disconnect();
//! socket.disconnect();
//! # Ok(()) }
//! ```
//!
//! Handlers run in the connection's task, in the order packets arrive: keep them short, and
//! spawn a task for anything that waits. `http://` and `ws://` only (no TLS yet). The
//! connection stays open until its sockets [`disconnect`](Socket::disconnect).

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod backoff;
mod engine;
mod error;
mod options;
mod socket;

pub use self::error::{DisconnectReason, Error};
pub use self::options::Transport;
pub use self::socket::{AckFuture, Event, Socket, SocketBuilder, WithTimeout};
pub use sio_core::Binary;
pub use sio_core::protocol::{FromArgs, RawArgs, ToArgs};
