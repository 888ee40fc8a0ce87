//! Procedural macros of sio: `#[namespace]` turns an impl block into a namespace with a
//! static dispatch table, ack wiring and a schema; `#[derive(ServerEvents)]` turns an enum into
//! a namespace's typed server-to-client events.
//!
//! Each macro parses its input into a model (`namespace::model`, `events`), validates it while
//! collecting every error with the span of the user's code, then renders one output per module
//! (`render::dispatch`, `render::schema`). On error the user's item is emitted unchanged next
//! to the errors, so the rest of the crate still type-checks.
//!
//! Use them through `sio_core` (`sio_core::namespace`, `sio_core::ServerEvents`): the generated
//! code names `::sio_core` by absolute path.

use proc_macro::TokenStream;

mod attr;
mod ctxt;
mod events;
mod model;
mod render;

/// Makes an inherent impl block a Socket.IO namespace.
///
/// ```ignore
/// #[namespace("/chat", emits = ChatEvent)]
/// impl Chat {
///     #[connect]
///     async fn join(&self, s: Conn, auth: Login) -> Result<(), Refused> { .. }
///     #[event]
///     async fn msg(&self, s: Conn, m: ChatMsg) -> String { .. }     // the return value is the ack
///     #[event(rename = "move")]
///     async fn move_to(&self, s: Conn, x: i32, y: i32) { .. }
///     #[disconnect]
///     async fn leave(&self, s: Conn, reason: DisconnectReason) { .. }
/// }
/// ```
///
/// See the `sio_core` documentation for what each parameter and return type means.
#[proc_macro_attribute]
pub fn namespace(args: TokenStream, input: TokenStream) -> TokenStream {
    model::expand(args.into(), input.into()).into()
}

/// Makes an enum a set of server-to-client events: one variant per event, its fields the
/// event's arguments in order. Options: `#[events(rename_all = "kebab-case")]` on the enum
/// (default `camelCase`), `#[event(rename = "name", ack = Type)]` on a variant.
#[proc_macro_derive(ServerEvents, attributes(event, events))]
pub fn derive_server_events(input: TokenStream) -> TokenStream {
    events::expand(input.into()).into()
}
