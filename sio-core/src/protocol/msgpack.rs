//! The MessagePack parser: packets as `socket.io-msgpack-parser` 3.x writes and reads them,
//! one binary message per packet holding a map `{type, data, nsp, id}` in the encoding of
//! notepack.io 2.2 (what that parser depends on).
//!
//! Inside, sio keeps one form of a packet whatever the parser: JSON text whose binary values
//! are `{"_placeholder":true,"num":N}`, plus the attachments. This module transcodes at the
//! edges. [`decode`] turns a client's message into that form (its `bin` values become
//! placeholders, and attachments sliced from the message without copying), so typed handlers,
//! [`Binary`](super::Binary), [`RawArgs`](super::RawArgs), acks and adapters see what the JSON
//! parser gives them. [`encode`] turns an outbound packet into one message; binary packets are
//! EVENT (2) and ACK (3) here, as this parser has no BINARY_* types.
//!
//! Inbound values that JSON cannot spell are mapped to what `JSON.stringify` makes of the value
//! notepack.io decodes, i.e. what the same client would have sent with the default parser:
//!
//! | MessagePack (notepack.io 2.2) | becomes |
//! |---|---|
//! | `bin`, and ext type 0 of ext 8/16/32 (an `ArrayBuffer`) | a binary attachment |
//! | fixext 1 type 0 (`undefined`) | `null` in an array, no key in a map, no `data`/`id` at the top |
//! | fixext 8 type 0 (a `Date`, milliseconds) | its ISO 8601 string (`null` when out of range) |
//! | any other ext | `[type, <binary>]`, the array notepack.io decodes it to |
//! | float NaN, ±Infinity | `null` |
//! | float with an integral value below 2^63 | an integer, as JS prints it |
//! | `str` that is not UTF-8 | the string with U+FFFD replacements, as `Buffer.toString` |
//! | integer map key | its decimal string, as a JS property key |
//!
//! Refused as a parse error (the session closes, as for any invalid packet): a map key that is
//! neither a string nor an integer (no JSON spelling both ends would agree on), nesting deeper
//! than [`MAX_DEPTH`], bytes after the packet, and what `socket.io-msgpack-parser` refuses
//! (`isPacketValid`): a type that is not an integer 0-4, a namespace that is not a string, an
//! id that is not an integer, data of the wrong shape. sio also refuses what its JSON parser
//! refuses in a text packet, so that both parsers accept the same packets: a negative ack
//! id, a `CONNECT_ERROR` from a client, an event whose first element is not a string, an ACK
//! without id, a namespace with control characters, more attachments than `max_attachments`,
//! binary values inside CONNECT's auth, and a map shaped like an invalid placeholder in a
//! packet with binary values.

use std::borrow::Cow;

use bytes::Bytes;
use rmp::Marker;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::packet::{DecodeError, Nsp, Packet, PacketType};

/// How deep arrays and maps may nest inside a packet (the packet's own map not counted).
/// Deeper is a parse error, so hostile input cannot exhaust the stack; outbound, serde_json's
/// own limit (128) leaves room to relay what was accepted.
pub(crate) const MAX_DEPTH: usize = 100;

/// 2^63: integral floats below it in magnitude are integers in both directions.
const I64_RANGE: f64 = 9_223_372_036_854_775_808.0;

/// The ext type notepack.io 2.2 uses for `undefined` (fixext 1), `Date` (fixext 8) and
/// `ArrayBuffer` (ext 8/16/32).
const EXT_JS: i8 = 0;

