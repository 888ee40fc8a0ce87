//! Event arguments: typed decoding straight from a packet's raw JSON array, and encoding of
//! argument lists.

use std::cell::{Cell, RefCell};
use std::fmt;

use bytes::Bytes;
use serde::Serialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, IntoDeserializer, SeqAccess};
use serde_json::value::RawValue;

use super::{binary, json};

/// A list of event arguments that can be read from a JSON array, element by element.
///
/// Implemented for tuples of up to 12 `Deserialize` types and for [`RawArgs`]. A missing
/// trailing argument is accepted when its type is an `Option` (it becomes `None`); extra
/// arguments are ignored, as JavaScript handlers ignore them.
pub trait FromArgs: Sized {
    /// Reads the arguments from the remaining elements of `seq`.
    fn from_args<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error>;
}

/// A list of event arguments that can be written as JSON array elements.
///
/// Implemented for tuples of up to 12 `Serialize` types (each element one argument), `()` (no
/// arguments) and [`RawArgs`].
pub trait ToArgs {
    /// Writes each argument, each preceded by a comma when `first` is false or after the first.
    fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()>;
}

/// Reads one argument; a missing one is `None` for `Option`s and an error otherwise.
pub fn next_arg<'de, T: de::Deserialize<'de>, A: SeqAccess<'de>>(
    seq: &mut A,
    index: usize,
) -> Result<T, A::Error> {
    match seq.next_element::<T>()? {
        Some(v) => Ok(v),
        None => T::deserialize(().into_deserializer())
            .map_err(|_: de::value::Error| de::Error::custom(format_args!("missing argument {index}"))),
    }
}

