//! What serves a namespace: the [`NamespaceHandler`] trait (what `#[namespace]` generates),
//! its hand-written form [`Handlers`], and connect middlewares. How one event goes through
//! middlewares, handler and error hook is in `dispatch`.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::dispatch;
use super::error::{ConnectError, EventError, IntoEventError};
use super::event_ctx::EventCtx;
use super::handler_error::HandlerError;
use super::reason::DisconnectReason;
use super::socket::{Conn, Event};
use crate::engine::BoxFuture;
use crate::protocol::RawArgs;

/// What serves a namespace. `#[namespace]` impl blocks generate an implementation with a
/// static `match` on event names; [`Handlers`] is the hand-written equivalent.
///
/// The handler is shared by every socket of the namespace (`Arc<Self>`), so its futures can
/// hold on to it across awaits.
pub trait NamespaceHandler: Send + Sync + 'static {
    /// A client asks to join. Refuse with `Err` (the client gets `connect_error`). Packets
    /// emitted here are delivered right after the CONNECT reply.
    fn connect(
        self: &Arc<Self>,
        conn: Conn,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send + 'static {
        let _ = conn;
        async { Ok(()) }
    }

    /// An event arrived (and the event middlewares let it through).
    fn event(self: &Arc<Self>, conn: Conn, event: Event) -> impl Future<Output = ()> + Send + 'static;

    /// The event middlewares (Node's `socket.use`), run in order before
    /// [`NamespaceHandler::event`]; `Err` refuses the event (see [`EventError`]). Return
    /// `None` (the default) when there are none: the event then goes to its handler at once.
    fn event_middleware(
        self: &Arc<Self>,
        conn: &Conn,
        event: &Event,
    ) -> Option<impl Future<Output = Result<(), EventError>> + Send + 'static> {
        let _ = (conn, event);
        None::<std::future::Ready<Result<(), EventError>>>
    }

    /// The error hook: an incoming event went wrong ([`HandlerError`]). Return `None` (the
    /// default) when there is none; errors are then logged, and a socket whose handler
    /// panicked is disconnected.
    fn error(
        self: &Arc<Self>,
        conn: Conn,
        error: HandlerError,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        let _ = (conn, error);
        None::<std::future::Ready<()>>
    }

    /// Whether [`NamespaceHandler::error`] returns a hook (`false`, the default, when it
    /// never does): without one, an event's name is not kept aside for a panic report.
    fn has_error_hook(&self) -> bool {
        false
    }

    /// Whether [`NamespaceHandler::any_outgoing`] does something (asked once, when the
    /// namespace is created; with `false`, the default, emits never call it).
    fn has_any_outgoing(&self) -> bool {
        false
    }

    /// An event is being sent to `conn` (Node's `socket.onAnyOutgoing`).
    fn any_outgoing(self: &Arc<Self>, conn: &Conn, event: &str, args: &RawArgs) {
        let _ = (conn, event, args);
    }

    /// The socket is leaving the namespace (whatever the reason), before it leaves its rooms:
    /// [`Conn::rooms`] still lists them and broadcasts to them still count it (Node's
    /// `disconnecting`). Nothing is delivered to the socket any more. Return `None` (the
    /// default) when there is nothing to do; the socket then leaves its rooms at once. With a
    /// hook, it leaves them when the hook's future ends, then [`NamespaceHandler::disconnect`]
    /// runs.
    fn disconnecting(
        self: &Arc<Self>,
        conn: Conn,
        reason: DisconnectReason,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        let _ = (conn, reason);
        None::<std::future::Ready<()>>
    }

    /// The socket left the namespace.
    fn disconnect(
        self: &Arc<Self>,
        conn: Conn,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send + 'static {
        let _ = (conn, reason);
        async {}
    }
}

pub(crate) type ConnectFuture = Pin<Box<dyn Future<Output = Result<(), ConnectError>> + Send + 'static>>;

