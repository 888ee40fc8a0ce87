//! The PostgreSQL adapter over a real PostgreSQL (`DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`): two sio nodes sharing every cluster
//! operation, a payload above the notification threshold, the LISTEN connection killed and
//! restored, malformed notifications, and the Rust emitter. `postgres_mixed_cluster.rs` mixes
//! a sio node with a Node server. A restart of PostgreSQL itself runs on a PostgreSQL of the
//! test's own (a fresh cluster on a free port; Debian's postgresql binaries).
//!
//! Every test uses its own channel prefix and attachment table, and names its connections
//! (`application_name`) to find its own LISTEN backend.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::cluster::{Client, OwnPostgres, await_servers, free_port};
use common::within;
use serde_json::{Value, json};
use sio_core::{Binary, Server};
use tests::cluster;
use tests::postgres::{self as pg, Names};

async fn node(url: &str, names: &Names, name: &'static str) -> (Server, SocketAddr) {
    let io = cluster::server(pg::adapter(url, pg::config(names)).await, name);
    let addr = tests::serve(&io).await;
    (io, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_broadcasts_rooms_acks_and_server_events() {
    tests::init_tracing();
    let url = pg::database_url();
    let names = pg::unique("two");
    let (a, addr_a) = node(&url, &names, "a").await;
    let (b, addr_b) = node(&url, &names, "b").await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;

    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    let mut c3 = Client::connect(addr_b).await;
    assert_eq!(c1.cmd(json!({"op": "count"})).await, json!(2));
    assert_eq!(c3.cmd(json!({"op": "count"})).await, json!(2));

    // Broadcasts from either node reach every client, binary included (through the table).
    assert_eq!(c1.cmd(json!({"op": "emit", "event": "hello", "data": {"n": 1}})).await, json!(true));
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("hello").await, json!([{"n": 1}]));
    }
    c2.cmd(json!({"op": "emit", "event": "bin", "data": "x", "binary": true})).await;
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("bin").await, json!(["x", [1, 2, 3]]));
    }
    // Above the 8,000-byte threshold: stored in the table, read back by the other node.
    let big = "é".repeat(6000);
    c1.cmd(json!({"op": "emit", "event": "big", "data": big})).await;
    assert_eq!(c2.event("big").await, json!([big]));
    assert_eq!(c3.event("big").await, json!([big]));
    // `broadcast`: everyone but the sender, across nodes.
    c3.cmd(json!({"op": "broadcast", "event": "not-me", "data": 3})).await;
    assert_eq!(c1.event("not-me").await, json!([3]));
    assert_eq!(c2.event("not-me").await, json!([3]));
    c3.no_event("not-me", Duration::from_millis(300)).await;

    // Rooms, a socket id, except, local.
    c1.cmd(json!({"op": "join", "room": "r"})).await;
    c2.cmd(json!({"op": "join", "room": "r"})).await;
    c3.cmd(json!({"op": "emit", "rooms": ["r"], "event": "in-r", "data": 1})).await;
    assert_eq!(c1.event("in-r").await, json!([1]));
    assert_eq!(c2.event("in-r").await, json!([1]));
    c1.cmd(json!({"op": "emit", "rooms": [c3.sid], "event": "to-c3", "data": 4})).await;
    assert_eq!(c3.event("to-c3").await, json!([4]));
    c3.cmd(json!({"op": "emit", "except": ["r"], "event": "not-r", "data": 2})).await;
    assert_eq!(c3.event("not-r").await, json!([2]));
    c1.cmd(json!({"op": "emit", "local": true, "event": "local-only", "data": 0})).await;
    assert_eq!(c1.event("local-only").await, json!([0]));
    c3.no_event("in-r", Duration::from_millis(300)).await;
    c2.no_event("not-r", Duration::from_millis(1)).await;
    c2.no_event("local-only", Duration::from_millis(1)).await;
    c2.no_event("to-c3", Duration::from_millis(1)).await;
    c1.no_event("not-r", Duration::from_millis(1)).await;

    // fetch_sockets sees the sockets of both nodes with their rooms.
    let fetched = c1.cmd(json!({"op": "fetch", "rooms": ["r"]})).await;
    let mut ids: Vec<&str> =
        fetched["sockets"].as_array().expect("sockets").iter().filter_map(|s| s["id"].as_str()).collect();
    ids.sort_unstable();
    let mut want = vec![c1.sid.as_str(), c2.sid.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "{fetched}");
    let remote = fetched["sockets"].as_array().expect("sockets").iter().find(|s| s["id"] == c2.sid.as_str());
    assert_eq!(remote.map(|s| s["rooms"].clone()), Some(json!([c2.sid, "r"])), "{fetched}");
    assert_eq!(
        c3.cmd(json!({"op": "remote-emit", "rooms": ["r"], "event": "direct", "data": 9})).await,
        json!(2)
    );
    assert_eq!(c1.event("direct").await, json!([9]));
    assert_eq!(c2.event("direct").await, json!([9]));

    // socketsJoin / socketsLeave from another node.
    c1.cmd(json!({"op": "sockets-join", "rooms": [c3.sid], "room": "joined"})).await;
    within(Duration::from_secs(5), "c3 joined", async {
        while c3.cmd(json!({"op": "rooms"})).await != json!([c3.sid, "joined"]) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    c1.cmd(json!({"op": "sockets-leave", "rooms": [c3.sid], "room": "joined"})).await;
    within(Duration::from_secs(5), "c3 left", async {
        while c3.cmd(json!({"op": "rooms"})).await != json!([c3.sid]) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    // Broadcast with acks collects the replies of both nodes.
    c3.ws
        .send(&format!(r#"4299["cmd",{}]"#, json!({"op": "ask", "rooms": ["r"], "event": "q", "data": 1})))
        .await;
    c1.answer("q", json!("from-c1")).await;
    c2.answer("q", json!("from-c2")).await;
    let (id, reply) = c3.read().await;
    assert_eq!(id, Some(99));
    assert_eq!(reply[0], json!({"expected": 2, "replies": ["from-c1", "from-c2"]}));

    // Server-side events, with and without ack; a handler that panics changes nothing.
    assert_eq!(
        c1.cmd(json!({"op": "sse", "event": "whoami", "data": "hi", "ack": true})).await,
        json!({"replies": [{"node": "b", "got": "hi"}]})
    );
    c1.cmd(json!({"op": "sse", "event": "boom", "data": 0})).await;
    assert_eq!(
        c2.cmd(json!({"op": "sse", "event": "whoami", "data": "again", "ack": true})).await,
        json!({"replies": [{"node": "a", "got": "again"}]})
    );
    c1.cmd(json!({"op": "sse", "event": "note", "data": 5})).await;
    assert_eq!(c2.event("note-received").await, json!([{"node": "b", "got": 5}]));
    c1.no_event("note-received", Duration::from_millis(200)).await;

    // Disconnecting remotely.
    c1.cmd(json!({"op": "disconnect", "rooms": [c2.sid]})).await;
    c2.disconnected("c2 disconnected by node a").await;

    // A node that closes says so: the other counts one server at once.
    b.shutdown(Duration::from_secs(2)).await;
    within(Duration::from_secs(5), "node a sees b leave", async {
        while c1.cmd(json!({"op": "count"})).await != json!(1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    drop(a);
    pg::drop_table(&url, &names).await;
}

/// The backends of application `app` whose last query was a LISTEN.
async fn listen_backends(sql: &tokio_postgres::Client, app: &str) -> Vec<i32> {
    sql.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
        &[&app],
    )
    .await
    .expect("pg_stat_activity")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listen_connection_comes_back_and_listens_again() {
    tests::init_tracing();
    let url = pg::database_url();
    let names = pg::unique("kill");
    let app = format!("sio_kill_{}", &names.table[8..]);
    let sql = pg::sql(&url).await;
    let io_a = cluster::server(pg::adapter(&pg::named(&url, &app), pg::config(&names)).await, "a");
    let addr_a = tests::serve(&io_a).await;
    let (b, addr_b) = node(&url, &names, "b").await;
    await_servers(&io_a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;

    let before = within(Duration::from_secs(5), "node a's LISTEN backend", async {
        loop {
            let pids = listen_backends(&sql, &app).await;
            if !pids.is_empty() {
                return pids;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(before.len(), 1, "one LISTEN connection: {before:?}");
    sql.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
        &[&app],
    )
    .await
    .expect("terminate");

    // While it is down, operations that wait for other nodes say so (the first reconnection
    // attempt comes after 125 to 375 ms).
    let mut seen_error = None;
    within(Duration::from_secs(5), "an error while the LISTEN connection is down", async {
        loop {
            let count = c1.cmd(json!({"op": "count"})).await;
            if let Some(e) = count["error"].as_str() {
                seen_error = Some(e.to_owned());
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let error = seen_error.unwrap_or_default();
    assert!(error.contains("LISTEN connection is down"), "{error}");

    // It comes back on a new backend, LISTENing again: messages from b reach a.
    within(Duration::from_secs(10), "node a listening again", async {
        loop {
            let pids = listen_backends(&sql, &app).await;
            if !pids.is_empty() && pids != before && c1.cmd(json!({"op": "count"})).await == json!(2) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    c2.cmd(json!({"op": "emit", "event": "after", "data": 1})).await;
    assert_eq!(c1.event("after").await, json!([1]));
    assert_eq!(
        c1.cmd(json!({"op": "sse", "event": "whoami", "data": "back", "ack": true})).await,
        json!({"replies": [{"node": "b", "got": "back"}]})
    );
    c1.cmd(json!({"op": "emit", "event": "from-a", "data": 2})).await;
    assert_eq!(c2.event("from-a").await, json!([2]));
    drop((io_a, b));
    pg::drop_table(&url, &names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_notifications_are_ignored() {
    tests::init_tracing();
    let url = pg::database_url();
    let names = pg::unique("junk");
    let (a, addr_a) = node(&url, &names, "a").await;
    let (b, addr_b) = node(&url, &names, "b").await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    let sql = pg::sql(&url).await;
    let channel = format!("{}#/", names.prefix);
    // (Any `uid` but "emitter" would count as a node, as in Node.) An attachment that is not
    // MessagePack, and one that is a message of the wrong shape.
    let garbage: i64 = sql
        .query_one(
            &format!("INSERT INTO {} (payload) VALUES ($1) RETURNING id", names.table),
            &[&vec![0xc1u8, 0xff, 0]],
        )
        .await
        .expect("insert")
        .get(0);
    let junk = [
        "not json".to_owned(),
        "[1,2,3]".to_owned(),
        "{}".to_owned(),
        r#"{"type":99,"uid":"emitter","nsp":"/"}"#.to_owned(),
        r#"{"type":3,"data":5,"uid":"emitter","nsp":"/"}"#.to_owned(),
        r#"{"type":3,"data":{"packet":7,"opts":null},"uid":"emitter","nsp":"/"}"#.to_owned(),
        r#"{"type":7,"data":{"opts":{}},"uid":"emitter","nsp":"/"}"#.to_owned(),
        r#"{"type":8,"data":{"requestId":{},"sockets":"no"},"uid":"emitter","nsp":"/"}"#.to_owned(),
        r#"{"type":"3","uid":{},"nsp":7}"#.to_owned(),
        r#"{"uid":"emitter","type":3,"attachmentId":"not a number"}"#.to_owned(),
        r#"{"uid":"emitter","type":3,"attachmentId":"999999999999"}"#.to_owned(),
        format!(r#"{{"uid":"emitter","type":3,"attachmentId":"{garbage}"}}"#),
        format!(r#"{{"uid":"emitter","type":3,"attachmentId":{garbage}}}"#),
        "{".repeat(7000),
    ];
    for payload in &junk {
        sql.execute("SELECT pg_notify($1, $2)", &[&channel, payload]).await.expect("notify");
    }
    // Then a normal round trip in both directions.
    c1.cmd(json!({"op": "emit", "event": "fine", "data": 1})).await;
    assert_eq!(c2.event("fine").await, json!([1]));
    c2.cmd(json!({"op": "emit", "event": "fine2", "data": 2, "binary": true})).await;
    assert_eq!(c1.event("fine2").await, json!([2, [1, 2, 3]]));
    assert_eq!(c1.cmd(json!({"op": "count"})).await, json!(2));
    drop((a, b));
    pg::drop_table(&url, &names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_emitter_reaches_sio_nodes() {
    tests::init_tracing();
    let url = pg::database_url();
    let names = pg::unique("emit");
    let (a, addr_a) = node(&url, &names, "a").await;
    let (b, addr_b) = node(&url, &names, "b").await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    c1.cmd(json!({"op": "join", "room": "r"})).await;
    let emitter = pg::emitter(&url, pg::config(&names)).await;

    emitter.emit("all", &(1, "two")).await.expect("emit");
    assert_eq!(c1.event("all").await, json!([1, "two"]));
    assert_eq!(c2.event("all").await, json!([1, "two"]));
    emitter.to("r").emit("in-r", &(json!({"x": 1}),)).await.expect("emit");
    assert_eq!(c1.event("in-r").await, json!([{"x": 1}]));
    emitter.except("r").emit("not-r", &(3,)).await.expect("emit");
    assert_eq!(c2.event("not-r").await, json!([3]));
    emitter.emit("bin", &("b", Binary::from(vec![9u8, 8]))).await.expect("emit binary");
    assert_eq!(c1.event("bin").await, json!(["b", [9, 8]]));
    assert_eq!(c2.event("bin").await, json!(["b", [9, 8]]));
    let big = "x".repeat(9000);
    emitter.emit("big", &(big.as_str(),)).await.expect("emit big");
    assert_eq!(c2.event("big").await, json!([big]));
    c2.no_event("in-r", Duration::from_millis(200)).await;
    c1.no_event("not-r", Duration::from_millis(1)).await;
    assert!(emitter.emit("disconnect", &()).await.is_err(), "reserved event names are refused");
    // Another namespace gets nothing.
    emitter.of("/other").emit("elsewhere", &()).await.expect("emit");

    emitter.to(c2.sid.as_str()).sockets_join(["joined"]).await.expect("join");
    within(Duration::from_secs(5), "c2 joined", async {
        while c2.cmd(json!({"op": "rooms"})).await != json!([c2.sid, "joined"]) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    emitter.to("joined").sockets_leave(["joined"]).await.expect("leave");
    within(Duration::from_secs(5), "c2 left", async {
        while c2.cmd(json!({"op": "rooms"})).await != json!([c2.sid]) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    emitter.server_side_emit("note", &("from-emitter",)).await.expect("server side emit");
    assert_eq!(c1.event("note-received").await, json!([{"node": "a", "got": "from-emitter"}]));
    assert_eq!(c2.event("note-received").await, json!([{"node": "b", "got": "from-emitter"}]));
    // The emitter is not a node.
    assert_eq!(c1.cmd(json!({"op": "count"})).await, json!(2));
    c1.no_event("elsewhere", Duration::from_millis(100)).await;
    emitter.to(c1.sid.as_str()).disconnect_sockets(false).await.expect("disconnect");
    c1.disconnected("c1 disconnected by the emitter").await;
    let _: Value = c2.cmd(json!({"op": "count"})).await;
    drop((a, b));
    pg::drop_table(&url, &names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_counted_by_their_heartbeats() {
    tests::init_tracing();
    let url = pg::database_url();
    let names = pg::unique("ghost");
    let (a, addr_a) = node(&url, &names, "a").await;
    let (b, _addr_b) = node(&url, &names, "b").await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;
    let sql = pg::sql(&url).await;
    let channel = format!("{}#/", names.prefix);
    // A node that announces itself and then says nothing: counted, awaited by requests...
    sql.execute("SELECT pg_notify($1, $2)", &[&channel, &r#"{"type":1,"uid":"ghost","nsp":"/"}"#])
        .await
        .expect("notify");
    within(Duration::from_secs(5), "the ghost counted", async {
        while c1.cmd(json!({"op": "count"})).await != json!(3) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let fetched = c1.cmd(json!({"op": "fetch"})).await;
    assert!(
        fetched["error"].as_str().is_some_and(|e| e.contains("only 1 responses received out of 2")),
        "{fetched}"
    );
    // ...until the heartbeat timeout (3 s here) forgets it; node b keeps sending heartbeats.
    within(Duration::from_secs(6), "the ghost forgotten", async {
        while c1.cmd(json!({"op": "count"})).await != json!(2) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(c1.cmd(json!({"op": "fetch"})).await["sockets"].as_array().map(Vec::len), Some(1));
    // An ADAPTER_CLOSE removes a node at once.
    sql.execute("SELECT pg_notify($1, $2)", &[&channel, &r#"{"type":2,"uid":"ghost2","nsp":"/"}"#])
        .await
        .expect("notify");
    within(Duration::from_secs(5), "ghost2 counted", async {
        while c1.cmd(json!({"op": "count"})).await != json!(3) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    sql.execute("SELECT pg_notify($1, $2)", &[&channel, &r#"{"type":13,"uid":"ghost2","nsp":"/"}"#])
        .await
        .expect("notify");
    within(Duration::from_secs(2), "ghost2 gone", async {
        while c1.cmd(json!({"op": "count"})).await != json!(2) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    drop((a, b));
    pg::drop_table(&url, &names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_is_survived() {
    tests::init_tracing();
    let mut own = OwnPostgres::start(free_port()).await;
    let url = own.url();
    let names = pg::unique("restart");
    let (a, addr_a) = node(&url, &names, "a").await;
    let (b, addr_b) = node(&url, &names, "b").await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    c2.cmd(json!({"op": "emit", "event": "before", "data": 1})).await;
    assert_eq!(c1.event("before").await, json!([1]));

    // PostgreSQL goes away: operations that wait for other nodes fail at once, with an error
    // that says why; local delivery goes on.
    own.stop().await;
    within(Duration::from_secs(10), "an error while PostgreSQL is down", async {
        loop {
            let count = c1.cmd(json!({"op": "count"})).await;
            if let Some(e) = count["error"].as_str() {
                assert!(e.contains("LISTEN connection is down"), "{e}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    c1.cmd(json!({"op": "emit", "local": true, "event": "local", "data": 0})).await;
    assert_eq!(c1.event("local").await, json!([0]));

    // It comes back (same port, same data): both nodes listen again and see each other.
    own = own.restart().await;
    within(Duration::from_secs(30), "both nodes back in one cluster", async {
        while c1.cmd(json!({"op": "count"})).await != json!(2)
            || c2.cmd(json!({"op": "count"})).await != json!(2)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    c2.cmd(json!({"op": "emit", "event": "after", "data": 2})).await;
    assert_eq!(c1.event("after").await, json!([2]));
    c1.cmd(json!({"op": "emit", "event": "back", "data": 3})).await;
    assert_eq!(c2.event("back").await, json!([3]));
    assert_eq!(
        c1.cmd(json!({"op": "sse", "event": "whoami", "data": "again", "ack": true})).await,
        json!({"replies": [{"node": "b", "got": "again"}]})
    );
    drop((a, b));
    own.stop().await;
}
