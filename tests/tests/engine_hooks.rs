//! The engine's hooks on the wire, as Node's engine.io has them: `connection_error` for every
//! refused request (codes 0-5, the client's answer unchanged), `headers` / `initial_headers`
//! (handshake only vs every answer, WebSocket 101s included), an async `allow_request`, the
//! session `cookie` (compared with Node's own Set-Cookie), and the client bundle served from a
//! directory (`serve_client_from`). Every refusal is followed by a normal client round trip.

mod common;

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use sio_core::engine::Forbidden;
use sio_core::{SameSite, Server, SessionCookie};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

/// What the `connection_error` hook heard of one refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Heard {
    code: u8,
    message: &'static str,
    context: Option<&'static str>,
    refusal: Option<String>,
    method: String,
    uri: String,
}

/// A builder whose `connection_error` hook reports on the returned channel.
fn with_error_log(b: sio_core::ServerBuilder) -> (sio_core::ServerBuilder, mpsc::UnboundedReceiver<Heard>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let b = b.connection_error(move |err| {
        let _ = tx.send(Heard {
            code: err.code().code(),
            message: err.message(),
            context: err.context(),
            refusal: err.refusal().map(str::to_owned),
            method: err.req().method.to_string(),
            uri: err.req().uri.to_string(),
        });
    });
    (b, rx)
}

