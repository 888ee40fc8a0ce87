//! Event arguments: typed decoding straight from a packet's raw JSON array, and encoding of
//! argument lists.

use std::cell::RefCell;
use std::fmt;

use bytes::Bytes;
use serde::Serialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer};
use serde_json::value::RawValue;

use super::{binary, json, plain};

/// A list of event arguments that can be read from a JSON array, element by element.
///
/// Implemented for tuples of up to 12 `Deserialize` types and for [`RawArgs`]. A missing
/// trailing argument is accepted when its type is an `Option` (it becomes `None`); extra
/// arguments are ignored, as JavaScript handlers ignore them.
///
/// A hand-written implementation reads the arguments in order from the cursor:
///
/// ```
/// use sio_core::protocol::{ArgCursor, FromArgs};
/// use sio_core::RawArgs;
///
/// /// A room name, then whatever follows, untouched.
/// struct Relay(String, RawArgs);
///
/// impl FromArgs for Relay {
///     fn from_args(args: &mut ArgCursor<'_>) -> Result<Self, serde_json::Error> {
///         Ok(Relay(args.next()?, args.rest()?))
///     }
/// }
///
/// let Relay(room, rest) = sio_core::protocol::decode_args(br#"["lobby",1,{"a":2}]"#, &[]).unwrap();
/// assert_eq!((room.as_str(), rest.len()), ("lobby", 2));
/// ```
pub trait FromArgs: Sized {
    /// Reads the arguments from the cursor.
    ///
    /// # Errors
    /// When an argument does not deserialize as its type, a required argument is missing, or
    /// the array is not valid JSON.
    fn from_args(args: &mut ArgCursor<'_>) -> Result<Self, serde_json::Error>;
}

/// A list of event arguments that can be written as JSON array elements.
///
/// Implemented for tuples of up to 12 `Serialize` types (each element one argument), `()` (no
/// arguments) and [`RawArgs`].
///
/// Each element is written as serde_json writes it, byte for byte. A string needing no escape
/// (a newtype or `Some` of one included) is copied in one go; for any other value the
/// element's `Serialize` runs twice, once against a check that refuses it before anything is
/// written, then with serde_json (as serde's contract allows: keep `Serialize` free of side
/// effects).
pub trait ToArgs {
    /// Writes each argument, each preceded by a comma when `first` is false or after the first.
    ///
    /// # Errors
    /// When a value's `Serialize` implementation fails.
    fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()>;
}

/// The arguments of one packet, read in order by [`FromArgs`] implementations (the code
/// `#[namespace]` generates calls [`ArgCursor::next`] per parameter and [`ArgCursor::rest`]
/// for a last `RawArgs`).
///
/// Each element is validated and delimited by one pass of the JSON scanner, then deserialized
/// from its own bytes; binary placeholders resolve to the packet's attachments.
pub struct ArgCursor<'a> {
    src: &'a [u8],
    /// The same bytes as a `Bytes`, when they are one: [`RawArgs`] keeps a slice of them.
    shared: Option<&'a Bytes>,
    elements: json::Elements<'a>,
    /// `src` is a packet [`Packet::decode`](super::Packet::decode) validated: the rest of the
    /// array can be taken without reading it again.
    valid: bool,
    attachments: &'a [Bytes],
    /// The index of the next argument (for error messages).
    index: usize,
}

impl fmt::Debug for ArgCursor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArgCursor")
            .field("next", &self.index)
            .field("attachments", &self.attachments.len())
            .finish_non_exhaustive()
    }
}

fn invalid(e: json::Invalid) -> serde_json::Error {
    de::Error::custom(e)
}

