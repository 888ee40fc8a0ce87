//! Socket.IO v5 packets: `<type>[<attachments>-][<nsp>,][<ack id>][<json>]`.
//!
//! Decoding validates the whole header, the JSON shape and a binary packet's placeholders
//! without building a JSON tree; the payload stays raw (`Bytes`) until a handler deserializes
//! it into its own types.

use std::fmt;

use super::{FromArgs, json};
use bytes::Bytes;
use bytestring::ByteString;

/// The seven Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: connect to a namespace (client, with auth) or accept (server, with sid).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event.
    Event,
    /// `3`: an acknowledgement.
    Ack,
    /// `4`: a refused namespace connection.
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck,
}

impl PacketType {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            b'0' => PacketType::Connect,
            b'1' => PacketType::Disconnect,
            b'2' => PacketType::Event,
            b'3' => PacketType::Ack,
            b'4' => PacketType::ConnectError,
            b'5' => PacketType::BinaryEvent,
            b'6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The digit that starts the packet.
    pub fn as_char(self) -> char {
        match self {
            PacketType::Connect => '0',
            PacketType::Disconnect => '1',
            PacketType::Event => '2',
            PacketType::Ack => '3',
            PacketType::ConnectError => '4',
            PacketType::BinaryEvent => '5',
            PacketType::BinaryAck => '6',
        }
    }

    pub(crate) fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// Why bytes are not a Socket.IO packet. Each closes the client's session, as in the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Empty message.
    Empty,
    /// The first character is not a packet type.
    UnknownType,
    /// The attachment count is missing, malformed or above the configured limit.
    BadAttachments,
    /// The namespace is not terminated by `,` or contains invalid characters.
    BadNamespace,
    /// The ack id is not a number that fits in 64 bits.
    BadAckId,
    /// The payload is not valid for the packet type (e.g. an event that is not a non-empty
    /// array starting with a string, or invalid JSON).
    BadPayload,
    /// A packet type a client may not send (`CONNECT_ERROR`).
    Unexpected,
    /// A binary packet's placeholder (`{"_placeholder":true,"num":N}`) whose `num` is missing,
    /// not an integer, or not below the attachment count: what the reference's parser refuses
    /// as `illegal attachments`, and so what no client could be sent.
    BadPlaceholder,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DecodeError::Empty => "empty packet",
            DecodeError::UnknownType => "unknown packet type",
            DecodeError::BadAttachments => "invalid attachment count",
            DecodeError::BadNamespace => "invalid namespace",
            DecodeError::BadAckId => "invalid ack id",
            DecodeError::BadPayload => "invalid payload",
            DecodeError::Unexpected => "unexpected packet type",
            DecodeError::BadPlaceholder => "invalid binary placeholder",
        };
        f.write_str(s)
    }
}

impl std::error::Error for DecodeError {}

/// A decoded packet header with its raw JSON payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// The namespace (`/` when absent).
    pub nsp: Nsp,
    /// Binary attachments that follow (binary types only).
    pub attachments: usize,
    /// The ack id, if any.
    pub id: Option<u64>,
    /// The JSON payload as sent (empty when absent).
    pub data: Bytes,
    /// For events: the event name's position in `data` (or the unescaped name).
    pub(crate) name: Option<EventName>,
    /// For events: where the name ends in `data`, which was validated whole.
    after_name: Option<usize>,
}

/// A namespace name borrowed from the packet bytes (checked as UTF-8 once, when decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsp(ByteString);

impl Nsp {
    /// The root namespace `/`.
    pub fn root() -> Self {
        Nsp(ByteString::from_static("/"))
    }

    /// A namespace name from text decoded elsewhere (the MessagePack parser).
    pub(crate) fn from_string(s: String) -> Self {
        Nsp(ByteString::from(s))
    }

    /// The namespace as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an event's name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventName {
    /// The name's characters inside the payload (no escapes), checked as UTF-8 once.
    Span(ByteString),
    /// The name had escape sequences.
    Owned(Box<str>),
}

