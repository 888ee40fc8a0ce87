//! The PostgreSQL side: a query connection that reconnects on demand, and the SQL and
//! notifications of Node's adapter (attachments above the threshold or with binary).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sio_cluster::{MessageType, Outgoing};
use tokio_postgres::{Client, NoTls};

use crate::config::PostgresConfig;

/// Why the adapter or emitter could not start.
#[derive(Debug)]
pub struct ConnectError(Box<dyn StdError + Send + Sync>);

impl ConnectError {
    pub(crate) fn new(e: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self(e.into())
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot use PostgreSQL: {}", self.0)
    }
}

impl StdError for ConnectError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}

/// How long a connection attempt may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads a connection URL (`postgres://user@host:port/db?application_name=...`).
pub(crate) fn parse_url(url: &str) -> Result<tokio_postgres::Config, ConnectError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(ConnectError::new)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// What a PostgreSQL error says, its cause included.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match (e.as_db_error(), e.source()) {
        (Some(db), _) => format!("{}: {}", db.severity(), db.message()),
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}

/// A connection to drive by hand (the LISTEN connection reads its notifications).
pub(crate) async fn connect_raw(
    config: &tokio_postgres::Config,
) -> Result<
    (Client, tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>),
    tokio_postgres::Error,
> {
    config.connect(NoTls).await
}

/// Opens a connection and drives it in the background.
pub(crate) async fn open(config: &tokio_postgres::Config) -> Result<Client, tokio_postgres::Error> {
    let (client, conn) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "postgres adapter: query connection ended");
        }
    });
    Ok(client)
}

/// The query connection: inserts attachments, sends notifications, reads attachments,
/// cleans up. Reconnects on the next use after it broke.
pub(crate) struct Db {
    config: tokio_postgres::Config,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

impl Db {
    pub(crate) fn new(config: tokio_postgres::Config) -> Self {
        Self { config, client: tokio::sync::Mutex::new(None) }
    }

    pub(crate) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The connection, opened again if it broke.
    pub(crate) async fn client(&self) -> Result<Arc<Client>, tokio_postgres::Error> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref()
            && !client.is_closed()
        {
            return Ok(client.clone());
        }
        *slot = None;
        let client = Arc::new(open(&self.config).await?);
        *slot = Some(client.clone());
        Ok(client)
    }

    /// Creates the attachment table if it is missing (the statement of Node's README).
    pub(crate) async fn create_table(&self, table: &str) -> Result<(), tokio_postgres::Error> {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {table} (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)"
        );
        let client = self.client().await?;
        match client.batch_execute(&sql).await {
            Ok(()) => Ok(()),
            // Two nodes starting together may race on the catalog: the other one made it.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.client().await?.batch_execute(&sql).await
            }
        }
    }

    /// Deletes the attachments older than `age` (Node's cleanup query).
    pub(crate) async fn cleanup(&self, table: &str, age: Duration) -> Result<u64, tokio_postgres::Error> {
        let sql = format!(
            "DELETE FROM {table} WHERE created_at < now() - interval '{} milliseconds'",
            age.as_millis()
        );
        self.client().await?.execute(&sql, &[]).await
    }

    /// The attachment `id`, if it is still there.
    pub(crate) async fn attachment(
        &self,
        table: &str,
        id: i64,
    ) -> Result<Option<Vec<u8>>, tokio_postgres::Error> {
        let sql = format!("SELECT payload FROM {table} WHERE id = $1");
        let row = self.client().await?.query_opt(&sql, &[&id]).await?;
        Ok(row.and_then(|r| r.try_get::<_, Option<Vec<u8>>>(0).ok().flatten()))
    }

    /// Sends `message` on `channel` as Node's adapter and emitter do: in the notification
    /// (JSON) when it is short and holds no binary, else stored in the table (MessagePack)
    /// with a header notification `{uid, type, attachmentId}`.
    pub(crate) async fn publish(
        &self,
        config: &PostgresConfig,
        channel: &str,
        message: &Outgoing,
    ) -> Result<(), PublishError> {
        let binary_kind = matches!(
            message.kind(),
            MessageType::Broadcast
                | MessageType::BroadcastAck
                | MessageType::ServerSideEmit
                | MessageType::ServerSideEmitResponse
        );
        let json = if binary_kind && message.has_binary() { None } else { message.to_json() };
        let client = self.client().await?;
        let notification = match json {
            Some(json) if json.len() < config.payload_threshold => {
                String::from_utf8(json).map_err(PublishError::other)?
            }
            _ => {
                let payload =
                    message.to_msgpack().ok_or_else(|| PublishError::other("cannot encode the message"))?;
                let sql = format!("INSERT INTO {} (payload) VALUES ($1) RETURNING id", config.table_name);
                let row = client.query_one(&sql, &[&payload]).await?;
                let id: i64 = row.try_get(0)?;
                let header =
                    Header { uid: message.uid(), kind: message.kind(), attachment_id: id.to_string() };
                serde_json::to_string(&header).map_err(PublishError::other)?
            }
        };
        client.execute("SELECT pg_notify($1, $2)", &[&channel, &notification]).await?;
        Ok(())
    }
}

/// The notification of a message stored in the table, keys in Node's order (its
/// `attachmentId` is a string, as `pg` returns a bigserial).
#[derive(Serialize)]
struct Header<'a> {
    uid: &'a str,
    #[serde(rename = "type")]
    kind: MessageType,
    #[serde(rename = "attachmentId")]
    attachment_id: String,
}

/// Why a message could not be sent.
#[derive(Debug)]
pub(crate) enum PublishError {
    Db(tokio_postgres::Error),
    Other(String),
}

impl PublishError {
    fn other(e: impl fmt::Display) -> Self {
        Self::Other(e.to_string())
    }
}

impl From<tokio_postgres::Error> for PublishError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e)
    }
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Db(e) => write!(f, "PostgreSQL error: {}", describe(e)),
            Self::Other(e) => f.write_str(e),
        }
    }
}

impl StdError for PublishError {}

/// `LISTEN "channel"`, the channel quoted as an identifier.
pub(crate) fn listen_sql(channel: &str) -> String {
    format!("LISTEN \"{}\"", channel.replace('"', "\"\""))
}

/// The channel of namespace `nsp`.
pub(crate) fn channel_of(prefix: &str, nsp: &str) -> String {
    format!("{prefix}#{nsp}")
}
