//! Engine.IO v4 transports on the wire: heartbeat over both transports, close packets,
//! WebSocket limits and the polling → WebSocket upgrade (probe, noop release, timeout).

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::SinkExt as _;
use reqwest::StatusCode;
use sio_core::{Conn, Event};
use tokio::sync::mpsc;

const PING: Duration = Duration::from_millis(250);
const PONG_WAIT: Duration = Duration::from_millis(250);

fn assert_about(elapsed: Duration, expected: Duration, what: &str) {
    assert!(
        elapsed + Duration::from_millis(50) >= expected && elapsed <= expected + Duration::from_millis(1500),
        "{what}: {elapsed:?}, expected about {expected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_heartbeat_keeps_an_answering_session_alive() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().ping_interval(PING).ping_timeout(PONG_WAIT).ns("/", h)).await;
    let mut p = Polling::handshake(addr).await;
    let mut last = Instant::now();
    p.connect_ns("/").await;
    // Three rounds: more than ping interval + ping timeout in total.
    for round in 0..3 {
        assert_eq!(p.get_packets().await, ["2"], "round {round}: the server pings");
        assert_about(last.elapsed(), PING, "time between pings");
        last = Instant::now();
        p.post_ok("3").await;
    }
    p.post_ok(r#"421["ack","alive"]"#).await;
    assert_eq!(p.recv().await, r#"431["alive"]"#);
    assert!(reasons.try_recv().is_err(), "no disconnect happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_session_without_pong_is_closed_after_ping_timeout() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().ping_interval(PING).ping_timeout(PONG_WAIT).ns("/", h)).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    assert_eq!(p.get_packets().await, ["2"]);
    let pinged = Instant::now();
    // No pong: the next GET is released with a close packet once the ping timeout expires.
    assert_eq!(p.get_packets().await, ["1"]);
    assert_about(pinged.elapsed(), PONG_WAIT, "time to close");
    assert_eq!(recv(&mut reasons, "disconnect").await, "ping timeout");
    let r = p.get().await;
    assert_engine_error(&r, 400, 1, "Session ID unknown");
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_heartbeat_keeps_an_answering_session_alive() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().ping_interval(PING).ping_timeout(PONG_WAIT).ns("/", h)).await;
    let mut c = Ws::connect(addr).await;
    let mut last = Instant::now();
    c.connect_ns("/").await;
    for round in 0..3 {
        assert_eq!(c.recv_raw_text().await, "2", "round {round}");
        assert_about(last.elapsed(), PING, "time between pings");
        last = Instant::now();
        c.send("3").await;
    }
    c.ack_round_trip(1, r#""alive""#).await;
    assert!(reasons.try_recv().is_err(), "no disconnect happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_without_pong_is_closed_after_ping_timeout() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().ping_interval(PING).ping_timeout(PONG_WAIT).ns("/", h)).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    assert_eq!(c.recv_raw_text().await, "2");
    let pinged = Instant::now();
    // Other traffic is not a pong.
    c.send(r#"425["ack","not a pong"]"#).await;
    assert_eq!(c.recv_raw_text().await, r#"435["not a pong"]"#);
    let seen = c.expect_closed().await;
    assert_about(pinged.elapsed(), PONG_WAIT, "time to close");
    assert!(seen.is_empty(), "nothing after the ping: {seen:?}");
    assert_eq!(recv(&mut reasons, "disconnect").await, "ping timeout");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_packet_over_websocket_closes_the_session() {
    let (_io, addr, mut reasons) = start_default().await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send("1").await;
    c.expect_closed().await;
    assert_eq!(recv(&mut reasons, "disconnect").await, "transport close");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_from_a_client_closes_the_session() {
    // In v4 only the server pings ("invalid heartbeat direction" in the reference).
    let (_io, addr, mut reasons) = start_default().await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send("2").await;
    c.expect_closed().await;
    assert_eq!(recv(&mut reasons, "disconnect").await, "transport error");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_websocket_messages_close_the_connection() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().max_payload(1000).ns("/", h)).await;

    // Exactly max_payload is fine.
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    let overhead = r#"421["ack",""]"#.len();
    let text = "y".repeat(1000 - overhead);
    c.send(&format!(r#"421["ack","{text}"]"#)).await;
    assert_eq!(c.recv_text().await, format!(r#"431["{text}"]"#));

    // One byte more is not, as text...
    c.send(&format!(r#"421["ack","{text}y"]"#)).await;
    c.expect_closed().await;
    assert_eq!(recv(&mut reasons, "disconnect (text)").await, "transport error");

    // ...or binary.
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send("451-[\"ack\",{\"_placeholder\":true,\"num\":0}]").await;
    c.send_binary(vec![7; 1001]).await;
    c.expect_closed().await;
    assert_eq!(recv(&mut reasons, "disconnect (binary)").await, "transport error");
    assert_serves(addr).await;
}

/// `/` with `burst`: emits three packets, then reports on the channel.
fn burst_server() -> (sio_core::ServerBuilder, mpsc::UnboundedReceiver<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let h = base_handlers().on("burst", move |conn: Conn, _ev: Event| {
        let tx = tx.clone();
        async move {
            for i in 1..=3 {
                conn.emit("m", &i).expect("emit");
            }
            let _ = tx.send(());
        }
    });
    (builder().ns("/", h), rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_from_polling_to_websocket() {
    let (b, mut burst_done) = burst_server();
    let (_io, addr) = start(b).await;
    let mut p = Polling::handshake(addr).await;
    assert_eq!(p.open["upgrades"], serde_json::json!(["websocket"]));
    p.connect_ns("/").await;

    // A GET waits while the client probes the WebSocket.
    let waiting = tokio::spawn({
        let p = p.clone();
        async move { p.get().await }
    });
    let mut ws = Ws::upgrade(addr, &p.sid).await;
    ws.send("2probe").await;
    assert_eq!(ws.recv_raw_text().await, "3probe");
    // The waiting GET is released with a noop so the client can pause polling.
    let released = within(T, "the waiting GET to be released", waiting).await.expect("join");
    assert_eq!((released.status, released.body.as_str()), (StatusCode::OK, "6"));

    // Packets queued before the upgrade completes are not lost: they go out over the socket.
    p.post_ok(r#"42["burst"]"#).await;
    recv(&mut burst_done, "the burst handler").await;
    ws.send("5").await;
    for i in 1..=3 {
        assert_eq!(ws.recv_text().await, format!(r#"42["m",{i}]"#));
    }
    ws.ack_round_trip(3, r#""upgraded""#).await;

    // Polling is over for this session.
    assert_engine_error(&p.get().await, 400, 3, "Bad request");
    assert_engine_error(&p.post("6").await, 400, 3, "Bad request");

    // A second upgrade of the same session is accepted and closed at once; the first stays.
    let mut again = Ws::upgrade(addr, &p.sid).await;
    again.expect_closed().await;
    ws.ack_round_trip(4, r#""still upgraded""#).await;
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_without_the_upgrade_packet_is_abandoned_after_upgrade_timeout() {
    let timeout = Duration::from_millis(300);
    let (_io, addr) = start(builder().upgrade_timeout(timeout).ns("/", base_handlers())).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;

    let mut ws = Ws::upgrade(addr, &p.sid).await;
    let started = Instant::now();
    ws.send("2probe").await;
    assert_eq!(ws.recv_raw_text().await, "3probe");
    // No `5`: the server gives the WebSocket up.
    ws.expect_closed().await;
    assert_about(started.elapsed(), timeout, "time to abandon the upgrade");

    // The polling session keeps working.
    p.post_ok(r#"421["ack","still polling"]"#).await;
    assert_eq!(p.recv().await, r#"431["still polling"]"#);

    // And may upgrade again, this time completely.
    let mut ws = Ws::upgrade(addr, &p.sid).await;
    ws.send("2probe").await;
    assert_eq!(ws.recv_raw_text().await, "3probe");
    ws.send("5").await;
    ws.ack_round_trip(2, r#""upgraded at last""#).await;
    assert_engine_error(&p.get().await, 400, 3, "Bad request");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_with_an_invalid_probe_is_abandoned() {
    let (_io, addr) = start(builder().ns("/", base_handlers())).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let mut ws = Ws::upgrade(addr, &p.sid).await;
    ws.send(r#"42["ack",1]"#).await;
    ws.expect_closed().await;
    p.post_ok(r#"421["ack","polling"]"#).await;
    assert_eq!(p.recv().await, r#"431["polling"]"#);
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_frame_ends_the_session() {
    let (_io, addr, mut reasons) = start_default().await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    within(T, "close", c.ws.close(None)).await.expect("close frame");
    assert_eq!(recv(&mut reasons, "disconnect").await, "transport close");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_ping_frames_are_not_engine_pongs() {
    // WebSocket-level pings are answered by the server but do not replace `3`.
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().ping_interval(PING).ping_timeout(PONG_WAIT).ns("/", h)).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.ws.send(tokio_tungstenite::tungstenite::Message::Ping(b"hi".to_vec().into())).await.expect("ping");
    assert_eq!(c.recv_raw_text().await, "2");
    c.ws.send(tokio_tungstenite::tungstenite::Message::Ping(b"hi".to_vec().into())).await.expect("ping");
    c.expect_closed().await;
    assert_eq!(recv(&mut reasons, "disconnect").await, "ping timeout");
    assert_serves(addr).await;
}

/// `/` with `close-me`: emits two packets, then closes the whole connection; `/other` is a
/// second namespace the connection may join.
fn close_me_server() -> (sio_core::ServerBuilder, mpsc::UnboundedReceiver<String>) {
    let h = base_handlers().on("close-me", |conn: Conn, _ev: Event| async move {
        conn.emit("bye", &1).expect("emit");
        conn.emit("bye", &2).expect("emit");
        conn.close();
    });
    let (h, reasons) = log_disconnects(h);
    (builder().ns("/", h).ns("/other", base_handlers()), reasons)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_close_over_websocket_delivers_queued_packets_first() {
    let (b, mut reasons) = close_me_server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.connect_ns("/other").await;
    c.send(r#"42["close-me"]"#).await;
    let seen = c.expect_closed().await;
    let texts: Vec<String> = seen
        .iter()
        .filter_map(|m| match m {
            tokio_tungstenite::tungstenite::Message::Text(t) => Some(t.as_str().to_owned()),
            _ => None,
        })
        .collect();
    // Queued packets, then a DISCONNECT per namespace (as Node's `disconnect(true)`), then the
    // close.
    assert_eq!(texts[..2], [r#"42["bye",1]"#, r#"42["bye",2]"#]);
    let mut disconnects = texts[2..].to_vec();
    disconnects.sort();
    assert_eq!(disconnects, ["41", "41/other,"]);
    assert_eq!(recv(&mut reasons, "disconnect").await, "server namespace disconnect");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_close_over_polling_delivers_queued_packets_first() {
    let (b, mut reasons) = close_me_server();
    let (_io, addr) = start(b).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.connect_ns("/other").await;
    p.post_ok(r#"42["close-me"]"#).await;
    assert_eq!(recv(&mut reasons, "disconnect").await, "server namespace disconnect");
    // The session is closed; its last packets are still to be fetched, the close packet in a
    // payload of its own (as the reference sends it).
    let mut packets = Vec::new();
    while packets.last().map(String::as_str) != Some("1") {
        assert!(packets.len() < 6, "{packets:?}");
        let got: Vec<String> = p.get_packets().await.into_iter().filter(|x| x != "6").collect();
        assert!(!got.contains(&"1".to_owned()) || got == ["1"], "close packet shares a payload: {got:?}");
        packets.extend(got);
    }
    assert_eq!(packets[..2], [r#"42["bye",1]"#, r#"42["bye",2]"#]);
    let mut disconnects = packets[2..packets.len() - 1].to_vec();
    disconnects.sort();
    assert_eq!(disconnects, ["41", "41/other,"]);
    p.expect_gone().await;
}

// ------------------------------------------------------------- RFC 6455, hostile clients
//
// Raw frames on a session that joined `/`: each violation is answered with a close frame whose
// code says why (RFC 6455 §7.4.1), then the server closes the TCP connection; the session ends
// as a `transport error`, and the server goes on serving normal clients.

const OP_CONT: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;

/// A server with the base handlers, a disconnect log and a 1000-byte message limit.
async fn rfc_server() -> (sio_core::Server, std::net::SocketAddr, mpsc::UnboundedReceiver<String>) {
    let (h, reasons) = log_disconnects(base_handlers());
    let (io, addr) = start(builder().max_payload(1000).ns("/", h)).await;
    (io, addr, reasons)
}

/// Sends `wire` on a fresh session of `addr`; expects the close frame with exactly `code` (and
/// no reason), then the end of the connection and a `transport error` disconnect.
async fn refused_with(
    addr: std::net::SocketAddr,
    reasons: &mut mpsc::UnboundedReceiver<String>,
    wire: &[u8],
    code: u16,
) {
    let mut c = RawWs::connect(addr).await;
    c.send(wire).await;
    assert_eq!(c.expect_close().await, code.to_be_bytes(), "close code for {wire:02x?}");
    assert_eq!(recv(reasons, "disconnect").await, "transport error");
}

/// One violation on its own server, then a normal client's round trip.
async fn assert_refused(wire: &[u8], code: u16) {
    let (_io, addr, mut reasons) = rfc_server().await;
    refused_with(addr, &mut reasons, wire, code).await;
    assert_serves(addr).await;
}

/// A close frame with status `code` and `reason`.
fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    masked(true, OP_CLOSE, &[&code.to_be_bytes()[..], reason].concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_codes_a_peer_may_not_send_are_refused_with_1002() {
    let (_io, addr, mut reasons) = rfc_server().await;
    // Reserved for local use (1005 no code, 1006 abnormal, 1015 TLS), reserved (1004),
    // unassigned (below 1000, 1016..2999) and out of range (5000 and up).
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
        refused_with(addr, &mut reasons, &close_frame(code, b""), 1002).await;
    }
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_codes_a_peer_may_send_are_echoed() {
    let (_io, addr, mut reasons) = rfc_server().await;
    for code in
        [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
    {
        let mut c = RawWs::connect(addr).await;
        c.send(&close_frame(code, "bye é".as_bytes())).await;
        assert_eq!(c.expect_close().await, u16::to_be_bytes(code), "{code} echoed");
        assert_eq!(recv(&mut reasons, "disconnect").await, "transport close");
    }
    // Without a code, the answer has none.
    let mut c = RawWs::connect(addr).await;
    c.send(&masked(true, OP_CLOSE, b"")).await;
    assert_eq!(c.expect_close().await, b"");
    assert_eq!(recv(&mut reasons, "disconnect").await, "transport close");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_payload_of_one_byte_is_refused_with_1002() {
    assert_refused(&masked(true, OP_CLOSE, &[0x03]), 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_reason_not_utf8_is_refused_with_1007() {
    assert_refused(&close_frame(1000, b"bye \xFF"), 1007).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_text_not_utf8_is_refused_with_1007() {
    assert_refused(&masked(true, OP_TEXT, b"42[\"ack\",\"\xC3\x28\"]"), 1007).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_fragmented_text_not_utf8_is_refused_with_1007() {
    // Each fragment is fine on its own up to the cut; the whole message is not UTF-8.
    let wire = [masked(false, OP_TEXT, b"4\xC3"), masked(true, OP_CONT, b"\x28")].concat();
    assert_refused(&wire, 1007).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_message_over_the_limit_is_refused_with_1009() {
    // Only the header of a 1001-byte frame: refused before its payload is read.
    let frame = masked(true, OP_BINARY, &[0; 1001]);
    assert_refused(&frame[..8], 1009).await;
    // The same for a message whose fragments add up to more than the limit.
    let wire =
        [masked(false, OP_TEXT, &[b'4'; 600]), masked(true, OP_CONT, &[b'x'; 401])[..8].to_vec()].concat();
    assert_refused(&wire, 1009).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_reserved_bits_are_refused_with_1002() {
    let (_io, addr, mut reasons) = rfc_server().await;
    for rsv in [0x40, 0x20, 0x10] {
        refused_with(addr, &mut reasons, &masked(true, OP_TEXT | rsv, b"3"), 1002).await;
    }
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_unknown_opcodes_are_refused_with_1002() {
    let (_io, addr, mut reasons) = rfc_server().await;
    for op in [0x3, 0x7, 0xB, 0xF] {
        refused_with(addr, &mut reasons, &masked(true, op, b""), 1002).await;
    }
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_fragmented_control_frames_are_refused_with_1002() {
    assert_refused(&masked(false, OP_PING, b"p"), 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_control_frames_over_125_bytes_are_refused_with_1002() {
    assert_refused(&masked(true, OP_PING, &[b'p'; 126]), 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_unmasked_client_frames_are_refused_with_1002() {
    assert_refused(&[0x81, 0x01, b'3'], 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_continuation_without_a_message_is_refused_with_1002() {
    assert_refused(&masked(true, OP_CONT, b"3"), 1002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_new_message_inside_a_fragmented_one_is_refused_with_1002() {
    let (_io, addr, mut reasons) = rfc_server().await;
    for second in [OP_TEXT, OP_BINARY] {
        let wire = [masked(false, OP_TEXT, b"42[\"ack\","), masked(true, second, b"1]")].concat();
        refused_with(addr, &mut reasons, &wire, 1002).await;
    }
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_valid_frames_of_every_kind_are_served() {
    // What the refusals above are not: a fragmented text message with a ping between its
    // fragments, an empty continuation, then a round trip on the same connection.
    let (_io, addr, mut reasons) = rfc_server().await;
    let mut c = RawWs::connect(addr).await;
    let wire = [
        masked(false, OP_TEXT, b"421[\"ack\",\"h\xC3"),
        masked(true, OP_PING, b"ping"),
        masked(false, OP_CONT, b"\xA9\"]"),
        masked(true, OP_CONT, b""),
    ]
    .concat();
    c.send(&wire).await;
    assert_eq!(c.next_frame().await, Some((0x8A, b"ping".to_vec())), "the pong");
    assert_eq!(c.next_text().await, "431[\"hé\"]");
    c.send(&close_frame(1000, b"")).await;
    assert_eq!(c.expect_close().await, 1000u16.to_be_bytes());
    assert_eq!(recv(&mut reasons, "disconnect").await, "transport close");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_protocol_error_during_an_upgrade_probe_is_refused_with_1002() {
    let (_io, addr, _reasons) = rfc_server().await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let (status, head, mut ws) =
        RawWs::request(addr, &format!("EIO=4&transport=websocket&sid={}", p.sid), WS_KEY).await;
    assert_eq!(status, 101, "{head}");
    ws.send(&masked(true, OP_TEXT, b"2probe")).await;
    assert_eq!(ws.next_text().await, "3probe");
    ws.send(&close_frame(1005, b"")).await;
    assert_eq!(ws.expect_close().await, 1002u16.to_be_bytes());
    // The polling session was left alone.
    p.post_ok(r#"421["ack","polling"]"#).await;
    assert_eq!(p.recv().await, r#"431["polling"]"#);
    assert_serves(addr).await;
}