/// Decodes a client's binary message into a packet and its attachments.
///
/// `max_attachments` and `max_attachment_bytes` bound the binary values, as they bound a text
/// packet's attachment frames.
///
/// # Errors
/// The [`DecodeError`] naming what is wrong (see the module documentation).
pub(crate) fn decode(
    msg: &Bytes,
    max_attachments: usize,
    max_attachment_bytes: usize,
) -> Result<(Packet, Vec<Bytes>), DecodeError> {
    if msg.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut t = Transcoder { rd: Reader { msg, pos: 0 }, max_attachments, max_attachment_bytes };
    let len = match t.rd.marker()? {
        Marker::FixMap(n) => usize::from(n),
        Marker::Map16 => t.rd.len16()?,
        Marker::Map32 => t.rd.len32()?,
        // Not an object: its `type` is undefined.
        _ => return Err(DecodeError::UnknownType),
    };
    let mut scratch = Sink::default();
    let (mut ty, mut nsp, mut id) = (Scalar::Absent, Scalar::Absent, Scalar::Absent);
    let mut data: Option<(Sink, Shape)> = None;
    for _ in 0..len {
        scratch.clear();
        t.key(&mut scratch)?;
        // Later keys win, as when JS builds the object.
        match &scratch.json[..] {
            b"\"type\"" => ty = t.scalar(&mut scratch)?,
            b"\"nsp\"" => nsp = t.scalar(&mut scratch)?,
            b"\"id\"" => id = t.scalar(&mut scratch)?,
            b"\"data\"" => {
                let shape = t.rd.shape();
                let mut sink = Sink::default();
                data = match t.value(&mut sink, 0)? {
                    Wrote::Value => Some((sink, shape)),
                    Wrote::Undefined => None,
                };
            }
            // Other keys (the client's `options`) are read, and dropped.
            _ => {
                scratch.clear();
                t.value(&mut scratch, 0)?;
            }
        }
    }
    if t.rd.pos != msg.len() {
        return Err(DecodeError::BadPayload);
    }
    // The checks of socket.io-msgpack-parser's `checkPacket`, in its order.
    let kind = match ty.integer() {
        Some(0) => PacketType::Connect,
        Some(1) => PacketType::Disconnect,
        Some(2) => PacketType::Event,
        Some(3) => PacketType::Ack,
        Some(4) => return Err(DecodeError::Unexpected),
        _ => return Err(DecodeError::UnknownType),
    };
    let Scalar::Str(nsp) = nsp else { return Err(DecodeError::BadNamespace) };
    if nsp.chars().any(char::is_control) {
        return Err(DecodeError::BadNamespace);
    }
    let shape = data.as_ref().map(|(_, s)| *s);
    let valid = match kind {
        PacketType::Connect => matches!(shape, None | Some(Shape::Map)),
        PacketType::Disconnect => shape.is_none(),
        _ => shape == Some(Shape::Array),
    };
    if !valid {
        return Err(DecodeError::BadPayload);
    }
    let id = match id {
        Scalar::Absent | Scalar::Undefined => None,
        other => Some(other.integer().and_then(|n| u64::try_from(n).ok()).ok_or(DecodeError::BadAckId)?),
    };
    let (json, bins) = data.map(|(s, _)| (s.json, s.bins)).unwrap_or_default();
    let kind = match (kind, bins.is_empty()) {
        (_, true) => kind,
        (PacketType::Event, false) => PacketType::BinaryEvent,
        (PacketType::Ack, false) => PacketType::BinaryAck,
        // Binary values in CONNECT's auth: the JSON parser cannot carry them either.
        _ => return Err(DecodeError::BadPayload),
    };
    let packet = Packet::from_parts(kind, Nsp::from_string(nsp), bins.len(), id, Bytes::from(json))?;
    Ok((packet, bins))
}

/// What a value at the top of `data` is, for the parser's shape check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Array,
    Map,
    Other,
}

/// A top-level field's value, as far as the packet's validity goes.
#[derive(Debug)]
enum Scalar {
    Absent,
    Undefined,
    Int(i128),
    Float(f64),
    Str(String),
    Other,
}

impl Scalar {
    /// The value if it is an integer, as JS's `Number.isInteger` sees numbers.
    fn integer(&self) -> Option<i128> {
        match *self {
            Scalar::Int(n) => Some(n),
            // Below 2^64, where every float is exactly an i128.
            Scalar::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1.8446744073709552e19 => {
                Some(f as i128)
            }
            _ => None,
        }
    }
}

/// The JSON being written, and the attachments its placeholders point to.
#[derive(Debug, Default)]
struct Sink {
    json: Vec<u8>,
    bins: Vec<Bytes>,
    bin_bytes: usize,
}

impl Sink {
    fn clear(&mut self) {
        self.json.clear();
        self.bins.clear();
        self.bin_bytes = 0;
    }

    fn push(&mut self, b: &[u8]) {
        self.json.extend_from_slice(b);
    }

    fn string(&mut self, s: &str) -> Result<(), DecodeError> {
        serde_json::to_writer(&mut self.json, s).map_err(|_| DecodeError::BadPayload)
    }

    fn uint(&mut self, n: u64) {
        let _ = serde_json::to_writer(&mut self.json, &n);
    }

    fn int(&mut self, n: i64) {
        let _ = serde_json::to_writer(&mut self.json, &n);
    }

