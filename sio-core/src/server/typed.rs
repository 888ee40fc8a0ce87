//! Typed server-to-client events: a `#[server_events]` enum fixes what a namespace may emit,
//! so emitting anything else is a compile error, and an event that asks the client for an ack
//! is its own type, so its reply is typed by the event itself.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::ack::{AckError, AckFuture, AckReplies, AckReply};
use super::error::EmitError;
use super::operators::BroadcastOperator;
use super::socket::{Conn, ConnOperator};
use crate::protocol::{ToArgs, WriteArgs};
use crate::schema::ServerEventSchema;

/// A set of server-to-client events. Declare it with
/// [`#[server_events]`](macro@crate::server_events) on an enum and name it on the namespace
/// (`#[namespace("/chat", emits = ChatEvent)]`): the namespace's [`Conn`],
/// [`BroadcastOperator`] and [`NsHandle`](crate::NsHandle) then emit only these events, and
/// the TypeScript typings list them.
///
/// The enum's variants are the events sent without an ack ([`Conn::emit`]). A variant marked
/// `#[event(ack = R)]` becomes a constructor of the same name returning an [`Ask`]: it can
/// only be sent with [`Conn::emit_with_ack`], whose future yields exactly that `R`.
///
/// ```
/// use sio_core::{AckError, Conn, server_events};
///
/// /// What the server sends to clients of /chat.
/// #[server_events]
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
/// async fn greet(conn: Conn<ChatEvent>) -> Result<bool, AckError> {
///     conn.broadcast().emit(ChatEvent::UserJoined { name: "ann".into(), count: 2 }).ok();
///     conn.emit_with_ack(ChatEvent::Confirm("sure?".into())).await // Result<bool, AckError>
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of server events",
    note = "declare it: `#[sio_core::server_events] enum {Self} {{ .. }}`, and name it on the namespace: `#[namespace(\"/path\", emits = {Self})]`"
)]
pub trait ServerEvents: Send + Sync + 'static {
    /// The event name of this value's variant.
    fn event_name(&self) -> &'static str;
    /// The variant's fields as event arguments.
    fn args(&self) -> &dyn WriteArgs;
    /// The schema of every event, those with an ack included.
    fn schema() -> Vec<ServerEventSchema>
    where
        Self: Sized;
}

/// An event of `E` that asks the client for an ack replying with `R`, with its arguments `A`
/// (a tuple). Built by the constructor `#[server_events]` generates for a variant marked
/// `#[event(ack = R)]` (`ChatEvent::Confirm("sure?".into())`), sent with `emit_with_ack`
/// ([`Conn::emit_with_ack`](Conn#method.emit_with_ack-1),
/// [`BroadcastOperator::emit_with_ack`](BroadcastOperator#method.emit_with_ack-1),
/// [`NsHandle::emit_with_ack`](crate::NsHandle#method.emit_with_ack)), never with `emit`.
///
/// ```
/// use sio_core::{Ask, server_events};
///
/// #[server_events]
/// enum GameEvent {
///     #[event(ack = bool)]
///     Ready,
///     #[event(ack = u32)]
///     Bid { item: String, min: u32 },
/// }
///
/// let ask: Ask<GameEvent, u32, (String, u32)> = GameEvent::Bid("lamp".into(), 5);
/// assert_eq!(ask.event_name(), "bid");
/// assert_eq!(GameEvent::Ready.event_name(), "ready");
/// ```
pub struct Ask<E, R, A> {
    name: &'static str,
    args: A,
    _types: PhantomData<fn() -> (E, R)>,
}

impl<E, R, A> Ask<E, R, A> {
    #[doc(hidden)]
    pub const fn __new(name: &'static str, args: A) -> Self {
        Self { name, args, _types: PhantomData }
    }

    /// The event name on the wire.
    pub fn event_name(&self) -> &'static str {
        self.name
    }

    /// The arguments.
    pub fn args(&self) -> &A {
        &self.args
    }
}

impl<E, R, A: Clone> Clone for Ask<E, R, A> {
    fn clone(&self) -> Self {
        Self { name: self.name, args: self.args.clone(), _types: PhantomData }
    }
}

