//! `sio-client` over real TCP against the interop contract's two servers: sio's
//! (`tests::interop`) and Node's socket.io 4.8 (`tests/js/reference-server.mjs`), over
//! WebSocket, long-polling and polling → WebSocket. The same test body runs against both.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// One test per server and variant, each running a test body above.
macro_rules! tests {
    ($($name:ident => $body:expr;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $body;
            }
        )*
    };
}

tests! {
    sio_over_websocket => contract(Peer::Sio, "websocket").await;
    sio_over_polling => contract(Peer::Sio, "polling").await;
    sio_over_polling_then_websocket => contract(Peer::Sio, "upgrade").await;
    node_over_websocket => contract(Peer::Node, "websocket").await;
    node_over_polling => contract(Peer::Node, "polling").await;
    node_over_polling_then_websocket => contract(Peer::Node, "upgrade").await;
    sio_namespaces => namespaces(Peer::Sio).await;
    node_namespaces => namespaces(Peer::Node).await;
    sio_reconnection => reconnects_after_a_restart(Peer::Sio).await;
    node_reconnection => reconnects_after_a_restart(Peer::Node).await;
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

/// A TCP proxy whose connections can be cut, and which can refuse new ones for a while: a
/// network failure between a client and a server that stays up.
struct Proxy {
    url: String,
    refusing: Arc<AtomicBool>,
    pipes: Arc<parking_lot::Mutex<Vec<Pipe>>>,
    changed: Arc<tokio::sync::Notify>,
    accept: tokio::task::JoinHandle<()>,
}

/// One proxied connection: its two copying tasks, and whether the client's last bytes are
/// still unanswered (a request in flight, e.g. a pending long-polling GET).
struct Pipe {
    tasks: [tokio::task::JoinHandle<()>; 2],
    awaiting_answer: Arc<AtomicBool>,
}

async fn copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    flag: Arc<AtomicBool>,
    value: bool,
    changed: Arc<tokio::sync::Notify>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        flag.store(value, Ordering::SeqCst);
        changed.notify_waiters();
    }
}

impl Proxy {
    async fn to(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let refusing = Arc::new(AtomicBool::new(false));
        let pipes = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let changed = Arc::new(tokio::sync::Notify::new());
        let (r, p, c) = (refusing.clone(), pipes.clone(), changed.clone());
        let accept = tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                if r.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(up) = tokio::net::TcpStream::connect(&upstream).await else { continue };
                let (down_r, down_w) = down.into_split();
                let (up_r, up_w) = up.into_split();
                let flag = Arc::new(AtomicBool::new(false));
                let tasks = [
                    tokio::spawn(copy(down_r, up_w, flag.clone(), true, c.clone())),
                    tokio::spawn(copy(up_r, down_w, flag.clone(), false, c.clone())),
                ];
                p.lock().push(Pipe { tasks, awaiting_answer: flag });
            }
        });
        Self { url, refusing, pipes, changed, accept }
    }

    /// Cuts every connection, and refuses new ones until [`Proxy::resume`]. With
    /// `in_flight` (long-polling), once a request is in flight, so the server sees it cut as
    /// it would a network failure then (between two requests, it would only notice at the
    /// ping timeout).
    async fn cut(&self, in_flight: bool) {
        tokio::time::timeout(T, async {
            if !in_flight {
                return;
            }
            loop {
                let changed = self.changed.notified();
                if self.pipes.lock().iter().any(|p| p.awaiting_answer.load(Ordering::SeqCst)) {
                    return;
                }
                changed.await;
            }
        })
        .await
        .expect("a request in flight");
        self.cut_now();
    }

    fn cut_now(&self) {
        self.refusing.store(true, Ordering::SeqCst);
        for pipe in self.pipes.lock().drain(..) {
            for t in pipe.tasks {
                t.abort();
            }
        }
    }

    fn resume(&self) {
        self.refusing.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_now();
    }
}

