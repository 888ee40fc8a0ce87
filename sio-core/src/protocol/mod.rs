//! The Socket.IO v5 protocol: packet encoding and decoding, binary attachments and event
//! arguments. Pure functions, no I/O.

mod args;
mod binary;
mod json;
mod packet;
mod payload;

pub use self::args::WriteArgs;
pub use self::args::{ArgCursor, FromArgs, One, RawArgs, ToArgs, decode_args};
pub(crate) use self::args::{ArgsAt, decode_args_at, write_array};
pub use self::binary::Binary;
pub(crate) use self::packet::write_header;
pub use self::packet::{DecodeError, Nsp, Packet, PacketType};
pub use self::payload::{EncodeError, Payload};
