//! A mixed sharded cluster on one Redis 7: a sio node (here, `RedisAdapter::connect_sharded`
//! in dynamic mode) and a Node `socket.io` 4.8 server with `@socket.io/redis-adapter` 8.3's
//! `createShardedAdapter` (started by `tests/js/cluster-sharded/mixed.test.mjs`), clients on
//! each. Broadcasts (room channels included), except, binary, acks, `fetchSockets`,
//! `serverSideEmit`, `socketsJoin`/`socketsLeave` and `disconnectSockets` must cross in both
//! directions.

use tests::cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_and_node_servers_form_one_sharded_cluster() {
    tests::init_tracing();
    let url = cluster::redis_url();
    let prefix = cluster::unique_prefix("sharded-mixed");
    let io = cluster::server(
        cluster::sharded_adapter(&url, &prefix, sio_redis::SubscriptionMode::Dynamic).await,
        "sio",
    );
    let addr = tests::serve(&io).await;
    cluster::run_node_suite("cluster-sharded", addr, &url, &prefix, 10).await;
}
