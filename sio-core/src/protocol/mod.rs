//! The Socket.IO v5 protocol: packet encoding and decoding, binary attachments and event
//! arguments. Pure functions, no I/O.

mod args;
mod binary;
mod json;
mod packet;

pub use self::args::WriteArgs;
pub use self::args::{FromArgs, One, RawArgs, ToArgs, next_arg};
pub(crate) use self::args::{decode_args, forget_validated, write_array};
pub use self::binary::Binary;
pub(crate) use self::packet::write_header;
pub use self::packet::{DecodeError, Nsp, Packet, PacketType};
