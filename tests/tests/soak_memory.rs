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

/// The live-heap count is global: the tests of this file take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    let _turn = ONE_AT_A_TIME.lock().await;
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

/// `/dyn-<n>` namespaces, each joined with a room, then left: with
/// `cleanup_empty_child_namespaces` every one is dropped when its last socket leaves.
fn dynamic_server(cleanup: bool, cap: usize) -> Server {
    let h = sio_core::Handlers::new().on("join", |c: sio_core::Conn, mut e: sio_core::Event| async move {
        if let Ok(room) = e.arg::<String>() {
            c.join(room);
        }
        if let Some(a) = e.take_ack() {
            let _ = a.send(&true);
        }
    });
    common::builder()
        .ns("/", common::base_handlers())
        .dynamic_ns(|p| p.starts_with("/dyn-"), h, Vec::new())
        .cleanup_empty_child_namespaces(cleanup)
        .max_dynamic_namespaces(cap)
        .build()
}

/// Joins `/dyn-<i>` for every `i` of `ids` (with a room in each), then leaves them all.
async fn come_and_go(w: &mut Ws, ids: std::ops::Range<usize>) {
    for i in ids.clone() {
        let nsp = format!("/dyn-{i}");
        w.connect_ns(&nsp).await;
        w.send(&format!(r#"42{nsp},1["join","r{i}"]"#)).await;
        assert_eq!(w.recv_text().await, format!("43{nsp},1[true]"));
    }
    for i in ids {
        w.send(&format!("41/dyn-{i},")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_dynamic_namespaces_come_and_go() {
    let _turn = ONE_AT_A_TIME.lock().await;
    tests::init_tracing();
    let io = dynamic_server(true, 10_000);
    let addr = tests::serve(&io).await;
    let namespaces = |io: &Server| io.stats().namespaces.len();
    let settled = |io: &Server| {
        let io = io.clone();
        within(Duration::from_secs(15), "the dynamic namespaces to be dropped", async move {
            while io.stats().namespaces.len() > 1 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    // Ten connections, each holding 50 namespaces at a time (the per-client limit is 64).
    let mut conns = Vec::new();
    for _ in 0..10 {
        conns.push(Ws::connect(addr).await);
    }
    // Warm up, then measure.
    futures_util::future::join_all(
        conns.iter_mut().enumerate().map(|(c, w)| come_and_go(w, c * 50..c * 50 + 50)),
    )
    .await;
    settled(&io).await;
    let baseline = live_bytes();
    let mut peak = 0;
    for round in 1..=20 {
        let base = round * 500;
        futures_util::future::join_all(conns.iter_mut().enumerate().map(|(c, w)| {
            let start = base + c * 50;
            async move {
                for i in start..start + 50 {
                    let nsp = format!("/dyn-{i}");
                    w.connect_ns(&nsp).await;
                    w.send(&format!(r#"42{nsp},1["join","r{i}"]"#)).await;
                    assert_eq!(w.recv_text().await, format!("43{nsp},1[true]"));
                }
            }
        }))
        .await;
        assert_eq!(namespaces(&io), 501, "500 dynamic namespaces alive, and /");
        peak = peak.max(live_bytes());
        for (c, w) in conns.iter_mut().enumerate() {
            for i in base + c * 50..base + c * 50 + 50 {
                w.send(&format!("41/dyn-{i},")).await;
            }
        }
        settled(&io).await;
    }
    let after = live_bytes();
    eprintln!(
        "dynamic namespaces: 10,000 came and went; live heap {baseline} B baseline, {peak} B at peak, {after} B after"
    );
    assert!(
        peak - baseline > 500 * 1024,
        "500 live namespaces should have used memory: {baseline} -> {peak}"
    );
    assert!(after - baseline <= 256 * 1024, "live heap {after} B after vs {baseline} B before");
    // The connections are still served, and a dropped path is created afresh on demand.
    come_and_go(&mut conns[0], 0..1).await;
    within(T, "still serving", common::assert_serves(addr)).await;
}

#[tokio::test]
async fn dynamic_namespaces_are_capped() {
    let io = dynamic_server(false, 3);
    let addr = tests::serve(&io).await;
    let mut w = Ws::connect(addr).await;
    come_and_go(&mut w, 0..3).await;
    // Without cleanup they stay, so the cap counts them: a fourth path is refused...
    w.send("40/dyn-9,").await;
    assert_eq!(w.recv_text().await, r#"44/dyn-9,{"message":"Too many namespaces"}"#);
    // ...while the existing ones still take clients.
    come_and_go(&mut w, 1..2).await;
    assert_eq!(io.stats().namespaces.len(), 4);
}

/// Connection state recovery's memory: the namespace's log of sent packets stays within its
/// caps however much is emitted; a disconnected socket's session costs a few hundred bytes;
/// both go when the window ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recovery_log_and_sessions_are_bounded_and_expire() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let window = Duration::from_millis(1500);
    let (tx, mut gone) = tokio::sync::mpsc::unbounded_channel();
    let handlers = sio_core::Handlers::new().on_disconnect(move |_c: sio_core::Conn, _r| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(());
        }
    });
    let config = sio_core::RecoveryConfig {
        max_disconnection_duration: window,
        max_buffered_packets: 10_000,
        ..sio_core::RecoveryConfig::default()
    };
    let io = common::builder().connection_state_recovery(config).ns("/", handlers).build();
    let addr = tests::serve(&io).await;
    let ns = io.of("/").expect("/");
    let payload = "x".repeat(64);
    drop(connect_all_plain(addr, 10).await);
    for _ in 0..10 {
        within(T, "the warm-up disconnects", gone.recv()).await.expect("reported");
    }
    idle(&io).await;
    let baseline = live_bytes();

    // A full log: 10,000 packets of ~80 bytes kept, 30,000 emitted.
    for i in 0..30_000 {
        ns.emit("m", &(i, &payload)).expect("emits");
    }
    let full = live_bytes() - baseline;
    let per_packet = full / 10_000;
    assert!(per_packet < 512, "the log keeps 10,000 packets in {full} B ({per_packet} B each)");

    // Sessions left behind by 500 sockets whose transport dropped.
    let n = 500;
    drop(connect_all_plain(addr, n).await);
    for _ in 0..n {
        within(T, "every disconnect", gone.recv()).await.expect("reported");
    }
    idle(&io).await;
    let with_sessions = live_bytes();
    let per_session = (with_sessions - baseline - full) / n as i64;
    eprintln!(
        "recovery: log of 10,000 packets {full} B ({per_packet} B per packet, payload ~80 B); \
         sessions {per_session} B each"
    );
    assert!(per_session < 1024, "a session costs {per_session} B");

    // The window ends: sessions and packets go (the sweeper runs at the expiry).
    within(Duration::from_secs(10), "the sessions and the log to expire", async {
        loop {
            // What stays is capacity, not entries: the tables keep the room they grew to
            // for 500 sockets, and the runtime its buffers (66-70 KB measured, against
            // 3.5 MB of log and 226 KB of sessions before the window ended).
            if live_bytes() - baseline < 128 * 1024 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    within(T, "still serving", connect_all_plain(addr, 1)).await;
}

/// `n` WebSocket clients in `/`.
async fn connect_all_plain(addr: std::net::SocketAddr, n: usize) -> Vec<Ws> {
    futures_util::stream::iter(0..n)
        .map(|_| async move {
            let mut w = Ws::connect(addr).await;
            w.connect_ns("/").await;
            w
        })
        .buffer_unordered(50)
        .collect::<Vec<_>>()
        .await
}
