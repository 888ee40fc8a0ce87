//! A JSON validator that also finds where values are, in one pass and without building
//! anything.
//!
//! It accepts exactly what `serde_json` accepts when it skips a value (`IgnoredAny`): the
//! grammar of RFC 8259 (strings without raw control characters and with valid escapes, numbers
//! without leading zeros, `true`/`false`/`null`), any nesting depth, bytes in strings taken as
//! they are. The tests compare the two on generated and mutated documents.
//!
//! Packets are validated once when they are decoded; handlers then read their arguments from
//! the element spans found here instead of walking the JSON again.

/// Where a document stopped being valid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) usize);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}", self.0)
    }
}

/// A cursor over a JSON document.
#[derive(Debug, Clone)]
pub(crate) struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

/// Open containers: one bit each (set for objects), spilling to a `Vec` past 128 levels.
struct Stack {
    bits: u128,
    depth: usize,
    deep: Vec<bool>,
}

impl Stack {
    fn new() -> Self {
        Self { bits: 0, depth: 0, deep: Vec::new() }
    }

    fn push(&mut self, object: bool) {
        if self.depth < 128 {
            let bit = 1u128 << self.depth;
            if object {
                self.bits |= bit;
            } else {
                self.bits &= !bit;
            }
        } else {
            self.deep.push(object);
        }
        self.depth += 1;
    }

    /// Whether the innermost open container is an object; `None` when none is open.
    fn top(&self) -> Option<bool> {
        let d = self.depth.checked_sub(1)?;
        if d < 128 { Some(self.bits & (1u128 << d) != 0) } else { self.deep.last().copied() }
    }

    fn pop(&mut self) {
        self.depth -= 1;
        if self.depth >= 128 {
            self.deep.pop();
        }
    }
}

