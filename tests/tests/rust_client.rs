//! `sio-client` over real TCP against the interop contract's two servers: sio's
//! (`tests::interop`) and Node's socket.io 4.8 (`tests/js/reference-server.mjs`), over
//! WebSocket, long-polling and polling → WebSocket. The same test body runs against both.

use std::time::Duration;

use serde_json::{Value, json};
use sio_client::{Binary, DisconnectReason, Error, Event, Socket, Transport};
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(10);

/// Which server a test runs against.
#[derive(Debug, Clone, Copy)]
enum Peer {
    Sio,
    Node,
}

/// A server of the interop contract, kept alive while the test runs.
struct Server {
    url: String,
    _node: Option<tokio::process::Child>,
    _sio: Option<sio_core::Server>,
}

async fn start(peer: Peer, env: &[(&str, &str)]) -> Server {
    tests::init_tracing();
    match peer {
        Peer::Sio => {
            let io = tests::interop::server();
            let url = format!("http://{}", tests::serve(&io).await);
            Server { url, _node: None, _sio: Some(io) }
        }
        Peer::Node => {
            let (child, url) = tests::node::reference_server(env).await;
            Server { url, _node: Some(child), _sio: None }
        }
    }
}

/// Events of one name, as a channel.
fn events(
    builder: sio_client::SocketBuilder,
    name: &str,
) -> (sio_client::SocketBuilder, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (builder.on(name, move |ev| drop(tx.send(ev))), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(T, rx.recv()).await.expect("an event in time").expect("the channel is open")
}

fn transports(kind: &str) -> &'static [Transport] {
    match kind {
        "websocket" => &[Transport::WebSocket],
        "polling" => &[Transport::Polling],
        _ => &[Transport::Polling, Transport::WebSocket],
    }
}

