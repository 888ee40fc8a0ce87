//! One incoming event's way through its namespace: event middlewares, the handler, and what
//! happens when something goes wrong (the error ack, the `error` event, the error hook).
//!
//! Every user future runs under `catch_unwind`: a panic never reaches the connection's task.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt as _;

use super::error::{EventError, IntoEventError};
use super::handler_error::HandlerError;
use super::handlers::NamespaceHandler;
use super::socket::{AckSender, Conn, Event};
use crate::engine::BoxFuture;
use crate::protocol::EventName;

/// The future of one event: middlewares (if any), then the handler.
pub(crate) fn event<T: NamespaceHandler>(handler: &Arc<T>, conn: Conn, event: Event) -> BoxFuture {
    #[cfg(feature = "admin-ui")]
    if let Some(admin) = &conn.inner.ns.config.admin
        && admin.watches(conn.inner.ns.path())
    {
        admin.event_received(conn.inner.ns.path(), conn.id().as_str(), event.name(), &event.raw());
    }
    let timer = Timer::start(&conn);
    timed(handler, conn, event, timer)
}

/// Records the handler latency of the namespace when dropped, i.e. when the event's future
/// ends however it ends (with metrics on; nothing otherwise). Moved into the event's own
/// future, so it costs no allocation of its own.
struct Timer {
    #[cfg(feature = "metrics")]
    started: Option<(crate::metrics::Latency, std::time::Instant)>,
}

impl Timer {
    fn start(conn: &Conn) -> Self {
        #[cfg(feature = "metrics")]
        return Self { started: conn.inner.ns.latency.clone().map(|l| (l, std::time::Instant::now())) };
        #[cfg(not(feature = "metrics"))]
        {
            let _ = conn;
            Self {}
        }
    }
}

#[cfg(feature = "metrics")]
impl Drop for Timer {
    fn drop(&mut self) {
        if let Some((latency, start)) = self.started.take() {
            latency.observe(start);
        }
    }
}

fn timed<T: NamespaceHandler>(handler: &Arc<T>, conn: Conn, event: Event, timer: Timer) -> BoxFuture {
    let ack_id = event.ack_id();
    // Kept for the hook's report of a panic; without a hook the log goes without it (a clone
    // per event is measurable on the echo path).
    let name = if handler.has_error_hook() { event.name_handle() } else { None };
    // The synchronous parts (building the futures) run no user code in `Handlers` (its
    // `on_any` listeners are guarded there) nor in `#[namespace]`: no `catch_unwind` here,
    // which would move the event through memory on every event.
    let Some(mw) = handler.event_middleware(&conn, &event) else {
        // No middleware: the handler's synchronous part (e.g. `on_any` listeners) runs now,
        // in arrival order, as before middlewares existed.
        let fut = handler.event(conn.clone(), event);
        return Box::pin(async move {
            let _timer = timer;
            if let Err(panic) = AssertUnwindSafe(fut).catch_unwind().await {
                panicked(&conn, name, ack_id, panic).await;
            }
        });
    };
    let handler = handler.clone();
    let name = name.or_else(|| event.name_handle()); // events with middlewares: always named
    Box::pin(async move {
        let _timer = timer;
        let mut event = event;
        match AssertUnwindSafe(mw).catch_unwind().await {
            Ok(Ok(())) => {}
            Ok(Err(refusal)) => return refused(&conn, &mut event, refusal).await,
            Err(panic) => return panicked(&conn, name, ack_id, panic).await,
        }
        let run = async { handler.event(conn.clone(), event).await };
        if let Err(panic) = AssertUnwindSafe(run).catch_unwind().await {
            panicked(&conn, name, ack_id, panic).await;
        }
    })
}

