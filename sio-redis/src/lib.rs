//! A Redis adapter for [sio](sio_core): several servers behind a load balancer share
//! broadcasts, room operations, `fetch_sockets` and server-side events through Redis.
//!
//! It speaks the wire formats of Node's `@socket.io/redis-adapter` 8.x and
//! `@socket.io/redis-streams-adapter` 0.3, so a cluster may mix sio servers and Node
//! `socket.io` servers: an `io.emit` on either reaches the clients of both. Node has three
//! Redis adapters, and so has this crate; every node of a cluster must use the same one
//! (their messages are not compatible):
//!
//! | | classic | sharded | streams |
//! |---|---|---|---|
//! | sio | [`RedisAdapter::connect`], [`RedisAdapter::connect_with`] | [`RedisAdapter::connect_sharded`] | [`RedisAdapter::connect_streams`] |
//! | Node | `@socket.io/redis-adapter`'s `createAdapter(pub, sub, { key })` | its `createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode })` | `@socket.io/redis-streams-adapter`'s `createAdapter(redis, { streamName, channelPrefix, maxLen, .. })` |
//! | Redis | any version: `PUBLISH`, `PSUBSCRIBE`/`SUBSCRIBE`, `PUBSUB NUMSUB` | 7.0 or later: `SPUBLISH`, `SSUBSCRIBE`, `PUBSUB SHARDNUMSUB` | 6.2 or later: `XADD`, `XREAD`, `XRANGE`, pub/sub as classic (or sharded) |
//! | recovery across nodes | no | no | yes |
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = sio_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
//! let io = sio_core::Server::builder().adapter(adapter).ns("/", sio_core::Handlers::new()).build();
//! # let _ = io; Ok(()) }
//! ```
//!
//! What crosses nodes, and how (the same in both modes):
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
//! # Sharded mode
//!
//! [`RedisAdapter::connect_sharded`] joins a cluster of Node servers created with
//! `createShardedAdapter` (socket.io-adapter's `ClusterAdapter` message format over Redis 7
//! sharded pub/sub). Per namespace, every node listens on `‹key›#‹nsp›#` and on a channel of
//! its own, `‹key›#‹nsp›#‹uid›#`, where the answers to its requests arrive; the number of
//! nodes is the number of listeners of the first (`PUBSUB SHARDNUMSUB`). A
//! [`SubscriptionMode`] (Node's `subscriptionMode`, the same on every node) decides whether
//! a broadcast to a single room travels on a channel of that room, which only the nodes
//! having the room listen to:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use sio_redis::{RedisAdapter, RedisConfig, SubscriptionMode};
//! // Node: createShardedAdapter(pub, sub, { channelPrefix: "my-app" })
//! let config = RedisConfig { key: "my-app".into(), ..Default::default() };
//! let adapter = RedisAdapter::connect_sharded("redis://127.0.0.1:6379", config, SubscriptionMode::Dynamic).await?;
//! let io = sio_core::Server::builder().adapter(adapter).ns("/", sio_core::Handlers::new()).build();
//! # let _ = io; Ok(()) }
//! ```
//!
//! In this mode [`RedisConfig::key`] is Node's `channelPrefix` (same default, `socket.io`),
//! [`RedisConfig::requests_timeout`] bounds `fetch_sockets` when the operation has no timeout
//! of its own (Node: a fixed 5 s, the default here too), and
//! [`RedisConfig::publish_on_specific_response_channel`] does not apply: answers always go to
//! the requester's own channel. Binary survives every message (MessagePack is used for a
//! message that holds binary, JSON otherwise, as Node does), server-side events included.
//! Redis Cluster is not supported: the adapter talks to one Redis server (a standalone
//! Redis 7, or one node that owns every slot the channels hash to).
//!
//! # Redis Streams
//!
//! [`RedisAdapter::connect_streams`] joins a cluster of Node servers created with
//! `@socket.io/redis-streams-adapter` 0.3's `createAdapter`. It is the one Redis adapter with
//! **connection state recovery across nodes**, and it loses nothing when a node's Redis
//! connection drops for a while:
//!
//! - broadcasts without acks, joins, leaves and disconnections are appended to a stream
//!   (`XADD MAXLEN ~ max_len`; fields `uid`, `nsp`, `type`, `data`, the body as JSON or as
//!   base64 MessagePack when it holds binary) that every node reads with `XREAD` from where it
//!   stopped;
//! - requests (`fetch_sockets`, server-side events, broadcasts with acks) and their answers
//!   travel on pub/sub as in sharded mode (`‹key›#‹nsp›#` and `‹key›#‹nsp›#‹uid›#`, always
//!   MessagePack), and the number of nodes is the number of listeners of the first;
//! - with [`connection_state_recovery`](sio_core::ServerBuilder::connection_state_recovery)
//!   on, the offset of every recoverable packet is its stream id, the same on every node:
//!   a packet (a broadcast, or an emit to one socket) is appended first and delivered once
//!   the stream has given it its id. A disconnected socket's session is kept under
//!   `‹session_key_prefix›‹pid›` for the recovery window; the node the client comes back to,
//!   whichever it is, takes it and reads the packets the socket missed from the stream.
//!
//! A client recovers only while its last offset is still in the stream: size
//! [`StreamsConfig::max_len`] for the traffic of the recovery window. A packet emitted from a
//! connect handler is sent ahead of the CONNECT reply and is not recoverable.
//!
//! # Emitter
//!
//! A process that runs no Socket.IO server (a worker, a cron job, a CLI) can still send to
//! the clients of a cluster with a [`RedisEmitter`], Node's `@socket.io/redis-emitter` 5.x:
//! broadcasts (rooms, except, other namespaces, binary, volatile), `socketsJoin`,
//! `socketsLeave`, `disconnectSockets` and server-side events without ack. It writes Node's
//! emitter's messages, so sio and Node servers on the classic adapter (same
//! [`RedisConfig::key`] as [`EmitterConfig::key`]) both act on them; servers on the
//! sharded or the streams adapter do not hear them (Node's emitter has no such mode either).
//!
//! ```no_run
//! # async fn run() -> Result<(), sio_redis::EmitterError> {
//! let emitter = sio_redis::RedisEmitter::connect("redis://127.0.0.1:6379").await?;
//! emitter.to("room1").emit("news", &"hello from a worker").await?;
//! emitter.of("/admin").in_("ops").disconnect_sockets(true).await?;
//! # Ok(()) }
//! ```
//!
//! # Failures
//!
//! Both Redis connections reconnect by themselves (the listener subscribes again to every
//! channel it had, dynamic room channels included). While Redis is unreachable, local
//! delivery goes on; messages for other nodes wait while the publisher reconnects (three
//! attempts over a few hundred milliseconds) and are then dropped with an error logged
//! once; operations that wait for other nodes fail with
//! [`AdapterError`](sio_core::adapter::AdapterError).

