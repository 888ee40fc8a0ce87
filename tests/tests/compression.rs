//! Compression over real TCP: permessage-deflate (RFC 7692) negotiated with a hand-written
//! handshake and with socket.io-client 4.8 (node, `ws`), a deflate bomb, and gzip of
//! long-polling responses.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use sio_core::{HttpCompression, PerMessageDeflate};

const OFFER: &str = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// A client's side of permessage-deflate, with context takeover both ways.
struct ClientDeflate {
    out: Compress,
    inn: Decompress,
}

impl ClientDeflate {
    fn new() -> Self {
        Self { out: Compress::new(Compression::default(), false), inn: Decompress::new(false) }
    }

    /// A masked text frame with RSV1, the message deflated.
    fn text_frame(&mut self, text: &str) -> Vec<u8> {
        let mut z = Vec::with_capacity(text.len() + 64);
        self.out.compress_vec(text.as_bytes(), &mut z, FlushCompress::Sync).expect("deflate");
        assert!(z.ends_with(&[0, 0, 0xFF, 0xFF]));
        z.truncate(z.len() - 4);
        let mut f = masked(true, 1, &z);
        f[0] |= 0x40;
        f
    }

    fn inflate(&mut self, payload: &[u8]) -> String {
        let mut out = Vec::with_capacity(1 << 20);
        let input = [payload, &[0, 0, 0xFF, 0xFF]].concat();
        self.inn.decompress_vec(&input, &mut out, FlushDecompress::Sync).expect("inflate");
        String::from_utf8(out).expect("UTF-8")
    }
}

/// A WebSocket session that offered permessage-deflate; the 101's head, lower-cased.
async fn offer(addr: std::net::SocketAddr) -> (String, RawWs) {
    let (status, head, c) = RawWs::request_with(addr, "EIO=4&transport=websocket", WS_KEY, OFFER).await;
    assert_eq!(status, 101, "{head}");
    (head.to_ascii_lowercase(), c)
}

