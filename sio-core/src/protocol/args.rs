//! Event arguments: typed decoding straight from a packet's raw JSON array, and encoding of
//! argument lists.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use serde::Serialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, IntoDeserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::binary;

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
    len: usize,
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
        Self { text: Bytes::from(text), len: json.len(), attachments }
    }

    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.len == 0
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
            self.len -= 1;
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

thread_local! {
    /// The packet bytes [`decode_args`] is reading, so [`RawArgs`] can keep a slice of them.
    static SOURCE: RefCell<Option<Bytes>> = const { RefCell::new(None) };
}

impl FromArgs for RawArgs {
    fn from_args<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error> {
        let attachments = binary::current_attachments();
        let Some(first) = seq.next_element::<&'de RawValue>()? else {
            return Ok(RawArgs { text: Bytes::new(), len: 0, attachments });
        };
        // Decoding a packet: the arguments are one slice of it, from the first to the end of
        // the array (validated by the deserializer as the rest is consumed).
        let start = first.get().as_ptr() as usize;
        let sliced = SOURCE.with(|src| {
            let src = src.borrow();
            let src = src.as_ref()?;
            let base = src.as_ptr() as usize;
            let from = start.checked_sub(base).filter(|f| *f < src.len())?;
            let body = src[..].trim_ascii_end();
            let end = body.len().checked_sub(1).filter(|e| body[*e] == b']' && *e >= from)?;
            Some(src.slice(from..from + src[from..end].trim_ascii_end().len()))
        });
        let mut len = 1;
        let text = match sliced {
            Some(text) => {
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    len += 1;
                }
                text
            }
            None => {
                let mut text = first.get().as_bytes().to_vec();
                while let Some(v) = seq.next_element::<&'de RawValue>()? {
                    text.push(b',');
                    text.extend_from_slice(v.get().as_bytes());
                    len += 1;
                }
                Bytes::from(text)
            }
        };
        Ok(RawArgs { text, len, attachments })
    }
}

impl ToArgs for RawArgs {
    fn write_args(&self, out: &mut Vec<u8>, first: bool) -> serde_json::Result<()> {
        if self.len > 0 {
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

/// Decodes the arguments of a JSON array, skipping the first `skip` elements (1 for an
/// event's name).
pub(crate) fn decode_args<T: FromArgs>(
    data: &(impl ArgsData + ?Sized),
    skip: usize,
    attachments: &[Bytes],
) -> Result<T, serde_json::Error> {
    struct Seed<T>(usize, PhantomData<T>);
    impl<'de, T: FromArgs> DeserializeSeed<'de> for Seed<T> {
        type Value = T;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de, T: FromArgs> Visitor<'de> for Seed<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of arguments")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            for _ in 0..self.0 {
                seq.next_element::<IgnoredAny>()?;
            }
            let v = T::from_args(&mut seq)?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(v)
        }
    }
    let prev = SOURCE.with(|s| s.replace(data.shared().cloned()));
    let r = binary::decode_with(attachments, || {
        let mut de = serde_json::Deserializer::from_slice(data.bytes());
        let v = Seed::<T>(skip, PhantomData).deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    });
    SOURCE.with(|s| *s.borrow_mut() = prev);
    r
}

/// Writes `[<prefix>,args...]`, collecting binary attachments; returns them.
pub(crate) fn write_array(
    out: &mut Vec<u8>,
    event: Option<&str>,
    args: &dyn WriteArgs,
) -> serde_json::Result<Vec<Bytes>> {
    let (r, bins) = binary::encode_with(|| {
        out.push(b'[');
        let first = match event {
            Some(name) => {
                serde_json::to_writer(&mut *out, name)?;
                false
            }
            None => true,
        };
        args.write_dyn(out, first)?;
        out.push(b']');
        Ok::<_, serde_json::Error>(())
    });
    r?;
    Ok(bins)
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
