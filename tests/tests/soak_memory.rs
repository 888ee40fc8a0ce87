//! Memory comes back: clients over both transports connect, join rooms, talk, 10% vanish
//! without a word, the rest leave; once every session has ended, the live heap is back near
//! where it started. Live bytes are counted by the allocator itself (allocated minus freed),
//! so the check does not depend on whether malloc returns freed pages to the OS (glibc keeps
//! them: RSS stays at its high-water mark until `malloc_trim`).
//!
//! `SOAK_CLIENTS` (default 300) sets the size; `SOAK_CLIENTS=6000 cargo test --release -p tests
//! --test soak_memory` is the long run.

mod common;

use std::alloc::System;
use std::time::Duration;

use common::{Polling, T, Ws, within};
use futures_util::StreamExt as _;
use sio_core::Server;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    // realloc growth and shrink are already counted in these two.
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

type Client = (Option<Polling>, Option<Ws>);

async fn connect_all(addr: std::net::SocketAddr, n: usize) -> Vec<Client> {
    futures_util::stream::iter(0..n)
        .map(|i| async move {
            let room = format!("room-{}", i % 13);
            if i % 20 == 0 {
                let mut p = Polling::handshake(addr).await;
                p.connect_ns("/").await;
                p.post_ok(format!(r#"421["join","{room}"]"#)).await;
                assert_eq!(p.recv().await, "431[true]");
                (Some(p), None)
            } else {
                let mut w = Ws::connect(addr).await;
                w.connect_ns("/").await;
                w.send(&format!(r#"421["join","{room}"]"#)).await;
                assert_eq!(w.recv_text().await, "431[true]");
                w.ack_round_trip(2, &format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(200))).await;
                (None, Some(w))
            }
        })
        .buffer_unordered(50)
        .collect::<Vec<_>>()
        .await
}

async fn leave_all(clients: Vec<Client>) {
    for (i, c) in clients.into_iter().enumerate() {
        match c {
            // (With thousands of clients a polling session may already have timed out: fine.)
            (Some(p), _) if i % 40 != 0 => drop(p.post("1").await),
            (Some(p), _) => drop(p), // abandoned: ends at the ping timeout
            (_, Some(w)) if i % 10 == 3 => drop(w), // vanishes: TCP dropped, no close frame
            (_, Some(mut w)) => {
                w.send("41").await;
                let _ = w.ws.close(None).await;
            }
            _ => unreachable!(),
        }
    }
}

async fn idle(io: &Server) {
    within(Duration::from_secs(15), "every session to end", async {
        loop {
            let s = io.stats();
            if s.engine.sessions == 0 && s.engine.tasks == 0 && s.sockets() == 0 && s.rooms() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_heap_returns_near_baseline() {
    let n: usize = std::env::var("SOAK_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    tests::init_tracing();
    let io = common::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(300))
        .ns(
            "/",
            common::base_handlers().on("join", |c: sio_core::Conn, mut e: sio_core::Event| async move {
                if let Ok(room) = e.arg::<String>() {
                    c.join(room);
                }
                if let Some(a) = e.take_ack() {
                    let _ = a.send(&true);
                }
            }),
        )
        .build();
    let addr = tests::serve(&io).await;

    // Warm up (lazily built runtime, client and map state), then measure.
    leave_all(connect_all(addr, 20).await).await;
    idle(&io).await;
    let baseline = live_bytes();

    let clients = connect_all(addr, n).await;
    let peak = live_bytes();
    leave_all(clients).await;
    idle(&io).await;
    let after = live_bytes();
    eprintln!("soak: {n} clients; live heap {baseline} B baseline, {peak} B at peak, {after} B after");
    assert!(peak - baseline > (n as i64) * 4096, "the run should have used memory: {baseline} -> {peak}");
    // Maps keep their grown capacity and the runtime keeps a few buffers: allow 2 KB per
    // client at most, far below the ~18 KB a connected client holds.
    let allowed = 256 * 1024 + (n as i64) * 2048;
    assert!(
        after - baseline <= allowed,
        "live heap {after} B after the run vs {baseline} B before (+{} B, allowed +{allowed} B)",
        after - baseline
    );
    within(T, "still serving", common::assert_serves(addr)).await;
}
