//! The settings of a cluster namespace, with the defaults of Node's socket.io-adapter.

use std::time::Duration;

/// Settings, named after Node's `ClusterAdapterOptions` (and the adapters' `requestsTimeout`).
/// Every node of a cluster should use the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// How long without publishing anything before a node publishes a heartbeat (Node's
    /// `heartbeatInterval`). Default 5 s. Only with heartbeats
    /// ([`ClusterNamespace::with_heartbeat`](crate::ClusterNamespace::with_heartbeat)).
    pub heartbeat_interval: Duration,
    /// How long without a message from a node before it counts as gone (Node's
    /// `heartbeatTimeout`). Default 10 s. Only with heartbeats.
    pub heartbeat_timeout: Duration,
    /// How long `fetch_sockets` (without a timeout of its own) waits for the other nodes, and
    /// how long this node relays its sockets' replies to another node's broadcast with acks
    /// that has no timeout (Node: a fixed 5 s). Default 5 s.
    pub requests_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(10),
            requests_timeout: Duration::from_secs(5),
        }
    }
}