impl EventName {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            EventName::Span(s) => s,
            EventName::Owned(s) => s,
        }
    }
}

impl Packet {
    /// The event name, for events.
    pub fn event_name(&self) -> Option<&str> {
        match self.name.as_ref()? {
            EventName::Span(s) => Some(s),
            EventName::Owned(s) => Some(s),
        }
    }

    /// Where the arguments start in `data`: after the name of an event (whose payload
    /// [`Packet::decode`] validated, so it is not read again), at the start otherwise.
    pub(crate) fn args_at(&self) -> super::args::ArgsAt {
        match self.after_name {
            Some(after) => super::args::ArgsAt::Validated(after),
            None if self.name.is_some() => super::args::ArgsAt::Skip(1),
            None => super::args::ArgsAt::Skip(0),
        }
    }

    /// Decodes a text message (without the engine's `4`). `max_attachments` caps binary
    /// attachment counts.
    ///
    /// ```
    /// use sio_core::protocol::{Packet, PacketType};
    ///
    /// let p = Packet::decode(bytes::Bytes::from_static(br#"2/chat,7["msg","hi"]"#), 10).unwrap();
    /// assert_eq!((p.kind, p.nsp.as_str(), p.id), (PacketType::Event, "/chat", Some(7)));
    /// assert_eq!(p.event_name(), Some("msg"));
    /// ```
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong: an empty message, an unknown type, a bad
    /// attachment count (or more than `max_attachments`), namespace or ack id, a payload that
    /// does not fit the type (an event that is not an array starting with a string, invalid
    /// JSON), or a type only a server sends.
    pub fn decode(msg: Bytes, max_attachments: usize) -> Result<Packet, DecodeError> {
        Self::decode_as(msg, max_attachments, Sender::Client)
    }

    /// Decodes a text message a server sent (without the engine's `4`): what a client reads.
    /// The same rules as [`Packet::decode`], except that `CONNECT_ERROR` is allowed, with
    /// an object (`{"message":..,"data":..}`) or a string (Socket.IO v4 servers) as payload.
    ///
    /// ```
    /// use sio_core::protocol::{Packet, PacketType};
    ///
    /// let p = Packet::decode_from_server(bytes::Bytes::from_static(br#"4/chat,{"message":"no"}"#), 10).unwrap();
    /// assert_eq!((p.kind, p.nsp.as_str()), (PacketType::ConnectError, "/chat"));
    /// assert_eq!(&p.data[..], br#"{"message":"no"}"#);
    /// ```
    ///
    /// # Errors
    /// As [`Packet::decode`].
    pub fn decode_from_server(msg: Bytes, max_attachments: usize) -> Result<Packet, DecodeError> {
        Self::decode_as(msg, max_attachments, Sender::Server)
    }

    /// The arguments of an event (after its name) or an ack, read as `T`, with the binary
    /// attachments that followed the packet.
    ///
    /// ```
    /// use sio_core::protocol::Packet;
    ///
    /// let p = Packet::decode(bytes::Bytes::from_static(br#"2["msg","hi",3]"#), 10).unwrap();
    /// let (text, n): (String, u32) = p.args(&[]).unwrap();
    /// assert_eq!((text.as_str(), n), ("hi", 3));
    /// ```
    ///
    /// # Errors
    /// When the arguments do not deserialize as `T` (serde's message).
    pub fn args<T: FromArgs>(&self, attachments: &[Bytes]) -> Result<T, serde_json::Error> {
        super::args::decode_args_at(&self.data[..], self.args_at(), attachments)
    }

