//! Procedural macros of sio: `#[namespace]` turns an impl block into a namespace with a
//! static dispatch table, ack wiring and a schema; `#[server_events]` turns an enum into
//! a namespace's typed server-to-client events; `#[derive(TS)]` runs ts-rs's derive through
//! `sio_core`, so users need no `ts-rs` dependency.
//!
//! Each macro parses its input into a model (`namespace::model`, `events`), validates it while
//! collecting every error with the span of the user's code, then renders one output per module
//! (`render::dispatch`, `render::schema`). On error the user's item is emitted next to the
//! errors with the impls the rest of the crate expects (a namespace's traits, an events enum's
//! constructors), so one mistake gives one error.
//!
//! Use them through `sio_core` (`sio_core::namespace`, `sio_core::server_events`,
//! `sio_core::TS`): the generated code names `::sio_core` by absolute path.

use proc_macro::TokenStream;

mod attr;
mod ctxt;
mod events;
mod model;
mod render;

#[doc = include_str!("../docs/namespace.md")]
#[proc_macro_attribute]
pub fn namespace(args: TokenStream, input: TokenStream) -> TokenStream {
    model::expand(args.into(), input.into()).into()
}

/// Makes an enum a namespace's set of server-to-client events: one variant per event, its
/// fields the event's arguments in order (tuple or named fields; a unit variant has none).
///
/// - Event names are the variant names in `camelCase` (`UserJoined` → `userJoined`), the
///   same rule as `#[namespace]` events; `#[server_events(rename_all = "kebab-case")]` picks
///   another case (`camelCase`, `PascalCase`, `snake_case`, `kebab-case`,
///   `SCREAMING_SNAKE_CASE`, `lowercase`, `UPPERCASE`), `#[event(rename = "name")]` names one
///   variant.
/// - `#[event(ack = R)]` declares that the client acknowledges the event with an `R`. Such a
///   variant leaves the enum and becomes a constructor of the same name (a function taking
///   the fields in order, or a `const` for a unit variant) returning an
///   [`Ask`](../sio_core/struct.Ask.html): `conn.emit_with_ack(E::Variant(..)).await` is then
///   `Result<R, AckError>`, with `R` taken from the event itself, and `conn.emit(E::Variant(..))`
///   does not compile (the client's callback would never be called).
/// - Reserved and duplicate event names are refused at compile time.
/// - Every field type must be `Serialize` and `TS` (for the typings), every ack type
///   `Deserialize` and `TS`; `Binary` fields travel as binary attachments.
///
/// Use it through `sio_core` (`sio_core::server_events`, or `sio_core::prelude::*`):
///
/// ```
/// use serde::Serialize;
/// use sio_core::prelude::*;
///
/// #[derive(Clone, Serialize, TS)]
/// struct Score { player: String, points: u32 }
///
/// /// What the server sends to clients of /game.
/// #[server_events(rename_all = "kebab-case")]
/// enum GameEvent {
///     /// "round-started": (round: number)
///     RoundStarted(u32),
///     /// "score": (player: string, points: number): named fields are arguments in order
///     Score { player: String, points: u32 },
///     /// "final": (scores: Score[])
///     #[event(rename = "final")]
///     Finished(Vec<Score>),
///     /// "ready?": (ack: (ready: boolean) => void)
///     #[event(rename = "ready?", ack = bool)]
///     AreYouReady,
///     /// "bid": (item: string, min: number, ack: (offer: number) => void)
///     #[event(ack = u32)]
///     Bid { item: String, min: u32 },
/// }
///
/// async fn round(conn: Conn<GameEvent>) {
///     conn.namespace().emit(GameEvent::RoundStarted(1)).ok();
///     let ready: Result<bool, AckError> = conn.emit_with_ack(GameEvent::AreYouReady).await;
///     let offer: Result<u32, AckError> = conn.emit_with_ack(GameEvent::Bid("lamp".into(), 5)).await;
/// }
/// ```
#[proc_macro_attribute]
pub fn server_events(args: TokenStream, input: TokenStream) -> TokenStream {
    events::expand(args.into(), input.into()).into()
}

mod ts;

#[doc = include_str!("../docs/ts.md")]
#[proc_macro_derive(TS, attributes(ts))]
pub fn derive_ts(input: TokenStream) -> TokenStream {
    ts::expand(input.into()).into()
}

/// Registers `#[serde(..)]` on the copy of a type that `#[derive(TS)]` hands to ts-rs's derive
/// (which reads those attributes but does not register them). Generates nothing.
#[doc(hidden)]
#[proc_macro_derive(SerdeAttributes, attributes(serde))]
pub fn serde_attributes(_: TokenStream) -> TokenStream {
    TokenStream::new()
}
