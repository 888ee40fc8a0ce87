//! Encoding outbound packets once into frames that every recipient shares.
//!
//! Every packet is built as JSON first (the form adapters forward); with the MessagePack
//! parser it is then transcoded, here, once, into the one binary frame that parser sends.

use bytestring::ByteString;

use crate::engine::Frame;
use crate::protocol::msgpack;
use crate::protocol::{EncodeError, PacketType, Parser, Payload, WriteArgs, write_array, write_header};

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
    parser: Parser,
    nsp: &str,
    event: Option<&str>,
    args: &dyn WriteArgs,
    id: Option<u64>,
) -> Result<Encoded, EncodeError> {
    encode_packet(parser, nsp, event, args, id).map(|p| p.enc)
}

/// An encoded EVENT or ACK, and where its arguments are in JSON form (what an adapter
/// forwards, see [`Packed::payload`]).
#[derive(Debug)]
pub(crate) struct Packed {
    pub(crate) enc: Encoded,
    json: Json,
}

#[derive(Debug)]
enum Json {
    /// The JSON parser: the array follows a header of this many bytes in the text frame.
    InFrame(usize),
    /// Another parser: the arguments as they were before transcoding.
    Kept(Payload),
}

impl Packed {
    /// The arguments in JSON form, without copying.
    pub(crate) fn payload(&self) -> Payload {
        match &self.json {
            Json::InFrame(header_len) => payload_of(&self.enc, *header_len),
            Json::Kept(p) => p.clone(),
        }
    }
}

/// [`encode_args`], keeping the arguments in JSON form too (see [`Packed::payload`]).
pub(crate) fn encode_packet(
    parser: Parser,
    nsp: &str,
    event: Option<&str>,
    args: &dyn WriteArgs,
    id: Option<u64>,
) -> Result<Packed, EncodeError> {
    if parser == Parser::MsgPack {
        let mut data = Vec::with_capacity(64);
        let bins = write_array(&mut data, event, args).map_err(EncodeError)?;
        let kind = if event.is_some() { PacketType::Event } else { PacketType::Ack };
        let frame = msgpack::encode(kind, nsp, id, Some(&data), &bins).map_err(EncodeError)?;
        let json = Json::Kept(Payload { data: data.into(), attachments: bins });
        return Ok(Packed { enc: Encoded::One(Frame::Binary(frame)), json });
    }
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
        return Ok(Packed { enc: Encoded::One(text_frame(buf)), json: Json::InFrame(header_len) });
    }
    let mut with_header = Vec::with_capacity(buf.len() + 8);
    write_header(&mut with_header, binary, nsp, bins.len(), id);
    let binary_header_len = with_header.len();
    with_header.extend_from_slice(&buf[header_len..]);
    let mut frames = Vec::with_capacity(bins.len() + 1);
    frames.push(text_frame(with_header));
    frames.extend(bins.into_iter().map(Frame::Binary));
    Ok(Packed { enc: Encoded::Many(frames), json: Json::InFrame(binary_header_len) })
}

