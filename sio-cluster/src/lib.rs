//! The cluster machinery of Node's socket.io-adapter (`ClusterAdapter` and
//! `ClusterAdapterWithHeartbeat`) for [sio](sio_core), independent of how messages travel:
//! an adapter provides a [`Transport`] (publish to every node, answer one node) and gets, per
//! namespace, a [`ClusterNamespace`] that implements sio's
//! [`NamespaceAdapter`](sio_core::adapter::NamespaceAdapter) and speaks the exact messages of
//! Node's cluster adapters, so sio and Node servers can share a cluster.
//!
//! Used by `sio-postgres` (Node's `@socket.io/postgres-adapter`, which is a
//! `ClusterAdapterWithHeartbeat`).
//!
//! | sio | Node (socket.io-adapter 2.5) |
//! |---|---|
//! | [`ClusterNamespace::with_heartbeat`] | `class extends ClusterAdapterWithHeartbeat` |
//! | [`ClusterNamespace::without_heartbeat`] | `class extends ClusterAdapter` |
//! | [`Transport::publish`] | `doPublish(message)` |
//! | [`Transport::publish_response`] | `doPublishResponse(requesterUid, response)` |
//! | [`ClusterNamespace::receive`] | `onMessage(message)` / `onResponse(response)` |
//! | [`ClusterConfig`] `heartbeat_interval`, `heartbeat_timeout` | `heartbeatInterval`, `heartbeatTimeout` |
//! | [`MessageType`] | `MessageType` (1 to 13) |
//!
//! # Messages
//!
//! Every message is `{type, data, uid, nsp}` ([`Outgoing`]): `uid` is the sending node's id
//! in the namespace (16 hex digits, new at each start), `data` the body of its type
//! (heartbeats and `ADAPTER_CLOSE` have none). A transport writes it in JSON, or in
//! MessagePack ([`Outgoing::to_msgpack`]) where Node does (binary, or a size limit); binary
//! survives both ways, server-side events and acknowledgements included. Broadcasts and
//! room operations are applied locally by the sender (sio does that itself) and every node
//! ignores its own messages.
//!
//! # Nodes and requests
//!
//! With heartbeats, a node counts the others it has heard from within
//! [`ClusterConfig::heartbeat_timeout`] (`server_count` is that number plus one); Node's
//! emitters (`uid` [`EMITTER_UID`]) are not nodes. `fetch_sockets` and server-side emits with
//! ack await one answer from each node known when they are sent, and end early, without
//! error, when such a node goes (`ADAPTER_CLOSE` or silence). A broadcast with acks reports
//! [`RemoteAck::CountsComplete`](sio_core::adapter::RemoteAck::CountsComplete) once each of
//! those nodes reported its count.
//!
//! # Failures
//!
//! Undecodable or malformed messages are logged (debug level) and ignored. When the
//! transport says the other nodes are unreachable ([`Transport::available`]), operations
//! that wait for them fail at once with that
//! [`AdapterError`](sio_core::adapter::AdapterError); those that do not wait are handed to
//! the transport, whose errors are its own to log.

// Shared with `sio-redis`, not a stable API.
#[doc(hidden)]
pub mod codec;
mod config;
mod namespace;
// Shared with `sio-redis`, not a stable API.
#[doc(hidden)]
pub mod wire;

pub use self::config::ClusterConfig;
pub use self::namespace::{ClusterNamespace, EMITTER_UID, Transport};
pub use self::wire::messages::{MessageType, Outgoing};
