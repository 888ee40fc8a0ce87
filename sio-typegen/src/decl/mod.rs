//! The declarations of payload types, re-rendered from what ts-rs writes
//! (`type Point = { x: number, y: number, };` on one line, JSDoc flush left) as hand-written
//! TypeScript, in the form of the side that sends the type: a client need not send an `Option`
//! field (`f?: T | null`), a server always does (`f: T | null`).
//!
//! It reads only the part of TypeScript's type syntax that ts-rs produces; a declaration it
//! cannot read (a `#[ts(type = "...")]` override outside it, a TypeScript `enum`) is kept as
//! ts-rs wrote it. So is one whose rewritten text would not read back as the same type.

mod parse;
mod print;

use parse::Ty;

/// Who sends the values of a type, which decides how its `Option` fields are declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    /// The client sends it (an event argument, the auth payload, an ack reply to a server
    /// event), or both sides do: serde accepts an `Option` field missing, so it is optional
    /// (`f?: T | null`).
    Client,
    /// Only the server sends it: serde writes every field, `None` as `null` (`f: T | null`).
    Server,
}

/// `decl` (`type Name = ...;`) laid out by hand-written conventions, in `sender`'s form;
/// `None` when it is outside what this reads (the caller keeps ts-rs's text).
pub(crate) fn format(decl: &str, sender: Sender) -> Option<String> {
    let mut d = parse::decl(decl)?;
    if sender == Sender::Client {
        optional_fields(&mut d.ty);
    }
    let text = print::decl(&d);
    // A bug in the printer must not change a type: what it writes has to read back the same.
    (parse::decl(&text).as_ref() == Some(&d) && !text.lines().any(|l| l.ends_with(' '))).then_some(text)
}

/// A type expression as ts-rs names it (`{ Ok : number } | { Err : string }`,
/// `{ start: number, end: number, }`) on one line in this module's style
/// (`{ Ok: number } | { Err: string }`); unchanged when it is outside what this reads.
pub(crate) fn inline(ty: &str) -> String {
    let tidy = parse::ty(ty).and_then(|t| print::flat(&t).filter(|text| parse::ty(text) == Some(t)));
    tidy.unwrap_or_else(|| ty.to_owned())
}

/// Marks optional every field (of every object type in `ty`) whose type is a union ending in
/// `null`: ts-rs writes an `Option<T>` field as `f: T | null`; `#[ts(optional)]` fields are
/// already `f?:`.
fn optional_fields(ty: &mut Ty<'_>) {
    match ty {
        Ty::Object(members) => {
            // `{ Ok: T } | { Err: E }` is ts-rs's `Result`: the key must be there.
            let result = matches!(&members[..], [m] if m.key == "Ok" || m.key == "Err");
            for m in members.iter_mut() {
                let nullable = matches!(&m.ty, Ty::Union(v) if v.last() == Some(&Ty::Atom("null")));
                if nullable && m.is_field() && !result {
                    m.optional = true;
                }
                optional_fields(&mut m.ty);
            }
        }
        Ty::Union(items) | Ty::Intersection(items) | Ty::Tuple(items) | Ty::Generic(_, items) => {
            items.iter_mut().for_each(optional_fields)
        }
        Ty::Paren(inner) | Ty::ArrayOf(inner) => optional_fields(inner),
        Ty::Atom(_) => {}
    }
}

#[cfg(test)]
mod tests;