mod classic;
use sio_cluster::codec;
mod config;
mod conn;
mod emitter;
mod requests;
mod sharded;
mod shared;
mod streams;
mod wire;

use std::fmt;
use std::sync::Arc;

use sio_core::adapter::{Adapter, LocalNamespace, NamespaceAdapter};

pub use self::config::{RedisConfig, StreamsConfig, SubscriptionMode};
pub use self::conn::ConnectError;
pub use self::emitter::{EmitterConfig, EmitterError, EmitterOperator, RedisEmitter};
use self::shared::{Kind, Shared};

/// The adapter: install it with `Server::builder().adapter(..)`.
#[derive(Clone)]
pub struct RedisAdapter {
    shared: Arc<Shared>,
}

impl fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapter").field("key", &self.shared.config.key).finish_non_exhaustive()
    }
}

impl RedisAdapter {
    /// Connects to the Redis at `url` (`redis://host:port/db`) with the default settings
    /// (classic adapter).
    ///
    /// # Errors
    /// When `url` is not a Redis URL, or Redis cannot be reached within 5 s.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, RedisConfig::default()).await
    }

    /// Connects to the Redis at `url` with `config` (classic adapter, Node's `createAdapter`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sio_redis::ConnectError> {
    /// use std::time::Duration;
    /// use sio_redis::{RedisAdapter, RedisConfig};
    ///
    /// // Node: createAdapter(pub, sub, { key: "my-app", requestsTimeout: 2000 })
    /// let config = RedisConfig { key: "my-app".into(), requests_timeout: Duration::from_secs(2), ..Default::default() };
    /// let adapter = RedisAdapter::connect_with("redis://127.0.0.1:6379/0", config).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`RedisAdapter::connect`].
    pub async fn connect_with(url: &str, config: RedisConfig) -> Result<Self, ConnectError> {
        Ok(Self { shared: Shared::open(url, config, Kind::Classic).await? })
    }

    /// Connects to the Redis at `url` in sharded mode (Node's `createShardedAdapter`, Redis
    /// 7 sharded pub/sub), `config.key` being Node's `channelPrefix`; see the
    /// [crate docs](crate#sharded-mode).
    ///
    /// # Errors
    /// As [`RedisAdapter::connect`], and when Redis has no sharded pub/sub (before 7.0).
    pub async fn connect_sharded(
        url: &str,
        config: RedisConfig,
        mode: SubscriptionMode,
    ) -> Result<Self, ConnectError> {
        Ok(Self { shared: Shared::open(url, config, Kind::Sharded(mode)).await? })
    }

    /// Connects to the Redis at `url` as Node's `@socket.io/redis-streams-adapter` 0.3
    /// (`createAdapter(redis, opts)`), `config.key` being its `channelPrefix`; see the
    /// [crate docs](crate#redis-streams). With connection state recovery on the server, the
    /// stream's ids are the offsets and sessions are kept in Redis, so a client recovers on
    /// any node.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use sio_redis::{RedisAdapter, RedisConfig, StreamsConfig};
    /// // Node: createAdapter(redis, { streamName: "my-app", channelPrefix: "my-app" })
    /// let config = RedisConfig { key: "my-app".into(), ..Default::default() };
    /// let streams = StreamsConfig { stream_name: "my-app".into(), ..Default::default() };
    /// let adapter = RedisAdapter::connect_streams("redis://127.0.0.1:6379", config, streams).await?;
    /// let io = sio_core::Server::builder()
    ///     .adapter(adapter)
    ///     .connection_state_recovery(sio_core::RecoveryConfig::default())
    ///     .ns("/", sio_core::Handlers::new())
    ///     .build();
    /// # let _ = io; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`RedisAdapter::connect`] (and, with `use_sharded_pub_sub`, as
    /// [`RedisAdapter::connect_sharded`]).
    pub async fn connect_streams(
        url: &str,
        config: RedisConfig,
        streams: StreamsConfig,
    ) -> Result<Self, ConnectError> {
        Ok(Self { shared: Shared::open(url, config, Kind::Streams(streams)).await? })
    }
}

impl Adapter for RedisAdapter {
    fn namespace(&self, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        self.shared.namespace(local)
    }
}
