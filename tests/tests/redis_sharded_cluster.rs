//! The Redis adapter in sharded mode (Node's `createShardedAdapter`, Redis 7 sharded
//! pub/sub) over a real Redis: two sio nodes in each subscription mode, the room channels
//! they listen to, a silent listener, and a Redis restart. `redis_sharded_mixed_cluster.rs`
//! mixes a sio node with a Node server.
//!
//! As in `redis_cluster.rs`, every test uses its own channel prefix (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`, which must be Redis 7 or later), and the restart test runs its
//! own `redis-server` on a free port.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::cluster::{Client, OwnRedis, await_servers, free_port};
use common::within;
use serde_json::json;
use sio_core::Server;
use sio_redis::SubscriptionMode;
use tests::cluster;

async fn node(url: &str, prefix: &str, name: &'static str, mode: SubscriptionMode) -> (Server, SocketAddr) {
    let io = cluster::server(cluster::sharded_adapter(url, prefix, mode).await, name);
    let addr = tests::serve(&io).await;
    (io, addr)
}

async fn listeners(url: &str, channel: &str) -> usize {
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis connection");
    let (_, n): (String, usize) = redis::cmd("PUBSUB")
        .arg("SHARDNUMSUB")
        .arg(channel)
        .query_async(&mut conn)
        .await
        .expect("shardnumsub");
    n
}

