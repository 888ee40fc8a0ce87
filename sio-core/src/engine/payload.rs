//! Long-polling payloads: packets joined by the record separator `\x1e`, binary as `b<base64>`
//! (v4); length-prefixed packets, or the binary payload format (v3, see [`v3`]).

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
    /// v3: a length prefix that is missing, not a number, or longer than what follows.
    Length,
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

/// Engine.IO v3 polling payloads.
///
/// Text payloads are `<length>:<packet>` repeated, the length counted in UTF-16 code units (as
/// JavaScript counts string length), binary packets as `b4<base64>`. A client that reads
/// binary (it did not ask for `b64`) gets the binary payload format when the batch holds a
/// binary packet: per packet a `0` (text) or `1` (binary) byte, the length as one byte per
/// decimal digit, `0xff`, then the packet (text as UTF-8; binary as the type byte `4` and the
/// data).
pub(crate) mod v3 {
    use super::*;

    /// The longest length prefix read (the reference gives up after 310 digits; no payload
    /// under `max_payload` needs more than 20).
    const MAX_DIGITS: usize = 20;

    fn utf16_len(s: &str) -> usize {
        if s.is_ascii() { s.len() } else { s.encode_utf16().count() }
    }

    /// Encodes queued frames into one GET response body and its content type.
    pub(crate) fn encode(frames: &[Frame], binary: bool) -> (Bytes, &'static str) {
        if binary && frames.iter().any(|f| matches!(f, Frame::Binary(_))) {
            let cap = frames.iter().map(|f| 24 + frame_len(f)).sum();
            let mut out = Vec::with_capacity(cap);
            for frame in frames {
                let (kind, len) = match frame {
                    Frame::Text(t) => (0u8, t.len()),
                    Frame::Binary(b) => (1u8, b.len() + 1),
                };
                out.push(kind);
                out.extend(len.to_string().bytes().map(|d| d - b'0'));
                out.push(0xff);
                match frame {
                    Frame::Text(t) => out.extend_from_slice(t.as_bytes()),
                    Frame::Binary(b) => {
                        out.push(b'4' - b'0');
                        out.extend_from_slice(b);
                    }
                }
            }
            return (Bytes::from(out), "application/octet-stream");
        }
        let cap = frames.iter().map(|f| 8 + frame_len(f) * 2).sum();
        let mut out = String::with_capacity(cap);
        for frame in frames {
            match frame {
                Frame::Text(t) => {
                    out.push_str(&utf16_len(t).to_string());
                    out.push(':');
                    out.push_str(t);
                }
                Frame::Binary(b) => {
                    let encoded = STANDARD.encode(b);
                    out.push_str(&(encoded.len() + 2).to_string());
                    out.push_str(":b4");
                    out.push_str(&encoded);
                }
            }
        }
        (Bytes::from(out), "text/plain; charset=UTF-8")
    }

    fn frame_len(f: &Frame) -> usize {
        match f {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// Decodes a text POST body.
    pub(crate) fn decode_text(body: Bytes) -> Result<Vec<Inbound>, PayloadError> {
        let text = std::str::from_utf8(&body).map_err(|_| PayloadError::NotUtf8)?;
        if text.is_empty() {
            return Err(PayloadError::Packet(PacketError::Empty));
        }
        let mut out = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let colon = text[at..].find(':').ok_or(PayloadError::Length)? + at;
            let digits = &text[at..colon];
            if digits.is_empty() || digits.len() > MAX_DIGITS || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(PayloadError::Length);
            }
            let units: usize = digits.parse().map_err(|_| PayloadError::Length)?;
            // `units` UTF-16 code units from here, as a byte range.
            let start = colon + 1;
            let mut end = start;
            let mut seen = 0;
            for c in text[start..].chars() {
                if seen >= units {
                    break;
                }
                seen += c.len_utf16();
                end += c.len_utf8();
            }
            if seen != units {
                return Err(PayloadError::Length);
            }
            if end > start {
                out.push(packet(body.slice(start..end))?);
            }
            at = end;
        }
        Ok(out)
    }

