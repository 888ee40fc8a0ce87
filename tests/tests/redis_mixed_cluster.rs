//! A mixed cluster on one Redis: a sio node (here) and a Node `socket.io` 4.8 server with
//! `@socket.io/redis-adapter` 8.3 (started by `tests/js/cluster/mixed.test.mjs`), clients on
//! each. Broadcasts, rooms, except, binary, acks, `fetchSockets`, `serverSideEmit`,
//! `socketsJoin`/`socketsLeave` and `disconnectSockets` must cross in both directions.

use tests::cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_and_node_servers_form_one_cluster() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("mixed");
    let io = cluster::server(cluster::adapter(&url, &prefix).await, "sio");
    let addr = tests::serve(&io).await;
    cluster::run_node_suite("cluster", addr, &url, &prefix, 9).await;
}
