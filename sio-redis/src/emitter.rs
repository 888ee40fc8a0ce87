//! The Redis emitter: sends to the clients of a cluster of servers that use the classic
//! Redis adapter, from a process that runs no Socket.IO server (Node's
//! `@socket.io/redis-emitter` 5.x, whose messages it writes byte for byte).
//!
//! What it publishes (`‹key›` is [`EmitterConfig::key`], `‹nsp›` the namespace):
//!
//! | operation | channel | message |
//! |---|---|---|
//! | `emit` | `‹key›#‹nsp›#`, or `‹key›#‹nsp›#‹room›#` to exactly one room | MessagePack `["emitter", {type: 2, data, nsp}, {rooms, flags, except}]` |
//! | `sockets_join` / `sockets_leave` | `‹key›-request#‹nsp›#` | JSON `{type: 2 or 3, opts: {rooms, except}, rooms}` |
//! | `disconnect_sockets` | `‹key›-request#‹nsp›#` | JSON `{type: 4, opts: {rooms, except}, close}` |
//! | `server_side_emit` | `‹key›-request#‹nsp›#` | JSON `{uid: "emitter", type: 6, data}` |

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rmpv::Value as Mp;
use serde::Serialize;
use serde_json::value::RawValue;
use sio_core::adapter::Payload;
use sio_core::{Room, ToArgs};

use crate::codec;
use crate::wire::classic::RequestType;

/// The uid Node's emitter sends as the origin of its messages.
const UID: &str = "emitter";

/// Event names a server gives a meaning of its own; emitting them is refused (as Node's
/// emitter does).
const RESERVED_EVENTS: [&str; 6] =
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/// Settings of a [`RedisEmitter`].
#[derive(Debug, Clone)]
pub struct EmitterConfig {
    /// Prefix of every channel (Node's `key`): the servers'
    /// [`RedisConfig::key`](crate::RedisConfig::key). Default `socket.io`.
    pub key: String,
    /// How long one publication may take before it fails with [`EmitterError::Timeout`]
    /// (Redis slow or unreachable). Default 5 s.
    pub timeout: Duration,
}

impl Default for EmitterConfig {
    fn default() -> Self {
        Self { key: "socket.io".to_owned(), timeout: Duration::from_secs(5) }
    }
}

/// Why an emitter could not connect or publish.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmitterError {
    /// [`RedisEmitter::connect`]: `url` is not a Redis URL, or Redis could not be reached.
    Connect {
        /// The URL given.
        url: String,
        /// What failed.
        source: redis::RedisError,
    },
    /// Redis refused or dropped the publication (the connection reconnects by itself: a
    /// later call may succeed).
    Publish {
        /// The channel published to.
        channel: String,
        /// What failed.
        source: redis::RedisError,
    },
    /// The publication did not complete within [`EmitterConfig::timeout`].
    Timeout {
        /// The channel published to.
        channel: String,
        /// The time waited.
        after: Duration,
    },
    /// The arguments could not be serialized.
    Encode(Box<dyn StdError + Send + Sync>),
    /// The event name is one a server reserves (`connect`, `disconnect`, ..).
    ReservedEvent(String),
}

impl fmt::Display for EmitterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { url, source } => write!(f, "emitter: cannot connect to Redis at {url}: {source}"),
            Self::Publish { channel, source } => write!(f, "emitter: cannot publish on {channel}: {source}"),
            Self::Timeout { channel, after } => {
                write!(f, "emitter: publishing on {channel} did not complete within {after:?}")
            }
            Self::Encode(e) => write!(f, "emitter: cannot encode the message: {e}"),
            Self::ReservedEvent(name) => write!(f, "emitter: \"{name}\" is a reserved event name"),
        }
    }
}

impl StdError for EmitterError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Publish { source, .. } => Some(source),
            Self::Encode(e) => Some(e.as_ref()),
            Self::Timeout { .. } | Self::ReservedEvent(_) => None,
        }
    }
}

struct Inner {
    conn: ConnectionManager,
    config: EmitterConfig,
}

