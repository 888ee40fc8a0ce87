//! Encoding outbound packets once into frames that every recipient shares.

use bytestring::ByteString;

use crate::engine::Frame;
use crate::protocol::{EncodeError, PacketType, Payload, WriteArgs, write_array, write_header};

/// An encoded packet: one text frame, then its binary attachments.
#[derive(Debug, Clone)]
pub(crate) enum Encoded {
    One(Frame),
    Many(Vec<Frame>),
}

impl Encoded {
    pub(crate) fn frames(&self) -> &[Frame] {
        match self {
            Encoded::One(f) => std::slice::from_ref(f),
            Encoded::Many(v) => v,
        }
    }
}

fn text_frame(buf: Vec<u8>) -> Frame {
    // serde_json and our headers only write UTF-8.
    match ByteString::try_from(buf) {
        Ok(t) => Frame::Text(t),
        Err(_) => Frame::Text(ByteString::from_static("")),
    }
}

/// Encodes an EVENT (or ACK when `event` is `None`) with `args`.
pub(crate) fn encode_args(
    nsp: &str,
    event: Option<&str>,
    args: &dyn WriteArgs,
    id: Option<u64>,
) -> Result<Encoded, EncodeError> {
    encode_packet(nsp, event, args, id).map(|(enc, _)| enc)
}

/// [`encode_args`], also returning where the JSON array starts in the text frame (what an
/// adapter forwards, see [`payload_of`]).
pub(crate) fn encode_packet(
    nsp: &str,
    event: Option<&str>,
    args: &dyn WriteArgs,
    id: Option<u64>,
) -> Result<(Encoded, usize), EncodeError> {
    let (plain, binary) = if event.is_some() {
        (PacketType::Event, PacketType::BinaryEvent)
    } else {
        (PacketType::Ack, PacketType::BinaryAck)
    };
    let mut buf = Vec::with_capacity(64 + nsp.len());
    write_header(&mut buf, plain, nsp, 0, id);
    let header_len = buf.len();
    let bins = write_array(&mut buf, event, args).map_err(EncodeError)?;
    if bins.is_empty() {
        return Ok((Encoded::One(text_frame(buf)), header_len));
    }
    let mut with_header = Vec::with_capacity(buf.len() + 8);
    write_header(&mut with_header, binary, nsp, bins.len(), id);
    let binary_header_len = with_header.len();
    with_header.extend_from_slice(&buf[header_len..]);
    let mut frames = Vec::with_capacity(bins.len() + 1);
    frames.push(text_frame(with_header));
    frames.extend(bins.into_iter().map(Frame::Binary));
    Ok((Encoded::Many(frames), binary_header_len))
}

/// The arguments of an encoded EVENT (the JSON array after a header of `header_len` bytes,
/// and the attachments), without copying.
pub(crate) fn payload_of(enc: &Encoded, header_len: usize) -> Payload {
    let frames = enc.frames();
    let data = match frames.first() {
        Some(Frame::Text(t)) => t.as_bytes().slice(header_len.min(t.len())..),
        _ => bytes::Bytes::new(),
    };
    let attachments = frames
        .iter()
        .skip(1)
        .filter_map(|f| match f {
            Frame::Binary(b) => Some(b.clone()),
            Frame::Text(_) => None,
        })
        .collect();
    Payload { data, attachments }
}

/// Encodes an EVENT from another node's payload (once, for every local recipient).
pub(crate) fn encode_payload(nsp: &str, payload: &Payload, id: Option<u64>) -> Encoded {
    let kind = if payload.attachments.is_empty() { PacketType::Event } else { PacketType::BinaryEvent };
    let mut buf = Vec::with_capacity(16 + nsp.len() + payload.data.len());
    write_header(&mut buf, kind, nsp, payload.attachments.len(), id);
    buf.extend_from_slice(&payload.data);
    let text = text_frame(buf);
    if payload.attachments.is_empty() {
        return Encoded::One(text);
    }
    let mut frames = Vec::with_capacity(payload.attachments.len() + 1);
    frames.push(text);
    frames.extend(payload.attachments.iter().cloned().map(Frame::Binary));
    Encoded::Many(frames)
}