    fn float(&mut self, f: f64) {
        if !f.is_finite() {
            self.push(b"null");
        } else if f.fract() == 0.0 && f.abs() < I64_RANGE {
            // As JS prints an integral number (and -0 is 0); [`encode`] writes it back as an
            // integer, as notepack.io does.
            self.int(f as i64);
        } else {
            let _ = serde_json::to_writer(&mut self.json, &f);
        }
    }
}

/// The message being read.
struct Reader<'a> {
    msg: &'a Bytes,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let msg: &'a [u8] = self.msg;
        let end = self.pos.checked_add(n).filter(|&e| e <= msg.len()).ok_or(DecodeError::BadPayload)?;
        let s = &msg[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn marker(&mut self) -> Result<Marker, DecodeError> {
        Ok(Marker::from_u8(self.array::<1>()?[0]))
    }

    fn len8(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(self.array::<1>()?[0]))
    }

    fn len16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.array()?)))
    }

    fn len32(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(u32::from_be_bytes(self.array()?)).map_err(|_| DecodeError::BadPayload)
    }

    /// The kind of the next value, without reading it.
    fn shape(&self) -> Shape {
        match self.msg.get(self.pos).map(|&b| Marker::from_u8(b)) {
            Some(Marker::FixArray(_) | Marker::Array16 | Marker::Array32) => Shape::Array,
            Some(Marker::FixMap(_) | Marker::Map16 | Marker::Map32) => Shape::Map,
            _ => Shape::Other,
        }
    }

    /// Reads a number or a string (for the packet's `type`, `nsp` and `id`); `None` for any
    /// other value, which is left unread.
    fn scalar(&mut self) -> Result<Option<Scalar>, DecodeError> {
        let start = self.pos;
        let s = match self.marker()? {
            Marker::FixPos(n) => Scalar::Int(n.into()),
            Marker::FixNeg(n) => Scalar::Int(n.into()),
            Marker::U8 => Scalar::Int(u8::from_be_bytes(self.array()?).into()),
            Marker::U16 => Scalar::Int(u16::from_be_bytes(self.array()?).into()),
            Marker::U32 => Scalar::Int(u32::from_be_bytes(self.array()?).into()),
            Marker::U64 => Scalar::Int(u64::from_be_bytes(self.array()?).into()),
            Marker::I8 => Scalar::Int(i8::from_be_bytes(self.array()?).into()),
            Marker::I16 => Scalar::Int(i16::from_be_bytes(self.array()?).into()),
            Marker::I32 => Scalar::Int(i32::from_be_bytes(self.array()?).into()),
            Marker::I64 => Scalar::Int(i64::from_be_bytes(self.array()?).into()),
            Marker::F32 => Scalar::Float(f32::from_be_bytes(self.array()?).into()),
            Marker::F64 => Scalar::Float(f64::from_be_bytes(self.array()?)),
            m @ (Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32) => {
                let len = match m {
                    Marker::FixStr(n) => usize::from(n),
                    Marker::Str8 => self.len8()?,
                    Marker::Str16 => self.len16()?,
                    _ => self.len32()?,
                };
                Scalar::Str(String::from_utf8_lossy(self.take(len)?).into_owned())
            }
            _ => {
                self.pos = start;
                return Ok(None);
            }
        };
        Ok(Some(s))
    }
}

/// What [`Transcoder::value`] found.
#[derive(Debug, PartialEq, Eq)]
enum Wrote {
    Value,
    /// notepack.io's `undefined`: nothing was written.
    Undefined,
}

/// MessagePack in, JSON out, one value at a time, without building a tree.
struct Transcoder<'a> {
    rd: Reader<'a>,
    max_attachments: usize,
    max_attachment_bytes: usize,
}