/// Sends to the clients of a cluster of servers that share the classic Redis adapter (sio's
/// [`RedisAdapter`](crate::RedisAdapter), or Node's `@socket.io/redis-adapter`
/// `createAdapter`) without running a server: Node's `Emitter` of
/// `@socket.io/redis-emitter`. Cheap to clone; the clones share one Redis connection, which
/// reconnects by itself.
///
/// An emitter is for one namespace (`/` at first; [`RedisEmitter::of`] for others). Its
/// operations act on every socket of the namespace, or on those an [`EmitterOperator`]
/// selects ([`RedisEmitter::to`], [`RedisEmitter::except`]). Each returns once Redis took
/// the message; nothing tells which servers received it.
///
/// ```no_run
/// # async fn run() -> Result<(), sio_redis::EmitterError> {
/// use sio_redis::RedisEmitter;
///
/// let emitter = RedisEmitter::connect("redis://127.0.0.1:6379").await?;
/// emitter.emit("time", &"12:00").await?;
/// emitter.to("room1").except("room2").emit("news", &serde_json::json!({ "n": 1 })).await?;
/// emitter.of("/admin").emit_args("stats", (3, "users")).await?;
/// emitter.to("room1").sockets_join(["room3"]).await?;
/// emitter.server_side_emit("reload", ("config",)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisEmitter {
    inner: Arc<Inner>,
    nsp: Arc<str>,
}

impl fmt::Debug for RedisEmitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisEmitter")
            .field("key", &self.inner.config.key)
            .field("nsp", &self.nsp)
            .finish_non_exhaustive()
    }
}

impl RedisEmitter {
    /// Connects to the Redis at `url` (`redis://host:port/db`) with the default settings
    /// (channel prefix `socket.io`).
    ///
    /// # Errors
    /// [`EmitterError::Connect`] when `url` is not a Redis URL, or Redis cannot be reached
    /// within 5 s.
    pub async fn connect(url: &str) -> Result<Self, EmitterError> {
        Self::connect_with(url, EmitterConfig::default()).await
    }

