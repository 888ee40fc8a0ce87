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

/// Settings of the Redis Streams adapter ([`RedisAdapter::connect_streams`]), with the names
/// and defaults of Node's `@socket.io/redis-streams-adapter` 0.3. Every node of a cluster must
/// use the same stream name, stream count and session prefix. The channel prefix (Node's
/// `channelPrefix`) is [`RedisConfig::key`].
///
/// ```
/// use sio_redis::StreamsConfig;
///
/// // Node: createAdapter(redis, { streamName: "chat", maxLen: 100_000 })
/// let config = StreamsConfig { stream_name: "chat".into(), max_len: 100_000, ..Default::default() };
/// # let _ = config;
/// ```
///
/// [`RedisAdapter::connect_streams`]: crate::RedisAdapter::connect_streams
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamsConfig {
    /// The stream (Node's `streamName`; default `socket.io`), or the prefix of the streams
    /// when there are several (`‹name›-‹i›`).
    pub stream_name: String,
    /// How many streams the namespaces are spread over (Node's `streamCount`; default 1).
    /// A namespace always uses the same one, which keeps its messages in order.
    pub stream_count: usize,
    /// The length a stream is trimmed to, about (`XADD MAXLEN ~`; Node's `maxLen`; default
    /// 10,000). A client whose last packet was trimmed away is not recovered.
    pub max_len: usize,
    /// Entries read per `XREAD` (Node's `readCount`; default 100).
    pub read_count: usize,
    /// How long an `XREAD` waits for new entries (Node's `blockTimeInMs`; default 5 s).
    pub block_time: Duration,
    /// The prefix of the keys sessions are kept under for connection state recovery (Node's
    /// `sessionKeyPrefix`; default `sio:session:`).
    pub session_key_prefix: String,
    /// Requests and answers between nodes use Redis 7's sharded pub/sub (Node's
    /// `useShardedPubSub`; default false).
    pub use_sharded_pub_sub: bool,
    /// Never look for binary in the stream's messages: every message is JSON (Node's
    /// `onlyPlaintext`; default false). Binary in a message would then be lost.
    pub only_plaintext: bool,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        Self {
            stream_name: "socket.io".to_owned(),
            stream_count: 1,
            max_len: 10_000,
            read_count: 100,
            block_time: Duration::from_secs(5),
            session_key_prefix: "sio:session:".to_owned(),
            use_sharded_pub_sub: false,
            only_plaintext: false,
        }
    }
}
