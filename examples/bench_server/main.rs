//! The load-test contract server (DESIGN §6): `echo` acks its arguments, `bcast` re-emits
//! them to every socket of `/`, `join(room)` acks `true`, `to-room(room, ...args)` emits
//! `room-msg` to that room. pingInterval 25 s, pingTimeout 20 s. The switches of DESIGN §5 apply
//! (`PORT`, default 3000; `SIO_ALLOW_EIO3=1`; `SIO_PARSER=msgpack`; `SIO_COMPRESSION=1`; see
//! `examples::switches`).
//!
//! `cargo run --release --example bench_server`; `BENCH_RT=current_thread` selects tokio's
//! current-thread runtime (default: multi-thread). With `REDIS_URL` (e.g.
//! `redis://127.0.0.1:6379`) the server joins a cluster through the Redis adapter, so all of
//! the above spans every node (Node servers with `@socket.io/redis-adapter` included);
//! `REDIS_KEY` sets the channel prefix (default `socket.io`).

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

async fn serve() -> std::io::Result<()> {
    let switches = examples::switches::Switches::from_env();
    let mut builder = switches.apply(Server::builder()).namespace(Bench);
    if let Ok(url) = std::env::var("REDIS_URL") {
        let config = sio_redis::RedisConfig {
            key: std::env::var("REDIS_KEY").unwrap_or_else(|_| "socket.io".to_owned()),
            ..Default::default()
        };
        let adapter =
            sio_redis::RedisAdapter::connect_with(&url, config).await.map_err(std::io::Error::other)?;
        builder = builder.adapter(adapter);
    }
    let io = builder.build();
    let port = switches.port.unwrap_or(3000);
    // A backlog for connection storms; TCP_NODELAY inherited by accepted sockets.
    let listener = sio_core::listen(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    // A header read timeout; the 101 and the open packet in one write.
    sio_core::serve(listener, io.router::<()>()).await
}

fn main() -> std::io::Result<()> {
    let mut rt = if std::env::var("BENCH_RT").as_deref() == Ok("current_thread") {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    rt.enable_all().build()?.block_on(serve())
}
