//! The messages nodes exchange, as types: what each holds and how it is written
//! (socket.io-adapter's `ClusterAdapter` format, [`messages`]).
//!
//! Node's adapter writes MessagePack with notepack.io (maps with string keys, integers for
//! message types, binary as `bin`) or JSON. These types serialize, through `rmp-serde`
//! (structs as maps) and `serde_json`, to exactly the bytes sio has always sent; the tests
//! hold messages captured between sio and Node. A received message is read as a
//! MessagePack value ([`codec::decode_any`]: JSON or MessagePack), then as its type. Node's
//! optional fields are read as sio always read them: one of the wrong type counts as
//! absent (`lenient`).

use std::fmt;
use std::time::Duration;

use rmpv::Value as Mp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sio_core::Room;
use sio_core::adapter::{BroadcastOptions, Payload, SocketInfo};

use crate::codec;

/// Declares an enum of message types, written and read as their numbers.
macro_rules! message_types {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value,)*
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u8(*self as u8)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match <u64 as serde::Deserialize>::deserialize(d)? {
                    $($value => Ok(Self::$variant),)*
                    other => Err(serde::de::Error::custom(format_args!("unknown message type {other}"))),
                }
            }
        }
    };
}

pub mod messages;

/// Why a received message was not read.
#[derive(Debug)]
pub enum DecodeError {
    /// Neither JSON nor MessagePack (or trailing bytes, or nested too deep).
    Syntax,
    /// Well-formed, but not the expected message.
    Shape(rmpv::ext::Error),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax => f.write_str("neither JSON nor MessagePack"),
            Self::Shape(e) => write!(f, "unexpected shape: {e}"),
        }
    }
}

/// Reads a received message: JSON when it starts with `{`, MessagePack otherwise.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, DecodeError> {
    from_mp(codec::decode_any(payload).ok_or(DecodeError::Syntax)?)
}

/// Reads a MessagePack value as `T`.
pub fn from_mp<T: DeserializeOwned>(value: Mp) -> Result<T, DecodeError> {
    rmpv::ext::from_value(value).map_err(DecodeError::Shape)
}

/// MessagePack bytes of `message`, structs as maps with string keys (as notepack writes
/// JavaScript objects). `None` (logged) if it cannot be written.
pub fn to_msgpack<T: Serialize>(message: &T) -> Option<Vec<u8>> {
    rmp_serde::to_vec_named(message).map_err(|e| encode_failed(&e)).ok()
}

/// JSON bytes of `message`, fields in their declared order.
pub fn to_json<T: Serialize>(message: &T) -> Option<Vec<u8>> {
    serde_json::to_vec(message).map_err(|e| encode_failed(&e)).ok()
}

/// JSON bytes of `message` with the keys of every object sorted (through a
/// `serde_json::Value`, whose maps are sorted): how sio has always written the classic Redis
/// adapter's JSON requests and responses. Node does not mind the order.
pub fn to_sorted_json<T: Serialize>(message: &T) -> Option<Vec<u8>> {
    serde_json::to_value(message).and_then(|v| serde_json::to_vec(&v)).map_err(|e| encode_failed(&e)).ok()
}

fn encode_failed(e: &dyn fmt::Display) {
    tracing::error!(error = %e, "adapter: cannot encode a message; not sent");
}

/// Reads a field that counts as absent (its default) when it has the wrong type.
pub fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(rmpv::ext::from_value(Mp::deserialize(d)?).unwrap_or_default())
}

/// Reads a value that counts as present even when `nil` (with `#[serde(default)]`, an
/// absent one is `None`).
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mp>, D::Error> {
    Mp::deserialize(d).map(Some)
}

/// Reads one room name ([`Rooms`]' rules); anything else counts as absent.
pub fn room<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Room>, D::Error> {
    Mp::deserialize(d).map(|v| room_of(&v))
}

fn is_false(b: &bool) -> bool {
    !b
}

/// A room name from the wire: strings as they are, numbers as their decimal text.
fn room_of(v: &Mp) -> Option<Room> {
    match v {
        Mp::String(s) => s.as_str().map(Room::from),
        Mp::Integer(i) => Some(Room::from(i.to_string())),
        Mp::F64(f) => Some(Room::from(f.to_string())),
        _ => None,
    }
}

/// Room names: an array of strings. Read leniently: Node's numeric rooms become their
/// decimal text, other entries are skipped, anything but an array is no rooms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rooms(pub Vec<Room>);

impl Rooms {
    /// `rooms` as they are.
    pub fn new(rooms: &[Room]) -> Self {
        Self(rooms.to_vec())
    }

    /// `rooms` without repeats, first occurrences kept (how `except` is sent).
    pub fn deduped(rooms: &[Room]) -> Self {
        let mut out: Vec<Room> = Vec::with_capacity(rooms.len());
        for r in rooms {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        Self(out)
    }
}

impl Serialize for Rooms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Room::as_str))
    }
}