impl<'a> Scan<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn err<T>(&self) -> Result<T, Invalid> {
        Err(Invalid(self.i))
    }

    /// Skips JSON whitespace.
    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// Skips whitespace, then expects `c`.
    fn expect(&mut self, c: u8) -> Result<(), Invalid> {
        self.ws();
        if self.peek() != Some(c) {
            return self.err();
        }
        self.i += 1;
        Ok(())
    }

    /// Whitespace, then the end of the document.
    pub(crate) fn end(&mut self) -> Result<(), Invalid> {
        self.ws();
        if self.i == self.b.len() { Ok(()) } else { self.err() }
    }

    /// Skips whitespace and one value; returns the value's span.
    pub(crate) fn value(&mut self) -> Result<(usize, usize), Invalid> {
        self.ws();
        let start = self.i;
        match self.peek() {
            Some(b'"') => {
                self.string()?;
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal(b"true")?,
            Some(b'f') => self.literal(b"false")?,
            Some(b'n') => self.literal(b"null")?,
            Some(b'[' | b'{') => self.container()?,
            _ => return self.err(),
        }
        Ok((start, self.i))
    }

    /// An array or an object, the cursor at its opening bracket.
    fn container(&mut self) -> Result<(), Invalid> {
        let mut stack = Stack::new();
        'value: loop {
            self.ws();
            match self.peek() {
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    } else {
                        stack.push(false);
                        continue 'value;
                    }
                }
                Some(b'{') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                    } else {
                        self.key()?;
                        stack.push(true);
                        continue 'value;
                    }
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return self.err(),
            }
            // A value is complete: close what ends here, up to the next element or member.
            loop {
                let Some(object) = stack.top() else { return Ok(()) };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if object {
                            self.ws();
                            self.key()?;
                        }
                        continue 'value;
                    }
                    Some(b']') if !object => {
                        self.i += 1;
                        stack.pop();
                    }
                    Some(b'}') if object => {
                        self.i += 1;
                        stack.pop();
                    }
                    _ => return self.err(),
                }
            }
        }
    }

    /// An object key and its colon (the cursor is at the key's quote, after whitespace).
    fn key(&mut self) -> Result<(), Invalid> {
        if self.peek() != Some(b'"') {
            return self.err();
        }
        self.string()?;
        self.expect(b':')
    }

    /// A string, the cursor at its opening quote. Returns whether it has escapes.
    pub(crate) fn string(&mut self) -> Result<bool, Invalid> {
        self.i += 1;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return self.err();
                            }
                            self.i += 5;
                        }
                        _ => return self.err(),
                    }
                }
                // A control character, or the end.
                _ => return self.err(),
            }
        }
    }

    /// Moves to the next `"`, `\` or control character (or the end), 16 bytes at a time.
    fn skip_plain(&mut self) {
        /// High bit set in each byte of `v` that is `"`, `\` or below 0x20 (the lowest such
        /// byte is found exactly; bytes above it may be flagged wrongly, which is harmless).
        fn special(v: u64) -> u64 {
            const ONES: u64 = u64::MAX / 255;
            let ctrl = v.wrapping_sub(ONES * 0x20) & !v;
            let q = v ^ (ONES * u64::from(b'"'));
            let quote = q.wrapping_sub(ONES) & !q;
            let s = v ^ (ONES * u64::from(b'\\'));
            let slash = s.wrapping_sub(ONES) & !s;
            (ctrl | quote | slash) & (ONES << 7)
        }
        fn word(b: &[u8]) -> u64 {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_le_bytes(a)
        }
        let b = self.b;
        let mut i = self.i;
        while let Some(c) = b.get(i..i + 16) {
            let (lo, hi) = (special(word(&c[..8])), special(word(&c[8..])));
            if lo | hi != 0 {
                let bit = if lo != 0 { lo.trailing_zeros() } else { 64 + hi.trailing_zeros() };
                self.i = i + (bit / 8) as usize;
                return;
            }
            i += 16;
        }
        while let Some(&c) = b.get(i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            i += 1;
        }
        self.i = i;
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), Invalid> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return self.err();
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err(),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err();
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err();
            }
        }
        Ok(())
    }

    fn literal(&mut self, lit: &[u8]) -> Result<(), Invalid> {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            // Where serde_json stops: at the first byte that differs.
            let same = self.b[self.i..].iter().zip(lit).take_while(|(a, b)| a == b).count();
            Err(Invalid(self.i + same))
        }
    }
}

/// The elements of a JSON array, one at a time, each validated as it is reached.
#[derive(Debug, Clone)]
pub(crate) struct Elements<'a> {
    scan: Scan<'a>,
    /// The next element is the first one.
    first: bool,
    /// The closing bracket was read.
    closed: bool,
}

impl<'a> Elements<'a> {
    /// Starts at the opening bracket (after whitespace).
    pub(crate) fn open(b: &'a [u8]) -> Result<Self, Invalid> {
        let mut scan = Scan::new(b);
        scan.expect(b'[')?;
        Ok(Self { scan, first: true, closed: false })
    }

    /// Continues an array that was already validated, after the element that ends at `pos`.
    pub(crate) fn resume(b: &'a [u8], pos: usize) -> Self {
        Self { scan: Scan { b, i: pos }, first: false, closed: false }
    }

    /// The span of the remaining elements' text, without reading them: only for an array
    /// known to be valid (its closing bracket is then the document's last non-blank byte).
    pub(crate) fn rest_of_valid(&mut self) -> Option<(usize, usize)> {
        if self.closed {
            return None;
        }
        self.closed = true;
        self.scan.ws();
        if !self.first && self.scan.peek() == Some(b',') {
            self.scan.i += 1;
            self.scan.ws();
        }
        let start = self.scan.i;
        let body = self.scan.b.trim_ascii_end();
        let end = body.len().checked_sub(1)?;
        let end = start + self.scan.b.get(start..end)?.trim_ascii_end().len();
        self.scan.i = self.scan.b.len();
        (end > start).then_some((start, end))
    }

