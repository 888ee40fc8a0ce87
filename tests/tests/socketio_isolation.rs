//! A handler that panics takes down only its own socket: the client's other namespaces, the
//! session task and every other client keep being served. A panic outside event handlers
//! (a connect or disconnect handler) closes only that connection.

mod common;

use std::time::Duration;

use common::{Ws, recv};
use sio_core::{Conn, DisconnectReason, Event, Handlers, Server};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_disconnects_only_its_socket() {
    tests::init_tracing();
    let (tx, mut reasons) = mpsc::unbounded_channel();
    let handlers = Handlers::new()
        .on("boom", |_c: Conn, _e: Event| async move { panic!("handler bug") })
        .on("later-boom", |_c: Conn, _e: Event| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            panic!("handler bug after an await")
        })
        .on("ack", |_c: Conn, mut e: Event| async move {
            let args = e.raw();
            if let Some(a) = e.take_ack() {
                let _ = a.send_args(args);
            }
        })
        .on_disconnect(move |_c: Conn, r: DisconnectReason| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(r.as_str().to_owned());
            }
        });
    let other_ns = Handlers::new().on("ack", |_c: Conn, mut e: Event| async move {
        let args = e.raw();
        if let Some(a) = e.take_ack() {
            let _ = a.send_args(args);
        }
    });
    let bad_connect = Handlers::new().on_connect(|_c: Conn| async move { panic!("connect handler bug") });
    let io =
        Server::builder().ns("/", handlers).ns("/other", other_ns).ns("/bad-connect", bad_connect).build();
    let addr = tests::serve(&io).await;

    let mut bystander = Ws::connect(addr).await;
    bystander.connect_ns("/").await;

    let mut victim = Ws::connect(addr).await;
    victim.connect_ns("/").await;
    victim.connect_ns("/other").await;
    for event in ["boom", "later-boom"] {
        victim.send(&format!(r#"42["{event}"]"#)).await;
        // Only the socket of "/" is disconnected, as by `conn.disconnect()`.
        assert_eq!(victim.recv_text().await, "41");
        assert_eq!(
            recv(&mut reasons, "the victim's disconnect handler").await,
            "server namespace disconnect"
        );
        // Its connection and its other namespace still work, and so does everyone else.
        victim.send(r#"42/other,7["ack","alive"]"#).await;
        assert_eq!(victim.recv_text().await, r#"43/other,7["alive"]"#);
        bystander.ack_round_trip(1, r#""still served""#).await;
        victim.connect_ns("/").await;
    }
    assert_eq!(io.connection_count(), 2);

    // Outside event handlers there is no socket to blame: the connection is closed.
    let mut doomed = Ws::connect(addr).await;
    doomed.send("40/bad-connect,").await;
    doomed.expect_closed_within(common::T).await;
    bystander.ack_round_trip(2, r#""still served""#).await;
}