    /// Decodes a binary POST body (`Content-Type: application/octet-stream`).
    pub(crate) fn decode_binary(body: Bytes) -> Result<Vec<Inbound>, PayloadError> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < body.len() {
            let is_text = body[at] == 0;
            at += 1;
            let mut len = 0usize;
            let mut digits = 0;
            loop {
                let d = *body.get(at).ok_or(PayloadError::Length)?;
                at += 1;
                if d == 0xff {
                    break;
                }
                digits += 1;
                if d > 9 || digits > MAX_DIGITS {
                    return Err(PayloadError::Length);
                }
                len = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(d)))
                    .ok_or(PayloadError::Length)?;
            }
            if digits == 0 || body.len() - at < len {
                return Err(PayloadError::Length);
            }
            let part = body.slice(at..at + len);
            at += len;
            if is_text {
                if std::str::from_utf8(&part).is_err() {
                    return Err(PayloadError::NotUtf8);
                }
                out.push(packet(part)?);
            } else {
                // The packet type as a byte, then the data: only binary messages are expected.
                match part.first() {
                    Some(4) => out.push(Inbound::Message(Message::Binary(part.slice(1..)))),
                    Some(&t) => return Err(PayloadError::Packet(PacketError::UnknownType(t))),
                    None => return Err(PayloadError::Packet(PacketError::Empty)),
                }
            }
        }
        Ok(out)
    }

    /// One text packet of a payload (`b4<base64>` is a binary message).
    fn packet(part: Bytes) -> Result<Inbound, PayloadError> {
        if part.first() == Some(&b'b') {
            if part.get(1) != Some(&b'4') {
                return Err(PayloadError::Packet(PacketError::UnknownType(
                    part.get(1).copied().unwrap_or(0),
                )));
            }
            let raw = STANDARD.decode(&part[2..]).map_err(|_| PayloadError::Base64)?;
            return Ok(Inbound::Message(Message::Binary(Bytes::from(raw))));
        }
        Inbound::decode_text(part).map_err(PayloadError::Packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytestring::ByteString;

    #[test]
    fn v3_text_payloads_count_utf16_units() {
        let frames = [
            Frame::Text(ByteString::from_static("4h\u{e9}\u{1f600}")),
            Frame::Binary(Bytes::from_static(&[1, 2, 3])),
            Frame::PING,
        ];
        // "4hé😀" is 5 UTF-16 units (the emoji is a surrogate pair).
        let (body, ct) = v3::encode(&frames, false);
        assert_eq!(ct, "text/plain; charset=UTF-8");
        assert_eq!(&body[..], "5:4h\u{e9}\u{1f600}6:b4AQID1:2".as_bytes());
        let back = v3::decode_text(Bytes::from("5:4h\u{e9}\u{1f600}6:b4AQID1:6")).expect("valid payload");
        assert_eq!(
            back,
            vec![
                Inbound::Message(Message::Text(Bytes::from("h\u{e9}\u{1f600}"))),
                Inbound::Message(Message::Binary(Bytes::from_static(&[1, 2, 3]))),
                Inbound::Noop,
            ]
        );
    }

    #[test]
    fn v3_binary_payloads() {
        let frames =
            [Frame::Text(ByteString::from_static("4\u{e9}")), Frame::Binary(Bytes::from_static(&[7; 10]))];
        let (body, ct) = v3::encode(&frames, true);
        assert_eq!(ct, "application/octet-stream");
        let mut want = vec![0, 3, 0xff, b'4', 0xc3, 0xa9, 1, 1, 1, 0xff, 4];
        want.extend_from_slice(&[7; 10]);
        assert_eq!(&body[..], &want[..]);
        let back = v3::decode_binary(body).expect("valid payload");
        assert_eq!(
            back,
            vec![
                Inbound::Message(Message::Text(Bytes::from("\u{e9}"))),
                Inbound::Message(Message::Binary(Bytes::from_static(&[7; 10]))),
            ]
        );
        // Text only: the text format even for a binary-capable client.
        assert_eq!(v3::encode(&[Frame::PING], true).0, Bytes::from_static(b"1:2"));
    }

    #[test]
    fn v3_rejects_bad_payloads() {
        for bad in ["", "4", ":4", "x:4", "2:4", "1:4a", "3:b9A", "4:b4!!", "99999999999999999999999:4"] {
            assert!(v3::decode_text(Bytes::from(bad)).is_err(), "{bad:?} accepted");
        }
        for bad in
            [&[0u8][..], &[0, 1], &[0, 0xff], &[0, 12, 0xff, b'4'], &[1, 1, 0xff, 2], &[0, 5, 0xff, b'4']]
        {
            assert!(v3::decode_binary(Bytes::copy_from_slice(bad)).is_err(), "{bad:?} accepted");
        }
    }

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