    /// Connects to the Redis at `url` with `config`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sio_redis::EmitterError> {
    /// use sio_redis::{EmitterConfig, RedisEmitter};
    ///
    /// // Node: new Emitter(redisClient, { key: "my-app" })
    /// let config = EmitterConfig { key: "my-app".into(), ..Default::default() };
    /// let emitter = RedisEmitter::connect_with("redis://127.0.0.1:6379/0", config).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`RedisEmitter::connect`].
    pub async fn connect_with(url: &str, config: EmitterConfig) -> Result<Self, EmitterError> {
        let err = |source| EmitterError::Connect { url: url.to_owned(), source };
        let client = redis::Client::open(url).map_err(err)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let open = ConnectionManager::new_with_config(client, manager_config);
        let conn = tokio::time::timeout(Duration::from_secs(5), open)
            .await
            .map_err(|_| err(redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))))?
            .map_err(err)?;
        Ok(Self::with_connection(conn, config))
    }

    /// An emitter publishing through `conn`, a connection of the application's own (which
    /// it shares).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let conn = redis::aio::ConnectionManager::new(client).await?;
    /// let emitter = sio_redis::RedisEmitter::with_connection(conn, Default::default());
    /// emitter.emit("hello", &"world").await?;
    /// # Ok(()) }
    /// ```
    pub fn with_connection(conn: ConnectionManager, config: EmitterConfig) -> Self {
        Self { inner: Arc::new(Inner { conn, config }), nsp: Arc::from("/") }
    }

    /// The same emitter for namespace `nsp` (a leading `/` is added when missing).
    pub fn of(&self, nsp: &str) -> Self {
        let nsp = if nsp.starts_with('/') { Arc::from(nsp) } else { Arc::from(format!("/{nsp}")) };
        Self { inner: self.inner.clone(), nsp }
    }

    /// The namespace this emitter is for.
    pub fn namespace(&self) -> &str {
        &self.nsp
    }

    /// Every socket of the namespace, to narrow down or act on.
    pub fn all(&self) -> EmitterOperator {
        EmitterOperator {
            emitter: self.clone(),
            rooms: Vec::new(),
            except: Vec::new(),
            flags: Flags::default(),
        }
    }

    /// The sockets in `room` (several calls: in any of the rooms).
    #[doc(alias = "in")]
    pub fn to(&self, room: impl Into<Room>) -> EmitterOperator {
        self.all().to(room)
    }

    /// [`RedisEmitter::to`] (Node's `in`).
    pub fn in_(&self, room: impl Into<Room>) -> EmitterOperator {
        self.to(room)
    }

    /// Every socket but those in `room`.
    pub fn except(&self, room: impl Into<Room>) -> EmitterOperator {
        self.all().except(room)
    }

    /// Marks the event volatile (see [`EmitterOperator::volatile`]).
    pub fn volatile(&self) -> EmitterOperator {
        self.all().volatile()
    }

    /// Sets the compress flag (see [`EmitterOperator::compress`]).
    pub fn compress(&self, compress: bool) -> EmitterOperator {
        self.all().compress(compress)
    }

    /// Emits `event` with one argument to every socket of the namespace.
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitterError> {
        self.all().emit(event, data).await
    }

    /// Emits `event` with several arguments (a tuple, `()` or [`RawArgs`](sio_core::RawArgs))
    /// to every socket of the namespace.
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitterError> {
        self.all().emit_args(event, args).await
    }

    /// Every socket of the namespace joins `rooms` (Node's `socketsJoin`).
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn sockets_join<I, R>(&self, rooms: I) -> Result<(), EmitterError>
    where
        I: IntoIterator<Item = R>,
        R: Into<Room>,
    {
        self.all().sockets_join(rooms).await
    }

    /// Every socket of the namespace leaves `rooms` (Node's `socketsLeave`).
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn sockets_leave<I, R>(&self, rooms: I) -> Result<(), EmitterError>
    where
        I: IntoIterator<Item = R>,
        R: Into<Room>,
    {
        self.all().sockets_leave(rooms).await
    }

    /// Disconnects every socket of the namespace; with `close`, their underlying
    /// connections are closed too (Node's `disconnectSockets`).
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), EmitterError> {
        self.all().disconnect_sockets(close).await
    }

    /// Sends `event` with `args` to the servers of the cluster (not to clients): sio's
    /// [`on_server_event`](sio_core::NsHandle::on_server_event) handlers and Node's
    /// `io.on(event, ..)` listeners run, without an ack to answer (Node's emitter has no
    /// acks either). Binary values travel as Node's JSON form of a `Buffer`
    /// (`{"type":"Buffer","data":[..]}`), as with Node's emitter.
    ///
    /// ```no_run
    /// # async fn run(emitter: sio_redis::RedisEmitter) -> Result<(), sio_redis::EmitterError> {
    /// emitter.server_side_emit("reload-config", ("v2", 3)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`] (reserved names are not refused here).
    #[doc(alias = "serverSideEmit")]
    pub async fn server_side_emit<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitterError> {
        let payload = Payload::encode(Some(event), &args).map_err(encode_error)?;
        let data =
            RawValue::from_string(codec::payload_to_json_with_buffers(&payload)).map_err(encode_error)?;
        let request = EmitRequest { uid: UID, kind: RequestType::ServerSideEmit, data: &data };
        self.publish(self.request_channel(), serde_json::to_vec(&request).map_err(encode_error)?).await
    }

    fn broadcast_channel(&self) -> String {
        format!("{}#{}#", self.inner.config.key, self.nsp)
    }

    fn request_channel(&self) -> String {
        format!("{}-request#{}#", self.inner.config.key, self.nsp)
    }

    async fn publish(&self, channel: String, message: Vec<u8>) -> Result<(), EmitterError> {
        let mut conn = self.inner.conn.clone();
        let after = self.inner.config.timeout;
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&channel).arg(message);
        let publish = cmd.query_async::<i64>(&mut conn);
        match tokio::time::timeout(after, publish).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(EmitterError::Publish { channel, source }),
            Err(_) => Err(EmitterError::Timeout { channel, after }),
        }
    }
}

fn encode_error(e: impl StdError + Send + Sync + 'static) -> EmitterError {
    EmitterError::Encode(Box::new(e))
}

/// The sockets an emitter's operation acts on, and how its events are delivered (Node's
/// `BroadcastOperator` of `@socket.io/redis-emitter`). Made by [`RedisEmitter::to`],
/// [`RedisEmitter::except`], ..; each method returns the narrowed operator.
///
/// ```no_run
/// # async fn run(emitter: sio_redis::RedisEmitter) -> Result<(), sio_redis::EmitterError> {
/// emitter.to("lobby").to("games").except("muted").volatile().emit("tick", &42).await?;
/// emitter.in_("lobby").disconnect_sockets(false).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EmitterOperator {
    emitter: RedisEmitter,
    rooms: Vec<Room>,
    except: Vec<Room>,
    flags: Flags,
}

impl fmt::Debug for EmitterOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmitterOperator")
            .field("nsp", &self.emitter.nsp)
            .field("rooms", &self.rooms)
            .field("except", &self.except)
            .field("volatile", &self.flags.volatile)
            .field("compress", &self.flags.compress)
            .finish()
    }
}

