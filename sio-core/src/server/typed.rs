//! Typed server-to-client events: a `#[derive(ServerEvents)]` enum fixes what a namespace
//! may emit, so emitting anything else is a compile error.

use std::any::TypeId;
use std::fmt;

use serde::de::DeserializeOwned;

use super::ack::{AckError, AckFuture, AckReplies, AckReply};
use super::error::EmitError;
use super::operators::BroadcastOperator;
use super::socket::{Conn, ConnOperator};
use crate::protocol::WriteArgs;
use crate::schema::ServerEventSchema;

/// A set of server-to-client events, one per enum variant. Derive it with
/// [`#[derive(ServerEvents)]`](derive@crate::ServerEvents) and declare it on the namespace
/// (`#[namespace("/chat", emits = ChatEvent)]`): the namespace's [`Conn`],
/// [`BroadcastOperator`] and [`NsHandle`](crate::NsHandle) then emit only these events, and
/// the TypeScript typings list them.
///
/// ```
/// use sio_core::{Conn, ServerEvents};
///
/// /// What the server sends to clients of /chat.
/// #[derive(ServerEvents)]
/// enum ChatEvent {
///     /// "message": (text: string)
///     Message(String),
///     /// "userJoined": (name: string, count: number)
///     UserJoined { name: String, count: u32 },
///     /// "confirm": (question: string, ack: (yes: boolean) => void)
///     #[event(ack = bool)]
///     Confirm(String),
/// }
///
/// async fn greet(conn: Conn<ChatEvent>) {
///     conn.broadcast().emit(ChatEvent::UserJoined { name: "ann".into(), count: 2 }).ok();
///     let sure: bool = conn.emit_with_ack(ChatEvent::Confirm("sure?".into())).await.unwrap_or(false);
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of server events",
    note = "derive it: `#[derive(sio_core::ServerEvents)] enum {Self} {{ .. }}`, and declare it with `#[namespace(\"/path\", emits = {Self})]`"
)]
pub trait ServerEvents: Send + Sync + 'static {
    /// The event name of this value's variant.
    fn event_name(&self) -> &'static str;
    /// The variant's fields as event arguments.
    fn args(&self) -> &dyn WriteArgs;
    /// The ack type the variant declares (`#[event(ack = T)]`), if any.
    fn ack_type(&self) -> Option<TypeId>;
    /// The schema of every variant.
    fn schema() -> Vec<ServerEventSchema>
    where
        Self: Sized;
}

/// `E` declares a variant whose ack replies with `R`: the bound that lets
/// `conn.emit_with_ack(E::Variant(..))` be typed as `R`.
#[diagnostic::on_unimplemented(
    message = "no variant of `{Self}` is acknowledged with `{R}`",
    note = "declare the reply type on the variant: `#[event(ack = {R})]`"
)]
pub trait EventAck<R>: ServerEvents {}

fn check_ack<E: ServerEvents, R: 'static>(ev: &E) -> Result<(), AckError> {
    match ev.ack_type() {
        Some(t) if t == TypeId::of::<R>() => Ok(()),
        _ => Err(AckError::WrongAckType { event: ev.event_name(), expected: std::any::type_name::<R>() }),
    }
}

fn typed_reply<R: DeserializeOwned + Send + 'static>(fut: AckFuture<AckReply>) -> AckFuture<R> {
    Box::pin(async move { fut.await?.get::<R>() })
}

impl<E: ServerEvents> Conn<E> {
    /// Emits one of the namespace's server events.
    ///
    /// ```
    /// # use sio_core::{Conn, ServerEvents};
    /// #[derive(ServerEvents)]
    /// enum ChatEvent {
    ///     Message(String),
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// fn hello(conn: &Conn<ChatEvent>) {
    ///     conn.emit(ChatEvent::Message("hello".into())).ok();
    /// }
    /// ```
    ///
    /// # Errors
    /// [`EmitError::Encode`] when the payload cannot be serialized, [`EmitError::BufferFull`]
    /// when the client's queue is full (it is being disconnected),
    /// [`EmitError::Disconnected`] when the socket has left.
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.emit_dyn(event.event_name(), event.args(), false)
    }

    /// Emits an event declared with `#[event(ack = R)]` and waits for the typed reply (the
    /// server's ack timeout applies; see [`Conn::timeout`]). Awaiting a type that no variant
    /// declares does not compile.
    ///
    /// ```
    /// # use sio_core::{Conn, ServerEvents};
    /// #[derive(ServerEvents)]
    /// enum ChatEvent {
    ///     Message(String),
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// async fn ask(conn: &Conn<ChatEvent>) -> bool {
    ///     conn.emit_with_ack::<bool>(ChatEvent::Confirm("sure?".into())).await.unwrap_or(false)
    /// }
    /// ```
    ///
    /// # Errors
    /// The future fails with [`AckError::WrongAckType`] when `event`'s variant declares
    /// another ack type (or none), [`AckError::Timeout`], [`AckError::Disconnected`],
    /// [`AckError::Send`] as the untyped [`Conn::emit_with_ack`](Conn#method.emit_with_ack),
    /// and [`AckError::Decode`] when the reply is not an `R`.
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<R>(&self, event: E) -> AckFuture<R>
    where
        E: EventAck<R>,
        R: DeserializeOwned + Send + 'static,
    {
        typed_ack(&event, |name, args| self.emit_with_ack_dyn(name, args, None, false))
    }
}

