//! The emitter: Node's `@socket.io/postgres-emitter` (`new Emitter(pool, nsp, opts)`), for
//! processes that are not Socket.IO servers.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use sio_cluster::Outgoing;
use sio_core::adapter::{BroadcastOptions, Payload};
use sio_core::{EncodeError, Room, ToArgs};

use crate::config::PostgresConfig;
use crate::db::{self, ConnectError, Db, channel_of, describe};

/// Event names a server reserves (Node's emitter refuses them too).
const RESERVED_EVENTS: [&str; 6] =
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/// Sends broadcasts, room operations and server-side events to the servers of a cluster
/// (sio or Node servers with the PostgreSQL adapter) from any process, as Node's
/// `@socket.io/postgres-emitter` 0.1 does. Each emitter value targets a namespace and a
/// selection of sockets; [`of`](Self::of), [`to`](Self::to), [`except`](Self::except) and
/// [`volatile`](Self::volatile) return narrowed copies. Cloning is cheap (one shared
/// connection).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use sio_postgres::{PostgresConfig, PostgresEmitter};
///
/// let emitter = PostgresEmitter::connect("postgres://postgres@127.0.0.1/postgres", PostgresConfig::default()).await?;
/// // Node: emitter.to("room1").except("room2").emit("hello", "world", 42)
/// emitter.to("room1").except("room2").emit("hello", &("world", 42)).await?;
/// emitter.of("/admin").sockets_join(["vip"]).await?;
/// emitter.server_side_emit("reload", &(1,)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresEmitter {
    shared: Arc<Shared>,
    nsp: String,
    opts: BroadcastOptions,
}

struct Shared {
    db: Db,
    config: PostgresConfig,
}

impl fmt::Debug for PostgresEmitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresEmitter")
            .field("nsp", &self.nsp)
            .field("rooms", &self.opts.rooms)
            .field("except", &self.opts.except)
            .finish_non_exhaustive()
    }
}

/// Why an emitter operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmitError {
    /// The event name is one a server reserves (`connect`, `disconnect`, ...).
    Reserved(String),
    /// The arguments could not be encoded.
    Encode(EncodeError),
    /// PostgreSQL refused the message or cannot be reached.
    Publish(Box<dyn StdError + Send + Sync>),
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reserved(name) => write!(f, "\"{name}\" is a reserved event name"),
            Self::Encode(e) => e.fmt(f),
            Self::Publish(e) => write!(f, "cannot publish: {e}"),
        }
    }
}

impl StdError for EmitError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Reserved(_) => None,
            Self::Encode(e) => Some(e),
            Self::Publish(e) => Some(&**e),
        }
    }
}

impl From<EncodeError> for EmitError {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl PostgresEmitter {
    /// Connects to the PostgreSQL at `database_url` (as
    /// [`PostgresAdapter::connect`](crate::PostgresAdapter::connect)) and creates the
    /// attachment table if it is missing. Of `config`, `channel_prefix`, `table_name` and
    /// `payload_threshold` apply. The emitter targets namespace `/`.
    ///
    /// # Errors
    /// When the URL is not a PostgreSQL connection string, PostgreSQL cannot be reached, or
    /// the table cannot be created.
    pub async fn connect(database_url: &str, config: PostgresConfig) -> Result<Self, ConnectError> {
        let db = Db::new(db::parse_url(database_url)?);
        db.create_table(&config.table_name).await.map_err(|e| ConnectError::new(describe(&e)))?;
        Ok(Self {
            shared: Arc::new(Shared { db, config }),
            nsp: "/".to_owned(),
            opts: BroadcastOptions::default(),
        })
    }

    /// The same emitter for namespace `nsp` (a leading `/` is added if missing), every socket
    /// selected. Unlike Node's `of`, the channel prefix and table are kept.
    pub fn of(&self, nsp: &str) -> Self {
        let nsp = if nsp.starts_with('/') { nsp.to_owned() } else { format!("/{nsp}") };
        Self { shared: self.shared.clone(), nsp, opts: BroadcastOptions::default() }
    }

