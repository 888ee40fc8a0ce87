//! Binary attachments: `{"_placeholder":true,"num":N}` in the JSON, the bytes in separate
//! frames.
//!
//! serde gives a `Deserialize`/`Serialize` impl no context, so the packet's attachments are
//! made visible to [`Binary`] through a thread-local for the duration of one (synchronous)
//! decode or encode call.

use std::cell::RefCell;
use std::fmt;

use bytes::Bytes;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

thread_local! {
    static DECODING: RefCell<Option<Vec<Bytes>>> = const { RefCell::new(None) };
    static ENCODING: RefCell<Option<Vec<Bytes>>> = const { RefCell::new(None) };
}

/// Puts a thread-local back as it was when dropped, so that a panic in a `Serialize` or
/// `Deserialize` impl does not leave one packet's attachments visible to the next.
struct Restore {
    key: &'static std::thread::LocalKey<RefCell<Option<Vec<Bytes>>>>,
    prev: Option<Option<Vec<Bytes>>>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(prev) = self.prev.take() {
            self.key.with(|cell| *cell.borrow_mut() = prev);
        }
    }
}

/// Runs `f` with `attachments` visible to [`Binary`] deserialization.
pub(crate) fn decode_with<R>(attachments: &[Bytes], f: impl FnOnce() -> R) -> R {
    let prev = DECODING.with(|d| d.replace(Some(attachments.to_vec())));
    let _restore = Restore { key: &DECODING, prev: Some(prev) };
    f()
}

/// Runs `f`, collecting the bytes of every [`Binary`] it serializes.
pub(crate) fn encode_with<R>(f: impl FnOnce() -> R) -> (R, Vec<Bytes>) {
    let prev = ENCODING.with(|e| e.replace(Some(Vec::new())));
    let mut restore = Restore { key: &ENCODING, prev: Some(prev) };
    let r = f();
    let prev = restore.prev.take().unwrap_or_default();
    let collected = ENCODING.with(|e| e.replace(prev)).unwrap_or_default();
    (r, collected)
}

/// Binary data in an event's arguments: a `Buffer`/`ArrayBuffer`/`Uint8Array` on the JS side.
///
/// It may sit anywhere in a payload (an argument, a struct field, inside a `Vec`). Outgoing,
/// it becomes an attachment frame; incoming, it is read from one, without copying. Never
/// base64 in JSON.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sio_core::{Binary, Conn, Event, Handlers, TS};
///
/// #[derive(Serialize, Deserialize, TS)]
/// struct Upload { name: String, data: Binary } // data: ArrayBuffer | Uint8Array in TypeScript
///
/// let h = Handlers::new().on("upload", |conn: Conn, ev: Event| async move {
///     let Ok(up) = ev.arg::<Upload>() else { return };
///     let size = up.data.len();                   // Binary derefs to [u8]
///     conn.emit("thumbnail", &Upload { name: up.name, data: Binary::from(vec![0u8; 16]) }).ok();
/// });
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Binary(pub Bytes);

impl Binary {
    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// Takes the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Binary({} bytes)", self.0.len())
    }
}

impl From<Bytes> for Binary {
    fn from(b: Bytes) -> Self {
        Binary(b)
    }
}

impl From<Vec<u8>> for Binary {
    fn from(b: Vec<u8>) -> Self {
        Binary(Bytes::from(b))
    }
}

impl From<&'static [u8]> for Binary {
    fn from(b: &'static [u8]) -> Self {
        Binary(Bytes::from_static(b))
    }
}

impl std::ops::Deref for Binary {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// In TypeScript a binary argument is what `socket.io-client` delivers: an `ArrayBuffer` in
/// browsers, a `Buffer` (a `Uint8Array`) in Node.js; both can be sent.
impl ts_rs::TS for Binary {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "ArrayBuffer | Uint8Array".to_owned()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !ENCODING.with(|e| e.borrow().is_some()) {
            // Outside a packet (e.g. logging a payload): plain bytes.
            return s.serialize_bytes(&self.0);
        }
        // The map is opened before the attachment is recorded: a serializer that refuses it
        // (the check for plain strings, protocol/plain.rs) leaves nothing recorded.
        let mut m = s.serialize_map(Some(2))?;
        let num = ENCODING.with(|e| {
            e.borrow_mut().as_mut().map_or(0, |v| {
                v.push(self.0.clone());
                v.len() - 1
            })
        });
        m.serialize_entry("_placeholder", &true)?;
        m.serialize_entry("num", &num)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PlaceholderVisitor)
    }
}

struct PlaceholderVisitor;

impl<'de> Visitor<'de> for PlaceholderVisitor {
    type Value = Binary;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a binary attachment")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Binary, A::Error> {
        let mut placeholder = false;
        let mut num: Option<u64> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "_placeholder" => placeholder = map.next_value()?,
                "num" => num = Some(map.next_value()?),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let num = match (placeholder, num) {
            (true, Some(n)) => n,
            _ => return Err(de::Error::custom("expected a binary placeholder")),
        };
        let found = DECODING.with(|d| d.borrow().as_ref().and_then(|a| a.get(num as usize).cloned()));
        found.map(Binary).ok_or_else(|| de::Error::custom(format!("no binary attachment number {num}")))
    }
}

/// Adds already-encoded attachments (from [`RawArgs`](super::RawArgs)) to the current encode.
pub(crate) fn push_raw_attachments(bins: &[Bytes]) {
    ENCODING.with(|e| {
        if let Some(v) = e.borrow_mut().as_mut() {
            v.extend(bins.iter().cloned());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_round_trip() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct File {
            name: String,
            data: Binary,
        }
        let f = File { name: "a".into(), data: Binary::from(vec![1, 2, 3]) };
        let (json, bins) = encode_with(|| serde_json::to_string(&f).expect("serializes"));
        assert_eq!(json, r#"{"name":"a","data":{"_placeholder":true,"num":0}}"#);
        assert_eq!(bins, vec![Bytes::from_static(&[1, 2, 3])]);
        let back: File = decode_with(&bins, || serde_json::from_str(&json)).expect("deserializes");
        assert_eq!(back, f);
        let missing: Result<File, _> = decode_with(&[], || serde_json::from_str(&json));
        assert!(missing.is_err());
    }
}
