#![doc = include_str!("../docs/crate.md")]
#![forbid(unsafe_code)]

#[cfg(feature = "__internals")]
#[doc(hidden)]
pub mod __bench;
#[doc(hidden)]
pub mod __client;
#[cfg(feature = "__internals")]
#[doc(hidden)]
pub mod __fuzz;
#[doc(hidden)]
pub mod __private;
pub mod adapter;
#[cfg(feature = "admin-ui")]
pub mod admin;
mod client_dist;
pub mod engine;
mod log;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod protocol;
mod room;
pub mod schema;
mod serve;
mod server;
mod service;
mod sid;

pub use client_dist::ClientDirError;
pub use engine::{Cors, HttpCompression, PerMessageDeflate, SameSite, SessionCookie, TransportKind};
pub use protocol::EncodeError;
pub use protocol::{Binary, FromArgs, Parser, RawArgs, ToArgs};
pub use room::Room;
pub use serve::{LISTEN_BACKLOG, Serve, listen, serve};
pub use server::{
    AckError, AckEvent, AckFuture, AckReplies, AckReply, AckSender, Ask, BroadcastOperator, Conn,
    ConnOperator, ConnectError, DisconnectReason, EmitError, Event, EventCtx, EventError, Extensions,
    HandlerError, Handlers, Handshake, IntoConnectError, IntoEventError, Middleware, NamespaceHandler,
    NamespaceStats, NsHandle, PlainEvent, RecoveryConfig, RemoteSocket, Server, ServerBuilder, ServerEvents,
    ServerStats, TypedNamespace, TypedReplies, Untyped, middleware,
};
pub use service::{SioLayer, SioLayerService, SioService};
pub use sid::Sid;
pub use sio_macros::{TS, namespace, server_events};
/// ts-rs, for its `Config` and for implementing `TS` by hand.
pub use ts_rs;
/// The TypeScript side of payload types (`ts_rs::TS`): `#[derive(TS)]` it on every type used in
/// events, acks and server events. The derive is sio's (it needs no `ts-rs` dependency).
pub use ts_trait::*;

/// `sio_core::TS` is ts-rs's trait and sio's derive: the glob brings the trait (and ts-rs's
/// derive, which the explicit `sio_macros::TS` import above shadows).
mod ts_trait {
    pub use ts_rs::TS;
}

/// Everything a server needs, in one import.
pub mod prelude {
    pub use crate::{
        AckError, Binary, BroadcastOperator, Conn, ConnectError, Cors, DisconnectReason, Event, EventCtx,
        EventError, Extensions, HandlerError, Handlers, Handshake, RawArgs, Room, Server, ServerEvents, Sid,
        TS, namespace, server_events,
    };
}