/// A middleware refused the event: the client's `error` event, its error ack, the hook.
async fn refused(conn: &Conn, event: &mut Event, refusal: EventError) {
    let _ = conn.untyped().emit("error", &refusal.to_json());
    let error = HandlerError::Refused { event: event.name().to_owned(), error: refusal };
    if let Some(ack) = event.take_ack() {
        error_ack(ack, &error);
    }
    report(conn, error).await;
}

/// A middleware or the handler panicked: the error ack, the hook (or, without one, the
/// socket is disconnected, as before hooks existed). Boxed: the event's future keeps only a
/// pointer for this rare path.
fn panicked(
    conn: &Conn,
    name: Option<EventName>,
    ack_id: Option<u64>,
    panic: Box<dyn Any + Send>,
) -> BoxFuture {
    let conn = conn.clone();
    Box::pin(async move {
        let event = name.as_ref().map_or("", EventName::as_str).to_owned();
        let error = HandlerError::panicked(event, &*panic);
        crate::log::limited!(error, crate::log::Kind::Panic, sid = %conn.id(), ns = conn.namespace().path(), event = error.event(), "an event handler panicked");
        if let Some(id) = ack_id {
            error_ack(AckSender::for_id(conn.inner.clone(), id), &error);
        }
        if !report(&conn, error).await {
            crate::log::limited!(error, crate::log::Kind::Panic, sid = %conn.id(), "no error hook: disconnecting the socket whose handler panicked");
            conn.disconnect();
        }
    })
}

/// The arguments did not decode for a `#[namespace]` handler.
pub(crate) async fn invalid_args(conn: &Conn, ack: Option<AckSender>, name: &str, error: serde_json::Error) {
    let error = HandlerError::InvalidArgs { event: name.to_owned(), error };
    if let Some(ack) = ack {
        error_ack(ack, &error);
    }
    report(conn, error).await;
}

/// A handler that treats `Err` as an error returned one.
pub(crate) async fn failed(conn: &Conn, ack: Option<AckSender>, name: &str, error: EventError) {
    let error = HandlerError::Failed { event: name.to_owned(), error };
    if let Some(ack) = ack {
        error_ack(ack, &error);
    }
    report(conn, error).await;
}

/// [`Handlers::on_fallible`](crate::Handlers::on_fallible): the closure's `Err` as
/// [`failed`]; `name` and `ack_id` are the event's, taken before it moved into the closure.
pub(crate) async fn fallible<E: IntoEventError>(
    conn: Conn,
    name: Option<EventName>,
    ack_id: Option<u64>,
    fut: impl std::future::Future<Output = Result<(), E>>,
) {
    if let Err(e) = fut.await {
        let ack = ack_id.map(|id| AckSender::for_id(conn.inner.clone(), id));
        failed(&conn, ack, name.as_ref().map_or("", EventName::as_str), e.into_event_error()).await;
    }
}

/// `{"error": {"message", "data"?}}` to a client that asked for an ack.
fn error_ack(ack: AckSender, error: &HandlerError) {
    if let Err(e) = ack.send(&serde_json::json!({ "error": error.client_message() })) {
        tracing::debug!(error = %e, "error ack not sent");
    }
}

/// Gives `error` to the namespace's error hook (a panicking hook is caught); false when the
/// namespace has none.
async fn report(conn: &Conn, error: HandlerError) -> bool {
    tracing::debug!(sid = %conn.id(), ns = conn.namespace().path(), %error, "event error");
    let handler = conn.inner.ns.handler.clone();
    let hook = match std::panic::catch_unwind(AssertUnwindSafe(|| handler.error(conn.clone(), error))) {
        Ok(Some(hook)) => hook,
        Ok(None) => return false,
        Err(_) => {
            crate::log::limited!(error, crate::log::Kind::Panic, sid = %conn.id(), "the error hook panicked");
            return true;
        }
    };
    if AssertUnwindSafe(hook).catch_unwind().await.is_err() {
        crate::log::limited!(error, crate::log::Kind::Panic, sid = %conn.id(), "the error hook panicked");
    }
    true
}
