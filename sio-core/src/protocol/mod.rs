//! The Socket.IO v5 protocol: packet encoding and decoding, binary attachments and event
//! arguments. Pure functions, no I/O.

mod args;
mod binary;
pub mod client;
mod json;
pub(crate) mod msgpack;
mod packet;
mod payload;
mod plain;

pub use self::args::WriteArgs;
pub use self::args::{ArgCursor, FromArgs, One, RawArgs, ToArgs, decode_args};
pub(crate) use self::args::{ArgsAt, decode_args_at, decode_args_with, write_array};
pub use self::binary::Binary;
pub use self::packet::{DecodeError, Nsp, Packet, PacketType};
pub(crate) use self::packet::{EventName, write_header};
pub use self::payload::{EncodeError, Payload};

/// How Socket.IO packets are written on the wire, for every client of a server: Node's
/// `parser` option (`new Server({ parser })`), set with
/// [`ServerBuilder::parser`](crate::ServerBuilder::parser). Clients must use the same.
///
/// The parser only changes the wire format: handlers, typed arguments, [`Binary`], acks,
/// broadcasts (still encoded once for all recipients) and adapters work the same with either.
/// The two parsers Node ships are built in; custom parsers cannot be plugged in yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Parser {
    /// The default parser (`socket.io-parser`): text packets with JSON payloads, binary
    /// values in separate attachment messages.
    #[default]
    Json,
    /// MessagePack, wire-compatible with `socket.io-msgpack-parser` 3.x (clients pass
    /// `parser: require("socket.io-msgpack-parser")`): one binary message per packet. How
    /// MessagePack values without a JSON equivalent are read is documented with the
    /// decoder: `undefined` as `null` or a missing key, a `Date` as its ISO string, NaN and
    /// Infinity as `null`; a map key that is neither a string nor an integer, or nesting
    /// deeper than 100 levels, closes the session as a parse error.
    MsgPack,
}
