//! Writes a [`Decl`] the way it would be written by hand (as prettier lays it out): the
//! declared object type one member per line with its JSDoc above it, a nested type on one line
//! when it fits and holds no documented member, a union that does not fit one variant per line
//! (`| A`), 2-space indentation, `;` after each member, no trailing whitespace.

use super::parse::{Decl, Member, Ty};
use crate::jsdoc;

/// The line width a type is kept within when it can be (a long name may still pass it).
const WIDTH: usize = 100;

/// `type Name = ...;`
pub(crate) fn decl(d: &Decl<'_>) -> String {
    let mut p = Printer { out: String::new() };
    p.out.push_str("type ");
    p.out.push_str(d.head);
    p.out.push_str(" =");
    match &d.ty {
        // The declared object type is always one member per line, as it would be written.
        Ty::Object(members) if !members.is_empty() => {
            p.out.push(' ');
            p.object(members, 0);
        }
        ty => p.after_colon(ty, 0),
    }
    p.out.push(';');
    p.out
}

struct Printer {
    out: String,
}

impl Printer {
    /// The column the next character goes to.
    fn column(&self) -> usize {
        self.out[self.out.rfind('\n').map_or(0, |i| i + 1)..].chars().count()
    }

    /// Whether `text` and one more character (`;`, `,`) fit on the current line.
    fn fits(&self, text: &str) -> bool {
        self.column() + text.chars().count() < WIDTH
    }

    fn newline(&mut self, indent: usize) {
        self.out.push('\n');
        self.out.extend(std::iter::repeat_n(' ', indent));
    }

    /// Continues on a line indented by `indent`: this one if nothing but indentation is on it
    /// yet, else a new one.
    fn line(&mut self, indent: usize) {
        let start = self.out.rfind('\n').map_or(0, |i| i + 1);
        if self.out[start..].bytes().all(|b| b == b' ') {
            self.out.truncate(start);
            self.out.extend(std::iter::repeat_n(' ', indent));
        } else {
            self.newline(indent);
        }
    }

    /// After `key:` or `Name =`: ` A` on the same line, or a long union as its variants on the
    /// lines below (`| A`), 2 deeper than `indent`.
    fn after_colon(&mut self, ty: &Ty<'_>, indent: usize) {
        if let Some(text) = flat(ty).filter(|t| self.fits(&format!(" {t}"))) {
            self.out.push(' ');
            self.out.push_str(&text);
            return;
        }
        match ty {
            Ty::Union(variants) => self.variants(variants, indent + 2),
            _ => {
                self.out.push(' ');
                self.write(ty, indent);
            }
        }
    }

    /// Each variant on its own line at `indent`: `| A`; an object variant's members 4 deeper.
    fn variants(&mut self, variants: &[Ty<'_>], indent: usize) {
        for v in variants {
            self.line(indent);
            self.out.push_str("| ");
            self.write(v, indent + 2);
        }
    }

    /// `ty` from the current column; the lines it breaks onto are indented from `indent`.
    fn write(&mut self, ty: &Ty<'_>, indent: usize) {
        if let Some(text) = flat(ty).filter(|t| self.fits(t)) {
            self.out.push_str(&text);
            return;
        }
        match ty {
            Ty::Object(members) => self.object(members, indent),
            Ty::Union(variants) => {
                self.variants(variants, indent + 2);
                self.newline(indent);
            }
            Ty::Intersection(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(" & ");
                    }
                    self.write(part, indent);
                }
            }
            Ty::Tuple(elems) => {
                self.out.push('[');
                for e in elems {
                    self.newline(indent + 2);
                    match e {
                        Ty::Union(variants) if flat(e).is_none() => self.variants(variants, indent + 2),
                        e => self.write(e, indent + 2),
                    }
                    self.out.push(',');
                }
                self.newline(indent);
                self.out.push(']');
            }
            Ty::Generic(name, args) => {
                self.out.push_str(name);
                self.out.push('<');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.write(a, indent);
                }
                self.out.push('>');
            }
            Ty::Paren(inner) => {
                self.out.push('(');
                match &**inner {
                    Ty::Union(variants) => {
                        self.variants(variants, indent + 2);
                        self.newline(indent);
                    }
                    inner => self.write(inner, indent),
                }
                self.out.push(')');
            }
            Ty::ArrayOf(inner) => {
                self.write(inner, indent);
                self.out.push_str("[]");
            }
            Ty::Atom(a) => self.out.push_str(a),
        }
    }

    /// `{`, each member on its own line (its JSDoc above it) 2 deeper than `indent`, `}`.
    fn object(&mut self, members: &[Member<'_>], indent: usize) {
        self.out.push('{');
        let pad = " ".repeat(indent + 2);
        for m in members {
            self.out.push('\n');
            jsdoc::write(&mut self.out, &m.docs, &pad);
            self.out.push_str(&pad);
            self.out.push_str(&m.key);
            if m.optional {
                self.out.push('?');
            }
            self.out.push(':');
            self.after_colon(&m.ty, indent + 2);
            self.out.push(';');
        }
        self.newline(indent);
        self.out.push('}');
    }
}

/// `ty` on one line; `None` when it holds a documented member (its JSDoc needs lines).
pub(crate) fn flat(ty: &Ty<'_>) -> Option<String> {
    let list = |items: &[Ty<'_>], sep: &str| -> Option<String> {
        Some(items.iter().map(flat).collect::<Option<Vec<_>>>()?.join(sep))
    };
    Some(match ty {
        Ty::Object(members) if members.is_empty() => "{}".to_owned(),
        Ty::Object(members) => {
            let mut parts = Vec::with_capacity(members.len());
            for m in members {
                if !m.docs.is_empty() {
                    return None;
                }
                parts.push(format!("{}{}: {}", m.key, if m.optional { "?" } else { "" }, flat(&m.ty)?));
            }
            format!("{{ {} }}", parts.join("; "))
        }
        Ty::Union(variants) => list(variants, " | ")?,
        Ty::Intersection(parts) => list(parts, " & ")?,
        Ty::Tuple(elems) => format!("[{}]", list(elems, ", ")?),
        Ty::Generic(name, args) => format!("{name}<{}>", list(args, ", ")?),
        Ty::Paren(inner) => format!("({})", flat(inner)?),
        Ty::ArrayOf(inner) => format!("{}[]", flat(inner)?),
        Ty::Atom(a) => (*a).to_owned(),
    })
}
