//! Conversions between sio's payloads (a JSON array whose binary values are placeholders,
//! plus attachments) and the MessagePack values Node's adapter publishes (binary inline),
//! and the reading of received bytes (JSON or MessagePack) as such values.
//!
//! Object keys keep the order they were written in, both ways (as JavaScript objects do):
//! JSON text is read straight into MessagePack maps (which are ordered lists of entries) and
//! written back from them, never through a `serde_json::Value`, whose maps sort their keys
//! in this workspace (no `preserve_order`).

use std::cell::RefCell;
use std::collections::HashMap;

use bytes::Bytes;
use rmpv::Value as Mp;
use serde::ser::{SerializeMap as _, SerializeSeq as _};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;
use sio_core::adapter::Payload;

/// A payload as a MessagePack array, attachments put back where their placeholders are;
/// keys in the order of the payload's JSON.
pub fn payload_to_mp(payload: &Payload) -> Mp {
    match serde_json::from_slice::<Mp>(&payload.data) {
        Ok(value) => resolve_placeholders(value, &payload.attachments),
        Err(_) => Mp::Array(Vec::new()),
    }
}

/// A MessagePack array (binary inline) as a payload; a non-array becomes a one-element
/// payload. Keys keep their order.
pub fn mp_to_payload(value: &Mp) -> Payload {
    let attachments = RefCell::new(Vec::new());
    let json = |v| AsJson { value: v, binary: BinaryAs::Placeholder(&attachments) };
    let data = match value {
        Mp::Array(_) => serde_json::to_vec(&json(value)),
        other => serde_json::to_vec(&[json(other)]),
    };
    Payload {
        data: Bytes::from(data.unwrap_or_else(|_| b"[]".to_vec())),
        attachments: attachments.into_inner(),
    }
}

/// The JSON array of a payload as text, with binary values as Node's JSON form of a
/// `Buffer` (`{"type":"Buffer","data":[..]}`, what `JSON.stringify` makes of one), as Node's
/// adapter and emitter send them in JSON requests. Keys keep their order.
pub fn payload_to_json_with_buffers(payload: &Payload) -> String {
    if payload.attachments.is_empty() {
        return String::from_utf8_lossy(&payload.data).into_owned();
    }
    let value = payload_to_mp(payload);
    serde_json::to_string(&AsJson { value: &value, binary: BinaryAs::Buffer })
        .unwrap_or_else(|_| "[]".to_owned())
}

/// Replaces the placeholders `{"_placeholder":true,"num":N}` with the attachments they
/// point to (a placeholder pointing to none stays as it is).
fn resolve_placeholders(value: Mp, attachments: &[Bytes]) -> Mp {
    match value {
        Mp::Array(items) => {
            Mp::Array(items.into_iter().map(|v| resolve_placeholders(v, attachments)).collect())
        }
        Mp::Map(entries) => {
            if let Some(num) = placeholder(&entries)
                && let Some(bin) = attachments.get(num)
            {
                return Mp::Binary(bin.to_vec());
            }
            Mp::Map(entries.into_iter().map(|(k, v)| (k, resolve_placeholders(v, attachments))).collect())
        }
        other => other,
    }
}

fn placeholder(entries: &[(Mp, Mp)]) -> Option<usize> {
    if entries.len() != 2 {
        return None;
    }
    let get = |name: &str| entries.iter().find(|(k, _)| k.as_str() == Some(name)).map(|(_, v)| v);
    if get("_placeholder") != Some(&Mp::Boolean(true)) {
        return None;
    }
    get("num")?.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// How [`AsJson`] writes binary values.
#[derive(Clone, Copy)]
enum BinaryAs<'a> {
    /// A placeholder; the bytes are appended to the attachments.
    Placeholder(&'a RefCell<Vec<Bytes>>),
    /// Node's JSON form of a `Buffer`.
    Buffer,
}

/// A MessagePack value written as JSON, map entries in their order. Keys are strings (other
/// keys as their text); a key given twice keeps its first place and its last value, as
/// `JSON.parse` does. Extensions (notepack's dates) and non-finite numbers are `null`.
struct AsJson<'a> {
    value: &'a Mp,
    binary: BinaryAs<'a>,
}

impl AsJson<'_> {
    fn with<'b>(&self, value: &'b Mp) -> AsJson<'b>
    where
        Self: 'b,
    {
        AsJson { value, binary: self.binary }
    }
}