impl<'a> ArgCursor<'a> {
    /// Reads the next argument as `T`. A missing argument is `None` when `T` is an `Option`
    /// (or another type that deserializes from nothing, like `()`), an error otherwise.
    ///
    /// # Errors
    /// When the argument does not deserialize as `T`, or is missing and `T` is not optional.
    #[allow(clippy::should_implement_trait)]
    pub fn next<T: de::Deserialize<'a>>(&mut self) -> Result<T, serde_json::Error> {
        let index = self.index;
        self.index += 1;
        match self.elements.next_span().map_err(invalid)? {
            Some((a, b)) => {
                let src: &'a [u8] = self.src;
                let mut de = serde_json::Deserializer::from_slice(&src[a..b]);
                let v = T::deserialize(&mut de)?;
                de.end()?;
                Ok(v)
            }
            None => T::deserialize(().into_deserializer())
                .map_err(|_: de::value::Error| de::Error::custom(format_args!("missing argument {index}"))),
        }
    }

    /// Takes every remaining argument as it is (a slice of the packet, not a copy, when the
    /// packet's bytes are shared), with the packet's attachments.
    ///
    /// # Errors
    /// When the rest of the array is not valid JSON.
    pub fn rest(&mut self) -> Result<RawArgs, serde_json::Error> {
        let (len, span) = if self.valid {
            (None, self.elements.rest_of_valid())
        } else {
            let (len, span) = self.elements.finish().map_err(invalid)?;
            (Some(len), span)
        };
        let text = match (span, self.shared) {
            (None, _) => Bytes::new(),
            (Some((a, b)), Some(shared)) => shared.slice(a..b),
            (Some((a, b)), None) => Bytes::copy_from_slice(&self.src[a..b]),
        };
        self.index += len.unwrap_or(0);
        Ok(RawArgs { text, len, attachments: self.attachments.to_vec() })
    }

    /// Skips the next argument; false when there was none.
    fn skip(&mut self) -> Result<bool, serde_json::Error> {
        self.index += 1;
        Ok(self.elements.next_span().map_err(invalid)?.is_some())
    }
}

macro_rules! tuple_args {
    ($($name:ident $idx:tt),*) => {
        impl<$($name: DeserializeOwned),*> FromArgs for ($($name,)*) {
            #[allow(unused_variables, clippy::unused_unit)]
            fn from_args(args: &mut ArgCursor<'_>) -> Result<Self, serde_json::Error> {
                Ok(($(args.next::<$name>()?,)*))
            }
        }

        impl<$($name: Serialize),*> ToArgs for ($($name,)*) {
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()> {
                let mut first = first;
                $(
                    if !first { out.push(b','); }
                    first = false;
                    plain::write_json(out, &self.$idx)?;
                )*
                Ok(())
            }
        }
    };
}

tuple_args!();
tuple_args!(A 0);
tuple_args!(A 0, B 1);
tuple_args!(A 0, B 1, C 2);
tuple_args!(A 0, B 1, C 2, D 3);
tuple_args!(A 0, B 1, C 2, D 3, E 4);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// One argument, written as itself (used for single-value emits and acks).
#[derive(Debug, Clone, Copy)]
pub struct One<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> ToArgs for One<'_, T> {
    fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()> {
        if !first {
            out.push(b',');
        }
        plain::write_json(out, self.0)
    }
}

/// Arguments captured untyped: every remaining argument as raw JSON, plus the packet's binary
/// attachments (placeholders are kept, so re-emitting reproduces the same payload).
///
/// The arguments stay the bytes they arrived as (a slice of the packet, not a copy, when
/// decoded from one): capturing and re-emitting them costs no allocation per argument and no
/// second look at the JSON.
///
/// Get them from [`Event::raw`](crate::Event::raw), a last `RawArgs` parameter of a
/// `#[namespace]` handler, or [`AckReply::raw`](crate::AckReply::raw); emit them with any
/// `emit_args`, or return them from a handler to ack with them.
///
/// ```
/// use sio_core::{Binary, RawArgs};
/// use sio_core::protocol::decode_args;
///
/// // ["note", 3, {"_placeholder":true,"num":0}] with one attachment:
/// let args: RawArgs =
///     decode_args(br#"["note",3,{"_placeholder":true,"num":0}]"#, &[bytes::Bytes::from_static(b"hi")]).unwrap();
/// assert_eq!(args.len(), 3);
/// assert_eq!(args.get::<u32>(1).unwrap().unwrap(), 3);
/// assert_eq!(args.get::<Binary>(2).unwrap().unwrap().bytes(), &b"hi"[..]);
/// assert_eq!(args.json().next(), Some(r#""note""#));
/// ```
#[derive(Clone, Default)]
pub struct RawArgs {
    /// The arguments as sent: JSON values separated by commas (what is between the brackets
    /// of an array, without the elements before). Valid UTF-8.
    text: Bytes,
    /// The number of arguments, when known (counted on demand otherwise).
    len: Option<usize>,
    attachments: Vec<Bytes>,
}

impl fmt::Debug for RawArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawArgs")
            .field("json", &self.json().collect::<Vec<_>>())
            .field("attachments", &self.attachments.len())
            .finish()
    }
}