/// Object-safe form of [`NamespaceHandler`].
pub(crate) trait DynHandler: Send + Sync + 'static {
    fn connect(&self, conn: Conn) -> ConnectFuture;
    fn event(&self, conn: Conn, event: Event) -> BoxFuture;
    fn error(&self, conn: Conn, error: HandlerError) -> Option<BoxFuture>;
    fn has_any_outgoing(&self) -> bool;
    fn any_outgoing(&self, conn: &Conn, event: &str, args: &RawArgs);
    fn disconnecting(&self, conn: Conn, reason: DisconnectReason) -> Option<BoxFuture>;
    fn disconnect(&self, conn: Conn, reason: DisconnectReason) -> BoxFuture;
}

/// Holds a handler for the namespace table.
pub(crate) struct Holder<T>(pub(crate) Arc<T>);

impl<T: NamespaceHandler> DynHandler for Holder<T> {
    fn connect(&self, conn: Conn) -> ConnectFuture {
        Box::pin(NamespaceHandler::connect(&self.0, conn))
    }
    fn event(&self, conn: Conn, event: Event) -> BoxFuture {
        dispatch::event(&self.0, conn, event)
    }
    fn error(&self, conn: Conn, error: HandlerError) -> Option<BoxFuture> {
        NamespaceHandler::error(&self.0, conn, error).map(|f| Box::pin(f) as BoxFuture)
    }
    fn has_any_outgoing(&self) -> bool {
        NamespaceHandler::has_any_outgoing(&*self.0)
    }
    fn any_outgoing(&self, conn: &Conn, event: &str, args: &RawArgs) {
        NamespaceHandler::any_outgoing(&self.0, conn, event, args);
    }
    fn disconnecting(&self, conn: Conn, reason: DisconnectReason) -> Option<BoxFuture> {
        NamespaceHandler::disconnecting(&self.0, conn, reason).map(|f| Box::pin(f) as BoxFuture)
    }
    fn disconnect(&self, conn: Conn, reason: DisconnectReason) -> BoxFuture {
        Box::pin(NamespaceHandler::disconnect(&self.0, conn, reason))
    }
}

/// A connect middleware: sees the socket (handshake, auth) before the handler and may refuse.
pub type Middleware = Arc<dyn Fn(Conn) -> ConnectFuture + Send + Sync>;

type EventFn = Box<dyn Fn(Conn, Event) -> BoxFuture + Send + Sync>;
type AnyFn = Box<dyn Fn(&Conn, &Event) + Send + Sync>;
type EventMiddlewareFn =
    Arc<dyn Fn(Conn, EventCtx) -> Pin<Box<dyn Future<Output = Result<(), EventError>> + Send>> + Send + Sync>;
type ErrorFn = Box<dyn Fn(Conn, HandlerError) -> BoxFuture + Send + Sync>;
type OutgoingFn = Box<dyn Fn(&Conn, &str, &RawArgs) + Send + Sync>;
type ConnectFn = Box<dyn Fn(Conn) -> ConnectFuture + Send + Sync>;
type DisconnectFn = Box<dyn Fn(Conn, DisconnectReason) -> BoxFuture + Send + Sync>;

