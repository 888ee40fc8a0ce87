//! Entry points for the fuzz targets in `fuzz/`: every decoder that sees client bytes. Not
//! public API.
#![doc(hidden)]

use bytes::Bytes;

use crate::Binary;
use crate::engine::fuzz as engine;
use crate::protocol::{ArgsAt, Packet, PacketType, RawArgs, decode_args_at, msgpack};

/// An Engine.IO text packet (WebSocket text frame).
pub fn engine_packet(data: &[u8]) {
    if std::str::from_utf8(data).is_ok() {
        engine::decode_text(Bytes::copy_from_slice(data));
    }
}

/// A long-polling POST body.
pub fn polling_payload(data: &[u8]) {
    engine::decode_payload(Bytes::copy_from_slice(data));
}

/// WebSocket frames from a client: the first byte picks the read size, the rest is the
/// stream. Messages, pings, fragments and the close handshake are parsed twice, read whole and
/// cut into small reads, and must come out the same.
pub fn ws_frames(data: &[u8]) {
    engine::ws_frames(data);
}

/// A Socket.IO packet, then its arguments decoded as a handler would (typed and untyped),
/// with attachments taken from the rest of the input.
pub fn socketio_packet(data: &[u8]) {
    let (text, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if std::str::from_utf8(text).is_err() {
        return;
    }
    let Ok(packet) = Packet::decode(Bytes::copy_from_slice(text), 10) else { return };
    // A binary packet that decodes is one the reference's parser rebuilds: no placeholder it
    // would refuse (`illegal attachments`) gets through, to be relayed to other clients.
    if packet.attachments > 0
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&packet.data)
    {
        assert!(
            placeholders_resolve(&v, packet.attachments),
            "a binary packet with a bad placeholder decoded"
        );
    }
    // Attachment reassembly: as many binary frames as announced, cut from the rest.
    let mut attachments = Vec::new();
    let mut chunks = rest.split(|&b| b == 0);
    for _ in 0..packet.attachments {
        attachments.push(Bytes::copy_from_slice(chunks.next().unwrap_or_default()));
    }
    let at = packet.args_at();
    if matches!(
        packet.kind,
        PacketType::Event | PacketType::BinaryEvent | PacketType::Ack | PacketType::BinaryAck
    ) {
        let _ = packet.event_name();
        let _ = decode_args_at::<RawArgs>(&packet.data, at, &attachments);
        let _ = decode_args_at::<(serde_json::Value, Option<String>, Option<Binary>)>(
            &packet.data,
            at,
            &attachments,
        );
        let _ = decode_args_at::<(Vec<Binary>, Option<u64>)>(&packet.data, at, &attachments);
    }
}

/// A client's binary message under the MessagePack parser: decoded, its arguments read as
/// handlers read them, then encoded again as the server would relay it and decoded once more,
/// which must give the same packet (binary values compared by content).
pub fn msgpack_packet(data: &[u8]) {
    let msg = Bytes::copy_from_slice(data);
    let Ok((packet, attachments)) = msgpack::decode(&msg, 10, 1 << 20) else { return };
    let value = if packet.data.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&packet.data).unwrap_or_else(|e| panic!("decoded to invalid JSON: {e}"))
    };
    assert_eq!(packet.attachments, attachments.len());
    if packet.attachments > 0 {
        assert!(placeholders_resolve(&value, packet.attachments), "a bad placeholder decoded");
    }
    if matches!(
        packet.kind,
        PacketType::Event | PacketType::BinaryEvent | PacketType::Ack | PacketType::BinaryAck
    ) {
        let at = packet.args_at();
        let _ = packet.event_name();
        let _ = decode_args_at::<RawArgs>(&packet.data, at, &attachments);
        let _ = decode_args_at::<(serde_json::Value, Option<String>, Option<Binary>)>(
            &packet.data,
            at,
            &attachments,
        );
    }
    let data = (!packet.data.is_empty()).then_some(&packet.data[..]);
    let again = msgpack::encode(packet.kind, packet.nsp.as_str(), packet.id, data, &attachments)
        .unwrap_or_else(|e| panic!("what was decoded does not encode: {e}"));
    let (p2, a2) =
        msgpack::decode(&again, 10, 1 << 20).unwrap_or_else(|e| panic!("re-encoded packet refused: {e}"));
    assert_eq!((p2.kind, p2.nsp.as_str(), p2.id), (packet.kind, packet.nsp.as_str(), packet.id));
    let v2 = serde_json::from_slice::<serde_json::Value>(&p2.data).unwrap_or_default();
    let (before, after) = (resolve(value, &attachments), resolve(v2, &a2));
    assert!(same(&before, &after), "the round trip changed the packet: {before:?} became {after:?}");
}

/// Equal JSON, numbers compared as `f64` within a few ULPs: serde_json (without
/// `float_roundtrip`) may read a float back one ULP off, and a float one ULP from a whole
/// number then travels on as that integer.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or_default(), y.as_f64().unwrap_or_default());
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// `v` with each placeholder replaced by its attachment's bytes (as an array of numbers).
fn resolve(v: serde_json::Value, attachments: &[Bytes]) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let n = m.get("num").and_then(Value::as_u64).and_then(|n| attachments.get(n as usize));
            if m.len() == 2
                && m.get("_placeholder") == Some(&Value::Bool(true))
                && let Some(b) = n
            {
                return Value::String(format!("bin:{b:?}"));
            }
            Value::Object(m.into_iter().map(|(k, v)| (k, resolve(v, attachments))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|v| resolve(v, attachments)).collect()),
        v => v,
    }
}

/// Arguments decoding on arbitrary JSON with two attachments.
pub fn arguments(data: &[u8]) {
    let attachments = [Bytes::from_static(b"a"), Bytes::from_static(b"")];
    let _ = decode_args_at::<RawArgs>(data, ArgsAt::Skip(0), &attachments);
    let _ = decode_args_at::<(String, Option<Vec<Binary>>, Option<serde_json::Value>)>(
        data,
        ArgsAt::Skip(1),
        &attachments,
    );
}

/// `_reconstructPacket` of `socket.io-parser` on a parsed document: every object whose
/// `_placeholder` is `true` has a `num` below `attachments` (and, stricter, an integer). The
/// reference rule of the fuzz target and of `tests/roundtrip.rs`.
pub fn placeholders_resolve(v: &serde_json::Value, attachments: usize) -> bool {
    use serde_json::Value;
    match v {
        Value::Object(m) if m.get("_placeholder") == Some(&Value::Bool(true)) => {
            m.get("num").and_then(Value::as_u64).is_some_and(|n| n < attachments as u64)
        }
        Value::Object(m) => m.values().all(|c| placeholders_resolve(c, attachments)),
        Value::Array(a) => a.iter().all(|c| placeholders_resolve(c, attachments)),
        _ => true,
    }
}