fn key_text(key: &Mp) -> String {
    match key {
        Mp::String(s) => {
            s.as_str().map_or_else(|| String::from_utf8_lossy(s.as_bytes()).into_owned(), str::to_owned)
        }
        other => other.to_string(),
    }
}

impl Serialize for AsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            // notepack encodes a Date as an extension; other extensions have no JSON form.
            Mp::Nil | Mp::Ext(..) => s.serialize_unit(),
            Mp::Boolean(b) => s.serialize_bool(*b),
            Mp::Integer(i) => match (i.as_i64(), i.as_u64()) {
                (Some(v), _) => s.serialize_i64(v),
                (None, Some(v)) => s.serialize_u64(v),
                (None, None) => s.serialize_unit(),
            },
            Mp::F32(f) => s.serialize_f64(f64::from(*f)),
            Mp::F64(f) => s.serialize_f64(*f),
            Mp::String(text) => match text.as_str() {
                Some(text) => s.serialize_str(text),
                None => s.serialize_str(&String::from_utf8_lossy(text.as_bytes())),
            },
            Mp::Binary(bytes) => match self.binary {
                BinaryAs::Placeholder(attachments) => {
                    let num = {
                        let mut attachments = attachments.borrow_mut();
                        attachments.push(Bytes::copy_from_slice(bytes));
                        attachments.len() - 1
                    };
                    let mut map = s.serialize_map(Some(2))?;
                    map.serialize_entry("_placeholder", &true)?;
                    map.serialize_entry("num", &num)?;
                    map.end()
                }
                BinaryAs::Buffer => {
                    let mut map = s.serialize_map(Some(2))?;
                    map.serialize_entry("type", "Buffer")?;
                    map.serialize_entry("data", bytes)?;
                    map.end()
                }
            },
            Mp::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&self.with(item))?;
                }
                seq.end()
            }
            Mp::Map(entries) => {
                let mut keys: Vec<(String, &Mp)> = Vec::with_capacity(entries.len());
                // Small maps (most) look for repeats by scanning, large ones through an index.
                let mut index: Option<HashMap<String, usize>> = (entries.len() > 16).then(HashMap::new);
                for (k, v) in entries {
                    let key = key_text(k);
                    let at = match &index {
                        Some(index) => index.get(&key).copied(),
                        None => keys.iter().position(|(seen, _)| *seen == key),
                    };
                    match at {
                        Some(at) => keys[at].1 = v,
                        None => {
                            if let Some(index) = &mut index {
                                index.insert(key.clone(), keys.len());
                            }
                            keys.push((key, v));
                        }
                    }
                }
                let mut map = s.serialize_map(Some(keys.len()))?;
                for (k, v) in &keys {
                    map.serialize_entry(k, &self.with(v))?;
                }
                map.end()
            }
        }
    }
}

/// Converts MessagePack to a JSON value; binary values become placeholders appended to
/// `attachments`. The value's maps sort their keys: for values whose key order does not
/// matter (fetched sockets); payloads go through [`mp_to_payload`].
pub fn mp_to_json(value: &Mp, attachments: &mut Vec<Bytes>) -> Json {
    let cell = RefCell::new(std::mem::take(attachments));
    let json =
        serde_json::to_value(AsJson { value, binary: BinaryAs::Placeholder(&cell) }).unwrap_or(Json::Null);
    *attachments = cell.into_inner();
    json
}

/// Whether `value` holds binary anywhere (Node's `hasBinary`).
pub fn has_binary(value: &Mp) -> bool {
    match value {
        Mp::Binary(_) => true,
        Mp::Array(items) => items.iter().any(has_binary),
        Mp::Map(entries) => entries.iter().any(|(k, v)| has_binary(k) || has_binary(v)),
        _ => false,
    }
}

/// Decodes MessagePack bytes (the whole input must be one value, nested 64 deep at most).
fn decode(mut bytes: &[u8]) -> Option<Mp> {
    let value = rmpv::decode::read_value_with_max_depth(&mut bytes, 64).ok()?;
    bytes.is_empty().then_some(value)
}

