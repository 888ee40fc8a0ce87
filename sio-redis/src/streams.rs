//! The Redis Streams side of the adapter (Node's `@socket.io/redis-streams-adapter` 0.3):
//! what must not be lost (broadcasts without acks, joins, leaves, disconnections) is appended
//! to a stream that every node reads; requests and their answers, which only matter while
//! their requester waits, travel on pub/sub as in sharded mode (see `sharded.rs`, which
//! handles the messages of both).
//!
//! One writer appends, in order, and pipelined: a recoverable packet is delivered to this
//! node's sockets once the stream has given it its id, which is its offset on every node.
//! One reader per stream reads from where it stopped, so a Redis connection lost for a while
//! loses nothing that Redis kept. Sessions of disconnected sockets are kept in Redis for the
//! recovery window; restoring one reads back the packets the socket missed from the stream.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use parking_lot::{Mutex, RwLock};
use redis::Value;
use redis::aio::ConnectionManager;
use rmpv::Value as Mp;
use sio_core::Room;
use sio_core::adapter::{
    AdapterError, BroadcastOptions, LocalNamespace, Payload, RestoredSession, SessionState,
};
use tokio::sync::{Notify, mpsc};

use crate::codec;
use crate::config::StreamsConfig;
use crate::sharded::ShardedNamespace;
use crate::wire::sharded::{BroadcastBody, MessageType};
use crate::wire::{self, from_mp};

/// Appends queued before new ones are refused (Redis unreachable for long).
const WRITE_QUEUE: usize = 65_536;
/// Appends sent per pipeline.
const WRITE_BATCH: usize = 256;
/// How long a batch is retried while Redis is unreachable before it is given up.
const WRITE_PATIENCE: Duration = Duration::from_secs(10);
/// At most this many `XRANGE` calls when restoring a session (as Node).
const RESTORE_MAX_CALLS: usize = 100;
/// Entries per `XRANGE` call when restoring a session.
const RESTORE_BATCH: usize = 1_000;

/// One entry of the stream: `uid`, `nsp`, `type` (the message type's number, as text) and,
/// unless the message has none, `data` (its body: JSON text, or base64 MessagePack when it
/// holds binary).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Entry {
    pub(crate) uid: String,
    pub(crate) nsp: String,
    pub(crate) kind: String,
    pub(crate) data: Option<String>,
}

impl Entry {
    /// The entry of a message of this node.
    pub(crate) fn new<D: wire::sharded::Body>(
        kind: MessageType,
        data: &D,
        uid: &str,
        nsp: &str,
        only_plaintext: bool,
    ) -> Option<Self> {
        let data = if !only_plaintext && data.has_binary() {
            BASE64.encode(wire::to_msgpack(data)?)
        } else {
            String::from_utf8(wire::to_json(data)?).ok()?
        };
        Some(Self {
            uid: uid.to_owned(),
            nsp: nsp.to_owned(),
            kind: (kind as u8).to_string(),
            data: Some(data),
        })
    }

    /// The message type, if it is one.
    pub(crate) fn message_type(&self) -> Result<MessageType, wire::DecodeError> {
        let n: u8 = self.kind.parse().map_err(|_| wire::DecodeError::Syntax)?;
        from_mp(Mp::from(n))
    }

    /// The body as a value: JSON when it starts with `{`, base64 MessagePack otherwise.
    pub(crate) fn body(&self) -> Result<Mp, wire::DecodeError> {
        let Some(data) = &self.data else { return Ok(Mp::Nil) };
        let value = if data.starts_with('{') {
            codec::decode_any(data.as_bytes())
        } else {
            let bytes = BASE64.decode(data).map_err(|_| wire::DecodeError::Syntax)?;
            if bytes.first() == Some(&b'{') { None } else { codec::decode_any(&bytes) }
        };
        value.ok_or(wire::DecodeError::Syntax)
    }

    /// Reads an entry's field list (`[field, value, ...]`); `None` when it is not one.
    fn read(fields: &Value) -> Option<Self> {
        let Value::Array(items) = fields else { return None };
        let mut entry = Entry::default();
        for pair in items.chunks(2) {
            let [name, value] = pair else { return None };
            let value = text(value)?;
            match text(name)?.as_str() {
                "uid" => entry.uid = value,
                "nsp" => entry.nsp = value,
                "type" => entry.kind = value,
                "data" => entry.data = Some(value),
                _ => {}
            }
        }
        Some(entry)
    }
}