impl Transcoder<'_> {
    /// A top-level field: a number or string is kept, anything else is read and dropped.
    fn scalar(&mut self, scratch: &mut Sink) -> Result<Scalar, DecodeError> {
        if let Some(s) = self.rd.scalar()? {
            return Ok(s);
        }
        scratch.clear();
        Ok(match self.value(scratch, 0)? {
            Wrote::Undefined => Scalar::Undefined,
            Wrote::Value => Scalar::Other,
        })
    }

    /// A map key, written as a JSON string.
    fn key(&mut self, out: &mut Sink) -> Result<(), DecodeError> {
        match self.rd.scalar()? {
            Some(Scalar::Str(s)) => out.string(&s),
            Some(Scalar::Int(n)) => {
                out.push(b"\"");
                let _ = serde_json::to_writer(&mut out.json, &n);
                out.push(b"\"");
                Ok(())
            }
            _ => Err(DecodeError::BadPayload),
        }
    }

    fn value(&mut self, out: &mut Sink, depth: usize) -> Result<Wrote, DecodeError> {
        let rd = &mut self.rd;
        match rd.marker()? {
            Marker::Null => out.push(b"null"),
            Marker::True => out.push(b"true"),
            Marker::False => out.push(b"false"),
            Marker::FixPos(n) => out.uint(n.into()),
            Marker::FixNeg(n) => out.int(n.into()),
            Marker::U8 => out.uint(u8::from_be_bytes(rd.array()?).into()),
            Marker::U16 => out.uint(u16::from_be_bytes(rd.array()?).into()),
            Marker::U32 => out.uint(u32::from_be_bytes(rd.array()?).into()),
            Marker::U64 => out.uint(u64::from_be_bytes(rd.array()?)),
            Marker::I8 => out.int(i8::from_be_bytes(rd.array()?).into()),
            Marker::I16 => out.int(i16::from_be_bytes(rd.array()?).into()),
            Marker::I32 => out.int(i32::from_be_bytes(rd.array()?).into()),
            Marker::I64 => out.int(i64::from_be_bytes(rd.array()?)),
            Marker::F32 => out.float(f32::from_be_bytes(rd.array()?).into()),
            Marker::F64 => out.float(f64::from_be_bytes(rd.array()?)),
            Marker::FixStr(n) => self.str(out, usize::from(n))?,
            Marker::Str8 => {
                let n = rd.len8()?;
                self.str(out, n)?;
            }
            Marker::Str16 => {
                let n = rd.len16()?;
                self.str(out, n)?;
            }
            Marker::Str32 => {
                let n = rd.len32()?;
                self.str(out, n)?;
            }
            Marker::Bin8 => {
                let n = rd.len8()?;
                self.bin(out, n)?;
            }
            Marker::Bin16 => {
                let n = rd.len16()?;
                self.bin(out, n)?;
            }
            Marker::Bin32 => {
                let n = rd.len32()?;
                self.bin(out, n)?;
            }
            Marker::FixArray(n) => self.array(out, usize::from(n), depth)?,
            Marker::Array16 => {
                let n = rd.len16()?;
                self.array(out, n, depth)?;
            }
            Marker::Array32 => {
                let n = rd.len32()?;
                self.array(out, n, depth)?;
            }
            Marker::FixMap(n) => self.map(out, usize::from(n), depth)?,
            Marker::Map16 => {
                let n = rd.len16()?;
                self.map(out, n, depth)?;
            }
            Marker::Map32 => {
                let n = rd.len32()?;
                self.map(out, n, depth)?;
            }
            Marker::FixExt1 => return self.ext(out, 1, true, depth),
            Marker::FixExt2 => return self.ext(out, 2, true, depth),
            Marker::FixExt4 => return self.ext(out, 4, true, depth),
            Marker::FixExt8 => return self.ext(out, 8, true, depth),
            Marker::FixExt16 => return self.ext(out, 16, true, depth),
            Marker::Ext8 => {
                let n = rd.len8()?;
                return self.ext(out, n, false, depth);
            }
            Marker::Ext16 => {
                let n = rd.len16()?;
                return self.ext(out, n, false, depth);
            }
            Marker::Ext32 => {
                let n = rd.len32()?;
                return self.ext(out, n, false, depth);
            }
            Marker::Reserved => return Err(DecodeError::BadPayload),
        }
        Ok(Wrote::Value)
    }

    fn str(&mut self, out: &mut Sink, len: usize) -> Result<(), DecodeError> {
        let s: Cow<'_, str> = String::from_utf8_lossy(self.rd.take(len)?);
        out.string(&s)
    }

    /// Binary data: an attachment, and its placeholder in the JSON.
    fn bin(&mut self, out: &mut Sink, len: usize) -> Result<(), DecodeError> {
        let start = self.rd.pos;
        self.rd.take(len)?;
        out.bin_bytes = out.bin_bytes.saturating_add(len);
        if out.bins.len() >= self.max_attachments || out.bin_bytes > self.max_attachment_bytes {
            return Err(DecodeError::BadAttachments);
        }
        out.push(br#"{"_placeholder":true,"num":"#);
        out.uint(out.bins.len() as u64);
        out.push(b"}");
        out.bins.push(self.rd.msg.slice(start..start + len));
        Ok(())
    }

    fn array(&mut self, out: &mut Sink, len: usize, depth: usize) -> Result<(), DecodeError> {
        if depth >= MAX_DEPTH {
            return Err(DecodeError::BadPayload);
        }
        out.push(b"[");
        for i in 0..len {
            if i > 0 {
                out.push(b",");
            }
            if self.value(out, depth + 1)? == Wrote::Undefined {
                out.push(b"null");
            }
        }
        out.push(b"]");
        Ok(())
    }

    fn map(&mut self, out: &mut Sink, len: usize, depth: usize) -> Result<(), DecodeError> {
        if depth >= MAX_DEPTH {
            return Err(DecodeError::BadPayload);
        }
        out.push(b"{");
        let mut first = true;
        for _ in 0..len {
            let mark = out.json.len();
            if !first {
                out.push(b",");
            }
            self.key(out)?;
            out.push(b":");
            match self.value(out, depth + 1)? {
                Wrote::Value => first = false,
                // `JSON.stringify` leaves the key out.
                Wrote::Undefined => out.json.truncate(mark),
            }
        }
        out.push(b"}");
        Ok(())
    }

    fn ext(&mut self, out: &mut Sink, len: usize, fixed: bool, depth: usize) -> Result<Wrote, DecodeError> {
        let ty = i8::from_be_bytes(self.rd.array()?);
        match (ty, fixed, len) {
            (EXT_JS, true, 1) => {
                self.rd.take(1)?;
                return Ok(Wrote::Undefined);
            }
            (EXT_JS, true, 8) => {
                let ms = i64::from_be_bytes(self.rd.array()?);
                write_date(out, ms);
            }
            (EXT_JS, false, _) => self.bin(out, len)?,
            _ => {
                if depth >= MAX_DEPTH {
                    return Err(DecodeError::BadPayload);
                }
                out.push(b"[");
                out.int(ty.into());
                out.push(b",");
                self.bin(out, len)?;
                out.push(b"]");
            }
        }
        Ok(Wrote::Value)
    }
}

