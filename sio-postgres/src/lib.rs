//! A PostgreSQL adapter for [sio](sio_core), wire-compatible with Node's
//! `@socket.io/postgres-adapter` 0.5, and an emitter compatible with
//! `@socket.io/postgres-emitter` 0.1: several servers (sio or Node, mixed) share
//! broadcasts, room operations, `fetch_sockets` and server-side events through PostgreSQL's
//! `LISTEN`/`NOTIFY`.
//!
//! | | sio | Node |
//! |---|---|---|
//! | adapter | [`PostgresAdapter::connect`]`(url, `[`PostgresConfig`]`)` | `createAdapter(pool, opts)` |
//! | emitter | [`PostgresEmitter::connect`]`(url, `[`PostgresConfig`]`)` | `new Emitter(pool, nsp, opts)` |
//! | options | `channel_prefix`, `table_name`, `payload_threshold`, `cleanup_interval`, `heartbeat_interval`, `heartbeat_timeout` | `channelPrefix`, `tableName`, `payloadThreshold`, `cleanupInterval`, `heartbeatInterval`, `heartbeatTimeout` |
//! | attachment table | created if missing (`CREATE TABLE IF NOT EXISTS`) | created by the application (README) |
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use sio_postgres::{PostgresAdapter, PostgresConfig};
//!
//! let adapter = PostgresAdapter::connect("postgres://postgres@127.0.0.1:5432/postgres", PostgresConfig::default()).await?;
//! let io = sio_core::Server::builder().adapter(adapter).ns("/", sio_core::Handlers::new()).build();
//! # let _ = io; Ok(()) }
//! ```
//!
//! What crosses nodes, and how:
//!
//! | operation | sio | Node |
//! |---|---|---|
//! | broadcast (rooms, except, volatile, binary) | `io.of("/")?.to("r").emit(..)` | `io.to("r").emit(..)` |
//! | broadcast with acks | `.emit_with_ack(..)` | `io.timeout(ms).emit(.., cb)` |
//! | join / leave / disconnect | `.join(..)`, `.leave(..)`, `.disconnect()`, `.close()` | `socketsJoin`, `socketsLeave`, `disconnectSockets` |
//! | sockets of every node | `.fetch_sockets().await` | `fetchSockets()` |
//! | server-side events | `server_side_emit`, `on_server_event` | `serverSideEmit`, `io.on(..)` |
//! | number of nodes | `server_count().await` | `serverCount()` |
//!
//! # On the wire
//!
//! The adapter is socket.io-adapter's `ClusterAdapterWithHeartbeat` ([`sio_cluster`]):
//! messages `{type, data, uid, nsp}`, heartbeats every `heartbeat_interval` of silence, a
//! node counted as gone after `heartbeat_timeout` without a message from it. Every message
//! of namespace `nsp`, answers included, is a notification on channel
//! `‹channel_prefix›#‹nsp›` (`SELECT pg_notify($1, $2)`), every node LISTENing to it. A
//! message that holds binary (a broadcast, a server-side event, or a reply to either), or
//! whose JSON is `payload_threshold` bytes or longer, is stored in MessagePack in the
//! attachment table (`id bigserial, created_at timestamptz, payload bytea`), and the
//! notification is `{"uid":..,"type":..,"attachmentId":"‹id›"}`; attachments older than
//! `cleanup_interval` are deleted every `cleanup_interval`.
//!
//! The emitter sends as Node's emitter (`uid` `"emitter"`, never counted as a node) and,
//! unlike it, sets `nsp` on its messages, which Node's adapter 0.5 needs to route them (it
//! drops the messages of Node's own emitter 0.1, which have none; sio's adapter takes them).
//!
//! # Failures
//!
//! The adapter uses two connections: one publishes (in order, from one task; reopened on
//! the next message after it broke) and reads attachments, the other LISTENs. When the
//! LISTEN connection breaks (PostgreSQL restarts, the backend is terminated), it reconnects
//! with a growing, jittered delay (250 ms to 5 s) and LISTENs again to every channel; while
//! it is down, `fetch_sockets`, `server_side_emit_with_ack`, `server_count` and broadcasts
//! with acks fail at once with
//! [`AdapterError::Unavailable`](sio_core::adapter::AdapterError::Unavailable) saying so, and
//! messages from other nodes are missed. Messages that cannot be sent are logged and
//! dropped (as Node). Notifications that are not the adapter's (not JSON, unknown type,
//! wrong shape, a missing attachment) are logged at debug level and ignored.

mod adapter;
mod config;
mod db;
mod emitter;

pub use self::adapter::PostgresAdapter;
pub use self::config::PostgresConfig;
pub use self::db::ConnectError;
pub use self::emitter::{EmitError, PostgresEmitter};
