//! What a Socket.IO client writes: the packets of the client's side of the protocol, each as
//! an [`Outgoing`]: the text of its engine frame (the engine's `4` in front), then its binary
//! attachments, one frame each. The reading side is [`Packet::decode_from_server`].
//!
//! `sio-client` is built on these; they are public for any other client.
//!
//! ```
//! use sio_core::protocol::client;
//!
//! let p = client::event("/chat", "msg", &("hi",), Some(3)).unwrap();
//! assert_eq!((p.text_str(), p.attachments.len()), (r#"42/chat,3["msg","hi"]"#, 0));
//! assert_eq!(client::connect("/", None).text_str(), "40");
//! ```
//!
//! [`Packet::decode_from_server`]: super::Packet::decode_from_server

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use serde::de::{self, DeserializeOwned, IntoDeserializer as _};
use serde_json::value::RawValue;

use super::{EncodeError, PacketType, ToArgs, WriteArgs, write_header};
use crate::engine::Frame;

/// One packet as a client sends it: a text frame, then one binary frame per attachment.
///
/// The text is UTF-8 (headers and serde_json write nothing else) held as [`Bytes`]: small
/// packets are cut from a shared per-thread block instead of an allocation each, and a
/// WebSocket library takes the bytes as they are (checking they are UTF-8 where its text
/// type wants it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outgoing {
    /// The text frame, UTF-8: the engine's `4`, the Socket.IO header, the JSON payload.
    pub text: Bytes,
    /// The binary attachments (a `BINARY_EVENT`'s or `BINARY_ACK`'s), in order.
    pub attachments: Vec<Bytes>,
}

impl Outgoing {
    /// The text frame as a `&str` (an empty one if it were not UTF-8, which it always is).
    pub fn text_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The engine frames: the text frame, then the attachments.
    pub fn into_frames(self) -> Vec<Frame> {
        let mut frames = Vec::with_capacity(1 + self.attachments.len());
        frames.push(Frame::Text(ByteString::try_from(self.text).unwrap_or_default()));
        frames.extend(self.attachments.into_iter().map(Frame::Binary));
        frames
    }
}

/// Packets up to this size are cut from a shared block of [`BLOCK`] bytes.
const SMALL: usize = 1024;
/// The shared block small packets are cut from: one allocation for many packets (each holds
/// the block until it is dropped, so one packet keeps at most this much memory alive).
const BLOCK: usize = 4096;

