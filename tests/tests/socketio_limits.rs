//! Limits and robustness on the wire: attachment counts, the connect timeout, slow readers and
//! a fuzz run of random and packet-like inputs over every transport.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use sio_core::{Conn, Event};
use tokio::sync::mpsc;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_bytes_above_the_limit_close_the_session() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().max_attachment_bytes(10).ns("/", h)).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    // 4 + 6 bytes: within the limit.
    c.send(r#"452-1["ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#).await;
    c.send_binary(vec![1; 4]).await;
    c.send_binary(vec![2; 6]).await;
    assert!(c.recv_text().await.starts_with("462-1["));
    assert_eq!(c.recv_binary().await, [1; 4]);
    assert_eq!(c.recv_binary().await, [2; 6]);
    // 6 + 6 bytes: the second frame crosses the limit and the session closes.
    c.send(r#"452-2["ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#).await;
    c.send_binary(vec![3; 6]).await;
    c.send_binary(vec![4; 6]).await;
    c.expect_closed().await;
    assert_eq!(recv(&mut reasons, "disconnect").await, "transport error");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_count_above_max_attachments_closes_the_session() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().max_attachments(2).ns("/", h)).await;

    // Two attachments are allowed...
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send(r#"452-3["ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#).await;
    c.send_binary(vec![1]).await;
    c.send_binary(vec![2]).await;
    assert_eq!(c.recv_text().await, r#"462-3[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    assert_eq!(c.recv_binary().await, [1]);
    assert_eq!(c.recv_binary().await, [2]);

    // ...three are not, whether or not the frames follow.
    c.send(r#"453-["ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]"#)
        .await;
    c.expect_closed().await;
    recv(&mut reasons, "disconnect").await;

    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok("4599-[\"ack\"]").await;
    recv(&mut reasons, "disconnect (polling)").await;
    p.expect_gone().await;
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_per_client_are_limited() {
    let b = builder().max_namespaces_per_client(1).ns("/", base_handlers()).ns("/admin", base_handlers());
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send("40/admin,").await;
    assert_eq!(c.recv_text().await, r#"44/admin,{"message":"Too many namespaces"}"#);
    // Refused, not closed; leaving one makes room.
    c.send("41").await;
    c.connect_ns("/admin").await;
    c.send(r#"42/admin,4["ack","admin"]"#).await;
    assert_eq!(c.recv_text().await, r#"43/admin,4["admin"]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_without_a_namespace_is_closed_after_connect_timeout() {
    let timeout = Duration::from_millis(300);
    let (_io, addr) = start(builder().connect_timeout(timeout).ns("/", base_handlers())).await;

    let started = Instant::now();
    let mut c = Ws::connect(addr).await;
    let seen = c.expect_closed().await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout - Duration::from_millis(20) && elapsed < timeout * 5,
        "closed after {elapsed:?}"
    );
    assert!(seen.is_empty(), "{seen:?}");

    let started = Instant::now();
    let p = Polling::handshake(addr).await;
    assert_eq!(p.get_packets().await, ["1"], "the waiting GET gets the close packet");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout - Duration::from_millis(20) && elapsed < timeout * 5,
        "closed after {elapsed:?}"
    );
    p.expect_gone().await;

    // A client that joins in time outlives the timeout.
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    tokio::time::sleep(timeout * 2).await; // Nothing may happen meanwhile.
    c.ack_round_trip(1, r#""joined in time""#).await;
}

/// A WebSocket session whose client socket has a tiny receive buffer, so a client that stops
/// reading is noticed quickly by the server.
async fn connect_with_small_receive_buffer(addr: SocketAddr) -> Ws {
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.set_recv_buffer_size(8 * 1024).expect("SO_RCVBUF");
    let stream = within(T, "tcp connect", sock.connect(addr)).await.expect("connect");
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (ws, _) =
        within(T, "ws handshake", tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream)))
            .await
            .expect("websocket handshake");
    let mut c = Ws { ws, open: None };
    c.open = Some(parse_open(&c.recv_raw_text().await));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_is_disconnected_instead_of_buffered() {
    const FLOOD: usize = 10_000;
    let (tx, mut flood_result) = mpsc::unbounded_channel();
    let h = base_handlers().on("flood", move |conn: Conn, _ev: Event| {
        let tx = tx.clone();
        async move {
            let chunk = "z".repeat(4096);
            for i in 0..FLOOD {
                if let Err(e) = conn.emit("m", &chunk) {
                    let _ = tx.send((i, e.to_string()));
                    return;
                }
                // Give the session task a chance to write, as a real producer would.
                tokio::task::yield_now().await;
            }
            let _ = tx.send((FLOOD, "every message was queued".to_owned()));
        }
    });
    let (h, mut reasons) = log_disconnects(h);
    let (_io, addr) = start(builder().outbound_buffer(16).ns("/", h)).await;

    let mut slow = connect_with_small_receive_buffer(addr).await;
    slow.connect_ns("/").await;
    slow.send(r#"42["flood"]"#).await;
    // The client reads nothing now.
    let (sent, err) = recv(&mut flood_result, "the flood to stop").await;
    assert!(sent < FLOOD, "all {FLOOD} messages were accepted for a client that does not read");
    assert_eq!(err, "the client's outbound queue is full");
    assert_eq!(recv(&mut reasons, "disconnect").await, "outbound buffer full");

    // Other clients are unaffected.
    assert_serves(addr).await;

    // The slow client, reading again, gets what was written before, then the end.
    let seen = slow.expect_closed().await;
    let received = seen
        .iter()
        .filter(|m| matches!(m, WsMessage::Text(t) if t.as_str().starts_with(r#"42["m""#)))
        .count();
    eprintln!("flood: {sent} queued, {received} received");
    assert!(received <= sent, "received {received} of {sent} queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_connection_is_released_eventually() {
    let (tx, mut flood_result) = mpsc::unbounded_channel();
    let h = base_handlers().on("flood", move |conn: Conn, _ev: Event| {
        let tx = tx.clone();
        async move {
            let chunk = "z".repeat(4096);
            for i in 0..10_000 {
                if let Err(e) = conn.emit("m", &chunk) {
                    let _ = tx.send((i, e.to_string()));
                    return;
                }
                tokio::task::yield_now().await;
            }
        }
    });
    let (h, mut reasons) = log_disconnects(h);
    let (_io, addr) = start(builder().outbound_buffer(16).ns("/", h)).await;
    let mut slow = connect_with_small_receive_buffer(addr).await;
    slow.connect_ns("/").await;
    slow.send(r#"42["flood"]"#).await;
    recv(&mut flood_result, "the flood to stop").await;
    assert_eq!(recv(&mut reasons, "disconnect").await, "outbound buffer full");

    tokio::time::sleep(Duration::from_secs(7)).await; // sio drops it 5 s after the close (the reference: 30 s).
    // If the server released the socket, data sent to it is answered with a reset.
    let _ = within(T, "send", futures_util::SinkExt::send(&mut slow.ws, WsMessage::text("3"))).await;
    let MaybeTlsStream::Plain(tcp) = slow.ws.get_ref() else { panic!("plain TCP expected") };
    let reset = within(Duration::from_secs(3), "the reset", async {
        loop {
            if let Ok(Some(e)) = tcp.take_error() {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(reset.kind(), std::io::ErrorKind::ConnectionReset);
}

// ------------------------------------------------------------------------------------- fuzz

const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"ack\"",
    "\"ev\"",
    "1",
    "-1.5e3",
    "null",
    "true",
    "\"\\u00e9\"",
    "\"\\ud800\"",
    "{\"_placeholder\":true,\"num\":0}",
    "{\"_placeholder\":true,\"num\":7}",
    "\"",
    "\\",
    "[\"ack\",1]",
    "{\"sid\":\"x\"}",
    "\u{1e}",
    "\u{0}",
];

/// A string that looks like an engine packet carrying a Socket.IO packet.
fn packet_like(rng: &mut Rng) -> String {
    let mut s = String::new();
    s.push_str(rng.pick(&["4", "4", "4", "4", "0", "1", "2", "3", "5", "6", "7", "b", ""]));
    s.push_str(rng.pick(&["0", "1", "2", "2", "3", "4", "5", "6", "7", "", "x"]));
    if rng.below(3) == 0 {
        s.push_str(rng.pick(&["1-", "2-", "0-", "99-", "-", "3", "1000000-"]));
    }
    if rng.below(3) == 0 {
        s.push_str(rng.pick(&["/admin,", "/", "/x,", "/admin", ",", "/\u{e9},", "/a/b,"]));
    }
    if rng.below(2) == 0 {
        s.push_str(&rng.below(100_000).to_string());
    }
    for _ in 0..rng.below(7) {
        s.push_str(rng.pick(TOKENS));
    }
    s
}

/// Random bytes, a packet-like string, or a packet-like string with a few bytes changed.
fn fuzz_input(rng: &mut Rng) -> Vec<u8> {
    match rng.below(3) {
        0 => {
            let n = rng.below(48);
            rng.bytes(n)
        }
        1 => packet_like(rng).into_bytes(),
        _ => {
            let mut v = packet_like(rng).into_bytes();
            for _ in 0..=rng.below(3) {
                if !v.is_empty() {
                    let i = rng.below(v.len());
                    v[i] = rng.next_u64() as u8;
                }
            }
            v
        }
    }
}

const INPUTS: usize = 2000;
const WORKERS: usize = 32;
const PROBE: &str = r#"42777777["ack","probe"]"#;
const PROBE_ACK: &str = r#"43777777["probe"]"#;

#[derive(Debug, Clone, Copy)]
enum Channel {
    WsText,
    WsBinary,
    Polling,
}

/// Sends one input over a fresh session joined to `/`, then an event with ack: the session
/// must either acknowledge it or be closed, within the bound. True if it is still alive.
async fn fuzz_one(addr: SocketAddr, channel: Channel, input: Vec<u8>, seed: u64) -> bool {
    match channel {
        Channel::WsText | Channel::WsBinary => {
            let mut c = Ws::connect(addr).await;
            c.connect_ns("/").await;
            let msg = match channel {
                Channel::WsText => WsMessage::text(String::from_utf8_lossy(&input).into_owned()),
                _ => {
                    if seed.is_multiple_of(2) {
                        // Sometimes the frame is an expected attachment.
                        c.send(r#"451-["ack",{"_placeholder":true,"num":0}]"#).await;
                    }
                    WsMessage::binary(input)
                }
            };
            use futures_util::{SinkExt as _, StreamExt as _};
            // The server may already have closed: sending then fails, which is fine.
            let _ = c.ws.send(msg).await;
            let _ = c.ws.send(WsMessage::text(PROBE)).await;
            let alive = within(T, "the fuzzed websocket session to answer or close", async {
                loop {
                    match c.ws.next().await {
                        Some(Ok(WsMessage::Text(t))) if t.as_str() == PROBE_ACK => return true,
                        Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return false,
                        Some(Ok(_)) => {}
                    }
                }
            })
            .await;
            let _ = c.ws.close(None).await;
            alive
        }
        Channel::Polling => {
            let mut p = Polling::handshake(addr).await;
            p.connect_ns("/").await;
            let r = p.post(input.clone()).await;
            assert!(!r.status.is_server_error(), "POST {input:?}: {r:?}");
            let r = p.post(PROBE).await;
            if r.status != StatusCode::OK {
                assert_eq!(r.status, StatusCode::BAD_REQUEST, "probe after {input:?}: {r:?}");
                return false;
            }
            for _ in 0..10 {
                let r = p.get().await;
                if r.status == StatusCode::BAD_REQUEST {
                    return false;
                }
                assert_eq!(r.status, StatusCode::OK, "GET after {input:?}: {r:?}");
                let packets: Vec<&str> = r.body.split('\x1e').collect();
                if packets.contains(&PROBE_ACK) {
                    let _ = p.post("1").await;
                    return true;
                }
                if matches!(packets.last(), Some(&"1") | Some(&"6")) {
                    return false;
                }
            }
            panic!("the polling session neither answered nor closed after {input:?}");
        }
    }
}

async fn fuzz(channel: Channel, seed: u64) {
    let (_io, addr) = start(builder().ns("/", base_handlers()).ns("/admin", base_handlers())).await;
    let mut rng = Rng::new(seed);
    let inputs: Vec<Vec<u8>> = (0..INPUTS).map(|_| fuzz_input(&mut rng)).collect();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let mine: Vec<(usize, Vec<u8>)> = inputs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % WORKERS == w)
            .map(|(i, v)| (i, v.clone()))
            .collect();
        set.spawn(async move {
            let (mut alive, mut closed) = (0, 0);
            for (i, input) in mine {
                if fuzz_one(addr, channel, input, seed ^ i as u64).await {
                    alive += 1;
                } else {
                    closed += 1;
                }
            }
            (alive, closed)
        });
    }
    let (mut alive, mut closed) = (0, 0);
    while let Some(r) = within(Duration::from_secs(20), "fuzz workers", set.join_next()).await {
        let (a, c) = r.expect("a fuzz worker panicked");
        alive += a;
        closed += c;
    }
    eprintln!("{channel:?}: {alive} alive, {closed} closed");
    assert_eq!(alive + closed, INPUTS);
    // The inputs exercise both outcomes.
    assert!(alive > 0 && closed > 0, "{channel:?}: {alive} alive, {closed} closed");
    assert_serves(addr).await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fuzz_websocket_text_frames() {
    fuzz(Channel::WsText, 0x5EED_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fuzz_websocket_binary_frames() {
    fuzz(Channel::WsBinary, 0x5EED_0002).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fuzz_polling_post_bodies() {
    fuzz(Channel::Polling, 0x5EED_0003).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emits_with_ack_dropped_unfinished_leave_no_pending_entry() {
    // A handler asks the client 200 times for an ack and drops every future before a reply
    // can come (half unpolled, half after one poll), alone and as broadcasts; the client never
    // replies. Nothing may stay in the sockets' ack tables.
    let handlers = base_handlers().on("spam", |conn: Conn, mut ev: Event| async move {
        for i in 0..50 {
            drop(conn.emit_with_ack("q", &i));
            drop(conn.namespace().all().emit_with_ack("qb", &i));
            let mut one = conn.emit_with_ack("q", &i);
            let mut all = conn.namespace().all().emit_with_ack("qb", &i);
            let _ = futures_util::FutureExt::now_or_never(&mut one);
            let _ = futures_util::FutureExt::now_or_never(&mut all);
        }
        if let Some(ack) = ev.take_ack() {
            let _ = ack.send(&"done");
        }
    });
    let (io, addr) = start(builder().ns("/", handlers)).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send(r#"421["spam"]"#).await;
    within(T, "the spam handler's ack", async {
        loop {
            if c.recv_text().await == r#"431["done"]"# {
                return;
            }
        }
    })
    .await;
    let stats = io.stats();
    let root = stats.namespaces.iter().find(|n| n.path == "/").expect("namespace /");
    assert_eq!(root.sockets, 1);
    assert_eq!(root.pending_acks, 0, "ack entries left behind by dropped futures");
    // And one that is kept does count until the client replies.
    let pending = io.of("/").expect("/").all().emit_with_ack("kept", &1);
    let handle = tokio::spawn(pending);
    let text = within(T, "the kept ack request", async {
        loop {
            let t = c.recv_text().await;
            if t.contains("kept") {
                return t;
            }
        }
    })
    .await;
    let root = io.stats().namespaces.into_iter().find(|n| n.path == "/").expect("namespace /");
    assert_eq!(root.pending_acks, 1);
    let id: u64 = text[2..text.find('[').expect("array")].parse().expect("ack id");
    c.send(&format!("43{id}[\"ok\"]")).await;
    let replies = within(T, "the broadcast ack", handle).await.expect("task").expect("replies");
    assert_eq!(replies.values::<String>().expect("strings"), vec!["ok".to_owned()]);
    let root = io.stats().namespaces.into_iter().find(|n| n.path == "/").expect("namespace /");
    assert_eq!(root.pending_acks, 0);
}

// ----------------------------------------------------------------------------- the operator's log

/// The interop server as its own process logging at `info` (what an operator runs with): its
/// output lines arrive on the channel.
async fn logging_server() -> (tokio::process::Child, SocketAddr, mpsc::UnboundedReceiver<String>) {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_interop_server"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("interop_server runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = within(T, "the server's first line", lines.next_line()).await.expect("read").expect("a line");
    let addr = first.trim_start_matches("listening on http://").parse().expect("an address");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    (child, addr, rx)
}

/// The next line containing `needle` (lines before it are returned too, for the counts).
async fn line_with(rx: &mut mpsc::UnboundedReceiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    loop {
        let line = recv(rx, needle).await;
        seen.push(line.clone());
        if line.contains(needle) {
            return line;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_gives_one_warning_with_the_reason_and_a_flood_is_rate_limited() {
    let (_child, addr, mut rx) = logging_server().await;
    let mut seen = Vec::new();

    // An Engine.IO v3 client against a v4-only server: refused, one WARN line that says why.
    let r = get(&format!("http://{addr}/socket.io/?EIO=3&transport=polling")).await;
    assert_engine_error(&r, 400, 5, "Unsupported protocol version");
    let line = line_with(&mut rx, "unsupported Engine.IO protocol version", &mut seen).await;
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("eio=\"3\"") || line.contains("eio=3"), "{line}");
    assert!(line.contains("peer=Some(127.0.0.1:"), "{line}");
    assert!(line.contains("allow_eio3"), "the line says how to accept them: {line}");

    // A msgpack client against the JSON parser: its binary packet closes the session, with a
    // WARN line naming the session and the likely cause.
    let mut ws = Ws::connect(addr).await;
    let sid = ws.sid().to_owned();
    ws.send_binary(vec![0x84, 0xa4, b't', b'y', b'p', b'e', 0x00]).await;
    ws.expect_closed_within(T).await;
    let line = line_with(&mut rx, "msgpack client?", &mut seen).await;
    assert!(line.contains("WARN") && line.contains(&sid), "{line}");

    // A flood of refused handshakes: at most two windows' budget of lines (10 per 10 s).
    for _ in 0..60 {
        let r = get(&format!("http://{addr}/socket.io/?EIO=2&transport=polling")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    // A normal client's round trip still works, and its WARN-free connection marks the end.
    let mut ok = Ws::connect(addr).await;
    ok.connect_ns("/").await;
    ok.ack_round_trip(1, "\"still served\"").await;
    // A POST over max_payload logs a line of another kind: once it arrived, every refusal
    // line written before it has too (one pipe, in order).
    let polling = Polling::handshake(addr).await;
    let r = polling.post(vec![b'4'; 1_100_000]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let line = line_with(&mut rx, "POST body over max_payload", &mut seen).await;
    assert!(line.contains(&polling.sid), "{line}");
    let refusals = seen.iter().filter(|l| l.contains("unsupported Engine.IO protocol version")).count();
    assert!((2..=20).contains(&refusals), "{refusals} refusal lines for 61 refusals:\n{}", seen.join("\n"));
    assert!(seen.iter().all(|l| !l.contains("ERROR")), "{}", seen.join("\n"));
}