macro_rules! tuple_args {
    ($($name:ident $idx:tt),*) => {
        impl<$($name: DeserializeOwned),*> FromArgs for ($($name,)*) {
            #[allow(unused_variables, clippy::unused_unit)]
            fn from_args<'de, S: SeqAccess<'de>>(seq: &mut S) -> Result<Self, S::Error> {
                Ok(($(next_arg::<$name, S>(seq, $idx)?,)*))
            }
        }

        impl<$($name: Serialize),*> ToArgs for ($($name,)*) {
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()> {
                let mut first = first;
                $(
                    if !first { out.push(b','); }
                    first = false;
                    serde_json::to_writer(&mut *out, &self.$idx)?;
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
        serde_json::to_writer(out, self.0)
    }
}

/// Arguments captured untyped: every remaining argument as raw JSON, plus the packet's binary
/// attachments (placeholders are kept, so re-emitting reproduces the same payload).
///
/// The arguments stay the bytes they arrived as (a slice of the packet, not a copy, when
/// decoded from one): capturing and re-emitting them costs no allocation per argument and no
/// second look at the JSON.
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

    /// Decodes argument `index` into `T` (binary placeholders resolve to the attachments).
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
    fn from_args<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error> {
        let attachments = binary::current_attachments();
        // Read by `decode_args`: its sequence hands over the rest of the array in one piece,
        // a slice of the packet, without deserializing anything.
        let me = std::ptr::from_ref::<A>(seq).cast::<()>() as usize;
        if TAKE_REST.with(|t| t.active.get() == me) {
            TAKE_REST.with(|t| t.requested.set(true));
            let _ = seq.next_element::<IgnoredAny>()?;
            if let Some((text, len)) = TAKE_REST.with(|t| t.taken.take()) {
                return Ok(RawArgs { text, len, attachments });
            }
        }
        let mut text = Vec::new();
        let mut len = 0;
        while let Some(v) = seq.next_element::<&'de RawValue>()? {
            if len > 0 {
                text.push(b',');
            }
            text.extend_from_slice(v.get().as_bytes());
            len += 1;
        }
        Ok(RawArgs { text: Bytes::from(text), len: Some(len), attachments })
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

/// The protocol between [`decode_args`] and [`RawArgs::from_args`]: the sequence whose address
/// is `active` answers the next element request with the rest of the array when `requested`.
struct TakeRest {
    active: Cell<usize>,
    requested: Cell<bool>,
    taken: RefCell<Option<(Bytes, Option<usize>)>>,
}

thread_local! {
    static TAKE_REST: TakeRest = const {
        TakeRest { active: Cell::new(0), requested: Cell::new(false), taken: RefCell::new(None) }
    };
}

/// The elements of an argument array for serde: each validated and delimited by one pass of
/// [`json::Elements`], then deserialized from its own bytes.
struct ArgSeq<'de> {
    src: &'de [u8],
    shared: Option<&'de Bytes>,
    elements: json::Elements<'de>,
    /// `src` is a packet [`Packet::decode`](super::Packet::decode) validated: the rest of the
    /// array can be taken without reading it again.
    valid: bool,
}

fn invalid(e: json::Invalid) -> serde_json::Error {
    de::Error::custom(e)
}

impl<'de> SeqAccess<'de> for ArgSeq<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        let me = std::ptr::from_ref::<Self>(self).cast::<()>() as usize;
        if TAKE_REST.with(|t| t.active.get() == me && t.requested.replace(false)) {
            // `RawArgs` takes every remaining element as it is.
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
            TAKE_REST.with(|t| *t.taken.borrow_mut() = Some((text, len)));
            return Ok(None);
        }
        let Some((a, b)) = self.elements.next_span().map_err(invalid)? else { return Ok(None) };
        let mut de = serde_json::Deserializer::from_slice(&self.src[a..b]);
        let v = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(Some(v))
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

/// Decodes the arguments of a JSON array, skipping the first `skip` elements (1 for an
/// event's name). The whole array is validated.
pub(crate) fn decode_args<T: FromArgs>(
    data: &(impl ArgsData + ?Sized),
    skip: usize,
    attachments: &[Bytes],
) -> Result<T, serde_json::Error> {
    let src = data.bytes();
    // An event just decoded: its first element (the name) is known to end at `after`.
    let valid = if skip >= 1 { validated_event(src) } else { None };
    let elements = match valid {
        Some(after) => json::Elements::resume(src, after),
        None => json::Elements::open(src).map_err(invalid)?,
    };
    let mut seq = ArgSeq { src, shared: data.shared(), elements, valid: valid.is_some() };
    for _ in usize::from(valid.is_some())..skip {
        if seq.elements.next_span().map_err(invalid)?.is_none() {
            break;
        }
    }
    let me = std::ptr::from_ref(&seq).cast::<()>() as usize;
    let prev = TAKE_REST.with(|t| t.active.replace(me));
    let r = binary::decode_with(attachments, || T::from_args(&mut seq));
    TAKE_REST.with(|t| {
        t.active.set(prev);
        t.requested.set(false);
    });
    let v = r?;
    if !seq.valid {
        seq.elements.finish().map_err(invalid)?;
    }
    Ok(v)
}

thread_local! {
    /// The event payload [`Packet::decode`](super::Packet::decode) validated last on this
    /// thread, and where its first element (the name) ends. Holding the bytes keeps them
    /// alive and unchanged, so a payload at the same address and of the same length is this
    /// one: its arguments need not be validated again. Cleared once the message is handled.
    static VALIDATED: RefCell<Option<(Bytes, usize)>> = const { RefCell::new(None) };
}

/// Notes a validated event payload (see [`VALIDATED`]).
pub(crate) fn note_validated(data: &Bytes, after_name: usize) {
    VALIDATED.with(|v| *v.borrow_mut() = Some((data.clone(), after_name)));
}

/// Forgets the validated payload: the message it came in is handled.
pub(crate) fn forget_validated() {
    VALIDATED.with(|v| {
        if let Ok(mut v) = v.try_borrow_mut() {
            *v = None;
        }
    });
}

/// Where the name of `data` ends, if `data` is the event payload validated last.
fn validated_event(data: &[u8]) -> Option<usize> {
    VALIDATED.with(|v| {
        let v = v.borrow();
        let (bytes, after) = v.as_ref()?;
        (bytes.as_ptr() == data.as_ptr() && bytes.len() == data.len()).then_some(*after)
    })
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
        let (a, b, c): (i32, String, Option<bool>) = decode_args(data, 1, &[]).expect("decodes");
        assert_eq!((a, b.as_str(), c), (1, "two", None));
        let r: Result<(i32, String, bool), _> = decode_args(data, 1, &[]);
        assert!(r.is_err(), "a missing non-optional argument is an error");
        let r: Result<(String,), _> = decode_args(data, 1, &[]);
        assert!(r.is_err(), "a wrong type is an error");
    }

    #[test]
    fn raw_args_keep_a_slice_of_the_packet() {
        let data = Bytes::from_static(br#"[ "ev" , 1 ,{"a": [2, "x"]} , "s\"" ] "#);
        let raw: RawArgs = decode_args(&data, 1, &[]).expect("decodes");
        assert_eq!(raw.len(), 3);
        assert_eq!(raw.json().collect::<Vec<_>>(), ["1", r#"{"a": [2, "x"]}"#, r#""s\"""#]);
        assert_eq!(raw.joined(), Some(r#"1 ,{"a": [2, "x"]} , "s\"""#));
        // A slice of the packet, not a copy.
        let start = raw.text.as_ptr() as usize - data.as_ptr() as usize;
        assert_eq!(&data[start..start + 1], b"1");
        assert_eq!(raw.get::<u8>(0).map(Result::ok), Some(Some(1)));
        let rest: RawArgs = decode_args(&data, 2, &[]).expect("decodes");
        assert_eq!(rest.json().count(), 2);
        let skipped = raw.clone().skip_first();
        assert_eq!(skipped.len(), 2);
        assert_eq!(skipped.json().collect::<Vec<_>>(), rest.json().collect::<Vec<_>>());
        let none: RawArgs = decode_args(&Bytes::from_static(br#"["ev"]"#), 1, &[]).expect("decodes");
        assert!(none.is_empty() && none.json().next().is_none());
        let mut out = Vec::new();
        let _ = write_array(&mut out, Some("back"), &raw).expect("encodes");
        assert_eq!(out, br#"["back",1 ,{"a": [2, "x"]} , "s\""]"#);
        out.clear();
        let _ = write_array(&mut out, Some("back"), &none).expect("encodes");
        assert_eq!(out, br#"["back"]"#);
        assert!(decode_args::<RawArgs>(&Bytes::from_static(br#"["ev",1,]"#), 1, &[]).is_err());
    }

    #[test]
    fn arguments_of_a_decoded_event_are_taken_as_validated() {
        use crate::protocol::Packet;
        let p =
            Packet::decode(Bytes::from_static(br#"2["ev", "room" ,{"a":[1]} , 2 ] "#), 10).expect("event");
        let raw: RawArgs = decode_args(&p.data, 1, &[]).expect("decodes");
        assert_eq!(raw.joined(), Some(r#""room" ,{"a":[1]} , 2"#));
        assert_eq!((raw.len(), raw.json().collect::<Vec<_>>()), (3, vec![r#""room""#, r#"{"a":[1]}"#, "2"]));
        let (room, rest): (String, RawArgs) = {
            struct Two(String, RawArgs);
            impl FromArgs for Two {
                fn from_args<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error> {
                    Ok(Two(next_arg(seq, 0)?, RawArgs::from_args(seq)?))
                }
            }
            let Two(a, b) = decode_args(&p.data, 1, &[]).expect("decodes");
            (a, b)
        };
        assert_eq!((room.as_str(), rest.joined()), ("room", Some(r#"{"a":[1]} , 2"#)));
        let none = Packet::decode(Bytes::from_static(br#"2["ev"]"#), 10).expect("event");
        let raw: RawArgs = decode_args(&none.data, 1, &[]).expect("decodes");
        assert_eq!((raw.is_empty(), raw.len()), (true, 0));
        // The same text in other bytes is validated as usual.
        let copy = Bytes::copy_from_slice(br#"["ev",1,]"#);
        assert!(decode_args::<RawArgs>(&copy, 1, &[]).is_err());
        forget_validated();
        let raw: RawArgs = decode_args(&p.data, 1, &[]).expect("decodes");
        assert_eq!(raw.len(), 3);
    }

    #[test]
    fn raw_args_round_trip() {
        let data = br#"["ev",{"a":1},[true],{"_placeholder":true,"num":0}]"#;
        let att = [Bytes::from_static(b"\x01")];
        let raw: RawArgs = decode_args(data, 1, &att).expect("decodes");
        assert_eq!(raw.len(), 3);
        assert_eq!(raw.attachments(), &att);
        let mut out = Vec::new();
        let bins = write_array(&mut out, Some("back"), &raw).expect("encodes");
        assert_eq!(out, br#"["back",{"a":1},[true],{"_placeholder":true,"num":0}]"#);
        assert_eq!(bins, att.to_vec());
    }
}
