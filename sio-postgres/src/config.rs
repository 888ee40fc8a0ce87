//! The settings, with the defaults of Node's `@socket.io/postgres-adapter`.

use std::time::Duration;

/// Settings of a [`PostgresAdapter`](crate::PostgresAdapter) (and of a
/// [`PostgresEmitter`](crate::PostgresEmitter), which uses the first three), named after
/// the options of Node's `createAdapter(pool, opts)`. Every node of a cluster, and its
/// emitters, must use the same `channel_prefix` and `table_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// The prefix of the notification channels, one per namespace: `‹channel_prefix›#‹nsp›`
    /// (Node's `channelPrefix`). Default `socket.io`. PostgreSQL channel names are at most
    /// 63 bytes long.
    pub channel_prefix: String,
    /// The table of the payloads that do not go in a notification (Node's `tableName`).
    /// Default `socket_io_attachments`. Written into the SQL as it is (as Node does): a
    /// trusted name, possibly `schema.table`. The adapter creates it if it is missing.
    pub table_name: String,
    /// A message whose JSON is this long (bytes) or longer goes through the table (Node's
    /// `payloadThreshold`; PostgreSQL refuses notifications of 8,000 bytes or more). Default
    /// 8,000.
    pub payload_threshold: usize,
    /// How often the attachments older than this are deleted (Node's `cleanupInterval`).
    /// Default 30 s.
    pub cleanup_interval: Duration,
    /// See [`ClusterConfig::heartbeat_interval`](sio_cluster::ClusterConfig::heartbeat_interval)
    /// (Node's `heartbeatInterval`). Default 5 s.
    pub heartbeat_interval: Duration,
    /// See [`ClusterConfig::heartbeat_timeout`](sio_cluster::ClusterConfig::heartbeat_timeout)
    /// (Node's `heartbeatTimeout`). Default 10 s.
    pub heartbeat_timeout: Duration,
    /// How long `fetch_sockets` without a timeout of its own waits for the other nodes (Node:
    /// a fixed 5 s). Default 5 s.
    pub requests_timeout: Duration,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            channel_prefix: "socket.io".to_owned(),
            table_name: "socket_io_attachments".to_owned(),
            payload_threshold: 8_000,
            cleanup_interval: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(10),
            requests_timeout: Duration::from_secs(5),
        }
    }
}
