//! Conversions between sio's payloads (a JSON array whose binary values are placeholders,
//! plus attachments) and the MessagePack values Node's adapter publishes (binary inline),
//! and the reading of received bytes (JSON or MessagePack) as such values.

use bytes::Bytes;
use rmpv::Value as Mp;
use serde_json::Value as Json;
use sio_core::adapter::Payload;

/// A payload as a MessagePack array, attachments put back where their placeholders are.
pub(crate) fn payload_to_mp(payload: &Payload) -> Mp {
    match serde_json::from_slice::<Json>(&payload.data) {
        Ok(json) => json_to_mp(json, &payload.attachments),
        Err(_) => Mp::Array(Vec::new()),
    }
}

/// A MessagePack array (binary inline) as a payload; a non-array becomes a one-element payload.
pub(crate) fn mp_to_payload(value: &Mp) -> Payload {
    let mut attachments = Vec::new();
    let json = match value {
        Mp::Array(_) => mp_to_json(value, &mut attachments),
        other => Json::Array(vec![mp_to_json(other, &mut attachments)]),
    };
    Payload { data: Bytes::from(serde_json::to_vec(&json).unwrap_or_else(|_| b"[]".to_vec())), attachments }
}

/// Converts JSON (with placeholders) to MessagePack, resolving placeholders to binary.
pub(crate) fn json_to_mp(json: Json, attachments: &[Bytes]) -> Mp {
    match json {
        Json::Null => Mp::Nil,
        Json::Bool(b) => Mp::Boolean(b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else if let Some(u) = n.as_u64() {
                Mp::from(u)
            } else {
                Mp::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Mp::from(s),
        Json::Array(v) => Mp::Array(v.into_iter().map(|j| json_to_mp(j, attachments)).collect()),
        Json::Object(map) => {
            if let Some(num) = placeholder(&map)
                && let Some(bin) = attachments.get(num)
            {
                return Mp::Binary(bin.to_vec());
            }
            Mp::Map(map.into_iter().map(|(k, v)| (Mp::from(k), json_to_mp(v, attachments))).collect())
        }
    }
}

fn placeholder(map: &serde_json::Map<String, Json>) -> Option<usize> {
    if map.len() != 2 || map.get("_placeholder") != Some(&Json::Bool(true)) {
        return None;
    }
    map.get("num")?.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// Converts MessagePack to JSON; binary values become placeholders appended to `attachments`.
pub(crate) fn mp_to_json(value: &Mp, attachments: &mut Vec<Bytes>) -> Json {
    match value {
        Mp::Nil => Json::Null,
        Mp::Boolean(b) => Json::Bool(*b),
        Mp::Integer(i) => {
            if let Some(v) = i.as_i64() {
                Json::from(v)
            } else {
                i.as_u64().map_or(Json::Null, Json::from)
            }
        }
        Mp::F32(f) => serde_json::Number::from_f64(f64::from(*f)).map_or(Json::Null, Json::Number),
        Mp::F64(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Mp::String(s) => Json::String(
            s.as_str().map_or_else(|| String::from_utf8_lossy(s.as_bytes()).into_owned(), str::to_owned),
        ),
        Mp::Binary(b) => {
            attachments.push(Bytes::copy_from_slice(b));
            serde_json::json!({ "_placeholder": true, "num": attachments.len() - 1 })
        }
        Mp::Array(v) => Json::Array(v.iter().map(|m| mp_to_json(m, attachments)).collect()),
        Mp::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Mp::String(s) => s.as_str().unwrap_or_default().to_owned(),
                        other => other.to_string(),
                    };
                    (key, mp_to_json(v, attachments))
                })
                .collect(),
        ),
        // notepack encodes a Date as an extension; other extensions have no JSON form.
        Mp::Ext(..) => Json::Null,
    }
}

/// Whether `value` holds binary anywhere (Node's `hasBinary`).
pub(crate) fn has_binary(value: &Mp) -> bool {
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

/// A received message as a value: JSON when it starts with `{`, MessagePack otherwise.
pub(crate) fn decode_any(payload: &[u8]) -> Option<Mp> {
    if payload.first() == Some(&b'{') {
        let json: Json = serde_json::from_slice(payload).ok()?;
        Some(json_to_mp(json, &[]))
    } else {
        decode(payload)
    }
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
}
