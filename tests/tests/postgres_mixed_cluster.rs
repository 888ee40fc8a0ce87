//! A mixed cluster on one PostgreSQL: a sio node (`PostgresAdapter::connect`) and a Node
//! `socket.io` 4.8 server with `@socket.io/postgres-adapter` 0.5.0 (started by
//! `tests/js/cluster-postgres/mixed.test.mjs`), clients on each. Broadcasts, except, binary,
//! payloads above the threshold, acks, `fetchSockets`, `serverSideEmit`,
//! `socketsJoin`/`socketsLeave` and `disconnectSockets` must cross in both directions, and
//! Node's `@socket.io/postgres-emitter` 0.1.1 must reach the sio node. Then sio's
//! `PostgresEmitter` must reach a Node server (`tests/js/postgres/node-server.mjs`).

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::cluster::Client;
use common::within;
use serde_json::json;
use sio_core::Binary;
use tests::cluster;
use tests::postgres as pg;
use tokio::io::{AsyncBufReadExt as _, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_and_node_servers_form_one_cluster() {
    tests::init_tracing();
    let url = pg::database_url();
    let names = pg::unique("mixed");
    let io = cluster::server(pg::adapter(&url, pg::config(&names)).await, "sio");
    let addr = tests::serve(&io).await;
    pg::run_node_suite("cluster-postgres", addr, &url, &names, 12).await;
    drop(io);
    pg::drop_table(&url, &names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_emitter_reaches_a_node_server() {
    tests::init_tracing();
    let url = pg::database_url();
    let names = pg::unique("emit-node");
    // The emitter creates the table, which Node's adapter expects to exist.
    let emitter = pg::emitter(&url, pg::config(&names)).await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("node_modules/@socket.io/postgres-adapter").exists(),
        "tests/node_modules is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
    let mut child = tokio::process::Command::new("node")
        .arg("postgres/node-server.mjs")
        .current_dir(root.join("js"))
        .env("DATABASE_URL", &url)
        .env("PREFIX", &names.prefix)
        .env("TABLE", &names.table)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the cluster suites");
    let stdout = child.stdout.take().expect("stdout");
    let port: u16 = within(Duration::from_secs(20), "the Node server to listen", async {
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = lines.next_line().await.expect("read").expect("the Node server exited");
            if let Some(port) = line.strip_prefix("listening ") {
                return port.trim().parse().expect("port");
            }
        }
    })
    .await;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut c1 = Client::connect(addr).await;
    let mut c2 = Client::connect(addr).await;
    c1.ws.send(r#"421["join","r"]"#).await;
    assert_eq!(c1.read().await, (Some(1), json!([true])));

    // The Node adapter LISTENs after it starts: retry the first emit until it arrives.
    within(Duration::from_secs(10), "the first emit to reach the Node server", async {
        loop {
            emitter.emit("hello", &(1, "two")).await.expect("emit");
            if tokio::time::timeout(Duration::from_millis(300), c2.event("hello")).await.is_ok() {
                return;
            }
        }
    })
    .await;
    c2.events.clear();
    c1.events.clear();
    emitter.to("r").emit("in-r", &(json!({"x": 1}),)).await.expect("emit");
    assert_eq!(c1.event("in-r").await, json!([{"x": 1}]));
    emitter.except("r").emit("not-r", &(3,)).await.expect("emit");
    assert_eq!(c2.event("not-r").await, json!([3]));
    emitter.emit("bin", &("b", Binary::from(vec![9u8, 8]))).await.expect("emit binary");
    assert_eq!(c1.event("bin").await, json!(["b", [9, 8]]));
    let big = "x".repeat(9000);
    emitter.emit("big", &(big.as_str(),)).await.expect("emit big");
    assert_eq!(c2.event("big").await, json!([big]));
    c2.no_event("in-r", Duration::from_millis(200)).await;
    c1.no_event("not-r", Duration::from_millis(1)).await;

    emitter.to(c2.sid.as_str()).sockets_join(["joined"]).await.expect("join");
    emitter.to("joined").emit("in-joined", &(5,)).await.expect("emit");
    assert_eq!(c2.event("in-joined").await, json!([5]));
    emitter.to("joined").sockets_leave(["joined"]).await.expect("leave");
    emitter.to("joined").emit("in-joined2", &(6,)).await.expect("emit");
    emitter.emit("marker", &()).await.expect("emit");
    assert_eq!(c2.event("marker").await, json!([]));
    assert!(!c2.events.iter().any(|(n, _)| n == "in-joined2"), "{:?}", c2.events);
    emitter.server_side_emit("note", &("from-rust",)).await.expect("server side emit");
    assert_eq!(c1.event("note-received").await, json!([{"node": "node", "got": "from-rust"}]));
    emitter.to(c1.sid.as_str()).disconnect_sockets(false).await.expect("disconnect");
    c1.disconnected("c1 disconnected by the emitter").await;

    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    pg::drop_table(&url, &names).await;
}