    /// The span of the next element; `None` after the last.
    pub(crate) fn next_span(&mut self) -> Result<Option<(usize, usize)>, Invalid> {
        if self.closed {
            return Ok(None);
        }
        self.scan.ws();
        match self.scan.peek() {
            Some(b']') => {
                self.scan.i += 1;
                self.closed = true;
                return Ok(None);
            }
            Some(b',') if !self.first => self.scan.i += 1,
            _ if self.first => {}
            _ => return self.scan.err(),
        }
        self.first = false;
        self.scan.value().map(Some)
    }

    /// Reads (and so validates) the remaining elements, the closing bracket and the end of
    /// the document. Returns how many elements there were and the span of their text.
    pub(crate) fn finish(&mut self) -> Result<(usize, Option<(usize, usize)>), Invalid> {
        let mut count = 0;
        let mut span: Option<(usize, usize)> = None;
        while let Some((a, b)) = self.next_span()? {
            count += 1;
            span = Some((span.map_or(a, |s| s.0), b));
        }
        self.scan.end()?;
        Ok((count, span))
    }
}

/// Whether `b` is one JSON value with only whitespace around it.
pub(crate) fn is_valid(b: &[u8]) -> bool {
    let mut scan = Scan::new(b);
    scan.value().is_ok() && scan.end().is_ok()
}

