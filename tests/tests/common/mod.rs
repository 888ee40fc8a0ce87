//! Shared helpers of the wire-level tests: bounded awaits, a long-polling client (reqwest), a
//! WebSocket client (tokio-tungstenite), servers with short timers, and small utilities
//! (base64, a seeded PRNG) so the tests depend on nothing the server uses.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::StatusCode;
use serde_json::Value;
use sio_core::engine::{CloseReason, Engine, EngineConfig, EngineHandler, Frame, Message, Session, Tasks};
use sio_core::{Conn, Event, Handlers, Server, ServerBuilder};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) mod cluster;
pub(crate) mod recovery;

/// Default bound of one await: generous for a loaded CI machine, short enough to fail fast.
pub(crate) const T: Duration = Duration::from_secs(5);

/// A WebSocket client connection.
pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Awaits `fut` for at most `d`, panicking with `what` on timeout.
pub(crate) async fn within<F: Future>(d: Duration, what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(d, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {d:?}: {what}"),
    }
}

/// Receives from `rx` within [`T`].
pub(crate) async fn recv<V>(rx: &mut mpsc::UnboundedReceiver<V>, what: &str) -> V {
    within(T, what, rx.recv()).await.unwrap_or_else(|| panic!("channel closed while waiting: {what}"))
}

// ------------------------------------------------------------------------------------ servers

/// Handlers of `/` that every test server has: `ack` acknowledges with its arguments.
pub(crate) fn base_handlers() -> Handlers {
    Handlers::new().on("ack", |_conn: Conn, mut ev: Event| async move {
        let args = ev.raw();
        if let Some(ack) = ev.take_ack() {
            let _ = ack.send_args(args);
        }
    })
}

/// A builder with timers long enough not to interfere (tests that need heartbeats set their own).
pub(crate) fn builder() -> ServerBuilder {
    Server::builder()
        .ping_interval(Duration::from_secs(10))
        .ping_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(10))
}

/// `handlers` with a disconnect handler that reports each reason on the returned channel.
pub(crate) fn log_disconnects(handlers: Handlers) -> (Handlers, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handlers = handlers.on_disconnect(move |_conn: Conn, reason| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(reason.as_str().to_owned());
        }
    });
    (handlers, rx)
}

/// Serves `io` (built from `b`) and returns its address.
pub(crate) async fn start(b: ServerBuilder) -> (Server, SocketAddr) {
    tests::init_tracing();
    let io = b.build();
    let addr = tests::serve(&io).await;
    (io, addr)
}

/// A server with the base handlers on `/` and a disconnect log.
pub(crate) async fn start_default() -> (Server, SocketAddr, mpsc::UnboundedReceiver<String>) {
    let (h, rx) = log_disconnects(base_handlers());
    let (io, addr) = start(builder().ns("/", h)).await;
    (io, addr, rx)
}

/// Bare Engine.IO: every message is echoed back unchanged.
pub(crate) struct Echo;

impl EngineHandler for Echo {
    type State = Arc<Session>;

    fn on_open(&self, session: &Arc<Session>, _req: &http::request::Parts) -> Arc<Session> {
        session.clone()
    }

    fn on_message(&self, session: &mut Arc<Session>, msg: Message, _tasks: &mut Tasks<'_, '_>) {
        let frame = match msg {
            Message::Text(t) => Frame::message(std::str::from_utf8(&t).unwrap_or_default()),
            Message::Binary(b) => Frame::Binary(b),
        };
        let _ = session.send(frame);
    }

    fn on_close(&self, _session: &mut Arc<Session>, _reason: CloseReason, _tasks: &mut Tasks<'_, '_>) {}
}

