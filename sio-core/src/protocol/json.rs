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
}
