//! A handler that panics takes down only its own connection: the session task survives the
//! unwind, cleans up, and every other client keeps being served.

mod common;

use std::time::Duration;

use common::{T, Ws, recv, within};
use sio_core::{Conn, DisconnectReason, Event, Handlers, Server};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_closes_only_its_connection() {
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
    let io = Server::builder().ns("/", handlers).build();
    let addr = tests::serve(&io).await;

    let mut bystander = Ws::connect(addr).await;
    bystander.connect_ns("/").await;

    for event in ["boom", "later-boom"] {
        let mut victim = Ws::connect(addr).await;
        victim.connect_ns("/").await;
        victim.send(&format!(r#"42["{event}"]"#)).await;
        victim.expect_closed_within(T).await;
        assert_eq!(recv(&mut reasons, "the victim's disconnect handler").await, "transport error");
        bystander.ack_round_trip(1, r#""still served""#).await;
    }
    within(T, "sessions are cleaned up", async {
        while io.connection_count() != 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
