//! `emitWithTimeout`: an event's ack reply with a timeout, typed. socket.io-client types
//! `socket.timeout(ms).emitWithAck(..)` as `Promise<any>` (its `FirstArg<>` does not match the
//! `(err, reply)` callback that `timeout()` makes of the ack), so the module declares the same
//! call with a signature that reads the reply off the socket's events map.

use std::fmt::Write as _;

use sio_core::schema::NamespaceSchema;
use ts_rs::Config;

use super::{param_name, quote};
use crate::jsdoc;

/// The function, after the namespaces: one generic function for every socket of the module.
///
/// Its type parameters, in TypeScript:
/// - `Ev` is an event of the socket whose last parameter is an ack callback of one argument
///   (`string &` keeps the event name a literal type while inferring it); an event without an
///   ack, or whose reply is the ack's arguments as they are, is not one.
/// - `...args` are that event's parameters but the last, and the promise resolves to the
///   ack's argument type. Both take the union of tuples of an event with trailing `Option`s
///   apart one tuple at a time (`infer P` makes the conditional distribute): inferred from the
///   whole union at once, the reply would be the intersection of its copies.
pub(super) fn helper(out: &mut String, namespaces: &[NamespaceSchema], cfg: &Config) {
    let mut docs = String::from(
        "Emits `ev` with `args` on `socket` and resolves to the server's reply, typed as the\n\
         event's ack; rejects with an `Error` when no reply comes within `ms` milliseconds.\n\
         It is `socket.timeout(ms).emitWithAck(ev, ...args)`, which socket.io-client types as\n\
         `Promise<any>`.\n\n\
         Only an event the server replies to is accepted, with its arguments and no callback.",
    );
    if let Some(example) = example(namespaces, cfg) {
        let _ = write!(docs, "\n\n@example\n{example}");
    }
    jsdoc::write(out, &docs, "");
    out.push_str(SIGNATURE_AND_BODY);
}

/// `const reply = await emitWithTimeout(socket, 5000, "history", page); // Page<Shape>` for the
/// first event with a typed ack.
fn example(namespaces: &[NamespaceSchema], cfg: &Config) -> Option<String> {
    let (ns, ev) = namespaces
        .iter()
        .flat_map(|ns| ns.events.iter().map(move |ev| (ns, ev)))
        .find(|(_, ev)| ev.ack.is_some() && !ev.ack_spread && !ev.args.iter().any(|a| a.rest))?;
    let mut taken = Vec::new();
    let mut call = format!("emitWithTimeout(socket, 5000, {}", quote(ev.name));
    for a in &ev.args {
        let name = param_name(a.name, &taken);
        let _ = write!(call, ", {name}");
        taken.push(name);
    }
    let reply = super::ts(ev.ack.as_ref()?, cfg);
    let socket = super::type_name(ns.rust_name);
    Some(format!(
        "// socket: {socket}Socket\nconst reply: {reply} = await {call});\n// throws after 5 s without a reply"
    ))
}

const SIGNATURE_AND_BODY: &str = r#"export function emitWithTimeout<
  Listen extends { [event: string]: any },
  Emit extends { [event: string]: any },
  Ev extends string & {
    [E in keyof Emit & string]: Parameters<Emit[E]> extends [...unknown[], (...reply: infer Reply) => void]
      ? Reply extends [unknown]
        ? E
        : never
      : never;
  }[keyof Emit & string],
>(
  socket: Socket<Listen, Emit>,
  ms: number,
  ev: Ev,
  ...args: Parameters<Emit[Ev]> extends infer P ? (P extends [...infer Args, unknown] ? Args : never) : never
): Promise<
  Parameters<Emit[Ev]> extends infer P ? (P extends [...unknown[], (reply: infer Reply) => void] ? Reply : never) : never
> {
  // The signature is the typing: socket.io-client's own for this call is `Promise<any>`.
  return (socket as Socket).timeout(ms).emitWithAck(ev, ...(args as unknown[]));
}
"#;