    fn decode_as(msg: Bytes, max_attachments: usize, sender: Sender) -> Result<Packet, DecodeError> {
        let b = &msg[..];
        let kind =
            PacketType::from_byte(*b.first().ok_or(DecodeError::Empty)?).ok_or(DecodeError::UnknownType)?;
        let mut i = 1;
        let mut attachments = 0usize;
        if kind.is_binary() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start || i - start > 6 || b.get(i) != Some(&b'-') {
                return Err(DecodeError::BadAttachments);
            }
            attachments = parse_digits(&b[start..i]).ok_or(DecodeError::BadAttachments)? as usize;
            if attachments == 0 || attachments > max_attachments {
                return Err(DecodeError::BadAttachments);
            }
            i += 1;
        }
        let nsp = if b.get(i) == Some(&b'/') {
            let start = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            let end = i;
            if i < b.len() {
                i += 1; // the comma
            }
            let name = &b[start..end];
            if name.iter().any(|c| c.is_ascii_control()) {
                return Err(DecodeError::BadNamespace);
            }
            Nsp(ByteString::try_from(msg.slice(start..end)).map_err(|_| DecodeError::BadNamespace)?)
        } else {
            Nsp::root()
        };
        let mut id = None;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i > start {
            id = Some(parse_digits(&b[start..i]).ok_or(DecodeError::BadAckId)?);
        }
        Packet::from_parts_as(kind, nsp, attachments, id, msg.slice(i..), sender)
    }

    /// A packet from its decoded header and JSON payload, validated as [`Packet::decode`]
    /// validates a text packet's payload (the MessagePack parser builds packets this way).
    pub(crate) fn from_parts(
        kind: PacketType,
        nsp: Nsp,
        attachments: usize,
        id: Option<u64>,
        data: Bytes,
    ) -> Result<Packet, DecodeError> {
        Self::from_parts_as(kind, nsp, attachments, id, data, Sender::Client)
    }

    fn from_parts_as(
        kind: PacketType,
        nsp: Nsp,
        attachments: usize,
        id: Option<u64>,
        data: Bytes,
        sender: Sender,
    ) -> Result<Packet, DecodeError> {
        let (name, after_name) = match validate_payload(kind, &data, id.is_some(), attachments, sender)? {
            // The closing quote follows the name.
            Some(Name::Span(a, b)) => match ByteString::try_from(data.slice(a..b)) {
                Ok(name) => (Some(EventName::Span(name)), Some(b + 1)),
                Err(_) => return Err(DecodeError::BadPayload),
            },
            Some(Name::Owned(s, b)) => (Some(EventName::Owned(s)), Some(b)),
            None => (None, None),
        };
        Ok(Packet { kind, nsp, attachments, id, data, name, after_name })
    }
}

fn parse_digits(d: &[u8]) -> Option<u64> {
    if d.len() > 20 {
        return None;
    }
    d.iter().try_fold(0u64, |acc, c| acc.checked_mul(10)?.checked_add(u64::from(c - b'0')))
}

/// An event name as [`validate_payload`] finds it.
#[derive(Debug, PartialEq, Eq)]
enum Name {
    /// Byte range of the name's characters (no escapes; not yet checked as UTF-8).
    Span(usize, usize),
    /// The unescaped name, and where its JSON string ends.
    Owned(Box<str>, usize),
}

