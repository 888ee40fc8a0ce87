#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[doc(hidden)]
pub mod __bench;
#[doc(hidden)]
pub mod __fuzz;
#[doc(hidden)]
pub mod __private;
pub mod engine;
pub mod protocol;
pub mod schema;
// Two nested `if`s in server/client.rs that clippy would collapse into let-chains now that
// the rust-version is 1.88 wait for the rewrite of server/ under way; remove this then.
#[allow(clippy::collapsible_if)]
mod server;
mod service;
mod sid;

pub use engine::{Cors, TransportKind};
pub use protocol::{Binary, FromArgs, RawArgs, ToArgs};
pub use server::adapter;
pub use server::{
    AckError, AckFuture, AckReplies, AckReply, AckSender, BroadcastOperator, Conn, ConnectError,
    DisconnectReason, EmitError, EncodeError, Event, EventAck, Extensions, Handlers, Handshake, Middleware,
    NamespaceHandler, NamespaceStats, NsHandle, Room, Server, ServerBuilder, ServerEvents, ServerStats,
    TimeoutConn, TypedNamespace, TypedReplies, Untyped, middleware,
};
pub use service::{SioLayer, SioLayerService, SioService};
pub use sid::Sid;
pub use sio_macros::{ServerEvents, namespace};
/// The TypeScript side of payload types: derive it (`#[derive(TS)]`, from the `ts-rs` crate)
/// on every type used in events, acks and server events.
pub use ts_rs::{self, TS};

/// Everything a server needs, in one import.
pub mod prelude {
    pub use crate::{
        AckError, Binary, BroadcastOperator, Conn, ConnectError, Cors, DisconnectReason, Event, Handlers,
        Handshake, RawArgs, Room, Server, ServerEvents, Sid, TS, namespace,
    };
}
