//! What a namespace's error hook receives: [`HandlerError`], and the error ack a client that
//! asked for an ack gets instead of waiting forever.

use std::any::Any;
use std::fmt;

use super::error::EventError;

/// Something that went wrong with one incoming event, as the namespace's error hook receives
/// it ([`Handlers::on_error`](crate::Handlers::on_error), `#[error]` in a `#[namespace]`).
/// Without a hook these are logged (a panic at error level, the rest at debug level).
///
/// A client that asked for an ack on such an event gets one argument,
/// `{ "error": { "message": string, "data"?: any } }` (see [`HandlerError::client_message`]),
/// so its callback fires instead of waiting forever.
///
/// ```
/// use sio_core::{Conn, HandlerError, Handlers};
///
/// let h = Handlers::new().on_error(|conn: Conn, err: HandlerError| async move {
///     match &err {
///         HandlerError::InvalidArgs { event, error, .. } => {
///             tracing::warn!(sid = %conn.id(), event, %error, "bad arguments")
///         }
///         HandlerError::Panicked { event, .. } => tracing::error!(event, "handler bug"),
///         other => tracing::info!("{other}"),
///     }
/// });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HandlerError {
    /// The event's arguments do not deserialize as the handler's parameters (a
    /// `#[namespace]` handler: the handler is not called).
    #[non_exhaustive]
    InvalidArgs {
        /// The event name.
        event: String,
        /// serde's error.
        error: serde_json::Error,
    },
    /// An event middleware refused the event (the handler is not called; the client got an
    /// `error` event).
    #[non_exhaustive]
    Refused {
        /// The event name.
        event: String,
        /// The middleware's error.
        error: EventError,
    },
    /// An event middleware or the handler panicked (caught: the connection goes on).
    #[non_exhaustive]
    Panicked {
        /// The event name.
        event: String,
        /// The panic's message, when it was a string.
        message: String,
    },
    /// A handler that treats `Err` as an error (`#[event(err_is_error)]`,
    /// [`Handlers::on_fallible`](crate::Handlers::on_fallible)) returned one.
    #[non_exhaustive]
    Failed {
        /// The event name.
        event: String,
        /// The handler's error.
        error: EventError,
    },
}

impl HandlerError {
    /// The name of the event this error is about.
    pub fn event(&self) -> &str {
        match self {
            HandlerError::InvalidArgs { event, .. }
            | HandlerError::Refused { event, .. }
            | HandlerError::Panicked { event, .. }
            | HandlerError::Failed { event, .. } => event,
        }
    }

    /// The `{ "message", "data"? }` a client that asked for an ack receives under `"error"`:
    /// the serde error for invalid arguments (`invalid arguments: ..`), the [`EventError`] of
    /// a refusal or a failed handler, and only `internal error` for a panic (its message
    /// stays on the server).
    pub fn client_message(&self) -> serde_json::Value {
        match self {
            HandlerError::InvalidArgs { error, .. } => {
                serde_json::json!({ "message": format!("invalid arguments: {error}") })
            }
            HandlerError::Refused { error, .. } | HandlerError::Failed { error, .. } => error.to_json(),
            HandlerError::Panicked { .. } => serde_json::json!({ "message": "internal error" }),
        }
    }

    pub(crate) fn panicked(event: String, payload: &(dyn Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        HandlerError::Panicked { event, message }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::InvalidArgs { event, error } => {
                write!(f, "invalid arguments for `{event}`: {error}")
            }
            HandlerError::Refused { event, error } => write!(f, "`{event}` refused: {error}"),
            HandlerError::Panicked { event, message } => {
                write!(f, "the handler of `{event}` panicked: {message}")
            }
            HandlerError::Failed { event, error } => write!(f, "the handler of `{event}` failed: {error}"),
        }
    }
}

impl std::error::Error for HandlerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandlerError::InvalidArgs { error, .. } => Some(error),
            HandlerError::Refused { error, .. } | HandlerError::Failed { error, .. } => Some(error),
            HandlerError::Panicked { .. } => None,
        }
    }
}
