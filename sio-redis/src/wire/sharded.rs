//! The sharded adapter's messages (Node's `createShardedAdapter`, socket.io-adapter's
//! `ClusterAdapter` format): every message is a [`Message`], `{type, data, uid, nsp}`, in
//! JSON, or in MessagePack when `data` holds binary. The bodies are `sio-cluster`'s.

use rmpv::Value as Mp;
use serde::{Deserialize, Serialize};
pub(crate) use sio_cluster::wire::messages::{
    Body, BroadcastBody, ClientCountBody, DisconnectBody, EmitBody, FetchBody, FetchResponseBody,
    MessageType, ReplyBody, RoomsBody,
};

use super::{lenient, to_json, to_msgpack};

/// A message: `{type, data, uid, nsp}`. `D` is the [`Body`] of its type; a received
/// message is read with the body as a MessagePack value first, then (`super::from_mp`)
/// as the body its type calls for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message<D = Mp> {
    /// What the message is.
    #[serde(rename = "type")]
    pub(crate) kind: MessageType,
    /// Its body.
    pub(crate) data: D,
    /// The sending node.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) uid: Option<String>,
    /// The namespace.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) nsp: Option<String>,
}

impl<D: Body> Message<D> {
    /// A message of type `kind` from node `uid` in namespace `nsp`.
    pub(crate) fn new(kind: MessageType, data: D, uid: &str, nsp: &str) -> Self {
        Self { kind, data, uid: Some(uid.to_owned()), nsp: Some(nsp.to_owned()) }
    }

    /// The bytes to publish: MessagePack when the body holds binary, else JSON (as Node).
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        if self.data.has_binary() { to_msgpack(self) } else { to_json(self) }
    }
}