/// A bulk or simple string reply as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// The entries of an `XRANGE` reply (or of one stream of an `XREAD` reply): `(id, entry)`,
/// entries that are not well-formed skipped (their id still counts as read).
fn entries(reply: &Value) -> Vec<(String, Option<Entry>)> {
    let Value::Array(items) = reply else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Array(pair) if pair.len() == 2 => Some((text(&pair[0])?, Entry::read(&pair[1]))),
            _ => None,
        })
        .collect()
}

/// The entries of an `XREAD` reply on one stream (nil when it timed out).
fn read_reply(reply: &Value) -> Vec<(String, Option<Entry>)> {
    match reply {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(pair) if pair.len() == 2 => Some(entries(&pair[1])),
                _ => None,
            })
            .flatten()
            .collect(),
        Value::Map(streams) => streams.iter().flat_map(|(_, v)| entries(v)).collect(),
        _ => Vec::new(),
    }
}

/// The stream of namespace `nsp` (Node's `computeStreamName`, its 32-bit hash included).
pub(crate) fn stream_of(config: &StreamsConfig, nsp: &str) -> String {
    if config.stream_count <= 1 {
        return config.stream_name.clone();
    }
    let hash = nsp.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    // JavaScript's `%` keeps the sign of the dividend, as Rust's does.
    let count = i32::try_from(config.stream_count).unwrap_or(i32::MAX);
    format!("{}-{}", config.stream_name, hash % count)
}

