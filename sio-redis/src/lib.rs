//! A Redis adapter for [sio](sio_core): several servers behind a load balancer share
//! broadcasts, room operations, `fetch_sockets` and server-side events through Redis
//! pub/sub.
//!
//! It speaks the wire format of Node's `@socket.io/redis-adapter` 8.x, so a cluster may mix
//! sio servers and Node `socket.io` servers: an `io.emit` on either reaches the clients of
//! both. Node's package has two adapters, and so has this crate; every node of a cluster
//! must use the same one (their messages are not compatible):
//!
//! | | classic | sharded |
//! |---|---|---|
//! | sio | [`RedisAdapter::connect`], [`RedisAdapter::connect_with`] | [`RedisAdapter::connect_sharded`] |
//! | Node | `createAdapter(pub, sub, { key })` | `createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode })` |
//! | Redis | any version: `PUBLISH`, `PSUBSCRIBE`/`SUBSCRIBE`, `PUBSUB NUMSUB` | 7.0 or later: `SPUBLISH`, `SSUBSCRIBE`, `PUBSUB SHARDNUMSUB` |
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
//! # Emitter
//!
//! A process that runs no Socket.IO server (a worker, a cron job, a CLI) can still send to
//! the clients of a cluster with a [`RedisEmitter`], Node's `@socket.io/redis-emitter` 5.x:
//! broadcasts (rooms, except, other namespaces, binary, volatile), `socketsJoin`,
//! `socketsLeave`, `disconnectSockets` and server-side events without ack. It writes Node's
//! emitter's messages, so sio and Node servers on the classic adapter (same
//! [`RedisConfig::key`] as [`EmitterConfig::key`]) both act on them; servers on the
//! sharded adapter do not hear them (Node's emitter has no sharded mode either).
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
//! delivery goes on, messages for other nodes are dropped with an error logged once, and
//! operations that wait for other nodes fail with
//! [`AdapterError`](sio_core::adapter::AdapterError).

mod classic;
mod codec;
mod config;
mod conn;
mod emitter;
mod requests;
mod sharded;
mod shared;
mod wire;

use std::fmt;
use std::sync::Arc;

use sio_core::adapter::{Adapter, LocalNamespace, NamespaceAdapter};

pub use self::config::{RedisConfig, SubscriptionMode};
pub use self::conn::ConnectError;
pub use self::emitter::{EmitterConfig, EmitterError, EmitterOperator, RedisEmitter};
use self::shared::Shared;

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
        Ok(Self { shared: Shared::open(url, config, None).await? })
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
        Ok(Self { shared: Shared::open(url, config, Some(mode)).await? })
    }
}

impl Adapter for RedisAdapter {
    fn namespace(&self, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        self.shared.namespace(local)
    }
}