impl<E: ServerEvents> ConnOperator<E> {
    /// [`Conn::emit`] with this operator's options.
    ///
    /// ```
    /// # use sio_core::{Conn, ServerEvents};
    /// #[derive(ServerEvents)]
    /// enum ChatEvent {
    ///     Message(String),
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// fn typing(conn: &Conn<ChatEvent>) {
    ///     conn.volatile().emit(ChatEvent::Message("…".into())).ok();
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit`]. A volatile emit to a full queue is dropped: it returns
    /// [`EmitError::BufferFull`] too, but the client is not disconnected.
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.emit_dyn(event.event_name(), event.args())
    }

    /// [`Conn::emit_with_ack`] with this operator's options.
    ///
    /// ```
    /// # use sio_core::{Conn, ServerEvents};
    /// #[derive(ServerEvents)]
    /// enum ChatEvent {
    ///     Message(String),
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// use std::time::Duration;
    ///
    /// async fn ask(conn: &Conn<ChatEvent>) -> bool {
    ///     let reply = conn.timeout(Duration::from_secs(3)).emit_with_ack(ChatEvent::Confirm("sure?".into()));
    ///     reply.await.unwrap_or(false)
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit_with_ack`](Conn#method.emit_with_ack-1); [`AckError::Timeout`] after
    /// this operator's timeout.
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<R>(&self, event: E) -> AckFuture<R>
    where
        E: EventAck<R>,
        R: DeserializeOwned + Send + 'static,
    {
        typed_ack(&event, |name, args| self.emit_with_ack_dyn(name, args))
    }
}

/// Checks the ack type, then emits with `send` and reads the reply as `R`.
fn typed_ack<E, R>(event: &E, send: impl FnOnce(&str, &dyn WriteArgs) -> AckFuture<AckReply>) -> AckFuture<R>
where
    E: EventAck<R>,
    R: DeserializeOwned + Send + 'static,
{
    if let Err(e) = check_ack::<E, R>(event) {
        return Box::pin(async move { Err(e) });
    }
    typed_reply(send(event.event_name(), event.args()))
}

impl<E: ServerEvents> BroadcastOperator<E> {
    /// Emits one of the namespace's server events to every selected socket.
    ///
    /// ```
    /// # use sio_core::{Conn, ServerEvents};
    /// #[derive(ServerEvents)]
    /// enum ChatEvent {
    ///     Message(String),
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// fn say(conn: &Conn<ChatEvent>, room: &str, text: &str) {
    ///     conn.to(room).emit(ChatEvent::Message(text.into())).ok();
    /// }
    /// ```
    ///
    /// # Errors
    /// [`EmitError::Encode`] when the payload cannot be serialized. Recipients whose queue is
    /// full or that have left are skipped (logged at debug level), not reported.
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.emit_dyn(event.event_name(), event.args())
    }

    /// Emits an event declared with `#[event(ack = R)]` and collects every reply until all
    /// recipients answered or the timeout passed (the server's ack timeout unless
    /// [`BroadcastOperator::timeout`] sets one).
    ///
    /// ```
    /// # use sio_core::{Conn, ServerEvents};
    /// #[derive(ServerEvents)]
    /// enum ChatEvent {
    ///     Message(String),
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// async fn poll(conn: &Conn<ChatEvent>) -> usize {
    ///     let Ok(replies) = conn.broadcast().emit_with_ack::<bool>(ChatEvent::Confirm("lunch?".into())).await
    ///     else { return 0 };
    ///     replies.replies.iter().filter(|(_sid, yes)| matches!(yes, Ok(true))).count()
    /// }
    /// ```
    ///
    /// # Errors
    /// The future fails with [`AckError::WrongAckType`] when `event`'s variant declares
    /// another ack type, and [`AckError::Send`] when the payload cannot be serialized. Missing
    /// replies are not an error ([`TypedReplies::is_complete`] tells); a reply of another type
    /// is an [`AckError::Decode`] in [`TypedReplies::replies`].
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<R>(&self, event: E) -> AckFuture<TypedReplies<R>>
    where
        E: EventAck<R>,
        R: DeserializeOwned + Send + 'static,
    {
        if let Err(e) = check_ack::<E, R>(&event) {
            return Box::pin(async move { Err(e) });
        }
        let fut = self.emit_with_ack_dyn(event.event_name(), event.args());
        Box::pin(async move {
            let AckReplies { replies, expected } = fut.await?;
            let replies = replies.into_iter().map(|r| (r.sid(), r.get::<R>())).collect();
            Ok(TypedReplies { replies, expected })
        })
    }
}

/// Typed replies of a broadcast with acknowledgements
/// ([`BroadcastOperator::emit_with_ack`](BroadcastOperator#method.emit_with_ack-1) of a typed
/// namespace).
pub struct TypedReplies<R> {
    /// One entry per socket that replied in time (an error if its reply had another type),
    /// with its id when it is on this node.
    pub replies: Vec<(Option<crate::Sid>, Result<R, AckError>)>,
    /// How many sockets the event was sent to.
    pub expected: usize,
}

impl<R> TypedReplies<R> {
    /// Whether every recipient replied before the timeout.
    pub fn is_complete(&self) -> bool {
        self.replies.len() == self.expected
    }
}

impl<R: fmt::Debug> fmt::Debug for TypedReplies<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedReplies")
            .field("replies", &self.replies)
            .field("expected", &self.expected)
            .finish()
    }
}
