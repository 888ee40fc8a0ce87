//! Engine.IO v4 over HTTP, on the wire: handshake, the reference server's error answers,
//! long-polling (POST/GET, batching, binary), request-level failures (oversized, overlapping or
//! aborted requests), CORS and a custom path.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use sio_core::engine::EngineConfig;
use sio_core::{Binary, Conn, Cors, Event};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_handshake_announces_the_settings() {
    let b = builder()
        .ping_interval(Duration::from_millis(1234))
        .ping_timeout(Duration::from_millis(4321))
        .max_payload(54_321)
        .ns("/", base_handlers());
    let (_io, addr) = start(b).await;
    let r = get(&format!("{}?EIO=4&transport=polling", base(addr))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/plain")), "{r:?}");
    assert!(!r.body.contains('\x1e'), "the handshake is one packet: {:?}", r.body);
    let open = parse_open(&r.body);
    let mut keys: Vec<_> = open.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert_eq!(open["upgrades"], json!(["websocket"]));
    assert_eq!(open["pingInterval"], json!(1234));
    assert_eq!(open["pingTimeout"], json!(4321));
    assert_eq!(open["maxPayload"], json!(54_321));

    let other = Polling::handshake(addr).await;
    assert_ne!(other.sid, open["sid"].as_str().unwrap_or_default(), "every session has its own sid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_handshake_offers_no_upgrade() {
    let b = builder()
        .ping_interval(Duration::from_millis(1500))
        .ping_timeout(Duration::from_millis(700))
        .max_payload(4096)
        .ns("/", base_handlers());
    let (_io, addr) = start(b).await;
    let c = Ws::connect(addr).await;
    let open = c.open.expect("open packet");
    assert_eq!(open["upgrades"], json!([]));
    assert_eq!(open["pingInterval"], json!(1500));
    assert_eq!(open["pingTimeout"], json!(700));
    assert_eq!(open["maxPayload"], json!(4096));
    assert_eq!(open.as_object().expect("object").len(), 5, "{open}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_handshake_offers_no_upgrade_when_websocket_is_off() {
    let (_io, addr) =
        start(builder().engine_config(|c| c.allow_upgrades = false).ns("/", base_handlers())).await;
    assert_eq!(Polling::handshake(addr).await.open["upgrades"], json!([]));

    let (_io, addr) = start(builder().transports(true, false).ns("/", base_handlers())).await;
    assert_eq!(Polling::handshake(addr).await.open["upgrades"], json!([]));
    // And the WebSocket transport is then unknown.
    let r = get(&format!("{}?EIO=4&transport=websocket", base(addr))).await;
    assert_engine_error(&r, 400, 0, "Transport unknown");
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_transport_is_code_0() {
    let (_io, addr, _) = start_default().await;
    let base = base(addr);
    for q in [
        "EIO=4&transport=foo",
        "EIO=4",
        "EIO=4&transport=",
        "EIO=4&transport=webtransport",
        "EIO=4&transport=POLLING",
    ] {
        let r = get(&format!("{base}?{q}")).await;
        assert_engine_error(&r, 400, 0, "Transport unknown");
    }
    // The transport is checked before the sid.
    let r = send(reqwest::Client::new().post(format!("{base}?EIO=4&transport=foo&sid=AAAAAAAAAAAAAAAAAAAA")))
        .await;
    assert_engine_error(&r, 400, 0, "Transport unknown");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_sid_is_code_1() {
    let (_io, addr, _) = start_default().await;
    let base = base(addr);
    let http = reqwest::Client::new();
    for sid in ["AAAAAAAAAAAAAAAAAAAA", "short", "", "%00%00", "AAAAAAAAAAAAAAAAAAAAA"] {
        let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
        assert_engine_error(&send(http.get(&url)).await, 400, 1, "Session ID unknown");
        assert_engine_error(&send(http.post(&url).body("6")).await, 400, 1, "Session ID unknown");
    }
    // A WebSocket upgrade of an unknown session is refused (plain 400, as the reference).
    let err = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/socket.io/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA"
    ))
    .await
    .expect_err("upgrade of an unknown sid must fail");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status().as_u16(), 400);
            assert_eq!(resp.body().as_deref(), Some(&b"Session ID unknown"[..]));
        }
        other => panic!("expected an HTTP refusal, got {other}"),
    }
    assert_serves(addr).await;
}

