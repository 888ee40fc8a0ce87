//! The adapter's settings.

use std::time::Duration;

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
