//! The Redis emitter over a real Redis: sio's [`RedisEmitter`] to sio servers, to a Node
//! `socket.io` 4.8 server with `@socket.io/redis-adapter` 8.3, and Node's
//! `@socket.io/redis-emitter` 5.1 to a sio server (the last two in
//! `tests/js/emitter/emitter.test.mjs`, with a sio node started here); what it does when
//! Redis cannot be reached; and object keys crossing in the order they were written.
//!
//! Every test uses its own channel prefix, so they run in parallel on one Redis
//! (`REDIS_URL`, default `redis://127.0.0.1:6379`).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::cluster::{Client, OwnRedis, await_servers, free_port};
use common::{T, Ws, within};
use serde::Serialize;
use serde_json::{Value, json};
use sio_core::{Binary, Conn, Event, Handlers, NsHandle, Server};
use sio_redis::{EmitterConfig, EmitterError, RedisEmitter};
use tests::cluster;
use tokio::sync::mpsc;

/// An object whose keys are not in alphabetical order (a struct serializes in field order).
#[derive(Serialize)]
struct Unsorted {
    z: u8,
    a: u8,
    m: u8,
}

const UNSORTED: Unsorted = Unsorted { z: 1, a: 2, m: 3 };

async fn emitter(url: &str, prefix: &str) -> RedisEmitter {
    let config = EmitterConfig { key: prefix.to_owned(), ..Default::default() };
    match RedisEmitter::connect_with(url, config).await {
        Ok(e) => e,
        Err(e) => panic!("{e}\nThe emitter tests need a Redis server on 127.0.0.1:6379 (or REDIS_URL)."),
    }
}