/// Connection state recovery: the connection drops, packets are sent to the socket's room
/// meanwhile, and the client gets its id, its rooms and the missed packets back, in order,
/// without the offsets among their arguments.
async fn recovers(peer: Peer, kind: &str) {
    let server = match peer {
        // A short heartbeat: a loss the server did not see at once (a polling request and
        // the cut crossing) is noticed within a second.
        Peer::Node => {
            start(peer, &[("RECOVERY_MS", "60000"), ("PING_INTERVAL_MS", "400"), ("PING_TIMEOUT_MS", "400")])
                .await
        }
        Peer::Sio => {
            tests::init_tracing();
            let io = tests::interop::builder()
                .connection_state_recovery(sio_core::RecoveryConfig::default())
                .ping_interval(Duration::from_millis(400))
                .ping_timeout(Duration::from_millis(400))
                .build();
            let url = format!("http://{}", tests::serve(&io).await);
            Server { url, _node: None, _sio: Some(io) }
        }
    };
    let proxy = Proxy::to(&server.url).await;
    let (ctx, mut connected) = mpsc::unbounded_channel();
    let (dtx, mut disconnects) = mpsc::unbounded_channel();
    let (builder, mut missed) = events(Socket::builder(&proxy.url), "missed");
    let a = builder
        .transports(transports(kind))
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(100))
        .on_connect(move |s| {
            let _ = ctx.send((s.id(), s.recovered()));
        })
        .on_disconnect(move |_, reason| {
            let _ = dtx.send(reason);
        })
        .connect()
        .await
        .expect("connects");
    let (id, recovered) =
        tokio::time::timeout(T, connected.recv()).await.expect("in time").expect("connected");
    assert!(!recovered);
    assert!(a.emit_with_ack::<_, bool>("join", ("r",)).await.expect("joins"));
    let b = Socket::connect_to(&server.url).await.expect("b connects");
    let send = |n: u32| {
        let b = b.clone();
        async move {
            let args = json!({"room": "r", "event": "missed", "args": [n, {"n": n}]});
            assert!(b.emit_with_ack::<_, bool>("to-room", (args,)).await.expect("sent"));
        }
    };
    send(1).await;
    let first = next(&mut missed).await;
    assert_eq!(first.raw_args().len(), 2, "no offset among the arguments: {first:?}");

    proxy.cut(kind == "polling").await;
    let reason = tokio::time::timeout(T, disconnects.recv()).await.expect("in time").expect("a reason");
    assert!(reason.reconnects(), "{reason:?}");
    // The server notices the loss: wait until it counts one socket.
    tokio::time::timeout(T, async {
        while b.emit_with_ack::<_, u32>("count", ()).await.expect("a count") != 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the server sees the socket gone");
    for n in 2..=4 {
        send(n).await;
    }
    proxy.resume();
    let (again, recovered) =
        tokio::time::timeout(T, connected.recv()).await.expect("in time").expect("reconnected");
    assert!(recovered, "recovered");
    assert!(a.recovered());
    assert_eq!(again, id, "the same id");
    for n in 2..=4 {
        let ev = next(&mut missed).await;
        let (got, obj): (u32, Value) = ev.args().expect("typed args");
        assert_eq!((got, obj), (n, json!({"n": n})));
        assert_eq!(ev.raw_args().len(), 2);
    }
    let me: Value = a.emit_with_ack("whoami", ()).await.expect("whoami");
    assert_eq!(me["recovered"], json!(true));
    assert!(me["rooms"].as_array().is_some_and(|r| r.contains(&json!("r"))), "{me}");
    // Live again: a new packet arrives once.
    send(5).await;
    assert_eq!(next(&mut missed).await.args::<(u32,)>().expect("args").0, 5);
    assert!(missed.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_recovery() {
    recovers(Peer::Sio, "polling").await;
    recovers(Peer::Sio, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_recovery() {
    recovers(Peer::Node, "websocket").await;
    recovers(Peer::Node, "polling").await;
}

/// A fake Engine.IO server over WebSocket: an open packet with the given heartbeat, a
/// `CONNECT` answer to the client's, then `script`; it never pings.
async fn fake_server(ping_ms: u64, script: Vec<tokio_tungstenite::tungstenite::Message>) -> String {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as M;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { return };
                let open = format!(
                    r#"0{{"sid":"fake","upgrades":[],"pingInterval":{ping_ms},"pingTimeout":{ping_ms},"maxPayload":1000000}}"#
                );
                if ws.send(M::text(open)).await.is_err() {
                    return;
                }
                while let Some(Ok(m)) = ws.next().await {
                    if m.to_text().is_ok_and(|t| t.starts_with("40")) {
                        let _ = ws.send(M::text(r#"40{"sid":"s1"}"#)).await;
                        for m in script.clone() {
                            let _ = ws.send(m).await;
                        }
                    }
                }
            });
        }
    });
    url
}

/// A client of a fake server (WebSocket, no reconnection), configured further by `tweak`:
/// the socket, and the reason it is disconnected for.
async fn fake_client(
    url: &str,
    tweak: impl FnOnce(sio_client::SocketBuilder) -> sio_client::SocketBuilder,
) -> (Socket, DisconnectReason) {
    let (dtx, mut disconnects) = mpsc::unbounded_channel();
    let builder = Socket::builder(url).transports(&[Transport::WebSocket]).reconnection(false).on_disconnect(
        move |_, r| {
            let _ = dtx.send(r);
        },
    );
    let socket = tweak(builder).connect().await.expect("connects");
    let reason = tokio::time::timeout(T, disconnects.recv()).await.expect("in time").expect("a reason");
    (socket, reason)
}

/// A server that stops pinging is found dead by the ping timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_a_ping_timeout() {
    tests::init_tracing();
    let url = fake_server(100, Vec::new()).await;
    let started = std::time::Instant::now();
    let (socket, reason) = fake_client(&url, |b| b).await;
    assert_eq!(reason, DisconnectReason::PingTimeout);
    assert!(started.elapsed() >= Duration::from_millis(200), "after pingInterval + pingTimeout");
    assert!(!socket.connected());
}

/// Malformed input from a server closes the connection as a parse error (the client then
/// reconnects, and gets the same junk again): never a panic, and the process goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_server_input_is_a_parse_error() {
    use tokio_tungstenite::tungstenite::Message as M;
    tests::init_tracing();
    let junk: Vec<Vec<M>> = vec![
        vec![M::text("")],
        vec![M::text("9")],
        vec![M::text("4")],
        vec![M::text("4x")],
        vec![M::text("42[")],
        vec![M::text("42{}")],
        vec![M::text("42[1]")],
        vec![M::text("43")],
        vec![M::text("451-[\"a\",{\"_placeholder\":true,\"num\":5}]")],
        vec![M::text("4999999999-[\"a\"]")],
        vec![M::binary(vec![1u8, 2, 3])],
        vec![M::text("451-[\"a\",{\"_placeholder\":true,\"num\":0}]"), M::text("42[\"b\"]")],
        vec![M::text("0{}")],
        vec![M::text("42/nope,[\"a\"]"), M::text("4\u{0}")],
    ];
    for script in junk {
        let url = fake_server(60_000, script.clone()).await;
        let (socket, reason) = fake_client(&url, |b| {
            b.on_any(|ev| {
                let _ = ev.raw_args();
            })
        })
        .await;
        assert_eq!(reason, DisconnectReason::ParseError, "{script:?}");
        assert!(!socket.connected());
    }
    // A refusal with an odd payload is still a refusal.
    let refused = fake_refusal(r#"44{"message":42}"#).await;
    assert!(matches!(refused, Err(Error::ConnectRefused { .. })), "{refused:?}");
    let refused = fake_refusal(r#"44[1]"#).await;
    assert!(
        matches!(refused, Err(Error::Protocol(_) | Error::Disconnected | Error::ConnectRefused { .. })),
        "{refused:?}"
    );
    // And a normal round trip after all that.
    let server = start(Peer::Sio, &[]).await;
    let socket = Socket::connect_to(&server.url).await.expect("connects");
    let r: String = socket.emit_with_ack("ack", ("fine",)).await.expect("an ack");
    assert_eq!(r, "fine");
}

/// A server that answers the client's `CONNECT` with `reply`.
async fn fake_refusal(reply: &'static str) -> Result<Socket, Error> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as M;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else { return };
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { return };
        let open = r#"0{"sid":"fake","upgrades":[],"pingInterval":60000,"pingTimeout":60000}"#;
        let _ = ws.send(M::text(open)).await;
        while let Some(Ok(_)) = ws.next().await {
            let _ = ws.send(M::text(reply)).await;
        }
    });
    ws_only(&url, Duration::from_secs(2)).await
}

