//! Graceful shutdown, the connection limit and the counters. (The soak, many clients coming
//! and going, is `soak_memory.rs`.)

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Polling, T, Ws, recv, within};
use sio_core::{Conn, DisconnectReason, Event, Handlers, Server};
use tokio::sync::mpsc;

fn handlers(reasons: mpsc::UnboundedSender<String>) -> Handlers {
    Handlers::new()
        .on("ack", |_c: Conn, mut e: Event| async move {
            let args = e.raw();
            if let Some(a) = e.take_ack() {
                let _ = a.send_args(args);
            }
        })
        .on("join", |c: Conn, mut e: Event| async move {
            if let Ok(room) = e.arg::<String>() {
                c.join(room);
            }
            if let Some(a) = e.take_ack() {
                let _ = a.send(&true);
            }
        })
        .on_disconnect(move |_c: Conn, r: DisconnectReason| {
            let tx = reasons.clone();
            async move {
                // A slow disconnect handler: shutdown waits for it.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(r.as_str().to_owned());
            }
        })
}

async fn start(builder: sio_core::ServerBuilder) -> (Server, SocketAddr, mpsc::UnboundedReceiver<String>) {
    tests::init_tracing();
    let (tx, rx) = mpsc::unbounded_channel();
    let io = builder.ns("/", handlers(tx)).build();
    let addr = tests::serve(&io).await;
    (io, addr, rx)
}

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    within(T, what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_flushes_disconnects_and_waits_for_handlers() {
    let (io, addr, mut reasons) = start(common::builder()).await;
    let mut ws = Vec::new();
    for _ in 0..3 {
        let mut c = Ws::connect(addr).await;
        c.connect_ns("/").await;
        ws.push(c);
    }
    let mut polls = Vec::new();
    for _ in 0..2 {
        let mut p = Polling::handshake(addr).await;
        p.connect_ns("/").await;
        polls.push(p);
    }
    assert_eq!(io.stats().sockets(), 5);

    // Queued just before the shutdown: still delivered. The polling clients keep a GET
    // waiting, as real ones do.
    io.of("/").expect("root").emit("bye", &"see you").expect("emit");
    // The close packet comes in a payload of its own (as the reference sends it): GET on
    // until it came.
    let gets: Vec<_> = polls
        .iter()
        .map(|p| async move {
            let mut all: Vec<String> = Vec::new();
            while all.last().map(String::as_str) != Some("1") {
                assert!(all.len() < 4, "no close packet: {all:?}");
                all.extend(p.get_packets().await.into_iter().filter(|x| x != "6"));
            }
            all
        })
        .collect();
    let (finished, packets) =
        tokio::join!(io.shutdown(Duration::from_secs(5)), futures_util::future::join_all(gets));
    assert!(finished, "shutdown finished in time");

    for _ in 0..5 {
        assert_eq!(recv(&mut reasons, "disconnect handler").await, "server shutting down");
    }
    for c in &mut ws {
        assert_eq!(c.recv_text().await, r#"42["bye","see you"]"#);
        c.expect_closed_within(T).await;
    }
    for packets in packets {
        assert_eq!(packets.first().map(String::as_str), Some(r#"42["bye","see you"]"#), "{packets:?}");
        assert_eq!(packets.len(), 2, "the packet then the close: {packets:?}");
    }
    let stats = io.stats();
    assert_eq!((stats.engine.sessions, stats.engine.tasks, stats.sockets()), (0, 0, 0), "{stats:?}");

    // New connections are refused with a clear error.
    let resp =
        within(T, "handshake", reqwest::get(format!("http://{addr}/socket.io/?EIO=4&transport=polling")))
            .await
            .expect("request");
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.text().await.expect("body"), r#"{"code":6,"message":"Server shutting down"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_refuses_with_503_and_frees_up() {
    let (io, addr, _reasons) = start(common::builder().max_connections(2)).await;
    let mut a = Ws::connect(addr).await;
    a.connect_ns("/").await;
    let _b = Polling::handshake(addr).await;
    let resp = within(
        T,
        "third handshake",
        reqwest::get(format!("http://{addr}/socket.io/?EIO=4&transport=polling")),
    )
    .await
    .expect("request");
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.text().await.expect("body"), r#"{"code":7,"message":"Too many connections"}"#);
    drop(a);
    eventually("the first session to close", || io.stats().engine.sessions == 1).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.ack_round_trip(1, "true").await;
}