/// Checks the payload's JSON shape for the packet type, and a binary packet's placeholders
/// against its `attachments`; returns the event name for events.
///
/// One pass of [`json`](super::json) over the payload: it validates everything and finds the
/// event name without building anything. Binary packets are validated by the placeholder
/// check, which reads the same grammar; only they have placeholders to check, as the reference
/// leaves the objects of a text packet as they are, whatever they look like.
fn validate_payload(
    kind: PacketType,
    data: &[u8],
    has_id: bool,
    attachments: usize,
    sender: Sender,
) -> Result<Option<Name>, DecodeError> {
    let placeholders = || match json::check_placeholders(data, attachments) {
        Ok(true) => Ok(()),
        Ok(false) => Err(DecodeError::BadPlaceholder),
        Err(_) => Err(DecodeError::BadPayload),
    };
    let trimmed = data.trim_ascii();
    match kind {
        PacketType::Connect => {
            if trimmed.is_empty() {
                return Ok(None);
            }
            if trimmed.first() != Some(&b'{') || !json::is_valid(data) {
                return Err(DecodeError::BadPayload);
            }
            Ok(None)
        }
        PacketType::Disconnect => {
            if has_id || !trimmed.is_empty() {
                return Err(DecodeError::BadPayload);
            }
            Ok(None)
        }
        PacketType::Event | PacketType::BinaryEvent => {
            let bad = |_| DecodeError::BadPayload;
            let mut elements = json::Elements::open(data).map_err(bad)?;
            let (a, b) = elements.next_span().map_err(bad)?.ok_or(DecodeError::BadPayload)?;
            if data[a] != b'"' {
                return Err(DecodeError::BadPayload);
            }
            if kind.is_binary() {
                placeholders()?;
            } else {
                elements.finish().map_err(bad)?;
            }
            if !data[a + 1..b - 1].contains(&b'\\') {
                // Checked as UTF-8 by the caller, as it keeps the name.
                return Ok(Some(Name::Span(a + 1, b - 1)));
            }
            let name: String = serde_json::from_slice(&data[a..b]).map_err(|_| DecodeError::BadPayload)?;
            Ok(Some(Name::Owned(name.into_boxed_str(), b)))
        }
        PacketType::Ack | PacketType::BinaryAck => {
            if !has_id || trimmed.first() != Some(&b'[') {
                return Err(DecodeError::BadPayload);
            }
            if kind.is_binary() {
                placeholders()?;
            } else if !json::is_valid(data) {
                return Err(DecodeError::BadPayload);
            }
            Ok(None)
        }
        PacketType::ConnectError if sender == Sender::Server => {
            if has_id || !matches!(trimmed.first(), Some(b'{' | b'"')) || !json::is_valid(data) {
                return Err(DecodeError::BadPayload);
            }
            Ok(None)
        }
        PacketType::ConnectError => Err(DecodeError::Unexpected),
    }
}

/// Who wrote a packet: some types only one side sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Client,
    Server,
}

/// Writes a packet header (with the engine's `4` in front) into `out`.
pub(crate) fn write_header(
    out: &mut Vec<u8>,
    kind: PacketType,
    nsp: &str,
    attachments: usize,
    id: Option<u64>,
) {
    out.push(b'4');
    out.push(kind.as_char() as u8);
    if kind.is_binary() {
        push_decimal(out, attachments as u64);
        out.push(b'-');
    }
    if nsp != "/" {
        out.extend_from_slice(nsp.as_bytes());
        out.push(b',');
    }
    if let Some(id) = id {
        push_decimal(out, id);
    }
}