/// Waits until `channel` has `n` sharded listeners.
async fn await_listeners(url: &str, channel: &str, n: usize) {
    within(Duration::from_secs(10), &format!("{n} listeners on {channel}"), async {
        while listeners(url, channel).await != n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// Every sharded channel of `prefix` that has listeners (`PUBSUB SHARDCHANNELS`).
async fn shard_channels(url: &str, prefix: &str) -> Vec<String> {
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis connection");
    let mut channels: Vec<String> = redis::cmd("PUBSUB")
        .arg("SHARDCHANNELS")
        .arg(format!("{prefix}#*"))
        .query_async(&mut conn)
        .await
        .expect("shardchannels");
    channels.sort();
    channels
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sharded_nodes_share_broadcasts_rooms_acks_and_server_events() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("sharded-two-nodes");
    let (a, addr_a) = node(&url, &prefix, "a", SubscriptionMode::Dynamic).await;
    let (b, addr_b) = node(&url, &prefix, "b", SubscriptionMode::Dynamic).await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;

    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    let mut c3 = Client::connect(addr_b).await;
    assert_eq!(c1.cmd(json!({"op": "count"})).await, json!(2));
    // Two channels per node: the namespace's and its own; no socket-id room channels.
    assert_eq!(shard_channels(&url, &prefix).await.len(), 3, "{:?}", shard_channels(&url, &prefix).await);

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

    // Rooms: each node listens to the channel of a room once it has a member of it.
    let room_r = format!("{prefix}#/#r#");
    c1.cmd(json!({"op": "join", "room": "r"})).await;
    await_listeners(&url, &room_r, 1).await;
    c2.cmd(json!({"op": "join", "room": "r"})).await;
    await_listeners(&url, &room_r, 2).await;
    // From a node that has the room and from one that has not.
    c3.cmd(json!({"op": "emit", "rooms": ["r"], "event": "in-r", "data": 1})).await;
    assert_eq!(c1.event("in-r").await, json!([1]));
    assert_eq!(c2.event("in-r").await, json!([1]));
    c1.cmd(json!({"op": "emit", "rooms": ["r"], "event": "in-r2", "data": 2, "binary": true})).await;
    assert_eq!(c1.event("in-r2").await, json!([2, [1, 2, 3]]));
    assert_eq!(c2.event("in-r2").await, json!([2, [1, 2, 3]]));
    c3.no_event("in-r", Duration::from_millis(200)).await;
    c3.no_event("in-r2", Duration::from_millis(1)).await;
    // To one socket by its id (the namespace channel), and except.
    c1.cmd(json!({"op": "emit", "rooms": [c3.sid], "event": "to-c3", "data": 4})).await;
    assert_eq!(c3.event("to-c3").await, json!([4]));
    c3.cmd(json!({"op": "emit", "except": ["r"], "event": "not-r", "data": 2})).await;
    assert_eq!(c3.event("not-r").await, json!([2]));
    c1.cmd(json!({"op": "emit", "local": true, "event": "local-only", "data": 0})).await;
    assert_eq!(c1.event("local-only").await, json!([0]));
    c2.no_event("not-r", Duration::from_millis(300)).await;
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
    // RemoteSocket::emit reaches a socket on another node.
    assert_eq!(
        c3.cmd(json!({"op": "remote-emit", "rooms": ["r"], "event": "direct", "data": 9})).await,
        json!(2)
    );
    assert_eq!(c1.event("direct").await, json!([9]));
    assert_eq!(c2.event("direct").await, json!([9]));

    // socketsJoin / socketsLeave from another node; the room channel follows.
    let room_joined = format!("{prefix}#/#joined#");
    c1.cmd(json!({"op": "sockets-join", "rooms": [c3.sid], "room": "joined"})).await;
    await_listeners(&url, &room_joined, 1).await;
    let rooms = c3.cmd(json!({"op": "rooms"})).await;
    assert_eq!(rooms, json!([c3.sid, "joined"]));
    c1.cmd(json!({"op": "emit", "rooms": ["joined"], "event": "in-joined", "data": 5})).await;
    assert_eq!(c3.event("in-joined").await, json!([5]));
    c1.cmd(json!({"op": "sockets-leave", "rooms": [c3.sid], "room": "joined"})).await;
    await_listeners(&url, &room_joined, 0).await;
    assert_eq!(c3.cmd(json!({"op": "rooms"})).await, json!([c3.sid]));

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
    c1.cmd(json!({"op": "sse", "event": "boom", "data": 0})).await;
    assert_eq!(
        c1.cmd(json!({"op": "sse", "event": "whoami", "data": "again", "ack": true})).await,
        json!({"replies": [{"node": "b", "got": "again"}]})
    );
    c1.cmd(json!({"op": "sse", "event": "note", "data": 5})).await;
    assert_eq!(c2.event("note-received").await, json!([{"node": "b", "got": 5}]));
    c1.no_event("note-received", Duration::from_millis(200)).await;

    // Disconnecting remotely; node b loses its last member of r, and stops listening to it.
    c1.cmd(json!({"op": "disconnect", "rooms": [c2.sid]})).await;
    c2.disconnected("c2 disconnected by node a").await;
    await_listeners(&url, &room_r, 1).await;
    drop(c1);
    await_listeners(&url, &room_r, 0).await;
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_and_dynamic_private_modes_listen_to_their_channels() {
    tests::init_tracing();
    let url = cluster::redis_url();
    for (mode, tag) in [(SubscriptionMode::Static, "static"), (SubscriptionMode::DynamicPrivate, "private")] {
        let prefix = cluster::unique_prefix(&format!("sharded-{tag}"));
        let (a, addr_a) = node(&url, &prefix, "a", mode).await;
        let (b, addr_b) = node(&url, &prefix, "b", mode).await;
        await_servers(&a, 2).await;
        await_servers(&b, 2).await;
        let mut c1 = Client::connect(addr_a).await;
        let mut c2 = Client::connect(addr_b).await;
        c1.cmd(json!({"op": "join", "room": "r"})).await;
        let room_r = format!("{prefix}#/#r#");
        let own_c1 = format!("{prefix}#/#{}#", c1.sid);
        if mode == SubscriptionMode::Static {
            // Only the two channels of each node, whatever the rooms.
            assert_eq!(shard_channels(&url, &prefix).await.len(), 3, "{tag}");
        } else {
            // Socket id rooms too.
            await_listeners(&url, &room_r, 1).await;
            await_listeners(&url, &own_c1, 1).await;
            await_listeners(&url, &format!("{prefix}#/#{}#", c2.sid), 1).await;
        }
        // A room, and one socket by its id, from the other node.
        c2.cmd(json!({"op": "emit", "rooms": ["r"], "event": "in-r", "data": tag})).await;
        assert_eq!(c1.event("in-r").await, json!([tag]));
        c2.cmd(json!({"op": "emit", "rooms": [c1.sid], "event": "direct", "data": tag})).await;
        assert_eq!(c1.event("direct").await, json!([tag]));
        c2.no_event("in-r", Duration::from_millis(200)).await;
        c2.no_event("direct", Duration::from_millis(1)).await;
        if mode == SubscriptionMode::DynamicPrivate {
            // The socket's channel goes with it.
            drop(c1);
            await_listeners(&url, &own_c1, 0).await;
            await_listeners(&url, &room_r, 0).await;
        }
        drop((a, b));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_a_silent_sharded_node_time_out_with_a_clear_error() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("sharded-silent");
    let (a, addr) = node(&url, &prefix, "a", SubscriptionMode::Dynamic).await;
    // A sharded listener that never answers counts as a node (as in Node's adapter).
    let client = redis::Client::open(format!("{url}?protocol=resp3").as_str()).expect("redis url");
    let (tx, _pushes) = tokio::sync::mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
    let mut silent = client.get_multiplexed_async_connection_with_config(&config).await.expect("redis");
    redis::cmd("SSUBSCRIBE").arg(format!("{prefix}#/#")).exec_async(&mut silent).await.expect("ssubscribe");
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
async fn a_redis_restart_is_survived_with_the_room_channels() {
    tests::init_tracing();
    let mut redis = OwnRedis::start(free_port()).await;
    let url = redis.url();
    let prefix = cluster::unique_prefix("sharded-restart");
    let (a, addr_a) = node(&url, &prefix, "a", SubscriptionMode::Dynamic).await;
    let (b, addr_b) = node(&url, &prefix, "b", SubscriptionMode::Dynamic).await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    c1.cmd(json!({"op": "join", "room": "r"})).await;
    let room_r = format!("{prefix}#/#r#");
    await_listeners(&url, &room_r, 1).await;
    c2.cmd(json!({"op": "emit", "rooms": ["r"], "event": "before", "data": 1})).await;
    assert_eq!(c1.event("before").await, json!([1]));

    // Redis goes away: local delivery goes on; cluster requests fail fast and clearly.
    redis.stop().await;
    c1.cmd(json!({"op": "emit", "event": "during", "data": 2})).await;
    assert_eq!(c1.event("during").await, json!([2]));
    let count = c1.cmd(json!({"op": "count"})).await;
    assert!(count["error"].as_str().is_some_and(|e| e.contains("unreachable")), "{count}");

    // Redis is back on the same port: both nodes listen again, to the room channel too.
    let _redis = OwnRedis::start(redis.port).await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    await_listeners(&url, &room_r, 1).await;
    c2.cmd(json!({"op": "emit", "rooms": ["r"], "event": "after", "data": 3})).await;
    assert_eq!(c1.event("after").await, json!([3]));
    c2.cmd(json!({"op": "emit", "event": "all", "data": 4})).await;
    assert_eq!(c1.event("all").await, json!([4]));
    assert_eq!(c2.event("all").await, json!([4]));
    let fetched = c1.cmd(json!({"op": "fetch"})).await;
    assert_eq!(fetched["sockets"].as_array().map(Vec::len), Some(2), "{fetched}");
    // c1 had "during" once, locally. Whether c2 has it depends on timing: the publisher
    // holds a message while it reconnects (a few hundred milliseconds), and Redis may come
    // back within that window.
    c1.no_event("during", Duration::from_millis(1)).await;
}
