//! Engine.IO v4 packets: the one-character type prefix and what follows it.

use bytes::Bytes;
use bytestring::ByteString;

/// A message delivered by the Engine.IO layer to the layer above (Socket.IO).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message. The bytes are valid UTF-8 (they come from a WebSocket text frame or a
    /// validated polling body), without the engine's `4` prefix.
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The length of the message's payload in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(b) | Message::Binary(b) => b.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A packet received from a client over any transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inbound {
    Close,
    Ping(Bytes),
    Pong(Bytes),
    Message(Message),
    Upgrade,
    Noop,
}

/// Why a sequence of bytes is not an Engine.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketError {
    Empty,
    UnknownType(u8),
    /// A packet only a server may send (`0` open).
    Unexpected,
}

impl Inbound {
    /// Decodes a text packet (`<type>[<data>]`). `text` must be valid UTF-8.
    pub(crate) fn decode_text(text: Bytes) -> Result<Self, PacketError> {
        let Some(&first) = text.first() else {
            return Err(PacketError::Empty);
        };
        let data = || text.slice(1..);
        Ok(match first {
            b'0' => return Err(PacketError::Unexpected),
            b'1' => Inbound::Close,
            b'2' => Inbound::Ping(data()),
            b'3' => Inbound::Pong(data()),
            b'4' => Inbound::Message(Message::Text(data())),
            b'5' => Inbound::Upgrade,
            b'6' => Inbound::Noop,
            other => return Err(PacketError::UnknownType(other)),
        })
    }
}

/// One outbound frame, ready for any transport.
///
/// Text frames hold a complete engine packet (type prefix included) so the very same buffer is
/// written to a WebSocket as-is and copied into a polling payload; broadcasts share one buffer
/// among all recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete text packet, e.g. `42["ev",1]` or `2` (ping).
    Text(ByteString),
    /// The payload of a binary message (sent as a raw WebSocket binary frame, or `b<base64>`
    /// over polling).
    Binary(Bytes),
}

impl Frame {
    pub(crate) const PING: Frame = Frame::Text(ByteString::from_static("2"));
    pub(crate) const PONG: Frame = Frame::Text(ByteString::from_static("3"));
    pub(crate) const NOOP: Frame = Frame::Text(ByteString::from_static("6"));
    pub(crate) const CLOSE: Frame = Frame::Text(ByteString::from_static("1"));

    /// The frame's length in bytes (a text packet's type included).
    pub(crate) fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// A text message frame: `4` followed by `text`.
    pub fn message(text: &str) -> Frame {
        let mut s = String::with_capacity(text.len() + 1);
        s.push('4');
        s.push_str(text);
        Frame::Text(s.into())
    }

    /// A frame from a complete text packet (the caller wrote the type prefix).
    pub fn from_packet_text(text: String) -> Frame {
        Frame::Text(text.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_client_packet_type() {
        let d = |s: &'static str| Inbound::decode_text(Bytes::from_static(s.as_bytes()));
        assert_eq!(d("1"), Ok(Inbound::Close));
        assert_eq!(d("2probe"), Ok(Inbound::Ping(Bytes::from_static(b"probe"))));
        assert_eq!(d("3"), Ok(Inbound::Pong(Bytes::new())));
        assert_eq!(d("4hello"), Ok(Inbound::Message(Message::Text(Bytes::from_static(b"hello")))));
        assert_eq!(d("5"), Ok(Inbound::Upgrade));
        assert_eq!(d("6"), Ok(Inbound::Noop));
        assert_eq!(d(""), Err(PacketError::Empty));
        assert_eq!(d("0{}"), Err(PacketError::Unexpected));
        assert_eq!(d("9"), Err(PacketError::UnknownType(b'9')));
    }
}
