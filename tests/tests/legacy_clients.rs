//! Engine.IO v3 clients (socket.io-client 2.5 and 1.7, from npm, driven by node: the suite in
//! `tests/js/legacy/`) against the interop server with `allow_eio3`, over websocket, polling
//! and polling→websocket upgrade; the same suite against Node's server (the reference, with
//! `allowEIO3`); and the wire details of the v3 protocol on raw connections.

mod common;

use std::time::Duration;

use common::*;

async fn run_suite(url: &str, client: &str, transports: &str) {
    tests::node::require_package("socket.io-client-v2");
    let env = [("SIO_URL", url), ("SIO_CLIENT", client), ("SIO_TRANSPORTS", transports)];
    tests::node::run_suite("legacy/", &env, Duration::from_secs(120), 8).await;
}

async fn against_sio(client: &str, transports: &str) {
    tests::init_tracing();
    let io = tests::interop::builder().allow_eio3(true).build();
    let addr = tests::serve(&io).await;
    run_suite(&format!("http://{addr}"), client, transports).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_over_websocket() {
    against_sio("v2", "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_over_polling() {
    against_sio("v2", "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_upgrading() {
    against_sio("v2", "polling,websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_1_over_websocket() {
    against_sio("v1", "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_1_over_polling() {
    against_sio("v1", "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_1_upgrading() {
    against_sio("v1", "polling,websocket").await;
}

/// The suite states Node's behaviour: it passes against Node's server too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_against_the_reference_server() {
    let (_node, url) = tests::node::reference_server(&[("SIO_ALLOW_EIO3", "1")]).await;
    for client in ["v2", "v1"] {
        run_suite(&url, client, "polling,websocket").await;
    }
}

// ------------------------------------------------------------------------- the v3 wire, raw

/// The interop server with `allow_eio3` and a short heartbeat.
async fn v3_server(ping: Duration) -> std::net::SocketAddr {
    let io = tests::interop::builder().allow_eio3(true).ping_interval(ping).ping_timeout(ping).build();
    tests::serve(&io).await
}

/// A raw v3 long-polling client.
struct V3Polling {
    http: reqwest::Client,
    url: String,
}

/// Splits a v3 text payload into packets, checking each UTF-16 length prefix.
fn v3_packets(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (len, tail) = rest.split_once(':').unwrap_or_else(|| panic!("no length prefix in {body:?}"));
        let units: usize = len.parse().unwrap_or_else(|_| panic!("bad length {len:?} in {body:?}"));
        let mut end = 0;
        let mut seen = 0;
        for c in tail.chars() {
            if seen == units {
                break;
            }
            seen += c.len_utf16();
            end += c.len_utf8();
        }
        assert_eq!(seen, units, "length prefix {units} of {body:?}");
        out.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

/// Splits a v3 binary payload into (is_text, bytes) packets.
fn v3_binary_packets(body: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let text = body[at] == 0;
        at += 1;
        let mut len = 0usize;
        while body[at] != 0xff {
            assert!(body[at] < 10, "length digit {} in {body:?}", body[at]);
            len = len * 10 + usize::from(body[at]);
            at += 1;
        }
        at += 1;
        out.push((text, body[at..at + len].to_vec()));
        at += len;
    }
    out
}

impl V3Polling {
    async fn handshake(addr: std::net::SocketAddr, b64: bool) -> (Self, serde_json::Value) {
        let http = reqwest::Client::new();
        let q = if b64 { "&b64=1" } else { "" };
        let r = send(http.get(format!("http://{addr}/socket.io/?EIO=3&transport=polling{q}"))).await;
        assert_eq!(r.status, 200, "v3 handshake: {r:?}");
        let packets = v3_packets(&r.body);
        let open = parse_open(&packets[0]);
        let url = format!(
            "http://{addr}/socket.io/?EIO=3&transport=polling{q}&sid={}",
            open["sid"].as_str().unwrap_or("")
        );
        (Self { http, url }, open)
    }

    async fn get_raw(&self) -> (u16, Option<String>, Vec<u8>) {
        within(T, "v3 GET", async {
            let r = self.http.get(&self.url).send().await.expect("GET");
            let status = r.status().as_u16();
            let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
            (status, ct, r.bytes().await.expect("body").to_vec())
        })
        .await
    }

    /// The packets of the next GET (text payload), noops skipped.
    async fn get(&self) -> Vec<String> {
        loop {
            let (status, _, body) = self.get_raw().await;
            assert_eq!(status, 200, "GET: {}", String::from_utf8_lossy(&body));
            let packets: Vec<String> = v3_packets(std::str::from_utf8(&body).expect("text payload"))
                .into_iter()
                .filter(|p| p != "6")
                .collect();
            if !packets.is_empty() {
                return packets;
            }
        }
    }

    async fn post(&self, body: impl Into<reqwest::Body>, binary: bool) -> Resp {
        let mut req = self.http.post(&self.url).body(body);
        if binary {
            req = req.header("content-type", "application/octet-stream");
        }
        send(req).await
    }

    async fn post_packets(&self, packets: &[&str]) {
        let body: String = packets.iter().map(|p| format!("{}:{p}", p.encode_utf16().count())).collect();
        let r = self.post(body, false).await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "ok"), "POST: {r:?}");
    }

    /// The first packet starting with `prefix`, in `seen` or in the GETs that follow (which
    /// become `seen`).
    async fn until(&self, seen: &mut Vec<String>, prefix: &str) -> String {
        loop {
            if let Some(p) = seen.iter().find(|p| p.starts_with(prefix)) {
                return p.clone();
            }
            *seen = self.get().await;
        }
    }

    /// The session was closed: a GET ends with a close packet, or the sid is unknown.
    async fn expect_gone(&self) {
        for _ in 0..3 {
            let (status, _, body) = self.get_raw().await;
            if status == 400 {
                return;
            }
            let body = String::from_utf8_lossy(&body).into_owned();
            assert!(body.ends_with(":1") || body.ends_with(":6"), "session still alive: {body:?}");
        }
        panic!("the session is still known after three GETs");
    }

    /// A full round trip: an event with an ack.
    async fn ack_round_trip(&self) {
        self.post_packets(&[r#"421["ack","round trip"]"#]).await;
        assert_eq!(self.get().await, vec![r#"431["round trip"]"#.to_owned()]);
    }
}

#[tokio::test]
async fn without_allow_eio3_v3_handshakes_are_refused_as_node_does() {
    let io = tests::interop::server();
    let addr = tests::serve(&io).await;
    for q in ["EIO=3&transport=polling", "transport=polling", "EIO=5&transport=polling"] {
        let r = get(&format!("http://{addr}/socket.io/?{q}")).await;
        assert_engine_error(&r, 400, 5, "Unsupported protocol version");
    }
}

#[tokio::test]
async fn v3_polling_handshake_implicit_connect_heartbeat_and_timeout() {
    let ping = Duration::from_millis(200);
    let addr = v3_server(ping).await;
    let (c, open) = V3Polling::handshake(addr, true).await;
    assert_eq!(open["pingInterval"], 200);
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    // In `/` without asking; the CONNECT reply has no sid.
    assert_eq!(c.get().await, vec!["40".to_owned()]);
    c.ack_round_trip().await;
    // The client pings; the server answers. Pinging keeps the session past several timeouts.
    let start = tokio::time::Instant::now();
    while start.elapsed() < ping * 4 {
        c.post_packets(&["2"]).await;
        assert_eq!(c.get().await, vec!["3".to_owned()]);
        tokio::time::sleep(ping / 2).await; // the client's own ping interval, not synchronisation
    }
    c.ack_round_trip().await;
    // A client that stops pinging is closed after pingInterval + pingTimeout: the waiting GET
    // ends with the close packet.
    let (status, _, body) = within(ping * 10, "the ping timeout", c.get_raw()).await;
    assert_eq!(status, 200);
    let packets = v3_packets(std::str::from_utf8(&body).expect("text"));
    assert_eq!(packets.last().map(String::as_str), Some("1"), "{packets:?}");
    assert!(start.elapsed() >= ping * 4 + ping, "closed before pingInterval + pingTimeout");
}

#[tokio::test]
async fn v3_a_pong_from_the_client_is_an_error() {
    let addr = v3_server(Duration::from_secs(5)).await;
    let (c, _) = V3Polling::handshake(addr, true).await;
    assert_eq!(c.get().await, vec!["40".to_owned()]);
    c.post_packets(&["3"]).await;
    c.expect_gone().await;
    let (fresh, _) = V3Polling::handshake(addr, true).await;
    assert_eq!(fresh.get().await, vec!["40".to_owned()]);
    fresh.ack_round_trip().await;
}

#[tokio::test]
async fn v3_polling_binary_as_base64_or_binary_payloads() {
    let addr = v3_server(Duration::from_secs(5)).await;
    let event = r#"451-["echo",{"_placeholder":true,"num":0}]"#;
    // b64: base64 packets in a text payload, both ways.
    let (c, _) = V3Polling::handshake(addr, true).await;
    assert_eq!(c.get().await, vec!["40".to_owned()]);
    c.post_packets(&[event, "b4AQID"]).await;
    let (_, ct, body) = c.get_raw().await;
    assert_eq!(ct.as_deref(), Some("text/plain; charset=UTF-8"));
    assert_eq!(
        v3_packets(std::str::from_utf8(&body).expect("text")),
        vec![event.to_owned(), "b4AQID".to_owned()]
    );
    // A binary-capable client gets the binary payload format, and may POST it.
    let (c, _) = V3Polling::handshake(addr, false).await;
    assert_eq!(c.get().await, vec!["40".to_owned()]);
    let mut body = vec![0u8];
    body.extend(event.len().to_string().bytes().map(|d| d - b'0'));
    body.push(0xff);
    body.extend_from_slice(event.as_bytes());
    body.extend_from_slice(&[1, 4, 0xff, 4, 1, 2, 255]);
    let r = c.post(body, true).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "ok"), "binary POST: {r:?}");
    let (_, ct, body) = c.get_raw().await;
    assert_eq!(ct.as_deref(), Some("application/octet-stream"));
    assert_eq!(
        v3_binary_packets(&body),
        vec![(true, event.as_bytes().to_vec()), (false, vec![4, 1, 2, 255])],
    );
}

#[tokio::test]
async fn v3_bad_payloads_close_the_session_and_others_go_on() {
    let addr = v3_server(Duration::from_secs(5)).await;
    let bad: [(&[u8], bool); 8] = [
        (b"abc", false),
        (b"5:4", false),
        (b"1:4x", false),
        (b"3:b9A", false),
        (b"4:b4!!", false),
        (b"99999999999999999999999:4", false),
        (&[0, 12, 0xff, b'4'], true),
        (&[1, 1, 0xff, 2], true),
    ];
    for (body, binary) in bad {
        let (c, _) = V3Polling::handshake(addr, false).await;
        assert_eq!(c.get().await, vec!["40".to_owned()]);
        let r = c.post(body.to_vec(), binary).await;
        assert_eq!(r.status.as_u16(), 400, "{body:?} was accepted");
        c.expect_gone().await;
    }
    let (fresh, _) = V3Polling::handshake(addr, true).await;
    assert_eq!(fresh.get().await, vec!["40".to_owned()]);
    fresh.ack_round_trip().await;
}

#[tokio::test]
async fn v3_websocket_binary_frames_carry_the_type_byte() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message as M;
    let addr = v3_server(Duration::from_secs(5)).await;
    let connect = || async {
        let mut ws = ws_connect_url(&format!("ws://{addr}/socket.io/?EIO=3&transport=websocket")).await;
        let mut next = async || within(T, "a v3 frame", ws.next()).await.expect("open").expect("frame");
        let open = next().await;
        parse_open(open.to_text().expect("text"));
        assert_eq!(next().await, M::text("40"));
        ws
    };
    let mut ws = connect().await;
    let event = r#"451-["echo",{"_placeholder":true,"num":0}]"#;
    ws.send(M::text(event)).await.expect("send");
    ws.send(M::binary(vec![4u8, 1, 2, 3])).await.expect("send");
    let mut next = async || within(T, "the echo", ws.next()).await.expect("open").expect("frame");
    assert_eq!(next().await, M::text(event));
    assert_eq!(next().await, M::binary(vec![4u8, 1, 2, 3]));
    // The client pings, the server pongs.
    ws.send(M::text("2")).await.expect("send");
    let mut next = async || within(T, "the pong", ws.next()).await.expect("open").expect("frame");
    assert_eq!(next().await, M::text("3"));
    // A binary frame without the message type byte is a parse error.
    ws.send(M::text(event)).await.expect("send");
    ws.send(M::binary(vec![1u8, 2, 3])).await.expect("send");
    let closed = within(T, "the close", async {
        loop {
            match ws.next().await {
                Some(Ok(M::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    });
    closed.await;
    let mut ws = connect().await;
    ws.send(M::text(r#"421["ack","x"]"#)).await.expect("send");
    let reply = within(T, "the ack", ws.next()).await.expect("open").expect("frame");
    assert_eq!(reply, M::text(r#"431["x"]"#));
}

#[tokio::test]
async fn v3_namespace_auth_comes_from_the_query_and_refusals_carry_the_data() {
    let addr = v3_server(Duration::from_secs(5)).await;
    let (c, _) = V3Polling::handshake(addr, true).await;
    assert_eq!(c.get().await, vec!["40".to_owned()]);
    c.post_packets(&["40/auth?token=nope,"]).await;
    assert_eq!(c.get().await, vec![r#"44/auth,{"reason":"bad token"}"#.to_owned()]);
    c.post_packets(&["40/auth?token=secret&x=%C3%A9,"]).await;
    let got = c.get().await;
    assert_eq!(got[0], "40/auth,");
    assert!(
        got.iter()
            .any(|p| p.starts_with(r#"42/auth,["welcome",{"header":null,"query":null,"token":"secret"}"#)),
        "{got:?}"
    );
    c.post_packets(&["40/nowhere,"]).await;
    assert_eq!(c.get().await, vec![r#"44/nowhere,{"message":"Invalid namespace"}"#.to_owned()]);
}

#[tokio::test]
async fn typed_namespace_handlers_serve_v3_clients_unchanged() {
    // The chat example's `#[namespace("/chat")]`: the `#[connect]` handler's typed auth comes
    // from the query, events deserialize into their types and return values are the acks.
    let io = sio_core::Server::builder().allow_eio3(true).namespace(examples::chat::Chat::default()).build();
    let addr = tests::serve(&io).await;
    let (c, _) = V3Polling::handshake(addr, true).await;
    // No `/` in this server: the implicit CONNECT is refused, as an unknown namespace is.
    assert_eq!(c.get().await, vec![r#"44{"message":"Invalid namespace"}"#.to_owned()]);
    c.post_packets(&["40/chat?name=,"]).await;
    assert_eq!(c.get().await, vec![r#"44/chat,"Pick a nickname (1 to 32 characters)""#.to_owned()]);
    c.post_packets(&["40/chat?name=ann,"]).await;
    let mut got = c.get().await;
    assert_eq!(got[0], "40/chat,");
    c.post_packets(&[r#"42/chat,1["join","lobby"]"#]).await;
    let ack = c.until(&mut got, "43/chat,1").await;
    assert_eq!(ack, "43/chat,1[[]]");
    c.post_packets(&[r#"42/chat,2["msg",{"room":"lobby","text":"hi"}]"#]).await;
    let ack = c.until(&mut got, "43/chat,2").await;
    let reply: serde_json::Value = serde_json::from_str(&ack["43/chat,2".len()..]).expect("ack JSON");
    assert!(reply[0]["id"].is_u64() && reply[0]["ts"].is_u64(), "a typed Delivered: {ack}");
    // A payload of the wrong type is refused by the typed handler, as for current clients.
    c.post_packets(&[r#"42/chat,3["msg",42]"#]).await;
    c.post_packets(&[r#"42/chat,4["members","lobby"]"#]).await;
    let ack = c.until(&mut got, "43/chat,4").await;
    assert_eq!(ack, r#"43/chat,4[["ann"]]"#);
}
