//! The two Redis connections: one that publishes (and asks `PUBSUB NUMSUB`), one that
//! listens. Both survive Redis restarts: the publisher through `ConnectionManager`, the
//! listener by reconnecting and subscribing again to everything it had.
//!
//! In sharded mode the same two connections use Redis 7's sharded pub/sub: `SPUBLISH`,
//! `PUBSUB SHARDNUMSUB`, and a listener that `SSUBSCRIBE`s. redis-rs's `PubSub` cannot send
//! `SSUBSCRIBE` (nor parse `smessage` over RESP2), so that listener is a RESP3 multiplexed
//! connection whose pushes (`smessage`, and `disconnection` when the link drops) arrive on
//! a channel. Its subscriptions come and go with the rooms (dynamic modes), so it also
//! unsubscribes from what is no longer wanted.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use parking_lot::Mutex;
use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::{PushInfo, PushKind};
use tokio::sync::{Notify, mpsc};

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

impl ConnectError {
    pub(crate) fn new(url: &str, source: redis::RedisError) -> Self {
        Self { url: url.to_owned(), source }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// What the listener delivers: (pattern if any, channel, payload).
pub(crate) type Incoming = Box<dyn Fn(Option<&str>, &str, &[u8]) + Send + Sync>;

/// Messages queued for publishing before the oldest are dropped (Redis unreachable or slow).
const PUBLISH_QUEUE: usize = 65_536;
/// Messages sent per pipeline.
const PUBLISH_BATCH: usize = 512;

pub(crate) struct Connections {
    publish_tx: mpsc::Sender<(String, Vec<u8>)>,
    manager: ConnectionManager,
    subscriptions: Arc<Subscriptions>,
    closed: Arc<Notify>,
    sharded: bool,
}

#[derive(Default)]
struct Subscriptions {
    channels: Mutex<BTreeSet<String>>,
    patterns: Mutex<BTreeSet<String>>,
    /// Wakes the listener when the sets above changed.
    changed: Notify,
}

impl Connections {
    /// Connects to the Redis at `url` (within 5 s): both connections, classic pub/sub or
    /// sharded pub/sub when `sharded`, the listener handing what arrives to `incoming`.
    pub(crate) async fn connect(url: &str, incoming: Incoming, sharded: bool) -> Result<Self, ConnectError> {
        let err = |source| ConnectError { url: url.to_owned(), source };
        let client = redis::Client::open(url).map_err(err)?;
        let open = Self::open(client, incoming, sharded);
        tokio::time::timeout(Duration::from_secs(5), open)
            .await
            .map_err(|_| err(redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))))?
            .map_err(err)
    }

    /// Opens both connections: classic pub/sub, or sharded pub/sub when `sharded`.
    async fn open(client: redis::Client, incoming: Incoming, sharded: bool) -> redis::RedisResult<Self> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let manager = ConnectionManager::new_with_config(client.clone(), config).await?;
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        let subscriptions = Arc::new(Subscriptions::default());
        let closed = Arc::new(Notify::new());
        // Fail at start-up rather than later when Redis cannot be reached at all (or, in
        // sharded mode, has no sharded pub/sub: Redis < 7).
        if sharded {
            let mut probe = manager.clone();
            redis::cmd("PUBSUB").arg("SHARDNUMSUB").exec_async(&mut probe).await?;
            let client = resp3(&client)?;
            let first = shard_connection(&client).await?;
            tokio::spawn(shard_listener(
                client,
                Some(first),
                subscriptions.clone(),
                incoming,
                closed.clone(),
            ));
        } else {
            let pubsub = client.get_async_pubsub().await?;
            tokio::spawn(listener(client, Some(pubsub), subscriptions.clone(), incoming, closed.clone()));
        }
        let verb = if sharded { "SPUBLISH" } else { "PUBLISH" };
        tokio::spawn(publisher(manager.clone(), publish_rx, verb));
        Ok(Self { publish_tx, manager, subscriptions, closed, sharded })
    }

    /// Queues a message; never waits. When the queue is full (Redis down for long), the
    /// message is dropped and logged.
    pub(crate) fn publish(&self, channel: String, payload: Vec<u8>) {
        if let Err(e) = self.publish_tx.try_send((channel, payload)) {
            tracing::warn!(error = %e, "redis adapter: publish queue full, message dropped");
        }
    }

    /// Subscribes to channels and patterns (again after every reconnection). In sharded
    /// mode there are no patterns.
    pub(crate) fn subscribe(&self, channels: &[String], patterns: &[String]) {
        self.subscriptions.channels.lock().extend(channels.iter().cloned());
        self.subscriptions.patterns.lock().extend(patterns.iter().cloned());
        self.subscriptions.changed.notify_one();
    }

    /// Unsubscribes from channels (only the sharded listener acts on it).
    pub(crate) fn unsubscribe(&self, channels: &[String]) {
        let mut set = self.subscriptions.channels.lock();
        for channel in channels {
            set.remove(channel);
        }
        drop(set);
        self.subscriptions.changed.notify_one();
    }

    /// `PUBSUB NUMSUB channel` (`SHARDNUMSUB` in sharded mode): how many connections listen
    /// on `channel`.
    pub(crate) async fn numsub(&self, channel: &str) -> redis::RedisResult<usize> {
        let mut conn = self.manager.clone();
        let verb = if self.sharded { "SHARDNUMSUB" } else { "NUMSUB" };
        let (_, n): (String, usize) =
            redis::cmd("PUBSUB").arg(verb).arg(channel).query_async(&mut conn).await?;
        Ok(n)
    }

    /// The publishing connection (it reconnects by itself), for other commands.
    pub(crate) fn manager(&self) -> ConnectionManager {
        self.manager.clone()
    }

    pub(crate) fn close(&self) {
        self.closed.notify_waiters();
        self.closed.notify_one();
    }
}

