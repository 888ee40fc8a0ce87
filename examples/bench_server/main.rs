//! The load-test contract server (DESIGN §6): `echo` acks its arguments, `bcast` re-emits
//! them to every socket of `/`, `join(room)` acks `true`, `to-room(room, ...args)` emits
//! `room-msg` to that room. `PORT` (default 3000), pingInterval 25 s, pingTimeout 20 s.
//!
//! `cargo run --release --example bench_server`; `BENCH_RT=current_thread` selects tokio's
//! current-thread runtime (default: multi-thread).

use axum::serve::ListenerExt as _;
use sio_core::{Conn, Event, Handlers, RawArgs, Server};

fn handlers() -> Handlers {
    Handlers::new()
        .on("echo", |_conn: Conn, mut ev: Event| async move {
            let args = ev.raw();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send_args(args);
            }
        })
        .on("bcast", |conn: Conn, ev: Event| async move {
            let _ = conn.namespace().emit_args("bcast", ev.raw());
        })
        .on("join", |conn: Conn, mut ev: Event| async move {
            if let Ok(room) = ev.arg::<String>() {
                conn.join(room);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("to-room", |conn: Conn, ev: Event| async move {
            let raw = ev.raw();
            let Some(Ok(room)) = raw.get::<String>(0) else { return };
            let rest: Vec<_> = raw
                .json()
                .skip(1)
                .filter_map(|j| serde_json::value::RawValue::from_string(j.to_owned()).ok())
                .collect();
            let _ = conn
                .namespace()
                .to(room)
                .emit_args("room-msg", RawArgs::new(rest, raw.attachments().to_vec()));
        })
}

async fn serve() -> std::io::Result<()> {
    let io = Server::builder().ns("/", handlers()).build();
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, io.router::<()>()).await
}

fn main() -> std::io::Result<()> {
    let mut rt = if std::env::var("BENCH_RT").as_deref() == Ok("current_thread") {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    rt.enable_all().build()?.block_on(serve())
}