/// Hand-written handlers for a namespace, one closure per event name: the same server as a
/// `#[namespace]` impl block, without macros (and without typed server events or typings).
///
/// Each closure returns a future; the futures of one connection run on its session task,
/// started in arrival order.
///
/// ```
/// use sio_core::{Conn, ConnectError, Event, Handlers, Server};
///
/// let chat = Handlers::new()
///     .on_connect(|conn: Conn| async move {
///         let name: String = conn.handshake().query("name").ok_or(ConnectError::new("no name"))?;
///         conn.join("lobby");
///         conn.broadcast().emit("user-joined", &name).ok();
///         Ok(())
///     })
///     .on("msg", |conn: Conn, mut ev: Event| async move {
///         let text: String = ev.arg().unwrap_or_default();
///         conn.to("lobby").emit("message", &text).ok();
///         if let Some(ack) = ev.take_ack() {
///             let _ = ack.send(&format!("recv {text}"));
///         }
///     })
///     .on_disconnecting(|conn: Conn, _reason| async move {
///         // Still in its rooms: tell them.
///         conn.to("lobby").emit("user-left", &conn.id().as_str()).ok();
///     })
///     .on_disconnect(|conn: Conn, reason| async move {
///         println!("{} left: {reason}", conn.id());
///     });
/// let io = Server::builder().ns("/chat", chat).build();
/// ```
#[derive(Default)]
#[must_use = "handlers do nothing until a namespace is served with them"]
pub struct Handlers {
    events: HashMap<Box<str>, EventFn>,
    fallback: Option<EventFn>,
    any: Vec<AnyFn>,
    middlewares: Vec<EventMiddlewareFn>,
    error: Option<ErrorFn>,
    outgoing: Vec<OutgoingFn>,
    connect: Option<ConnectFn>,
    disconnecting: Option<DisconnectFn>,
    disconnect: Option<DisconnectFn>,
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers").field("events", &self.events.keys().collect::<Vec<_>>()).finish()
    }
}