/// A WebSocket-only client without reconnection, whose handshake may take `timeout`.
async fn ws_only(url: &str, timeout: Duration) -> Result<Socket, Error> {
    Socket::builder(url)
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .timeout(timeout)
        .connect()
        .await
}

/// The chat example's bot (`examples/chat_bot.rs`) answers a user in its room, against the
/// chat example's server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_bot_answers() {
    tests::init_tracing();
    let io = examples::chat::server();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = examples::chat::app(&io);
    tokio::spawn(async move {
        let _ = sio_core::serve(listener, app).await;
    });
    let bot = examples::bot::run(&url, "bot", "lobby").await.expect("the bot joins");
    // The nickname is taken now: the chat's refusal, with its data.
    let taken = examples::bot::run(&url, "bot", "lobby").await;
    assert!(
        matches!(&taken, Err(Error::ConnectRefused { message, data: Some(d) }) if message == "That nickname is taken" && d["name"] == "bot"),
        "{taken:?}"
    );
    let (builder, mut messages) =
        events(Socket::builder(&format!("{url}/chat")).auth(&json!({"name": "ann"})), "message");
    let ann = builder.connect().await.expect("ann connects");
    let _: Value = ann.emit_with_ack("join", ("lobby",)).await.expect("joins");
    let mut ask = async |text: &str| -> String {
        let delivered: Value =
            ann.emit_with_ack("msg", (json!({"room": "lobby", "text": text}),)).await.expect("sent");
        assert!(delivered["id"].is_u64(), "{delivered}");
        loop {
            let (m,): (examples::chat::Message,) = next(&mut messages).await.args().expect("a message");
            if m.name == "bot" {
                return m.text;
            }
        }
    };
    assert_eq!(ask("!ping").await, "pong, ann");
    assert_eq!(ask("!echo hello there").await, "hello there");
    assert_eq!(ask("!who").await, "ann, bot");
    bot.stop();
}