/// The refusal a WebSocket handshake to `url` gets: status and body.
async fn ws_refusal(url: &str) -> (u16, String) {
    let err = within(T, "websocket refusal", tokio_tungstenite::connect_async(url))
        .await
        .expect_err("the WebSocket handshake must be refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned();
            (resp.status().as_u16(), body)
        }
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

/// A WebSocket client round trip and a polling one.
async fn round_trips(addr: SocketAddr) {
    assert_serves(addr).await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_error_hears_every_refusal_with_nodes_code_and_message() {
    let (b, mut heard) = with_error_log(
        builder()
            .allow_request(|req| !req.uri.query().unwrap_or_default().contains("deny=1"))
            .ns("/", base_handlers()),
    );
    let (_io, addr) = start(b).await;
    let base = base(addr);
    let http = reqwest::Client::new();
    let sid = "AAAAAAAAAAAAAAAAAAAA";

    // Each polling refusal: the client's answer is Node's, the hook hears code and message.
    let cases: [(reqwest::RequestBuilder, u16, u8, &str, Option<&str>); 6] = [
        (http.get(format!("{base}?EIO=4&transport=foo")), 400, 0, "Transport unknown", None),
        (http.get(format!("{base}?EIO=4&transport=polling&sid={sid}")), 400, 1, "Session ID unknown", None),
        (
            http.post(format!("{base}?EIO=4&transport=polling")).body("x"),
            400,
            2,
            "Bad handshake method",
            None,
        ),
        (
            http.get(format!("{base}?EIO=4&transport=websocket")),
            400,
            3,
            "Bad request",
            Some("TRANSPORT_HANDSHAKE_ERROR"),
        ),
        (http.get(format!("{base}?EIO=4&transport=polling&deny=1")), 403, 4, "Forbidden", None),
        (http.get(format!("{base}?EIO=3&transport=polling")), 400, 5, "Unsupported protocol version", None),
    ];
    for (req, status, code, message, context) in cases {
        let r = send(req).await;
        assert_engine_error(&r, status, code, message);
        let h = recv(&mut heard, "connection_error").await;
        assert_eq!(
            (h.code, h.message, h.context, h.refusal.as_deref()),
            (code, message, context, None),
            "{h:?}"
        );
        assert!(h.uri.starts_with("/socket.io/?EIO="), "the hook sees the request: {h:?}");
        round_trips(addr).await;
    }

    // A polling request to a WebSocket session: code 3, Node's TRANSPORT_MISMATCH.
    let ws = Ws::connect(addr).await;
    let r = get(&format!("{base}?EIO=4&transport=polling&sid={}", ws.sid())).await;
    assert_engine_error(&r, 400, 3, "Bad request");
    let h = recv(&mut heard, "connection_error").await;
    assert_eq!((h.code, h.context, h.method.as_str()), (3, Some("TRANSPORT_MISMATCH"), "GET"), "{h:?}");
    drop(ws);
    round_trips(addr).await;

    // WebSocket refusals: a plain-text 400 as Node's abortUpgrade, and the hook hears each.
    for (query, code, message) in [
        (format!("EIO=4&transport=websocket&sid={sid}"), 1, "Session ID unknown"),
        ("EIO=4&transport=websocket&deny=1".to_owned(), 4, "Forbidden"),
        ("EIO=3&transport=websocket".to_owned(), 5, "Unsupported protocol version"),
    ] {
        let (status, body) = ws_refusal(&format!("ws://{addr}/socket.io/?{query}")).await;
        assert_eq!((status, body.as_str()), (400, message));
        let h = recv(&mut heard, "connection_error").await;
        assert_eq!((h.code, h.message), (code, message), "{h:?}");
        round_trips(addr).await;
    }

    // Successful requests (the round trips above) were never reported.
    assert!(heard.try_recv().is_err(), "only refusals reach the hook");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_allow_request_refuses_with_its_message_and_accepts_the_rest() {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let (b, mut heard) = with_error_log(
        builder()
            .allow_request_async(move |req| {
                counter.fetch_add(1, Ordering::Relaxed);
                let query = req.uri.query().unwrap_or_default().to_owned();
                async move {
                    // A decision that awaits, as a database look-up would.
                    tokio::task::yield_now().await;
                    if query.contains("deny=plain") {
                        Err(Forbidden::new())
                    } else if query.contains("deny=") {
                        Err(Forbidden::with_message(r#"bad "token""#))
                    } else {
                        Ok(())
                    }
                }
            })
            .ns("/", base_handlers()),
    );
    let (_io, addr) = start(b).await;
    let base = base(addr);

    let r = get(&format!("{base}?EIO=4&transport=polling&deny=msg")).await;
    assert_eq!(r.status.as_u16(), 403);
    assert_eq!(r.body, r#"{"code":4,"message":"bad \"token\""}"#, "the refusal's message, JSON-escaped");
    let h = recv(&mut heard, "connection_error").await;
    // As Node: err.message stays "Forbidden", the user's message is in the context.
    assert_eq!((h.code, h.message, h.refusal.as_deref()), (4, "Forbidden", Some(r#"bad "token""#)));
    round_trips(addr).await;

    let r = get(&format!("{base}?EIO=4&transport=polling&deny=plain")).await;
    assert_engine_error(&r, 403, 4, "Forbidden");
    assert_eq!(recv(&mut heard, "connection_error").await.refusal, None);
    round_trips(addr).await;

    let (status, body) =
        ws_refusal(&format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&deny=msg")).await;
    assert_eq!((status, body.as_str()), (400, r#"bad "token""#));
    assert_eq!(recv(&mut heard, "connection_error").await.code, 4);
    round_trips(addr).await;

    // Accepted handshakes (the round trips) were asked; a session's later requests and its
    // upgrade are not asked again.
    let before = asked.load(Ordering::Relaxed);
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    p.post_ok("42[\"ack\"]").await;
    let _ = Ws::upgrade(addr, &p.sid).await;
    assert_eq!(asked.load(Ordering::Relaxed), before + 1, "one question per handshake");
    assert!(heard.try_recv().is_err(), "accepted handshakes are no connection errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_go_on_every_answer_and_initial_headers_on_the_handshake_only() {
    let b = builder()
        .initial_headers(|headers, req| {
            let echo = req.headers.get("x-req").cloned().unwrap_or(http::HeaderValue::from_static("none"));
            headers.insert("x-initial", echo);
        })
        .headers(|headers, req| {
            assert!(
                headers.contains_key("x-initial") == req.uri.query().is_some_and(|q| !q.contains("sid="))
            );
            headers.insert("x-every", http::HeaderValue::from_static("1"));
            // A name the engine sets too is replaced.
            headers.insert("cache-control", http::HeaderValue::from_static("no-store, private"));
        })
        .ns("/", base_handlers());
    let (_io, addr) = start(b).await;
    let base = base(addr);
    let http = reqwest::Client::new();

    // The polling handshake: both, the request seen by the hook.
    let r = send(http.get(format!("{base}?EIO=4&transport=polling")).header("x-req", "hello")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!((r.header("x-initial"), r.header("x-every")), (Some("hello"), Some("1")), "{r:?}");
    assert_eq!(r.headers.get_all("cache-control").iter().collect::<Vec<_>>(), ["no-store, private"]);
    let sid = parse_open(&r.body)["sid"].as_str().unwrap_or_default().to_owned();
    let url = format!("{base}?EIO=4&transport=polling&sid={sid}");

    // Later GETs and POSTs: `headers` only.
    let r = send(http.post(&url).body("40")).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!((r.header("x-initial"), r.header("x-every")), (None, Some("1")), "POST {r:?}");
    let r = send(http.get(&url)).await;
    assert!(r.body.starts_with("40"), "{r:?}");
    assert_eq!((r.header("x-initial"), r.header("x-every")), (None, Some("1")), "GET {r:?}");

    // The upgrade's 101: `headers` only.
    let (ws, resp) = within(
        T,
        "upgrade",
        tokio_tungstenite::connect_async(format!(
            "ws://{addr}/socket.io/?EIO=4&transport=websocket&sid={sid}"
        )),
    )
    .await
    .expect("upgrade");
    assert_eq!(resp.status().as_u16(), 101);
    assert_eq!(
        (resp.headers().get("x-initial"), resp.headers().get("x-every").map(|v| v.as_bytes())),
        (None, Some(&b"1"[..]))
    );
    drop(ws);

    // A direct WebSocket's 101: both.
    let (ws, resp) = within(
        T,
        "websocket",
        tokio_tungstenite::connect_async(format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")),
    )
    .await
    .expect("websocket");
    assert_eq!(resp.headers().get("x-initial").map(|v| v.as_bytes()), Some(&b"none"[..]));
    assert_eq!(resp.headers().get("x-every").map(|v| v.as_bytes()), Some(&b"1"[..]));
    drop(ws);

    // Refusals: neither, as in Node.
    let r = get(&format!("{base}?EIO=4&transport=foo")).await;
    assert_engine_error(&r, 400, 0, "Transport unknown");
    assert_eq!((r.header("x-initial"), r.header("x-every")), (None, None));
    round_trips(addr).await;
}

/// Node's Set-Cookie values (sid replaced by `<sid>`) for each cookie option set, from
/// `tests/js/cookie-reference.mjs` run against Node's socket.io 4.8.
async fn node_set_cookies(options: &serde_json::Value) -> Vec<Vec<String>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(
        dir.join("node_modules/socket.io").exists(),
        "tests/node_modules is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
    let child = tokio::process::Command::new("node")
        .arg("js/cookie-reference.mjs")
        .arg(options.to_string())
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed");
    let out = within(Duration::from_secs(60), "node cookie reference", child.wait_with_output())
        .await
        .expect("node ran");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON array")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_is_written_as_nodes_on_the_polling_handshake_only() {
    let cases: Vec<(serde_json::Value, Option<SessionCookie>)> = vec![
        (serde_json::json!(false), None),
        (serde_json::json!(true), Some(SessionCookie::new())),
        (
            serde_json::json!({ "name": "srv", "sameSite": "strict", "secure": true, "maxAge": 3600,
                                "domain": "example.com", "path": "/app" }),
            Some(
                SessionCookie::new()
                    .name("srv")
                    .same_site(SameSite::Strict)
                    .secure(true)
                    .max_age(Duration::from_secs(3600))
                    .domain("example.com")
                    .path("/app".to_owned()),
            ),
        ),
        (
            serde_json::json!({ "httpOnly": false, "sameSite": false, "path": false }),
            Some(SessionCookie::new().http_only(false).same_site(None).path(None)),
        ),
        (
            serde_json::json!({ "sameSite": "none", "secure": true, "partitioned": true }),
            Some(SessionCookie::new().same_site(SameSite::None).secure(true).partitioned(true)),
        ),
        (
            serde_json::json!({ "name": "lb", "expires": "Fri, 02 Jan 1970 00:00:00 GMT" }),
            Some(
                SessionCookie::new().name("lb").expires(std::time::UNIX_EPOCH + Duration::from_secs(86_400)),
            ),
        ),
    ];
    let node =
        node_set_cookies(&serde_json::Value::Array(cases.iter().map(|(o, _)| o.clone()).collect())).await;
    for ((options, cookie), expected) in cases.into_iter().zip(node) {
        let (_io, addr) = start(builder().cookie(cookie).ns("/", base_handlers())).await;
        let r = get(&format!("{}?EIO=4&transport=polling", base(addr))).await;
        let sid = parse_open(&r.body)["sid"].as_str().unwrap_or_default().to_owned();
        let ours: Vec<String> = r
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap_or_default().replace(&sid, "<sid>"))
            .collect();
        assert_eq!(ours, expected, "Set-Cookie for Node's cookie: {options}");

        // Not on the session's later answers, nor on a WebSocket's 101 (as Node).
        let later = send(
            reqwest::Client::new()
                .post(format!("{}?EIO=4&transport=polling&sid={sid}", base(addr)))
                .body("40"),
        )
        .await;
        assert!(later.header("set-cookie").is_none(), "{later:?}");
        let (_ws, resp) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/socket.io/?EIO=4&transport=websocket"))
                .await
                .expect("websocket");
        assert!(resp.headers().get("set-cookie").is_none(), "{resp:?}");
    }
}

fn client_dist() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/socket.io-client/dist");
    assert!(
        dir.exists(),
        "tests/node_modules is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
    dir
}

/// Sends `head` as is over a new connection; the status code of the answer.
async fn raw_status(addr: SocketAddr, head: &str) -> u16 {
    within(T, "raw HTTP request", async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(head.as_bytes()).await.expect("write");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before an answer: {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&got).lines().next().unwrap_or_default().to_owned();
        line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status line {line:?}"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_bundle_is_served_from_a_directory_with_etags_and_nothing_else() {
    let dir = client_dist();
    let (_io, addr) =
        start(builder().serve_client_from(&dir).expect("the dist directory").ns("/", base_handlers())).await;
    let base = base(addr);
    let http = reqwest::Client::new();

    for (name, content_type) in [
        ("socket.io.js", "application/javascript; charset=utf-8"),
        ("socket.io.min.js", "application/javascript; charset=utf-8"),
        ("socket.io.esm.min.js", "application/javascript; charset=utf-8"),
        ("socket.io.msgpack.min.js", "application/javascript; charset=utf-8"),
        ("socket.io.js.map", "application/json; charset=utf-8"),
        ("socket.io.min.js.map", "application/json; charset=utf-8"),
    ] {
        let r = send(http.get(format!("{base}{name}"))).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert_eq!(r.header("content-type"), Some(content_type), "{name}");
        assert_eq!(r.header("cache-control"), Some("public, max-age=0"), "{name}");
        assert_eq!(r.body.as_bytes(), std::fs::read(dir.join(name)).expect("file"), "{name} as on disk");
        let etag = r.header("etag").unwrap_or_else(|| panic!("{name} has an ETag")).to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "a quoted ETag: {etag}");
        for tag in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}")] {
            let r = send(http.get(format!("{base}{name}")).header("if-none-match", tag)).await;
            assert_eq!((r.status, r.body.as_str()), (StatusCode::NOT_MODIFIED, ""), "{name}");
        }
        let r = send(http.get(format!("{base}{name}")).header("if-none-match", "\"stale\"")).await;
        assert_eq!(r.status, StatusCode::OK, "{name} with a stale ETag");
    }

    // gzip for clients that take it, the same bytes once inflated.
    let r =
        within(T, "gzip", http.get(format!("{base}socket.io.js")).header("accept-encoding", "gzip").send())
            .await
            .expect("GET");
    assert_eq!(r.headers().get("content-encoding").map(|v| v.as_bytes()), Some(&b"gzip"[..]));
    let z = r.bytes().await.expect("body");
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&z[..]).read_to_end(&mut plain).expect("gunzip");
    assert_eq!(plain, std::fs::read(dir.join("socket.io.js")).expect("file"));

    // Only the fixed names: anything else under the path is not found, `..` reaches nothing.
    for name in ["socket.io.foo.js", "package.json", "socket.io.js.gz", "socket.io.JS", "socket.io.js/"] {
        let r = send(http.get(format!("{base}{name}"))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {r:?}");
    }
    for path in [
        "/socket.io/../Cargo.toml",
        "/socket.io/..%2FCargo.toml",
        "/socket.io/%2e%2e/%2e%2e/Cargo.toml",
        "/socket.io/socket.io.js/../../../Cargo.toml",
        "/socket.io/../node_modules/socket.io-client/dist/socket.io.js",
    ] {
        let status =
            raw_status(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await;
        assert!(status == 404 || status == 400, "{path}: {status}");
    }
    round_trips(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_bundle_through_the_layer_and_a_missing_directory_fails_at_build_time() {
    let io = Server::builder()
        .serve_client_from(client_dist())
        .expect("dist")
        .cors(sio_core::Cors::any())
        .ns("/", base_handlers())
        .build();
    let site = axum::Router::new().route("/", axum::routing::get(|| async { "site" }));
    let app = tower::Layer::layer(&io.layer(), site);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ =
            axum::serve(listener, axum::ServiceExt::<axum::extract::Request>::into_make_service(app)).await;
    });
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/socket.io/socket.io.esm.min.js");
    let r = send(http.get(&url).header("origin", "https://app.example")).await;
    assert_eq!(r.status, StatusCode::OK);
    // The server's CORS settings apply, as Node's cors middleware does to these files.
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"));
    // HEAD: the headers and the length of a GET, no body.
    let head = send(http.head(&url)).await;
    assert_eq!((head.status, head.body.as_str()), (StatusCode::OK, ""));
    assert_eq!(head.header("content-length"), Some(r.body.len().to_string().as_str()));
    assert_eq!(head.header("etag"), r.header("etag"));
    // Other methods are not allowed.
    let post = send(http.post(&url).body("x")).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get(&format!("http://{addr}/")).await.body, "site");
    assert_serves(addr).await;

    let err = Server::builder().serve_client_from("no/such/socket.io-client/dist").expect_err("missing");
    assert!(err.to_string().contains("no/such/socket.io-client/dist"), "{err}");
    assert_eq!(err.dir(), std::path::Path::new("no/such/socket.io-client/dist"));
    // A directory without the client is refused too.
    let err = Server::builder().serve_client_from(env!("CARGO_MANIFEST_DIR")).expect_err("no client there");
    assert!(err.to_string().contains("socket.io.js"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_error_hears_sios_own_refusals_too() {
    let (b, mut heard) = with_error_log(builder().max_connections(1).ns("/", base_handlers()));
    let (io, addr) = start(b).await;
    let mut first = Polling::handshake(addr).await;
    let r = get(&format!("{}?EIO=4&transport=polling", base(addr))).await;
    assert_engine_error(&r, 503, 7, "Too many connections");
    let h = recv(&mut heard, "connection_error").await;
    assert_eq!((h.code, h.message), (7, "Too many connections"));
    // The connection that holds the one place still works.
    first.connect_ns("/").await;

    assert!(io.shutdown(T).await, "shut down in time");
    let r = get(&format!("{}?EIO=4&transport=polling", base(addr))).await;
    assert_engine_error(&r, 503, 6, "Server shutting down");
    assert_eq!(recv(&mut heard, "connection_error").await.code, 6);
}