impl Handlers {
    /// No handlers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles event `name` (Node's `socket.on(name, ..)`); a later handler for the same name
    /// replaces the earlier one.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// let h = Handlers::new().on("add", |_conn: Conn, mut ev: Event| async move {
    ///     let Ok((a, b)) = ev.args::<(i64, i64)>() else { return };
    ///     if let Some(ack) = ev.take_ack() {
    ///         ack.send(&(a + b)).ok();
    ///     }
    /// });
    /// ```
    pub fn on<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Conn, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.events.insert(name.into(), Box::new(move |c, e| Box::pin(f(c, e))));
        self
    }

    /// Handles every event that has no handler of its own (the `#[fallback]` of a
    /// `#[namespace]`). Without it such events are logged at debug level and dropped.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// let relay = Handlers::new().on_fallback(|conn: Conn, ev: Event| async move {
    ///     conn.broadcast().emit_args(ev.name(), ev.raw()).ok();
    /// });
    /// ```
    pub fn on_fallback<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.fallback = Some(Box::new(move |c, e| Box::pin(f(c, e))));
        self
    }

    /// Sees every incoming event, handled or not, before its handler runs (Node's
    /// `socket.onAny`): its name, its arguments ([`Event::raw`], [`Event::arg`]), whether it
    /// asks for an ack. Listeners run in the order they were added, on the connection's task,
    /// so they should be quick (log, count, sample); work that awaits belongs in a handler.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// let h = Handlers::new()
    ///     .on_any(|conn: &Conn, ev: &Event| {
    ///         tracing::debug!(sid = %conn.id(), event = ev.name(), "in");
    ///     })
    ///     .on("msg", |_conn: Conn, _ev: Event| async move {});
    /// ```
    #[doc(alias = "onAny")]
    pub fn on_any(mut self, f: impl Fn(&Conn, &Event) + Send + Sync + 'static) -> Self {
        self.any.push(Box::new(f));
        self
    }

    /// Handles event `name` with a closure that may fail: `Err` is reported to the error hook
    /// ([`HandlerError::Failed`], see [`on_error`](Handlers::on_error)) and, when the client
    /// asked for an ack, answered with the error ack `{ "error": { "message", "data"? } }`
    /// (the `#[event(err_is_error)]` of a `#[namespace]`). Reply to success through
    /// [`Event::take_ack`] as usual; a closure that replied and then fails makes a second ack,
    /// which the client ignores.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, EventError, Handlers};
    /// let h = Handlers::new().on_fallible("save", |_conn: Conn, mut ev: Event| async move {
    ///     let text: String = ev.arg().map_err(|e| EventError::new(e.to_string()))?;
    ///     if text.is_empty() {
    ///         return Err(EventError::new("empty").with_data(&serde_json::json!({ "min": 1 })));
    ///     }
    ///     if let Some(ack) = ev.take_ack() {
    ///         ack.send(&"saved").ok();
    ///     }
    ///     Ok(())
    /// });
    /// ```
    pub fn on_fallible<F, Fut, E>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Conn, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: IntoEventError + Send + 'static,
    {
        self.events.insert(
            name.into(),
            Box::new(move |c: Conn, e: Event| {
                let (name, ack_id) = (e.name_handle(), e.ack_id());
                let fut = f(c.clone(), e);
                Box::pin(dispatch::fallible(c, name, ack_id, fut))
            }),
        );
        self
    }

    /// Adds an event middleware (Node's `socket.use`): it runs for every incoming event of the
    /// namespace's sockets, before the [`on_any`](Handlers::on_any) listeners and the
    /// handler, in the order middlewares were added, each after the previous one finished.
    /// It sees the event's name and arguments ([`EventCtx`]) and may leave data for the
    /// handler in [`EventCtx::extensions`] (read with [`Event::extensions`]). An event's
    /// handler starts once its middlewares finished, so, as in Node, events whose middlewares
    /// await may reach their handlers in another order than they arrived.
    ///
    /// `Err` refuses the event: its handler and the later middlewares do not run, the client
    /// receives an event named `error` with one argument `{ "message", "data"? }` (Node 4.8
    /// raises that only on the server-side socket; sio sends it, so the client can listen with
    /// `socket.on("error", ..)`), a client that asked for an ack gets the error ack
    /// `{ "error": { "message", "data"? } }`, and the error hook gets
    /// [`HandlerError::Refused`]. A middleware that panics is caught: the event is dropped as
    /// refused (the error hook gets [`HandlerError::Panicked`], the ack says
    /// `internal error`), the socket stays.
    ///
    /// ```
    /// # use sio_core::{Conn, Event, EventCtx, EventError, Handlers};
    /// #[derive(Clone)]
    /// struct Budget(u32);
    ///
    /// let h = Handlers::new()
    ///     .use_event(|conn: Conn, ev: EventCtx| async move {
    ///         let left = conn.extensions().with::<Budget, _>(|b| b.map(|b| { b.0 = b.0.saturating_sub(1); b.0 }));
    ///         if left == Some(0) {
    ///             return Err(EventError::new("rate limited").with_data(&serde_json::json!({ "event": ev.name() })));
    ///         }
    ///         ev.extensions().insert(Budget(left.unwrap_or(u32::MAX)));
    ///         Ok(())
    ///     })
    ///     .on("msg", |_conn: Conn, ev: Event| async move {
    ///         let budget = ev.extensions().get::<Budget>(); // left by the middleware
    ///     });
    /// ```
    #[doc(alias = "use")]
    pub fn use_event<F, Fut, E>(mut self, f: F) -> Self
    where
        F: Fn(Conn, EventCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: IntoEventError + Send + 'static,
    {
        self.middlewares.push(Arc::new(move |c, ev| {
            let fut = f(c, ev);
            Box::pin(async move { fut.await.map_err(IntoEventError::into_event_error) })
        }));
        self
    }

    /// The namespace's error hook: gets every [`HandlerError`] of its sockets' events (a
    /// refusal by an event middleware, a panic of a middleware or a handler, an `Err` of an
    /// [`on_fallible`](Handlers::on_fallible) handler; with `#[namespace]`, arguments that do
    /// not decode too). A later call replaces the hook.
    ///
    /// With a hook, a socket whose handler panicked stays connected (disconnect it here if
    /// you want, `conn.disconnect()`); without one it is disconnected, as before hooks
    /// existed. A hook that panics is caught and logged. Whatever the hook does, a client that
    /// asked for an ack on the event has its error ack already.
    ///
    /// ```
    /// # use sio_core::{Conn, HandlerError, Handlers};
    /// let h = Handlers::new().on_error(|conn: Conn, err: HandlerError| async move {
    ///     tracing::warn!(sid = %conn.id(), event = err.event(), "{err}");
    ///     if matches!(err, HandlerError::Panicked { .. }) {
    ///         conn.disconnect();
    ///     }
    /// });
    /// ```
    pub fn on_error<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn, HandlerError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.error = Some(Box::new(move |c, e| Box::pin(f(c, e))));
        self
    }

    /// Sees every event sent to a socket of the namespace (Node's `socket.onAnyOutgoing`):
    /// the socket, the event name and the arguments. Direct emits ([`Conn::emit`] and its
    /// typed and ack forms) and broadcasts alike, once per recipient socket (as Node), after
    /// the packet was queued to it; acks are not events and do not show here. Listeners run in
    /// the order they were added, synchronously on the emitting task, so they should be quick;
    /// a panicking one is caught and logged. A namespace without listeners pays one branch per
    /// emit.
    ///
    /// ```
    /// # use sio_core::{Conn, Handlers, RawArgs};
    /// let h = Handlers::new().on_any_outgoing(|conn: &Conn, event: &str, args: &RawArgs| {
    ///     tracing::debug!(sid = %conn.id(), event, args = args.len(), "out");
    /// });
    /// ```
    #[doc(alias = "onAnyOutgoing")]
    pub fn on_any_outgoing(mut self, f: impl Fn(&Conn, &str, &RawArgs) + Send + Sync + 'static) -> Self {
        self.outgoing.push(Box::new(f));
        self
    }

    /// Runs when a client joins the namespace (Node's `nsp.on("connection")`), after the
    /// middlewares accepted and before the CONNECT reply; what it emits is delivered right
    /// after the reply. `Err` refuses the connection: the client's `connect_error` gets the
    /// [`ConnectError`]'s message and data.
    ///
    /// ```
    /// # use sio_core::{Conn, ConnectError, Handlers};
    /// let h = Handlers::new().on_connect(|conn: Conn| async move {
    ///     if conn.auth_raw() == "{}" {
    ///         return Err(ConnectError::new("log in first"));
    ///     }
    ///     conn.emit("welcome", &"hi").ok(); // delivered right after the CONNECT reply
    ///     Ok(())
    /// });
    /// ```
    #[doc(alias = "connection")]
    pub fn on_connect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.connect = Some(Box::new(move |c| Box::pin(f(c))));
        self
    }

    /// Runs when a socket is leaving, whatever the reason, before it leaves its rooms (Node's
    /// `socket.on("disconnecting")`): `conn.rooms()` still lists them, and a broadcast to them
    /// (without the socket, e.g. `conn.to(room)`) reaches the others. Nothing is delivered to
    /// the socket itself any more. The socket leaves its rooms when the future ends, then the
    /// [`on_disconnect`](Handlers::on_disconnect) handler runs.
    ///
    /// ```
    /// # use sio_core::{Conn, DisconnectReason, Handlers};
    /// let h = Handlers::new().on_disconnecting(|conn: Conn, _reason: DisconnectReason| async move {
    ///     for room in conn.rooms().iter().skip(1) {
    ///         conn.to(room.clone()).emit("user-left", &conn.id().as_str()).ok();
    ///     }
    /// });
    /// ```
    #[doc(alias = "disconnecting")]
    pub fn on_disconnecting<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.disconnecting = Some(Box::new(move |c, r| Box::pin(f(c, r))));
        self
    }

    /// Runs when a socket left, whatever the reason ([`DisconnectReason`]). The socket is
    /// already out of its rooms: `conn.rooms()` lists only its own id room (see
    /// [`on_disconnecting`](Handlers::on_disconnecting) for a hook that still sees them).
    ///
    /// ```
    /// # use sio_core::{Conn, DisconnectReason, Handlers};
    /// let h = Handlers::new().on_disconnect(|conn: Conn, reason: DisconnectReason| async move {
    ///     if reason == DisconnectReason::PingTimeout {
    ///         println!("{} vanished", conn.id());
    ///     }
    /// });
    /// ```
    pub fn on_disconnect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Conn, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.disconnect = Some(Box::new(move |c, r| Box::pin(f(c, r))));
        self
    }
}

