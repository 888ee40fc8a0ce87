//! The adapter: the [`Transport`] of a [`ClusterNamespace`] per namespace over PostgreSQL.
//! One query connection publishes (in order, from one task) and reads attachments; one
//! dedicated connection LISTENs to the channel of every namespace, reconnecting with backoff
//! and LISTENing again to each when it breaks.

use std::collections::{BTreeSet, HashMap};
use std::error::Error as StdError;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use parking_lot::{Mutex, RwLock};
use rand::Rng as _;
use serde::Deserialize;
use sio_cluster::{ClusterConfig, ClusterNamespace, Outgoing, Transport};
use sio_core::adapter::{Adapter, AdapterError, LocalNamespace, NamespaceAdapter};
use tokio::sync::{Notify, mpsc};
use tokio_postgres::{AsyncMessage, Client};

use crate::config::PostgresConfig;
use crate::db::{self, ConnectError, Db, channel_of, describe, listen_sql};

/// How many messages may wait to be published; past that they are dropped (logged).
const PUBLISH_QUEUE: usize = 8192;
/// How many notifications may wait to be handled before the LISTEN connection stops reading.
const NOTIFY_QUEUE: usize = 1024;
/// Reconnection delays of the LISTEN connection: the first, and the longest.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// The adapter (Node's `createAdapter(pool, opts)` of `@socket.io/postgres-adapter`):
/// install it with `Server::builder().adapter(..)`. Cloning shares it.
#[derive(Clone)]
pub struct PostgresAdapter {
    inner: Arc<Inner>,
}

impl fmt::Debug for PostgresAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresAdapter")
            .field("channel_prefix", &self.inner.config.channel_prefix)
            .field("table_name", &self.inner.config.table_name)
            .finish_non_exhaustive()
    }
}

/// What a job of the publishing task is.
enum Job {
    /// LISTEN to a namespace's channel before anything of that namespace is published (its
    /// first heartbeat's answers must arrive).
    Listen(String),
    /// Stop listening to a closed namespace's channel (after its last message).
    Unlisten(String),
    /// Publish a message on a channel.
    Publish(String, Outgoing),
}

/// Channel → its namespace.
type Routes = HashMap<String, Weak<ClusterNamespace>>;

struct Inner {
    config: PostgresConfig,
    jobs: mpsc::Sender<Job>,
    listener: Arc<Listener>,
    /// Channel → its namespace (held by the server: dropped with it).
    routes: Arc<RwLock<Routes>>,
    runtime: tokio::runtime::Handle,
    /// Logs a full queue once per episode.
    queue_full: AtomicBool,
}

/// The LISTEN connection's state.
struct Listener {
    /// The channels to listen to, and the connection when it is up.
    state: tokio::sync::Mutex<ListenState>,
    up: AtomicBool,
    /// Why it is down.
    down_reason: Mutex<String>,
    closed: AtomicBool,
    stop: Notify,
}

#[derive(Default)]
struct ListenState {
    channels: BTreeSet<String>,
    client: Option<Arc<Client>>,
}