/// `40/nsp,{"sid":"..."}`.
pub(crate) fn connect(nsp: &str, sid: &str) -> Frame {
    let mut buf = Vec::with_capacity(40 + nsp.len());
    write_header(&mut buf, PacketType::Connect, nsp, 0, None);
    buf.extend_from_slice(br#"{"sid":""#);
    buf.extend_from_slice(sid.as_bytes());
    buf.extend_from_slice(br#""}"#);
    text_frame(buf)
}

/// `41/nsp,`.
pub(crate) fn disconnect(nsp: &str) -> Frame {
    let mut buf = Vec::with_capacity(8 + nsp.len());
    write_header(&mut buf, PacketType::Disconnect, nsp, 0, None);
    text_frame(buf)
}

/// `44/nsp,{"message":...,"data":...}`.
pub(crate) fn connect_error(nsp: &str, message: &str, data: Option<&serde_json::Value>) -> Frame {
    let mut buf = Vec::with_capacity(40 + nsp.len() + message.len());
    write_header(&mut buf, PacketType::ConnectError, nsp, 0, None);
    let body = match data {
        Some(d) => serde_json::json!({ "message": message, "data": d }),
        None => serde_json::json!({ "message": message }),
    };
    let _ = serde_json::to_writer(&mut buf, &body);
    text_frame(buf)
}

/// Socket.IO v4 (Engine.IO v3 clients): `0/nsp,`, without the sid.
pub(crate) fn connect_v3(nsp: &str) -> Frame {
    let mut buf = Vec::with_capacity(8 + nsp.len());
    write_header(&mut buf, PacketType::Connect, nsp, 0, None);
    text_frame(buf)
}

/// Socket.IO v4 (Engine.IO v3 clients): `44/nsp,<data or message>`, as the reference sends a
/// refusal to them (the error's `data` when it has some, else its message as a string).
pub(crate) fn connect_error_v3(nsp: &str, message: &str, data: Option<&serde_json::Value>) -> Frame {
    let mut buf = Vec::with_capacity(40 + nsp.len() + message.len());
    write_header(&mut buf, PacketType::ConnectError, nsp, 0, None);
    // JavaScript's `err.data || err.message`.
    let falsy = |d: &serde_json::Value| match d {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => s.is_empty(),
        _ => false,
    };
    let _ = match data {
        Some(d) if !falsy(d) => serde_json::to_writer(&mut buf, d),
        _ => serde_json::to_writer(&mut buf, message),
    };
    text_frame(buf)
}

/// Bytes of a frame list, for tests.
#[cfg(test)]
pub(crate) fn texts(e: &Encoded) -> Vec<bytes::Bytes> {
    e.frames()
        .iter()
        .map(|f| match f {
            Frame::Text(t) => bytes::Bytes::copy_from_slice(t.as_bytes()),
            Frame::Binary(b) => b.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Binary, One};
    use bytes::Bytes;

    #[test]
    fn encodes_events_acks_and_binary() {
        let e = encode_args("/", Some("msg"), &One(&"hi"), None).expect("encodes");
        assert_eq!(texts(&e), vec![Bytes::from_static(br#"42["msg","hi"]"#)]);
        let e = encode_args("/chat", None, &(1, "x"), Some(4)).expect("encodes");
        assert_eq!(texts(&e), vec![Bytes::from_static(br#"43/chat,4[1,"x"]"#)]);
        let e = encode_args("/", Some("up"), &(Binary::from(vec![9u8]), 2), Some(1)).expect("encodes");
        assert_eq!(
            texts(&e),
            vec![
                Bytes::from_static(br#"451-1["up",{"_placeholder":true,"num":0},2]"#),
                Bytes::from_static(&[9])
            ]
        );
        let (e, header) =
            encode_packet("/n", Some("up"), &(Binary::from(vec![9u8]),), None).expect("encodes");
        let p = payload_of(&e, header);
        assert_eq!(&p.data[..], br#"["up",{"_placeholder":true,"num":0}]"#);
        assert_eq!(p.attachments, vec![Bytes::from_static(&[9])]);
        assert_eq!(
            texts(&encode_payload("/n", &p, Some(3))),
            texts(&encode_args("/n", Some("up"), &(Binary::from(vec![9u8]),), Some(3)).expect("encodes"))
        );
        assert_eq!(connect("/a", "xyz"), Frame::Text(ByteString::from_static(r#"40/a,{"sid":"xyz"}"#)));
        assert_eq!(disconnect("/"), Frame::Text(ByteString::from_static("41")));
    }
}