/// The typed client generated from `tests/shared-api`'s namespace, against that namespace
/// served by sio: typed calls and acks, server events read into the enum, a server event with
/// an ack answered by a typed handler.
async fn typed(kind: &str) {
    use shared_api::{Note, Notes, NotesClient, NotesEvent};
    tests::init_tracing();
    let io = sio_core::Server::builder().namespace(Notes::default()).build();
    let url = format!("http://{}", tests::serve(&io).await);
    let (tx, mut events) = mpsc::unbounded_channel();
    let alice = NotesClient::builder(&url)
        .configure(|b| b.transports(transports(kind)))
        .on_event(move |e| {
            let _ = tx.send(e);
        })
        .handle(NotesEvent::on_keep(|text: String| text.contains("keep")))
        .connect()
        .await
        .expect("alice connects");
    let bob = NotesClient::builder(&url)
        .configure(|b| b.transports(transports(kind)))
        .connect()
        .await
        .expect("bob");
    let note = |text: &str, pinned| Note { text: text.into(), pinned };
    assert_eq!(bob.add(note("keep me", false)).await, Ok(1));
    let event = tokio::time::timeout(T, events.recv()).await.expect("in time").expect("an event");
    assert_eq!(event, NotesEvent::Added(note("keep me", false)));
    assert_eq!(alice.add(note("drop me", true)).await, Ok(2));
    assert_eq!(bob.list().await, Ok(vec![note("drop me", true), note("keep me", false)]));
    // The server asks alice (a server event with an ack); her typed handler answers.
    assert_eq!(alice.review(0).await, Ok(Some(false)));
    assert_eq!(alice.review(0).await, Ok(Some(true)));
    assert_eq!(alice.review(5).await, Ok(None));
    assert_eq!(bob.list().await, Ok(vec![note("keep me", false)]));
    bob.clear().expect("emits");
    let event = tokio::time::timeout(T, events.recv()).await.expect("in time").expect("an event");
    assert_eq!(event, NotesEvent::Cleared);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_over_every_transport() {
    for kind in ["websocket", "polling", "upgrade"] {
        typed(kind).await;
    }
}

/// A server that sends more than `max_payload`, in one message or in one packet's
/// attachments, is refused (a parse error or a transport error), never buffered without
/// bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_server_input_is_refused() {
    use tokio_tungstenite::tungstenite::Message as M;
    tests::init_tracing();
    let big = || M::binary(vec![0u8; 40_000]);
    let scripts = vec![
        vec![M::text(format!("42[\"big\",\"{}\"]", "x".repeat(100_000)))],
        vec![
            M::text(
                "453-[\"a\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":2}]",
            ),
            big(),
            big(),
            big(),
        ],
    ];
    for script in scripts {
        let url = fake_server(60_000, script).await;
        let (got, mut events) = mpsc::unbounded_channel();
        let (_socket, reason) = fake_client(&url, |b| {
            b.max_payload(64_000).on_any(move |ev| {
                let _ = got.send(ev.name().to_owned());
            })
        })
        .await;
        assert!(
            matches!(reason, DisconnectReason::ParseError | DisconnectReason::TransportError),
            "{reason:?}"
        );
        assert!(events.try_recv().is_err(), "nothing delivered");
    }
}

