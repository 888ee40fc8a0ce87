//! What the namespaces of one adapter share: the settings, the two Redis connections, and
//! the routes that hand what arrives on each subscribed channel (or pattern) to the
//! namespace it belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use sio_core::adapter::{LocalNamespace, NamespaceAdapter};

use crate::classic::{Channel, ClassicNamespace};
use crate::config::{RedisConfig, StreamsConfig, SubscriptionMode};
use crate::conn::{ConnectError, Connections};
use crate::sharded::ShardedNamespace;
use crate::streams::Streams;

pub(crate) struct Shared {
    pub(crate) config: RedisConfig,
    pub(crate) conns: Connections,
    routes: Arc<RwLock<Routes>>,
    flavor: Flavor,
}

/// Which of the adapters.
pub(crate) enum Flavor {
    /// Node's `createAdapter`.
    Classic,
    /// Node's `createShardedAdapter`.
    Sharded(SubscriptionMode),
    /// `@socket.io/redis-streams-adapter`.
    Streams(Arc<Streams>),
}

/// Which adapter to open.
pub(crate) enum Kind {
    Classic,
    Sharded(SubscriptionMode),
    Streams(StreamsConfig),
}

/// Who handles what arrives on a subscribed channel or pattern.
#[derive(Clone)]
enum Route {
    /// A namespace of the classic adapter, and which of its channels it is.
    Classic(Arc<ClassicNamespace>, Channel),
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

impl Shared {
    /// Connects to the Redis at `url`: the classic adapter, or the sharded one in `sharded`
    /// mode.
    pub(crate) async fn open(url: &str, config: RedisConfig, kind: Kind) -> Result<Arc<Self>, ConnectError> {
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
        let sharded = match &kind {
            Kind::Classic => false,
            Kind::Sharded(_) => true,
            Kind::Streams(streams) => streams.use_sharded_pub_sub,
        };
        let conns = Connections::connect(url, incoming, sharded).await?;
        let flavor = match kind {
            Kind::Classic => Flavor::Classic,
            Kind::Sharded(mode) => Flavor::Sharded(mode),
            Kind::Streams(streams) => {
                let client = redis::Client::open(url).map_err(|e| ConnectError::new(url, e))?;
                Flavor::Streams(Streams::start(streams, client, conns.manager()))
            }
        };
        Ok(Arc::new(Self { config, conns, routes, flavor }))
    }

    /// A namespace's side of the cluster, its channels subscribed.
    pub(crate) fn namespace(self: &Arc<Self>, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        let sharded = match &self.flavor {
            Flavor::Classic => None,
            Flavor::Sharded(mode) => Some((*mode, None)),
            Flavor::Streams(streams) => Some((SubscriptionMode::Static, Some(streams.clone()))),
        };
        if let Some((mode, streams)) = sharded {
            let ns = ShardedNamespace::new(self.clone(), local, mode, streams);
            let channels = ns.channels();
            let mut routes = self.routes.write();
            for name in &channels {
                routes.insert(name.clone(), Route::Sharded(ns.clone()));
            }
            drop(routes);
            self.conns.subscribe(&channels, &[]);
            return ns;
        }
        let ns = ClassicNamespace::new(self.clone(), local);
        let mut routes = self.routes.write();
        for (name, kind) in ns.subscriptions() {
            routes.insert(name, Route::Classic(ns.clone(), kind));
        }
        drop(routes);
        let (channels, patterns) = ns.channel_lists();
        self.conns.subscribe(&channels, &patterns);
        ns
    }

    /// Forgets a closed namespace (`owner`: its address); closes the connections with the
    /// last one.
    pub(crate) fn remove(&self, owner: *const ()) {
        let mut routes = self.routes.write();
        routes.retain(|_, route| route.owner() != owner);
        if routes.is_empty() {
            self.conns.close();
        }
    }

    /// The channels routed to `owner`.
    pub(crate) fn channels_of(&self, owner: *const ()) -> Vec<String> {
        let routes = self.routes.read();
        routes
            .iter()
            .filter(|(_, route)| route.owner() == owner)
            .map(|(channel, _)| channel.clone())
            .collect()
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