/// A received message as a value: JSON when it starts with `{`, MessagePack otherwise
/// (keys in their order either way).
pub fn decode_any(payload: &[u8]) -> Option<Mp> {
    if payload.first() == Some(&b'{') { serde_json::from_slice(payload).ok() } else { decode(payload) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: &Mp) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, value).expect("writes to a Vec");
        out
    }

    #[test]
    fn binary_round_trips_through_placeholders() {
        let payload = Payload {
            data: Bytes::from_static(br#"["ev",{"a":{"_placeholder":true,"num":0}},1.5,-3,null]"#),
            attachments: vec![Bytes::from_static(&[1, 2, 3])],
        };
        let mp = payload_to_mp(&payload);
        let Mp::Array(items) = &mp else { panic!("array") };
        assert_eq!(items[1], Mp::Map(vec![(Mp::from("a"), Mp::Binary(vec![1, 2, 3]))]));
        assert!(has_binary(&mp));
        assert!(!has_binary(&Mp::Array(vec![Mp::from(1)])));
        let back = mp_to_payload(&decode(&encode(&mp)).expect("decodes"));
        assert_eq!(back, payload);
    }

    #[test]
    fn truncated_or_trailing_input_is_refused() {
        assert_eq!(
            decode_any(br#"{"a":[1]}"#),
            Some(Mp::Map(vec![(Mp::from("a"), Mp::Array(vec![Mp::from(1)]))]))
        );
        let bytes = encode(&Mp::Array(vec![Mp::from(1), Mp::from("x")]));
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none());
        assert!(decode(&bytes).is_some());
    }

    fn keys(value: &Mp) -> Vec<&str> {
        match value {
            Mp::Map(entries) => entries.iter().filter_map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn keys_keep_their_written_order() {
        let payload = Payload {
            data: Bytes::from_static(
                br#"["ev",{"z":1,"a":{"y":[{"q":1,"b":2}],"c":3},"m":{"_placeholder":true,"num":0}}]"#,
            ),
            attachments: vec![Bytes::from_static(&[9])],
        };
        let mp = payload_to_mp(&payload);
        let Mp::Array(items) = &mp else { panic!("array") };
        assert_eq!(keys(&items[1]), ["z", "a", "m"]);
        assert_eq!(keys(&items[1]["a"]), ["y", "c"]);
        assert_eq!(items[1]["m"], Mp::Binary(vec![9]));
        // The published bytes, as a raw subscriber sees them: z, a, m in that order.
        let bytes = encode(&mp);
        let z = bytes.windows(2).position(|w| w == [0xa1, b'z']).expect("z");
        let a = bytes.windows(2).position(|w| w == [0xa1, b'a']).expect("a");
        let m = bytes.windows(2).position(|w| w == [0xa1, b'm']).expect("m");
        assert!(z < a && a < m, "{bytes:?}");
        // And back to a payload: the same text.
        assert_eq!(mp_to_payload(&mp), payload);
        // Received JSON (server-side events, requests) too.
        let json = decode_any(br#"{"type":6,"data":["ev",{"z":1,"a":2}]}"#).expect("JSON");
        assert_eq!(keys(&json), ["type", "data"]);
        assert_eq!(keys(&json["data"][1]), ["z", "a"]);
    }

    #[test]
    fn json_writing_mirrors_javascript() {
        // A key given twice: first place, last value (JSON.parse); non-string keys as text;
        // dates (extensions) and NaN as null.
        let value = Mp::Array(vec![Mp::Map(vec![
            (Mp::from("b"), Mp::from(1)),
            (Mp::from("a"), Mp::from(2)),
            (Mp::from("b"), Mp::from(3)),
            (Mp::from(7), Mp::Ext(-1, vec![0; 4])),
            (Mp::from("n"), Mp::F64(f64::NAN)),
        ])]);
        assert_eq!(&mp_to_payload(&value).data[..], br#"[{"b":3,"a":2,"7":null,"n":null}]"#);
        assert_eq!(&mp_to_payload(&Mp::from("x")).data[..], br#"["x"]"#);
        let mut large: Vec<(Mp, Mp)> =
            (0..20).rev().map(|i| (Mp::from(format!("k{i}")), Mp::from(i))).collect();
        large.push((Mp::from("k19"), Mp::from("last")));
        let text = String::from_utf8(mp_to_payload(&Mp::Map(large)).data.to_vec()).expect("utf-8");
        assert!(text.starts_with(r#"[{"k19":"last","k18":18,"#) && text.ends_with(r#""k0":0}]"#), "{text}");
        let with_buffer = Payload {
            data: Bytes::from_static(br#"["ev",{"z":{"_placeholder":true,"num":0},"a":1}]"#),
            attachments: vec![Bytes::from_static(&[1, 2])],
        };
        assert_eq!(
            payload_to_json_with_buffers(&with_buffer),
            r#"["ev",{"z":{"type":"Buffer","data":[1,2]},"a":1}]"#
        );
    }
}
