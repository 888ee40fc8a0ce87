//! Writing one argument as JSON, with a fast path for a string that needs no escaping.
//!
//! serde_json checks a string's bytes one by one against its escape table; that loop was
//! the largest single cost of encoding an event whose argument is a string (580 of the 6,300
//! instructions an echo round trip costs `sio-client`). Here a string argument is first
//! checked eight bytes at a time, and, when nothing in it needs escaping (the usual chat
//! message), copied between quotes in one go; a string with a byte to escape is escaped by
//! serde_json. Any other value is written by serde_json itself, so the bytes are always
//! serde_json's.
//!
//! The check runs the value's `Serialize` against a serializer that accepts only a plain
//! string and refuses everything else before writing anything: a value that is not a string
//! is then serialized a second time, by serde_json, as serde's contract allows (bincode's
//! size pass does the same). [`Binary`](super::Binary), whose `Serialize` records an
//! attachment, opens its map first, so the check refuses it before anything is recorded.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// Writes `value` as serde_json would, at the end of `out`.
pub(crate) fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> serde_json::Result<()> {
    if value.serialize(PlainStr(out)).is_ok() {
        return Ok(());
    }
    serde_json::to_writer(out, value)
}

/// Where the first byte of `s` that must be escaped in JSON is (by serde_json's table:
/// control characters, `"` and `\\`), give or take the seven bytes before it: the start of
/// the first eight-byte word that holds one. None when there is none.
fn first_escape(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether a byte of `x` is below `n` (n ≤ 128), and whether one is zero: exact as
    // yes/no answers for the word (Bit Twiddling Hacks' `hasless` and `haszero`).
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut words = s.chunks_exact(8);
    for (i, w) in (&mut words).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_ne_bytes(b);
        if below(x, 0x20) | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\'))) != 0 {
            return Some(i * 8);
        }
    }
    let tail = s.len() - words.remainder().len();
    words.remainder().iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\').then_some(tail)
}

/// The check: writes a string (or a newtype or `Some` of one), refuses anything else (having
/// written nothing).
struct PlainStr<'a>(&'a mut Vec<u8>);

/// "Not a plain string": the value goes to serde_json.
#[derive(Debug)]
struct NotPlain;

impl fmt::Display for NotPlain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a plain string")
    }
}

impl std::error::Error for NotPlain {}

impl ser::Error for NotPlain {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotPlain
    }
}

macro_rules! refuse {
    ($($f:ident($($t:ty),*);)*) => {$(
        fn $f(self, $(_: $t),*) -> Result<(), NotPlain> {
            Err(NotPlain)
        }
    )*};
}

impl ser::Serializer for PlainStr<'_> {
    type Ok = ();
    type Error = NotPlain;
    type SerializeSeq = Impossible<(), NotPlain>;
    type SerializeTuple = Impossible<(), NotPlain>;
    type SerializeTupleStruct = Impossible<(), NotPlain>;
    type SerializeTupleVariant = Impossible<(), NotPlain>;
    type SerializeMap = Impossible<(), NotPlain>;
    type SerializeStruct = Impossible<(), NotPlain>;
    type SerializeStructVariant = Impossible<(), NotPlain>;

    fn serialize_str(self, v: &str) -> Result<(), NotPlain> {
        let out = self.0;
        out.reserve(v.len() + 2);
        out.push(b'"');
        let Some(mut at) = first_escape(v.as_bytes()) else {
            out.extend_from_slice(v.as_bytes());
            out.push(b'"');
            return Ok(());
        };
        // The plain start as it is, then serde_json's escaping of the rest, whose opening
        // quote is taken out.
        while !v.is_char_boundary(at) {
            at -= 1;
        }
        out.extend_from_slice(&v.as_bytes()[..at]);
        let quote = out.len();
        match serde_json::to_writer(&mut *out, &v[at..]) {
            Ok(()) => {
                out.remove(quote);
                Ok(())
            }
            Err(_) => {
                out.truncate(quote - at - 1);
                Err(NotPlain)
            }
        }
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<(), NotPlain> {
        v.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), NotPlain> {
        v.serialize(self)
    }

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotPlain> {
        Err(NotPlain)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotPlain> {
        Err(NotPlain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Binary;

    fn both<T: Serialize + ?Sized>(v: &T) {
        let mut out = b"[".to_vec();
        write_json(&mut out, v).expect("writes");
        let mut expected = b"[".to_vec();
        serde_json::to_writer(&mut expected, v).expect("writes");
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&expected));
    }

    #[test]
    fn the_bytes_are_serde_jsons() {
        #[derive(Serialize)]
        struct S {
            a: String,
        }
        #[derive(Serialize)]
        struct Wrap(String);
        let mut every_byte: String = (0u8..128).map(char::from).collect();
        every_byte.push_str("é€😀");
        // A character across the start of the word with the first byte to escape.
        let across = ["aaaaaaaé\"xyz", "aaaaaa😀\n", "aaaaa€€\\", "é€😀ééééé\t"];
        for s in ["", "a", "abcdefgh", "abcdefghi", "x\"", "12345678\\", "\u{1f}", "é\u{7f}/", &every_byte]
            .into_iter()
            .chain(across)
        {
            both(s);
            both(&s.to_owned());
            both(&Some(s));
            both(&Wrap(s.to_owned()));
            both(&S { a: s.to_owned() });
        }
        // Every position of every byte to escape, in words and in the tail.
        for len in 0..20 {
            for at in 0..len {
                for c in [b'"', b'\\', 0, 0x1f, b'\n', 0x20, 0x7f, b'!'] {
                    let mut v = vec![b'a'; len];
                    v[at] = c;
                    both(std::str::from_utf8(&v).expect("ascii"));
                }
            }
        }
        both(&None::<String>);
        both(&1.5);
        both(&serde_json::json!({"k": ["v", 1]}));
        both(&*serde_json::value::RawValue::from_string(r#"{"raw": "x"}"#.into()).expect("json"));
        both(&'c');
    }

    #[test]
    fn binary_is_recorded_once() {
        let bin = Binary(bytes::Bytes::from_static(b"\x01"));
        let (r, attachments) = super::super::binary::encode_with(|| {
            let mut out = Vec::new();
            write_json(&mut out, &bin).map(|()| out)
        });
        assert_eq!(r.expect("writes"), br#"{"_placeholder":true,"num":0}"#);
        assert_eq!(attachments.len(), 1);
    }
}