/// Appends `n` in decimal (itoa: two digits at a time, no formatting machinery).
fn push_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{self, Deserializer as _, IgnoredAny, SeqAccess, Visitor};

    // The serde_json validation this module used before its own scanner, kept to compare.
    /// Checks the payload's JSON shape for the packet type; returns the event name for events.
    fn reference_validate(kind: PacketType, data: &[u8], has_id: bool) -> Result<Option<Name>, DecodeError> {
        let trimmed = data.trim_ascii();
        match kind {
            PacketType::Connect => {
                if trimmed.is_empty() {
                    return Ok(None);
                }
                if trimmed.first() != Some(&b'{') {
                    return Err(DecodeError::BadPayload);
                }
                serde_json::from_slice::<IgnoredAny>(data).map_err(|_| DecodeError::BadPayload)?;
                Ok(None)
            }
            PacketType::Disconnect => {
                if has_id || !trimmed.is_empty() {
                    return Err(DecodeError::BadPayload);
                }
                Ok(None)
            }
            PacketType::Event | PacketType::BinaryEvent => {
                let mut de = serde_json::Deserializer::from_slice(data);
                let name = de
                    .deserialize_seq(EventVisitor { base: data.as_ptr() as usize })
                    .map_err(|_| DecodeError::BadPayload)?;
                de.end().map_err(|_| DecodeError::BadPayload)?;
                Ok(Some(name))
            }
            PacketType::Ack | PacketType::BinaryAck => {
                if !has_id || trimmed.first() != Some(&b'[') {
                    return Err(DecodeError::BadPayload);
                }
                serde_json::from_slice::<IgnoredAny>(data).map_err(|_| DecodeError::BadPayload)?;
                Ok(None)
            }
            PacketType::ConnectError => Err(DecodeError::Unexpected),
        }
    }

    /// Walks an event array once: reads the name, skips (and so validates) the rest.
    struct EventVisitor {
        base: usize,
    }

    impl<'de> Visitor<'de> for EventVisitor {
        type Value = Name;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array starting with the event name")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Name, A::Error> {
            let name: NameRef<'de> =
                seq.next_element()?.ok_or_else(|| de::Error::custom("missing event name"))?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(match name {
                NameRef::Borrowed(s) => {
                    let start = s.as_ptr() as usize - self.base;
                    Name::Span(start, start + s.len())
                }
                NameRef::Owned(s) => Name::Owned(s.into_boxed_str(), 0),
            })
        }
    }

    enum NameRef<'de> {
        Borrowed(&'de str),
        Owned(String),
    }

    impl<'de> de::Deserialize<'de> for NameRef<'de> {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = NameRef<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(NameRef::Borrowed(v))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(NameRef::Owned(v.to_owned()))
                }
            }
            d.deserialize_str(V)
        }
    }

    fn d(s: &'static str) -> Result<Packet, DecodeError> {
        Packet::decode(Bytes::from_static(s.as_bytes()), 10)
    }

    #[test]
    fn payload_validation_agrees_with_the_serde_json_reference() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let docs = [
            r#"["ev",1,{"a":[true,null]},"x"]"#,
            r#" [ "m\u00e9" , -1.5e3 ] "#,
            r#"["a\"b"]"#,
            r#"["\ud800"]"#,
            r#"[1,"ev"]"#,
            r#"{"token":"x","n":[1,2]}"#,
            r#"[{"_placeholder":true,"num":0}]"#,
            r#"["ev"]"#,
            "[]",
            "",
        ];
        let noise = b"[]{},:\"\\ -.e0159tfnulx\x01\xff";
        for i in 0..40_000 {
            let mut b = docs[i % docs.len()].as_bytes().to_vec();
            for _ in 0..(next() % 3) {
                let at = (next() as usize) % (b.len() + 1);
                let c = noise[(next() as usize) % noise.len()];
                match next() % 3 {
                    0 if at < b.len() => {
                        b.remove(at);
                    }
                    1 if at < b.len() => b[at] = c,
                    _ => b.insert(at, c),
                }
            }
            for kind in [
                PacketType::Connect,
                PacketType::Event,
                PacketType::Ack,
                PacketType::Disconnect,
                PacketType::BinaryEvent,
                PacketType::BinaryAck,
            ] {
                for has_id in [false, true] {
                    let ours = validate_payload(kind, &b, has_id, 10, Sender::Client).and_then(|n| match n {
                        Some(Name::Span(x, y)) if std::str::from_utf8(&b[x..y]).is_err() => {
                            Err(DecodeError::BadPayload)
                        }
                        // The reference does not say where an escaped name ends.
                        Some(Name::Owned(n, _)) => Ok(Some(Name::Owned(n, 0))),
                        n => Ok(n),
                    });
                    let reference = reference_validate(kind, &b, has_id);
                    // Valid JSON with a placeholder the reference's parser refuses (`-0`, `0.5`..):
                    // only binary packets are refused for that.
                    if ours == Err(DecodeError::BadPlaceholder) {
                        assert!(reference.is_ok() && kind.is_binary(), "{:?}", String::from_utf8_lossy(&b));
                        continue;
                    }
                    assert_eq!(ours, reference, "{kind:?} {has_id} {:?}", String::from_utf8_lossy(&b));
                }
            }
        }
    }

    #[test]
    fn decodes_each_type() {
        let p = d("0").expect("connect");
        assert_eq!((p.kind, p.nsp.as_str()), (PacketType::Connect, "/"));
        let p = d(r#"0/admin,{"token":"x"}"#).expect("connect with auth");
        assert_eq!(p.nsp.as_str(), "/admin");
        assert_eq!(&p.data[..], br#"{"token":"x"}"#);
        assert_eq!(d("1/admin,").expect("disconnect").kind, PacketType::Disconnect);
        let p = d(r#"2/chat,12["msg",1,{"a":[2]}]"#).expect("event");
        assert_eq!((p.id, p.event_name()), (Some(12), Some("msg")));
        let p = d(r#"2["m\u00e9"]"#).expect("escaped name");
        assert_eq!(p.event_name(), Some("mé"));
        let p = d(r#"3/chat,7["ok"]"#).expect("ack");
        assert_eq!((p.kind, p.id), (PacketType::Ack, Some(7)));
        let p =
            d(r#"52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#).expect("binary");
        assert_eq!(p.attachments, 2);
        let p = d(r#"61-/x,3[{"_placeholder":true,"num":0}]"#).expect("binary ack");
        assert_eq!((p.kind, p.nsp.as_str(), p.id), (PacketType::BinaryAck, "/x", Some(3)));
    }

    #[test]
    fn rejects_malformed_packets() {
        for bad in [
            "",
            "7",
            "a",
            "2",
            "2{}",
            r#"2"str""#,
            "2[]",
            "2[1]",
            r#"2["ev""#,
            r#"2["ev"]x"#,
            "5-[\"a\"]",
            "5x-[\"a\"]",
            "599-[\"a\"]",
            "50-[\"a\"]",
            r#"218446744073709551616["a"]"#,
            "3[1]",
            "3",
            "1x",
            r#"0"str""#,
            r#"4{"message":"x"}"#,
            "0/a\u{1},",
            "11",
        ] {
            assert!(d(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn binary_placeholders_are_checked_when_decoded() {
        let bad = Err(DecodeError::BadPlaceholder);
        assert_eq!(d(r#"51-["up",{"_placeholder":true,"num":1}]"#), bad, "out of range");
        assert_eq!(d(r#"52-["up",{"_placeholder":true,"num":{"n":0}}]"#), bad, "nested");
        assert_eq!(d(r#"52-["up",{"_placeholder":true,"num":0.5}]"#), bad, "not an integer");
        assert_eq!(d(r#"52-["up",{"_placeholder":true}]"#), bad, "missing");
        assert_eq!(d(r#"61-3[[{"_placeholder":true,"num":-1}]]"#), bad, "in a binary ack");
        assert!(d(r#"52-["up",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#).is_ok());
        // More attachments than placeholders is fine, as in the reference.
        assert!(d(r#"53-["up",{"_placeholder":true,"num":0}]"#).is_ok());
        assert!(d(r#"51-["up",{"a":1}]"#).is_ok());
        // A text packet's objects are data, whatever they look like (the reference does not
        // rebuild them either).
        assert!(d(r#"2["up",{"_placeholder":true,"num":5}]"#).is_ok());
        assert!(d(r#"31[{"_placeholder":true}]"#).is_ok());
    }

    #[test]
    fn header_round_trip() {
        let mut out = Vec::new();
        write_header(&mut out, PacketType::BinaryEvent, "/chat", 2, Some(5));
        assert_eq!(out, b"452-/chat,5");
        out.clear();
        write_header(&mut out, PacketType::Event, "/", 0, None);
        assert_eq!(out, b"42");
        for id in [0, 7, 10, 99, 12345, u64::MAX] {
            out.clear();
            write_header(&mut out, PacketType::Ack, "/", 0, Some(id));
            assert_eq!(out, format!("43{id}").as_bytes());
        }
    }
}
