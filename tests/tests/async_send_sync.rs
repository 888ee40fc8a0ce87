//! Compile-time promises: the handles users keep in their state and move across tasks are
//! `Send + Sync`, and the futures we return are `Send + 'static`.

use sio_core::{
    AckFuture, AckReplies, AckReply, BroadcastOperator, Conn, Event, EventCtx, EventError, HandlerError,
    Handlers, NsHandle, Server, SioService,
};

fn send_sync<T: Send + Sync>() {}
fn send_static<T: Send + 'static>(_: &T) {}

#[test]
fn handles_are_send_and_sync() {
    send_sync::<Server>();
    send_sync::<Conn>();
    send_sync::<NsHandle>();
    send_sync::<BroadcastOperator>();
    send_sync::<Handlers>();
    send_sync::<SioService>();
    send_sync::<AckReply>();
    send_sync::<sio_core::Sid>();
    // Errors and settings of the engine hooks (errors go into `Box<dyn Error + Send + Sync>`).
    send_sync::<sio_core::ClientDirError>();
    send_sync::<sio_core::engine::Forbidden>();
    send_sync::<sio_core::SessionCookie>();
    send_sync::<EventCtx>();
    send_sync::<EventError>();
    send_sync::<HandlerError>();
    fn send<T: Send>() {}
    send::<Event>();
    send::<AckFuture<AckReply>>();
    send::<AckFuture<AckReplies>>();
}

#[allow(dead_code)]
fn futures_are_send(conn: Conn, op: BroadcastOperator) {
    send_static(&conn.emit_with_ack("x", &1));
    send_static(&conn.timeout(std::time::Duration::from_secs(1)).emit_with_ack("x", &1));
    send_static(&op.emit_with_ack("x", &1));
}
