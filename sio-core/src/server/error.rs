//! The errors of the socket API: emits that fail, namespace connections that are refused.

use std::any::Any;
use std::fmt;

use serde::Serialize;

use crate::protocol::EncodeError;

/// The API [`ConnectError`] and [`EventError`] share: a message the client reads as
/// `err.message`, optional data as `err.data`.
macro_rules! refusal {
    ($ty:ident, $what:literal) => {
        impl $ty {
            #[doc = concat!($what, " with a message (`err.message` on the client).")]
            pub fn new(message: impl Into<String>) -> Self {
                Self { message: message.into(), data: None }
            }

            /// Adds `data` (`err.data` on the client). A value that does not serialize is left out.
            #[must_use]
            pub fn with_data<T: Serialize + ?Sized>(mut self, data: &T) -> Self {
                self.data = serde_json::to_value(data).ok();
                self
            }

            /// The message.
            pub fn message(&self) -> &str {
                &self.message
            }

            /// The data, if any.
            pub fn data(&self) -> Option<&serde_json::Value> {
                self.data.as_ref()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.message)
            }
        }

        impl std::error::Error for $ty {}

        impl From<String> for $ty {
            fn from(message: String) -> Self {
                $ty::new(message)
            }
        }

        impl From<&str> for $ty {
            fn from(message: &str) -> Self {
                $ty::new(message)
            }
        }
    };
}

/// Why an emit failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmitError {
    /// The payload's `Serialize` impl failed.
    Encode(EncodeError),
    /// The client's outbound queue is full: the client is being disconnected, or, for a
    /// volatile emit, the packet was dropped (the client stays).
    BufferFull,
    /// The socket is disconnected.
    Disconnected,
}

impl From<EncodeError> for EmitError {
    fn from(e: EncodeError) -> Self {
        EmitError::Encode(e)
    }
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::Encode(e) => e.fmt(f),
            EmitError::BufferFull => f.write_str("the client's outbound queue is full"),
            EmitError::Disconnected => f.write_str("the socket is disconnected"),
        }
    }
}

impl std::error::Error for EmitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmitError::Encode(e) => Some(e),
            _ => None,
        }
    }
}

/// A refused namespace connection: the client's `connect_error` gets `message` and `data`.
///
/// A `#[connect]` handler or a middleware returns it to refuse; a `#[connect]` handler may
/// also return `Result<(), E>` with any error type of its own (see [`IntoConnectError`]).
///
/// ```
/// use sio_core::ConnectError;
///
/// let e = ConnectError::new("room is full").with_data(&serde_json::json!({ "retry_in": 30 }));
/// assert_eq!(e.to_string(), "room is full");
/// ```
#[derive(Debug, Clone)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

refusal!(ConnectError, "A refusal");

/// What a `#[connect]` handler's error becomes: the refusal the client receives.
///
/// Implemented for every type that is `Display` (the client's `err.message` is its text), and
/// for [`ConnectError`] itself, which keeps its data. So a handler can return
/// `Result<(), MyError>`, `Result<(), anyhow::Error>` or `Result<(), String>` as well as
/// `Result<(), ConnectError>`.
///
/// ```
/// use sio_core::{ConnectError, IntoConnectError};
///
/// let e = std::io::Error::other("database down").into_connect_error();
/// assert_eq!(e.message(), "database down");
/// let kept = ConnectError::new("no").with_data(&1).into_connect_error();
/// assert_eq!(kept.data(), Some(&serde_json::json!(1)));
/// ```
pub trait IntoConnectError {
    /// The refusal.
    fn into_connect_error(self) -> ConnectError;
}

impl<E: fmt::Display + 'static> IntoConnectError for E {
    fn into_connect_error(self) -> ConnectError {
        match (&self as &dyn Any).downcast_ref::<ConnectError>() {
            Some(e) => e.clone(),
            None => ConnectError::new(self.to_string()),
        }
    }
}

/// A refused incoming event: what an event middleware returns to stop an event before its
/// handler (Node's `next(new Error(..))` in `socket.use`).
///
/// The client receives an event named `error` with one argument `{ "message", "data"? }`, a
/// client that asked for an ack gets the error ack (`{ "error": { "message", "data"? } }`),
/// and the namespace's error hook gets [`HandlerError::Refused`](crate::HandlerError).
///
/// ```
/// use sio_core::EventError;
///
/// let e = EventError::new("slow down").with_data(&serde_json::json!({ "retry_in": 5 }));
/// assert_eq!(e.message(), "slow down");
/// ```
#[derive(Debug, Clone)]
pub struct EventError {
    message: String,
    data: Option<serde_json::Value>,
}

refusal!(EventError, "An error");

impl EventError {
    /// `{"message": .., "data": ..}`, as the client receives it.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.data {
            Some(d) => serde_json::json!({ "message": self.message, "data": d }),
            None => serde_json::json!({ "message": self.message }),
        }
    }
}

/// What the error of an event middleware, or of a handler that treats `Err` as an error
/// (`#[event(err_is_error)]`), becomes: the `{ message, data? }` the client receives.
///
/// Implemented for every `Display` type (the message is its text) and for [`EventError`]
/// itself, which keeps its data.
///
/// ```
/// use sio_core::{EventError, IntoEventError};
///
/// assert_eq!("not allowed".into_event_error().message(), "not allowed");
/// let kept = EventError::new("no").with_data(&1).into_event_error();
/// assert_eq!(kept.data(), Some(&serde_json::json!(1)));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the error of an event: it is not `Display`",
    label = "the client receives this error's text as `message`",
    note = "use an error type that implements `std::fmt::Display`, or `sio_core::EventError` for a message with data"
)]
pub trait IntoEventError {
    /// The error the client receives.
    fn into_event_error(self) -> EventError;
}

impl<E: fmt::Display + 'static> IntoEventError for E {
    fn into_event_error(self) -> EventError {
        match (&self as &dyn Any).downcast_ref::<EventError>() {
            Some(e) => e.clone(),
            None => EventError::new(self.to_string()),
        }
    }
}
