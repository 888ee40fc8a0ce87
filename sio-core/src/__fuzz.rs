//! Entry points for the fuzz targets in `fuzz/`: every decoder that sees client bytes. Not
//! public API.
#![doc(hidden)]

use bytes::Bytes;

use crate::Binary;
use crate::engine::fuzz as engine;
use crate::protocol::{ArgsAt, Packet, PacketType, RawArgs, decode_args_at};

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
