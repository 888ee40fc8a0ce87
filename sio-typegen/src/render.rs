//! Renders namespaces' schemas as one TypeScript module.

mod timeout;

use std::fmt::Write as _;

use std::collections::HashSet;

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

/// One parameter: `name: T`, `name?: T`, `...name: unknown[]`.
struct Param {
    name: String,
    ty: String,
    rest: bool,
}

impl Param {
    fn render(&self, optional: bool) -> String {
        match (self.rest, optional) {
            (true, _) => format!("...{}: unknown[]", self.name),
            (false, true) => format!("{}?: {}", self.name, self.ty),
            (false, false) => format!("{}: {}", self.name, self.ty),
        }
    }
}

fn params(args: &[ArgSchema], taken: &mut Vec<String>, cfg: &Config) -> Vec<Param> {
    args.iter()
        .map(|a| {
            let name = param_name(a.name, taken);
            taken.push(name.clone());
            Param { name, ty: ts(&a.ty, cfg), rest: a.rest }
        })
        .collect()
}

/// The type of a client-to-server event in its events map.
///
/// - `(a: A, b?: B | null) => void`: trailing `Option` arguments may be left out.
/// - `(a: A, ack: (reply: R) => void) => void`: an ack is a required trailing callback.
/// - `(...args: [a: A, ack: (reply: R) => void] | [a: A, b: B | null, ack: (reply: R) => void]) => void`:
///   with an ack, each way of leaving trailing `Option`s out is one tuple of a rest parameter.
///   Overloads would say the same to a reader, but socket.io-client reads an event's
///   parameters with `Parameters<>`, which sees only an overloaded function's last signature;
///   a union of tuples is what its `emit`, `emitWithAck` (`AllButLast`, `Last`) and `timeout`
///   (`PrependTimeoutError`, mapped over each tuple) all keep.
/// - `(kind: K, ...rest: [...rest: unknown[], ack: (reply: R) => void]) => void`: a rest
///   argument ([`RawArgs`](sio_core::RawArgs)) before the ack.
/// - `ack: (...reply: unknown[]) => void` when the reply is the ack's arguments as they are
///   (`spread`).
fn client_event(args: &[ArgSchema], ack: Option<&TypeRef>, spread: bool, cfg: &Config) -> String {
    let mut taken = Vec::new();
    let params = params(args, &mut taken, cfg);
    let has_rest = params.iter().any(|p| p.rest);
    // Only trailing `Option`s may be left out (serde reads a missing one as `None`).
    let omittable_from = if has_rest {
        args.len()
    } else {
        args.iter().rposition(|a| !(a.optional || a.ty.is_option())).map_or(0, |i| i + 1)
    };
    let Some(ack) = ack else {
        let list: Vec<String> =
            params.iter().enumerate().map(|(i, p)| p.render(i >= omittable_from)).collect();
        return format!("({}) => void", list.join(", "));
    };
    let name = param_name("ack", &taken);
    let callback = if spread {
        format!("{name}: (...reply: unknown[]) => void")
    } else {
        format!("{name}: (reply: {}) => void", ts(ack, cfg))
    };
    let mut list: Vec<String> = params.iter().map(|p| p.render(false)).collect();
    match params.last() {
        // TypeScript allows nothing after a rest parameter, but a rest of a labelled tuple
        // type may end with the ack: `...rest: [...rest: unknown[], ack: (reply: R) => void]`.
        Some(last) if has_rest => {
            let rest = &last.name;
            list.pop();
            list.push(format!("...{rest}: [...{rest}: unknown[], {callback}]"));
        }
        _ if omittable_from < params.len() => {
            let tuples: Vec<String> = (omittable_from..=params.len())
                .map(|n| {
                    let mut items = list[..n].to_vec();
                    items.push(callback.clone());
                    format!("[{}]", items.join(", "))
                })
                .collect();
            let rest = param_name("args", &[]);
            return format!("(...{rest}: {}) => void", tuples.join(" | "));
        }
        _ => list.push(callback),
    }
    format!("({}) => void", list.join(", "))
}