impl<'de> Deserialize<'de> for Rooms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Mp::deserialize(d)? {
            Mp::Array(items) => Self(items.iter().filter_map(room_of).collect()),
            _ => Self::default(),
        })
    }
}

/// Which sockets an operation is for, as broadcasts carry it: `{rooms, except, flags}`
/// (`flags` always present, as Node sends it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Opts {
    /// Only sockets in one of these rooms; none: every socket.
    #[serde(default)]
    pub rooms: Rooms,
    /// Not the sockets in these rooms.
    #[serde(default)]
    pub except: Rooms,
    /// Delivery flags.
    #[serde(default, deserialize_with = "lenient")]
    pub flags: Flags,
}

/// The flags of [`Opts`] that cross nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    /// Dropped for sockets that cannot take it now; written only when set.
    #[serde(default, skip_serializing_if = "is_false", deserialize_with = "lenient")]
    pub volatile: bool,
    /// How long a broadcast with acks waits, in milliseconds; written only when set.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub timeout: Option<u64>,
}

impl Opts {
    /// `opts` for the wire; its timeout only `with_timeout`.
    pub fn new(opts: &BroadcastOptions, with_timeout: bool) -> Self {
        let timeout = opts.timeout.filter(|_| with_timeout);
        Self {
            rooms: Rooms::new(&opts.rooms),
            except: Rooms::deduped(&opts.except),
            flags: Flags {
                volatile: opts.volatile,
                timeout: timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            },
        }
    }

    /// What these options ask of this node's sockets.
    pub fn options(self) -> BroadcastOptions {
        BroadcastOptions {
            rooms: self.rooms.0,
            except: self.except.0,
            local: false,
            volatile: self.flags.volatile,
            timeout: self.flags.timeout.map(Duration::from_millis),
        }
    }
}

/// The arguments of an event as they travel: a MessagePack array, binary values inline
/// (sio's payloads hold placeholders and attachments instead; [`codec`] converts). Only an
/// array reads as arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Args(Mp);

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Mp::deserialize(d)? {
            args @ Mp::Array(_) => Ok(Self(args)),
            _ => Err(serde::de::Error::custom("arguments must be an array")),
        }
    }
}

impl Args {
    /// The arguments of `payload`.
    pub fn of(payload: &Payload) -> Self {
        Self(codec::payload_to_mp(payload))
    }

    /// Arguments made of `value` alone; none for `None`.
    pub fn one(value: Option<Mp>) -> Self {
        Self(Mp::Array(value.into_iter().collect()))
    }

    /// As a sio payload.
    pub fn payload(&self) -> Payload {
        codec::mp_to_payload(&self.0)
    }

    /// Appends `value` (an offset) as the last argument.
    pub fn push(&mut self, value: Mp) {
        if let Mp::Array(args) = &mut self.0 {
            args.push(value);
        }
    }

    /// The first argument (what travels of an acknowledgement); `None` for none.
    pub fn first(self) -> Option<Mp> {
        match self.0 {
            Mp::Array(mut args) if !args.is_empty() => Some(args.swap_remove(0)),
            _ => None,
        }
    }

    /// Whether binary is anywhere in them (Node's `hasBinary`).
    pub fn has_binary(&self) -> bool {
        codec::has_binary(&self.0)
    }
}

/// An event packet inside a broadcast: `{type: 2, data, nsp}` (`ClusterAdapter` publishes it
/// before its local broadcast sets `nsp`: sio sends none either).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packet {
    /// socket.io's packet type, `EVENT` (2); not checked when read.
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    kind: u8,
    /// The event name and arguments.
    pub data: Args,
    /// The namespace.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub nsp: Option<String>,
}

impl Packet {
    /// The event packet of `payload`.
    pub fn event(payload: &Payload, nsp: Option<&str>) -> Self {
        Self { kind: 2, data: Args::of(payload), nsp: nsp.map(str::to_owned) }
    }
}

/// The sockets of a fetch response, written as [`SocketInfo`]s (`{id, handshake, rooms,
/// data}`). Numeric rooms become their decimal text, entries that
/// do not parse are skipped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Sockets(pub Vec<SocketInfo>);

impl<'de> Deserialize<'de> for Sockets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value as Json;
        let mut items = match codec::mp_to_json(&Mp::deserialize(d)?, &mut Vec::new()) {
            Json::Array(items) => items,
            _ => Vec::new(),
        };
        for item in &mut items {
            if let Some(Json::Array(rooms)) = item.get_mut("rooms") {
                for r in rooms.iter_mut() {
                    if let Json::Number(n) = r {
                        *r = Json::from(n.to_string());
                    }
                }
            }
        }
        Ok(Self(items.into_iter().filter_map(|i| serde_json::from_value(i).ok()).collect()))
    }
}
