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
//! # Failures
//!
//! Both Redis connections reconnect by themselves (the listener subscribes again to every
//! channel it had, dynamic room channels included). While Redis is unreachable, local
//! delivery goes on, messages for other nodes are dropped with an error logged once, and
//! operations that wait for other nodes fail with
//! [`AdapterError`](sio_core::adapter::AdapterError).

mod codec;
mod conn;
mod ns;
mod requests;
mod sharded;
mod wire;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use sio_core::adapter::{Adapter, LocalNamespace, NamespaceAdapter};

use self::conn::Connections;
use self::ns::{Channel, RedisNamespace};
use self::sharded::ShardedNamespace;

/// Settings, with the defaults of Node's adapter.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// Prefix of every channel (Node's `key`). Default `socket.io`; every node of a cluster
    /// must use the same.
    pub key: String,
    /// How long `fetch_sockets` and server-side emits with ack wait for the other nodes
    /// (Node's `requestsTimeout`). Default 5 s.
    pub requests_timeout: Duration,
    /// Answer requests on the requester's own response channel rather than the shared one
    /// (Node's `publishOnSpecificResponseChannel`). Default `false`.
    pub publish_on_specific_response_channel: bool,
}

/// Which channels a node listens to in sharded mode, besides the two every node has (Node's
/// `subscriptionMode` of `createShardedAdapter`). Every node of a cluster must use the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SubscriptionMode {
    /// `"static"`: no room channels; every broadcast reaches every node, which keeps what
    /// concerns its sockets. Two subscriptions per namespace, whatever the number of rooms.
    Static,
    /// `"dynamic"` (Node's default): a node listens to the channel of each room it has
    /// members of (`‹key›#‹nsp›#‹room›#`, subscribed when the room gets its first local
    /// member, unsubscribed when it loses its last one), and a broadcast to exactly one room
    /// goes on that room's channel, so only the nodes that have the room receive it.
    /// Sockets' own id rooms are left out: a broadcast to one socket (a room of 20
    /// characters, as socket ids are) uses the namespace channel.
    #[default]
    Dynamic,
    /// `"dynamic-private"`: as [`SubscriptionMode::Dynamic`], with sockets' own id rooms
    /// too (one more subscription per connected socket).
    DynamicPrivate,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            key: "socket.io".to_owned(),
            requests_timeout: Duration::from_secs(5),
            publish_on_specific_response_channel: false,
        }
    }
}

/// Why the adapter could not start.
#[derive(Debug)]
pub struct ConnectError {
    url: String,
    source: redis::RedisError,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to Redis at {}: {}", self.url, self.source)
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

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

pub(crate) struct Shared {
    pub(crate) config: RedisConfig,
    pub(crate) conns: Connections,
    routes: Arc<RwLock<Routes>>,
    /// `None`: the classic adapter.
    sharded: Option<SubscriptionMode>,
}

/// Who handles what arrives on a subscribed channel or pattern.
#[derive(Clone)]
pub(crate) enum Route {
    /// A namespace of the classic adapter, and which of its channels it is.
    Classic(Arc<RedisNamespace>, Channel),
    /// A namespace of the sharded adapter (its namespace, response or room channel).
    Sharded(Arc<ShardedNamespace>),
}

impl Route {
    fn owner(&self) -> *const () {
        match self {
            Route::Classic(ns, _) => Arc::as_ptr(ns).cast(),
            Route::Sharded(ns) => Arc::as_ptr(ns).cast(),
        }
    }
}

/// Subscribed channel or pattern → who handles it.
type Routes = HashMap<String, Route>;

impl RedisAdapter {
    /// Connects to the Redis at `url` (`redis://host:port/db`) with the default settings
    /// (classic adapter).
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, RedisConfig::default()).await
    }

    /// Connects to the Redis at `url` with `config` (classic adapter, Node's `createAdapter`).
    pub async fn connect_with(url: &str, config: RedisConfig) -> Result<Self, ConnectError> {
        Self::open(url, config, None).await
    }

    /// Connects to the Redis at `url` in sharded mode (Node's `createShardedAdapter`, Redis
    /// 7 sharded pub/sub), `config.key` being Node's `channelPrefix`; see the
    /// [crate docs](crate#sharded-mode). Fails when Redis has no sharded pub/sub (before 7.0).
    pub async fn connect_sharded(
        url: &str,
        config: RedisConfig,
        mode: SubscriptionMode,
    ) -> Result<Self, ConnectError> {
        Self::open(url, config, Some(mode)).await
    }

    async fn open(
        url: &str,
        config: RedisConfig,
        sharded: Option<SubscriptionMode>,
    ) -> Result<Self, ConnectError> {
        let err = |source| ConnectError { url: url.to_owned(), source };
        let client = redis::Client::open(url).map_err(err)?;
        let routes: Arc<RwLock<Routes>> = Arc::default();
        let table = routes.clone();
        let incoming = Box::new(move |pattern: Option<&str>, channel: &str, payload: &[u8]| {
            let key = pattern.unwrap_or(channel);
            let route = table.read().get(key).cloned();
            match route {
                Some(Route::Classic(ns, kind)) => ns.on_message(kind, channel, payload),
                Some(Route::Sharded(ns)) => ns.on_message(channel, payload),
                None => tracing::debug!(channel, "redis adapter: message on an unknown channel"),
            }
        });
        let open = Connections::open(client, incoming, sharded.is_some());
        let conns = tokio::time::timeout(Duration::from_secs(5), open)
            .await
            .map_err(|_| err(redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))))?
            .map_err(err)?;
        Ok(Self { shared: Arc::new(Shared { config, conns, routes, sharded }) })
    }
}

impl Adapter for RedisAdapter {
    fn namespace(&self, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        if let Some(mode) = self.shared.sharded {
            let ns = ShardedNamespace::new(self.shared.clone(), local, mode);
            let channels = ns.channels();
            let mut routes = self.shared.routes.write();
            for name in &channels {
                routes.insert(name.clone(), Route::Sharded(ns.clone()));
            }
            drop(routes);
            self.shared.conns.subscribe(&channels, &[]);
            return ns;
        }
        let ns = RedisNamespace::new(self.shared.clone(), local);
        let mut routes = self.shared.routes.write();
        for (name, kind) in ns.subscriptions() {
            routes.insert(name, Route::Classic(ns.clone(), kind));
        }
        drop(routes);
        let (channels, patterns) = ns.channel_lists();
        self.shared.conns.subscribe(&channels, &patterns);
        ns
    }
}

impl Shared {
    /// Forgets a closed namespace (`owner`: its address); closes the connections with the
    /// last one.
    pub(crate) fn remove(&self, owner: *const ()) {
        let mut routes = self.routes.write();
        routes.retain(|_, route| route.owner() != owner);
        if routes.is_empty() {
            self.conns.close();
        }
    }

    /// Routes `channel` to `ns` and subscribes to it, unless it is routed already.
    pub(crate) fn add_route(&self, channel: String, ns: Arc<ShardedNamespace>) {
        let mut routes = self.routes.write();
        if routes.contains_key(&channel) {
            return;
        }
        routes.insert(channel.clone(), Route::Sharded(ns));
        drop(routes);
        self.conns.subscribe(&[channel], &[]);
    }

    /// Unsubscribes from `channel` if it is routed to `owner`.
    pub(crate) fn remove_route(&self, channel: &str, owner: *const ()) {
        let mut routes = self.routes.write();
        if routes.get(channel).is_none_or(|r| r.owner() != owner) {
            return;
        }
        routes.remove(channel);
        drop(routes);
        self.conns.unsubscribe(&[channel.to_owned()]);
    }
}
