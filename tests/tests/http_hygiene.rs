//! HTTP hygiene: `sio_core::serve` closes connections that send no complete request head in
//! time (nothing at all, or half a head) while long polls and WebSockets outlive that
//! timeout; a polling POST whose replies overflow the outbound queue closes the session with
//! a close packet the next GET delivers.

mod common;

use std::future::IntoFuture as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use sio_core::Server;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const HEAD_TIMEOUT: Duration = Duration::from_millis(300);

/// Serves `io` with `sio_core::serve` and a short header read timeout.
async fn serve_short(io: &Server) -> SocketAddr {
    tests::init_tracing();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().merge(io.router());
    tokio::spawn(sio_core::serve(listener, app).header_read_timeout(HEAD_TIMEOUT).into_future());
    addr
}

/// Reads until the server closes the connection; what it sent, and when it closed.
async fn read_until_closed(tcp: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut got = Vec::new();
    within(T, "the server to close the connection", async {
        let mut buf = [0u8; 1024];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    (got, Instant::now())
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let io = builder().ns("/", base_handlers()).build();
    let addr = serve_short(&io).await;
    let start = Instant::now();
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let (got, end) = read_until_closed(&mut tcp).await;
    assert!(end - start >= HEAD_TIMEOUT, "closed after {:?}", end - start);
    assert!(got.is_empty() || got.starts_with(b"HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(&got));
    assert_serves(addr).await;
    assert_serves_polling(addr).await;
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_timeout() {
    let io = builder().ns("/", base_handlers()).build();
    let addr = serve_short(&io).await;
    for partial in [
        &b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"[..],
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\nConnec",
        b"G",
    ] {
        let start = Instant::now();
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(partial).await.expect("write");
        let (got, end) = read_until_closed(&mut tcp).await;
        assert!(end - start >= HEAD_TIMEOUT, "closed after {:?}", end - start);
        assert!(got.is_empty() || got.starts_with(b"HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(&got));
    }
    // An idle keep-alive connection after a complete request is closed the same way.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let (got, _) = read_until_closed(&mut tcp).await;
    assert!(got.starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&got));
    assert_serves(addr).await;
    assert_serves_polling(addr).await;
}

#[tokio::test]
async fn long_polls_and_websockets_outlive_the_header_timeout() {
    let (handlers, _) = log_disconnects(base_handlers());
    let io = builder().ns("/", handlers).build();
    let addr = serve_short(&io).await;
    let mut ws = Ws::connect(addr).await;
    ws.connect_ns("/").await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    // A GET waiting longer than the header timeout (its head came in time) is answered.
    let waiting = tokio::spawn({
        let p = p.clone();
        async move { p.get_packets().await }
    });
    tokio::time::sleep(HEAD_TIMEOUT * 3).await;
    assert!(!waiting.is_finished());
    p.post_ok(r#"421["ack","late"]"#).await;
    let packets = within(T, "the long poll", waiting).await.expect("GET task");
    assert_eq!(packets, [r#"431["late"]"#]);
    ws.ack_round_trip(2, r#""after a quiet while""#).await;
}

#[tokio::test]
async fn the_handshake_address_is_known_without_connect_info() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handlers = base_handlers().on_connect(move |conn: sio_core::Conn| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(conn.handshake().address());
            Ok::<(), sio_core::ConnectError>(())
        }
    });
    let io = builder().ns("/", handlers).build();
    let addr = serve_short(&io).await;
    let mut ws = Ws::connect(addr).await;
    ws.connect_ns("/").await;
    let seen = recv(&mut rx, "the connect handler").await.expect("an address");
    assert_eq!(seen.ip(), addr.ip());
}

/// A POST whose replies do not fit the outbound queue: the session closes, and the next GET
/// takes the replies that fit and a close packet (so the client knows and reconnects) rather
/// than an unknown sid.
#[tokio::test]
async fn a_post_whose_replies_overflow_the_queue_ends_with_a_close_packet() {
    let (handlers, mut reasons) = log_disconnects(base_handlers());
    let (_io, addr) = start(builder().outbound_buffer(16).ns("/", handlers)).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let body: Vec<String> = (0..40).map(|i| format!(r#"42{i}["ack",{i}]"#)).collect();
    p.post_ok(body.join("\x1e")).await;
    assert_eq!(recv(&mut reasons, "the disconnect").await, "outbound buffer full");
    // The replies that fit, then the close packet (in a payload of its own, as the reference
    // sends it).
    let mut packets = Vec::new();
    while packets.last().map(String::as_str) != Some("1") {
        assert!(packets.len() <= 17, "{packets:?}");
        let r = p.get().await;
        assert_eq!(r.status, 200, "{r:?} after {packets:?}");
        packets.extend(r.body.split('\x1e').map(str::to_owned));
    }
    let acks = &packets[..packets.len() - 1];
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(*ack, format!("43{i}[{i}]"));
    }
    assert_eq!(acks.len(), 16);
    p.expect_gone().await;
    assert_serves_polling(addr).await;
}

/// `serve(..).with_graceful_shutdown(..)` with `Server::shutdown` in the signal: sessions are
/// closed (a waiting long poll answered, a WebSocket closed), the serve future returns, and
/// the port no longer accepts connections.
#[tokio::test]
async fn graceful_shutdown_with_serve() {
    let (handlers, mut reasons) = log_disconnects(base_handlers());
    let io = builder().ns("/", handlers).build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown_io = io.clone();
    let server = tokio::spawn(
        sio_core::serve(listener, axum::Router::new().merge(io.router()))
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
                assert!(shutdown_io.shutdown(T).await, "sessions closed in time");
            })
            .into_future(),
    );
    let mut ws = Ws::connect(addr).await;
    ws.connect_ns("/").await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let waiting = tokio::spawn({
        let p = p.clone();
        async move { p.get_packets().await }
    });
    let _ = stop_tx.send(());
    within(T, "serve to return", server).await.expect("serve task").expect("serve");
    let packets = within(T, "the long poll", waiting).await.expect("GET task");
    assert_eq!(packets.last().map(String::as_str), Some("1"), "{packets:?}");
    ws.expect_closed().await;
    for _ in 0..2 {
        assert_eq!(recv(&mut reasons, "disconnect").await, "server shutting down");
    }
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}