/// The type of a server-to-client event in its events map: every argument is sent (`None` as
/// `null`), then the ack callback the listener answers with, if any.
fn server_event(args: &[ArgSchema], ack: Option<&TypeRef>, cfg: &Config) -> String {
    let mut taken = Vec::new();
    let mut list: Vec<String> = params(args, &mut taken, cfg).iter().map(|p| p.render(false)).collect();
    if let Some(ack) = ack {
        list.push(format!("{}: (reply: {}) => void", param_name("callback", &taken), ts(ack, cfg)));
    }
    format!("({}) => void", list.join(", "))
}

fn make_cfg(large_int: &str) -> Config {
    Config::new().with_large_int(large_int)
}

/// Every type the namespaces use, dependencies first, each with the side that sends it.
fn declarations(namespaces: &[NamespaceSchema], large_int: &str) -> Vec<(Declaration, Sender)> {
    let mut all = Declarations::new(make_cfg(large_int));
    // What the client sends; a type in it is declared in the client's form even if the server
    // sends it too (see `Sender::Client`).
    let mut client = Declarations::new(make_cfg(large_int));
    for ns in namespaces {
        // What the client sends: the auth payload, the arguments of its events, its replies
        // to the server's events.
        ns.auth.iter().for_each(|t| t.declare(&mut client));
        for ev in &ns.events {
            ev.args.iter().for_each(|a| a.ty.declare(&mut client));
        }
        for ev in &ns.server_events {
            ev.ack.iter().for_each(|t| t.declare(&mut client));
        }
        // Everything, in the order first met (auth, then each event's arguments and ack).
        ns.auth.iter().for_each(|t| t.declare(&mut all));
        for ev in &ns.events {
            ev.args.iter().for_each(|a| a.ty.declare(&mut all));
            ev.ack.iter().for_each(|t| t.declare(&mut all));
        }
        for ev in &ns.server_events {
            ev.args.iter().for_each(|a| a.ty.declare(&mut all));
            ev.ack.iter().for_each(|t| t.declare(&mut all));
        }
    }
    let client: HashSet<String> = client.into_vec().into_iter().map(|d| d.name).collect();
    all.into_vec()
        .into_iter()
        .map(|d| {
            let sender = if client.contains(&d.name) { Sender::Client } else { Sender::Server };
            (d, sender)
        })
        .collect()
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
    let decls = declarations(namespaces, &large_int);
    let cfg = make_cfg(&large_int);

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

    for (d, sender) in &decls {
        let _ = writeln!(out);
        declaration(&mut out, d, *sender);
    }

    for ns in namespaces {
        let name = type_name(ns.rust_name);
        let _ = writeln!(out);
        let _ = writeln!(out, "/** Events the server emits on `{}`. */", ns.path);
        let _ = writeln!(out, "export interface {name}ServerToClientEvents {{");
        for ev in &ns.server_events {
            jsdoc::write(&mut out, ev.docs, "  ");
            let sig = server_event(&ev.args, ev.ack.as_ref(), &cfg);
            let _ = writeln!(out, "  {}: {sig};", quote(ev.name));
        }
        let _ = writeln!(out, "}}");
        let _ = writeln!(out);
        let _ = writeln!(out, "/** Events the server handles on `{}`. */", ns.path);
        let _ = writeln!(out, "export interface {name}ClientToServerEvents {{");
        for ev in &ns.events {
            jsdoc::write(&mut out, ev.docs, "  ");
            let sig = client_event(&ev.args, ev.ack.as_ref(), ev.ack_spread, &cfg);
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
    if !namespaces.is_empty() {
        let _ = writeln!(out);
        timeout::helper(&mut out, namespaces, &cfg);
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