/// A message that arrives while a send waits for the socket (the server is not reading) is
/// read while the send waits, as a browser reads while its `bufferedAmount` drains: here the
/// server reads nothing until the client has the message, so a client that read only after
/// its write would never get it (nothing else would wake it: no ping for a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_arrives_while_a_send_waits_is_read_while_it_waits() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message as M, protocol::WebSocketConfig};
    tests::init_tracing();
    // More than the loopback socket buffers on both sides take, so the client's write waits.
    const BIG: usize = 32 * 1024 * 1024;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let (read_tx, read_rx) = tokio::sync::oneshot::channel::<()>();
    let (got_tx, got_rx) = tokio::sync::oneshot::channel::<usize>();
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else { return };
        let config = WebSocketConfig::default().max_message_size(None).max_frame_size(None);
        let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await else { return };
        let open =
            r#"0{"sid":"s","upgrades":[],"pingInterval":60000,"pingTimeout":60000,"maxPayload":100000000}"#;
        let _ = ws.send(M::text(open)).await;
        while let Some(Ok(m)) = ws.next().await {
            if m.to_text().is_ok_and(|t| t.starts_with("40")) {
                let _ = ws.send(M::text(r#"40{"sid":"s1"}"#)).await;
                break;
            }
        }
        // Not reading until told; a message to the client, then (once the client has it)
        // everything it sent.
        let _ = go_rx.await;
        let _ = ws.send(M::text(r#"42["late",1]"#)).await;
        let _ = read_rx.await;
        while let Some(Ok(m)) = ws.next().await {
            if m.len() > BIG {
                let _ = got_tx.send(m.len());
                break;
            }
        }
        while ws.next().await.is_some() {}
    });
    let (tx, mut late) = mpsc::unbounded_channel();
    let socket = Socket::builder(&url)
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .on("late", move |ev| {
            let _ = tx.send(ev.args::<(u8,)>().map(|(n,)| n).unwrap_or(0));
        })
        .connect()
        .await
        .expect("connects");
    socket.emit("big", ("x".repeat(BIG),)).expect("queued");
    // Lets the client's write fill the buffers before the server answers. Not needed for the
    // assertion (the message must arrive whatever the order), only for the order that
    // exercises the wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = go_tx.send(());
    let n = tokio::time::timeout(Duration::from_secs(5), late.recv()).await;
    assert_eq!(n.ok().flatten(), Some(1), "the message was read within 5 s, while the send waits");
    let _ = read_tx.send(());
    let len = tokio::time::timeout(T, got_rx).await.expect("in time").expect("the server read it");
    assert!(len > BIG, "{len}");
    assert!(socket.connected());
}

/// How a raw server answers an upgrade request, given its key.
type Answer = Box<dyn FnOnce(&str) -> Vec<u8> + Send>;

/// A raw server for one connection: it reads the upgrade request, writes what `answer` makes
/// of its `Sec-WebSocket-Key`, then keeps everything the client sends until it closes (or
/// 5 s pass).
async fn raw_ws_server(
    answer: impl FnOnce(&str) -> Vec<u8> + Send + 'static,
) -> (String, tokio::sync::oneshot::Receiver<Vec<u8>>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else { return };
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let key = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("sec-websocket-key: ").or_else(|| l.strip_prefix("Sec-WebSocket-Key: "))
            })
            .unwrap_or("")
            .trim()
            .to_owned();
        let _ = tcp.write_all(&answer(&key)).await;
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut got)).await;
        let _ = tx.send(got);
    });
    (url, rx)
}

