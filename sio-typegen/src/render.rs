//! Renders namespaces' schemas as one TypeScript module.

use std::fmt::Write as _;

use sio_core::schema::{ArgSchema, Declaration, Declarations, NamespaceSchema, TypeRef};
use ts_rs::Config;

use crate::decl::{self, Sender};
use crate::jsdoc;

/// Words TypeScript refuses as parameter names.
const TS_RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

fn param_name(name: &str, taken: &[String]) -> String {
    let mut n: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$').collect();
    if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert_str(0, "arg");
    }
    while TS_RESERVED.contains(&n.as_str()) || taken.contains(&n) {
        n.push('_');
    }
    n
}

fn type_name(rust_name: &str) -> String {
    let last = rust_name.rsplit("::").next().unwrap_or(rust_name);
    let clean: String = last.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if clean.is_empty() { "Namespace".to_owned() } else { clean }
}

/// The TypeScript type of `t`, tidied as the declarations are (`{ Ok: number }`).
fn ts(t: &TypeRef, cfg: &Config) -> String {
    decl::inline(&t.ts(cfg))
}

/// `(a: A, b?: B | null, ack: (reply: R) => void) => void`
/// `spread`: the reply is the callback's arguments, as many as the server sends
/// (`(...reply: unknown[]) => void`).
fn signature(
    args: &[ArgSchema],
    ack: Option<&TypeRef>,
    spread: bool,
    ack_name: &str,
    cfg: &Config,
) -> String {
    let mut taken = Vec::new();
    let mut params = Vec::new();
    // Only trailing `Option`s may be left out.
    let optional_from = args.iter().rposition(|a| !a.optional).map_or(0, |i| i + 1);
    let has_rest = args.iter().any(|a| a.rest);
    for (i, a) in args.iter().enumerate() {
        let name = param_name(a.name, &taken);
        taken.push(name.clone());
        let ty = ts(&a.ty, cfg);
        if a.rest {
            params.push(format!("...{name}: unknown[]"));
        } else if i >= optional_from && !has_rest && ack.is_none() {
            params.push(format!("{name}?: {ty}"));
        } else {
            params.push(format!("{name}: {ty}"));
        }
    }
    if let Some(ack) = ack {
        let name = param_name(ack_name, &taken);
        let callback = if spread {
            format!("{name}: (...reply: unknown[]) => void")
        } else {
            format!("{name}: (reply: {}) => void", ts(ack, cfg))
        };
        match params.last_mut() {
            // TypeScript allows nothing after a rest parameter, but a rest of a labelled tuple
            // type may end with the ack: `...rest: [...rest: unknown[], ack: (reply: R) => void]`.
            Some(last) if has_rest => {
                let rest_name = last.trim_start_matches("...").split(':').next().unwrap_or("rest").to_owned();
                *last = format!("...{rest_name}: [...{rest_name}: unknown[], {callback}]");
            }
            _ => params.push(callback),
        }
    }
    format!("({}) => void", params.join(", "))
}

fn make_cfg(large_int: &str) -> Config {
    Config::new().with_large_int(large_int)
}

/// `export type Name = ...;` with its JSDoc, laid out by [`decl::format`] (or as ts-rs wrote
/// it, when that cannot read it).
fn declaration(out: &mut String, d: &Declaration, sender: Sender) {
    // ts-rs renders type docs as a ready JSDoc block; it is written again in this module's
    // style.
    if let Some(docs) = d.docs.as_deref() {
        jsdoc::write(out, &jsdoc::text(docs), "");
    }
    let raw = d.decl.trim();
    // ts-rs may put a doc comment first; `export` goes on the `type` line.
    let (docs, raw) = match raw.find("\ntype ") {
        Some(i) if raw.starts_with("/**") => (&raw[..i], &raw[i + 1..]),
        _ => ("", raw),
    };
    jsdoc::write(out, &jsdoc::text(docs), "");
    match decl::format(raw, sender) {
        Some(text) => {
            let _ = writeln!(out, "export {text}");
        }
        // Its field docs leave trailing spaces, which are dropped.
        None => {
            let text: Vec<&str> = raw.lines().map(str::trim_end).collect();
            let _ = writeln!(out, "export {}", text.join("\n"));
        }
    }
}