/// Adds `room` to `rooms` unless there (Node keeps them in a `Set`).
fn add(rooms: &mut Vec<Room>, room: Room) {
    if !rooms.contains(&room) {
        rooms.push(room);
    }
}

impl EmitterOperator {
    /// Adds a target room (sockets in any of the rooms receive, once).
    #[doc(alias = "in")]
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        add(&mut self.rooms, room.into());
        self
    }

    /// [`EmitterOperator::to`] (Node's `in`).
    pub fn in_(self, room: impl Into<Room>) -> Self {
        self.to(room)
    }

    /// Adds several target rooms.
    pub fn to_all<I: IntoIterator<Item = R>, R: Into<Room>>(mut self, rooms: I) -> Self {
        for room in rooms {
            add(&mut self.rooms, room.into());
        }
        self
    }

    /// Excludes the sockets in `room` (several calls exclude several rooms).
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        add(&mut self.except, room.into());
        self
    }

    /// The event may be dropped for clients that cannot take it now (Node's `volatile`).
    pub fn volatile(mut self) -> Self {
        self.flags.volatile = true;
        self
    }

    /// Whether the event is to be compressed (Node's `compress(bool)`; servers that do not
    /// read the flag, such as sio, ignore it).
    pub fn compress(mut self, compress: bool) -> Self {
        self.flags.compress = Some(compress);
        self
    }

    /// Emits `event` with one argument to the selected sockets. Binary values
    /// ([`Binary`](sio_core::Binary), `serde_bytes`) reach clients as binary.
    ///
    /// ```no_run
    /// # async fn run(emitter: sio_redis::RedisEmitter) -> Result<(), sio_redis::EmitterError> {
    /// emitter.to("room1").emit("file", &sio_core::Binary::from(vec![1u8, 2, 3])).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`EmitterError::ReservedEvent`] for a name a server reserves,
    /// [`EmitterError::Encode`] when `data` cannot be serialized, and
    /// [`EmitterError::Publish`] or [`EmitterError::Timeout`] when Redis did not take the
    /// message.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitterError> {
        self.emit_args(event, (data,)).await
    }

    /// Emits `event` with several arguments (a tuple, `()` or
    /// [`RawArgs`](sio_core::RawArgs)) to the selected sockets.
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn emit_args<A: ToArgs>(&self, event: &str, args: A) -> Result<(), EmitterError> {
        if RESERVED_EVENTS.contains(&event) {
            return Err(EmitterError::ReservedEvent(event.to_owned()));
        }
        let payload = Payload::encode(Some(event), &args).map_err(encode_error)?;
        let data = codec::payload_to_mp(&payload);
        let message = Broadcast(
            UID,
            Packet { kind: 2, data: &data, nsp: &self.emitter.nsp },
            BroadcastOpts { rooms: &self.rooms, flags: &self.flags, except: &self.except },
        );
        let bytes = rmp_serde::to_vec_named(&message).map_err(encode_error)?;
        let mut channel = self.emitter.broadcast_channel();
        if let [room] = self.rooms.as_slice() {
            channel.push_str(room.as_str());
            channel.push('#');
        }
        self.emitter.publish(channel, bytes).await
    }

    /// The selected sockets join `rooms` (Node's `socketsJoin`).
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn sockets_join<I, R>(&self, rooms: I) -> Result<(), EmitterError>
    where
        I: IntoIterator<Item = R>,
        R: Into<Room>,
    {
        self.rooms_request(RequestType::RemoteJoin, rooms.into_iter().map(Into::into).collect()).await
    }

    /// The selected sockets leave `rooms` (Node's `socketsLeave`).
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn sockets_leave<I, R>(&self, rooms: I) -> Result<(), EmitterError>
    where
        I: IntoIterator<Item = R>,
        R: Into<Room>,
    {
        self.rooms_request(RequestType::RemoteLeave, rooms.into_iter().map(Into::into).collect()).await
    }

    /// Disconnects the selected sockets; with `close`, their underlying connections are
    /// closed too (Node's `disconnectSockets`).
    ///
    /// # Errors
    /// As [`EmitterOperator::emit`].
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), EmitterError> {
        let request =
            DisconnectRequest { kind: RequestType::RemoteDisconnect, opts: self.selection(), close };
        let bytes = serde_json::to_vec(&request).map_err(encode_error)?;
        self.emitter.publish(self.emitter.request_channel(), bytes).await
    }

    fn selection(&self) -> Selection<'_> {
        Selection { rooms: &self.rooms, except: &self.except }
    }

    async fn rooms_request(&self, kind: RequestType, rooms: Vec<Room>) -> Result<(), EmitterError> {
        let request = RoomsRequest { kind, opts: self.selection(), rooms: &rooms };
        let bytes = serde_json::to_vec(&request).map_err(encode_error)?;
        self.emitter.publish(self.emitter.request_channel(), bytes).await
    }
}

