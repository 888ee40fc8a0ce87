//! Connection state recovery on the wire, with raw WebSocket clients: the bounds of the log,
//! a ping timeout as a recoverable loss, bogus session ids, sessions restored through the
//! adapter contract, and socket data. (socket.io-client against sio and Node's server:
//! `js_interop.rs`, suite `tests/js/recovery/`.)

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::recovery::{connect, offset_of};
use common::*;
use serde_json::{Value, json};
use sio_core::adapter::{
    Adapter, AdapterFuture, BroadcastOptions, LocalNamespace, NamespaceAdapter, Payload, RemoteAck,
    RestoredSession, SessionState, SocketInfo,
};
use sio_core::{Conn, DisconnectReason, Event, Handlers, RecoveryConfig, Room, Server, ServerBuilder};
use tokio::sync::mpsc;

/// A server whose `/` reports disconnects on a channel and joins rooms on `join`.
fn builder(config: RecoveryConfig) -> (ServerBuilder, mpsc::UnboundedReceiver<(String, DisconnectReason)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handlers = Handlers::new()
        .on("join", |conn: Conn, mut ev: Event| async move {
            conn.join(ev.arg::<String>().unwrap_or_default());
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("whoami", |conn: Conn, mut ev: Event| async move {
            let rooms: Vec<String> = conn.rooms().iter().map(|r| r.to_string()).collect();
            let me = json!({ "id": conn.id().as_str(), "recovered": conn.recovered(), "rooms": rooms });
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&me);
            }
        })
        .on_disconnect(move |conn: Conn, reason| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((conn.id().as_str().to_owned(), reason));
            }
        });
    (Server::builder().connection_state_recovery(config).ns("/", handlers), rx)
}

