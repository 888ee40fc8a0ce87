//! A cluster node for the Redis adapter tests: namespace `/` whose clients can ask it, with
//! the event `cmd`, to run any cluster operation and acknowledge the result. The JS cluster
//! suite (`tests/js/cluster/`) and the Rust tests drive it the same way.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use sio_core::{Binary, Conn, Event, Handlers, NsHandle, Server};

/// The Redis to test against: `REDIS_URL`, else the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A channel prefix of its own for one test, so tests run in parallel on one Redis.
pub fn unique_prefix(test: &str) -> String {
    format!("sio-test-{test}-{}", sio_core::Sid::new())
}

fn config(prefix: &str) -> sio_redis::RedisConfig {
    sio_redis::RedisConfig {
        key: prefix.to_owned(),
        requests_timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

fn connected(r: Result<sio_redis::RedisAdapter, sio_redis::ConnectError>) -> sio_redis::RedisAdapter {
    match r {
        Ok(a) => a,
        Err(e) => panic!(
            "{e}\nThe Redis adapter tests need a Redis server (7.0 or later for the sharded mode): \
             start one on 127.0.0.1:6379 (`redis-server`, Debian package redis-server; .ci/run \
             starts it) or set REDIS_URL."
        ),
    }
}

/// Connects an adapter, failing with a clear message when Redis is not there.
pub async fn adapter(url: &str, prefix: &str) -> sio_redis::RedisAdapter {
    connected(sio_redis::RedisAdapter::connect_with(url, config(prefix)).await)
}

/// Connects an adapter in sharded mode (Node's `createShardedAdapter`).
pub async fn sharded_adapter(
    url: &str,
    prefix: &str,
    mode: sio_redis::SubscriptionMode,
) -> sio_redis::RedisAdapter {
    connected(sio_redis::RedisAdapter::connect_sharded(url, config(prefix), mode).await)
}

/// Connects a Redis Streams adapter (Node's `@socket.io/redis-streams-adapter`), the stream
/// and the channel prefix both `prefix`.
pub async fn streams_adapter(url: &str, prefix: &str) -> sio_redis::RedisAdapter {
    let streams = sio_redis::StreamsConfig {
        stream_name: prefix.to_owned(),
        session_key_prefix: format!("{prefix}:session:"),
        block_time: Duration::from_secs(1),
        ..Default::default()
    };
    connected(sio_redis::RedisAdapter::connect_streams(url, config(prefix), streams).await)
}

/// A node serving `/` with the `cmd` event, on `adapter` (Redis or PostgreSQL).
pub fn server(adapter: impl sio_core::adapter::Adapter, name: &'static str) -> Server {
    server_with(adapter, name, None)
}

/// [`server`], with connection state recovery over a window of `recovery` when given.
pub fn server_with(
    adapter: impl sio_core::adapter::Adapter,
    name: &'static str,
    recovery: Option<Duration>,
) -> Server {
    let mut builder = Server::builder().adapter(adapter);
    if let Some(window) = recovery {
        builder = builder.connection_state_recovery(sio_core::RecoveryConfig {
            max_disconnection_duration: window,
            ..Default::default()
        });
    }
    let io = builder
        .ns(
            "/",
            Handlers::new().on("cmd", move |conn: Conn, mut ev: Event| async move {
                let cmd: Value = ev.arg().unwrap_or_default();
                let result = run(&conn, &cmd).await;
                if let Some(ack) = ev.take_ack() {
                    let _ = ack.send(&result);
                }
            }),
        )
        .build();
    let root = io.of("/").expect("namespace /");
    // A server-side event with ack: answers who this node is and what it got.
    root.on_server_event("whoami", move |args, ack| {
        if let Some(ack) = ack {
            let first: Value = args.get(0).and_then(Result::ok).unwrap_or_default();
            let _ = ack.send(&json!({ "node": name, "got": first }));
        }
    });
    // A handler that panics must not take the adapter down.
    root.on_server_event("boom", |_, _| panic!("boom (expected by the test)"));
    // Without ack: tells this node's local clients, so a test can see it arrived.
    let local = root.clone();
    root.on_server_event("note", move |args, _| {
        let first: Value = args.get(0).and_then(Result::ok).unwrap_or_default();
        let _ = local.local().emit("note-received", &json!({ "node": name, "got": first }));
    });
    io
}

fn rooms(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn select(root: &NsHandle, cmd: &Value) -> sio_core::BroadcastOperator {
    let mut op = root.all().to_all(rooms(&cmd["rooms"]));
    for room in rooms(&cmd["except"]) {
        op = op.except(room);
    }
    if cmd["local"].as_bool() == Some(true) {
        op = op.local();
    }
    op
}

async fn run(conn: &Conn, cmd: &Value) -> Value {
    let ns = conn.namespace();
    let event = cmd["event"].as_str().unwrap_or("event").to_owned();
    match cmd["op"].as_str().unwrap_or_default() {
        "emit" => {
            let op = select(&ns, cmd);
            let r = if cmd["binary"].as_bool() == Some(true) {
                op.emit_args(&event, (cmd["data"].clone(), Binary::from(vec![1u8, 2, 3])))
            } else {
                op.emit(&event, &cmd["data"])
            };
            json!(r.is_ok())
        }
        "broadcast" => json!(conn.broadcast().emit(&event, &cmd["data"]).is_ok()),
        // To the asking socket itself (Conn::emit), not through a broadcast.
        "self-emit" => json!(conn.emit(&event, &cmd["data"]).is_ok()),
        "join" => {
            conn.join(cmd["room"].as_str().unwrap_or_default());
            json!(true)
        }
        "rooms" => json!(conn.rooms().iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>()),
        "set-data" => json!(conn.set_data(&cmd["data"]).is_ok()),
        "sockets-join" => {
            select(&ns, cmd).join(cmd["room"].as_str().unwrap_or_default());
            json!(true)
        }
        "sockets-leave" => {
            select(&ns, cmd).leave(cmd["room"].as_str().unwrap_or_default());
            json!(true)
        }
        "disconnect" => {
            select(&ns, cmd).disconnect();
            json!(true)
        }
        "fetch" => match select(&ns, cmd).fetch_sockets().await {
            Ok(sockets) => {
                let mut list: Vec<Value> = sockets
                    .iter()
                    .map(|s| {
                        json!({ "id": s.id(), "rooms": s.rooms(), "query": s.handshake()["query"], "data": s.data() })
                    })
                    .collect();
                list.sort_by_key(|v| v["id"].as_str().unwrap_or_default().to_owned());
                json!({ "sockets": list })
            }
            Err(e) => json!({ "error": e.to_string() }),
        },
        "remote-emit" => {
            // Emits to every fetched socket through RemoteSocket::emit.
            match select(&ns, cmd).fetch_sockets().await {
                Ok(sockets) => {
                    for s in &sockets {
                        let _ = s.emit(&event, &cmd["data"]);
                    }
                    json!(sockets.len())
                }
                Err(e) => json!({ "error": e.to_string() }),
            }
        }
        "sse" => {
            if cmd["ack"].as_bool() == Some(true) {
                match ns
                    .server_side_emit_with_ack(&event, (cmd["data"].clone(),), Duration::from_secs(2))
                    .await
                {
                    Ok(replies) => {
                        let mut values: Vec<Value> = replies
                            .iter()
                            .map(|r| r.get(0).and_then(Result::ok).unwrap_or_default())
                            .collect();
                        values.sort_by_key(Value::to_string);
                        json!({ "replies": values })
                    }
                    Err(e) => json!({ "error": e.to_string() }),
                }
            } else {
                json!(ns.server_side_emit(&event, (cmd["data"].clone(),)).is_ok())
            }
        }
        "ask" => {
            let op = select(&ns, cmd).timeout(Duration::from_millis(cmd["timeout"].as_u64().unwrap_or(2000)));
            match op.emit_with_ack(&event, &cmd["data"]).await {
                Ok(r) => {
                    let mut values: Vec<Value> = r.replies.iter().filter_map(|r| r.get().ok()).collect();
                    values.sort_by_key(Value::to_string);
                    json!({ "expected": r.expected, "replies": values })
                }
                Err(e) => json!({ "error": e.to_string() }),
            }
        }
        "count" => match ns.server_count().await {
            Ok(n) => json!(n),
            Err(e) => json!({ "error": e.to_string() }),
        },
        other => json!({ "error": format!("unknown op {other}") }),
    }
}

/// Runs the node:test suite in `tests/js/<dir>` against the sio node at `addr` (env
/// `SIO_URL`, `REDIS_URL`, `PREFIX`) and checks that all `tests` of it passed.
pub async fn run_node_suite(dir: &str, addr: SocketAddr, url: &str, prefix: &str, tests: usize) {
    run_node_suite_with(dir, addr, url, prefix, tests, &[]).await;
}

/// [`run_node_suite`] with more environment variables.
pub async fn run_node_suite_with(
    dir: &str,
    addr: SocketAddr,
    url: &str,
    prefix: &str,
    tests: usize,
    env: &[(&str, String)],
) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("node_modules/@socket.io/redis-adapter").exists(),
        "tests/node_modules is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
    let child = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec", &format!("{dir}/")])
        .current_dir(root.join("js"))
        .env("SIO_URL", format!("http://{addr}"))
        .env("REDIS_URL", url)
        .env("PREFIX", prefix)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the cluster suites");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the JS suite {dir} did not finish within 120 s"))
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "JS suite {dir} failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("\u{2139} pass {tests}\n")),
        "expected {tests} passing tests:\n{stdout}"
    );
}