/// The arguments of an encoded EVENT (the JSON array after a header of `header_len` bytes,
/// and the attachments), without copying.
fn payload_of(enc: &Encoded, header_len: usize) -> Payload {
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
///
/// # Errors
/// With the MessagePack parser, when the payload is not JSON or nests too deep to transcode.
pub(crate) fn encode_payload(
    parser: Parser,
    nsp: &str,
    payload: &Payload,
    id: Option<u64>,
) -> Result<Encoded, EncodeError> {
    if parser == Parser::MsgPack {
        let frame = msgpack::encode(PacketType::Event, nsp, id, Some(&payload.data), &payload.attachments)
            .map_err(EncodeError)?;
        return Ok(Encoded::One(Frame::Binary(frame)));
    }
    let kind = if payload.attachments.is_empty() { PacketType::Event } else { PacketType::BinaryEvent };
    let mut buf = Vec::with_capacity(16 + nsp.len() + payload.data.len());
    write_header(&mut buf, kind, nsp, payload.attachments.len(), id);
    buf.extend_from_slice(&payload.data);
    let text = text_frame(buf);
    if payload.attachments.is_empty() {
        return Ok(Encoded::One(text));
    }
    let mut frames = Vec::with_capacity(payload.attachments.len() + 1);
    frames.push(text);
    frames.extend(payload.attachments.iter().cloned().map(Frame::Binary));
    Ok(Encoded::Many(frames))
}

/// A packet that is not an EVENT or ACK, for the MessagePack parser (`data` is JSON that
/// sio wrote; an empty frame if it could not be transcoded, which cannot happen for it).
fn msgpack_frame(kind: PacketType, nsp: &str, data: Option<&[u8]>) -> Frame {
    Frame::Binary(msgpack::encode(kind, nsp, None, data, &[]).unwrap_or_default())
}

/// `40/nsp,{"sid":"..."}`, or `{"sid":"...","pid":"..."}` with connection state recovery.
pub(crate) fn connect(parser: Parser, nsp: &str, sid: &str, pid: Option<&str>) -> Frame {
    let mut buf = Vec::with_capacity(64 + nsp.len());
    write_header(&mut buf, PacketType::Connect, nsp, 0, None);
    let header_len = buf.len();
    buf.extend_from_slice(br#"{"sid":""#);
    buf.extend_from_slice(sid.as_bytes());
    if let Some(pid) = pid {
        buf.extend_from_slice(br#"","pid":""#);
        buf.extend_from_slice(pid.as_bytes());
    }
    buf.extend_from_slice(br#""}"#);
    match parser {
        Parser::MsgPack => msgpack_frame(PacketType::Connect, nsp, Some(&buf[header_len..])),
        Parser::Json => text_frame(buf),
    }
}

/// `41/nsp,`.
pub(crate) fn disconnect(parser: Parser, nsp: &str) -> Frame {
    if parser == Parser::MsgPack {
        return msgpack_frame(PacketType::Disconnect, nsp, None);
    }
    let mut buf = Vec::with_capacity(8 + nsp.len());
    write_header(&mut buf, PacketType::Disconnect, nsp, 0, None);
    text_frame(buf)
}

/// `44/nsp,{"message":...,"data":...}`.
pub(crate) fn connect_error(
    parser: Parser,
    nsp: &str,
    message: &str,
    data: Option<&serde_json::Value>,
) -> Frame {
    let mut buf = Vec::with_capacity(40 + nsp.len() + message.len());
    write_header(&mut buf, PacketType::ConnectError, nsp, 0, None);
    let header_len = buf.len();
    let body = match data {
        Some(d) => serde_json::json!({ "message": message, "data": d }),
        None => serde_json::json!({ "message": message }),
    };
    let _ = serde_json::to_writer(&mut buf, &body);
    if parser == Parser::MsgPack {
        let json = &buf[header_len..];
        return match msgpack::encode(PacketType::ConnectError, nsp, None, Some(json), &[]) {
            Ok(frame) => Frame::Binary(frame),
            // `data` nests too deep to transcode: the message alone.
            Err(_) => connect_error(parser, nsp, message, None),
        };
    }
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
        let e = encode_args(Parser::Json, "/", Some("msg"), &One(&"hi"), None).expect("encodes");
        assert_eq!(texts(&e), vec![Bytes::from_static(br#"42["msg","hi"]"#)]);
        let e = encode_args(Parser::Json, "/chat", None, &(1, "x"), Some(4)).expect("encodes");
        assert_eq!(texts(&e), vec![Bytes::from_static(br#"43/chat,4[1,"x"]"#)]);
        let e = encode_args(Parser::Json, "/", Some("up"), &(Binary::from(vec![9u8]), 2), Some(1))
            .expect("encodes");
        assert_eq!(
            texts(&e),
            vec![
                Bytes::from_static(br#"451-1["up",{"_placeholder":true,"num":0},2]"#),
                Bytes::from_static(&[9])
            ]
        );
        let packed = encode_packet(Parser::Json, "/n", Some("up"), &(Binary::from(vec![9u8]),), None)
            .expect("encodes");
        let p = packed.payload();
        assert_eq!(&p.data[..], br#"["up",{"_placeholder":true,"num":0}]"#);
        assert_eq!(p.attachments, vec![Bytes::from_static(&[9])]);
        assert_eq!(
            texts(&encode_payload(Parser::Json, "/n", &p, Some(3)).expect("encodes")),
            texts(
                &encode_args(Parser::Json, "/n", Some("up"), &(Binary::from(vec![9u8]),), Some(3))
                    .expect("encodes")
            )
        );
        assert_eq!(
            connect(Parser::Json, "/a", "xyz", None),
            Frame::Text(ByteString::from_static(r#"40/a,{"sid":"xyz"}"#))
        );
        assert_eq!(disconnect(Parser::Json, "/"), Frame::Text(ByteString::from_static("41")));
    }
}
