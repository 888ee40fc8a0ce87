//! The MessagePack parser over a raw WebSocket: a client's packets as socket.io-msgpack-parser
//! writes them, the server's replies byte for byte, and bad input, each of which closes that
//! session as a parse error and is followed by a fresh client's ack round trip.

mod common;

use common::*;
use sio_core::Parser;
use tokio::sync::mpsc;

/// A value inside a packet's `data`.
enum V<'a> {
    Str(&'a str),
    Int(i64),
    Bin(&'a [u8]),
    Array(Vec<V<'a>>),
    /// MessagePack written as is.
    Raw(Vec<u8>),
}

fn write(out: &mut Vec<u8>, v: &V<'_>) {
    match v {
        V::Str(s) => rmp::encode::write_str(out, s).expect("write"),
        V::Int(n) => {
            rmp::encode::write_sint(out, *n).expect("write");
        }
        V::Bin(b) => {
            rmp::encode::write_bin(out, b).expect("write");
        }
        V::Array(a) => {
            rmp::encode::write_array_len(out, a.len() as u32).expect("write");
            a.iter().for_each(|v| write(out, v));
        }
        V::Raw(b) => out.extend_from_slice(b),
    }
}

/// `{type, data, nsp, id}`, in the order sio writes its own packets.
fn packet(ty: u8, data: Option<V<'_>>, nsp: &str, id: Option<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    let n = 2 + u32::from(data.is_some()) + u32::from(id.is_some());
    rmp::encode::write_map_len(&mut out, n).expect("write");
    rmp::encode::write_str(&mut out, "type").expect("write");
    rmp::encode::write_uint(&mut out, ty.into()).expect("write");
    if let Some(d) = &data {
        rmp::encode::write_str(&mut out, "data").expect("write");
        write(&mut out, d);
    }
    rmp::encode::write_str(&mut out, "nsp").expect("write");
    rmp::encode::write_str(&mut out, nsp).expect("write");
    if let Some(id) = id {
        rmp::encode::write_str(&mut out, "id").expect("write");
        rmp::encode::write_uint(&mut out, id).expect("write");
    }
    out
}

async fn start_msgpack() -> (sio_core::Server, std::net::SocketAddr, mpsc::UnboundedReceiver<String>) {
    let (h, rx) = log_disconnects(base_handlers());
    let (io, addr) = start(builder().parser(Parser::MsgPack).ns("/", h)).await;
    (io, addr, rx)
}

/// A WebSocket client that joined `/` with the msgpack parser.
async fn joined(addr: std::net::SocketAddr) -> Ws {
    let mut c = Ws::connect(addr).await;
    c.send_binary(packet(0, None, "/", None)).await;
    let reply = c.recv_binary().await;
    // {type: 0, data: {sid: ...}, nsp: "/"}
    let mut prefix = Vec::new();
    rmp::encode::write_map_len(&mut prefix, 3).expect("write");
    rmp::encode::write_str(&mut prefix, "type").expect("write");
    rmp::encode::write_uint(&mut prefix, 0).expect("write");
    rmp::encode::write_str(&mut prefix, "data").expect("write");
    rmp::encode::write_map_len(&mut prefix, 1).expect("write");
    rmp::encode::write_str(&mut prefix, "sid").expect("write");
    assert!(reply.starts_with(&prefix), "CONNECT reply {reply:x?}");
    assert!(reply.ends_with(b"\xa3nsp\xa1/"), "CONNECT reply {reply:x?}");
    c
}

/// An event with binary to `ack`, and its acknowledgement: one binary message each way.
async fn ack_round_trip(c: &mut Ws, id: u64) {
    let args = || vec![V::Int(-1), V::Str("x"), V::Array(vec![V::Bin(&[1, 2, 3])])];
    let mut event = vec![V::Str("ack")];
    event.extend(args());
    c.send_binary(packet(2, Some(V::Array(event)), "/", Some(id))).await;
    assert_eq!(c.recv_binary().await, packet(3, Some(V::Array(args())), "/", Some(id)));
}

async fn assert_serves_msgpack(addr: std::net::SocketAddr) {
    let mut c = joined(addr).await;
    ack_round_trip(&mut c, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_acks_with_binary_round_trip() {
    let (_io, addr, _) = start_msgpack().await;
    let mut c = joined(addr).await;
    ack_round_trip(&mut c, 0).await;
    ack_round_trip(&mut c, u64::MAX).await;
    // The client's `options` key is ignored, and an ArrayBuffer (ext type 0) is binary too.
    let mut m = packet(2, Some(V::Array(vec![V::Str("ack"), V::Raw(vec![0xc7, 2, 0, 7, 8])])), "/", Some(5));
    m[0] += 1;
    m.extend_from_slice(b"\xa7options\x81\xa8compress\xc3");
    c.send_binary(m).await;
    assert_eq!(c.recv_binary().await, packet(3, Some(V::Array(vec![V::Bin(&[7, 8])])), "/", Some(5)));
}

/// Bad packets, each sent by a client that joined `/`.
fn bad_packets() -> Vec<(&'static str, Vec<u8>)> {
    let ev = |extra: Vec<V<'static>>| {
        let mut a = vec![V::Str("ack")];
        a.extend(extra);
        V::Array(a)
    };
    let deep = {
        let mut v = vec![0x91; 300];
        v.push(0xc0);
        v
    };
    vec![
        ("garbage", vec![0xc1, 0xff, 0x00]),
        ("not a map", vec![0x92, 0x02, 0xa1, b'/']),
        ("truncated", packet(2, Some(ev(vec![])), "/", Some(1))[..20].to_vec()),
        ("trailing bytes", [packet(2, Some(ev(vec![])), "/", None), vec![0]].concat()),
        ("unknown type", packet(9, Some(ev(vec![])), "/", None)),
        ("CONNECT_ERROR from a client", packet(4, Some(V::Str("x")), "/", None)),
        ("namespace not a string", {
            let mut m = packet(2, Some(ev(vec![])), "/", None);
            let at = m.len() - 1;
            m[at - 1] = 0x01; // "nsp": 1 instead of "/"
            m.truncate(at);
            m
        }),
        ("namespace not joined", packet(2, Some(ev(vec![])), "/admin", None)),
        ("event data not an array", packet(2, Some(V::Str("ack")), "/", None)),
        ("event without a name", packet(2, Some(V::Array(vec![V::Int(1)])), "/", None)),
        ("negative ack id", {
            let mut m = packet(2, Some(ev(vec![])), "/", Some(1));
            let at = m.len() - 1;
            m[at] = 0xff; // -1
            m
        }),
        ("ack without id", packet(3, Some(V::Array(vec![])), "/", None)),
        (
            "map key that is not a string",
            packet(2, Some(ev(vec![V::Raw(vec![0x81, 0xc0, 0x01])])), "/", None),
        ),
        ("nested too deep", packet(2, Some(ev(vec![V::Raw(deep)])), "/", None)),
        ("too many binary values", packet(2, Some(ev((0..11).map(|_| V::Bin(&[1])).collect())), "/", None)),
        ("binary in CONNECT auth", packet(0, Some(V::Raw(vec![0x81, 0xa1, b'a', 0xc4, 1, 0])), "/x", None)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_msgpack_closes_the_session() {
    let (_io, addr, mut reasons) = start_msgpack().await;
    for (what, bad) in bad_packets() {
        let mut c = joined(addr).await;
        c.send_binary(bad).await;
        let seen = c.expect_closed().await;
        assert!(seen.is_empty(), "{what}: nothing is answered, got {seen:?}");
        assert_eq!(recv(&mut reasons, what).await, "parse error", "{what}");
        assert_serves_msgpack(addr).await;
        // That client is gone too.
        assert_eq!(recv(&mut reasons, what).await, "transport close", "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_message_under_the_msgpack_parser_closes_the_session() {
    let (_io, addr, mut reasons) = start_msgpack().await;
    let mut c = joined(addr).await;
    c.send(r#"421["ack",1]"#).await;
    c.expect_closed().await;
    assert_eq!(recv(&mut reasons, "text message").await, "parse error");
    // Before joining a namespace too.
    let mut c = Ws::connect(addr).await;
    c.send("40").await;
    c.expect_closed().await;
    assert_serves_msgpack(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_msgpack_closes_a_polling_session() {
    let (_io, addr, _) = start_msgpack().await;
    let p = Polling::handshake(addr).await;
    // `b` + base64 of 0xc1, the one byte MessagePack never uses.
    p.post_ok("bwQ==").await;
    p.expect_gone().await;
    assert_serves_msgpack(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_clients_are_not_affected() {
    let (_io, addr, mut reasons) = start_msgpack().await;
    let mut good = joined(addr).await;
    let mut bad = joined(addr).await;
    bad.send_binary(vec![0xc1]).await;
    bad.expect_closed().await;
    assert_eq!(recv(&mut reasons, "bad client").await, "parse error");
    ack_round_trip(&mut good, 9).await;
    // The JSON parser's binary attachment is no packet here either.
    bad = joined(addr).await;
    bad.send_binary(vec![1, 2, 3]).await;
    bad.expect_closed().await;
    ack_round_trip(&mut good, 10).await;
}
