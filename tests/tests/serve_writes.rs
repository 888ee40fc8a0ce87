//! What `sio_core::serve` writes on the wire for a WebSocket: a direct connection gets the
//! `101 Switching Protocols` and the Engine.IO open packet in one write (one read takes both);
//! a polling session's upgrade gets its `101` at once (its client speaks first); a refused
//! upgrade or a polling answer is not held. `sio_core::listen` hands out sockets
//! with `TCP_NODELAY`.

mod common;

use std::future::IntoFuture as _;
use std::net::SocketAddr;

use common::*;
use sio_core::Server;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

async fn serve_with_listen(io: &Server) -> SocketAddr {
    tests::init_tracing();
    let listener = sio_core::listen(SocketAddr::from(([127, 0, 0, 1], 0))).expect("listen");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(sio_core::serve(listener, axum::Router::new().merge(io.router())).into_future());
    addr
}

fn upgrade_request(query: &str) -> String {
    format!(
        "GET /socket.io/?EIO=4&transport=websocket{query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// One read; what it took.
async fn read_once(tcp: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut buf = vec![0u8; 8192];
    let n = within(T, what, tcp.read(&mut buf)).await.expect("read");
    buf.truncate(n);
    buf
}

/// The bytes after an HTTP head, and the head.
fn split_head(got: &[u8]) -> (String, &[u8]) {
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head") + 4;
    (String::from_utf8_lossy(&got[..end]).into_owned(), &got[end..])
}

/// A masked client text frame.
fn client_text(text: &str) -> Vec<u8> {
    let mut f = vec![0x81, 0x80 | u8::try_from(text.len()).expect("short")];
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(text.as_bytes());
    f
}

#[tokio::test]
async fn a_direct_websocket_gets_the_101_and_the_open_packet_in_one_read() {
    let io = builder().ns("/", base_handlers()).build();
    let addr = serve_with_listen(&io).await;
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(upgrade_request("").as_bytes()).await.expect("write");
    let got = read_once(&mut tcp, "the 101").await;
    let (head, rest) = split_head(&got);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(rest.len() > 2 && rest[0] == 0x81, "the open frame came with the 101: {got:?}");
    assert!(rest[2..].starts_with(b"0{\"sid\":"), "{:?}", String::from_utf8_lossy(rest));
    // The session goes on: CONNECT, then an ack.
    tcp.write_all(&client_text("40")).await.expect("write");
    let got = read_once(&mut tcp, "the CONNECT reply").await;
    assert!(got.len() > 2 && got[2..].starts_with(b"40{\"sid\":"), "{:?}", String::from_utf8_lossy(&got));
    tcp.write_all(&client_text("421[\"ack\",1]")).await.expect("write");
    let got = read_once(&mut tcp, "the ack").await;
    assert_eq!(&got[2..], b"431[1]");
}

#[tokio::test]
async fn a_polling_upgrade_gets_its_101_before_it_probes() {
    let io = builder().ns("/", base_handlers()).build();
    let addr = serve_with_listen(&io).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(upgrade_request(&format!("&sid={}", p.sid)).as_bytes()).await.expect("write");
    // Nothing else is sent before the probe: the 101 must come alone, now.
    let got = read_once(&mut tcp, "the 101 of an upgrade").await;
    let (head, rest) = split_head(&got);
    assert!(head.starts_with("HTTP/1.1 101 ") && rest.is_empty(), "{got:?}");
    tcp.write_all(&client_text("2probe")).await.expect("write");
    let got = read_once(&mut tcp, "3probe").await;
    assert_eq!(got, b"\x81\x063probe");
    tcp.write_all(&client_text("5")).await.expect("write");
    tcp.write_all(&client_text("421[\"ack\",\"upgraded\"]")).await.expect("write");
    let mut acked = Vec::new();
    within(T, "the ack over the upgraded WebSocket", async {
        while !acked.ends_with(b"431[\"upgraded\"]") {
            acked.extend(read_once(&mut tcp, "a frame").await);
        }
    })
    .await;
}

#[tokio::test]
async fn refused_websockets_and_polling_answers_are_not_held() {
    let io = builder().ns("/", base_handlers()).build();
    let addr = serve_with_listen(&io).await;
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    // A bad key: refused before any hold is asked for.
    let bad = upgrade_request("").replace("dGhlIHNhbXBsZSBub25jZQ==", "short");
    tcp.write_all(bad.as_bytes()).await.expect("write");
    let got = read_once(&mut tcp, "the refusal").await;
    assert!(got.starts_with(b"HTTP/1.1 400"), "{:?}", String::from_utf8_lossy(&got));
    // An unknown sid: refused too, at once.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(upgrade_request("&sid=AAAAAAAAAAAAAAAAAAAA").as_bytes()).await.expect("write");
    let got = read_once(&mut tcp, "the refusal").await;
    assert!(got.starts_with(b"HTTP/1.1 400"), "{:?}", String::from_utf8_lossy(&got));
    // A polling answer is not held, and a direct WebSocket after it on the same connection
    // still gets its 101 with the open packet.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let got = read_once(&mut tcp, "a polling handshake").await;
    assert!(got.starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&got));
    tcp.write_all(upgrade_request("").as_bytes()).await.expect("write");
    let got = read_once(&mut tcp, "the 101").await;
    let (head, rest) = split_head(&got);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(rest.len() > 2 && rest[2..].starts_with(b"0{\"sid\":"), "{got:?}");
}

#[tokio::test]
async fn sockets_accepted_from_listen_have_nodelay() {
    let listener = sio_core::listen(SocketAddr::from(([127, 0, 0, 1], 0))).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let (_client, accepted) =
        within(T, "connect and accept", async { tokio::join!(TcpStream::connect(addr), listener.accept()) })
            .await;
    let (tcp, _) = accepted.expect("accept");
    if cfg!(target_os = "linux") {
        assert!(tcp.nodelay().expect("nodelay"), "inherited from the listener");
    }
}
