//! Operating a server: the Prometheus endpoint scraped under load (its values against
//! `Server::stats` and the load's own counts).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use sio_client::{Socket, Transport};
use sio_core::metrics::Metrics;
use sio_core::{Conn, Event, Handlers, Server};

const T: Duration = Duration::from_secs(10);

/// `name{labels} value` lines of an OpenMetrics text, by `name{labels}`.
fn parse(text: &str) -> HashMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "an OpenMetrics text ends with # EOF: {text}");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap_or_else(|| panic!("a sample line: {l}"));
            (k.to_owned(), v.parse().unwrap_or_else(|_| panic!("a number: {l}")))
        })
        .collect()
}

async fn scrape(http: &reqwest::Client, addr: SocketAddr) -> HashMap<String, f64> {
    let r = tokio::time::timeout(T, http.get(format!("http://{addr}/metrics")).send())
        .await
        .expect("scrape in time")
        .expect("scrape");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], sio_core::metrics::CONTENT_TYPE);
    parse(&r.text().await.expect("body"))
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key).unwrap_or_else(|| panic!("{key} missing from {m:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_scraped_under_load_match_stats_and_the_load() {
    tests::init_tracing();
    let metrics = Metrics::new();
    let handlers = Handlers::new().on("echo", |conn: Conn, mut ev: Event| async move {
        if ev.args::<(String,)>().is_ok_and(|(room,)| room.starts_with("room-")) {
            conn.join(ev.args::<(String,)>().map(|a| a.0).unwrap_or_default());
        }
        let args = ev.raw();
        if let Some(ack) = ev.take_ack() {
            let _ = ack.send_args(args);
        }
    });
    let io = Server::builder().metrics(&metrics).ns("/", handlers).ns("/other", Handlers::new()).build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = io.router::<()>().merge(metrics.router("/metrics"));
    tokio::spawn(async move {
        let _ = sio_core::serve(listener, app).await;
    });
    let http = reqwest::Client::new();

    // Before any client: zeros, and every family is present.
    let m = scrape(&http, addr).await;
    assert_eq!(get(&m, r#"socketio_connections{transport="websocket"}"#), 0.0);
    assert_eq!(get(&m, r#"socketio_sockets{namespace="/"}"#), 0.0);
    assert_eq!(get(&m, "socketio_messages_received_total"), 0.0);

    // The load: 12 clients (8 on WebSocket, 4 staying on polling), 200 acks each, 16 in flight,
    // scraped all along.
    const WS: usize = 8;
    const POLLING: usize = 4;
    const ACKS: usize = 200;
    let mut clients = Vec::new();
    for i in 0..WS + POLLING {
        let transports: &[Transport] = if i < WS { &[Transport::WebSocket] } else { &[Transport::Polling] };
        let s = Socket::builder(&format!("http://{addr}/"))
            .transports(transports)
            .connect()
            .await
            .expect("connect");
        clients.push(s);
    }
    let load = clients.iter().enumerate().map(|(i, s)| {
        let s = s.clone();
        let io = io.clone();
        async move {
            let mut done = 0;
            for batch in 0..ACKS / 10 {
                let acks = (0..10).map(|j| {
                    let payload =
                        if batch == 0 && j == 0 { format!("room-{}", i % 3) } else { format!("m{j}") };
                    let s = s.clone();
                    async move { s.emit_with_ack::<_, String>("echo", (payload,)).await }
                });
                for r in futures_util::future::join_all(acks).await {
                    if let Err(e) = r {
                        panic!(
                            "client {i} ({:?}), batch {batch}: ack: {e}; server: {:?}",
                            s.transport(),
                            io.stats()
                        );
                    }
                    done += 1;
                }
            }
            done
        }
    });
    let scraper = async {
        let mut last = 0.0;
        for _ in 0..20 {
            let m = scrape(&http, addr).await;
            let received = get(&m, "socketio_messages_received_total");
            assert!(received >= last, "a counter never goes down: {received} after {last}");
            last = received;
            tokio::task::yield_now().await;
        }
    };
    let (acked, ()) = tokio::join!(futures_util::future::join_all(load), scraper);
    let acked: usize = acked.iter().sum();
    assert_eq!(acked, (WS + POLLING) * ACKS);

    // At rest: the scrape and `io.stats()` agree, and both agree with the load. (A handler's
    // latency is recorded as it ends, just after its ack left: wait for the last ones.)
    let deadline = tokio::time::Instant::now() + T;
    let m = loop {
        let m = scrape(&http, addr).await;
        if get(&m, r#"socketio_handler_duration_seconds_count{namespace="/"}"#) == acked as f64 {
            break m;
        }
        assert!(tokio::time::Instant::now() < deadline, "latency samples missing: {m:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let stats = io.stats();
    assert_eq!(get(&m, r#"socketio_connections{transport="websocket"}"#), WS as f64);
    assert_eq!(get(&m, r#"socketio_connections{transport="polling"}"#), POLLING as f64);
    assert_eq!(stats.engine.websocket, WS);
    assert_eq!(get(&m, r#"socketio_sockets{namespace="/"}"#), (WS + POLLING) as f64);
    assert_eq!(get(&m, r#"socketio_sockets{namespace="/other"}"#), 0.0);
    assert_eq!(get(&m, r#"socketio_rooms{namespace="/"}"#), 3.0, "room-0, room-1, room-2");
    assert_eq!(get(&m, r#"socketio_acks_pending{namespace="/"}"#), 0.0);
    assert_eq!(get(&m, "socketio_connections_opened_total"), (WS + POLLING) as f64);
    assert_eq!(get(&m, "socketio_connections_opened_total"), stats.engine.opened as f64);
    // Every ack'd event and each client's CONNECT arrived as one message.
    let received = get(&m, "socketio_messages_received_total");
    assert!(received >= (acked + WS + POLLING) as f64, "{received}");
    assert_eq!(received, stats.engine.messages_in as f64);
    assert_eq!(get(&m, "socketio_received_bytes_total"), stats.engine.bytes_in as f64);
    assert!(stats.engine.bytes_in >= (acked * 12) as u64, "each event is at least [\"echo\",\"mX\"]");
    assert!(get(&m, "socketio_frames_sent_total") >= (acked + WS + POLLING) as f64);
    // Each ack `43N["mX"]` is at least 8 bytes.
    assert!(get(&m, "socketio_sent_bytes_total") >= (acked * 8) as f64);
    assert_eq!(get(&m, "socketio_sent_bytes_total"), stats.engine.bytes_out as f64);
    // One latency sample per handled event, each under the largest bucket.
    let handled = get(&m, r#"socketio_handler_duration_seconds_count{namespace="/"}"#);
    assert_eq!(handled, acked as f64);
    assert_eq!(get(&m, r#"socketio_handler_duration_seconds_bucket{le="10.0",namespace="/"}"#), handled);
    assert_eq!(get(&m, r#"socketio_adapter_requests_total{namespace="/"}"#), 0.0);

    // Close reasons: the clients leave; their transport closes are counted by reason.
    let closed_before = stats.engine.closed.iter().map(|(_, n)| n).sum::<u64>();
    assert_eq!(closed_before, 0);
    for s in &clients {
        s.disconnect();
    }
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let m = scrape(&http, addr).await;
        let closed: f64 = m
            .iter()
            .filter(|(k, _)| k.starts_with("socketio_connections_closed_total"))
            .map(|(_, v)| v)
            .sum();
        if closed == (WS + POLLING) as f64 {
            assert_eq!(get(&m, r#"socketio_sockets{namespace="/"}"#), 0.0);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "closes not counted in time: {m:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ------------------------------------------------------------------------------- the Admin UI

/// bcrypt("changeit"), as the Admin UI's README gives it.
const HASH: &str = "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS";

/// A sio server with the interop handlers and the Admin UI on.
async fn sio_admin_server(readonly: bool) -> String {
    let io = tests::interop::builder()
        .admin_ui(sio_core::admin::AdminUi::basic("admin", HASH).readonly(readonly))
        .build();
    format!("http://{}", tests::serve(&io).await)
}

type Events = tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>;

/// The admin namespace with `password`: every event it gets, as (name, args array).
async fn admin(url: &str, password: &str) -> Result<(Socket, Events), sio_client::Error> {
    admin_with(url, Some(serde_json::json!({ "username": "admin", "password": password }))).await
}

/// [`admin`] with any auth payload (none: no auth).
async fn admin_with(
    url: &str,
    auth: Option<serde_json::Value>,
) -> Result<(Socket, Events), sio_client::Error> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut builder =
        Socket::builder(&format!("{url}/admin")).transports(&[Transport::WebSocket]).reconnection(false);
    if let Some(auth) = auth {
        builder = builder.auth(&auth);
    }
    let socket = builder
        .on_any(move |ev| {
            let raw = ev.raw_args();
            let args = raw.json().map(|j| serde_json::from_str(j).unwrap_or_default()).collect();
            let _ = tx.send((ev.name().to_owned(), serde_json::Value::Array(args)));
        })
        .connect()
        .await?;
    Ok((socket, rx))
}

/// The next event named `name` whose arguments satisfy `pred` (others are skipped).
async fn next_event(
    rx: &mut Events,
    name: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    tokio::time::timeout(T, async {
        loop {
            let (n, args) = rx.recv().await.expect("admin events");
            if n == name && pred(&args) {
                return args;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {name} within {T:?}"))
}

/// A client of "/" at `url` (WebSocket, no reconnection): the socket, its id, and the
/// reasons it is disconnected for.
async fn watched_client(url: &str) -> (Socket, String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (gone_tx, gone) = tokio::sync::mpsc::unbounded_channel();
    let client = Socket::builder(&format!("{url}/"))
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .on_disconnect(move |_, reason| {
            let _ = gone_tx.send(reason.to_string());
        })
        .connect()
        .await
        .expect("client");
    let sid = client.id().expect("connected");
    (client, sid, gone)
}

/// What the Admin UI relies on, checked against a server at `url` (sio or Node's
/// `instrument`): the same assertions for both.
async fn admin_contract(url: &str, readonly: bool) {
    let (client, sid, mut gone) = watched_client(url).await;

    // A wrong password is refused with Node's message.
    match admin(url, "wrong").await {
        Err(sio_client::Error::ConnectRefused { message, .. }) => assert_eq!(message, "invalid credentials"),
        other => panic!("a wrong password must be refused: {:?}", other.map(|_| ())),
    }

    let (_admin, mut ev) = admin(url, "changeit").await.expect("the right password is accepted");
    let config = next_event(&mut ev, "config", |_| true).await;
    let features: Vec<String> =
        serde_json::from_value(config[0]["supportedFeatures"].clone()).expect("features");
    assert!(features.contains(&"ALL_EVENTS".to_owned()), "{features:?}");
    assert_eq!(features.contains(&"DISCONNECT".to_owned()), !readonly, "{features:?}");
    let all = next_event(&mut ev, "all_sockets", |_| true).await;
    let mine = all[0].as_array().expect("a list").iter().find(|s| s["id"] == sid.as_str()).cloned();
    let mine = mine.unwrap_or_else(|| panic!("{sid} not in {all}"));
    assert_eq!(mine["nsp"], "/");
    assert_eq!(mine["transport"], "websocket");
    assert_eq!(mine["clientId"].as_str().map(str::len), Some(12), "{mine}");
    assert!(mine["rooms"].as_array().is_some_and(|r| r.contains(&sid.as_str().into())), "{mine}");
    assert!(mine["handshake"]["headers"].is_object() && mine["handshake"]["auth"].is_null(), "{mine}");
    let stats = next_event(&mut ev, "server_stats", |_| true).await;
    let s = &stats[0];
    assert!(s["serverId"].is_string() && s["pid"].is_number() && s["uptime"].is_number(), "{s}");
    assert!(s["clientsCount"].as_u64() >= Some(2), "{s}");
    assert!(s["aggregatedEvents"].is_array(), "{s}");
    let root = s["namespaces"].as_array().and_then(|n| n.iter().find(|n| n["name"] == "/")).cloned();
    assert_eq!(root.map(|r| r["socketsCount"].clone()), Some(1.into()), "{s}");

    // The client's events, both ways ("echo" is answered with an "echo" event).
    client.emit("echo", ("hi", 1)).expect("send");
    let received = next_event(&mut ev, "event_received", |a| a[1] == sid.as_str()).await;
    assert_eq!(received[0], "/");
    assert_eq!(received[2], serde_json::json!(["echo", "hi", 1]));
    let sent = next_event(&mut ev, "event_sent", |a| a[1] == sid.as_str()).await;
    assert_eq!(sent[2], serde_json::json!(["echo", "hi", 1]));

    // The actions: a join, then a disconnect of that socket.
    _admin.emit("join", ("/", "from-admin", sid.as_str())).expect("send");
    _admin.emit("_disconnect", ("/", false, sid.as_str())).expect("send");
    if readonly {
        // Nothing happens: the next stats (2 s later) still count the socket.
        let stats = next_event(&mut ev, "server_stats", |_| true).await;
        let root =
            stats[0]["namespaces"].as_array().and_then(|n| n.iter().find(|n| n["name"] == "/")).cloned();
        assert_eq!(root.map(|r| r["socketsCount"].clone()), Some(1.into()), "{stats}");
        assert!(gone.try_recv().is_err(), "read-only: the client stays");
        return;
    }
    let joined = next_event(&mut ev, "room_joined", |a| a[1] == "from-admin").await;
    assert_eq!(joined[0], "/");
    assert_eq!(joined[2], sid.as_str());
    let left = next_event(&mut ev, "socket_disconnected", |a| a[1] == sid.as_str()).await;
    assert_eq!(left[2], "server namespace disconnect");
    let reason = tokio::time::timeout(T, gone.recv()).await.expect("disconnected in time").expect("reason");
    assert_eq!(reason, "io server disconnect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_ui_protocol_on_sio_as_on_node() {
    tests::init_tracing();
    let sio = sio_admin_server(false).await;
    admin_contract(&sio, false).await;
    let (_node, node) = tests::node::reference_server(&[("ADMIN_UI", &format!("admin:{HASH}"))]).await;
    admin_contract(&node, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_ui_read_only_refuses_actions_on_sio_as_on_node() {
    tests::init_tracing();
    let sio = sio_admin_server(true).await;
    admin_contract(&sio, true).await;
    let (_node, node) =
        tests::node::reference_server(&[("ADMIN_UI", &format!("admin:{HASH}")), ("ADMIN_READONLY", "1")])
            .await;
    admin_contract(&node, true).await;
}

/// Node's bench-contract server on Redis with `@socket.io/admin-ui` (no auth, `server_id`).
async fn node_cluster_server(prefix: &str, server_id: &str) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt as _;
    tests::node::require_package("@socket.io/admin-ui");
    let mut child = tokio::process::Command::new("node")
        .arg("bench-cluster-server.mjs")
        .current_dir(tests::node::js_dir())
        .env("PORT", "0")
        .env("SIO_ADAPTER", "redis")
        .env("REDIS_URL", tests::cluster::redis_url())
        .env("REDIS_KEY", prefix)
        .env("SIO_ADMIN_UI", "noauth")
        .env("SIO_ADMIN_SERVER_ID", server_id)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let line = tokio::time::timeout(T, lines.next_line()).await.expect("node listens in time").expect("read");
    let addr =
        line.and_then(|l| l.rsplit_once("listening on ").map(|(_, a)| a.to_owned())).expect("an address");
    (child, format!("http://{addr}"))
}

/// A client of "/" and a channel of its disconnect reasons.
async fn watched(url: &str) -> (Socket, String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let s = Socket::builder(&format!("{url}/"))
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .on_disconnect(move |_, reason| {
            let _ = tx.send(reason.to_string());
        })
        .connect()
        .await
        .expect("client");
    let id = s.id().expect("connected");
    (s, id, rx)
}

/// From an admin socket: the stats of both servers, and both clients in `all_sockets`.
async fn sees_the_cluster(ev: &mut Events, ids: [&str; 2], servers: [&str; 2]) {
    let all = next_event(ev, "all_sockets", |_| true).await;
    for id in ids {
        assert!(all[0].as_array().is_some_and(|l| l.iter().any(|s| s["id"] == id)), "{id} not in {all}");
    }
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 2 {
        let stats = next_event(ev, "server_stats", |_| true).await;
        let id = stats[0]["serverId"].as_str().unwrap_or_default().to_owned();
        assert!(servers.contains(&id.as_str()), "unexpected server {id}");
        seen.insert(id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_ui_sees_a_mixed_cluster_of_sio_and_node_through_redis() {
    tests::init_tracing();
    let url = tests::cluster::redis_url();
    let prefix = tests::cluster::unique_prefix("admin-ui");
    let io = Server::builder()
        .adapter(tests::cluster::adapter(&url, &prefix).await)
        .ns("/", Handlers::new())
        .admin_ui(sio_core::admin::AdminUi::no_auth().server_id("sio-1"))
        .build();
    let sio = format!("http://{}", tests::serve(&io).await);
    let (_node, node) = node_cluster_server(&prefix, "node-1").await;

    let (_a, a, mut a_gone) = watched(&sio).await;
    let (_b, b, mut b_gone) = watched(&node).await;
    // An admin on either server sees both servers and both clients.
    let (on_sio, mut sio_ev) = admin_with(&sio, None).await.expect("admin connects");
    sees_the_cluster(&mut sio_ev, [&a, &b], ["sio-1", "node-1"]).await;
    let (on_node, mut node_ev) = admin_with(&node, None).await.expect("admin connects");
    sees_the_cluster(&mut node_ev, [&a, &b], ["sio-1", "node-1"]).await;
    // Each disconnects the other server's client, through the adapter.
    on_node.emit("_disconnect", ("/", false, a.as_str())).expect("send");
    let reason = tokio::time::timeout(T, a_gone.recv()).await.expect("in time").expect("reason");
    assert_eq!(reason, "io server disconnect");
    next_event(&mut node_ev, "socket_disconnected", |x| x[1] == a.as_str()).await;
    on_sio.emit("_disconnect", ("/", false, b.as_str())).expect("send");
    let reason = tokio::time::timeout(T, b_gone.recv()).await.expect("in time").expect("reason");
    assert_eq!(reason, "io server disconnect");
    next_event(&mut sio_ev, "socket_disconnected", |x| x[1] == b.as_str()).await;
}

/// A flood of Admin UI logins is bounded: passwords are checked one at a time (bcrypt costs
/// tens of milliseconds of CPU each) and, with 8 already waiting, a login is refused at once
/// with "too many login attempts"; other clients are served meanwhile, and once the flood is
/// over the right password is accepted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_refused_beyond_its_bound_and_the_server_stays_responsive() {
    tests::init_tracing();
    let url = sio_admin_server(false).await;
    let client = Socket::builder(&format!("{url}/"))
        .transports(&[Transport::WebSocket])
        .reconnection(false)
        .connect()
        .await
        .expect("client");
    let started = std::time::Instant::now();
    let flood: Vec<_> = (0..40)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { admin(&url, "wrong").await.map(|_| ()) })
        })
        .collect();
    // Served while the logins wait.
    let r: String = tokio::time::timeout(T, client.emit_with_ack("ack", ("during",)))
        .await
        .expect("in time")
        .expect("an ack");
    assert_eq!(r, "during");
    let (mut busy, mut wrong) = (0, 0);
    for login in flood {
        match tokio::time::timeout(T, login).await.expect("in time").expect("task") {
            Err(sio_client::Error::ConnectRefused { message, .. })
                if message == "too many login attempts" =>
            {
                busy += 1;
            }
            Err(sio_client::Error::ConnectRefused { message, .. }) if message == "invalid credentials" => {
                wrong += 1;
            }
            other => panic!("a wrong password gave {other:?}"),
        }
    }
    tracing::info!(busy, wrong, elapsed = ?started.elapsed(), "login flood");
    assert!(busy > 0, "no login refused for the bound ({wrong} checked)");
    assert!(wrong >= 1 && busy + wrong == 40, "{busy} refused at once, {wrong} checked");
    let (_admin, mut ev) = admin(&url, "changeit").await.expect("the right password, after the flood");
    next_event(&mut ev, "config", |_| true).await;
}

/// Malformed Admin UI actions (wrong types, missing arguments, unknown namespaces) do
/// nothing: above all, a filter that is not a room or socket id never widens a disconnect to
/// the whole namespace. A valid action after them is carried out, the client is still there
/// and answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_admin_actions_do_nothing() {
    tests::init_tracing();
    let url = sio_admin_server(false).await;
    let (client, sid, mut gone) = watched_client(&url).await;
    let (admin, mut ev) = admin(&url, "changeit").await.expect("admin");
    next_event(&mut ev, "config", |_| true).await;
    use serde_json::json;
    let malformed = [
        ("_disconnect", json!(["/", false, 42])),
        ("_disconnect", json!(["/", true, { "room": sid }])),
        ("_disconnect", json!(["/", false, [sid]])),
        ("_disconnect", json!([42, false])),
        ("_disconnect", json!(["/nope", false])),
        ("_disconnect", json!([])),
        ("join", json!(["/", 42, sid])),
        ("join", json!(["/", "x", 42])),
        ("join", json!(["/"])),
        ("leave", json!(["/", ["x"], sid])),
        ("leave", json!([null, "x", sid])),
    ];
    for (action, args) in &malformed {
        let json = args.as_array().expect("an array").iter();
        let raw = json.map(|a| serde_json::value::to_raw_value(a).expect("raw")).collect();
        admin.emit(action, sio_client::RawArgs::new(raw, Vec::new())).expect("send");
    }
    admin.emit("join", ("/", "after", sid.as_str())).expect("send");
    let joined = next_event(&mut ev, "room_joined", |a| a[1] == "after").await;
    assert_eq!(joined[2], sid.as_str());
    assert!(gone.try_recv().is_err(), "a malformed action disconnected the client");
    assert!(client.connected());
    let r: String = client.emit_with_ack("ack", ("still here",)).await.expect("an ack");
    assert_eq!(r, "still here");
}