#[tokio::test]
async fn the_log_is_bounded_and_a_session_whose_packets_were_dropped_gets_a_fresh_socket() {
    for (cap, recovers) in [(4, false), (64, true)] {
        let config = RecoveryConfig { max_buffered_packets: cap, ..RecoveryConfig::default() };
        let (b, mut gone) = builder(config);
        let io = b.build();
        let addr = tests::serve(&io).await;
        let ns = io.of("/").expect("/");
        let (mut ws, _, sid, pid) = connect(addr, None).await;
        ns.emit("n", &0).expect("emits");
        let offset = offset_of(&ws.recv_text().await);
        drop(ws);
        let (left, reason) = within(T, "the disconnect", gone.recv()).await.expect("reported");
        assert_eq!((left.as_str(), reason), (sid.as_str(), DisconnectReason::TransportClose));
        for i in 1..=10 {
            ns.emit("n", &i).expect("emits");
        }
        let (mut ws, before, sid2, pid2) = connect(addr, Some(json!({ "pid": pid, "offset": offset }))).await;
        if recovers {
            assert_eq!((sid2.as_str(), pid2.as_str()), (sid.as_str(), pid.as_str()), "recovered");
            let got: Vec<i64> = before
                .iter()
                .map(|t| serde_json::from_str::<Vec<Value>>(&t[2..]).expect("json")[1].as_i64().expect("n"))
                .collect();
            assert_eq!(got, (1..=10).collect::<Vec<_>>(), "every missed packet, in order");
        } else {
            assert_ne!(sid2, sid, "the log lost packets it missed: a fresh socket");
            assert_ne!(pid2, pid);
            assert!(before.is_empty(), "nothing replayed: {before:?}");
        }
        ws.send(r#"421["whoami"]"#).await;
        let me: Vec<Value> = serde_json::from_str(&ws.recv_text().await[3..]).expect("json");
        assert_eq!(me[0]["recovered"], json!(recovers));
    }
}

#[tokio::test]
async fn a_ping_timeout_is_a_recoverable_loss() {
    let (b, mut gone) = builder(RecoveryConfig::default());
    let io = b.ping_interval(Duration::from_millis(100)).ping_timeout(Duration::from_millis(100)).build();
    let addr = tests::serve(&io).await;
    let (mut ws, _, sid, pid) = connect(addr, None).await;
    ws.send(r#"421["join","r"]"#).await;
    assert_eq!(ws.recv_text().await, "431[true]");
    io.of("/").expect("/").to("r").emit("n", &1).expect("emits");
    let offset = offset_of(&ws.recv_text().await);
    // Pings go unanswered from here on.
    let (_, reason) = within(T, "the ping timeout", gone.recv()).await.expect("reported");
    assert_eq!(reason, DisconnectReason::PingTimeout);
    drop(ws);
    io.of("/").expect("/").to("r").emit("n", &2).expect("emits");
    let (mut ws, before, sid2, _) = connect(addr, Some(json!({ "pid": pid, "offset": offset }))).await;
    assert_eq!(sid2, sid);
    assert_eq!(before.len(), 1);
    assert!(before[0].starts_with(r#"42["n",2,""#), "{before:?}");
    ws.send(r#"421["whoami"]"#).await;
    let me: Vec<Value> = serde_json::from_str(&ws.recv_text().await[3..]).expect("json");
    assert_eq!(me[0]["rooms"], json!([sid, "r"]));
}

#[tokio::test]
async fn bogus_session_ids_cost_a_lookup_and_leave_recovery_working() {
    let (b, mut gone) = builder(RecoveryConfig::default());
    let io = b.build();
    let addr = tests::serve(&io).await;
    let (mut ws, _, sid, pid) = connect(addr, None).await;
    io.of("/").expect("/").emit("n", &1).expect("emits");
    let offset = offset_of(&ws.recv_text().await);
    drop(ws);
    within(T, "the disconnect", gone.recv()).await.expect("reported");
    // A flood of guesses, malformed ones included, each on its own connection.
    let guesses = [
        json!({ "pid": "AAAAAAAAAAAAAAAAAAAA", "offset": offset }),
        json!({ "pid": pid, "offset": "999999" }),
        json!({ "pid": "x".repeat(10_000), "offset": "1" }),
        json!({ "pid": [pid], "offset": 1 }),
        json!({ "offset": "1" }),
    ];
    for round in 0..40 {
        let auth = guesses[round % (guesses.len())].clone();
        if round % guesses.len() == 1 {
            continue; // the right pid with a bad offset takes the session: tried last
        }
        let (_ws, before, sid2, _) = connect(addr, Some(auth)).await;
        assert_ne!(sid2, sid);
        assert!(before.is_empty());
    }
    let (_ws, before, sid2, _) = connect(addr, Some(json!({ "pid": pid, "offset": offset }))).await;
    assert_eq!(sid2, sid, "the real session survived the guesses");
    assert!(before.is_empty());
}

#[tokio::test]
async fn socket_data_is_in_fetch_sockets_and_comes_back_with_the_session() {
    let (tx, mut gone) = mpsc::unbounded_channel();
    let handlers = Handlers::new()
        .on_connect(|conn: Conn| async move {
            if !conn.recovered() {
                conn.set_data(&json!({ "nick": "ann", "visits": 1 })).expect("serializes");
            } else {
                let mut data: Value = conn.data().expect("json");
                data["visits"] = json!(data["visits"].as_i64().unwrap_or(0) + 1);
                conn.set_data(&data).expect("serializes");
            }
            Ok(())
        })
        .on_disconnect(move |conn: Conn, _| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(conn.id());
            }
        });
    let io = Server::builder().connection_state_recovery(RecoveryConfig::default()).ns("/", handlers).build();
    let addr = tests::serve(&io).await;
    let ns = io.of("/").expect("/");
    let (mut ws, _, sid, pid) = connect(addr, None).await;
    let sockets = ns.fetch_sockets().await.expect("local");
    assert_eq!(sockets[0].data(), &json!({ "nick": "ann", "visits": 1 }));
    ns.emit("n", &1).expect("emits");
    let offset = offset_of(&ws.recv_text().await);
    drop(ws);
    within(T, "the disconnect", gone.recv()).await.expect("reported");
    let (_ws, _, sid2, _) = connect(addr, Some(json!({ "pid": pid, "offset": offset }))).await;
    assert_eq!(sid2, sid);
    let sockets = ns.fetch_sockets().await.expect("local");
    assert_eq!(sockets[0].data(), &json!({ "nick": "ann", "visits": 2 }));
}

// ------------------------------------------------------------------------ the adapter contract

/// Sessions shared by the nodes of a test "cluster" (no broadcasts cross it): what
/// `persist_session` stored, and the packets `restore_session` says were missed.
#[derive(Clone, Default)]
struct SharedSessions {
    sessions: Arc<Mutex<HashMap<String, SessionState>>>,
    missed: Arc<Mutex<Vec<Payload>>>,
    /// The namespaces of the nodes, as the adapter reaches them (to deliver "remote" packets).
    locals: Arc<Mutex<Vec<LocalNamespace>>>,
}

impl Adapter for SharedSessions {
    fn namespace(&self, ns: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        self.locals.lock().expect("lock").push(ns);
        Arc::new(self.clone())
    }
}

impl NamespaceAdapter for SharedSessions {
    fn broadcast(&self, _packet: &Payload, _opts: &BroadcastOptions) {}
    fn broadcast_with_ack(&self, _p: &Payload, _o: &BroadcastOptions) -> mpsc::UnboundedReceiver<RemoteAck> {
        mpsc::unbounded_channel().1
    }
    fn add_sockets(&self, _opts: &BroadcastOptions, _rooms: &[Room]) {}
    fn del_sockets(&self, _opts: &BroadcastOptions, _rooms: &[Room]) {}
    fn disconnect_sockets(&self, _opts: &BroadcastOptions, _close: bool) {}
    fn fetch_sockets(&self, _opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn server_side_emit(&self, _args: &Payload) {}
    fn server_side_emit_with_ack(&self, _a: &Payload, _t: Duration) -> AdapterFuture<Vec<Payload>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn server_count(&self) -> AdapterFuture<usize> {
        Box::pin(async { Ok(2) })
    }
    fn persist_session(&self, session: &SessionState, _ttl: Duration) {
        self.sessions.lock().expect("lock").insert(session.pid.as_str().to_owned(), session.clone());
    }
    fn restore_session(&self, pid: &str, _offset: &str) -> Option<AdapterFuture<Option<RestoredSession>>> {
        let session = self.sessions.lock().expect("lock").remove(pid);
        let missed = self.missed.lock().expect("lock").clone();
        Some(Box::pin(async move { Ok(session.map(|session| RestoredSession { session, missed })) }))
    }
}

#[tokio::test]
async fn a_session_persisted_through_the_adapter_is_restored_by_another_node_once() {
    let shared = SharedSessions::default();
    let (a, mut gone) = builder(RecoveryConfig::default());
    let (b, _) = builder(RecoveryConfig::default());
    let node_a = a.adapter(shared.clone()).build();
    let node_b = b.adapter(shared.clone()).build();
    let (addr_a, addr_b) = (tests::serve(&node_a).await, tests::serve(&node_b).await);

    let (mut ws, _, sid, pid) = connect(addr_a, None).await;
    ws.send(r#"421["join","r"]"#).await;
    assert_eq!(ws.recv_text().await, "431[true]");
    node_a.of("/").expect("/").emit("n", &1).expect("emits");
    let offset = offset_of(&ws.recv_text().await);
    drop(ws);
    within(T, "the disconnect", gone.recv()).await.expect("reported");
    let saved =
        shared.sessions.lock().expect("lock").get(&pid).cloned().expect("persisted through the adapter");
    assert_eq!(saved.rooms, vec![Room::from("r")]);
    // What the other node's log says was missed (the offset is the adapter's).
    shared
        .missed
        .lock()
        .expect("lock")
        .push(Payload { data: bytes::Bytes::from_static(br#"["n",2,"b-7"]"#), attachments: Vec::new() });

    let auth = json!({ "pid": pid, "offset": offset });
    let (mut ws, before, sid2, pid2) = connect(addr_b, Some(auth.clone())).await;
    assert_eq!((sid2.as_str(), pid2.as_str()), (sid.as_str(), pid.as_str()));
    assert_eq!(before, vec![r#"42["n",2,"b-7"]"#.to_owned()]);
    ws.send(r#"421["whoami"]"#).await;
    let me: Vec<Value> = serde_json::from_str(&ws.recv_text().await[3..]).expect("json");
    assert_eq!(me[0], json!({ "id": sid, "recovered": true, "rooms": [sid.clone(), "r".to_owned()] }));
    // Taken: a second attempt with the same pid gets a fresh socket.
    let (_ws, before, sid3, _) = connect(addr_b, Some(auth)).await;
    assert_ne!(sid3, sid);
    assert!(before.is_empty());
}

#[tokio::test]
async fn packets_from_other_nodes_carry_this_nodes_offsets_and_are_replayed() {
    let shared = SharedSessions::default();
    let (a, mut gone) = builder(RecoveryConfig::default());
    let io = a.adapter(shared.clone()).build();
    let addr = tests::serve(&io).await;
    let local = shared.locals.lock().expect("lock")[0].clone();
    let remote =
        |n: i64| Payload { data: format!(r#"["n",{n}]"#).into_bytes().into(), attachments: Vec::new() };

    let (mut ws, _, sid, pid) = connect(addr, None).await;
    assert_eq!(local.broadcast(&remote(1), &BroadcastOptions::default()), 1);
    let first = ws.recv_text().await;
    let offset = offset_of(&first);
    assert_eq!(first, format!(r#"42["n",1,"{offset}"]"#));
    drop(ws);
    within(T, "the disconnect", gone.recv()).await.expect("reported");
    local.broadcast(&remote(2), &BroadcastOptions::default());
    let volatile = BroadcastOptions { volatile: true, ..BroadcastOptions::default() };
    local.broadcast(&remote(3), &volatile);
    let (_ws, before, sid2, _) = connect(addr, Some(json!({ "pid": pid, "offset": offset }))).await;
    assert_eq!(sid2, sid);
    assert_eq!(before.len(), 1, "the volatile one is not kept: {before:?}");
    assert!(before[0].starts_with(r#"42["n",2,""#), "{before:?}");
}

/// Outgoing listeners see the arguments without the offset, and may emit (they run after the
/// recovery log's lock is released).
#[tokio::test]
async fn outgoing_listeners_see_no_offset_and_may_emit() {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let handlers =
        Handlers::new().on_any_outgoing(move |conn: &Conn, event: &str, args: &sio_core::RawArgs| {
            let _ = tx.send((event.to_owned(), args.json().map(str::to_owned).collect::<Vec<_>>()));
            if event != "seen" {
                conn.emit("seen", &event).expect("emits from a listener");
            }
        });
    let io = Server::builder().connection_state_recovery(RecoveryConfig::default()).ns("/", handlers).build();
    let addr = tests::serve(&io).await;
    let (mut ws, _, _, _) = connect(addr, None).await;
    io.of("/").expect("/").emit("n", &1).expect("broadcast");
    assert!(ws.recv_text().await.starts_with(r#"42["n",1,""#));
    assert!(ws.recv_text().await.starts_with(r#"42["seen","n",""#));
    let first = within(T, "the listener", seen.recv()).await.expect("seen");
    assert_eq!(first, ("n".to_owned(), vec!["1".to_owned()]));
    let second = within(T, "the listener", seen.recv()).await.expect("seen");
    assert_eq!(second, ("seen".to_owned(), vec![r#""n""#.to_owned()]));
}