pub(crate) fn module(namespaces: &[NamespaceSchema], cfg: Config) -> String {
    let large_int = cfg.large_int().to_owned();
    let mut decls = Declarations::new(cfg);
    for ns in namespaces {
        if let Some(a) = &ns.auth {
            a.declare(&mut decls);
        }
        for ev in &ns.events {
            ev.args.iter().for_each(|a| a.ty.declare(&mut decls));
            if let Some(a) = &ev.ack {
                a.declare(&mut decls);
            }
        }
        for ev in &ns.server_events {
            ev.args.iter().for_each(|a| a.ty.declare(&mut decls));
            if let Some(a) = &ev.ack {
                a.declare(&mut decls);
            }
        }
    }
    let cfg = make_cfg(&large_int);
    let decls = decls.into_vec();

    let mut out = String::new();
    let sources: Vec<String> =
        namespaces.iter().map(|n| format!("{} ({})", type_name(n.rust_name), n.path)).collect();
    let _ = writeln!(out, "// Generated by sio-typegen from the Rust definitions of {}.", sources.join(", "));
    let _ = writeln!(
        out,
        "// Do not edit: regenerate it with `sio_typegen::Typegen::write`; a test checks it is current."
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        r#"import {{ io, type ManagerOptions, type Socket, type SocketOptions }} from "socket.io-client";"#
    );

    for d in &decls {
        let _ = writeln!(out);
        declaration(&mut out, d, Sender::Server);
    }

    for ns in namespaces {
        let name = type_name(ns.rust_name);
        let _ = writeln!(out);
        let _ = writeln!(out, "/** Events the server emits on `{}`. */", ns.path);
        let _ = writeln!(out, "export interface {name}ServerToClientEvents {{");
        for ev in &ns.server_events {
            jsdoc::write(&mut out, ev.docs, "  ");
            let sig = signature(&ev.args, ev.ack.as_ref(), false, "callback", &cfg);
            let _ = writeln!(out, "  {}: {sig};", quote(ev.name));
        }
        let _ = writeln!(out, "}}");
        let _ = writeln!(out);
        let _ = writeln!(out, "/** Events the server handles on `{}`. */", ns.path);
        let _ = writeln!(out, "export interface {name}ClientToServerEvents {{");
        for ev in &ns.events {
            jsdoc::write(&mut out, ev.docs, "  ");
            let sig = signature(&ev.args, ev.ack.as_ref(), ev.ack_spread, "ack", &cfg);
            let _ = writeln!(out, "  {}: {sig};", quote(ev.name));
        }
        let _ = writeln!(out, "}}");
        let _ = writeln!(out);
        let docs =
            if ns.docs.is_empty() { format!("A client of `{}`.", ns.path) } else { ns.docs.to_owned() };
        jsdoc::write(&mut out, &docs, "");
        let _ = writeln!(
            out,
            "export type {name}Socket = Socket<{name}ServerToClientEvents, {name}ClientToServerEvents>;"
        );
        let _ = writeln!(out);
        let (opts, auth_note) = match &ns.auth {
            Some(a) if a.is_option() => (
                format!(
                    "opts?: Partial<ManagerOptions & SocketOptions> & {{ auth?: {} }}",
                    decl::inline(&a.ts_unwrapped(&cfg))
                ),
                "",
            ),
            Some(a) => (
                format!("opts: Partial<ManagerOptions & SocketOptions> & {{ auth: {} }}", ts(a, &cfg)),
                " `opts.auth` is the payload the connect handler expects.",
            ),
            None => ("opts?: Partial<ManagerOptions & SocketOptions>".to_owned(), ""),
        };
        jsdoc::write(
            &mut out,
            &format!(
                "Connects to `{}` on `url` (the server's origin, `\"\"` for the page's own).{auth_note}",
                ns.path
            ),
            "",
        );
        let _ = writeln!(out, "export function connect{name}(url: string, {opts}): {name}Socket {{");
        let _ = writeln!(out, "  return io(url + {}, opts);", quote(ns.path));
        let _ = writeln!(out, "}}");
    }
    out
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(q, "\\u{:04x}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}