impl RawArgs {
    /// Arguments from raw JSON values and the attachments their placeholders refer to.
    pub fn new(json: Vec<Box<RawValue>>, attachments: Vec<Bytes>) -> Self {
        let mut text = Vec::with_capacity(json.iter().map(|r| r.get().len() + 1).sum());
        for (i, v) in json.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            text.extend_from_slice(v.get().as_bytes());
        }
        Self { text: Bytes::from(text), len: Some(json.len()), attachments }
    }

    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.len.unwrap_or_else(|| self.json().count())
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The raw JSON text of each argument.
    pub fn json(&self) -> impl Iterator<Item = &str> {
        RawIter { text: &self.text, pos: 0 }
    }

    /// Every argument's raw JSON text in one, separated by commas, as sent (what goes between
    /// the brackets of a JSON array); `None` if the bytes are not UTF-8.
    pub fn joined(&self) -> Option<&str> {
        std::str::from_utf8(&self.text).ok()
    }

    /// The arguments after the first (an event's arguments after its name).
    pub(crate) fn skip_first(mut self) -> Self {
        let mut it = RawIter { text: &self.text, pos: 0 };
        if it.next().is_some() {
            let pos = it.pos;
            self.text = self.text.slice(pos..);
            self.len = self.len.map(|n| n - 1);
        }
        self
    }

    /// The binary attachments referenced by placeholders in the arguments.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Decodes argument `index` into `T` (binary placeholders resolve to the attachments);
    /// `None` when there is no such argument, `Some(Err(..))` when it is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Option<Result<T, serde_json::Error>> {
        let raw = self.json().nth(index)?;
        Some(binary::decode_with(&self.attachments, || serde_json::from_str(raw)))
    }
}

/// Walks the comma-separated values of [`RawArgs::text`].
struct RawIter<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for RawIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<&RawValue>();
        let value = values.next()?.ok()?;
        let mut pos = self.pos + values.byte_offset();
        while self.text.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
            pos += 1;
        }
        if self.text.get(pos) == Some(&b',') {
            pos += 1;
        }
        self.pos = pos;
        Some(value.get())
    }
}

