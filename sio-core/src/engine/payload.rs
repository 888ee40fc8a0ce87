//! Long-polling payloads: packets joined by the record separator `\x1e`, binary as `b<base64>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

use super::packet::{Frame, Inbound, Message, PacketError};

/// The record separator that joins packets in a polling payload.
pub(crate) const SEPARATOR: u8 = 0x1e;

/// Why a polling body could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadError {
    NotUtf8,
    Packet(PacketError),
    Base64,
}

/// Decodes a POST body into packets. The body is validated as UTF-8 once, then split without
/// copying.
pub(crate) fn decode(body: Bytes) -> Result<Vec<Inbound>, PayloadError> {
    if std::str::from_utf8(&body).is_err() {
        return Err(PayloadError::NotUtf8);
    }
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = memchr(SEPARATOR, &body[start..]).map_or(body.len(), |i| start + i);
        let part = body.slice(start..end);
        if part.first() == Some(&b'b') {
            let raw = STANDARD.decode(&part[1..]).map_err(|_| PayloadError::Base64)?;
            out.push(Inbound::Message(Message::Binary(Bytes::from(raw))));
        } else {
            out.push(Inbound::decode_text(part).map_err(PayloadError::Packet)?);
        }
        if end == body.len() {
            return Ok(out);
        }
        start = end + 1;
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Encodes queued frames into one GET response body.
pub(crate) fn encode(frames: &[Frame]) -> String {
    let cap = frames
        .iter()
        .map(|f| match f {
            Frame::Text(t) => t.len() + 1,
            Frame::Binary(b) => b.len().div_ceil(3) * 4 + 2,
        })
        .sum();
    let mut out = String::with_capacity(cap);
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR as char);
        }
        match frame {
            Frame::Text(t) => out.push_str(t),
            Frame::Binary(b) => {
                out.push('b');
                STANDARD.encode_string(b, &mut out);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytestring::ByteString;

    #[test]
    fn decodes_a_batch_with_binary() {
        let body = Bytes::from_static(b"4hello\x1ebAQID\x1e6\x1e1");
        let got = decode(body).expect("valid payload");
        assert_eq!(
            got,
            vec![
                Inbound::Message(Message::Text(Bytes::from_static(b"hello"))),
                Inbound::Message(Message::Binary(Bytes::from_static(&[1, 2, 3]))),
                Inbound::Noop,
                Inbound::Close,
            ]
        );
    }

    #[test]
    fn rejects_bad_payloads() {
        assert_eq!(decode(Bytes::from_static(b"")), Err(PayloadError::Packet(PacketError::Empty)));
        assert_eq!(decode(Bytes::from_static(b"4a\x1e")), Err(PayloadError::Packet(PacketError::Empty)));
        assert_eq!(decode(Bytes::from_static(b"b!!")), Err(PayloadError::Base64));
        assert_eq!(decode(Bytes::from_static(&[0xff])), Err(PayloadError::NotUtf8));
    }

    #[test]
    fn encodes_a_batch() {
        let frames = [
            Frame::Text(ByteString::from_static("4hi")),
            Frame::Binary(Bytes::from_static(&[1, 2, 3])),
            Frame::PING,
        ];
        assert_eq!(encode(&frames), "4hi\x1ebAQID\x1e2");
    }
}