/// A JS `Date` (milliseconds since the epoch) as `JSON.stringify` writes it: its ISO 8601
/// string, or `null` outside the dates JS can hold (±8.64e15 ms).
fn write_date(out: &mut Sink, ms: i64) {
    const MAX_MS: i64 = 8_640_000_000_000_000;
    if !(-MAX_MS..=MAX_MS).contains(&ms) {
        out.push(b"null");
        return;
    }
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) =
        (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{}{:06}", if year < 0 { '-' } else { '+' }, year.abs())
    };
    let iso = format!("{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z");
    let _ = serde_json::to_writer(&mut out.json, &iso);
}

/// The packet type's number on the wire: binary packets are EVENT and ACK here.
fn type_number(kind: PacketType) -> u64 {
    match kind {
        PacketType::Connect => 0,
        PacketType::Disconnect => 1,
        PacketType::Event | PacketType::BinaryEvent => 2,
        PacketType::Ack | PacketType::BinaryAck => 3,
        PacketType::ConnectError => 4,
    }
}

/// Encodes a packet as one MessagePack message: `{type, data, nsp, id}` (no `data` or `id`
/// when `None`), `data` transcoded from JSON with the placeholders of `bins` as `bin` values
/// (only when there are attachments: the objects of a text packet are data, whatever they
/// look like). Numbers, strings, arrays and maps take the smallest encoding, as notepack.io's.
///
/// # Errors
/// When `data` is not JSON, or nests deeper than serde_json's recursion limit (128).
pub(crate) fn encode(
    kind: PacketType,
    nsp: &str,
    id: Option<u64>,
    data: Option<&[u8]>,
    bins: &[Bytes],
) -> Result<Bytes, serde_json::Error> {
    let size = 24 + nsp.len() + data.map_or(0, <[u8]>::len) + bins.iter().map(Bytes::len).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    let fields = 2 + u32::from(data.is_some()) + u32::from(id.is_some());
    let _ = rmp::encode::write_map_len(&mut out, fields);
    let _ = rmp::encode::write_str(&mut out, "type");
    let _ = rmp::encode::write_uint(&mut out, type_number(kind));
    if let Some(data) = data {
        let _ = rmp::encode::write_str(&mut out, "data");
        let mut de = serde_json::Deserializer::from_slice(data);
        Json { out: &mut out, bins }.deserialize(&mut de)?;
        de.end()?;
    }
    let _ = rmp::encode::write_str(&mut out, "nsp");
    let _ = rmp::encode::write_str(&mut out, nsp);
    if let Some(id) = id {
        let _ = rmp::encode::write_str(&mut out, "id");
        let _ = rmp::encode::write_uint(&mut out, id);
    }
    Ok(out.into())
}

