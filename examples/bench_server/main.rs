//! The load-test contract server (DESIGN §6): `echo` acks its arguments, `bcast` re-emits
//! them to every socket of `/`, `join(room)` acks `true`, `to-room(room, ...args)` emits
//! `room-msg` to that room. pingInterval 25 s, pingTimeout 20 s. The switches of DESIGN §5 apply
//! (`PORT`, default 3000; `SIO_ALLOW_EIO3=1`; `SIO_PARSER=msgpack`; `SIO_COMPRESSION=1`; see
//! `examples::switches`).
//!
//! `cargo run --release --example bench_server`; `BENCH_RT=current_thread` selects tokio's
//! current-thread runtime (default: multi-thread).
//!
//! Cluster switches: `SIO_ADAPTER` picks the adapter the server joins a cluster through, so
//! all of the above spans every node (Node servers on the same adapter included):
//! `redis` (Node's `@socket.io/redis-adapter`, the default when only `REDIS_URL` is set),
//! `redis-sharded` (its `createShardedAdapter`, dynamic mode), `redis-streams`
//! (`@socket.io/redis-streams-adapter`; with `RECOVERY_MS`, recovery works across nodes).
//! `REDIS_URL` (default `redis://127.0.0.1:6379`) says where Redis is; `REDIS_KEY` sets the
//! channel prefix (and the stream's name; default `socket.io`). `postgres`
//! (`@socket.io/postgres-adapter`) with `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), `REDIS_KEY` being its channel prefix.
//!
//! Operating switches (off by default): `SIO_ADMIN_UI=user:password` turns on the Admin UI
//! instrumentation with basic auth (the password hashed at start; `SIO_ADMIN_UI=noauth`
//! without auth), allowing `SIO_ADMIN_UI_ORIGIN` (else the request's own origin) with
//! credentials; `SIO_METRICS=1` serves Prometheus metrics at `/metrics`. `RUST_LOG` (e.g.
//! `warn`) turns the log on; without it nothing is logged.

use sio_core::ServerBuilder;
use sio_core::prelude::*;

#[derive(Default)]
struct Bench;

#[namespace("/")]
impl Bench {
    /// Acks with the same arguments, whatever they are (JSON or binary).
    #[event]
    async fn echo(&self, args: RawArgs) -> RawArgs {
        args
    }

    /// Emits `bcast` with the same arguments to every socket of `/`, the sender included.
    #[event]
    async fn bcast(&self, s: Conn, args: RawArgs) {
        let _ = s.namespace().emit_args("bcast", args);
    }

    /// Joins `room`; acks `true`.
    #[event]
    async fn join(&self, s: Conn, room: String) -> bool {
        s.join(room);
        true
    }

    /// Emits `room-msg` with the remaining arguments to every socket in `room`.
    #[event(rename = "to-room")]
    async fn to_room(&self, s: Conn, room: String, args: RawArgs) {
        let _ = s.namespace().to(room).emit_args("room-msg", args);
    }
}

/// The adapter `SIO_ADAPTER` names (none when neither it nor `REDIS_URL` is set).
async fn join_cluster(builder: ServerBuilder) -> std::io::Result<ServerBuilder> {
    let redis_url = std::env::var("REDIS_URL").ok();
    let kind = match std::env::var("SIO_ADAPTER") {
        Ok(kind) => kind,
        Err(_) if redis_url.is_some() => "redis".to_owned(),
        Err(_) => return Ok(builder),
    };
    let url = redis_url.unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let key = std::env::var("REDIS_KEY").unwrap_or_else(|_| "socket.io".to_owned());
    if kind == "postgres" {
        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let config = sio_postgres::PostgresConfig { channel_prefix: key, ..Default::default() };
        let adapter =
            sio_postgres::PostgresAdapter::connect(&url, config).await.map_err(std::io::Error::other)?;
        return Ok(builder.adapter(adapter));
    }
    let config = sio_redis::RedisConfig { key: key.clone(), ..Default::default() };
    let adapter = match kind.as_str() {
        "redis" => sio_redis::RedisAdapter::connect_with(&url, config).await,
        "redis-sharded" => {
            sio_redis::RedisAdapter::connect_sharded(&url, config, sio_redis::SubscriptionMode::Dynamic).await
        }
        "redis-streams" => {
            let streams = sio_redis::StreamsConfig { stream_name: key, ..Default::default() };
            sio_redis::RedisAdapter::connect_streams(&url, config, streams).await
        }
        other => {
            return Err(std::io::Error::other(format!(
                "SIO_ADAPTER={other}: expected redis, redis-sharded, redis-streams or postgres"
            )));
        }
    };
    Ok(builder.adapter(adapter.map_err(std::io::Error::other)?))
}

async fn serve() -> std::io::Result<()> {
    let switches = examples::switches::Switches::from_env();
    let mut builder = join_cluster(switches.apply(Server::builder()).namespace(Bench)).await?;
    if let Ok(admin) = std::env::var("SIO_ADMIN_UI") {
        let ui = match admin.split_once(':') {
            _ if admin == "noauth" => sio_core::admin::AdminUi::no_auth(),
            Some((user, password)) => {
                sio_core::admin::AdminUi::basic(user, sio_core::admin::AdminUi::hash_password(password))
            }
            None => return Err(std::io::Error::other("SIO_ADMIN_UI: user:password or noauth")),
        };
        let cors = match std::env::var("SIO_ADMIN_UI_ORIGIN") {
            Ok(origin) => sio_core::Cors::origins([origin]),
            Err(_) => sio_core::Cors::any(),
        };
        builder = builder.admin_ui(ui).cors(cors.credentials(true));
    }
    let metrics = (std::env::var("SIO_METRICS").as_deref() == Ok("1")).then(sio_core::metrics::Metrics::new);
    if let Some(m) = &metrics {
        builder = builder.metrics(m);
    }
    let io = builder.build();
    let app = match &metrics {
        Some(m) => io.router::<()>().merge(m.router("/metrics")),
        None => io.router::<()>(),
    };
    let port = switches.port.unwrap_or(3000);
    // A backlog for connection storms; TCP_NODELAY inherited by accepted sockets.
    let listener = sio_core::listen(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    // A header read timeout; the 101 and the open packet in one write.
    sio_core::serve(listener, app).await
}

fn main() -> std::io::Result<()> {
    // Logs only when asked (`RUST_LOG=warn`): nothing competes for CPU by default.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    }
    let mut rt = if std::env::var("BENCH_RT").as_deref() == Ok("current_thread") {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    rt.enable_all().build()?.block_on(serve())
}