impl NamespaceHandler for Handlers {
    fn connect(
        self: &Arc<Self>,
        conn: Conn,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send + 'static {
        match &self.connect {
            Some(f) => f(conn),
            None => Box::pin(async { Ok(()) }),
        }
    }
    fn event(self: &Arc<Self>, conn: Conn, event: Event) -> impl Future<Output = ()> + Send + 'static {
        if !self.any.is_empty() {
            let listeners = std::panic::AssertUnwindSafe(|| {
                for listener in &self.any {
                    listener(&conn, &event);
                }
            });
            if std::panic::catch_unwind(listeners).is_err() {
                crate::log::limited!(error, crate::log::Kind::Panic, sid = %conn.id(), event = event.name(), "an on_any listener panicked");
            }
        }
        match self.events.get(event.name()).or(self.fallback.as_ref()) {
            Some(f) => f(conn, event),
            None => {
                tracing::debug!(event = event.name(), "no handler for event");
                Box::pin(async {})
            }
        }
    }
    fn event_middleware(
        self: &Arc<Self>,
        conn: &Conn,
        event: &Event,
    ) -> Option<impl Future<Output = Result<(), EventError>> + Send + 'static> {
        if self.middlewares.is_empty() {
            return None;
        }
        let (this, conn, ctx) = (self.clone(), conn.clone(), event.ctx());
        Some(async move {
            for mw in &this.middlewares {
                mw(conn.clone(), ctx.clone()).await?;
            }
            Ok(())
        })
    }
    fn error(
        self: &Arc<Self>,
        conn: Conn,
        error: HandlerError,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        self.error.as_ref().map(|f| f(conn, error))
    }
    fn has_error_hook(&self) -> bool {
        self.error.is_some()
    }
    fn has_any_outgoing(&self) -> bool {
        !self.outgoing.is_empty()
    }
    fn any_outgoing(self: &Arc<Self>, conn: &Conn, event: &str, args: &RawArgs) {
        for listener in &self.outgoing {
            listener(conn, event, args);
        }
    }
    fn disconnecting(
        self: &Arc<Self>,
        conn: Conn,
        reason: DisconnectReason,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        self.disconnecting.as_ref().map(|f| f(conn, reason))
    }
    fn disconnect(
        self: &Arc<Self>,
        conn: Conn,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send + 'static {
        match &self.disconnect {
            Some(f) => f(conn, reason),
            None => Box::pin(async {}),
        }
    }
}

/// Builds a connect middleware from an async closure (Node's `nsp.use(fn)`), for
/// [`ServerBuilder::ns_with`](crate::ServerBuilder::ns_with) and
/// [`ServerBuilder::dynamic_ns`](crate::ServerBuilder::dynamic_ns). It sees the socket
/// (handshake, auth) before the namespace's connect handler; `Err` refuses the connection.
///
/// ```
/// use sio_core::{ConnectError, Handlers, Server, middleware};
///
/// let only_with_token = middleware(|conn| async move {
///     match conn.handshake().query("token") {
///         Some(t) if t == "secret" => Ok(()),
///         _ => Err(ConnectError::new("not authorized")),
///     }
/// });
/// let io = Server::builder().ns_with("/admin", Handlers::new(), vec![only_with_token]).build();
/// ```
pub fn middleware<F, Fut>(f: F) -> Middleware
where
    F: Fn(Conn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    Arc::new(move |c| Box::pin(f(c)))
}