/// Whether an id is a stream id (`ms-seq`), as Node checks offsets.
fn is_stream_id(id: &str) -> bool {
    let Some((ms, seq)) = id.split_once('-') else { return false };
    [ms, seq].iter().all(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The id right after `id` (exclusive ranges need Redis 6.2; Node does this too).
fn next_id(id: &str) -> Option<String> {
    let (ms, seq) = id.split_once('-')?;
    let seq: u64 = seq.parse().ok()?;
    Some(match seq.checked_add(1) {
        Some(seq) => format!("{ms}-{seq}"),
        None => format!("{}-0", ms.parse::<u64>().ok()?.checked_add(1)?),
    })
}

/// A packet delivered to this node's sockets once appended.
struct Deliver {
    local: LocalNamespace,
    packet: Payload,
    opts: BroadcastOptions,
}

struct Write {
    stream: String,
    entry: Entry,
    then: Option<Deliver>,
}

/// What the namespaces of a streams adapter share: the writer, the readers, the sessions.
pub(crate) struct Streams {
    pub(crate) config: StreamsConfig,
    client: redis::Client,
    manager: ConnectionManager,
    writes: mpsc::Sender<Write>,
    /// Namespace path → its side of the cluster (entries are handed to it).
    namespaces: RwLock<HashMap<String, Weak<ShardedNamespace>>>,
    /// The streams a reader runs for.
    reading: Mutex<HashSet<String>>,
    closed: Arc<Notify>,
}

impl Streams {
    pub(crate) fn start(
        config: StreamsConfig,
        client: redis::Client,
        manager: ConnectionManager,
    ) -> Arc<Self> {
        let (writes, rx) = mpsc::channel(WRITE_QUEUE);
        let closed = Arc::new(Notify::new());
        tokio::spawn(writer(manager.clone(), rx, config.max_len, closed.clone()));
        Arc::new(Self {
            config,
            client,
            manager,
            writes,
            namespaces: RwLock::default(),
            reading: Mutex::default(),
            closed,
        })
    }

    /// Hands the entries of `ns`'s stream to it (a reader starts with the first namespace of
    /// a stream).
    pub(crate) fn add(self: &Arc<Self>, path: &str, stream: &str, ns: &Arc<ShardedNamespace>) {
        self.namespaces.write().insert(path.to_owned(), Arc::downgrade(ns));
        if self.reading.lock().insert(stream.to_owned()) {
            tokio::spawn(reader(Arc::downgrade(self), stream.to_owned()));
        }
    }

    /// Forgets a closed namespace; stops everything with the last one.
    pub(crate) fn remove(&self, path: &str) {
        let mut namespaces = self.namespaces.write();
        namespaces.remove(path);
        if namespaces.is_empty() {
            self.closed.notify_waiters();
        }
    }

    /// Appends a message to `stream`, in order; a packet in `then` is delivered to this
    /// node's sockets with its id once appended (without one if it cannot be).
    pub(crate) fn append(
        &self,
        stream: &str,
        entry: Entry,
        then: Option<(LocalNamespace, Payload, BroadcastOptions)>,
    ) {
        let then = then.map(|(local, packet, opts)| Deliver { local, packet, opts });
        let write = Write { stream: stream.to_owned(), entry, then };
        if let Err(e) = self.writes.try_send(write) {
            tracing::warn!("redis streams adapter: write queue full, message not appended");
            let write = match e {
                mpsc::error::TrySendError::Full(w) | mpsc::error::TrySendError::Closed(w) => w,
            };
            if let Some(d) = write.then {
                d.local.broadcast(&d.packet, &d.opts);
            }
        }
    }

    /// Keeps a disconnected socket's session for `ttl` (Node's `persistSession`).
    pub(crate) fn persist(&self, session: &SessionState, ttl: Duration) {
        let Some(value) = encode_session(session) else { return };
        let key = format!("{}{}", self.config.session_key_prefix, session.pid);
        let mut conn = self.manager.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        tokio::spawn(async move {
            let set: redis::RedisResult<()> =
                redis::cmd("SET").arg(&key).arg(value).arg("PX").arg(ms).exec_async(&mut conn).await;
            if let Err(e) = set {
                tracing::warn!(error = %e, "redis streams adapter: a session could not be persisted");
            }
        });
    }

    /// Takes session `pid` and reads the packets of namespace `nsp` it missed after `offset`
    /// (Node's `restoreSession`). `None` when the session or the offset is unknown.
    pub(crate) async fn restore(
        &self,
        stream: &str,
        nsp: &str,
        pid: &str,
        offset: &str,
    ) -> Result<Option<RestoredSession>, AdapterError> {
        if !is_stream_id(offset) {
            return Ok(None);
        }
        let mut conn = self.manager.clone();
        let key = format!("{}{pid}", self.config.session_key_prefix);
        let (session, at): (Option<String>, Value) = redis::pipe()
            .atomic()
            .get(&key)
            .del(&key)
            .ignore()
            .cmd("XRANGE")
            .arg(stream)
            .arg(offset)
            .arg(offset)
            .query_async(&mut conn)
            .await
            .map_err(AdapterError::unavailable)?;
        let Some(session) = session.as_deref().and_then(decode_session) else { return Ok(None) };
        if entries(&at).is_empty() {
            tracing::debug!(sid = %session.sid, "recovery refused: offset no longer in the stream");
            return Ok(None);
        }
        let mut rooms: Vec<Room> = vec![Room::from(session.sid)];
        rooms.extend(session.rooms.iter().cloned());
        let mut missed = Vec::new();
        let mut from = offset.to_owned();
        for _ in 0..RESTORE_MAX_CALLS {
            let Some(start) = next_id(&from) else { break };
            let reply: Value = redis::cmd("XRANGE")
                .arg(stream)
                .arg(start)
                .arg("+")
                .arg("COUNT")
                .arg(RESTORE_BATCH)
                .query_async(&mut conn)
                .await
                .map_err(AdapterError::unavailable)?;
            let batch = entries(&reply);
            let Some((last, _)) = batch.last() else { break };
            from = last.clone();
            for (id, entry) in batch {
                let Some(entry) = entry.filter(|e| e.nsp == nsp && e.kind == "3") else { continue };
                let Ok(body) = entry.body().and_then(from_mp::<BroadcastBody>) else { continue };
                if body.request_id.is_some() {
                    continue;
                }
                let opts = body.opts.options();
                if !opts.volatile && selects(&opts, &rooms) {
                    let mut args = body.packet.data;
                    args.push(Mp::from(id.as_str()));
                    missed.push(args.payload());
                }
            }
        }
        Ok(Some(RestoredSession { session, missed }))
    }
}

/// Node's `shouldIncludePacket`: a packet to `opts` reached a socket in `rooms` (its own id
/// room included).
fn selects(opts: &BroadcastOptions, rooms: &[Room]) -> bool {
    let included = opts.rooms.is_empty() || rooms.iter().any(|r| opts.rooms.contains(r));
    included && !rooms.iter().any(|r| opts.except.contains(r))
}

/// A session as Node keeps it: base64 MessagePack of `{sid, pid, rooms, data}`, the socket's
/// own id room first among the rooms.
fn encode_session(session: &SessionState) -> Option<String> {
    let mut rooms = vec![Mp::from(session.sid.as_str())];
    rooms.extend(session.rooms.iter().map(|r| Mp::from(r.as_str())));
    let value = Mp::Map(vec![
        (Mp::from("sid"), Mp::from(session.sid.as_str())),
        (Mp::from("pid"), Mp::from(session.pid.as_str())),
        (Mp::from("rooms"), Mp::Array(rooms)),
        (Mp::from("data"), rmpv::ext::to_value(&session.data).ok()?),
    ]);
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &value).ok()?;
    Some(BASE64.encode(out))
}

/// Reads a session written by [`encode_session`] (or by Node).
fn decode_session(text: &str) -> Option<SessionState> {
    let bytes = BASE64.decode(text).ok()?;
    let Mp::Map(fields) = codec::decode_any(&bytes)? else { return None };
    let field = |name: &str| fields.iter().find(|(k, _)| k.as_str() == Some(name)).map(|(_, v)| v);
    let sid = sio_core::Sid::parse(field("sid")?.as_str()?)?;
    let pid = sio_core::Sid::parse(field("pid")?.as_str()?)?;
    let rooms = match field("rooms") {
        Some(Mp::Array(rooms)) => rooms
            .iter()
            .filter_map(|r| match r {
                Mp::String(s) => s.as_str().map(Room::from),
                Mp::Integer(n) => Some(Room::from(n.to_string())),
                _ => None,
            })
            .filter(|r| r.as_str() != sid.as_str())
            .collect(),
        _ => Vec::new(),
    };
    let data = field("data").map_or(serde_json::Value::Null, |v| codec::mp_to_json(v, &mut Vec::new()));
    Some(SessionState { sid, pid, rooms, data })
}

/// Appends what is queued, in order, pipelined; delivers the packets waiting for their ids.
async fn writer(
    mut manager: ConnectionManager,
    mut rx: mpsc::Receiver<Write>,
    max_len: usize,
    closed: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let mut failing = false;
    loop {
        let got = tokio::select! {
            n = rx.recv_many(&mut batch, WRITE_BATCH) => n,
            () = closed.notified() => 0,
        };
        if got == 0 {
            return;
        }
        let mut pipe = redis::pipe();
        for w in &batch {
            let cmd = pipe.cmd("XADD").arg(&w.stream).arg("MAXLEN").arg("~").arg(max_len).arg("*");
            cmd.arg("uid").arg(&w.entry.uid).arg("nsp").arg(&w.entry.nsp).arg("type").arg(&w.entry.kind);
            if let Some(data) = &w.entry.data {
                cmd.arg("data").arg(data);
            }
        }
        let started = tokio::time::Instant::now();
        let mut delay = Duration::from_millis(50);
        let ids = loop {
            match pipe.query_async::<Vec<String>>(&mut manager).await {
                Ok(ids) => break Some(ids),
                Err(e) if started.elapsed() < WRITE_PATIENCE => {
                    if !failing {
                        tracing::warn!(error = %e, "redis streams adapter: cannot append to the stream, retrying");
                        failing = true;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
                Err(e) => {
                    tracing::error!(error = %e, lost = batch.len(), "redis streams adapter: messages not appended, given up");
                    break None;
                }
            }
        };
        if ids.is_some() && failing {
            tracing::info!("redis streams adapter: appending again");
            failing = false;
        }
        let ids = ids.unwrap_or_default();
        for (i, w) in batch.drain(..).enumerate() {
            let Some(d) = w.then else { continue };
            match ids.get(i) {
                Some(id) => d.local.broadcast_with_offset(&d.packet, &d.opts, id),
                None => d.local.broadcast(&d.packet, &d.opts),
            };
        }
    }
}

/// Reads `stream` from its end, handing every entry to its namespace, until the adapter
/// closes. A lost connection is made again; reading resumes after the last entry read.
async fn reader(streams: Weak<Streams>, stream: String) {
    let Some((client, block, count, closed)) = streams
        .upgrade()
        .map(|s| (s.client.clone(), s.config.block_time, s.config.read_count.max(1), s.closed.clone()))
    else {
        return;
    };
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(block + Duration::from_secs(5)));
    let block_ms = u64::try_from(block.as_millis()).unwrap_or(u64::MAX);
    let mut last = "$".to_owned();
    let mut delay = Duration::from_millis(50);
    let mut lost = false;
    loop {
        let session = async {
            let mut conn = client.get_multiplexed_async_connection_with_config(&config).await?;
            loop {
                let reply: Value = redis::cmd("XREAD")
                    .arg("BLOCK")
                    .arg(block_ms)
                    .arg("COUNT")
                    .arg(count)
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(&last)
                    .query_async(&mut conn)
                    .await?;
                if lost {
                    tracing::info!(stream, "redis streams adapter: reading the stream again");
                    lost = false;
                }
                delay = Duration::from_millis(50);
                let Some(streams) = streams.upgrade() else { return Ok::<(), redis::RedisError>(()) };
                for (id, entry) in read_reply(&reply) {
                    if let Some(entry) = entry {
                        let ns = streams.namespaces.read().get(&entry.nsp).and_then(Weak::upgrade);
                        if let Some(ns) = ns {
                            ns.on_stream_entry(&id, entry);
                        }
                    }
                    last = id;
                }
            }
        };
        tokio::select! {
            ended = session => match ended {
                Ok(()) => return,
                Err(e) => {
                    if !lost {
                        tracing::warn!(stream, error = %e, "redis streams adapter: cannot read the stream, retrying");
                        lost = true;
                    }
                }
            },
            () = closed.notified() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = closed.notified() => return,
        }
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_spread_over_streams_as_node_does() {
        let one = StreamsConfig::default();
        assert_eq!(stream_of(&one, "/chat"), "socket.io");
        let three = StreamsConfig { stream_count: 3, ..StreamsConfig::default() };
        // Node: hashCode("/") = 47, hashCode("/chat") = 46457863, and "/chat-room-42"
        // overflows to -1806463766, which JavaScript's `%` keeps negative: "socket.io--2".
        assert_eq!(stream_of(&three, "/"), "socket.io-2");
        assert_eq!(stream_of(&three, "/chat"), "socket.io-1");
        assert_eq!(stream_of(&three, "/chat-room-42"), "socket.io--2");
    }

    #[test]
    fn offsets_are_stream_ids() {
        assert!(is_stream_id("1700000000000-0"));
        assert!(!is_stream_id("17"));
        assert!(!is_stream_id("-1"));
        assert!(!is_stream_id("1-"));
        assert!(!is_stream_id("1-2-3"));
        assert!(!is_stream_id("99999999999999999999999-0"));
        assert_eq!(next_id("5-1").as_deref(), Some("5-2"));
        assert_eq!(next_id(&format!("5-{}", u64::MAX)).as_deref(), Some("6-0"));
    }

    #[test]
    fn sessions_round_trip_in_nodes_shape() {
        let sid = sio_core::Sid::new();
        let session = SessionState {
            sid,
            pid: sio_core::Sid::new(),
            rooms: vec![Room::from("a"), Room::from("b")],
            data: serde_json::json!({"z": 1, "a": [true]}),
        };
        let text = encode_session(&session).expect("encodes");
        let Some(Mp::Map(fields)) = codec::decode_any(&BASE64.decode(&text).expect("base64")) else {
            panic!("a map")
        };
        let keys: Vec<_> = fields.iter().map(|(k, _)| k.as_str().unwrap_or_default()).collect();
        assert_eq!(keys, ["sid", "pid", "rooms", "data"]);
        assert_eq!(fields[2].1, Mp::Array(vec![sid.as_str().into(), "a".into(), "b".into()]));
        assert_eq!(decode_session(&text), Some(session));
        assert_eq!(decode_session("not base64!"), None);
        assert_eq!(decode_session(&BASE64.encode([0xc1])), None);
    }

    #[test]
    fn malformed_entries_are_skipped() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let good = Value::Array(vec![
            bulk("1-0"),
            Value::Array(vec![bulk("uid"), bulk("u"), bulk("nsp"), bulk("/"), bulk("type"), bulk("3")]),
        ]);
        let odd = Value::Array(vec![bulk("2-0"), Value::Array(vec![bulk("uid")])]);
        let junk = Value::Int(3);
        let got = entries(&Value::Array(vec![good, odd, junk]));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.as_ref().map(|e| e.kind.as_str()), Some("3"));
        assert!(got[1].1.is_none());
        let entry = Entry { data: Some("%%%".into()), ..Entry::default() };
        assert!(entry.body().is_err());
        let entry = Entry { kind: "x".into(), ..Entry::default() };
        assert!(entry.message_type().is_err());
    }
}
