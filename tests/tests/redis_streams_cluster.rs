//! The Redis Streams adapter (Node's `@socket.io/redis-streams-adapter` 0.3) over a real
//! Redis: two sio nodes; a mixed cluster with a Node server on the Node package
//! (`tests/js/cluster-streams/`); connection state recovery across sio and Node nodes
//! with socket.io-client 4.8 (`tests/js/cluster-streams-recovery/`); and what the stream
//! holds, entry by entry, as Node reads it.
//!
//! Every test uses its own stream, channel prefix and session prefix (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`; Redis 6.2 or later).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::cluster::{Client, OwnRedis, await_servers, free_port};
use common::recovery::{connect, offset_of};
use serde_json::json;
use sio_core::Server;
use tests::cluster;

const WINDOW: Duration = Duration::from_secs(5);

async fn node(
    url: &str,
    prefix: &str,
    name: &'static str,
    recovery: Option<Duration>,
) -> (Server, SocketAddr) {
    let io = cluster::server_with(cluster::streams_adapter(url, prefix).await, name, recovery);
    let addr = tests::serve(&io).await;
    (io, addr)
}

/// The entries of `stream`: `(id, [field, value, ..])`.
async fn entries(url: &str, stream: &str) -> Vec<(String, Vec<String>)> {
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis connection");
    redis::cmd("XRANGE").arg(stream).arg("-").arg("+").query_async(&mut conn).await.expect("xrange")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_streams_nodes_share_broadcasts_rooms_acks_and_server_events() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("streams-two-nodes");
    let (a, addr_a) = node(&url, &prefix, "a", None).await;
    let (b, addr_b) = node(&url, &prefix, "b", None).await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;

    let mut c1 = Client::connect(addr_a).await;
    let mut c2 = Client::connect(addr_b).await;
    let mut c3 = Client::connect(addr_b).await;
    assert_eq!(c1.cmd(json!({"op": "count"})).await, json!(2));

    // Broadcasts (through the stream), binary included.
    c1.cmd(json!({"op": "emit", "event": "hello", "data": {"z": 1, "a": 2}})).await;
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("hello").await, json!([{"z": 1, "a": 2}]));
    }
    c2.cmd(json!({"op": "emit", "event": "bin", "data": "x", "binary": true})).await;
    for c in [&mut c1, &mut c2, &mut c3] {
        assert_eq!(c.event("bin").await, json!(["x", [1, 2, 3]]));
    }
    c3.cmd(json!({"op": "broadcast", "event": "not-me", "data": 3})).await;
    assert_eq!(c1.event("not-me").await, json!([3]));
    assert_eq!(c2.event("not-me").await, json!([3]));
    c3.no_event("not-me", Duration::from_millis(300)).await;

    // Rooms, one socket by id, except, local.
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

    // fetch_sockets (pub/sub request and answers).
    let fetched = c1.cmd(json!({"op": "fetch", "rooms": ["r"]})).await;
    let mut ids: Vec<&str> =
        fetched["sockets"].as_array().expect("sockets").iter().filter_map(|s| s["id"].as_str()).collect();
    ids.sort_unstable();
    let mut want = vec![c1.sid.as_str(), c2.sid.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "{fetched}");

    // socketsJoin / socketsLeave (through the stream).
    c1.cmd(json!({"op": "sockets-join", "rooms": [c3.sid], "room": "joined"})).await;
    common::within(Duration::from_secs(5), "c3 joined", async {
        while c3.cmd(json!({"op": "rooms"})).await != json!([c3.sid, "joined"]) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    c1.cmd(json!({"op": "sockets-leave", "rooms": [c3.sid], "room": "joined"})).await;
    common::within(Duration::from_secs(5), "c3 left", async {
        while c3.cmd(json!({"op": "rooms"})).await != json!([c3.sid]) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    // A broadcast with acks collects the replies of both nodes.
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
    c1.cmd(json!({"op": "sse", "event": "note", "data": 5})).await;
    assert_eq!(c2.event("note-received").await, json!([{"node": "b", "got": 5}]));
    c1.no_event("note-received", Duration::from_millis(200)).await;

    // Disconnecting remotely.
    c1.cmd(json!({"op": "disconnect", "rooms": [c2.sid]})).await;
    c2.disconnected("c2 disconnected by node a").await;

    // What went through the stream, as Node writes it: uid, nsp, type, data (JSON, or base64
    // MessagePack for binary); requests did not (they are pub/sub).
    let stream = entries(&url, &prefix).await;
    let kinds: Vec<&str> = stream.iter().map(|(_, f)| f[5].as_str()).collect();
    assert!(stream.iter().all(|(_, f)| f[0] == "uid" && f[2] == "nsp" && f[3] == "/" && f[4] == "type"));
    assert!(kinds.iter().all(|k| ["3", "4", "5", "6"].contains(k)), "{kinds:?}");
    let hello = stream.iter().find(|(_, f)| f.get(7).is_some_and(|d| d.contains("hello"))).expect("hello");
    assert_eq!(hello.1[6], "data");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&hello.1[7]).expect("JSON data"),
        json!({"packet": {"type": 2, "data": ["hello", {"z": 1, "a": 2}]}, "opts": {"rooms": [], "except": [], "flags": {}}})
    );
    let bin = stream.iter().filter(|(_, f)| f[5] == "3").find(|(_, f)| !f[7].starts_with('{'));
    assert!(bin.is_some(), "the binary broadcast is base64 MessagePack: {stream:?}");
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_and_node_servers_form_one_streams_cluster() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("streams-mixed");
    let (_io, addr) = node(&url, &prefix, "sio", None).await;
    cluster::run_node_suite("cluster-streams", addr, &url, &prefix, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_recover_across_sio_and_node_servers() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("streams-recovery");
    let (_a, addr_a) = node(&url, &prefix, "a", Some(WINDOW)).await;
    let (_b, addr_b) = node(&url, &prefix, "b", Some(WINDOW)).await;
    let env = [("SIO_URL_B", format!("http://{addr_b}")), ("RECOVERY_MS", WINDOW.as_millis().to_string())];
    cluster::run_node_suite_with("cluster-streams-recovery", addr_a, &url, &prefix, 4, &env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_no_packet_for_a_recovering_client() {
    tests::init_tracing();
    let dir = std::env::temp_dir().join(format!("sio-streams-aof-{}", sio_core::Sid::new()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let port = free_port();
    let mut redis = OwnRedis::start_persistent(port, &dir).await;
    let url = redis.url();
    let prefix = cluster::unique_prefix("streams-outage");
    let (a, addr_a) = node(&url, &prefix, "a", Some(Duration::from_secs(60))).await;
    let (b, addr_b) = node(&url, &prefix, "b", Some(Duration::from_secs(60))).await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;

    // A raw client on node a, in room r, with the offset of a first packet.
    let (mut ws, _, sid, pid) = connect(addr_a, None).await;
    ws.send(r#"421["cmd",{"op":"join","room":"r"}]"#).await;
    assert_eq!(ws.recv_text().await, "431[true]");
    let mut o = Client::connect(addr_b).await;
    o.cmd(json!({"op": "emit", "rooms": [sid], "event": "warm", "data": 1})).await;
    let warm = ws.recv_text().await;
    assert!(warm.starts_with(r#"42["warm",1,""#), "{warm}");
    let offset = offset_of(&warm);
    // The transport is lost; the session is kept in Redis.
    drop(ws);
    let key = format!("{prefix}:session:{pid}");
    let client = redis::Client::open(url.as_str()).expect("redis url");
    common::within(Duration::from_secs(5), "the session in Redis", async {
        loop {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                let n: usize = redis::cmd("EXISTS").arg(&key).query_async(&mut conn).await.unwrap_or(0);
                if n == 1 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    // Redis goes away; node b emits to the room meanwhile, then Redis comes back with what
    // it had (its append-only file).
    o.cmd(json!({"op": "join", "room": "r"})).await;
    redis.stop().await;
    let during = json!({"op": "emit", "rooms": ["r"], "event": "missed", "data": "during"});
    assert_eq!(o.cmd(during).await, json!(true));
    // Not delivered, even on node b, until the stream has given it its offset.
    o.no_event("missed", Duration::from_millis(300)).await;
    redis = OwnRedis::start_persistent(port, &dir).await;
    o.cmd(json!({"op": "emit", "event": "missed", "data": "after"})).await;
    common::within(Duration::from_secs(15), "the packets of the outage", async {
        assert_eq!(o.event("missed").await[0], json!("during"));
        assert_eq!(o.event("missed").await[0], json!("after"));
    })
    .await;

    // The client comes back on node b: its id, and both packets in order, with stream ids.
    let (_ws, before, sid2, _) = connect(addr_b, Some(json!({ "pid": pid, "offset": offset }))).await;
    assert_eq!(sid2, sid, "recovered");
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(before[0].starts_with(r#"42["missed","during",""#), "{before:?}");
    assert!(before[1].starts_with(r#"42["missed","after",""#), "{before:?}");
    assert!(before.iter().all(|p| offset_of(p).split_once('-').is_some()), "{before:?}");
    drop((a, b));
    redis.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_entries_and_bogus_sessions_are_ignored() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("streams-malformed");
    let (a, addr_a) = node(&url, &prefix, "a", Some(WINDOW)).await;
    let (b, addr_b) = node(&url, &prefix, "b", Some(WINDOW)).await;
    await_servers(&a, 2).await;
    await_servers(&b, 2).await;
    let mut c1 = Client::connect(addr_a).await;

    // Entries no node wrote: missing fields, unknown types, bodies that are not JSON, not
    // base64, not MessagePack, or of the wrong shape; and junk on the namespace channel.
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis connection");
    let junk: &[&[(&str, &str)]] = &[
        &[("nothing", "here")],
        &[("uid", "x"), ("nsp", "/"), ("type", "3")],
        &[("uid", "x"), ("nsp", "/"), ("type", "99"), ("data", "{}")],
        &[("uid", "x"), ("nsp", "/"), ("type", "three"), ("data", "{}")],
        &[("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", "{not json")],
        &[("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", "%%% not base64")],
        &[("uid", "x"), ("nsp", "/"), ("type", "3"), ("data", "wQ==")],
        &[
            ("uid", "x"),
            ("nsp", "/"),
            ("type", "3"),
            ("data", r#"{"packet":{"data":"not an array"},"opts":{}}"#),
        ],
        &[("uid", "x"), ("nsp", "/"), ("type", "4"), ("data", r#"{"opts":{"rooms":7},"rooms":[{}]}"#)],
        &[("uid", "x"), ("nsp", "/"), ("type", "6"), ("data", "[]")],
        &[("uid", "x"), ("nsp", "/nowhere"), ("type", "3"), ("data", "{}")],
    ];
    for fields in junk {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&prefix).arg("*");
        for (k, v) in *fields {
            cmd.arg(*k).arg(*v);
        }
        let _: String = cmd.query_async(&mut conn).await.expect("xadd");
    }
    let _: usize = redis::cmd("PUBLISH")
        .arg(format!("{prefix}#/#"))
        .arg(&b"\xc1\xff not msgpack"[..])
        .query_async(&mut conn)
        .await
        .expect("publish");

    // Sessions that do not exist, offsets that are not stream ids, a stream id that is not
    // in the stream: fresh sockets, at once.
    for auth in [
        json!({"pid": "AAAAAAAAAAAAAAAAAAAA", "offset": "1-0"}),
        json!({"pid": "AAAAAAAAAAAAAAAAAAAA", "offset": "12"}),
        json!({"pid": "x".repeat(10_000), "offset": "99999999999999999999999-0"}),
        json!({"pid": [1], "offset": {}}),
    ] {
        let (_ws, before, sid, _) = common::within(Duration::from_secs(5), "a fresh socket", async {
            connect(addr_b, Some(auth.clone())).await
        })
        .await;
        assert!(before.is_empty(), "{before:?}");
        assert_eq!(sid.len(), 20, "{auth}");
    }
    // A real session with an offset the stream does not hold (as Node, it is used up).
    let (ws, _, old, pid) = connect(addr_a, None).await;
    drop(ws);
    let key = format!("{prefix}:session:{pid}");
    common::within(Duration::from_secs(5), "the session in Redis", async {
        while redis::cmd("EXISTS").arg(&key).query_async::<usize>(&mut conn).await.unwrap_or(0) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let (_ws, _, sid, _) = connect(addr_b, Some(json!({"pid": pid, "offset": "0-1"}))).await;
    assert_ne!(sid, old);

    // The cluster still works: a broadcast from node b reaches node a's client.
    let mut c2 = Client::connect(addr_b).await;
    c2.cmd(json!({"op": "emit", "event": "still", "data": 1})).await;
    assert_eq!(c1.event("still").await[0], json!(1));
    assert_eq!(c1.cmd(json!({"op": "count"})).await, json!(2));
    drop((a, b));
}