/// Untyped arguments: `unknown[]` (rendered as a rest parameter, `...args: unknown[]`).
impl ts_rs::TS for RawArgs {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "unknown[]".to_owned()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

impl FromArgs for RawArgs {
    fn from_args(args: &mut ArgCursor<'_>) -> Result<Self, serde_json::Error> {
        args.rest()
    }
}

impl ToArgs for RawArgs {
    fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()> {
        if !self.text.is_empty() {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(&self.text);
        }
        // Re-emit the attachments the placeholders point to.
        binary::push_raw_attachments(&self.attachments);
        Ok(())
    }
}

/// Bytes that arguments are decoded from: a [`Bytes`] lets [`RawArgs`] keep a slice of them
/// instead of a copy.
pub(crate) trait ArgsData {
    fn bytes(&self) -> &[u8];
    fn shared(&self) -> Option<&Bytes> {
        None
    }
}

impl ArgsData for [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl<const N: usize> ArgsData for [u8; N] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl ArgsData for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl ArgsData for Bytes {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn shared(&self) -> Option<&Bytes> {
        Some(self)
    }
}

/// Where the arguments start in a JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgsAt {
    /// After the first `n` elements of an array that has not been validated yet.
    Skip(usize),
    /// After the first element, which ends at this byte offset, of an array that
    /// [`Packet::decode`](super::Packet::decode) validated whole (an event after its name).
    Validated(usize),
}

/// Decodes the arguments of a JSON array from `at`. The whole array is validated (once: an
/// array the packet decoder validated is not read again).
pub(crate) fn decode_args_at<T: FromArgs>(
    data: &(impl ArgsData + ?Sized),
    at: ArgsAt,
    attachments: &[Bytes],
) -> Result<T, serde_json::Error> {
    decode_args_with(data, at, attachments, T::from_args)
}

/// [`decode_args_at`] with the reading done by `read` (the code `#[namespace]` generates).
pub(crate) fn decode_args_with<T>(
    data: &(impl ArgsData + ?Sized),
    at: ArgsAt,
    attachments: &[Bytes],
    read: impl FnOnce(&mut ArgCursor<'_>) -> Result<T, serde_json::Error>,
) -> Result<T, serde_json::Error> {
    let src = data.bytes();
    let (elements, valid, skip) = match at {
        ArgsAt::Validated(after) => (json::Elements::resume(src, after), true, 0),
        ArgsAt::Skip(n) => (json::Elements::open(src).map_err(invalid)?, false, n),
    };
    let mut args = ArgCursor { src, shared: data.shared(), elements, valid, attachments, index: 0 };
    for _ in 0..skip {
        if !args.skip()? {
            break;
        }
    }
    args.index = 0;
    let v = binary::decode_with(attachments, || read(&mut args))?;
    if !args.valid {
        args.elements.finish().map_err(invalid)?;
    }
    Ok(v)
}

/// Decodes a JSON array of arguments (an ack's, or a [`Payload`](super::Payload)'s after the
/// event name is taken out) as `T`; `attachments` are what its binary placeholders point to.
///
/// # Errors
/// When `json` is not a JSON array, or its elements do not deserialize as `T`.
pub fn decode_args<T: FromArgs>(json: &[u8], attachments: &[Bytes]) -> Result<T, serde_json::Error> {
    decode_args_at(json, ArgsAt::Skip(0), attachments)
}

/// Writes `[<prefix>,args...]`, collecting binary attachments; returns them.
///
/// The array is written into a per-thread buffer first, then `out` gets exactly the room it
/// needs: no reallocation while the arguments grow, and a length equal to the capacity, so
/// the buffer becomes `Bytes` without another allocation.
pub(crate) fn write_array(
    out: &mut Vec<u8>,
    event: Option<&str>,
    args: &dyn WriteArgs,
) -> serde_json::Result<Vec<Bytes>> {
    let mut buf = ENCODE_SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    buf.clear();
    buf.extend_from_slice(out);
    let (r, bins) = binary::encode_with(|| {
        buf.push(b'[');
        let first = match event {
            Some(name) => {
                serde_json::to_writer(&mut buf, name)?;
                false
            }
            None => true,
        };
        args.write_dyn(&mut buf, first)?;
        buf.push(b']');
        Ok::<_, serde_json::Error>(())
    });
    if r.is_ok() {
        let mut exact = Vec::with_capacity(buf.len());
        exact.extend_from_slice(&buf);
        *out = exact;
    }
    if buf.capacity() <= 64 * 1024 {
        // Kept for the next packet; a very large one does not stay with the thread.
        ENCODE_SCRATCH.with(|s| *s.borrow_mut() = buf);
    }
    r?;
    Ok(bins)
}

thread_local! {
    static ENCODE_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Object-safe form of [`ToArgs`] (used by generated code).
#[doc(hidden)]
pub trait WriteArgs {
    #[doc(hidden)]
    fn write_dyn(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()>;
}

impl<T: ToArgs + ?Sized> WriteArgs for T {
    fn write_dyn(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()> {
        self.write_args(out, first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_args_with_optional_tail() {
        let data = br#"["ev",1,"two"]"#;
        let (a, b, c): (i32, String, Option<bool>) =
            decode_args_at(data, ArgsAt::Skip(1), &[]).expect("decodes");
        assert_eq!((a, b.as_str(), c), (1, "two", None));
        let r: Result<(i32, String, bool), _> = decode_args_at(data, ArgsAt::Skip(1), &[]);
        assert!(r.is_err(), "a missing non-optional argument is an error");
        let r: Result<(String,), _> = decode_args_at(data, ArgsAt::Skip(1), &[]);
        assert!(r.is_err(), "a wrong type is an error");
    }

    #[test]
    fn raw_args_keep_a_slice_of_the_packet() {
        let data = Bytes::from_static(br#"[ "ev" , 1 ,{"a": [2, "x"]} , "s\"" ] "#);
        let raw: RawArgs = decode_args_at(&data, ArgsAt::Skip(1), &[]).expect("decodes");
        assert_eq!(raw.len(), 3);
        assert_eq!(raw.json().collect::<Vec<_>>(), ["1", r#"{"a": [2, "x"]}"#, r#""s\"""#]);
        assert_eq!(raw.joined(), Some(r#"1 ,{"a": [2, "x"]} , "s\"""#));
        // A slice of the packet, not a copy.
        let start = raw.text.as_ptr() as usize - data.as_ptr() as usize;
        assert_eq!(&data[start..start + 1], b"1");
        assert_eq!(raw.get::<u8>(0).map(Result::ok), Some(Some(1)));
        let rest: RawArgs = decode_args_at(&data, ArgsAt::Skip(2), &[]).expect("decodes");
        assert_eq!(rest.json().count(), 2);
        let skipped = raw.clone().skip_first();
        assert_eq!(skipped.len(), 2);
        assert_eq!(skipped.json().collect::<Vec<_>>(), rest.json().collect::<Vec<_>>());
        let none: RawArgs =
            decode_args_at(&Bytes::from_static(br#"["ev"]"#), ArgsAt::Skip(1), &[]).expect("decodes");
        assert!(none.is_empty() && none.json().next().is_none());
        let mut out = Vec::new();
        let _ = write_array(&mut out, Some("back"), &raw).expect("encodes");
        assert_eq!(out, br#"["back",1 ,{"a": [2, "x"]} , "s\""]"#);
        out.clear();
        let _ = write_array(&mut out, Some("back"), &none).expect("encodes");
        assert_eq!(out, br#"["back"]"#);
        assert!(
            decode_args_at::<RawArgs>(&Bytes::from_static(br#"["ev",1,]"#), ArgsAt::Skip(1), &[]).is_err()
        );
    }

    #[test]
    fn arguments_of_a_decoded_event_are_taken_as_validated() {
        use crate::protocol::Packet;
        let p =
            Packet::decode(Bytes::from_static(br#"2["ev", "room" ,{"a":[1]} , 2 ] "#), 10).expect("event");
        assert!(matches!(p.args_at(), ArgsAt::Validated(_)));
        let raw: RawArgs = decode_args_at(&p.data, p.args_at(), &[]).expect("decodes");
        assert_eq!(raw.joined(), Some(r#""room" ,{"a":[1]} , 2"#));
        assert_eq!((raw.len(), raw.json().collect::<Vec<_>>()), (3, vec![r#""room""#, r#"{"a":[1]}"#, "2"]));
        struct Two(String, RawArgs);
        impl FromArgs for Two {
            fn from_args(args: &mut ArgCursor<'_>) -> Result<Self, serde_json::Error> {
                Ok(Two(args.next()?, args.rest()?))
            }
        }
        let Two(room, rest) = decode_args_at(&p.data, p.args_at(), &[]).expect("decodes");
        assert_eq!((room.as_str(), rest.joined()), ("room", Some(r#"{"a":[1]} , 2"#)));
        // The same from unvalidated bytes: the rest is read (and counted) on the way.
        let Two(room, rest) = decode_args_at(&p.data, ArgsAt::Skip(1), &[]).expect("decodes");
        assert_eq!((room.as_str(), rest.joined(), rest.len()), ("room", Some(r#"{"a":[1]} , 2"#), 2));
        let none = Packet::decode(Bytes::from_static(br#"2["ev"]"#), 10).expect("event");
        let raw: RawArgs = decode_args_at(&none.data, none.args_at(), &[]).expect("decodes");
        assert_eq!((raw.is_empty(), raw.len()), (true, 0));
        // Unvalidated bytes are validated as usual.
        let copy = Bytes::copy_from_slice(br#"["ev",1,]"#);
        assert!(decode_args_at::<RawArgs>(&copy, ArgsAt::Skip(1), &[]).is_err());
        let missing: Result<(String, u8), _> = decode_args_at(&none.data, none.args_at(), &[]);
        assert!(missing.expect_err("missing").to_string().contains("missing argument 0"));
    }

    #[test]
    fn the_thread_locals_are_restored_after_a_panic() {
        #[derive(Debug)]
        struct Boom;
        impl<'de> serde::Deserialize<'de> for Boom {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                panic!("a Deserialize impl that panics")
            }
        }
        let att = [Bytes::from_static(b"\x01")];
        let r = std::panic::catch_unwind(|| decode_args::<(Boom,)>(b"[1]", &att));
        assert!(r.is_err());
        // Outside a decode, a placeholder has no attachment to point to.
        let b: Result<crate::Binary, _> = serde_json::from_str(r#"{"_placeholder":true,"num":0}"#);
        assert!(b.is_err(), "the attachments of the panicked decode are still visible");
    }

    #[test]
    fn raw_args_round_trip() {
        let data = br#"["ev",{"a":1},[true],{"_placeholder":true,"num":0}]"#;
        let att = [Bytes::from_static(b"\x01")];
        let raw: RawArgs = decode_args_at(data, ArgsAt::Skip(1), &att).expect("decodes");
        assert_eq!(raw.len(), 3);
        assert_eq!(raw.attachments(), &att);
        let mut out = Vec::new();
        let bins = write_array(&mut out, Some("back"), &raw).expect("encodes");
        assert_eq!(out, br#"["back",{"a":1},[true],{"_placeholder":true,"num":0}]"#);
        assert_eq!(bins, att.to_vec());
    }
}