/// `Sec-WebSocket-Key` values that are not 16 bytes in base64 (RFC 6455 §4.2.1).
const BAD_WS_KEYS: [&str; 9] = [
    "",
    "x",
    "dGhlIHNhbXBsZSBub25jZQ",     // no padding
    "dGhlIHNhbXBsZSBub25jZQ=",    // 23 characters
    "AAAAAAAAAAAAAAAAAAAA",       // 15 bytes
    "AAAAAAAAAAAAAAAAAAAAAAA=",   // 17 bytes
    "AAAAAAAAAAAAAAAAAAAAAAAA==", // 18 bytes
    "dGhlIHNhbXBsZSBub25j-Q==",   // base64url
    "dGhlIHNhbXBsZSBub25j ZQ==",  // a space inside
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_key_that_is_not_16_bytes_of_base64_is_refused_with_400() {
    let (_io, addr, _) = start_default().await;
    // A new WebSocket session.
    for key in BAD_WS_KEYS {
        let (status, head, _) = RawWs::request(addr, "EIO=4&transport=websocket", key).await;
        assert_eq!(status, 400, "key {key:?}: {head}");
    }
    // An upgrade of a polling session, which goes on polling.
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    for key in BAD_WS_KEYS {
        let query = format!("EIO=4&transport=websocket&sid={}", p.sid);
        let (status, head, _) = RawWs::request(addr, &query, key).await;
        assert_eq!(status, 400, "upgrade with key {key:?}: {head}");
    }
    p.post_ok(r#"421["ack","polling"]"#).await;
    assert_eq!(p.recv().await, r#"431["polling"]"#);
    // A valid key is accepted (RawWs::connect checks the Sec-WebSocket-Accept).
    RawWs::connect(addr).await;
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_with_another_method_than_get_is_code_2() {
    let (_io, addr, _) = start_default().await;
    let url = format!("{}?EIO=4&transport=polling", base(addr));
    let http = reqwest::Client::new();
    assert_engine_error(&send(http.post(&url).body("40")).await, 400, 2, "Bad handshake method");
    assert_engine_error(&send(http.put(&url)).await, 400, 2, "Bad handshake method");
    assert_engine_error(&send(http.delete(&url)).await, 400, 2, "Bad handshake method");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_mismatch_is_code_3() {
    let (_io, addr, _) = start_default().await;
    let base = base(addr);
    let http = reqwest::Client::new();
    // A WebSocket handshake without the upgrade headers.
    let r = send(http.get(format!("{base}?EIO=4&transport=websocket"))).await;
    assert_engine_error(&r, 400, 3, "Bad request");

    // A polling session addressed as websocket without an upgrade.
    let p = Polling::handshake(addr).await;
    let r = send(http.get(format!("{base}?EIO=4&transport=websocket&sid={}", p.sid))).await;
    assert_engine_error(&r, 400, 3, "Bad request");
    // The session is untouched by that.
    let mut p2 = p.clone();
    p2.connect_ns("/").await;

    // A WebSocket session addressed as polling.
    let ws = Ws::connect(addr).await;
    let url = format!("{base}?EIO=4&transport=polling&sid={}", ws.sid());
    assert_engine_error(&send(http.get(&url)).await, 400, 3, "Bad request");
    assert_engine_error(&send(http.post(&url).body("6")).await, 400, 3, "Bad request");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_handshake_is_403_code_4() {
    let b = builder()
        .allow_request(|parts| !parts.uri.query().unwrap_or_default().contains("deny=1"))
        .ns("/", base_handlers());
    let (_io, addr) = start(b).await;
    let r = get(&format!("{}?EIO=4&transport=polling&deny=1", base(addr))).await;
    assert_engine_error(&r, 403, 4, "Forbidden");
    // WebSocket handshakes are refused too (a plain 400 on upgrade requests, as the reference).
    let err =
        tokio_tungstenite::connect_async(format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&deny=1"))
            .await
            .expect_err("refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status().as_u16(), 400);
            assert_eq!(resp.body().as_deref(), Some(&b"Forbidden"[..]));
        }
        other => panic!("expected an HTTP refusal, got {other}"),
    }
    assert_serves(addr).await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_unsupported_protocol_version_is_code_5() {
    let (_io, addr, _) = start_default().await;
    for q in [
        "transport=polling",
        "EIO=3&transport=polling",
        "EIO=5&transport=polling",
        "EIO=&transport=polling",
        "EIO=four&transport=polling",
    ] {
        let r = get(&format!("{}?{q}", base(addr))).await;
        assert_engine_error(&r, 400, 5, "Unsupported protocol version");
    }
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_are_percent_decoded_as_node_decodes_them() {
    let (_io, addr, _) = start_default().await;
    // `4` and `polling` percent-encoded: Node's `url.parse(url, true)` reads them decoded.
    let r = get(&format!("{}?EIO=%34&transport=p%6Flling", base(addr))).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let sid = parse_open(&r.body)["sid"].as_str().unwrap_or_default().to_owned();
    assert_eq!(sid.len(), 20, "{r:?}");
    // The sid percent-encoded, every character: the POST finds its session.
    let encoded: String = sid.bytes().map(|b| format!("%{b:02X}")).collect();
    let url = format!("{}?EIO=4&transport=polling&sid={encoded}", base(addr));
    let r = send(reqwest::Client::new().post(url).body("40")).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"), "{r:?}");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_is_answered_ok() {
    let (_io, addr, _) = start_default().await;
    let p = Polling::handshake(addr).await;
    let r = p.post("6").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "ok");
    assert_eq!(r.header("content-type"), Some("text/html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_post_may_carry_several_packets() {
    // Bare engine: both messages of the batch are echoed.
    let addr = start_echo_engine(EngineConfig::default()).await;
    let mut p = Polling::handshake_at(&format!("http://{addr}/engine.io/")).await;
    p.post_ok("4hello\x1e4w\u{f6}rld \u{1f600}\x1e6").await;
    assert_eq!(p.recv().await, "4hello");
    assert_eq!(p.recv().await, "4w\u{f6}rld \u{1f600}");

    // Socket.IO: two events with ack ids in one body are both acknowledged.
    let (_io, addr, _) = start_default().await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok("421[\"ack\",\"one\"]\x1e422[\"ack\",\"two\"]").await;
    let mut got = vec![p.recv().await, p.recv().await];
    got.sort();
    assert_eq!(got, [r#"431["one"]"#, r#"432["two"]"#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_packets_come_back_in_one_get() {
    let (done_tx, mut done) = mpsc::unbounded_channel();
    let h = base_handlers().on("burst", move |conn: Conn, _ev: Event| {
        let done_tx = done_tx.clone();
        async move {
            for i in 1..=3 {
                conn.emit("m", &i).expect("emit");
            }
            let _ = done_tx.send(());
        }
    });
    let (_io, addr) = start(builder().ns("/", h)).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok(r#"42["burst"]"#).await;
    recv(&mut done, "the burst handler").await;
    let r = p.get().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "42[\"m\",1]\x1e42[\"m\",2]\x1e42[\"m\",3]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_over_polling_is_base64_both_ways() {
    // Bare engine echo: `b<base64>` in, the same out.
    let addr = start_echo_engine(EngineConfig::default()).await;
    let mut p = Polling::handshake_at(&format!("http://{addr}/engine.io/")).await;
    let all: Vec<u8> = (0..=255).collect();
    p.post_ok(format!("b{}\x1ebAQID", b64_encode(&all))).await;
    let first = p.recv().await;
    assert_eq!(b64_decode(first.strip_prefix('b').expect("binary packet")), all);
    assert_eq!(p.recv().await, "bAQID");

    // Socket.IO: a binary event is reassembled from the payload and a binary reply goes back.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let h = base_handlers().on("bin", move |conn: Conn, ev: Event| {
        let tx = tx.clone();
        async move {
            let data: Binary = ev.arg().expect("a binary argument");
            let _ = tx.send(data.to_vec());
            let reversed: Vec<u8> = data.iter().rev().copied().collect();
            conn.emit("bin", &Binary::from(reversed)).expect("emit");
        }
    });
    let (_io, addr) = start(builder().ns("/", h)).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok(format!("451-[\"bin\",{{\"_placeholder\":true,\"num\":0}}]\x1eb{}", b64_encode(&all))).await;
    assert_eq!(recv(&mut rx, "the binary event").await, all);
    assert_eq!(p.recv().await, r#"451-["bin",{"_placeholder":true,"num":0}]"#);
    let bin = p.recv().await;
    let reversed: Vec<u8> = all.iter().rev().copied().collect();
    assert_eq!(b64_decode(bin.strip_prefix('b').expect("binary packet")), reversed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_of_exactly_max_payload_is_accepted() {
    let (h, _) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().max_payload(1000).ns("/", h)).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let overhead = r#"421["ack",""]"#.len();
    let body = format!(r#"421["ack","{}"]"#, "x".repeat(1000 - overhead));
    assert_eq!(body.len(), 1000);
    p.post_ok(body).await;
    assert!(p.recv().await.starts_with(r#"431["xxx"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_post_is_413_and_closes_the_session() {
    let (h, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().max_payload(1000).ns("/", h)).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let body = format!(r#"42["ack","{}"]"#, "x".repeat(1000));
    let r = p.post(body).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{r:?}");
    assert_eq!(recv(&mut reasons, "disconnect after 413").await, "transport error");
    p.expect_gone().await;
    assert_serves(addr).await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_concurrent_get_is_400_and_closes_the_session() {
    let (_io, addr, mut reasons) = start_default().await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let (a, b) = (p.clone(), p.clone());
    let (ra, rb) = tokio::join!(a.get(), b.get());
    let (refused, released) = if ra.status == StatusCode::BAD_REQUEST { (ra, rb) } else { (rb, ra) };
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "one GET is refused: {refused:?}");
    assert_eq!(released.status, StatusCode::OK, "{released:?}");
    assert_eq!(released.body, "1", "the waiting GET gets the close packet");
    assert_eq!(recv(&mut reasons, "disconnect after the overlap").await, "transport error");
    p.expect_gone().await;
    assert_serves_polling(addr).await;
}

/// Sends a raw polling GET for `sid`, lets the server park it, then drops the connection
/// before any answer.
async fn abort_a_parked_get(addr: std::net::SocketAddr, sid: &str) {
    let mut tcp = within(T, "tcp connect", tokio::net::TcpStream::connect(addr)).await.expect("connect");
    let req = format!("GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    within(T, "write", tcp.write_all(req.as_bytes())).await.expect("write");
    // Nothing on the wire tells that the server parked the GET; give it time to (see
    // `aborted_get_right_after_sending_closes_the_session` for a connection dropped at once).
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut buf = [0u8; 64];
    match tcp.try_read(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the GET must still be waiting, got {other:?}"),
    }
    drop(tcp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_get_closes_the_session() {
    let (_io, addr, mut reasons) = start_default().await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    abort_a_parked_get(addr, &p.sid).await;
    let reason = recv(&mut reasons, "disconnect after the aborted GET").await;
    assert!(reason == "transport close" || reason == "transport error", "{reason}");
    p.expect_gone().await;
    assert_serves(addr).await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "known difference: when the connection closes in the same instant the GET arrives, hyper \
            may discard the request without ever calling the service, so the engine cannot see \
            it; such a session ends at the ping timeout (bounded), where Node closes it at once. \
            A GET whose future is created but dropped unpolled is handled (EarlyGet)."]
async fn aborted_get_right_after_sending_closes_the_session() {
    const N: usize = 20;
    let (_io, addr, mut reasons) = start_default().await;
    let mut sessions = Vec::new();
    for _ in 0..N {
        let mut p = Polling::handshake(addr).await;
        p.connect_ns("/").await;
        sessions.push(p);
    }
    for p in &sessions {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req =
            format!("GET /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: x\r\n\r\n", p.sid);
        within(T, "write", tcp.write_all(req.as_bytes())).await.expect("write");
    }
    for i in 0..N {
        recv(&mut reasons, &format!("disconnect {i} of {N}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_get_is_a_transport_error_as_in_the_reference() {
    let (_io, addr, mut reasons) = start_default().await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    abort_a_parked_get(addr, &p.sid).await;
    assert_eq!(recv(&mut reasons, "disconnect after the aborted GET").await, "transport error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_post_closes_the_session() {
    let (_io, addr, mut reasons) = start_default().await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    {
        let mut tcp = within(T, "tcp connect", tokio::net::TcpStream::connect(addr)).await.expect("connect");
        let req = format!(
            "POST /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n42[\"ack\"",
            p.sid
        );
        within(T, "write", tcp.write_all(req.as_bytes())).await.expect("write");
        // Dropped with 90 bytes of the body missing.
    }
    assert_eq!(recv(&mut reasons, "disconnect after the aborted POST").await, "transport error");
    p.expect_gone().await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_post_bodies_close_the_session() {
    let (_io, addr, mut reasons) = start_default().await;
    let bodies: [&[u8]; 6] = [b"9", b"0{}", &[0xff, 0xfe], b"b!!", b"", b"4x\x1e"];
    for body in bodies {
        let mut p = Polling::handshake(addr).await;
        p.connect_ns("/").await;
        let r = p.post(body.to_vec()).await;
        assert!(!r.status.is_server_error(), "{body:?}: {r:?}");
        assert_eq!(recv(&mut reasons, "disconnect after a bad body").await, "parse error", "{body:?}");
        p.expect_gone().await;
    }
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_packet_over_polling_closes_the_session() {
    let (_io, addr, mut reasons) = start_default().await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok("1").await;
    assert_eq!(recv(&mut reasons, "disconnect after the close packet").await, "transport close");
    p.expect_gone().await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_any_echoes_the_origin() {
    let (_io, addr) = start(builder().cors(Cors::any()).ns("/", base_handlers())).await;
    let url = format!("{}?EIO=4&transport=polling", base(addr));
    let http = reqwest::Client::new();
    let origin = "http://app.example:8080";

    let r = send(
        http.request(reqwest::Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type,x-custom"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    assert_eq!(r.header("vary"), Some("Origin"));
    let methods = r.header("access-control-allow-methods").expect("allowed methods");
    for m in ["GET", "POST"] {
        assert!(methods.split(',').any(|x| x.trim() == m), "{m} in {methods}");
    }
    assert_eq!(r.header("access-control-allow-headers"), Some("content-type,x-custom"));

    // The actual requests carry the header too, errors included.
    let r = send(http.get(&url).header("Origin", origin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    let r = send(http.get(format!("{}?EIO=4&transport=nope", base(addr))).header("Origin", origin)).await;
    assert_engine_error(&r, 400, 0, "Transport unknown");
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    // Without an Origin, any origin is allowed.
    let r = send(http.get(&url)).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lists_and_no_cors() {
    let b = builder().cors(Cors::origins(["http://good.example"]).credentials(true)).ns("/", base_handlers());
    let (_io, addr) = start(b).await;
    let url = format!("{}?EIO=4&transport=polling", base(addr));
    let http = reqwest::Client::new();
    let r = send(http.get(&url).header("Origin", "http://good.example")).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("http://good.example"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let r = send(http.get(&url).header("Origin", "http://evil.example")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), None, "{r:?}");

    // No CORS configured: no header, and OPTIONS is not a preflight.
    let (_io, addr, _) = start_default().await;
    let url = format!("{}?EIO=4&transport=polling", base(addr));
    let r = send(http.get(&url).header("Origin", "http://good.example")).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = send(http.request(reqwest::Method::OPTIONS, &url).header("Origin", "http://good.example")).await;
    assert_ne!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_origin_predicate_and_preflight_max_age() {
    let cors = Cors::predicate(|o| o.ends_with(".good.example")).max_age(Duration::from_secs(600));
    let (_io, addr) = start(builder().cors(cors).ns("/", base_handlers())).await;
    let url = format!("{}?EIO=4&transport=polling", base(addr));
    let http = reqwest::Client::new();
    let r = send(http.get(&url).header("Origin", "https://app.good.example")).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.good.example"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let r = send(http.get(&url).header("Origin", "https://good.example.evil")).await;
    assert_eq!((r.status, r.header("access-control-allow-origin")), (StatusCode::OK, None), "{r:?}");
    let r = send(http.get(&url)).await;
    assert_eq!(r.header("access-control-allow-origin"), None, "no Origin, no header: {r:?}");
    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://app.good.example")
        .header("Access-Control-Request-Headers", "x-token");
    let r = send(preflight).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.good.example"));
    assert_eq!(r.header("access-control-allow-headers"), Some("x-token"));
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_path() {
    let (_io, addr) = start(builder().path("/custom/").ns("/", base_handlers())).await;
    let mut p = Polling::handshake_at(&format!("http://{addr}/custom/")).await;
    p.connect_ns("/").await;
    p.post_ok(r#"421["ack",1]"#).await;
    assert_eq!(p.recv().await, "431[1]");
    let r = get(&format!("http://{addr}/socket.io/?EIO=4&transport=polling")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the default path is not served: {r:?}");
    assert_serves_at(addr, "/custom/").await;
    // Without the trailing slash too.
    let mut p = Polling::handshake_at(&format!("http://{addr}/custom")).await;
    p.connect_ns("/").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_get_waits_for_data() {
    // A GET with nothing queued is held until a packet is sent, not answered empty.
    let (tx, mut rx) = mpsc::unbounded_channel::<Conn>();
    let h = base_handlers().on_connect(move |conn: Conn| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(conn);
            Ok(())
        }
    });
    let (_io, addr) = start(builder().ns("/", h)).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let conn = recv(&mut rx, "the connect handler").await;
    let waiting = tokio::spawn({
        let p = p.clone();
        async move {
            let started = Instant::now();
            (p.get().await, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await; // Nothing may arrive meanwhile.
    assert!(!waiting.is_finished(), "the GET was answered with nothing to send");
    conn.emit("late", &"news").expect("emit");
    let (r, waited) = within(T, "the waiting GET", waiting).await.expect("join");
    assert_eq!(r.body, r#"42["late","news"]"#);
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
}