thread_local! {
    /// Where packets are written before they are copied into their own bytes.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The block small packets are cut from.
    static BLOCKS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// The packet's own bytes: cut from the per-thread block when small, else an allocation of
/// its exact size (which `Bytes` takes without another).
fn own_bytes(packet: &[u8]) -> Bytes {
    if packet.len() > SMALL {
        return Bytes::from(packet.to_vec());
    }
    BLOCKS.with(|b| {
        let mut block = b.borrow_mut();
        if block.capacity() - block.len() < packet.len() {
            // A new block; the old one lives on in the packets cut from it.
            *block = BytesMut::with_capacity(BLOCK);
        }
        block.extend_from_slice(packet);
        block.split().freeze()
    })
}

/// Reads the first argument of an `ACK` (what `emitWithAck` resolves with) as `T`; a missing
/// one as `T` from nothing (`None` for an `Option`, else an error). `data` is the array of a
/// packet [`Packet::decode_from_server`] accepted, so it is valid: the argument is read
/// straight from it, and the rest of the array is not read again.
///
/// ```
/// use sio_core::protocol::client;
///
/// let first: String = client::first_arg(br#"["hi",2]"#, &[]).unwrap();
/// assert_eq!(first, "hi");
/// assert_eq!(client::first_arg::<Option<u8>>(b"[]", &[]).unwrap(), None);
/// assert!(client::first_arg::<u8>(b"[]", &[]).is_err());
/// ```
///
/// # Errors
/// When the argument does not deserialize as `T` (serde's message), or is missing and `T`
/// is not optional.
///
/// [`Packet::decode_from_server`]: super::Packet::decode_from_server
pub fn first_arg<T: DeserializeOwned>(data: &[u8], attachments: &[Bytes]) -> Result<T, serde_json::Error> {
    let body = data.trim_ascii_start().strip_prefix(b"[").unwrap_or_default();
    if body.trim_ascii_start().first().is_none_or(|&c| c == b']') {
        return T::deserialize(().into_deserializer())
            .map_err(|_: de::value::Error| de::Error::custom("missing argument 0"));
    }
    let read = || T::deserialize(&mut serde_json::Deserializer::from_slice(body));
    if attachments.is_empty() {
        // No attachments to show `Binary` (a placeholder is an error either way).
        return read();
    }
    super::binary::decode_with(attachments, read)
}

/// `CONNECT` to `nsp`, with the auth payload (a JSON object) when there is one: `40/nsp,{..}`.
pub fn connect(nsp: &str, auth: Option<&RawValue>) -> Outgoing {
    let mut buf = Vec::with_capacity(16 + nsp.len() + auth.map_or(0, |a| a.get().len()));
    write_header(&mut buf, PacketType::Connect, nsp, 0, None);
    if let Some(auth) = auth {
        buf.extend_from_slice(auth.get().as_bytes());
    }
    Outgoing { text: Bytes::from(buf), attachments: Vec::new() }
}

/// `DISCONNECT` from `nsp`: `41/nsp,`.
pub fn disconnect(nsp: &str) -> Outgoing {
    let mut buf = Vec::with_capacity(8 + nsp.len());
    write_header(&mut buf, PacketType::Disconnect, nsp, 0, None);
    Outgoing { text: Bytes::from(buf), attachments: Vec::new() }
}

/// An `EVENT` (`BINARY_EVENT` when `args` hold [`Binary`](super::Binary) values) named
/// `event`, asking for an ack when `id` is set.
///
/// # Errors
/// When a value's `Serialize` implementation fails.
pub fn event<A: ToArgs>(nsp: &str, event: &str, args: &A, id: Option<u64>) -> Result<Outgoing, EncodeError> {
    encode(nsp, Some(event), args, id)
}

/// An `ACK` (`BINARY_ACK` with binary values) answering the server's packet `id`.
///
/// # Errors
/// When a value's `Serialize` implementation fails.
pub fn ack<A: ToArgs>(nsp: &str, id: u64, args: &A) -> Result<Outgoing, EncodeError> {
    encode(nsp, None, args, Some(id))
}

/// The header and the JSON array written into a per-thread scratch buffer, then copied into
/// the packet's own bytes; the header is written again only when binary values turned up.
fn encode(
    nsp: &str,
    event: Option<&str>,
    args: &dyn WriteArgs,
    id: Option<u64>,
) -> Result<Outgoing, EncodeError> {
    let (plain, binary) = match event {
        Some(_) => (PacketType::Event, PacketType::BinaryEvent),
        None => (PacketType::Ack, PacketType::BinaryAck),
    };
    // Taken, not borrowed: a `Serialize` impl may encode a packet of its own.
    let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    buf.clear();
    write_header(&mut buf, plain, nsp, 0, id);
    let header_len = buf.len();
    let (r, attachments) = super::binary::encode_with(|| {
        buf.push(b'[');
        if let Some(name) = event {
            if name.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\') {
                serde_json::to_writer(&mut buf, name)?;
            } else {
                // Nothing to escape (the usual event name): the bytes as they are.
                buf.push(b'"');
                buf.extend_from_slice(name.as_bytes());
                buf.push(b'"');
            }
        }
        args.write_dyn(&mut buf, event.is_none())?;
        buf.push(b']');
        Ok::<_, serde_json::Error>(())
    });
    let out = r.map(|()| {
        if attachments.is_empty() {
            own_bytes(&buf)
        } else {
            // The header again, with the attachment count.
            let mut out = Vec::with_capacity(buf.len() + 8);
            write_header(&mut out, binary, nsp, attachments.len(), id);
            out.extend_from_slice(&buf[header_len..]);
            Bytes::from(out)
        }
    });
    if buf.capacity() <= 64 * 1024 {
        // Kept for the next packet; a very large one does not stay with the thread.
        SCRATCH.with(|s| *s.borrow_mut() = buf);
    }
    Ok(Outgoing { text: out.map_err(EncodeError)?, attachments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Binary;

    #[test]
    fn packets() {
        let p = event("/", "echo", &("hi", 2), Some(17)).expect("encodes");
        assert_eq!(p, Outgoing { text: Bytes::from_static(br#"4217["echo","hi",2]"#), attachments: vec![] });
        let p = event("/a", "ev", &(), None).expect("encodes");
        assert_eq!(p.text_str(), r#"42/a,["ev"]"#);
        let p = event("/", "a\"b\\c\n", &(), None).expect("encodes");
        assert_eq!(p.text_str(), r#"42["a\"b\\c\n"]"#);
        let bin = Bytes::from_static(&[1, 2]);
        let p = event("/a", "up", &(Binary(bin.clone()), 1), Some(3)).expect("encodes");
        assert_eq!(p.text_str(), r#"451-/a,3["up",{"_placeholder":true,"num":0},1]"#);
        assert_eq!(p.attachments, vec![bin.clone()]);
        assert_eq!(p.into_frames().len(), 2);
        let p = ack("/", 5, &("ok",)).expect("encodes");
        assert_eq!(p.text_str(), r#"435["ok"]"#);
        let p = ack("/", 5, &(Binary(bin),)).expect("encodes");
        assert_eq!(p.text_str(), r#"461-5[{"_placeholder":true,"num":0}]"#);
        assert_eq!(disconnect("/x").text_str(), "41/x,");
        let auth = RawValue::from_string(r#"{"a":1}"#.into()).expect("json");
        assert_eq!(connect("/", Some(&auth)).text_str(), r#"40{"a":1}"#);
    }

    #[test]
    fn first_args() {
        let bin = Bytes::from_static(&[7]);
        let data = br#" [ {"_placeholder":true,"num":0} , 1 ] "#;
        let b: Binary = first_arg(data, std::slice::from_ref(&bin)).expect("decodes");
        assert_eq!(b.0, bin);
        assert_eq!(first_arg::<(u8, String)>(br#"[[1,"a"]]"#, &[]).expect("decodes"), (1, "a".into()));
        assert!(first_arg::<String>(b"[1]", &[]).is_err());
        assert!(first_arg::<String>(b" [ ] ", &[]).is_err());
        assert_eq!(first_arg::<Option<String>>(b"[null]", &[]).expect("decodes"), None);
        assert!(first_arg::<Binary>(br#"[{"_placeholder":true,"num":0}]"#, &[]).is_err());
    }
}
