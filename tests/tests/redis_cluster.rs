//! The Redis adapter over a real Redis: two sio nodes, a Redis restart in the middle of a
//! test, and (in `redis_mixed_cluster.rs`) a cluster mixing sio and Node servers.
//!
//! Every test uses its own channel prefix, so they run in parallel on one Redis
//! (`REDIS_URL`, default `redis://127.0.0.1:6379`). The restart test runs its own
//! `redis-server` on a free port so it can stop and start it.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::cluster::{Client, OwnRedis, await_servers, free_port};
use common::{T, within};
use serde_json::json;
use sio_core::Server;
use tests::cluster;
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn node(url: &str, prefix: &str, name: &'static str) -> (Server, SocketAddr) {
    let io = cluster::server(cluster::adapter(url, prefix).await, name);
    let addr = tests::serve(&io).await;
    (io, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sio_nodes_share_broadcasts_rooms_acks_and_server_events() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("two-nodes");
    let (a, addr_a) = node(&url, &prefix, "a").await;
    let (b, addr_b) = node(&url, &prefix, "b").await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;

    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    let mut c3 = Client::connect(addr_b).await;
    assert_eq!(c1.cmd(json!({"op": "count"})).await, json!(2));

    // A broadcast from either node reaches every client, binary included.
    assert_eq!(c1.cmd(json!({"op": "emit", "event": "hello", "data": {"n": 1}})).await, json!(true));
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("hello").await, json!([{"n": 1}]));
    }
    c2.cmd(json!({"op": "emit", "event": "bin", "data": "x", "binary": true})).await;
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("bin").await, json!(["x", [1, 2, 3]]));
    }
    // `broadcast`: everyone but the sender, across nodes.
    c3.cmd(json!({"op": "broadcast", "event": "not-me", "data": 3})).await;
    assert_eq!(c1.event("not-me").await, json!([3]));
    assert_eq!(c2.event("not-me").await, json!([3]));
    c3.no_event("not-me", Duration::from_millis(300)).await;

    // Rooms and except across nodes.
    c1.cmd(json!({"op": "join", "room": "r"})).await;
    c2.cmd(json!({"op": "join", "room": "r"})).await;
    c3.cmd(json!({"op": "emit", "rooms": ["r"], "event": "in-r", "data": 1})).await;
    assert_eq!(c1.event("in-r").await, json!([1]));
    assert_eq!(c2.event("in-r").await, json!([1]));
    c3.cmd(json!({"op": "emit", "except": ["r"], "event": "not-r", "data": 2})).await;
    assert_eq!(c3.event("not-r").await, json!([2]));
    c1.cmd(json!({"op": "emit", "local": true, "event": "local-only", "data": 0})).await;
    assert_eq!(c1.event("local-only").await, json!([0]));
    c2.no_event("not-r", Duration::from_millis(300)).await;
    c2.no_event("local-only", Duration::from_millis(1)).await;
    c1.no_event("not-r", Duration::from_millis(1)).await;

    // fetch_sockets sees the sockets of both nodes with their rooms and data.
    assert_eq!(c2.cmd(json!({"op": "set-data", "data": {"nick": "bo"}})).await, json!(true));
    let fetched = c1.cmd(json!({"op": "fetch", "rooms": ["r"]})).await;
    let of_c2 = fetched["sockets"].as_array().expect("sockets").iter().find(|s| s["id"] == json!(c2.sid));
    assert_eq!(of_c2.map(|s| &s["data"]), Some(&json!({"nick": "bo"})), "{fetched}");
    let mut ids: Vec<&str> =
        fetched["sockets"].as_array().expect("sockets").iter().filter_map(|s| s["id"].as_str()).collect();
    ids.sort_unstable();
    let mut want = vec![c1.sid.as_str(), c2.sid.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "{fetched}");
    // RemoteSocket::emit reaches a socket on another node.
    assert_eq!(
        c3.cmd(json!({"op": "remote-emit", "rooms": ["r"], "event": "direct", "data": 9})).await,
        json!(2)
    );
    assert_eq!(c1.event("direct").await, json!([9]));
    assert_eq!(c2.event("direct").await, json!([9]));

    // socketsJoin / socketsLeave from another node.
    c1.cmd(json!({"op": "sockets-join", "rooms": [c3.sid], "room": "joined"})).await;
    let rooms = within(T, "c3 joined remotely", async {
        loop {
            let rooms = c3.cmd(json!({"op": "rooms"})).await;
            if rooms.as_array().is_some_and(|r| r.contains(&json!("joined"))) {
                return rooms;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(rooms[0], json!(c3.sid));

    // Broadcast with acks collects the replies of both nodes.
    c3.ws
        .send(&format!(r#"4299["cmd",{}]"#, json!({"op": "ask", "rooms": ["r"], "event": "q", "data": 1})))
        .await;
    c1.answer("q", json!("from-c1")).await;
    c2.answer("q", json!("from-c2")).await;
    let (id, reply) = c3.read().await;
    assert_eq!(id, Some(99));
    assert_eq!(reply[0], json!({"expected": 2, "replies": ["from-c1", "from-c2"]}));

    // Server-side events, with and without ack.
    assert_eq!(
        c1.cmd(json!({"op": "sse", "event": "whoami", "data": "hi", "ack": true})).await,
        json!({"replies": [{"node": "b", "got": "hi"}]})
    );
    // A panicking handler on b is contained: b still answers afterwards.
    c1.cmd(json!({"op": "sse", "event": "boom", "data": 0})).await;
    assert_eq!(
        c1.cmd(json!({"op": "sse", "event": "whoami", "data": "again", "ack": true})).await,
        json!({"replies": [{"node": "b", "got": "again"}]})
    );
    c1.cmd(json!({"op": "sse", "event": "note", "data": 5})).await;
    assert_eq!(c2.event("note-received").await, json!([{"node": "b", "got": 5}]));
    c1.no_event("note-received", Duration::from_millis(200)).await;

    // Disconnecting remotely.
    c1.cmd(json!({"op": "disconnect", "rooms": [c2.sid]})).await;
    within(T, "c2 disconnected by node a", async {
        loop {
            if let WsMessage::Text(t) = c2.ws.recv().await
                && t.as_str() == "41"
            {
                return;
            }
        }
    })
    .await;
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_a_silent_node_time_out_with_a_clear_error() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("silent");
    let (a, addr) = node(&url, &prefix, "a").await;
    // A subscriber that never answers counts as a node (as in Node's adapter).
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut silent = client.get_async_pubsub().await.expect("redis pubsub");
    silent.subscribe(format!("{prefix}-request#/#")).await.expect("subscribe");
    await_servers(&a, 2).await;
    let mut c = Client::connect(addr).await;
    let started = std::time::Instant::now();
    let fetched = c.cmd(json!({"op": "fetch"})).await;
    assert_eq!(fetched["error"], json!("timeout reached: only 0 responses received out of 1"));
    assert!(started.elapsed() < Duration::from_secs(4), "bounded by requests_timeout (2 s)");
    let sse = c.cmd(json!({"op": "sse", "event": "whoami", "data": 1, "ack": true})).await;
    assert_eq!(sse["error"], json!("timeout reached: only 0 responses received out of 1"));
    // A broadcast with acks still ends at its own timeout with the local replies.
    c.ws.send(&format!(r#"427["cmd",{}]"#, json!({"op": "ask", "event": "q", "timeout": 500}))).await;
    c.answer("q", json!("me")).await;
    let (id, reply) = c.read().await;
    assert_eq!(id, Some(7));
    assert_eq!(reply[0], json!({"expected": 1, "replies": ["me"]}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived() {
    tests::init_tracing();
    let mut redis = OwnRedis::start(free_port()).await;
    let prefix = cluster::unique_prefix("restart");
    let (a, addr_a) = node(&redis.url(), &prefix, "a").await;
    let (b, addr_b) = node(&redis.url(), &prefix, "b").await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    c1.cmd(json!({"op": "emit", "event": "before", "data": 1})).await;
    assert_eq!(c2.event("before").await, json!([1]));

    // Redis goes away: local delivery goes on; cluster requests fail fast and clearly.
    redis.stop().await;
    c1.cmd(json!({"op": "emit", "event": "during", "data": 2})).await;
    assert_eq!(c1.event("during").await, json!([2]));
    let count = c1.cmd(json!({"op": "count"})).await;
    assert!(count["error"].as_str().is_some_and(|e| e.contains("unreachable")), "{count}");
    let fetched = c1.cmd(json!({"op": "fetch"})).await;
    assert!(fetched["error"].is_string(), "{fetched}");

    // Redis is back on the same port: both nodes reconnect and subscribe again.
    let _redis = OwnRedis::start(redis.port).await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    c2.cmd(json!({"op": "emit", "event": "after", "data": 3})).await;
    assert_eq!(c1.event("after").await, json!([3]));
    assert_eq!(c2.event("after").await, json!([3]));
    let fetched = c1.cmd(json!({"op": "fetch"})).await;
    assert_eq!(fetched["sockets"].as_array().map(Vec::len), Some(2), "{fetched}");
    // c1 had "during" once, locally. Whether c2 has it depends on timing: the publisher
    // holds a message while it reconnects (a few hundred milliseconds), and Redis may come
    // back within that window.
    c1.no_event("during", Duration::from_millis(1)).await;
}
