//! The two Redis connections: one that publishes (and asks `PUBSUB NUMSUB`), one that
//! listens. Both survive Redis restarts: the publisher through `ConnectionManager`, the
//! listener by reconnecting and subscribing again to everything it had.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use parking_lot::Mutex;
use redis::aio::ConnectionManager;
use tokio::sync::{Notify, mpsc};

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
}

#[derive(Default)]
struct Subscriptions {
    channels: Mutex<BTreeSet<String>>,
    patterns: Mutex<BTreeSet<String>>,
    /// Wakes the listener when the sets above grew.
    changed: Notify,
}

impl Connections {
    pub(crate) async fn open(client: redis::Client, incoming: Incoming) -> redis::RedisResult<Self> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let manager = ConnectionManager::new_with_config(client.clone(), config).await?;
        // Fail at start-up rather than later when Redis cannot be reached at all.
        let pubsub = client.get_async_pubsub().await?;
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        let subscriptions = Arc::new(Subscriptions::default());
        let closed = Arc::new(Notify::new());
        tokio::spawn(publisher(manager.clone(), publish_rx));
        tokio::spawn(listener(client, Some(pubsub), subscriptions.clone(), incoming, closed.clone()));
        Ok(Self { publish_tx, manager, subscriptions, closed })
    }

    /// Queues a message; never waits. When the queue is full (Redis down for long), the
    /// message is dropped and logged.
    pub(crate) fn publish(&self, channel: String, payload: Vec<u8>) {
        if let Err(e) = self.publish_tx.try_send((channel, payload)) {
            tracing::warn!(error = %e, "redis adapter: publish queue full, message dropped");
        }
    }

    /// Subscribes to channels and patterns (again after every reconnection).
    pub(crate) fn subscribe(&self, channels: &[String], patterns: &[String]) {
        self.subscriptions.channels.lock().extend(channels.iter().cloned());
        self.subscriptions.patterns.lock().extend(patterns.iter().cloned());
        self.subscriptions.changed.notify_one();
    }

    /// `PUBSUB NUMSUB channel`: how many connections listen on `channel`.
    pub(crate) async fn numsub(&self, channel: &str) -> redis::RedisResult<usize> {
        let mut conn = self.manager.clone();
        let (_, n): (String, usize) =
            redis::cmd("PUBSUB").arg("NUMSUB").arg(channel).query_async(&mut conn).await?;
        Ok(n)
    }

    pub(crate) fn close(&self) {
        self.closed.notify_waiters();
        self.closed.notify_one();
    }
}

async fn publisher(mut manager: ConnectionManager, mut rx: mpsc::Receiver<(String, Vec<u8>)>) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    let mut failing = false;
    while rx.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for (channel, payload) in batch.drain(..) {
            pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
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

async fn listener(
    client: redis::Client,
    mut first: Option<redis::aio::PubSub>,
    subs: Arc<Subscriptions>,
    incoming: Incoming,
    closed: Arc<Notify>,
) {
    let mut delay = Duration::from_millis(50);
    loop {
        let pubsub = match first.take() {
            Some(p) => Ok(p),
            None => tokio::select! {
                p = client.get_async_pubsub() => p,
                () = closed.notified() => return,
            },
        };
        match pubsub {
            Ok(pubsub) => {
                let (mut sink, mut stream) = pubsub.split();
                let mut done_channels = BTreeSet::new();
                let mut done_patterns = BTreeSet::new();
                let mut dirty = true;
                'session: loop {
                    if dirty {
                        dirty = false;
                        // Subscribe to whatever is new (everything after a reconnection).
                        let channels: Vec<String> = subs
                            .channels
                            .lock()
                            .iter()
                            .filter(|c| !done_channels.contains(*c))
                            .cloned()
                            .collect();
                        let patterns: Vec<String> = subs
                            .patterns
                            .lock()
                            .iter()
                            .filter(|p| !done_patterns.contains(*p))
                            .cloned()
                            .collect();
                        if !channels.is_empty() {
                            if let Err(e) = sink.subscribe(&channels).await {
                                tracing::warn!(error = %e, "redis adapter: subscribe failed");
                                break 'session;
                            }
                            done_channels.extend(channels);
                        }
                        if !patterns.is_empty() {
                            if let Err(e) = sink.psubscribe(&patterns).await {
                                tracing::warn!(error = %e, "redis adapter: psubscribe failed");
                                break 'session;
                            }
                            done_patterns.extend(patterns);
                        }
                        if delay > Duration::from_millis(50) {
                            tracing::info!("redis adapter: reconnected and subscribed again");
                            delay = Duration::from_millis(50);
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
                                break 'session;
                            }
                        },
                        () = subs.changed.notified() => dirty = true,
                        () = closed.notified() => return,
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "redis adapter: cannot connect the subscriber")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = closed.notified() => return,
        }
        // Doubles up to 2 s; above 50 ms it also marks that a reconnection is under way.
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}
