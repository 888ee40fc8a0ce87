//! Reads a declaration as ts-rs writes it (`type Name<T> = <type>;`) into a [`Decl`]: the subset
//! of TypeScript's type syntax that ts-rs produces (object types, unions, intersections,
//! tuples, generic references, literals). Anything else is `None`: the caller keeps the text.

use crate::jsdoc;

/// `type Name<Generics> = ty;`
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decl<'a> {
    /// `Name`, or `Name<T, U = number>` (as written).
    pub(crate) head: &'a str,
    pub(crate) ty: Ty<'a>,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty<'a> {
    /// `{ a: A, b?: B }`
    Object(Vec<Member<'a>>),
    /// `A | B` (two or more).
    Union(Vec<Ty<'a>>),
    /// `A & B` (two or more).
    Intersection(Vec<Ty<'a>>),
    /// `[A, B]`
    Tuple(Vec<Ty<'a>>),
    /// `Name<A, B>`
    Generic(&'a str, Vec<Ty<'a>>),
    /// `(A)`
    Paren(Box<Ty<'a>>),
    /// `A[]`
    ArrayOf(Box<Ty<'a>>),
    /// A name, keyword or literal: `Point`, `number`, `null`, `"circle"`, `42`.
    Atom(&'a str),
}

/// One member of an object type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member<'a> {
    /// Its JSDoc's text (empty: none).
    pub(crate) docs: String,
    /// `name`, `"name"` (as written), `[key in K]` or `[key: K]`.
    pub(crate) key: String,
    /// Written `key?:`.
    pub(crate) optional: bool,
    pub(crate) ty: Ty<'a>,
}

impl Member<'_> {
    /// Whether the member is a struct's field. Not: a mapped type or index signature
    /// (`[key in K]`); a key quoted although it is an identifier, which ts-rs writes only for an
    /// enum's representation (`"kind": "circle"`, `{ "Variant": T }`, `"c": T`), where serde
    /// does not accept the key missing.
    pub(crate) fn is_field(&self) -> bool {
        match self.key.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
            Some(inner) => !is_identifier(inner),
            None => !self.key.starts_with('['),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    /// One of `{}[]()<>,;:|&?=`.
    Punct(char),
    /// A quoted string, quotes included.
    Str(&'a str),
    /// An identifier, keyword or number.
    Word(&'a str),
    /// A `/** ... */` comment.
    Doc(&'a str),
}

/// Splits `src` into tokens, each with the byte offset where it starts; `None` at anything
/// outside the subset (a line comment, a template literal, an operator such as `=>`).
fn tokens(src: &str) -> Option<Vec<(Tok<'_>, usize)>> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if src[i..].starts_with("/**") => {
                i = src[i + 3..].find("*/")? + i + 5;
                Tok::Doc(&src[start..i])
            }
            b'"' | b'\'' => {
                i += 1;
                loop {
                    match *bytes.get(i)? {
                        b'\\' => i += 2,
                        b'\n' => return None,
                        q if q == c => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                Tok::Str(&src[start..i])
            }
            b'=' if bytes.get(i + 1) == Some(&b'>') => return None,
            b'{' | b'}' | b'[' | b']' | b'(' | b')' | b'<' | b'>' | b',' | b';' | b':' | b'|' | b'&'
            | b'?' | b'=' => {
                i += 1;
                Tok::Punct(char::from(c))
            }
            _ if is_word_byte(c) || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) => {
                i += 1;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                Tok::Word(&src[start..i])
            }
            _ => return None,
        };
        out.push((tok, start));
    }
    Some(out)
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'.'
}

/// Whether `s` can be an object key without quotes.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Words that start type syntax outside the subset (`keyof T`, `typeof x`, `infer U`...).
const UNSUPPORTED_WORDS: &[&str] =
    &["keyof", "typeof", "infer", "readonly", "unique", "asserts", "is", "new"];

/// Reads `[export] type Name<..> = ty;` (nothing after it).
pub(crate) fn decl(src: &str) -> Option<Decl<'_>> {
    let mut p = Parser { src, toks: tokens(src)?, pos: 0 };
    if p.peek() == Some(Tok::Word("export")) {
        p.pos += 1;
    }
    p.expect(Tok::Word("type"))?;
    let start = p.offset();
    let Tok::Word(name) = p.next()? else { return None };
    if !is_identifier(name) {
        return None;
    }
    if p.peek() == Some(Tok::Punct('<')) {
        // Generic parameters, kept as written (`<T, U = number>`).
        let mut depth = 0;
        loop {
            match p.next()? {
                Tok::Punct('<') => depth += 1,
                Tok::Punct('>') => depth -= 1,
                Tok::Doc(_) => return None,
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
    }
    let head = src[start..p.offset()].trim_end();
    if head.contains('\n') {
        return None;
    }
    p.expect(Tok::Punct('='))?;
    let ty = p.ty()?;
    p.expect(Tok::Punct(';'))?;
    if p.peek().is_some() {
        return None;
    }
    Some(Decl { head, ty })
}

/// Reads a type expression alone (`{ Ok : number } | { Err : string }`).
pub(crate) fn ty(src: &str) -> Option<Ty<'_>> {
    let mut p = Parser { src, toks: tokens(src)?, pos: 0 };
    let ty = p.ty()?;
    p.peek().is_none().then_some(ty)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<(Tok<'a>, usize)>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).map(|t| t.0)
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        let t = self.peek()?;
        self.pos += 1;
        Some(t)
    }

    fn eat(&mut self, t: Tok<'a>) -> bool {
        let found = self.peek() == Some(t);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, t: Tok<'a>) -> Option<()> {
        self.eat(t).then_some(())
    }

    /// Where the next token starts (the source's end after the last).
    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.src.len(), |t| t.1)
    }

    /// `['|'] A ('|' B)*`
    fn ty(&mut self) -> Option<Ty<'a>> {
        self.eat(Tok::Punct('|'));
        let mut variants = vec![self.intersection()?];
        while self.eat(Tok::Punct('|')) {
            variants.push(self.intersection()?);
        }
        Some(if variants.len() == 1 { variants.pop()? } else { Ty::Union(variants) })
    }

    /// `A ('&' B)*`
    fn intersection(&mut self) -> Option<Ty<'a>> {
        let mut parts = vec![self.postfix()?];
        while self.eat(Tok::Punct('&')) {
            parts.push(self.postfix()?);
        }
        Some(if parts.len() == 1 { parts.pop()? } else { Ty::Intersection(parts) })
    }

    /// `A` or `A[]`...
    fn postfix(&mut self) -> Option<Ty<'a>> {
        let mut ty = self.primary()?;
        while self.peek() == Some(Tok::Punct('['))
            && self.toks.get(self.pos + 1).map(|t| t.0) == Some(Tok::Punct(']'))
        {
            self.pos += 2;
            ty = Ty::ArrayOf(Box::new(ty));
        }
        Some(ty)
    }

    fn primary(&mut self) -> Option<Ty<'a>> {
        match self.next()? {
            Tok::Punct('{') => self.object(),
            Tok::Punct('[') => {
                let mut elems = Vec::new();
                while !self.eat(Tok::Punct(']')) {
                    elems.push(self.ty()?);
                    if !self.eat(Tok::Punct(',')) {
                        self.expect(Tok::Punct(']'))?;
                        break;
                    }
                }
                Some(Ty::Tuple(elems))
            }
            Tok::Punct('(') => {
                let inner = self.ty()?;
                self.expect(Tok::Punct(')'))?;
                Some(Ty::Paren(Box::new(inner)))
            }
            Tok::Str(s) => Some(Ty::Atom(s)),
            Tok::Word(w) if UNSUPPORTED_WORDS.contains(&w) => None,
            Tok::Word(w) if self.eat(Tok::Punct('<')) => {
                let mut args = vec![self.ty()?];
                while self.eat(Tok::Punct(',')) {
                    args.push(self.ty()?);
                }
                self.expect(Tok::Punct('>'))?;
                Some(Ty::Generic(w, args))
            }
            Tok::Word(w) => Some(Ty::Atom(w)),
            Tok::Punct(_) | Tok::Doc(_) => None,
        }
    }

    /// After `{`: `(docs* key '?'? ':' ty (',' | ';')?)* '}'`.
    fn object(&mut self) -> Option<Ty<'a>> {
        let mut members = Vec::new();
        loop {
            let mut docs = Vec::new();
            while let Some(Tok::Doc(d)) = self.peek() {
                self.pos += 1;
                docs.push(jsdoc::text(d));
            }
            if docs.is_empty() && self.eat(Tok::Punct('}')) {
                return Some(Ty::Object(members));
            }
            let key = self.key()?;
            let optional = self.eat(Tok::Punct('?'));
            self.expect(Tok::Punct(':'))?;
            let ty = self.ty()?;
            members.push(Member { docs: docs.join("\n\n"), key, optional, ty });
            if !self.eat(Tok::Punct(',')) && !self.eat(Tok::Punct(';')) {
                self.expect(Tok::Punct('}'))?;
                return Some(Ty::Object(members));
            }
        }
    }

    /// `name`, `"name"`, `[key in K]`, `[key: K]`.
    fn key(&mut self) -> Option<String> {
        match self.next()? {
            Tok::Word(w) if is_identifier(w) => Some(w.to_owned()),
            Tok::Str(s) => Some(s.to_owned()),
            Tok::Punct('[') => {
                let Tok::Word(var) = self.next()? else { return None };
                let sep = match self.next()? {
                    Tok::Word("in") => " in ",
                    Tok::Punct(':') => ": ",
                    _ => return None,
                };
                let Tok::Word(k) = self.next()? else { return None };
                if !is_identifier(var) || !is_identifier(k) {
                    return None;
                }
                self.expect(Tok::Punct(']'))?;
                Some(format!("[{var}{sep}{k}]"))
            }
            _ => None,
        }
    }
}
