//! Codec benches: the pure encode/decode functions every packet goes through.
//!
//! * `engine/*`: an Engine.IO text packet decoded (WebSocket frame → message) and encoded.
//! * `sio_decode/*`: `Packet::decode` of a text event with several arguments, an event with a
//!   namespace and an ack id, and a binary event header with two attachment placeholders. It
//!   validates the header and the whole JSON (one pass, no tree).
//! * `polling_decode/*`: a POST body of ten packets, text or binary (`b<base64>`).
//! * `args/*`: typed argument decoding straight from the raw JSON array, as handlers do:
//!   `(String,)`, a struct, untyped `RawArgs`, two `Binary` attachments.
//! * `encode/*`: an event written as a client writes it (`protocol::client::event`, the same
//!   argument encoding as the server's emits): a 64-byte string, the same with a byte to
//!   escape, a struct, two scalars.
//! * `client_ack/*`: the server's ack to an `echo` of 64 bytes as a client reads it:
//!   `Packet::decode_from_server`, then the reply as a `String`.
//!
//! Encoding of Socket.IO packets, polling GET bodies, dispatch and broadcast fan-out are in
//! `benches/server.rs` (they need sockets). Run: `cargo bench -p sio-core --bench codec`
//! (add `-- --quick` for a fast pass).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use serde::{Deserialize, Serialize};
use sio_core::__bench;
use sio_core::engine::Frame;
use sio_core::protocol::Packet;
use sio_core::{Binary, RawArgs};

#[allow(dead_code)]
mod common;

/// The struct of the typed-argument and encoding benches.
#[derive(Debug, Deserialize, Serialize)]
struct ChatMsg {
    room: String,
    text: String,
    n: u32,
    tags: Vec<String>,
}

const EVENT_TEXT: &str = r#"2["message",{"room":"lobby","text":"hello there, how are you?","n":42,"tags":["a","b"]},"second",3.5,true]"#;

fn event_with_ack() -> String {
    format!(r#"2/chat,12["echo",{}]"#, common::json_string(64))
}

const BINARY_EVENT: &str =
    r#"52-["upload",{"name":"a.bin"},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    let text = Bytes::from(format!("4{}", event_with_ack()));
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("decode_text", |b| b.iter(|| __bench::engine_decode(black_box(text.clone()))));
    let packet = event_with_ack();
    g.bench_function("encode_message", |b| b.iter(|| Frame::message(black_box(&packet))));
    g.finish();
}

fn sio_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("sio_decode");
    for (name, text) in [
        ("event_text", EVENT_TEXT.to_owned()),
        ("event_ack_id", event_with_ack()),
        ("binary_event", BINARY_EVENT.to_owned()),
    ] {
        let bytes = Bytes::from(text);
        assert!(Packet::decode(bytes.clone(), 10).is_ok(), "{name} must decode");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| b.iter(|| Packet::decode(black_box(bytes.clone()), 10)));
    }
    g.finish();
}

fn polling_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("polling_decode");
    let text: Vec<String> =
        (0..10).map(|i| format!(r#"42["echo",{i},{}]"#, common::json_string(64))).collect();
    let text = Bytes::from(text.join("\x1e"));
    // Ten binary messages of 1 KiB: `b` + base64 (what a polling client sends for attachments).
    let b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v".repeat(22);
    let binary: Vec<String> = (0..10).map(|_| format!("b{}", &b64[..1368])).collect();
    let binary = Bytes::from(binary.join("\x1e"));
    for (name, body) in [("text10", text), ("binary10_1k", binary)] {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(name, |b| b.iter(|| __bench::polling_decode(black_box(body.clone()))));
    }
    g.finish();
}

fn args(c: &mut Criterion) {
    let mut g = c.benchmark_group("args");
    let string = format!(r#"["echo",{}]"#, common::json_string(64));
    let string = string.as_bytes();
    assert!(__bench::decode_args::<(String,)>(string, 1, &[]).is_ok());
    g.bench_function("string", |b| b.iter(|| __bench::decode_args::<(String,)>(black_box(string), 1, &[])));

    let event = EVENT_TEXT.strip_prefix('2').unwrap_or(EVENT_TEXT).as_bytes();
    let typed = __bench::decode_args::<(ChatMsg, String, f64, Option<bool>)>(event, 1, &[]);
    assert!(
        typed.is_ok_and(|t| t.0.n == 42
            && t.0.tags.len() == 2
            && !t.0.room.is_empty()
            && !t.0.text.is_empty())
    );
    g.bench_function("struct_and_3", |b| {
        b.iter(|| __bench::decode_args::<(ChatMsg, String, f64, Option<bool>)>(black_box(event), 1, &[]))
    });
    g.bench_function("raw_args", |b| b.iter(|| __bench::decode_args::<RawArgs>(black_box(event), 1, &[])));

    let binary = BINARY_EVENT.strip_prefix("52-").unwrap_or(BINARY_EVENT).as_bytes();
    let attachments = [Bytes::from(vec![1u8; 1024]), Bytes::from(vec![2u8; 1024])];
    assert!(__bench::decode_args::<(serde_json::Value, Binary, Binary)>(binary, 1, &attachments).is_ok());
    g.bench_function("binary2", |b| {
        b.iter(|| {
            __bench::decode_args::<(serde_json::Value, Binary, Binary)>(black_box(binary), 1, &attachments)
        })
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    use sio_core::protocol::client;
    let mut g = c.benchmark_group("encode");
    let plain: String = (b'a'..=b'z').cycle().take(64).map(char::from).collect();
    let mut escaped = plain.clone();
    escaped.replace_range(32..33, "\"");
    let msg = ChatMsg {
        room: "lobby".into(),
        text: "hello there, how are you?".into(),
        n: 42,
        tags: vec!["a".into(), "b".into()],
    };
    g.bench_function("string64", |b| b.iter(|| client::event("/", "echo", black_box(&(&plain,)), Some(12))));
    g.bench_function("string64_escaped", |b| {
        b.iter(|| client::event("/", "echo", black_box(&(&escaped,)), Some(12)))
    });
    g.bench_function("struct", |b| b.iter(|| client::event("/chat", "message", black_box(&(&msg,)), None)));
    g.bench_function("scalars", |b| b.iter(|| client::event("/", "move", black_box(&(42u32, true)), None)));
    g.finish();
}

fn client_ack(c: &mut Criterion) {
    let mut g = c.benchmark_group("client_ack");
    let reply: String = (b'a'..=b'z').cycle().take(64).map(char::from).collect();
    let ack = Bytes::from(format!(r#"312["{reply}"]"#));
    let decode = |b: Bytes| {
        let p = Packet::decode_from_server(b, 10).expect("an ack");
        sio_core::protocol::client::first_arg::<String>(&p.data, &[]).expect("a string")
    };
    assert_eq!(decode(ack.clone()).len(), 64);
    g.bench_function("string64", |b| b.iter(|| decode(black_box(ack.clone()))));
    g.finish();
}

fn main() {
    let mut c = common::config().configure_from_args();
    engine(&mut c);
    sio_decode(&mut c);
    polling_decode(&mut c);
    args(&mut c);
    encode(&mut c);
    client_ack(&mut c);
    c.final_summary();
}
