//! A Redis adapter for [sio](sio_core): several servers behind a load balancer share
//! broadcasts, room operations, `fetch_sockets` and server-side events through Redis
//! pub/sub.
//!
//! It speaks the wire format of Node's `@socket.io/redis-adapter` 8.x (the classic,
//! non-sharded adapter), so a cluster may mix sio servers and Node `socket.io` servers: an
//! `io.emit` on either reaches the clients of both.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = sio_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
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
//! Failure behaviour: both Redis connections reconnect by themselves (the listener
//! subscribes again to every channel it had). While Redis is unreachable, local delivery
//! goes on, messages for other nodes are dropped with an error logged once, and operations
//! that wait for other nodes fail with [`AdapterError`](sio_core::adapter::AdapterError).

mod codec;
mod conn;
mod ns;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use sio_core::adapter::{Adapter, LocalNamespace, NamespaceAdapter};

use self::conn::Connections;
use self::ns::{Channel, RedisNamespace};

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
}

/// Subscribed channel or pattern → the namespace it belongs to and what arrives on it.
type Routes = HashMap<String, (Arc<RedisNamespace>, Channel)>;

impl RedisAdapter {
    /// Connects to the Redis at `url` (`redis://host:port/db`) with the default settings.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, RedisConfig::default()).await
    }

    /// Connects to the Redis at `url` with `config`.
    pub async fn connect_with(url: &str, config: RedisConfig) -> Result<Self, ConnectError> {
        let err = |source| ConnectError { url: url.to_owned(), source };
        let client = redis::Client::open(url).map_err(err)?;
        let routes: Arc<RwLock<Routes>> = Arc::default();
        let table = routes.clone();
        let incoming = Box::new(move |pattern: Option<&str>, channel: &str, payload: &[u8]| {
            let key = pattern.unwrap_or(channel);
            let route = table.read().get(key).cloned();
            match route {
                Some((ns, kind)) => ns.on_message(kind, channel, payload),
                None => tracing::debug!(channel, "redis adapter: message on an unknown channel"),
            }
        });
        let conns = tokio::time::timeout(Duration::from_secs(5), Connections::open(client, incoming))
            .await
            .map_err(|_| err(redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))))?
            .map_err(err)?;
        Ok(Self { shared: Arc::new(Shared { config, conns, routes }) })
    }
}

impl Adapter for RedisAdapter {
    fn namespace(&self, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        let ns = RedisNamespace::new(self.shared.clone(), local);
        let mut routes = self.shared.routes.write();
        for (name, kind) in ns.subscriptions() {
            routes.insert(name, (ns.clone(), kind));
        }
        drop(routes);
        let (channels, patterns) = ns.channel_lists();
        self.shared.conns.subscribe(&channels, &patterns);
        ns
    }
}

impl Shared {
    /// Forgets a closed namespace; closes the connections with the last one.
    pub(crate) fn remove(&self, ns: &RedisNamespace) {
        let mut routes = self.routes.write();
        routes.retain(|_, (n, _)| !std::ptr::eq(Arc::as_ptr(n), ns));
        if routes.is_empty() {
            self.conns.close();
        }
    }
}
