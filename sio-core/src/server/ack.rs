//! Acknowledgements the server asked for: pending entries, replies and errors.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

use super::error::EmitError;
use crate::Sid;
use crate::protocol::{ArgsAt, FromArgs, Payload, RawArgs, decode_args_at};

/// The future of an emit with acknowledgement.
pub type AckFuture<T> = Pin<Box<dyn Future<Output = Result<T, AckError>> + Send + 'static>>;

/// A client's reply to an emit with ack: its arguments, raw, read on demand.
///
/// What [`Conn::emit_with_ack`](crate::Conn::emit_with_ack) resolves to, and one entry of
/// [`AckReplies`]. The client replies with its callback: `cb(value)` is read with
/// [`AckReply::get`], `cb(a, b)` with [`AckReply::args`].
///
/// ```
/// use sio_core::AckReply;
/// use sio_core::protocol::Payload;
///
/// // What `cb({ ok: true }, 2)` on the client arrives as:
/// let reply = AckReply::from(Payload::encode(None, &(serde_json::json!({ "ok": true }), 2)).unwrap());
/// let first: serde_json::Value = reply.get().unwrap();
/// let (status, n): (serde_json::Value, u32) = reply.args().unwrap();
/// assert_eq!((first["ok"].as_bool(), n), (Some(true), 2));
/// assert_eq!(reply.raw().len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct AckReply {
    payload: Payload,
    sid: Option<Sid>,
}

impl From<Payload> for AckReply {
    fn from(payload: Payload) -> Self {
        Self { payload, sid: None }
    }
}

impl AckReply {
    pub(crate) fn new(payload: Payload, sid: Option<Sid>) -> Self {
        Self { payload, sid }
    }

    /// The socket that replied, when it is on this node (replies relayed from other nodes
    /// carry no id).
    pub fn sid(&self) -> Option<Sid> {
        self.sid
    }

    /// The reply's arguments as they arrived (what an adapter forwards).
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The first reply argument as `T` (what `emitWithAck` resolves to in JavaScript).
    ///
    /// ```
    /// # use sio_core::{Conn, Event, Handlers};
    /// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
    /// // socket.on("confirm", (q, cb) => cb(window.confirm(q))) on the client
    /// let yes = match conn.emit_with_ack("confirm", &"delete?").await {
    ///     Ok(reply) => reply.get::<bool>().unwrap_or(false),
    ///     Err(_) => false, // timeout, disconnected
    /// };
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`AckError::Decode`] when the first argument is missing or not a `T`.
    pub fn get<T: DeserializeOwned>(&self) -> Result<T, AckError> {
        decode_args_at::<(T,)>(&self.payload.data, ArgsAt::Skip(0), &self.payload.attachments)
            .map(|(v,)| v)
            .map_err(AckError::Decode)
    }

    /// Every reply argument, typed as a tuple.
    ///
    /// ```
    /// # use sio_core::AckReply;
    /// # use sio_core::protocol::Payload;
    /// // cb(null, "saved") on the client, Node's (err, value) convention:
    /// let reply = AckReply::from(Payload::encode(None, &((), "saved")).unwrap());
    /// let (err, value): (Option<String>, String) = reply.args().unwrap();
    /// assert_eq!((err, value.as_str()), (None, "saved"));
    /// ```
    ///
    /// # Errors
    /// [`AckError::Decode`] when the arguments do not deserialize as `T`.
    pub fn args<T: FromArgs>(&self) -> Result<T, AckError> {
        decode_args_at::<T>(&self.payload.data, ArgsAt::Skip(0), &self.payload.attachments)
            .map_err(AckError::Decode)
    }

    /// Every reply argument, untyped (JSON and binary; empty if they cannot be read), e.g. to
    /// relay them.
    ///
    /// ```
    /// # use sio_core::AckReply;
    /// # use sio_core::protocol::Payload;
    /// let reply = AckReply::from(Payload::encode(None, &(1, "two")).unwrap());
    /// assert_eq!(reply.raw().json().collect::<Vec<_>>(), ["1", "\"two\""]);
    /// ```
    pub fn raw(&self) -> RawArgs {
        decode_args_at::<RawArgs>(&self.payload.data, ArgsAt::Skip(0), &self.payload.attachments)
            .unwrap_or_default()
    }
}

/// Why an acknowledgement did not arrive as expected: the error of every emit with ack's
/// future, and of reading a reply ([`AckReply::get`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum AckError {
    /// No reply within the timeout.
    Timeout,
    /// The socket disconnected before replying.
    Disconnected,
    /// The reply did not have the expected type.
    Decode(serde_json::Error),
    /// The packet could not be sent (queue full, socket closed, payload not serializable).
    Send(EmitError),
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("no acknowledgement within the timeout"),
            AckError::Disconnected => f.write_str("the socket disconnected before acknowledging"),
            AckError::Decode(e) => write!(f, "unexpected acknowledgement payload: {e}"),
            AckError::Send(e) => write!(f, "could not send: {e}"),
        }
    }
}

impl std::error::Error for AckError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AckError::Decode(e) => Some(e),
            AckError::Send(e) => Some(e),
            _ => None,
        }
    }
}

/// Replies collected by a broadcast with acknowledgements
/// ([`BroadcastOperator::emit_with_ack`](crate::BroadcastOperator::emit_with_ack)), in the
/// order they arrived.
///
/// ```
/// # use sio_core::{Conn, Event, Handlers};
/// use std::time::Duration;
///
/// # let _ = Handlers::new().on("ev", |conn: Conn, _ev: Event| async move {
/// let op = conn.to("lobby").timeout(Duration::from_secs(5));
/// if let Ok(replies) = op.emit_with_ack("vote", &"pizza?").await {
///     let yes = replies.values::<bool>().unwrap_or_default().into_iter().filter(|v| *v).count();
///     println!("{yes} yes out of {} asked", replies.expected);
///     if !replies.is_complete() {
///         println!("{} did not answer in time", replies.expected - replies.replies.len());
///     }
/// }
/// # });
/// ```
#[derive(Debug)]
pub struct AckReplies {
    /// One entry per socket that replied in time (on any node; see [`AckReply::sid`]).
    pub replies: Vec<AckReply>,
    /// How many sockets the packet was sent to (on every node that reported in time).
    pub expected: usize,
}

impl AckReplies {
    /// Whether every recipient replied before the timeout.
    pub fn is_complete(&self) -> bool {
        self.replies.len() == self.expected
    }

    /// The first argument of every reply, typed.
    ///
    /// ```
    /// # use sio_core::{AckReplies, AckReply};
    /// # use sio_core::protocol::Payload;
    /// let reply = |v: bool| AckReply::from(Payload::encode(None, &(v,)).unwrap());
    /// let replies = AckReplies { replies: vec![reply(true), reply(false)], expected: 3 };
    /// assert_eq!(replies.values::<bool>().unwrap(), [true, false]);
    /// assert!(!replies.is_complete());
    /// ```
    ///
    /// # Errors
    /// The first [`AckError::Decode`] of a reply that is not a `T`.
    pub fn values<T: DeserializeOwned>(&self) -> Result<Vec<T>, AckError> {
        self.replies.iter().map(AckReply::get).collect()
    }
}

/// A pending acknowledgement in a socket's table.
#[derive(Debug)]
pub(crate) enum AckEntry {
    One(oneshot::Sender<Payload>),
    Many(mpsc::UnboundedSender<(Sid, Payload)>),
}
