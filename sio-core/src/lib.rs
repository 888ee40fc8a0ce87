#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod engine;
pub mod protocol;
mod server;
mod service;
mod sid;

pub use engine::{Cors, TransportKind};
pub use protocol::{Binary, FromArgs, RawArgs, ToArgs};
pub use server::{
    AckError, AckFuture, AckReplies, AckReply, AckSender, BroadcastOperator, Conn, ConnectError,
    DisconnectReason, EmitError, EncodeError, ErasedArgs, Event, Extensions, Handlers, Handshake, Middleware,
    NamespaceHandler, NsHandle, Room, Server, ServerBuilder, TimeoutConn, Untyped, middleware,
};
pub use service::{SioLayer, SioLayerService, SioService};
pub use sid::Sid;

/// Everything a server needs, in one import.
pub mod prelude {
    pub use crate::{
        AckError, Binary, BroadcastOperator, Conn, ConnectError, Cors, DisconnectReason, Event, Handlers,
        RawArgs, Room, Server, Sid,
    };
}
