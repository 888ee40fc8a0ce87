//! A description of a namespace's events, emitted by `#[namespace]` and
//! `#[derive(ServerEvents)]`, for generators (TypeScript typings, docs, clients).

/// A Rust type as written in the source, with its full name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRef {
    /// The type as written (`Vec<ChatMsg>`).
    pub written: &'static str,
    /// `std::any::type_name` of the type.
    pub type_name: &'static str,
}

impl TypeRef {
    /// Describes `T`, written as `written`.
    pub fn of<T: ?Sized>(written: &'static str) -> Self {
        Self { written, type_name: std::any::type_name::<T>() }
    }
}

/// One argument of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSchema {
    /// The parameter or field name (`_0`, `_1`... for tuple fields).
    pub name: &'static str,
    /// Its type.
    pub ty: TypeRef,
    /// Whether it may be absent (a trailing `Option`).
    pub optional: bool,
    /// Whether it captures every remaining argument ([`RawArgs`](crate::RawArgs)).
    pub rest: bool,
}

/// A client-to-server event handled by a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSchema {
    /// The event name on the wire.
    pub name: &'static str,
    /// The Rust method that handles it.
    pub handler: &'static str,
    /// Its doc comment.
    pub docs: &'static str,
    /// Its arguments, in order.
    pub args: Vec<ArgSchema>,
    /// The ack reply type, when the handler returns a value.
    pub ack: Option<TypeRef>,
}

/// A server-to-client event (one variant of a `ServerEvents` enum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEventSchema {
    /// The event name on the wire.
    pub name: &'static str,
    /// The variant.
    pub variant: &'static str,
    /// Its doc comment.
    pub docs: &'static str,
    /// Its arguments (the variant's fields, in order).
    pub args: Vec<ArgSchema>,
    /// The type the client's ack callback replies with, if the event expects one.
    pub ack: Option<TypeRef>,
}

/// Everything a `#[namespace]` impl block declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceSchema {
    /// The namespace path, e.g. `/chat`.
    pub path: &'static str,
    /// The Rust type that serves it.
    pub rust_name: &'static str,
    /// Its doc comment.
    pub docs: &'static str,
    /// The auth payload the connect handler expects.
    pub auth: Option<TypeRef>,
    /// Client-to-server events.
    pub events: Vec<EventSchema>,
    /// Server-to-client events (`emits = E`), empty when untyped.
    pub server_events: Vec<ServerEventSchema>,
}