    /// Only the sockets in `room` (or in any room so added).
    pub fn to(&self, room: impl Into<Room>) -> Self {
        let mut next = self.clone();
        let room = room.into();
        if !next.opts.rooms.contains(&room) {
            next.opts.rooms.push(room);
        }
        next
    }

    /// Not the sockets in `room` (a socket id excludes that socket).
    pub fn except(&self, room: impl Into<Room>) -> Self {
        let mut next = self.clone();
        let room = room.into();
        if !next.opts.except.contains(&room) {
            next.opts.except.push(room);
        }
        next
    }

    /// Broadcasts are dropped for sockets that cannot take them now.
    pub fn volatile(&self) -> Self {
        let mut next = self.clone();
        next.opts.volatile = true;
        next
    }

    /// The namespace this emitter targets.
    pub fn namespace(&self) -> &str {
        &self.nsp
    }

    /// Emits `event` with `args` (a tuple of `Serialize` values, binary as
    /// [`Binary`](sio_core::Binary)) to the selected sockets of every server.
    ///
    /// # Errors
    /// [`EmitError::Reserved`] for a reserved event name, [`EmitError::Encode`] when an
    /// argument cannot be encoded, [`EmitError::Publish`] when PostgreSQL fails.
    pub async fn emit<A: ToArgs>(&self, event: &str, args: &A) -> Result<(), EmitError> {
        if RESERVED_EVENTS.contains(&event) {
            return Err(EmitError::Reserved(event.to_owned()));
        }
        let packet = Payload::encode(Some(event), args)?;
        self.send(Outgoing::emitter_broadcast(&self.nsp, &packet, &self.opts)).await
    }

    /// Makes the selected sockets join `rooms`.
    ///
    /// # Errors
    /// [`EmitError::Publish`] when PostgreSQL fails.
    pub async fn sockets_join<R: Into<Room>>(
        &self,
        rooms: impl IntoIterator<Item = R>,
    ) -> Result<(), EmitError> {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        self.send(Outgoing::emitter_sockets_join(&self.nsp, &self.opts, &rooms)).await
    }

    /// Makes the selected sockets leave `rooms`.
    ///
    /// # Errors
    /// [`EmitError::Publish`] when PostgreSQL fails.
    pub async fn sockets_leave<R: Into<Room>>(
        &self,
        rooms: impl IntoIterator<Item = R>,
    ) -> Result<(), EmitError> {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        self.send(Outgoing::emitter_sockets_leave(&self.nsp, &self.opts, &rooms)).await
    }

    /// Disconnects the selected sockets (`close`: their whole connection).
    ///
    /// # Errors
    /// [`EmitError::Publish`] when PostgreSQL fails.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), EmitError> {
        self.send(Outgoing::emitter_disconnect_sockets(&self.nsp, &self.opts, close)).await
    }

    /// Emits a server-side event (`event` with `args`) to every server of the namespace
    /// (no acknowledgement, as in Node).
    ///
    /// # Errors
    /// [`EmitError::Encode`] when an argument cannot be encoded, [`EmitError::Publish`] when
    /// PostgreSQL fails.
    pub async fn server_side_emit<A: ToArgs>(&self, event: &str, args: &A) -> Result<(), EmitError> {
        let packet = Payload::encode(Some(event), args)?;
        self.send(Outgoing::emitter_server_side_emit(&self.nsp, &packet)).await
    }

    async fn send(&self, message: Option<Outgoing>) -> Result<(), EmitError> {
        let message = message.ok_or_else(|| EmitError::Publish("cannot encode the message".into()))?;
        let channel = channel_of(&self.shared.config.channel_prefix, &self.nsp);
        self.shared
            .db
            .publish(&self.shared.config, &channel, &message)
            .await
            .map_err(|e| EmitError::Publish(Box::new(e)))
    }
}
