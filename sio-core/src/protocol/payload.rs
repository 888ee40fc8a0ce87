//! A packet's arguments as one value: the JSON array and its attachments. What an ack reply
//! is, and what crosses nodes through an adapter.

use std::fmt;

use bytes::Bytes;

use super::args::{ArgsAt, WriteArgs, decode_args_at, write_array};
use super::{RawArgs, ToArgs};

/// A packet's arguments: a JSON array (binary values are `{"_placeholder":true,"num":N}`) and
/// the attachments the placeholders point to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    /// The JSON array, e.g. `["event",1,{"_placeholder":true,"num":0}]`.
    pub data: Bytes,
    /// Binary attachments, by placeholder number.
    pub attachments: Vec<Bytes>,
}

impl Payload {
    /// Encodes `args` (with the event name first when given).
    ///
    /// ```
    /// use sio_core::protocol::Payload;
    /// use sio_core::Binary;
    ///
    /// let p = Payload::encode(Some("file"), &("a.txt", Binary::from(vec![1u8, 2]))).unwrap();
    /// assert_eq!(&p.data[..], br#"["file","a.txt",{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(p.attachments.len(), 1);
    /// ```
    ///
    /// # Errors
    /// When a value's `Serialize` implementation fails.
    pub fn encode<A: ToArgs>(event: Option<&str>, args: &A) -> Result<Self, EncodeError> {
        Self::encode_dyn(event, args)
    }

    pub(crate) fn encode_dyn(event: Option<&str>, args: &dyn WriteArgs) -> Result<Self, EncodeError> {
        let mut data = Vec::with_capacity(64);
        let bins = write_array(&mut data, event, args).map_err(EncodeError)?;
        Ok(Self { data: data.into(), attachments: bins })
    }

    /// The arguments, untyped (the event name included when there is one).
    pub fn args(&self) -> RawArgs {
        decode_args_at::<RawArgs>(&self.data, ArgsAt::Skip(0), &self.attachments).unwrap_or_default()
    }
}

/// Why an outbound packet could not be encoded (a `Serialize` impl failed).
#[derive(Debug)]
pub struct EncodeError(pub(crate) serde_json::Error);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not encode the payload: {}", self.0)
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
