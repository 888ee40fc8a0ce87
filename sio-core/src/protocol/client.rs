//! What a Socket.IO client writes: the packets of the client's side of the protocol, as the
//! engine frames that carry them (a text frame with the engine's `4` in front, then one
//! binary frame per attachment). The reading side is [`Packet::decode_from_server`].
//!
//! `sio-client` is built on these; they are public for any other client.
//!
//! ```
//! use sio_core::engine::Frame;
//! use sio_core::protocol::client;
//!
//! let frames = client::event("/chat", "msg", &("hi",), Some(3)).unwrap();
//! assert!(matches!(&frames[..], [Frame::Text(t)] if &t[..] == r#"42/chat,3["msg","hi"]"#));
//! assert!(matches!(client::connect("/", None), Frame::Text(t) if &t[..] == "40"));
//! ```
//!
//! [`Packet::decode_from_server`]: super::Packet::decode_from_server

use serde_json::value::RawValue;

use super::{EncodeError, PacketType, Parser, ToArgs, write_header};
use crate::engine::Frame;
use crate::server::encode::{self, Encoded};

fn frames(e: Encoded) -> Vec<Frame> {
    match e {
        Encoded::One(f) => vec![f],
        Encoded::Many(v) => v,
    }
}

fn text(buf: Vec<u8>) -> Frame {
    // Headers and serde_json write UTF-8 only.
    Frame::Text(bytestring::ByteString::try_from(buf).unwrap_or_default())
}

/// `CONNECT` to `nsp`, with the auth payload (a JSON object) when there is one: `40/nsp,{..}`.
pub fn connect(nsp: &str, auth: Option<&RawValue>) -> Frame {
    let mut buf = Vec::with_capacity(16 + nsp.len() + auth.map_or(0, |a| a.get().len()));
    write_header(&mut buf, PacketType::Connect, nsp, 0, None);
    if let Some(auth) = auth {
        buf.extend_from_slice(auth.get().as_bytes());
    }
    text(buf)
}

/// `DISCONNECT` from `nsp`: `41/nsp,`.
pub fn disconnect(nsp: &str) -> Frame {
    let mut buf = Vec::with_capacity(8 + nsp.len());
    write_header(&mut buf, PacketType::Disconnect, nsp, 0, None);
    text(buf)
}

/// An `EVENT` (`BINARY_EVENT` when `args` hold [`Binary`](super::Binary) values) named
/// `event`, asking for an ack when `id` is set.
///
/// # Errors
/// When a value's `Serialize` implementation fails.
pub fn event<A: ToArgs>(
    nsp: &str,
    event: &str,
    args: &A,
    id: Option<u64>,
) -> Result<Vec<Frame>, EncodeError> {
    encode::encode_args(Parser::Json, nsp, Some(event), args, id).map(frames)
}

/// An `ACK` (`BINARY_ACK` with binary values) answering the server's packet `id`.
///
/// # Errors
/// When a value's `Serialize` implementation fails.
pub fn ack<A: ToArgs>(nsp: &str, id: u64, args: &A) -> Result<Vec<Frame>, EncodeError> {
    encode::encode_args(Parser::Json, nsp, None, args, Some(id)).map(frames)
}
