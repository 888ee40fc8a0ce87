//! Acknowledgements the server asked for: pending entries, replies and errors.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

use crate::Sid;
use crate::protocol::{FromArgs, RawArgs, decode_args};

/// The future of an emit with acknowledgement.
pub type AckFuture<T> = Pin<Box<dyn Future<Output = Result<T, AckError>> + Send + 'static>>;

/// A client's reply to an emit with ack: its arguments, raw.
#[derive(Debug, Clone)]
pub struct AckReply {
    pub(crate) data: Bytes,
    pub(crate) attachments: Vec<Bytes>,
    pub(crate) sid: Option<Sid>,
}

impl From<super::adapter::Payload> for AckReply {
    fn from(p: super::adapter::Payload) -> Self {
        Self { data: p.data, attachments: p.attachments, sid: None }
    }
}

impl AckReply {
    /// The socket that replied, when it is on this node (replies relayed from other nodes
    /// carry no id).
    pub fn sid(&self) -> Option<Sid> {
        self.sid
    }

    /// The reply as an adapter forwards it.
    pub fn payload(&self) -> super::adapter::Payload {
        super::adapter::Payload { data: self.data.clone(), attachments: self.attachments.clone() }
    }

    /// The first reply argument as `T` (what `emitWithAck` resolves to in JavaScript).
    pub fn get<T: DeserializeOwned>(&self) -> Result<T, AckError> {
        decode_args::<(T,)>(&self.data, 0, &self.attachments).map(|(v,)| v).map_err(AckError::Decode)
    }

    /// Every reply argument, typed as a tuple.
    pub fn args<T: FromArgs>(&self) -> Result<T, AckError> {
        decode_args::<T>(&self.data, 0, &self.attachments).map_err(AckError::Decode)
    }

    /// Every reply argument, untyped.
    pub fn raw(&self) -> RawArgs {
        decode_args::<RawArgs>(&self.data, 0, &self.attachments).unwrap_or_default()
    }
}

/// Why an acknowledgement did not arrive as expected.
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
    Send(super::EmitError),
    /// The event's variant declares another ack type than the one awaited.
    WrongAckType {
        /// The event name.
        event: &'static str,
        /// The type the caller awaited.
        expected: &'static str,
    },
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("no acknowledgement within the timeout"),
            AckError::Disconnected => f.write_str("the socket disconnected before acknowledging"),
            AckError::Decode(e) => write!(f, "unexpected acknowledgement payload: {e}"),
            AckError::Send(e) => write!(f, "could not send: {e}"),
            AckError::WrongAckType { event, expected } => {
                write!(
                    f,
                    "event `{event}` is not acknowledged with `{expected}` (see its #[event(ack = ..)])"
                )
            }
        }
    }
}

impl std::error::Error for AckError {}

/// Replies collected by a broadcast with acknowledgements.
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
    pub fn values<T: DeserializeOwned>(&self) -> Result<Vec<T>, AckError> {
        self.replies.iter().map(AckReply::get).collect()
    }
}

/// A pending acknowledgement in a socket's table.
#[derive(Debug)]
pub(crate) enum AckEntry {
    One(oneshot::Sender<AckReply>),
    Many(mpsc::UnboundedSender<(Sid, AckReply)>),
}