/// Sends the queued messages with `verb` (`PUBLISH` or `SPUBLISH`), pipelined.
async fn publisher(
    mut manager: ConnectionManager,
    mut rx: mpsc::Receiver<(String, Vec<u8>)>,
    verb: &'static str,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    let mut failing = false;
    while rx.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for (channel, payload) in batch.drain(..) {
            pipe.cmd(verb).arg(channel).arg(payload).ignore();
        }
        match pipe.query_async::<()>(&mut manager).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("redis adapter: publishing again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::error!(error = %e, "redis adapter: publish failed; other nodes miss messages until Redis is back");
            }
            Err(e) => tracing::debug!(error = %e, "redis adapter: publish failed"),
        }
    }
}

/// How a listening session ended.
enum Ended {
    /// The link dropped (or a subscription failed): connect again.
    Lost,
    /// The adapter closed.
    Closed,
}

/// The first pause before reconnecting the listener; it doubles up to 2 s.
const FIRST_RETRY: Duration = Duration::from_millis(50);

/// Keeps a listener connected until `closed`: runs `session` on `first` (or on what
/// `connect` makes) until the link is lost, then connects again after a pause that doubles
/// from 50 ms to 2 s and starts over once a session got up. `session` is told whether it
/// follows a loss (to say it is back) and answers whether it got up.
async fn reconnecting<C, E, Connect, Session>(
    mut first: Option<C>,
    closed: &Notify,
    connect: impl Fn() -> Connect,
    mut session: impl FnMut(C, bool) -> Session,
) where
    E: fmt::Display,
    Connect: Future<Output = Result<C, E>>,
    Session: Future<Output = (Ended, bool)>,
{
    let mut delay = FIRST_RETRY;
    loop {
        let connection = match first.take() {
            Some(c) => Ok(c),
            None => tokio::select! {
                c = connect() => c,
                () = closed.notified() => return,
            },
        };
        match connection {
            Ok(c) => match session(c, delay > FIRST_RETRY).await {
                (Ended::Closed, _) => return,
                (Ended::Lost, up) => {
                    if up {
                        delay = FIRST_RETRY;
                    }
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "redis adapter: cannot connect the subscriber")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = closed.notified() => return,
        }
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Said once a session is up again after a loss.
fn back_up(after_loss: bool) {
    if after_loss {
        tracing::info!("redis adapter: reconnected and subscribed again");
    }
}

/// The classic listener: `SUBSCRIBE`/`PSUBSCRIBE` to every channel and pattern wanted (again
/// after each reconnection), delivering what arrives to `incoming`.
async fn listener(
    client: redis::Client,
    first: Option<redis::aio::PubSub>,
    subs: Arc<Subscriptions>,
    incoming: Incoming,
    closed: Arc<Notify>,
) {
    let (subs, incoming, closed) = (&*subs, &incoming, &*closed);
    let connect = || client.get_async_pubsub();
    reconnecting(first, closed, connect, |pubsub, after_loss| {
        session(pubsub, subs, incoming, closed, after_loss)
    })
    .await;
}

/// One connection of the classic listener: see [`listener`].
async fn session(
    pubsub: redis::aio::PubSub,
    subs: &Subscriptions,
    incoming: &Incoming,
    closed: &Notify,
    after_loss: bool,
) -> (Ended, bool) {
    let (mut sink, mut stream) = pubsub.split();
    let mut done_channels = BTreeSet::new();
    let mut done_patterns = BTreeSet::new();
    let mut dirty = true;
    let mut up = false;
    loop {
        if dirty {
            dirty = false;
            // Subscribe to whatever is new (everything after a reconnection).
            let channels: Vec<String> =
                subs.channels.lock().iter().filter(|c| !done_channels.contains(*c)).cloned().collect();
            let patterns: Vec<String> =
                subs.patterns.lock().iter().filter(|p| !done_patterns.contains(*p)).cloned().collect();
            if !channels.is_empty() {
                if let Err(e) = sink.subscribe(&channels).await {
                    tracing::warn!(error = %e, "redis adapter: subscribe failed");
                    return (Ended::Lost, up);
                }
                done_channels.extend(channels);
            }
            if !patterns.is_empty() {
                if let Err(e) = sink.psubscribe(&patterns).await {
                    tracing::warn!(error = %e, "redis adapter: psubscribe failed");
                    return (Ended::Lost, up);
                }
                done_patterns.extend(patterns);
            }
            if !up {
                up = true;
                back_up(after_loss);
            }
        }
        tokio::select! {
            msg = stream.next() => match msg {
                Some(msg) => {
                    let pattern: Option<String> =
                        if msg.from_pattern() { msg.get_pattern().ok() } else { None };
                    incoming(pattern.as_deref(), msg.get_channel_name(), msg.get_payload_bytes());
                }
                None => {
                    tracing::warn!("redis adapter: lost the subscriber connection; reconnecting");
                    return (Ended::Lost, up);
                }
            },
            () = subs.changed.notified() => dirty = true,
            () = closed.notified() => return (Ended::Closed, up),
        }
    }
}

/// The same client, speaking RESP3 (needed for sharded pub/sub pushes).
fn resp3(client: &redis::Client) -> redis::RedisResult<redis::Client> {
    let info = client.get_connection_info().clone();
    let settings = info.redis_settings().clone().set_protocol(redis::ProtocolVersion::RESP3);
    redis::Client::open(info.set_redis_settings(settings))
}

type ShardConnection = (MultiplexedConnection, mpsc::UnboundedReceiver<PushInfo>);

/// A RESP3 connection whose pushes (messages, subscription confirmations, disconnection)
/// arrive on the returned receiver.
async fn shard_connection(client: &redis::Client) -> redis::RedisResult<ShardConnection> {
    let (tx, rx) = mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_push_sender(tx);
    let conn = client.get_multiplexed_async_connection_with_config(&config).await?;
    Ok((conn, rx))
}

/// `(channel, payload)` of an `smessage` push.
fn shard_message(push: &PushInfo) -> Option<(&str, &[u8])> {
    let [channel, payload, ..] = push.data.as_slice() else { return None };
    match (channel, payload) {
        (redis::Value::BulkString(c), redis::Value::BulkString(p)) => Some((std::str::from_utf8(c).ok()?, p)),
        (redis::Value::BulkString(c), redis::Value::SimpleString(p)) => {
            Some((std::str::from_utf8(c).ok()?, p.as_bytes()))
        }
        _ => None,
    }
}

/// The sharded listener: like [`listener`], with `SSUBSCRIBE`/`SUNSUBSCRIBE` over RESP3.
/// Each (un)subscription is its own command (one confirmation each), sent as one pipeline.
async fn shard_listener(
    client: redis::Client,
    first: Option<ShardConnection>,
    subs: Arc<Subscriptions>,
    incoming: Incoming,
    closed: Arc<Notify>,
) {
    let (subs, incoming, closed) = (&*subs, &incoming, &*closed);
    let connect = || shard_connection(&client);
    reconnecting(first, closed, connect, |conn, after_loss| {
        shard_session(conn, subs, incoming, closed, after_loss)
    })
    .await;
}

/// One connection of the sharded listener: see [`shard_listener`].
async fn shard_session(
    (mut conn, mut pushes): ShardConnection,
    subs: &Subscriptions,
    incoming: &Incoming,
    closed: &Notify,
    after_loss: bool,
) -> (Ended, bool) {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut dirty = true;
    let mut up = false;
    loop {
        if dirty {
            dirty = false;
            // What is wanted and not subscribed (everything after a reconnection), and what
            // is subscribed and no longer wanted.
            let (add, remove): (Vec<String>, Vec<String>) = {
                let wanted = subs.channels.lock();
                (wanted.difference(&done).cloned().collect(), done.difference(&wanted).cloned().collect())
            };
            if !add.is_empty() || !remove.is_empty() {
                let mut pipe = redis::pipe();
                for channel in &add {
                    pipe.cmd("SSUBSCRIBE").arg(channel);
                }
                for channel in &remove {
                    pipe.cmd("SUNSUBSCRIBE").arg(channel);
                }
                if let Err(e) = pipe.query_async::<Vec<redis::Value>>(&mut conn).await {
                    tracing::warn!(error = %e, "redis adapter: ssubscribe failed");
                    return (Ended::Lost, up);
                }
                done.extend(add);
                for channel in &remove {
                    done.remove(channel);
                }
            }
            if !up {
                up = true;
                back_up(after_loss);
            }
        }
        tokio::select! {
            push = pushes.recv() => match push {
                Some(push) if push.kind == PushKind::SMessage => match shard_message(&push) {
                    Some((channel, payload)) => incoming(None, channel, payload),
                    None => tracing::debug!("redis adapter: malformed smessage ignored"),
                },
                Some(push) if push.kind == PushKind::Disconnection => {
                    tracing::warn!("redis adapter: lost the subscriber connection; reconnecting");
                    return (Ended::Lost, up);
                }
                // Confirmations of (un)subscriptions.
                Some(_) => {}
                None => return (Ended::Lost, up),
            },
            () = subs.changed.notified() => dirty = true,
            () = closed.notified() => return (Ended::Closed, up),
        }
    }
}