/// A `101 Switching Protocols` answer with `accept` and `extra` headers.
fn switching(accept: &str, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-accept: {accept}\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// The frames a client wrote, unmasked: (opcode, payload) each; panics on an unmasked one.
fn client_frames(mut wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while wire.len() >= 2 {
        let (b0, b1) = (wire[0], wire[1]);
        assert!(b1 & 0x80 != 0, "an unmasked frame from the client");
        let len = usize::from(b1 & 0x7F);
        assert!(len < 126, "short frames only here");
        let key = &wire[2..6];
        out.push((b0 & 0x0F, wire[6..6 + len].iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect()));
        wire = &wire[6 + len..];
    }
    out
}

/// A WebSocket handshake answered wrongly (RFC 6455 §4.1: a wrong accept key, no `Upgrade`,
/// an extension the client did not offer, not a 101) is a clear error, not a connection;
/// a masked frame from the server (§5.1) is answered with a masked close frame 1002. Then a
/// normal round trip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_websocket_handshakes_and_frames_are_clear_errors() {
    tests::init_tracing();
    let connect = |url: String| async move { ws_only(&url, Duration::from_secs(3)).await };
    let right = |key: &str| sio_core::__client::accept_key(key.as_bytes());
    let cases: Vec<(&str, Answer)> = vec![
        ("a wrong Sec-WebSocket-Accept", Box::new(|_: &str| switching("AAAAAAAAAAAAAAAAAAAAAAAAAAA=", ""))),
        (
            "no `Upgrade: websocket`",
            Box::new(move |k: &str| {
                format!("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nsec-websocket-accept: {}\r\n\r\n", right(k))
                    .into_bytes()
            }),
        ),
        (
            "an extension the client does not speak",
            Box::new(move |k: &str| switching(&right(k), "sec-websocket-extensions: permessage-deflate\r\n")),
        ),
        (
            "HTTP error: 400",
            Box::new(|_: &str| b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec()),
        ),
    ];
    for (what, answer) in cases {
        let (url, _) = raw_ws_server(answer).await;
        let r = tokio::time::timeout(T, connect(url)).await.expect("in time");
        match r {
            Err(e @ (Error::Protocol(_) | Error::Transport(_))) => {
                assert!(e.to_string().contains(what), "{what}: {e}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }

    // A good handshake and open packet, then a masked frame.
    let (url, written) = raw_ws_server(move |k| {
        let mut out = switching(&right(k), "");
        let open = br#"0{"sid":"raw","upgrades":[],"pingInterval":60000,"pingTimeout":60000}"#;
        out.extend_from_slice(&[0x81, open.len() as u8]);
        out.extend_from_slice(open);
        out.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'4' ^ 1, b'0' ^ 2]);
        out
    })
    .await;
    let r = tokio::time::timeout(T, connect(url)).await.expect("in time");
    assert!(r.is_err(), "connected through a masked server frame: {r:?}");
    let written = tokio::time::timeout(T, written).await.expect("in time").expect("the client's bytes");
    let frames = client_frames(&written);
    assert_eq!(frames.last(), Some(&(0x8, 1002u16.to_be_bytes().to_vec())), "{frames:?}");

    let server = start(Peer::Sio, &[]).await;
    let socket = connect(server.url.clone()).await.expect("connects");
    let r: String = socket.emit_with_ack("ack", ("fine",)).await.expect("an ack");
    assert_eq!(r, "fine");
}

/// A WebSocket ping from the server (a proxy's, say; Engine.IO pings are packets) is answered
/// with a pong carrying its payload at once (RFC 6455 §5.5.2), not with the client's next
/// packet: here the client has nothing else to send for a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_ping_from_the_server_is_answered_at_once() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    tests::init_tracing();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // Reads until `done` holds for what the client sent after the request head.
        async fn until(
            tcp: &mut tokio::net::TcpStream,
            got: &mut Vec<u8>,
            buf: &mut [u8],
            done: impl Fn(&[u8]) -> bool,
        ) {
            while !done(got) {
                let n = tcp.read(buf).await.expect("read");
                assert!(n > 0, "the client closed");
                got.extend_from_slice(&buf[..n]);
            }
        }
        until(&mut tcp, &mut got, &mut buf, |g| g.windows(4).any(|w| w == b"\r\n\r\n")).await;
        let head = String::from_utf8_lossy(&got).into_owned();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("sec-websocket-key: "))
            .expect("a key")
            .trim()
            .to_owned();
        let mut out = switching(&sio_core::__client::accept_key(key.as_bytes()), "");
        let open = br#"0{"sid":"raw","upgrades":[],"pingInterval":60000,"pingTimeout":60000}"#;
        out.extend_from_slice(&[0x81, open.len() as u8]);
        out.extend_from_slice(open);
        tcp.write_all(&out).await.expect("write");
        let end = got.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
        got.drain(..end);
        // The client's CONNECT, then the answer and a ping.
        until(&mut tcp, &mut got, &mut buf, |g| client_frames_complete(g).iter().any(|f| f.1 == b"40")).await;
        got.clear();
        let sid = br#"40{"sid":"s1"}"#;
        let mut out = vec![0x81, sid.len() as u8];
        out.extend_from_slice(sid);
        out.extend_from_slice(&[0x89, 2, b'h', b'i']);
        tcp.write_all(&out).await.expect("write");
        until(&mut tcp, &mut got, &mut buf, |g| client_frames_complete(g).iter().any(|f| f.0 == 0xA)).await;
        client_frames_complete(&got)
    });
    let socket = Socket::builder(&url)
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .connect()
        .await
        .expect("connects");
    let frames =
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("a pong in time").expect("server");
    assert_eq!(frames, vec![(0xA, b"hi".to_vec())]);
    drop(socket);
}