// The messages, fields in the order Node's emitter writes them.

/// `[uid, packet, opts]` (MessagePack).
#[derive(Serialize)]
struct Broadcast<'a>(&'a str, Packet<'a>, BroadcastOpts<'a>);

/// `{type: 2, data: [event, ..args], nsp}`: type stays `EVENT` with binary too (the
/// receiving server's encoder makes it a binary event).
#[derive(Serialize)]
struct Packet<'a> {
    #[serde(rename = "type")]
    kind: u8,
    data: &'a Mp,
    nsp: &'a str,
}

#[derive(Serialize)]
struct BroadcastOpts<'a> {
    rooms: &'a [Room],
    flags: &'a Flags,
    except: &'a [Room],
}

/// Node's flags: each written only once set.
#[derive(Debug, Clone, Default, Serialize)]
struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    compress: Option<bool>,
    #[serde(skip_serializing_if = "is_false")]
    volatile: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// `{rooms, except}` of the JSON requests.
#[derive(Serialize)]
struct Selection<'a> {
    rooms: &'a [Room],
    except: &'a [Room],
}

#[derive(Serialize)]
struct RoomsRequest<'a> {
    #[serde(rename = "type")]
    kind: RequestType,
    opts: Selection<'a>,
    rooms: &'a [Room],
}

#[derive(Serialize)]
struct DisconnectRequest<'a> {
    #[serde(rename = "type")]
    kind: RequestType,
    opts: Selection<'a>,
    close: bool,
}

#[derive(Serialize)]
struct EmitRequest<'a> {
    uid: &'a str,
    #[serde(rename = "type")]
    kind: RequestType,
    data: &'a RawValue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_written_as_nodes_emitter_writes_them() {
        let rooms = [Room::from("r1")];
        let except = [Room::from("x")];
        let flags = Flags { compress: Some(false), volatile: true };
        let data = Mp::Array(vec![Mp::from("ev"), Mp::Binary(vec![1, 2])]);
        let message = Broadcast(
            UID,
            Packet { kind: 2, data: &data, nsp: "/" },
            BroadcastOpts { rooms: &rooms, flags: &flags, except: &except },
        );
        let bytes = rmp_serde::to_vec_named(&message).expect("encodes");
        // What notepack.io writes for
        // ["emitter", {type: 2, data: ["ev", Buffer.from([1, 2])], nsp: "/"},
        //  {rooms: ["r1"], flags: {compress: false, volatile: true}, except: ["x"]}]
        let expected: &[u8] =
            b"\x93\xa7emitter\x83\xa4type\x02\xa4data\x92\xa2ev\xc4\x02\x01\x02\xa3nsp\xa1/\
            \x83\xa5rooms\x91\xa2r1\xa5flags\x82\xa8compress\xc2\xa8volatile\xc3\xa6except\x91\xa1x";
        assert_eq!(bytes, expected);

        let request = RoomsRequest {
            kind: RequestType::RemoteJoin,
            opts: Selection { rooms: &rooms, except: &except },
            rooms: &[Room::from("a"), Room::from("b")],
        };
        assert_eq!(
            serde_json::to_string(&request).expect("encodes"),
            r#"{"type":2,"opts":{"rooms":["r1"],"except":["x"]},"rooms":["a","b"]}"#
        );
        let request = DisconnectRequest {
            kind: RequestType::RemoteDisconnect,
            opts: Selection { rooms: &[], except: &[] },
            close: true,
        };
        assert_eq!(
            serde_json::to_string(&request).expect("encodes"),
            r#"{"type":4,"opts":{"rooms":[],"except":[]},"close":true}"#
        );
        let data = RawValue::from_string(r#"["ev",{"z":1,"a":2}]"#.to_owned()).expect("JSON");
        let request = EmitRequest { uid: UID, kind: RequestType::ServerSideEmit, data: &data };
        assert_eq!(
            serde_json::to_string(&request).expect("encodes"),
            r#"{"uid":"emitter","type":6,"data":["ev",{"z":1,"a":2}]}"#
        );
    }
}
