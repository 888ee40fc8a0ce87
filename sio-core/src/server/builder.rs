//! [`ServerBuilder`]: the settings of a server and the namespaces it serves.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

use super::client::SioHandler;
use super::handlers::{Holder, Middleware, NamespaceHandler};
use super::namespace::{Namespace, NamespaceDef};
use super::{Predicate, Server, ServerInner, TypedNamespace};
use crate::adapter::Adapter;
use crate::engine::{Cors, Engine, EngineConfig};

/// Socket.IO-level settings.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) ack_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_attachments: usize,
    pub(crate) max_attachment_bytes: usize,
    pub(crate) max_namespaces_per_client: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(45),
            max_attachments: 10,
            max_attachment_bytes: 0,
            max_namespaces_per_client: 64,
        }
    }
}

/// Builds a [`Server`]: settings and namespaces.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ServerBuilder {
    engine: EngineConfig,
    config: ServerConfig,
    namespaces: Vec<(String, NamespaceDef)>,
    dynamic: Vec<(Predicate, NamespaceDef)>,
    adapter: Option<Arc<dyn Adapter>>,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("engine", &self.engine)
            .field("config", &self.config)
            .field("namespaces", &self.namespaces.iter().map(|(p, _)| p).collect::<Vec<_>>())
            .finish()
    }
}

impl ServerBuilder {
    pub(crate) fn new() -> Self {
        ServerBuilder {
            engine: EngineConfig::default(),
            config: ServerConfig::default(),
            namespaces: Vec::new(),
            dynamic: Vec::new(),
            adapter: None,
        }
    }

    /// HTTP path (default `/socket.io/`).
    pub fn path(mut self, path: &str) -> Self {
        let mut p = normalize(path);
        if !p.ends_with('/') {
            p.push('/');
        }
        self.engine.path = p;
        self
    }

    /// Interval between server pings (default 25 s).
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.engine.ping_interval = d;
        self
    }

    /// Time a client has to answer a ping (default 20 s).
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.engine.ping_timeout = d;
        self
    }

    /// Largest message or polling body in bytes (default 1 MB).
    pub fn max_payload(mut self, bytes: u64) -> Self {
        self.engine.max_payload = bytes;
        self
    }

    /// Time a polling connection has to finish upgrading to WebSocket (default 10 s).
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.engine.upgrade_timeout = d;
        self
    }

    /// Time a new connection has to join a namespace before it is closed (default 45 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// Default time to wait for a client's acknowledgement (default 10 s).
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.config.ack_timeout = d;
        self
    }

    /// Packets that may wait for one slow client before it is disconnected (default 1024).
    pub fn outbound_buffer(mut self, frames: usize) -> Self {
        self.engine.outbound_buffer = frames;
        self
    }

    /// Largest number of open connections; further handshakes answer `503` (default: none).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.engine.max_connections = Some(n);
        self
    }

    /// Binary attachments allowed in one packet (default 10).
    pub fn max_attachments(mut self, n: usize) -> Self {
        self.config.max_attachments = n;
        self
    }

    /// Bytes of binary attachments one packet may carry in total; more closes the session
    /// (default: `max_payload` × `max_attachments`, what the other limits allow anyway).
    pub fn max_attachment_bytes(mut self, bytes: usize) -> Self {
        self.config.max_attachment_bytes = bytes;
        self
    }

    /// Namespaces one connection may join at once (default 64).
    pub fn max_namespaces_per_client(mut self, n: usize) -> Self {
        self.config.max_namespaces_per_client = n;
        self
    }

    /// Which transports clients may use (both by default).
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        self.engine.polling = polling;
        self.engine.websocket = websocket;
        self
    }

    /// Cross-origin settings for browsers on another origin.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.engine.cors = Some(cors);
        self
    }

    /// Accepts or refuses handshake requests (`403 Forbidden` when refused).
    pub fn allow_request(
        mut self,
        f: impl Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.engine.allow_request = Some(Arc::new(f));
        self
    }

    /// Engine settings not covered by the methods above.
    pub fn engine_config(mut self, f: impl FnOnce(&mut EngineConfig)) -> Self {
        f(&mut self.engine);
        self
    }

    /// Spans several servers: broadcasts, room operations, `fetch_sockets` and server-side
    /// events reach the sockets of every node through `adapter` (e.g. `sio_redis`). Without
    /// one, the server is alone.
    pub fn adapter(mut self, adapter: impl Adapter) -> Self {
        self.adapter = Some(Arc::new(adapter));
        self
    }

    /// Serves a `#[namespace("/path")]` impl block at its declared path.
    pub fn namespace<N: TypedNamespace>(self, handler: N) -> Self {
        self.ns(N::PATH, handler)
    }

    /// Serves namespace `path` with `handler`.
    pub fn ns<H: NamespaceHandler>(self, path: &str, handler: H) -> Self {
        self.ns_with(path, handler, Vec::new())
    }

    /// Serves namespace `path` with `handler`, after connect `middlewares` (in order) accept.
    pub fn ns_with<H: NamespaceHandler>(
        mut self,
        path: &str,
        handler: H,
        middlewares: Vec<Middleware>,
    ) -> Self {
        let path = normalize(path);
        let def = NamespaceDef { handler: Arc::new(Holder(Arc::new(handler))), middlewares };
        self.namespaces.retain(|(p, _)| *p != path);
        self.namespaces.push((path, def));
        self
    }

    /// Serves every namespace whose path satisfies `matches` with `handler` (one live
    /// namespace per matching path, created on first connect).
    pub fn dynamic_ns<H: NamespaceHandler>(
        mut self,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
        handler: H,
        middlewares: Vec<Middleware>,
    ) -> Self {
        let def = NamespaceDef { handler: Arc::new(Holder(Arc::new(handler))), middlewares };
        self.dynamic.push((Arc::new(matches), def));
        self
    }

    /// The server.
    pub fn build(mut self) -> Server {
        if self.config.max_attachment_bytes == 0 {
            let per = usize::try_from(self.engine.max_payload).unwrap_or(usize::MAX);
            self.config.max_attachment_bytes = per.saturating_mul(self.config.max_attachments);
        }
        let config = Arc::new(self.config);
        let namespaces = self
            .namespaces
            .into_iter()
            .map(|(p, def)| {
                let ns = Namespace::new(&p, def, config.clone(), self.adapter.as_ref());
                (p.into_boxed_str(), ns)
            })
            .collect::<HashMap<_, _>>();
        let inner = Arc::new(ServerInner {
            config,
            namespaces: RwLock::new(namespaces),
            dynamic: self.dynamic,
            adapter: self.adapter,
        });
        let engine = Engine::new(self.engine, SioHandler { server: inner.clone() });
        Server { inner, engine }
    }
}

/// `path` with a leading `/`.
pub(crate) fn normalize(path: &str) -> String {
    if path.starts_with('/') { path.to_owned() } else { format!("/{path}") }
}