/// Validates `b` as one JSON value (as [`is_valid`]) and checks its binary placeholders
/// against an `attachments` count, as the reference's parser (`socket.io-parser`) does when it
/// rebuilds a binary packet, where a bad one is `illegal attachments`. `Ok(false)`: a bad
/// placeholder.
///
/// A placeholder is an object whose `_placeholder` member is `true` (the last one, as
/// `JSON.parse` keeps the last of duplicate keys); its `num` must be an integer in
/// `0..attachments`, written as one (digits only: `1.0`, `-0` or `1e0`, which `JSON.parse`
/// reads as integers, are refused; the reference's encoder never writes them). Like the
/// reference, the check looks for placeholders in every array element and object member, but
/// not inside a placeholder, which the attachment replaces whole.
///
/// One pass without recursion (any depth) and, up to 32 levels, without allocating; keys with
/// escapes are unescaped to be compared.
pub(crate) fn check_placeholders(b: &[u8], attachments: usize) -> Result<bool, Invalid> {
    // What an open container knows, in one byte: an object, whose current member is
    // `_placeholder` or `num` (or another); whether `_placeholder` is `true` and `num` a valid
    // index; whether a bad placeholder was found inside.
    const OBJECT: u8 = 1;
    const KEY_PLACEHOLDER: u8 = 2;
    const KEY_NUM: u8 = 4;
    const PLACEHOLDER: u8 = 8;
    const NUM_OK: u8 = 16;
    const BAD: u8 = 32;
    const INLINE: usize = 32;

    struct Levels {
        inline: [u8; INLINE],
        len: usize,
        deep: Vec<u8>,
    }

    impl Levels {
        fn push(&mut self, v: u8) {
            if self.len < INLINE {
                self.inline[self.len] = v;
            } else {
                self.deep.push(v);
            }
            self.len += 1;
        }

        fn top(&mut self) -> Option<&mut u8> {
            match self.len {
                0 => None,
                n if n <= INLINE => Some(&mut self.inline[n - 1]),
                _ => self.deep.last_mut(),
            }
        }

        fn pop(&mut self) -> u8 {
            self.len -= 1;
            if self.len < INLINE { self.inline[self.len] } else { self.deep.pop().unwrap_or_default() }
        }
    }

    /// An object key and its colon (the cursor at the key, after whitespace).
    fn read_key(scan: &mut Scan<'_>) -> Result<u8, Invalid> {
        let start = scan.i;
        if scan.peek() != Some(b'"') {
            return scan.err();
        }
        let escaped = scan.string()?;
        let text = &scan.b[start..scan.i];
        let key = if !escaped {
            match &text[1..text.len() - 1] {
                b"_placeholder" => KEY_PLACEHOLDER,
                b"num" => KEY_NUM,
                _ => 0,
            }
        } else {
            match serde_json::from_slice::<String>(text).as_deref() {
                Ok("_placeholder") => KEY_PLACEHOLDER,
                Ok("num") => KEY_NUM,
                _ => 0,
            }
        };
        scan.expect(b':')?;
        Ok(key)
    }

    let mut scan = Scan::new(b);
    let mut levels = Levels { inline: [0; INLINE], len: 0, deep: Vec::new() };
    loop {
        scan.ws();
        let start = scan.i;
        // The complete value: `true`, a valid index, a bad placeholder inside.
        let (mut is_true, mut index_ok, mut bad) = (false, false, false);
        match scan.peek() {
            Some(b'"') => {
                scan.string()?;
            }
            Some(b'-' | b'0'..=b'9') => {
                scan.number()?;
                let text = &b[start..scan.i];
                index_ok = text.iter().all(u8::is_ascii_digit)
                    && text
                        .iter()
                        .try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
                        .is_some_and(|n| n < attachments as u64);
            }
            Some(b't') => {
                scan.literal(b"true")?;
                is_true = true;
            }
            Some(b'f') => scan.literal(b"false")?,
            Some(b'n') => scan.literal(b"null")?,
            Some(open @ (b'[' | b'{')) => {
                scan.i += 1;
                scan.ws();
                let object = open == b'{';
                if scan.peek() == Some(if object { b'}' } else { b']' }) {
                    scan.i += 1;
                } else {
                    levels.push(if object { OBJECT | read_key(&mut scan)? } else { 0 });
                    continue;
                }
            }
            _ => return scan.err(),
        }
        // A value is complete: give it to its container, and close what ends here.
        loop {
            let Some(top) = levels.top() else {
                scan.end()?;
                return Ok(!bad);
            };
            if *top & KEY_PLACEHOLDER != 0 {
                *top = if is_true { *top | PLACEHOLDER } else { *top & !PLACEHOLDER };
            } else if *top & KEY_NUM != 0 {
                *top = if index_ok { *top | NUM_OK } else { *top & !NUM_OK };
            }
            if bad {
                *top |= BAD;
            }
            let object = *top & OBJECT != 0;
            scan.ws();
            match scan.peek() {
                Some(b',') => {
                    scan.i += 1;
                    if object {
                        scan.ws();
                        let key = read_key(&mut scan)?;
                        if let Some(top) = levels.top() {
                            *top = (*top & !(KEY_PLACEHOLDER | KEY_NUM)) | key;
                        }
                    }
                    break;
                }
                Some(b']') if !object => {
                    scan.i += 1;
                    bad = levels.pop() & BAD != 0;
                }
                Some(b'}') if object => {
                    scan.i += 1;
                    let closed = levels.pop();
                    // A placeholder is replaced by its attachment: only its index counts.
                    bad = if closed & PLACEHOLDER != 0 { closed & NUM_OK == 0 } else { closed & BAD != 0 };
                }
                _ => return scan.err(),
            }
            (is_true, index_ok) = (false, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;

    fn serde_ok(b: &[u8]) -> bool {
        serde_json::from_slice::<IgnoredAny>(b).is_ok()
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: &[&str] = &[
        "0",
        "-0",
        "12",
        "-3.25",
        "1e9",
        "2E-3",
        "4.5e+6",
        "true",
        "false",
        "null",
        r#""""#,
        r#""ab""#,
        r#""\"\\\/\b\f\n\r\t""#,
        r#""\u00e9\uD83D\uDE00""#,
        "\"é\u{1F600}\"",
        "[]",
        "{}",
        " ",
        "\n",
        "\t",
        "\r",
    ];

    fn gen_value(rng: &mut Rng, depth: usize, out: &mut String) {
        let ws = |rng: &mut Rng, out: &mut String| {
            if rng.below(4) == 0 {
                out.push_str([" ", "\n", "\t", "\r\n "][rng.below(4)]);
            }
        };
        ws(rng, out);
        match if depth == 0 { 0 } else { rng.below(4) } {
            0 | 1 => out.push_str(PIECES[rng.below(PIECES.len() - 4)]),
            2 => {
                out.push('[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    gen_value(rng, depth - 1, out);
                }
                ws(rng, out);
                out.push(']');
            }
            _ => {
                out.push('{');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    ws(rng, out);
                    out.push_str(["\"k\"", "\"\"", "\"a\\nb\""][rng.below(3)]);
                    ws(rng, out);
                    out.push(':');
                    gen_value(rng, depth - 1, out);
                }
                ws(rng, out);
                out.push('}');
            }
        }
        ws(rng, out);
    }

    const NOISE: &[u8] = b"[]{},:\"\\/ -+.eE0123456789tfnulrsaubx\x00\x01\x1f\x7f\xc3\xa9\xff\t\n";

    #[test]
    fn agrees_with_serde_json_on_generated_and_mutated_documents() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut checked = 0;
        for _ in 0..60_000 {
            let mut doc = String::new();
            gen_value(&mut rng, 4, &mut doc);
            let mut b = doc.into_bytes();
            assert!(is_valid(&b) && serde_ok(&b), "{:?}", String::from_utf8_lossy(&b));
            for _ in 0..rng.below(4) {
                let at = rng.below(b.len() + 1);
                match rng.below(3) {
                    0 if at < b.len() => {
                        b.remove(at);
                    }
                    1 if at < b.len() => b[at] = NOISE[rng.below(NOISE.len())],
                    _ => b.insert(at, NOISE[rng.below(NOISE.len())]),
                }
            }
            assert_eq!(is_valid(&b), serde_ok(&b), "{:?}", String::from_utf8_lossy(&b));
            // The placeholder check reads the same grammar.
            assert_eq!(check_placeholders(&b, 2).is_ok(), serde_ok(&b), "{:?}", String::from_utf8_lossy(&b));
            checked += 1;
        }
        assert_eq!(checked, 60_000);
    }

    #[test]
    fn edge_cases_agree_with_serde_json() {
        let deep_ok = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let deep_bad = format!("{}{}", "[".repeat(300), "]".repeat(299));
        let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
        for doc in [
            "",
            " ",
            "1",
            "01",
            "-",
            "-01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "1.5e-3",
            "+1",
            "tru",
            "truex",
            "nul",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{1:2}",
            "[\"\\u12\"]",
            "[\"\\u12g4\"]",
            "[\"\\x\"]",
            "\"a\u{1}b\"",
            "\"\\uD800\"",
            "[1]x",
            "[1] ",
            " [1] ",
            "[]]",
            "\"abcdefghijklmnopqrstuvwxyz\\\"0123456789\"",
            "\"abcdefgh",
            "\"\x7f\"",
            &deep_ok,
            &deep_bad,
            &deep_obj,
        ] {
            assert_eq!(is_valid(doc.as_bytes()), serde_ok(doc.as_bytes()), "{doc:?}");
            assert_eq!(check_placeholders(doc.as_bytes(), 2).is_ok(), serde_ok(doc.as_bytes()), "{doc:?}");
        }
        assert!(is_valid(b"\"\xff\xfe\""), "bytes in strings are taken as they are, as serde_json does");
    }

    #[test]
    fn elements_give_spans() {
        let doc = br#" [ "ev" , 1,{"a":[2]} , "x" ] "#;
        let mut e = Elements::open(doc).expect("array");
        let span =
            |s: Option<(usize, usize)>| s.map(|(a, b)| std::str::from_utf8(&doc[a..b]).expect("utf-8"));
        assert_eq!(span(e.next_span().expect("ok")), Some(r#""ev""#));
        assert_eq!(span(e.next_span().expect("ok")), Some("1"));
        let (n, rest) = e.finish().expect("valid");
        assert_eq!((n, span(rest)), (2, Some(r#"{"a":[2]} , "x""#)));
        let mut e = Elements::open(b"[]").expect("array");
        assert_eq!(e.next_span(), Ok(None));
        assert_eq!(e.finish(), Ok((0, None)));
        assert!(Elements::open(b"[1,]").expect("array").finish().is_err());
        assert!(Elements::open(b"[1]x").expect("array").finish().is_err());
        assert!(Elements::open(b"{}").is_err());
    }

    /// The reference's rule (`_reconstructPacket` of `socket.io-parser`) on a parsed document,
    /// with `num` an integer (`as_u64`: not `1.0`, `-1` or `0.5`).
    fn reference_placeholders_ok(v: &serde_json::Value, n: usize) -> bool {
        use serde_json::Value;
        match v {
            Value::Object(m) if m.get("_placeholder") == Some(&Value::Bool(true)) => {
                m.get("num").and_then(Value::as_u64).is_some_and(|num| num < n as u64)
            }
            Value::Object(m) => m.values().all(|c| reference_placeholders_ok(c, n)),
            Value::Array(a) => a.iter().all(|c| reference_placeholders_ok(c, n)),
            _ => true,
        }
    }

    #[test]
    fn placeholders_are_checked_as_the_reference_does() {
        let ok = |doc: &str, n: usize| check_placeholders(doc.as_bytes(), n) == Ok(true);
        // Valid: in range, anywhere, any number of times; an object that is not a placeholder.
        for doc in [
            r#"["ev",{"_placeholder":true,"num":0}]"#,
            r#"["ev",{"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]"#,
            r#"["ev",{"num":1,"_placeholder":true}]"#,
            r#"["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#,
            r#"["ev"]"#,
            r#"["ev",{"_placeholder":false,"num":99}]"#,
            r#"["ev",{"_placeholder":"true","num":-1}]"#,
            r#"["ev",{"_placeholder":1}]"#,
            r#"["ev",{"_placeholder":true,"num":1}]"#,
            // The attachment replaces the whole placeholder: what it holds is not looked at.
            r#"["ev",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]"#,
            r#"["ev",{"x":{"_placeholder":true},"_placeholder":true,"num":1}]"#,
            // The last of duplicate keys counts, as in JSON.parse.
            r#"["ev",{"_placeholder":true,"num":7,"num":1}]"#,
            r#"["ev",{"_placeholder":true,"_placeholder":false,"num":7}]"#,
            " [ \"ev\" , { \"_placeholder\" : true , \"num\" : 1 } ] ",
        ] {
            assert!(ok(doc, 2), "{doc} is valid");
        }
        // Invalid: out of range, nested, not an integer, missing.
        for doc in [
            r#"["ev",{"_placeholder":true,"num":2}]"#,
            r#"["ev",{"_placeholder":true,"num":18446744073709551616}]"#,
            r#"["ev",{"_placeholder":true,"num":-1}]"#,
            r#"["ev",{"_placeholder":true,"num":-0}]"#,
            r#"["ev",{"_placeholder":true,"num":0.5}]"#,
            r#"["ev",{"_placeholder":true,"num":1.0}]"#,
            r#"["ev",{"_placeholder":true,"num":1e0}]"#,
            r#"["ev",{"_placeholder":true,"num":"0"}]"#,
            r#"["ev",{"_placeholder":true,"num":[0]}]"#,
            r#"["ev",{"_placeholder":true,"num":{"num":0}}]"#,
            r#"["ev",{"_placeholder":true,"num":{"_placeholder":true,"num":0}}]"#,
            r#"["ev",{"_placeholder":true,"num":null}]"#,
            r#"["ev",{"_placeholder":true,"num":true}]"#,
            r#"["ev",{"_placeholder":true}]"#,
            r#"["ev",{"_placeholder":true,"Num":0}]"#,
            r#"["ev",{"a":{"b":[[{"_placeholder":true,"num":5}]]}}]"#,
            r#"["ev",{"_placeholder":{"_placeholder":true,"num":5}}]"#,
            r#"["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":3}]"#,
            r#"["ev",{"_placeholder":true,"num":3}]"#,
            r#"["ev",{"_placeholder":false,"_placeholder":true,"num":7}]"#,
            r#"["ev",{"_placeholder":true,"num":1,"num":7}]"#,
        ] {
            assert!(!ok(doc, 2), "{doc} is invalid");
        }
        // Invalid JSON is told apart.
        assert!(check_placeholders(br#"["ev",{"_placeholder":true,"num":0}"#, 2).is_err());
        assert!(check_placeholders(br#"["ev",{"_placeholder" true}]"#, 2).is_err());
        assert!(check_placeholders(br#"["ev",{"_placeholder":true,"num":01}]"#, 2).is_err());
        // Any depth, without recursion.
        let deep =
            format!(r#"{}{{"_placeholder":true,"num":1}}{}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert!(ok(&deep, 2));
        assert!(!ok(&deep, 1));
    }

    /// A document of arrays and objects whose members are often `_placeholder` and `num`;
    /// `dup` is set when an object repeats a key.
    fn gen_placeholders(rng: &mut Rng, depth: usize, out: &mut String, dup: &mut bool) {
        const SCALARS: &[&str] = &[
            "0",
            "1",
            "2",
            "3",
            "-1",
            "1.0",
            "1e0",
            "0.5",
            r#""0""#,
            "true",
            "false",
            "null",
            "99999999999999999999",
        ];
        const KEYS: &[&str] =
            &[r#""_placeholder""#, r#""num""#, r#""_placeholder""#, r#""num""#, r#""x""#, r#""y""#];
        match if depth == 0 { 0 } else { rng.below(5) } {
            0 => out.push_str(SCALARS[rng.below(SCALARS.len())]),
            1 => {
                out.push('[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    gen_placeholders(rng, depth - 1, out, dup);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                let mut seen = Vec::new();
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    let k = rng.below(KEYS.len());
                    // The escaped spellings (2 and 3) are the same keys as 0 and 1.
                    let name = if k < 4 { k % 2 } else { k };
                    *dup |= seen.contains(&name);
                    seen.push(name);
                    out.push_str(KEYS[k]);
                    out.push(':');
                    if name == 0 && rng.below(2) == 0 {
                        out.push_str("true");
                    } else {
                        gen_placeholders(rng, depth - 1, out, dup);
                    }
                }
                out.push('}');
            }
        }
    }

    #[test]
    fn placeholder_check_agrees_with_the_reference_on_generated_documents() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..40_000 {
            let mut doc = String::from("[\"ev\",");
            let mut dup = false;
            gen_placeholders(&mut rng, 4, &mut doc, &mut dup);
            doc.push(']');
            let v: serde_json::Value = serde_json::from_str(&doc).expect("generated JSON");
            for n in 1..4 {
                let ours = check_placeholders(doc.as_bytes(), n).expect("valid JSON");
                let reference = reference_placeholders_ok(&v, n);
                if dup {
                    // With repeated keys this check may refuse more (it does not keep track of
                    // which value of a repeated key survives), never less.
                    assert!(!ours || reference, "{doc} with {n} attachments");
                } else {
                    assert_eq!(ours, reference, "{doc} with {n} attachments");
                }
                if ours { valid += 1 } else { invalid += 1 }
            }
        }
        assert!(valid > 10_000 && invalid > 10_000, "{valid} valid, {invalid} invalid");
    }
}