/// Serves a bare echo engine under `/engine.io/`.
pub(crate) async fn start_echo_engine(cfg: EngineConfig) -> SocketAddr {
    tests::init_tracing();
    let engine = Engine::new(EngineConfig { path: "/engine.io/".into(), ..cfg }, Echo);
    let app = axum::Router::new().route(
        "/engine.io/",
        axum::routing::any(move |req: axum::extract::Request| {
            let engine = engine.clone();
            async move { engine.handle(req).await }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

// --------------------------------------------------------------------------------------- HTTP

/// A plain HTTP answer.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `req` and reads the whole answer, within [`T`].
pub(crate) async fn send(req: reqwest::RequestBuilder) -> Resp {
    within(T, "HTTP request", async {
        let r = req.send().await.expect("HTTP request failed");
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.text().await.expect("HTTP body");
        Resp { status, headers, body }
    })
    .await
}

/// A GET of `url`.
pub(crate) async fn get(url: &str) -> Resp {
    send(reqwest::Client::new().get(url)).await
}

/// Asserts an Engine.IO error answer: status and the exact JSON body of the reference server.
pub(crate) fn assert_engine_error(r: &Resp, status: u16, code: u8, message: &str) {
    assert_eq!(r.status.as_u16(), status, "status of {r:?}");
    assert_eq!(r.body, format!(r#"{{"code":{code},"message":"{message}"}}"#), "body of {r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"), "content type of {r:?}");
}

/// `http://addr/socket.io/`.
pub(crate) fn base(addr: SocketAddr) -> String {
    format!("http://{addr}/socket.io/")
}

/// Checks the handshake packet `0{...}` and returns its JSON.
pub(crate) fn parse_open(packet: &str) -> Value {
    let json = packet.strip_prefix('0').unwrap_or_else(|| panic!("not an open packet: {packet:?}"));
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("open packet JSON {json:?}: {e}"));
    let sid = v["sid"].as_str().unwrap_or_else(|| panic!("no sid in {json}"));
    assert_eq!(sid.len(), 20, "sid {sid:?} has 20 characters");
    v
}

/// A long-polling Engine.IO client.
#[derive(Debug, Clone)]
pub(crate) struct Polling {
    pub(crate) http: reqwest::Client,
    /// The session URL (`...?EIO=4&transport=polling&sid=...`).
    pub(crate) url: String,
    pub(crate) sid: String,
    pub(crate) open: Value,
    /// Packets received but not consumed yet.
    buffered: std::collections::VecDeque<String>,
}

impl Polling {
    /// Handshakes at `base` (e.g. `http://addr/socket.io/`).
    pub(crate) async fn handshake_at(base: &str) -> Self {
        let http = reqwest::Client::new();
        let r = send(http.get(format!("{base}?EIO=4&transport=polling"))).await;
        assert_eq!(r.status, StatusCode::OK, "handshake: {r:?}");
        let open = parse_open(&r.body);
        let sid = open["sid"].as_str().unwrap_or_default().to_owned();
        let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
        Self { http, url, sid, open, buffered: Default::default() }
    }

    pub(crate) async fn handshake(addr: SocketAddr) -> Self {
        Self::handshake_at(&base(addr)).await
    }

    /// One GET, as is.
    pub(crate) async fn get(&self) -> Resp {
        send(self.http.get(&self.url)).await
    }

    /// One GET that must succeed; its packets.
    pub(crate) async fn get_packets(&self) -> Vec<String> {
        let r = self.get().await;
        assert_eq!(r.status, StatusCode::OK, "GET: {r:?}");
        r.body.split('\x1e').map(str::to_owned).collect()
    }

    /// One POST, as is.
    pub(crate) async fn post(&self, body: impl Into<reqwest::Body>) -> Resp {
        send(self.http.post(&self.url).body(body)).await
    }

    /// A POST that must be answered `200 ok`.
    pub(crate) async fn post_ok(&self, body: impl Into<reqwest::Body>) {
        let r = self.post(body).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"), "POST: {r:?}");
    }

    /// The next packet that is not a ping (pings are answered) or a noop.
    pub(crate) async fn recv(&mut self) -> String {
        loop {
            if let Some(p) = self.buffered.pop_front() {
                match p.as_str() {
                    "2" => self.post_ok("3").await,
                    "6" => {}
                    _ => return p,
                }
                continue;
            }
            let packets = self.get_packets().await;
            self.buffered.extend(packets);
        }
    }

    /// Joins namespace `nsp` (`/` or `/name`); returns the socket id of the CONNECT reply.
    pub(crate) async fn connect_ns(&mut self, nsp: &str) -> String {
        let (packet, prefix) = connect_packet(nsp);
        self.post_ok(packet).await;
        let reply = self.recv().await;
        connect_reply_sid(&reply, &prefix)
    }

    /// Asserts the session is closed: GETs end with a close (`1`) or noop (`6`) packet until the
    /// sid is unknown (400, code 1).
    pub(crate) async fn expect_gone(&self) {
        for _ in 0..3 {
            let r = self.get().await;
            if r.status == StatusCode::BAD_REQUEST {
                assert_engine_error(&r, 400, 1, "Session ID unknown");
                return;
            }
            assert_eq!(r.status, StatusCode::OK, "GET on a closing session: {r:?}");
            let last = r.body.rsplit('\x1e').next().unwrap_or_default();
            assert!(last == "1" || last == "6", "session still alive, GET returned {:?}", r.body);
        }
        panic!("the sid is still known after three GETs");
    }
}

/// `40` / `40/nsp,` and the prefix of the expected reply.
fn connect_packet(nsp: &str) -> (String, String) {
    if nsp == "/" { ("40".to_owned(), "40".to_owned()) } else { (format!("40{nsp},"), format!("40{nsp},")) }
}

/// Checks a CONNECT reply `40[/nsp,]{"sid":"<20 chars>"}` (and a `pid` with connection state
/// recovery, nothing else) and returns the sid.
pub(crate) fn connect_reply_sid(reply: &str, prefix: &str) -> String {
    let json = reply.strip_prefix(prefix).unwrap_or_else(|| panic!("expected {prefix}{{..}}, got {reply:?}"));
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("CONNECT reply {reply:?}: {e}"));
    let obj = v.as_object().unwrap_or_else(|| panic!("CONNECT reply {reply:?} is not an object"));
    let keys = usize::from(obj.contains_key("pid")) + 1;
    assert_eq!(obj.len(), keys, "CONNECT reply {reply:?} has only a sid (and a pid)");
    let sid = obj["sid"].as_str().unwrap_or_else(|| panic!("CONNECT reply {reply:?} has no sid"));
    assert_eq!(sid.len(), 20, "socket id {sid:?} has 20 characters");
    assert!(sid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "socket id {sid:?}");
    sid.to_owned()
}

// ---------------------------------------------------------------------------------- WebSocket

/// A WebSocket Engine.IO client.
#[derive(Debug)]
pub(crate) struct Ws {
    pub(crate) ws: WsStream,
    /// The handshake (`None` for an upgrade connection, which gets no open packet).
    pub(crate) open: Option<Value>,
}

/// Opens a WebSocket to `url` (the HTTP handshake must succeed).
pub(crate) async fn ws_connect_url(url: &str) -> WsStream {
    let (ws, resp) = within(T, "websocket connect", tokio_tungstenite::connect_async(url))
        .await
        .unwrap_or_else(|e| panic!("websocket connect to {url}: {e}"));
    assert_eq!(resp.status().as_u16(), 101);
    ws
}

impl Ws {
    /// A new WebSocket session at `path` (e.g. `/socket.io/`); reads the open packet.
    pub(crate) async fn connect_at(addr: SocketAddr, path: &str) -> Self {
        let ws = ws_connect_url(&format!("ws://{addr}{path}?EIO=4&transport=websocket")).await;
        let mut c = Self { ws, open: None };
        let first = c.recv_raw_text().await;
        c.open = Some(parse_open(&first));
        c
    }

    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        Self::connect_at(addr, "/socket.io/").await
    }

    /// A WebSocket upgrade of polling session `sid` (no handshake packet is read).
    pub(crate) async fn upgrade(addr: SocketAddr, sid: &str) -> Self {
        let ws = ws_connect_url(&format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&sid={sid}")).await;
        Self { ws, open: None }
    }

    pub(crate) fn sid(&self) -> &str {
        self.open.as_ref().and_then(|o| o["sid"].as_str()).unwrap_or_default()
    }

    pub(crate) async fn send(&mut self, text: &str) {
        within(T, "websocket send", self.ws.send(WsMessage::text(text)))
            .await
            .unwrap_or_else(|e| panic!("send {text:?}: {e}"));
    }

    pub(crate) async fn send_binary(&mut self, data: Vec<u8>) {
        within(T, "websocket send", self.ws.send(WsMessage::binary(data))).await.expect("send binary");
    }

    /// The next text or binary message as is (no ping handling); panics on close.
    pub(crate) async fn recv_raw(&mut self) -> WsMessage {
        loop {
            let m = within(T, "websocket message", self.ws.next()).await;
            match m {
                Some(Ok(m @ (WsMessage::Text(_) | WsMessage::Binary(_)))) => return m,
                Some(Ok(WsMessage::Close(f))) => {
                    panic!("websocket closed while a message was expected: {f:?}")
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("websocket failed while a message was expected: {e}"),
                None => panic!("websocket ended while a message was expected"),
            }
        }
    }

    pub(crate) async fn recv_raw_text(&mut self) -> String {
        match self.recv_raw().await {
            WsMessage::Text(t) => t.as_str().to_owned(),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    /// The next message other than a ping (pings are answered).
    pub(crate) async fn recv(&mut self) -> WsMessage {
        loop {
            match self.recv_raw().await {
                WsMessage::Text(t) if t.as_str() == "2" => self.send("3").await,
                m => return m,
            }
        }
    }

    /// The next text message other than a ping.
    pub(crate) async fn recv_text(&mut self) -> String {
        match self.recv().await {
            WsMessage::Text(t) => t.as_str().to_owned(),
            other => panic!("expected a text message, got {other:?}"),
        }
    }

    /// The next binary message.
    pub(crate) async fn recv_binary(&mut self) -> Vec<u8> {
        match self.recv().await {
            WsMessage::Binary(b) => b.to_vec(),
            other => panic!("expected a binary message, got {other:?}"),
        }
    }

    /// Joins namespace `nsp`; returns the socket id of the CONNECT reply.
    pub(crate) async fn connect_ns(&mut self, nsp: &str) -> String {
        let (packet, prefix) = connect_packet(nsp);
        self.send(&packet).await;
        let reply = self.recv_text().await;
        connect_reply_sid(&reply, &prefix)
    }

    /// Sends an event with ack id to `ack` and checks the acknowledgement.
    pub(crate) async fn ack_round_trip(&mut self, id: u64, payload: &str) {
        self.send(&format!(r#"42{id}["ack",{payload}]"#)).await;
        assert_eq!(self.recv_text().await, format!("43{id}[{payload}]"), "ack round trip");
    }

    /// Reads until the server closes the connection (close frame, end or reset), within `d`.
    /// Messages received meanwhile are returned.
    pub(crate) async fn expect_closed_within(&mut self, d: Duration) -> Vec<WsMessage> {
        let mut seen = Vec::new();
        within(d, "the server to close the websocket", async {
            loop {
                match self.ws.next().await {
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(m)) => seen.push(m),
                }
            }
        })
        .await;
        seen
    }

    pub(crate) async fn expect_closed(&mut self) -> Vec<WsMessage> {
        self.expect_closed_within(T).await
    }
}

/// Proves the server at `addr` still serves a normal client: a fresh WebSocket handshake, a
/// CONNECT to `/` and an event with ack round trip.
pub(crate) async fn assert_serves(addr: SocketAddr) {
    assert_serves_at(addr, "/socket.io/").await;
}

pub(crate) async fn assert_serves_at(addr: SocketAddr, path: &str) {
    let mut c = Ws::connect_at(addr, path).await;
    c.connect_ns("/").await;
    c.ack_round_trip(7, r#""still serving",{"n":1}"#).await;
    let _ = c.ws.close(None).await;
}

/// The same over long-polling.
pub(crate) async fn assert_serves_polling(addr: SocketAddr) {
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok(r#"429["ack","polling ok"]"#).await;
    assert_eq!(p.recv().await, r#"439["polling ok"]"#);
    p.post_ok("1").await;
}

// -------------------------------------------------------------------------- raw WebSocket

/// A valid `Sec-WebSocket-Key` (the example of RFC 6455 §1.3).
pub(crate) const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A client frame as a hostile client may build it: `opcode` (with any reserved bits wanted)
/// and the FIN bit, masked payload.
pub(crate) fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xFA, 0x21, 0x3D];
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A WebSocket client that writes raw bytes on a TCP stream after a hand-made upgrade
/// request, and reads the server's frames as they are.
#[derive(Debug)]
pub(crate) struct RawWs {
    pub(crate) tcp: TcpStream,
    /// Bytes read and not consumed yet.
    buf: Vec<u8>,
}

impl RawWs {
    /// Sends an upgrade request for `/socket.io/?<query>` with `key`; returns the answer's
    /// status and head, and the connection (whose frames follow a 101).
    pub(crate) async fn request(addr: SocketAddr, query: &str, key: &str) -> (u16, String, Self) {
        Self::request_with(addr, query, key, "").await
    }

    /// [`RawWs::request`] with `extra` header lines (each ending in `\r\n`).
    pub(crate) async fn request_with(
        addr: SocketAddr,
        query: &str,
        key: &str,
        extra: &str,
    ) -> (u16, String, Self) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut tcp = within(T, "tcp connect", TcpStream::connect(addr)).await.expect("connect");
        let req = format!(
            "GET /socket.io/?{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        );
        within(T, "write the upgrade request", tcp.write_all(req.as_bytes())).await.expect("write");
        let mut buf = Vec::new();
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 1024];
            let n = within(T, "the answer's head", tcp.read(&mut chunk)).await.expect("read");
            assert!(n > 0, "connection closed before the answer's head: {:?}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        buf.drain(..end);
        (status, head, Self { tcp, buf })
    }

    /// A new WebSocket session (its open packet read) that joined `/`.
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        let (status, head, mut c) = Self::request(addr, "EIO=4&transport=websocket", WS_KEY).await;
        assert_eq!(status, 101, "{head}");
        let head = head.to_ascii_lowercase();
        assert!(head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"), "{head}");
        let open = c.next_text().await;
        parse_open(&open);
        c.send(&masked(true, 1, b"40")).await;
        let reply = c.next_text().await;
        connect_reply_sid(&reply, "40");
        c
    }

    pub(crate) async fn send(&mut self, wire: &[u8]) {
        use tokio::io::AsyncWriteExt as _;
        within(T, "write frames", self.tcp.write_all(wire)).await.expect("write frames");
    }

    /// The next frame: its first byte and its payload; `None` at the end of the stream.
    pub(crate) async fn next_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        use tokio::io::AsyncReadExt as _;
        loop {
            if self.buf.len() >= 2 {
                assert_eq!(self.buf[1] & 0x80, 0, "server frames are not masked");
                let (len, at) = match self.buf[1] {
                    126 if self.buf.len() >= 4 => {
                        (usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])), 4)
                    }
                    127 if self.buf.len() >= 10 => {
                        let mut l = [0u8; 8];
                        l.copy_from_slice(&self.buf[2..10]);
                        (usize::try_from(u64::from_be_bytes(l)).expect("length"), 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (usize::from(n), 2),
                };
                if len != usize::MAX && self.buf.len() >= at + len {
                    let b0 = self.buf[0];
                    let payload = self.buf[at..at + len].to_vec();
                    self.buf.drain(..at + len);
                    return Some((b0, payload));
                }
            }
            let mut chunk = [0u8; 4096];
            let n = within(T, "a frame from the server", self.tcp.read(&mut chunk))
                .await
                .unwrap_or_else(|e| panic!("read failed (the server reset the connection?): {e}"));
            if n == 0 {
                assert!(self.buf.is_empty(), "the stream ended inside a frame: {:?}", self.buf);
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next text message (a single unfragmented frame), skipping pings.
    pub(crate) async fn next_text(&mut self) -> String {
        loop {
            match self.next_frame().await {
                Some((0x81, p)) => return String::from_utf8(p).expect("UTF-8 text"),
                Some((0x89, _)) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Reads until the server's close frame, which must be followed by the end of the stream
    /// (the server closed the TCP connection, rather than resetting it); returns the close
    /// frame's payload (the status code, big-endian, then the reason).
    pub(crate) async fn expect_close(&mut self) -> Vec<u8> {
        loop {
            match self.next_frame().await {
                Some((0x88, payload)) => {
                    assert_eq!(self.next_frame().await, None, "nothing follows the close frame");
                    return payload;
                }
                Some(_) => {}
                None => panic!("the connection ended without a close frame"),
            }
        }
    }
}

// ------------------------------------------------------------------------------- utilities

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 with padding.
pub(crate) fn b64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c).unwrap_or_else(|| panic!("invalid base64 {s:?}")) as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// A small seeded PRNG (xorshift64*), so fuzz runs are reproducible.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}