/// The whole frames at the start of what a client sent, unmasked (a partial one is left).
fn client_frames_complete(wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut whole = 0;
    while let [_, b1, ..] = wire[whole..] {
        let len = usize::from(b1 & 0x7F);
        if len >= 126 || wire.len() < whole + 6 + len {
            break;
        }
        whole += 6 + len;
    }
    client_frames(&wire[..whole])
}

/// Many acks in flight on one WebSocket, from tasks on both worker threads, never stall: a
/// reply that arrives while the connection's task is busy with an emit is read, not left in
/// the socket until the next ping. (A wake-up by the read that was spent on the outbox once
/// left replies unread: this failed in about 1 run of 4 of `operating.rs`'s metrics test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_acks_in_flight_never_stall() {
    let server = start(Peer::Sio, &[]).await;
    let socket = Socket::builder(&server.url)
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .ack_timeout(Duration::from_secs(3))
        .connect()
        .await
        .expect("connects");
    let workers: Vec<_> = (0..16)
        .map(|w| {
            let socket = socket.clone();
            tokio::spawn(async move {
                for i in 0..400u32 {
                    let r: u32 =
                        socket.emit_with_ack("ack", (i,)).await.map_err(|e| format!("{w}/{i}: {e}"))?;
                    if r != i {
                        return Err(format!("{w}/{i}: got {r}"));
                    }
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for w in workers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("in time")
            .expect("task")
            .expect("every ack");
    }
}