/// Room left for an array or map header, written once the elements are counted (serde_json
/// does not say how many there are).
const HEADER_ROOM: usize = 5;

/// Writes a JSON value as MessagePack into `out` (a serde visitor, so without a tree).
struct Json<'o> {
    out: &'o mut Vec<u8>,
    bins: &'o [Bytes],
}

impl Json<'_> {
    fn child(&mut self) -> Json<'_> {
        Json { out: self.out, bins: self.bins }
    }
}

/// Writes the smallest header for `n` elements at `start`, where [`HEADER_ROOM`] bytes were
/// left.
fn finish_header(out: &mut Vec<u8>, start: usize, n: u32, map: bool) {
    let mut header = [0u8; HEADER_ROOM];
    let mut w = &mut header[..];
    let _ = if map { rmp::encode::write_map_len(&mut w, n) } else { rmp::encode::write_array_len(&mut w, n) };
    let len = HEADER_ROOM - w.len();
    if len < HEADER_ROOM {
        out.copy_within(start + HEADER_ROOM.., start + len);
        out.truncate(out.len() - (HEADER_ROOM - len));
    }
    out[start..start + len].copy_from_slice(&header[..len]);
}

/// A map key as the placeholder check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Placeholder,
    Num,
    Other,
}

struct KeySeed<'o>(&'o mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
        let _ = rmp::encode::write_str(self.0, v);
        Ok(match v {
            "_placeholder" => Key::Placeholder,
            "num" => Key::Num,
            _ => Key::Other,
        })
    }
}

/// The unsigned integer MessagePack holds in `b`, if that is all `b` is.
fn read_uint(b: &[u8]) -> Option<u64> {
    let (&m, rest) = b.split_first()?;
    let be = |n: usize| -> Option<u64> {
        (rest.len() == n).then(|| rest.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    };
    match Marker::from_u8(m) {
        Marker::FixPos(n) if rest.is_empty() => Some(n.into()),
        Marker::U8 => be(1),
        Marker::U16 => be(2),
        Marker::U32 => be(4),
        Marker::U64 => be(8),
        _ => None,
    }
}

impl<'de> DeserializeSeed<'de> for Json<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Json<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        let _ = rmp::encode::write_nil(self.out);
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        let _ = rmp::encode::write_bool(self.out, v);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        let _ = rmp::encode::write_uint(self.out, v);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        let _ = rmp::encode::write_sint(self.out, v);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // notepack.io writes integral numbers as integers.
        if v.fract() == 0.0 && v.abs() < I64_RANGE {
            let _ = rmp::encode::write_sint(self.out, v as i64);
        } else {
            let _ = rmp::encode::write_f64(self.out, v);
        }
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        let _ = rmp::encode::write_str(self.out, v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let start = self.out.len();
        self.out.extend_from_slice(&[0; HEADER_ROOM]);
        let mut n = 0u32;
        while seq.next_element_seed(self.child())?.is_some() {
            n = n.saturating_add(1);
        }
        finish_header(self.out, start, n, false);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let start = self.out.len();
        self.out.extend_from_slice(&[0; HEADER_ROOM]);
        let (mut n, mut placeholder, mut num, mut other) = (0u32, false, None, false);
        while let Some(key) = map.next_key_seed(KeySeed(self.out))? {
            let at = self.out.len();
            map.next_value_seed(self.child())?;
            match key {
                Key::Placeholder => placeholder = self.out[at..] == [0xc3],
                Key::Num => num = read_uint(&self.out[at..]),
                Key::Other => other = true,
            }
            n = n.saturating_add(1);
        }
        let bin = (placeholder && !other && n == 2)
            .then(|| num.and_then(|i| usize::try_from(i).ok()).and_then(|i| self.bins.get(i)))
            .flatten();
        match bin {
            Some(b) => {
                self.out.truncate(start);
                let _ = rmp::encode::write_bin_len(self.out, u32::try_from(b.len()).unwrap_or(u32::MAX));
                self.out.extend_from_slice(b);
            }
            None => finish_header(self.out, start, n, true),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