fn rooms(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// Runs one emitter operation described by `cmd` (`tests/js/emitter/emitter.test.mjs`).
async fn run_emitter(emitter: &RedisEmitter, cmd: &Value) -> Result<(), EmitterError> {
    let emitter = emitter.of(cmd["nsp"].as_str().unwrap_or("/"));
    let mut op = emitter.all().to_all(rooms(&cmd["rooms"]));
    for room in rooms(&cmd["except"]) {
        op = op.except(room);
    }
    if cmd["volatile"].as_bool() == Some(true) {
        op = op.volatile();
    }
    if let Some(compress) = cmd["compress"].as_bool() {
        op = op.compress(compress);
    }
    let event = cmd["event"].as_str().unwrap_or("event");
    match cmd["action"].as_str().unwrap_or_default() {
        "emit" if cmd["binary"].as_bool() == Some(true) => {
            let nested = json!({ "nested": Binary::from(b"hi".to_vec()) });
            op.emit_args(event, (Binary::from(vec![7u8, 8, 9]), nested)).await
        }
        "emit" => op.emit(event, &cmd["data"]).await,
        "emit-unsorted" => op.emit(event, &UNSORTED).await,
        "join" => op.sockets_join(rooms(&cmd["targets"])).await,
        "leave" => op.sockets_leave(rooms(&cmd["targets"])).await,
        "disconnect" => op.disconnect_sockets(cmd["close"].as_bool() == Some(true)).await,
        "sse" => emitter.server_side_emit(event, (cmd["data"].clone(),)).await,
        other => panic!("unknown emitter action {other}"),
    }
}

/// A sio node serving `/` and `/admin`. On `/`, `cmd` runs `{op: "join" | "rooms" |
/// "emit-unsorted" | "emitter"}` and acknowledges the result (`emitter`: the operation of
/// [`run_emitter`] with `emitter`). Server-side events `note` go to the returned receiver
/// and, as `note-received`, to this node's clients.
fn node(
    adapter: sio_redis::RedisAdapter,
    emitter: Option<RedisEmitter>,
) -> (Server, mpsc::UnboundedReceiver<Value>) {
    let io = Server::builder()
        .adapter(adapter)
        .ns(
            "/",
            Handlers::new().on("cmd", move |conn: Conn, mut ev: Event| {
                let emitter = emitter.clone();
                async move {
                    let cmd: Value = ev.arg().unwrap_or_default();
                    let result = match cmd["op"].as_str().unwrap_or_default() {
                        "join" => {
                            conn.join(cmd["room"].as_str().unwrap_or_default());
                            json!(true)
                        }
                        "rooms" => {
                            let mut rooms: Vec<String> =
                                conn.rooms().iter().map(|r| r.as_str().to_owned()).collect();
                            rooms.sort();
                            json!(rooms)
                        }
                        "emit-unsorted" => json!(conn.namespace().all().emit("unsorted", &UNSORTED).is_ok()),
                        "emitter" => match &emitter {
                            Some(e) => match run_emitter(e, &cmd).await {
                                Ok(()) => json!(true),
                                Err(e) => json!({ "error": e.to_string() }),
                            },
                            None => json!({ "error": "no emitter" }),
                        },
                        other => json!({ "error": format!("unknown op {other}") }),
                    };
                    if let Some(ack) = ev.take_ack() {
                        let _ = ack.send(&result);
                    }
                }
            }),
        )
        .ns("/admin", Handlers::new())
        .build();
    let root = io.of("/").expect("namespace /");
    let (tx, rx) = mpsc::unbounded_channel();
    let local = root.clone();
    root.on_server_event("note", move |args, _| {
        let first: Value = args.get(0).and_then(Result::ok).unwrap_or_default();
        let _ = local.local().emit("note-received", &json!({ "node": "sio", "got": first }));
        let _ = tx.send(first);
    });
    (io, rx)
}

/// Waits until `ns` of every node counts `n` servers (its subscriptions are in place).
async fn await_namespace(io: &Server, nsp: &str, n: usize) {
    let ns: NsHandle = io.of(nsp).expect("namespace");
    within(Duration::from_secs(10), &format!("{n} servers on {nsp}"), async {
        while ns.server_count().await.ok() != Some(n) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A client of `/admin` (events only).
async fn admin_client(addr: SocketAddr) -> Client {
    let mut ws = Ws::connect(addr).await;
    let sid = ws.connect_ns("/admin").await;
    Client { ws, sid, next_id: 1, events: Vec::new() }
}

/// Polls the rooms of `c` until `pred` holds.
async fn until_rooms(c: &mut Client, what: &str, pred: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + T;
    loop {
        let rooms = rooms(&c.cmd(json!({"op": "rooms"})).await);
        if pred(&rooms) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: rooms {rooms:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_emitter_reaches_sio_servers() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("emitter-sio");
    let (a, mut notes_a) = node(cluster::adapter(&url, &prefix).await, None);
    let (b, mut notes_b) = node(cluster::adapter(&url, &prefix).await, None);
    let (addr_a, addr_b) = (tests::serve(&a).await, tests::serve(&b).await);
    for io in [&a, &b] {
        await_servers(io, 2).await;
        await_namespace(io, "/admin", 2).await;
    }
    let emitter = emitter(&url, &prefix).await;

    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    let mut c3 = Client::connect(addr_b).await;
    let mut admin = admin_client(addr_a).await;
    c1.cmd(json!({"op": "join", "room": "r"})).await;
    c2.cmd(json!({"op": "join", "room": "r"})).await;

    // To all, across both nodes.
    emitter.emit("hello", &json!({"n": 1})).await.expect("emit");
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("hello").await, json!([{"n": 1}]));
    }
    // Several arguments (the order of keys is checked by the JS suite, whose clients keep it).
    emitter.emit_args("two", (&UNSORTED, "x")).await.expect("emit_args");
    assert_eq!(c3.event("two").await, json!([{"z": 1, "a": 2, "m": 3}, "x"]));

    // To a room; except a room. A marker sent after each shows what did not arrive (one
    // connection to Redis, one subscriber per node: they arrive in order).
    emitter.to("r").emit("in-r", &1).await.expect("emit");
    emitter.emit("m1", &1).await.expect("emit");
    assert_eq!(c1.event("in-r").await, json!([1]));
    assert_eq!(c2.event("in-r").await, json!([1]));
    c3.event("m1").await;
    c3.no_event("in-r", Duration::ZERO).await;
    emitter.except("r").emit("not-r", &2).await.expect("emit");
    emitter.emit("m2", &2).await.expect("emit");
    assert_eq!(c3.event("not-r").await, json!([2]));
    for c in [&mut c1, &mut c2] {
        c.event("m2").await;
        c.no_event("not-r", Duration::ZERO).await;
    }

    // Another namespace; `/` clients do not get it.
    emitter.of("admin").emit("admin-news", &"hi").await.expect("emit");
    emitter.emit("m3", &3).await.expect("emit");
    assert_eq!(admin.event("admin-news").await, json!(["hi"]));
    c1.event("m3").await;
    c1.no_event("admin-news", Duration::ZERO).await;

    // Binary, top-level and nested; volatile and compress flags are accepted.
    let nested = json!({ "nested": Binary::from(b"hi".to_vec()) });
    emitter
        .volatile()
        .compress(true)
        .emit_args("bin", (Binary::from(vec![1u8, 2, 3]), nested))
        .await
        .expect("emit");
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("bin").await, json!([[1, 2, 3], {"nested": [104, 105]}]));
    }

    // socketsJoin then a room emit; socketsLeave then the room is empty.
    emitter.to("r").sockets_join(["r2", "r3"]).await.expect("join");
    emitter.to("r2").emit("in-r2", &1).await.expect("emit");
    emitter.emit("m4", &4).await.expect("emit");
    assert_eq!(c1.event("in-r2").await, json!([1]));
    assert_eq!(c2.event("in-r2").await, json!([1]));
    c3.event("m4").await;
    c3.no_event("in-r2", Duration::ZERO).await;
    until_rooms(&mut c1, "r2 and r3", |r| r.contains(&"r2".into()) && r.contains(&"r3".into())).await;
    emitter.sockets_leave(["r2"]).await.expect("leave");
    emitter.to("r2").emit("in-r2-again", &1).await.expect("emit");
    emitter.emit("m5", &5).await.expect("emit");
    for c in [&mut c1, &mut c2] {
        c.event("m5").await;
        c.no_event("in-r2-again", Duration::ZERO).await;
    }
    until_rooms(&mut c2, "r2 left, r3 kept", |r| !r.contains(&"r2".into()) && r.contains(&"r3".into())).await;

    // Server-side event: reaches `on_server_event` of both nodes.
    emitter.server_side_emit("note", (json!({"from": "emitter"}),)).await.expect("sse");
    for rx in [&mut notes_a, &mut notes_b] {
        let got = within(T, "server-side event", rx.recv()).await.expect("a note");
        assert_eq!(got, json!({"from": "emitter"}));
    }

    // disconnectSockets: those in r3 (c1, c2) leave `/`, c3 stays.
    emitter.in_("r3").disconnect_sockets(false).await.expect("disconnect");
    c1.disconnected("c1 disconnected by the emitter").await;
    c2.disconnected("c2 disconnected by the emitter").await;
    emitter.emit("still-here", &1).await.expect("emit");
    assert_eq!(c3.event("still-here").await, json!([1]));

    // Reserved names are refused before anything is sent.
    assert!(matches!(emitter.emit("disconnect", &()).await, Err(EmitterError::ReservedEvent(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitters_of_both_languages_reach_servers_of_both_languages() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("emitter-mixed");
    let (io, _notes) = node(cluster::adapter(&url, &prefix).await, Some(emitter(&url, &prefix).await));
    let addr = tests::serve(&io).await;
    cluster::run_node_suite("emitter", addr, &url, &prefix, 15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_is_a_clear_error_within_bounded_time() {
    tests::init_tracing();
    // Nothing listens on this port.
    let url = format!("redis://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let err = within(Duration::from_secs(10), "connect to fail", RedisEmitter::connect(&url))
        .await
        .expect_err("no Redis there");
    assert!(started.elapsed() < Duration::from_secs(6), "took {:?}", started.elapsed());
    assert!(matches!(err, EmitterError::Connect { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("cannot connect to Redis") && text.contains(&url), "{text}");
    assert!(std::error::Error::source(&err).is_some());

    assert!(matches!(RedisEmitter::connect("not a url").await, Err(EmitterError::Connect { .. })));

    // Redis goes away after the emitter connected: publishing fails, within the timeout,
    // and works again once Redis is back.
    let port = free_port();
    let mut redis = OwnRedis::start(port).await;
    let config = EmitterConfig { timeout: Duration::from_secs(2), ..Default::default() };
    let emitter = RedisEmitter::connect_with(&redis.url(), config).await.expect("connects");
    emitter.emit("up", &1).await.expect("publishes while Redis is up");
    redis.stop().await;
    let started = Instant::now();
    let err = within(Duration::from_secs(10), "publish to fail", emitter.emit("down", &1))
        .await
        .expect_err("Redis is down");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(err, EmitterError::Publish { .. } | EmitterError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("socket.io#/#"), "{err}");
    let _redis = OwnRedis::start(port).await;
    within(Duration::from_secs(10), "publishing again", async {
        while emitter.emit("back", &1).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}