impl PostgresAdapter {
    /// Connects to the PostgreSQL at `database_url` (`postgres://user:password@host:port/db`,
    /// or key=value form; `?application_name=...` names the connections), creates the
    /// attachment table if it is missing, and starts listening.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sio_postgres::ConnectError> {
    /// use sio_postgres::{PostgresAdapter, PostgresConfig};
    ///
    /// // Node: createAdapter(pool, { channelPrefix: "my-app" })
    /// let config = PostgresConfig { channel_prefix: "my-app".into(), ..Default::default() };
    /// let adapter = PostgresAdapter::connect("postgres://postgres@127.0.0.1:5432/postgres", config).await?;
    /// let io = sio_core::Server::builder().adapter(adapter).ns("/", sio_core::Handlers::new()).build();
    /// # let _ = io; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When the URL is not a PostgreSQL connection string, PostgreSQL cannot be reached
    /// (within 5 s unless the URL sets `connect_timeout`), or the table cannot be created.
    pub async fn connect(database_url: &str, config: PostgresConfig) -> Result<Self, ConnectError> {
        let db = Arc::new(Db::new(db::parse_url(database_url)?));
        db.create_table(&config.table_name).await.map_err(|e| ConnectError::new(describe(&e)))?;
        let (jobs, jobs_rx) = mpsc::channel(PUBLISH_QUEUE);
        let (notify_tx, notify_rx) = mpsc::channel(NOTIFY_QUEUE);
        let listener = Arc::new(Listener {
            state: tokio::sync::Mutex::new(ListenState::default()),
            up: AtomicBool::new(false),
            down_reason: Mutex::new("not connected yet".to_owned()),
            closed: AtomicBool::new(false),
            stop: Notify::new(),
        });
        let routes: Arc<RwLock<Routes>> = Arc::default();
        tokio::spawn(listen(listener.clone(), db.clone(), notify_tx));
        // The adapter starts ready: the LISTEN connection up (PostgreSQL answered already).
        for _ in 0..500 {
            if listener.up.load(Ordering::Acquire) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::spawn(dispatch(notify_rx, routes.clone(), db.clone(), config.table_name.clone()));
        tokio::spawn(publish(jobs_rx, db.clone(), config.clone(), listener.clone()));
        tokio::spawn(cleanup(Arc::downgrade(&listener), db.clone(), config.clone()));
        let inner = Inner {
            config,
            jobs,
            listener,
            routes,
            runtime: tokio::runtime::Handle::current(),
            queue_full: AtomicBool::new(false),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Whether the LISTEN connection is up (messages from other nodes arrive).
    pub fn is_listening(&self) -> bool {
        self.inner.listener.up.load(Ordering::Acquire)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listener.close();
    }
}

impl Listener {
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.stop.notify_waiters();
        self.stop.notify_one();
    }

    fn set_down(&self, reason: String) {
        *self.down_reason.lock() = reason;
        self.up.store(false, Ordering::Release);
    }

    /// Removes a channel, UNLISTENing to it now if the connection is up.
    async fn remove(&self, channel: &str) {
        let mut state = self.state.lock().await;
        if !state.channels.remove(channel) {
            return;
        }
        if let Some(client) = state.client.clone() {
            let _ = client.batch_execute(&format!("UN{}", listen_sql(channel))).await;
        }
    }

    /// Adds a channel, LISTENing to it now if the connection is up.
    async fn add(&self, channel: String) {
        let mut state = self.state.lock().await;
        if !state.channels.insert(channel.clone()) {
            return;
        }
        if let Some(client) = state.client.clone()
            && let Err(e) = client.batch_execute(&listen_sql(&channel)).await
        {
            // The connection broke: the reconnection LISTENs to every channel.
            tracing::warn!(channel, error = %describe(&e), "postgres adapter: LISTEN failed");
        }
    }
}

impl Adapter for PostgresAdapter {
    fn namespace(&self, local: LocalNamespace) -> Arc<dyn NamespaceAdapter> {
        let inner = &self.inner;
        let _runtime = inner.runtime.enter();
        let channel = channel_of(&inner.config.channel_prefix, local.path());
        inner.queue(Job::Listen(channel.clone()));
        let config = ClusterConfig {
            heartbeat_interval: inner.config.heartbeat_interval,
            heartbeat_timeout: inner.config.heartbeat_timeout,
            requests_timeout: inner.config.requests_timeout,
        };
        let transport: Arc<dyn Transport> = Arc::new(PgTransport { inner: inner.clone() });
        let ns = ClusterNamespace::with_heartbeat(local, transport, config);
        inner.routes.write().insert(channel, Arc::downgrade(&ns));
        ns
    }
}

impl Inner {
    fn queue(&self, job: Job) {
        match self.jobs.try_send(job) {
            Ok(()) => self.queue_full.store(false, Ordering::Relaxed),
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.queue_full.swap(true, Ordering::Relaxed) {
                    tracing::error!("postgres adapter: too many messages waiting to be published; dropping");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// The transport handed to each namespace.
struct PgTransport {
    inner: Arc<Inner>,
}

impl Transport for PgTransport {
    fn publish(&self, message: Outgoing) {
        let channel = channel_of(&self.inner.config.channel_prefix, message.nsp());
        self.inner.queue(Job::Publish(channel, message));
    }

    fn publish_response(&self, _requester: &str, message: Outgoing) {
        // As Node: on the namespace channel; the other nodes ignore it.
        self.publish(message);
    }

    fn available(&self) -> Result<(), AdapterError> {
        if self.inner.listener.up.load(Ordering::Acquire) {
            return Ok(());
        }
        let reason = self.inner.listener.down_reason.lock().clone();
        Err(AdapterError::unavailable(Unavailable(reason)))
    }

    fn namespace_closed(&self, nsp: &str) {
        // The LISTEN connection stays until the adapter is dropped (Node closes it with the
        // last namespace, and a namespace created after that never hears anything).
        let channel = channel_of(&self.inner.config.channel_prefix, nsp);
        self.inner.routes.write().remove(&channel);
        self.inner.queue(Job::Unlisten(channel));
    }
}

/// The LISTEN connection is down.
#[derive(Debug)]
struct Unavailable(String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the PostgreSQL LISTEN connection is down ({}); reconnecting", self.0)
    }
}

impl StdError for Unavailable {}

/// Publishes the jobs in order; ends when the adapter is gone and the queue is empty.
async fn publish(
    mut jobs: mpsc::Receiver<Job>,
    db: Arc<Db>,
    config: PostgresConfig,
    listener: Arc<Listener>,
) {
    let mut failing = false;
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Listen(channel) => listener.add(channel).await,
            Job::Unlisten(channel) => listener.remove(&channel).await,
            Job::Publish(channel, message) => match db.publish(&config, &channel, &message).await {
                Ok(()) => failing = false,
                Err(e) => {
                    if failing {
                        tracing::debug!(channel, error = %e, "postgres adapter: message not sent");
                    } else {
                        tracing::error!(channel, error = %e, "postgres adapter: message not sent");
                        failing = true;
                    }
                }
            },
        }
    }
}

/// Keeps a LISTEN connection up: connects, LISTENs to every channel, forwards what arrives
/// to `out`; when it breaks, starts again after a growing, jittered delay.
async fn listen(listener: Arc<Listener>, db: Arc<Db>, out: mpsc::Sender<(String, String)>) {
    let mut delay = BACKOFF_MIN;
    let mut logged = false;
    while !listener.closed.load(Ordering::Acquire) {
        match db::connect_raw(db.config()).await {
            Ok((client, mut conn)) => {
                let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<String>();
                let out = out.clone();
                tokio::spawn(async move {
                    let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
                    let reason = loop {
                        match messages.next().await {
                            Some(Ok(AsyncMessage::Notification(n))) => {
                                if out.send((n.channel().to_owned(), n.payload().to_owned())).await.is_err() {
                                    break "the adapter is closed".to_owned();
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(e)) => break describe(&e),
                            None => break "connection closed".to_owned(),
                        }
                    };
                    let _ = ended_tx.send(reason);
                });
                let client = Arc::new(client);
                let listened = {
                    let mut state = listener.state.lock().await;
                    let mut result = Ok(());
                    for channel in &state.channels {
                        if let Err(e) = client.batch_execute(&listen_sql(channel)).await {
                            result = Err(describe(&e));
                            break;
                        }
                    }
                    if result.is_ok() {
                        state.client = Some(client.clone());
                        listener.up.store(true, Ordering::Release);
                    }
                    result
                };
                match listened {
                    Ok(()) => {
                        if logged {
                            tracing::info!("postgres adapter: LISTEN connection back");
                        }
                        delay = BACKOFF_MIN;
                        let reason = tokio::select! {
                            r = ended_rx => r.unwrap_or_else(|_| "connection closed".to_owned()),
                            () = listener.stop.notified() => "the adapter is closed".to_owned(),
                        };
                        listener.state.lock().await.client = None;
                        listener.set_down(reason.clone());
                        drop(client);
                        if listener.closed.load(Ordering::Acquire) {
                            return;
                        }
                        tracing::warn!(reason, "postgres adapter: LISTEN connection lost; reconnecting");
                        logged = true;
                    }
                    Err(reason) => {
                        listener.set_down(reason);
                    }
                }
            }
            Err(e) => {
                let reason = describe(&e);
                if !logged {
                    tracing::warn!(reason, "postgres adapter: cannot open the LISTEN connection; retrying");
                    logged = true;
                }
                listener.set_down(reason);
            }
        }
        let jittered = delay.mul_f64(rand::rng().random_range(0.5..1.5));
        tokio::select! {
            () = tokio::time::sleep(jittered) => {}
            () = listener.stop.notified() => return,
        }
        delay = (delay * 2).min(BACKOFF_MAX);
    }
}

/// A notification's header: who sent it and, for a message in the table, where it is.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    uid: Option<serde_json::Value>,
    #[serde(rename = "attachmentId", default)]
    attachment_id: Option<serde_json::Value>,
}

/// An attachment id: Node writes a string (`pg` returns bigserials as strings), a number
/// reads too.
fn attachment_id(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Hands each notification to its namespace, in order (an attachment is read first).
async fn dispatch(
    mut notifications: mpsc::Receiver<(String, String)>,
    routes: Arc<RwLock<Routes>>,
    db: Arc<Db>,
    table: String,
) {
    while let Some((channel, payload)) = notifications.recv().await {
        let Some(ns) = routes.read().get(&channel).and_then(Weak::upgrade) else { continue };
        let header: Header = match serde_json::from_str(&payload) {
            Ok(header) => header,
            Err(e) => {
                tracing::debug!(channel, error = %e, "postgres adapter: notification that is not JSON ignored");
                continue;
            }
        };
        if header.uid.as_ref().and_then(|u| u.as_str()) == Some(ns.uid()) {
            continue;
        }
        let Some(id) = header.attachment_id else {
            ns.receive(payload.as_bytes());
            continue;
        };
        let Some(id) = attachment_id(&id) else {
            tracing::debug!(channel, "postgres adapter: notification with a bad attachmentId ignored");
            continue;
        };
        match db.attachment(&table, id).await {
            Ok(Some(bytes)) => ns.receive(&bytes),
            Ok(None) => tracing::debug!(channel, id, "postgres adapter: attachment not found"),
            Err(e) => {
                tracing::warn!(channel, id, error = %describe(&e), "postgres adapter: cannot read an attachment")
            }
        }
    }
}

/// Deletes old attachments every `cleanup_interval`, until the adapter closes.
async fn cleanup(listener: Weak<Listener>, db: Arc<Db>, config: PostgresConfig) {
    let every = config.cleanup_interval.max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let Some(l) = listener.upgrade() else { return };
        if l.closed.load(Ordering::Acquire) {
            return;
        }
        drop(l);
        match db.cleanup(&config.table_name, config.cleanup_interval).await {
            Ok(n) => tracing::debug!(deleted = n, "postgres adapter: old attachments removed"),
            Err(e) => tracing::debug!(error = %describe(&e), "postgres adapter: cleanup failed"),
        }
    }
}
