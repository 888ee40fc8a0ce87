//! A mixed sharded cluster on one Redis 7: a sio node (here, `RedisAdapter::connect_sharded`
//! in dynamic mode) and a Node `socket.io` 4.8 server with `@socket.io/redis-adapter` 8.3's
//! `createShardedAdapter` (started by `tests/js/cluster-sharded/mixed.test.mjs`), clients on
//! each. Broadcasts (room channels included), except, binary, acks, `fetchSockets`,
//! `serverSideEmit`, `socketsJoin`/`socketsLeave` and `disconnectSockets` must cross in both
//! directions.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tests::cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_and_node_servers_form_one_sharded_cluster() {
    tests::init_tracing();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("node_modules/@socket.io/redis-adapter").exists(),
        "tests/node_modules is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("sharded-mixed");
    let adapter = cluster::sharded_adapter(&url, &prefix, sio_redis::SubscriptionMode::Dynamic).await;
    let io = cluster::server(adapter, "sio");
    let addr = tests::serve(&io).await;
    let child = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec", "cluster-sharded/"])
        .current_dir(root.join("js"))
        .env("SIO_URL", format!("http://{addr}"))
        .env("REDIS_URL", &url)
        .env("PREFIX", &prefix)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the cluster suite");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the JS sharded cluster suite did not finish within 120 s")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mixed sharded cluster suite failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("\u{2139} pass 10"), "expected 10 passing tests:\n{stdout}");
}