impl<E, R, A: fmt::Debug> fmt::Debug for Ask<E, R, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ask")
            .field("event", &self.name)
            .field("args", &self.args)
            .field("reply", &std::any::type_name::<R>())
            .finish()
    }
}

/// An event `emit` sends: a value of the namespace's events enum `E`. Only `E` itself
/// implements it; the bound exists to explain what went wrong when an event that asks for an
/// ack is given to `emit`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event of `{E}` sent without an ack",
    label = "`emit` sends the variants of `{E}`",
    note = "an event declared with `#[event(ack = R)]` is sent with `emit_with_ack`, whose future yields the client's reply"
)]
pub trait PlainEvent<E> {
    #[doc(hidden)]
    fn __into_event(self) -> E;
}

impl<E: ServerEvents> PlainEvent<E> for E {
    fn __into_event(self) -> E {
        self
    }
}

/// An event `emit_with_ack` sends: an [`Ask`] of the namespace's events `E`, whose reply type
/// is the one the event declares.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event of `{E}` that asks for an ack",
    label = "`emit_with_ack` sends the events declared with `#[event(ack = R)]`",
    note = "declare the reply type on the variant, `#[event(ack = R)]`: its constructor then returns an `Ask` whose reply is `R`; events without an ack are sent with `emit`"
)]
pub trait AckEvent<E> {
    /// The type of the client's reply.
    type Reply: DeserializeOwned + Send + 'static;
    #[doc(hidden)]
    fn __name(&self) -> &'static str;
    #[doc(hidden)]
    fn __args(&self) -> &dyn WriteArgs;
}

impl<E, R, A> AckEvent<E> for Ask<E, R, A>
where
    R: DeserializeOwned + Send + 'static,
    A: ToArgs,
{
    type Reply = R;
    fn __name(&self) -> &'static str {
        self.name
    }
    fn __args(&self) -> &dyn WriteArgs {
        &self.args
    }
}

fn typed_reply<R: DeserializeOwned + Send + 'static>(fut: AckFuture<AckReply>) -> AckFuture<R> {
    Box::pin(async move { fut.await?.get::<R>() })
}

impl<E: ServerEvents> Conn<E> {
    /// Emits one of the namespace's server events (a variant of `E`).
    ///
    /// ```
    /// # use sio_core::{Conn, server_events};
    /// #[server_events]
    /// enum ChatEvent {
    ///     Message(String),
    /// }
    /// fn hello(conn: &Conn<ChatEvent>) {
    ///     conn.emit(ChatEvent::Message("hello".into())).ok();
    /// }
    /// ```
    ///
    /// An event that asks for an ack does not compile here: it is sent with
    /// [`Conn::emit_with_ack`](Conn#method.emit_with_ack-1).
    ///
    /// # Errors
    /// [`EmitError::Encode`] when the payload cannot be serialized, [`EmitError::BufferFull`]
    /// when the client's queue is full (it is being disconnected),
    /// [`EmitError::Disconnected`] when the socket has left.
    pub fn emit(&self, event: impl PlainEvent<E>) -> Result<(), EmitError> {
        let event = event.__into_event();
        self.emit_dyn(event.event_name(), event.args(), false)
    }

    /// Emits an event declared with `#[event(ack = R)]` and waits for the client's reply,
    /// typed `R` (the server's ack timeout applies; see [`Conn::timeout`]).
    ///
    /// ```
    /// # use sio_core::{AckError, Conn, server_events};
    /// #[server_events]
    /// enum ChatEvent {
    ///     Message(String),
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// async fn ask(conn: &Conn<ChatEvent>) -> Result<bool, AckError> {
    ///     conn.emit_with_ack(ChatEvent::Confirm("sure?".into())).await
    /// }
    /// ```
    ///
    /// # Errors
    /// The future fails with [`AckError::Timeout`], [`AckError::Disconnected`],
    /// [`AckError::Send`] as the untyped [`Conn::emit_with_ack`](Conn#method.emit_with_ack),
    /// and [`AckError::Decode`] when the reply is not an `R`.
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<Q: AckEvent<E>>(&self, event: Q) -> AckFuture<Q::Reply> {
        typed_reply(self.emit_with_ack_dyn(event.__name(), event.__args(), None, false))
    }
}