/// Events, binary both ways, acks both ways, rooms, volatile, the server's disconnect.
async fn contract(peer: Peer, kind: &str) {
    let server = start(peer, &[]).await;
    let builder = Socket::builder(&server.url).transports(transports(kind));
    let (builder, mut echoes) = events(builder, "echo");
    let (builder, mut asks) = events(builder, "question");
    let (dtx, mut disconnects) = mpsc::unbounded_channel();
    let builder = builder.on_disconnect(move |_, reason| {
        let _ = dtx.send(reason);
    });
    let socket = builder.connect().await.expect("connects");
    assert!(socket.connected());
    assert!(socket.id().is_some_and(|id| !id.is_empty()));

    // An event with binary, echoed back with the same arguments.
    let payload = json!({"a": [1, "two", null], "z": 1.5, "b": true});
    socket.emit("echo", ("hi", Binary::from(vec![1u8, 2, 3]), &payload)).expect("emits");
    let ev = next(&mut echoes).await;
    let (text, bin, obj): (String, Binary, Value) = ev.args().expect("typed args");
    assert_eq!((text.as_str(), &bin.bytes()[..], obj), ("hi", &[1u8, 2, 3][..], payload.clone()));

    // Acks from the server, with binary.
    let reply: String = socket.emit_with_ack("ack", ("x", 2)).await.expect("an ack");
    assert_eq!(reply, "x");
    let reply: Binary =
        socket.emit_with_ack("ack", (Binary::from(vec![9u8; 1000]),)).await.expect("a binary ack");
    assert_eq!(reply.bytes().len(), 1000);
    let rooms: Vec<String> = socket.emit_with_ack("rooms", ()).await.expect("rooms");
    assert_eq!(rooms, vec![socket.id().expect("an id")]);

    // Acks to the server: it emits "question" and waits for our reply.
    let asked = socket.emit_with_ack::<_, Value>(
        "server-ack",
        (json!({"event": "question", "args": [7], "timeout": 5000}),),
    );
    let ev = next(&mut asks).await;
    assert!(ev.wants_ack());
    let (n,): (u32,) = ev.args().expect("an argument");
    ev.ack((n * 6, "sure")).expect("acks");
    assert!(ev.ack(()).is_err(), "a second ack is refused");
    assert_eq!(asked.await.expect("the server's answer"), json!({"ok": true, "reply": [42, "sure"]}));

    // Volatile: delivered while connected.
    socket.emit_volatile("echo", ("v",)).expect("emits");
    assert_eq!(next(&mut echoes).await.args::<(String,)>().expect("args").0, "v");

    // A server that never answers: a bounded, clear error.
    let silent =
        socket.timeout(Duration::from_millis(300)).emit_with_ack::<_, Value>("no-such-event", ()).await;
    assert_eq!(silent, Err(Error::Timeout("the ack")));
    // A reply of the wrong type.
    let wrong = socket.emit_with_ack::<_, u32>("ack", ("not a number",)).await;
    assert!(matches!(wrong, Err(Error::Serde(_))), "{wrong:?}");

    if kind == "upgrade" {
        tokio::time::timeout(T, async {
            while socket.transport() != Some(Transport::WebSocket) {
                let _: String = socket.emit_with_ack("ack", ("ping",)).await.expect("an ack");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("upgraded to websocket");
        let reply: String = socket.emit_with_ack("ack", ("after upgrade",)).await.expect("an ack");
        assert_eq!(reply, "after upgrade");
    }

    // The server disconnects the socket: no reconnection.
    socket.emit("disconnect-me", ()).expect("emits");
    let reason = tokio::time::timeout(T, disconnects.recv()).await.expect("in time").expect("a reason");
    assert_eq!(reason, DisconnectReason::IoServerDisconnect);
    assert!(!socket.connected());
    assert_eq!(socket.emit("echo", ()), Err(Error::Disconnected));
}

/// Several namespaces over one connection; auth, query and headers; refusals.
async fn namespaces(peer: Peer) {
    let server = start(peer, &[]).await;
    let root = Socket::builder(&server.url)
        .query("hello", "world")
        .extra_header(http::HeaderName::from_static("x-test"), http::HeaderValue::from_static("yes"))
        .connect()
        .await
        .expect("connects");
    let (builder, mut welcomes) = events(root.socket("/auth").auth(&json!({"token": "secret"})), "welcome");
    let auth = builder.connect().await.expect("/auth accepts the token");
    let (w,): (Value,) = next(&mut welcomes).await.args().expect("args");
    assert_eq!(w, json!({"token": "secret", "query": "world", "header": "yes"}));

    // A second connection for the refusal (one socket per namespace and connection).
    let refused =
        Socket::builder(&format!("{}/auth", server.url)).auth(&json!({"token": "wrong"})).connect().await;
    let Err(Error::ConnectRefused { message, data }) = refused else { panic!("refused: {refused:?}") };
    assert_eq!((message.as_str(), data), ("unauthorized", Some(json!({"reason": "bad token"}))));

    let invalid = root.socket("/nope").connect().await;
    assert!(
        matches!(&invalid, Err(Error::ConnectRefused { message, .. }) if message == "Invalid namespace"),
        "{invalid:?}"
    );

    let (builder, mut hellos) = events(root.socket("/dyn-42"), "hello");
    let dynamic = builder.connect().await.expect("a dynamic namespace");
    assert_eq!(next(&mut hellos).await.args::<(String,)>().expect("args").0, "/dyn-42");

    // Still one connection: an ack on each namespace.
    let r: String = root.emit_with_ack("ack", ("root",)).await.expect("an ack");
    assert_eq!(r, "root");
    assert!(auth.connected() && dynamic.connected());
    dynamic.disconnect();
    assert!(!dynamic.connected());
    let r: String = root.emit_with_ack("ack", ("still",)).await.expect("an ack");
    assert_eq!(r, "still");
}

/// A server that can be stopped and started again on the same port.
enum Restartable {
    Sio { stop: Option<tokio::sync::oneshot::Sender<()>>, done: Option<tokio::task::JoinHandle<()>> },
    Node(tokio::process::Child),
}

impl Restartable {
    async fn start(peer: Peer, port: u16, env: &[(&str, &str)]) -> (Self, String) {
        tests::init_tracing();
        match peer {
            Peer::Sio => {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
                let addr = listener.local_addr().expect("addr");
                let io = tests::interop::builder()
                    .connection_state_recovery(sio_core::RecoveryConfig::default())
                    .build();
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let app = io.router::<()>();
                let done = tokio::spawn(async move {
                    let shutdown = async move {
                        let _ = stopped.await;
                        io.shutdown(Duration::from_secs(2)).await;
                    };
                    let _ = sio_core::serve(listener, app).with_graceful_shutdown(shutdown).await;
                });
                (Restartable::Sio { stop: Some(stop), done: Some(done) }, format!("http://{addr}"))
            }
            Peer::Node => {
                let (child, url) = tests::node::reference_server_at(port, env).await;
                (Restartable::Node(child), url)
            }
        }
    }

    async fn stop(&mut self) {
        match self {
            Restartable::Sio { stop, done } => {
                if let Some(s) = stop.take() {
                    let _ = s.send(());
                }
                if let Some(d) = done.take() {
                    tokio::time::timeout(T, d).await.expect("the server stops in time").expect("no panic");
                }
            }
            Restartable::Node(child) => {
                child.kill().await.expect("kill node");
            }
        }
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port")
}

/// The server restarts: the client reconnects with backoff, the socket joins again with a new
/// id, and what was emitted meanwhile (the send buffer) is delivered.
async fn reconnects_after_a_restart(peer: Peer) {
    let (mut server, url) = Restartable::start(peer, 0, &[]).await;
    let (dtx, mut disconnects) = mpsc::unbounded_channel();
    let (ctx, mut connected) = mpsc::unbounded_channel();
    let (builder, mut echoes) = events(Socket::builder(&url), "echo");
    let socket = builder
        .transports(&[Transport::WebSocket])
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(200))
        .on_connect(move |s| {
            let _ = ctx.send(s.id());
        })
        .on_disconnect(move |_, reason| {
            let _ = dtx.send(reason);
        })
        .connect()
        .await
        .expect("connects");
    let first = tokio::time::timeout(T, connected.recv()).await.expect("in time").flatten().expect("an id");
    server.stop().await;
    let reason = tokio::time::timeout(T, disconnects.recv()).await.expect("in time").expect("a reason");
    assert!(reason.reconnects(), "{reason:?}");
    assert!(!socket.connected());
    // Emitted while disconnected: buffered, sent once connected again. Volatile: dropped.
    socket.emit("echo", ("buffered",)).expect("buffered");
    socket.emit_volatile("echo", ("volatile",)).expect("dropped");
    let (_server, _) = Restartable::start(peer, port_of(&url), &[]).await;
    let second = tokio::time::timeout(T, connected.recv())
        .await
        .expect("reconnected in time")
        .flatten()
        .expect("an id");
    assert_ne!(first, second);
    assert_eq!(next(&mut echoes).await.args::<(String,)>().expect("args").0, "buffered");
    let r: String = socket.emit_with_ack("ack", ("again",)).await.expect("an ack");
    assert_eq!(r, "again");
    assert!(echoes.try_recv().is_err(), "the volatile emit was dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_over_websocket() {
    contract(Peer::Sio, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_over_polling() {
    contract(Peer::Sio, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_over_polling_then_websocket() {
    contract(Peer::Sio, "upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_over_websocket() {
    contract(Peer::Node, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_over_polling() {
    contract(Peer::Node, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_over_polling_then_websocket() {
    contract(Peer::Node, "upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_namespaces() {
    namespaces(Peer::Sio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_namespaces() {
    namespaces(Peer::Node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_reconnection() {
    reconnects_after_a_restart(Peer::Sio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_reconnection() {
    reconnects_after_a_restart(Peer::Node).await;
}

/// Nothing listens: a clear error, in bounded time, and no retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_clear_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    for kind in ["websocket", "polling"] {
        let started = std::time::Instant::now();
        let r =
            Socket::builder(&format!("http://127.0.0.1:{port}")).transports(transports(kind)).connect().await;
        assert!(matches!(&r, Err(Error::Transport(_))), "{kind}: {r:?}");
        assert!(started.elapsed() < T, "{kind}");
    }
    // A server that accepts TCP and never answers: the handshake times out.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let r = Socket::builder(&url).timeout(Duration::from_millis(500)).connect().await;
    assert_eq!(r.err(), Some(Error::Timeout("the handshake")));
    keep.abort();
}