#[tokio::test]
async fn compressed_frames_above_the_threshold_plain_below() {
    let (_io, addr) =
        start(builder().per_message_deflate(PerMessageDeflate::default()).ns("/", base_handlers())).await;
    let (head, mut c) = offer(addr).await;
    assert!(head.contains("sec-websocket-extensions: permessage-deflate\r\n"), "{head}");
    let mut z = ClientDeflate::new();
    // The open packet and the CONNECT reply are short: plain frames.
    parse_open(&c.next_text().await);
    c.send(&masked(true, 1, b"40")).await;
    connect_reply_sid(&c.next_text().await, "40");
    for round in 0..3 {
        // A compressed event from the client; its ack (over 1024 bytes) comes back compressed.
        let big = format!("{round}{}", "compressible ".repeat(200));
        c.send(&z.text_frame(&format!(r#"421["ack","{big}"]"#))).await;
        let (b0, payload) = c.next_frame().await.expect("the ack");
        assert_eq!(b0, 0xC1, "FIN + RSV1 + text");
        assert!(payload.len() < 400, "2.6 KB of repeated text sent as {} bytes", payload.len());
        assert_eq!(z.inflate(&payload), format!(r#"431["{big}"]"#));
        // Below the threshold: plain, even when the client compressed it.
        c.send(&z.text_frame(r#"422["ack","small"]"#)).await;
        assert_eq!(c.next_frame().await, Some((0x81, br#"432["small"]"#.to_vec())));
        c.send(&masked(true, 1, br#"423["ack","plain"]"#)).await;
        assert_eq!(c.next_text().await, r#"433["plain"]"#);
    }
    assert_serves(addr).await;
}

#[tokio::test]
async fn without_the_option_the_extension_is_never_answered() {
    let (_io, addr) = start(builder().ns("/", base_handlers())).await;
    let (head, mut c) = offer(addr).await;
    assert!(!head.contains("sec-websocket-extensions"), "{head}");
    parse_open(&c.next_text().await);
    // So a compressed frame is a protocol error.
    let mut z = ClientDeflate::new();
    c.send(&z.text_frame("40")).await;
    assert_eq!(c.expect_close().await, 1002u16.to_be_bytes());
    // A declined offer (unknown parameter) goes on uncompressed, the same for a server with it.
    let (_io, addr) =
        start(builder().per_message_deflate(PerMessageDeflate::default()).ns("/", base_handlers())).await;
    let (status, head, mut c) = RawWs::request_with(
        addr,
        "EIO=4&transport=websocket",
        WS_KEY,
        "Sec-WebSocket-Extensions: permessage-deflate; x_unknown=1\r\n",
    )
    .await;
    assert_eq!(status, 101);
    assert!(!head.to_ascii_lowercase().contains("sec-websocket-extensions"), "{head}");
    parse_open(&c.next_text().await);
    c.send(&masked(true, 1, b"40")).await;
    connect_reply_sid(&c.next_text().await, "40");
    let big = "x".repeat(3000);
    c.send(&masked(true, 1, format!(r#"421["ack","{big}"]"#).as_bytes())).await;
    assert_eq!(c.next_text().await, format!(r#"431["{big}"]"#));
}

#[tokio::test]
async fn a_deflate_bomb_is_refused_within_max_payload() {
    let (_io, addr) = start(
        builder()
            .max_payload(100_000)
            .per_message_deflate(PerMessageDeflate::default())
            .ns("/", base_handlers()),
    )
    .await;
    let (_, mut c) = offer(addr).await;
    parse_open(&c.next_text().await);
    // 1 KB on the wire that inflates to 50 MB.
    let mut z = ClientDeflate::new();
    z.out = Compress::new(Compression::best(), false);
    let bomb = "a".repeat(50_000_000);
    let frame = z.text_frame(&bomb);
    assert!(frame.len() < 100_000, "{}", frame.len());
    c.send(&frame).await;
    assert_eq!(within(T, "the 1009 close", c.expect_close()).await, 1009u16.to_be_bytes());
    assert_serves(addr).await;
}

/// Raw bytes of a polling GET with `Accept-Encoding: gzip`.
async fn gzip_get(http: &reqwest::Client, url: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    within(T, "a GET", async {
        let r = http.get(url).header("accept-encoding", "gzip").send().await.expect("GET");
        assert_eq!(r.status(), 200);
        let headers = r.headers().clone();
        (headers, r.bytes().await.expect("body").to_vec())
    })
    .await
}

#[tokio::test]
async fn polling_answers_are_gzipped_above_1024_bytes() {
    let (_io, addr) = start(builder().ns("/", base_handlers())).await;
    let http = reqwest::Client::new();
    // The handshake is short: plain, but it says the answer varies by Accept-Encoding.
    let (h, body) = gzip_get(&http, &format!("{}?EIO=4&transport=polling", base(addr))).await;
    assert_eq!(h.get("content-encoding"), None);
    assert_eq!(h.get("vary").map(|v| v.to_str().unwrap_or_default()), Some("Accept-Encoding"));
    assert_eq!(h.get("cache-control").map(|v| v.to_str().unwrap_or_default()), Some("no-store"));
    let open = parse_open(std::str::from_utf8(&body).expect("text"));
    let mut p = Polling::handshake(addr).await;
    p.url = format!("{}?EIO=4&transport=polling&sid={}", base(addr), open["sid"].as_str().expect("sid"));
    p.post_ok("40").await;
    let (h, body) = gzip_get(&http, &p.url).await;
    assert_eq!(h.get("content-encoding"), None);
    connect_reply_sid(std::str::from_utf8(&body).expect("text"), "40");
    let big = "y".repeat(5000);
    p.post_ok(format!(r#"421["ack","{big}"]"#)).await;
    let (h, body) = gzip_get(&http, &p.url).await;
    assert_eq!(h.get("content-encoding").map(|v| v.to_str().unwrap_or_default()), Some("gzip"));
    assert!(body.len() < 200, "{} bytes", body.len());
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain).expect("gunzip");
    assert_eq!(plain, format!(r#"431["{big}"]"#));
    // Without Accept-Encoding, plain.
    p.post_ok(format!(r#"422["ack","{big}"]"#)).await;
    let r = p.get().await;
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, format!(r#"432["{big}"]"#));
    // deflate when only deflate is accepted.
    p.post_ok(format!(r#"423["ack","{big}"]"#)).await;
    let r =
        within(T, "GET", http.get(&p.url).header("accept-encoding", "deflate").send()).await.expect("GET");
    assert_eq!(r.headers().get("content-encoding").map(|v| v.to_str().unwrap_or_default()), Some("deflate"));
    let body = r.bytes().await.expect("body");
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::ZlibDecoder::new(&body[..]), &mut plain)
        .expect("inflate");
    assert_eq!(plain, format!(r#"433["{big}"]"#));
    assert_serves_polling(addr).await;
}

#[tokio::test]
async fn http_compression_can_be_turned_off() {
    let (_io, addr) = start(builder().http_compression(None).ns("/", base_handlers())).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    let big = "z".repeat(5000);
    p.post_ok(format!(r#"421["ack","{big}"]"#)).await;
    let (h, body) = gzip_get(&reqwest::Client::new(), &p.url).await;
    assert_eq!(h.get("content-encoding"), None);
    assert_eq!(h.get("vary"), None);
    assert_eq!(body, format!(r#"431["{big}"]"#).as_bytes());
    // A raised threshold leaves the same answer plain.
    let (_io, addr) = start(
        builder().http_compression(HttpCompression::default().threshold(10_000)).ns("/", base_handlers()),
    )
    .await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok(format!(r#"421["ack","{big}"]"#)).await;
    let (h, _) = gzip_get(&reqwest::Client::new(), &p.url).await;
    assert_eq!(h.get("content-encoding"), None);
}

/// socket.io-client 4.8 in node (its `ws` offers permessage-deflate and compresses messages
/// of 1 KB or more): the extension is agreed on, and large and small events and acks go
/// both ways, over websocket and over polling then upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_with_compression() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(
        dir.join("node_modules/socket.io-client").exists(),
        "tests/node_modules is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
    let (_io, addr) =
        start(builder().per_message_deflate(PerMessageDeflate::default()).ns("/", base_handlers())).await;
    const SCRIPT: &str = r#"
const { io } = require("socket.io-client");
const url = process.env.SIO_URL;
async function run(transports) {
  const socket = io(url, { transports, reconnection: false });
  await new Promise((ok, ko) => { socket.on("connect", ok); socket.on("connect_error", ko); });
  if (socket.io.engine.transport.name !== "websocket") {
    // The upgrade may have completed before "connect" fired.
    await new Promise((ok) => socket.io.engine.once("upgrade", ok));
  }
  const ext = socket.io.engine.transport.ws.extensions;
  if (!/permessage-deflate/.test(ext)) throw new Error("not negotiated: " + ext);
  for (const n of [10, 5000, 100000]) {
    const text = "payload ".repeat(n);
    const reply = await socket.timeout(5000).emitWithAck("ack", { text, n });
    if (reply.text !== text || reply.n !== n) throw new Error("bad ack for " + n);
  }
  socket.disconnect();
  return ext;
}
(async () => {
  console.log("websocket:", await run(["websocket"]));
  console.log("upgrade:", await run(["polling", "websocket"]));
})().catch((e) => { console.error(e); process.exit(1); });
"#;
    let child = tokio::process::Command::new("node")
        .args(["-e", SCRIPT])
        .current_dir(&dir)
        .env("SIO_URL", format!("http://{addr}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed");
    let out =
        within(Duration::from_secs(60), "the node client", child.wait_with_output()).await.expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("websocket: permessage-deflate") && stdout.contains("upgrade: permessage-deflate"),
        "{stdout}"
    );
}