impl<E: ServerEvents> ConnOperator<E> {
    /// [`Conn::emit`] with this operator's options.
    ///
    /// ```
    /// # use sio_core::{Conn, server_events};
    /// #[server_events]
    /// enum ChatEvent {
    ///     Message(String),
    /// }
    /// fn typing(conn: &Conn<ChatEvent>) {
    ///     conn.volatile().emit(ChatEvent::Message("…".into())).ok();
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`Conn::emit`]. A volatile emit to a full queue is dropped: it returns
    /// [`EmitError::BufferFull`] too, but the client is not disconnected.
    pub fn emit(&self, event: impl PlainEvent<E>) -> Result<(), EmitError> {
        let event = event.__into_event();
        self.emit_dyn(event.event_name(), event.args())
    }

    /// [`Conn::emit_with_ack`] with this operator's options.
    ///
    /// ```
    /// # use sio_core::{Conn, server_events};
    /// #[server_events]
    /// enum ChatEvent {
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
    pub fn emit_with_ack<Q: AckEvent<E>>(&self, event: Q) -> AckFuture<Q::Reply> {
        typed_reply(self.emit_with_ack_dyn(event.__name(), event.__args()))
    }
}

impl<E: ServerEvents> BroadcastOperator<E> {
    /// Emits one of the namespace's server events to every selected socket.
    ///
    /// ```
    /// # use sio_core::{Conn, server_events};
    /// #[server_events]
    /// enum ChatEvent {
    ///     Message(String),
    /// }
    /// fn say(conn: &Conn<ChatEvent>, room: &str, text: &str) {
    ///     conn.to(room).emit(ChatEvent::Message(text.into())).ok();
    /// }
    /// ```
    ///
    /// # Errors
    /// [`EmitError::Encode`] when the payload cannot be serialized. Recipients whose queue is
    /// full or that have left are skipped (logged at debug level), not reported.
    pub fn emit(&self, event: impl PlainEvent<E>) -> Result<(), EmitError> {
        let event = event.__into_event();
        self.emit_dyn(event.event_name(), event.args())
    }

    /// Emits an event declared with `#[event(ack = R)]` and collects every reply, typed `R`,
    /// until all recipients answered or the timeout passed (the server's ack timeout unless
    /// [`BroadcastOperator::timeout`] sets one).
    ///
    /// ```
    /// # use sio_core::{Conn, server_events};
    /// #[server_events]
    /// enum ChatEvent {
    ///     #[event(ack = bool)]
    ///     Confirm(String),
    /// }
    /// async fn poll(conn: &Conn<ChatEvent>) -> usize {
    ///     let Ok(replies) = conn.broadcast().emit_with_ack(ChatEvent::Confirm("lunch?".into())).await
    ///     else { return 0 };
    ///     replies.replies.iter().filter(|(_sid, yes)| matches!(yes, Ok(true))).count()
    /// }
    /// ```
    ///
    /// # Errors
    /// The future fails with [`AckError::Send`] when the payload cannot be serialized.
    /// Missing replies are not an error ([`TypedReplies::is_complete`] tells); a reply of
    /// another type is an [`AckError::Decode`] in [`TypedReplies::replies`].
    #[doc(alias = "emitWithAck")]
    pub fn emit_with_ack<Q: AckEvent<E>>(&self, event: Q) -> AckFuture<TypedReplies<Q::Reply>> {
        typed_replies(self.emit_with_ack_dyn(event.__name(), event.__args()))
    }
}

/// Reads every reply of a broadcast as `R`.
pub(crate) fn typed_replies<R: DeserializeOwned + Send + 'static>(
    fut: AckFuture<AckReplies>,
) -> AckFuture<TypedReplies<R>> {
    Box::pin(async move {
        let AckReplies { replies, expected } = fut.await?;
        let replies = replies.into_iter().map(|r| (r.sid(), r.get::<R>())).collect();
        Ok(TypedReplies { replies, expected })
    })
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
