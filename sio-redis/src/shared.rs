//! What the namespaces of one adapter share: the settings, the two Redis connections, and
//! the routes that hand what arrives on each subscribed channel (or pattern) to the
//! namespace it belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use sio_core::adapter::{LocalNamespace, NamespaceAdapter};

use crate::classic::{Channel, ClassicNamespace};
use crate::config::{RedisConfig, SubscriptionMode};
use crate::conn::{ConnectError, Connections};
use crate::sharded::ShardedNamespace;

pub(crate) struct Shared {
    pub(crate) config: RedisConfig,
    pub(crate) conns: Connections,
    routes: Arc<RwLock<Routes>>,
    /// `None`: the classic adapter.
    sharded: Option<SubscriptionMode>,
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
    pub(crate) async fn open(
        url: &str,
        config: RedisConfig,
        sharded: Option<SubscriptionMode>,
    ) -> Result<Arc<Self>, ConnectError> {
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
        let conns = Connections::connect(url, incoming, sharded.is_some()).await?;
        Ok(Arc::new(Self { config, conns, routes, sharded }))
    }

    /// A namespace's side of the cluster, its channels subscribed.
    pub(crate) fn namespace(self: &Arc<Self>, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        if let Some(mode) = self.sharded {
            let ns = ShardedNamespace::new(self.clone(), local, mode);
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
