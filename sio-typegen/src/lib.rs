//! One TypeScript module for `socket.io-client`, generated from the same `#[namespace]` impl
//! blocks the server runs: rename a field or an event in Rust and the front end's build
//! breaks, not production.
//!
//! ```no_run
//! # use sio_core::prelude::*;
//! # struct Chat;
//! # #[namespace("/chat")]
//! # impl Chat {
//! #     #[event]
//! #     async fn msg(&self, text: String) -> String { text }
//! # }
//! // In a test (so `cargo test` fails when the committed file is stale) ...
//! #[test]
//! fn typings_are_up_to_date() {
//!     sio_typegen::Typegen::new().namespace::<Chat>().check("web/src/sio.ts").unwrap();
//! }
//!
//! // ... and once by hand (or from a tiny binary) to write it:
//! fn main() -> Result<(), sio_typegen::TypegenError> {
//!     sio_typegen::Typegen::new().namespace::<Chat>().write("web/src/sio.ts")?;
//!     Ok(())
//! }
//! ```
//!
//! What the module holds, per namespace `Chat`: `ChatServerToClientEvents`,
//! `ChatClientToServerEvents`, `ChatSocket` (a `Socket` of `socket.io-client` typed by both)
//! and `connectChat(...)`; before them every Rust type used in a payload, an ack or a server
//! event, declared once (shared across namespaces) and after the types it refers to; after
//! them `emitWithTimeout(...)`, for every socket of the module.
//!
//! Mapping rules:
//! - An ack is one required trailing callback with one argument (`ack: (reply: R) => void`):
//!   with it `socket.emit(.., cb)`, `emitWithAck` (`Promise<R>`) and `timeout(ms).emit`
//!   (`(err, r)`) are all typed.
//! - Trailing `Option<T>` arguments may be left out (serde reads a missing one as `None`),
//!   with or without an ack after them: `(x: X, y?: T | null) => void`, and with an ack one
//!   tuple per way of calling, `(...args: [x: X, ack: (reply: R) => void] | [x: X, y: T | null,
//!   ack: (reply: R) => void]) => void`, so that `emit("ev", x, cb)`, `emit("ev", x, y, cb)`,
//!   `emitWithAck("ev", x)` and `emitWithAck("ev", x, y)` all type-check with the reply
//!   inferred. (Not overloads: socket.io-client reads an event's parameters with
//!   `Parameters<>`, which sees only the last overload.) A server event's arguments are all
//!   sent, `None` as `null`.
//! - Each type is declared in the form of the side that sends it. A type the client sends (an
//!   event's argument, the auth payload, an ack reply to a server event, and any type inside
//!   one of those) declares an `Option` field optional, `field?: T | null`: the client may
//!   leave it out. A type only the server sends declares what serde writes, `field: T | null`,
//!   so a reader knows the field is there. A type sent both ways is declared once, in the
//!   client's form: a listener reading it then also handles a missing field, which the server
//!   never produces. `#[ts(optional)]` fields are as ts-rs declares them.
//! - `emitWithTimeout(socket, ms, ev, ...args)` is `socket.timeout(ms).emitWithAck(ev,
//!   ...args)` typed: it resolves to the event's ack reply (socket.io-client's own typing of
//!   that call is `Promise<any>`) and rejects with an `Error` when no reply comes within `ms`.
//!   Only events with a one-value ack are accepted, with their arguments and no callback; any
//!   other event, wrong arguments or a wrongly typed use of the reply are compile errors:
//!
//!   ```ts
//!   const socket = connectChat("", { auth: { name: "ada" } });
//!   const history: Message[] = await emitWithTimeout(socket, 5000, "join", "lobby");
//!   emitWithTimeout(socket, 5000, "leave", "lobby"); // error: "leave" has no ack
//!   ```
//! - `u64`, `i64`, `u128`, `i128` are `number` by default, as JSON on this wire delivers them:
//!   values above 2^53 lose precision. [`Typegen::large_int`] picks another type.
//! - `Binary` is `ArrayBuffer | Uint8Array` (browsers receive `ArrayBuffer`, Node.js `Buffer`).
//! - `RawArgs` is a rest parameter `...args: unknown[]`; returned by a handler, it is the
//!   ack's arguments as they are (`ack: (...reply: unknown[]) => void`).
//! - Rust doc comments become JSDoc. Event names are quoted.
//! - The layout is what one would write by hand (as prettier formats it): 2-space indentation,
//!   an object type one member per line with its JSDoc above it (a nested one on one line when
//!   it is short and undocumented), a union that does not fit on a line one variant per line,
//!   one event per line. A declaration outside the part of TypeScript's syntax that ts-rs
//!   produces (a `#[ts(type = "...")]` override such as a function type) is kept as ts-rs
//!   writes it. The output is deterministic.
//! - With connection state recovery on, server events carry one more (last) argument, their
//!   offset, for the client's own bookkeeping; the typings leave it out, so a listener typed
//!   from them never reads it (JavaScript passes it on as an extra argument, which a typed
//!   listener ignores).

mod decl;
mod diff;
mod jsdoc;
mod render;

use std::fmt;
use std::path::{Path, PathBuf};

use sio_core::TypedNamespace;
use sio_core::schema::NamespaceSchema;

/// Builds a TypeScript module from namespaces.
#[derive(Debug, Default)]
#[must_use = "a Typegen writes nothing until `write` or `check` is called"]
pub struct Typegen {
    namespaces: Vec<NamespaceSchema>,
    large_int: Option<String>,
}

impl Typegen {
    /// An empty module.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the `#[namespace]` `N`.
    pub fn namespace<N: TypedNamespace>(mut self) -> Self {
        self.namespaces.push(N::schema());
        self
    }

    /// Adds a namespace from its schema.
    pub fn schema(mut self, schema: NamespaceSchema) -> Self {
        self.namespaces.push(schema);
        self
    }

    /// The TypeScript type of `u64`, `i64`, `u128`, `i128` (default `number`; `bigint` matches
    /// no JSON value on this wire, `string` fits a custom serializer).
    pub fn large_int(mut self, ty: impl Into<String>) -> Self {
        self.large_int = Some(ty.into());
        self
    }

    /// The module's text.
    ///
    /// ```
    /// # use sio_core::prelude::*;
    /// # struct Chat;
    /// # #[namespace("/chat")]
    /// # impl Chat {
    /// #     #[event]
    /// #     async fn msg(&self, text: String) -> String { text }
    /// # }
    /// let ts = sio_typegen::Typegen::new().namespace::<Chat>().render();
    /// assert!(ts.contains("export function connectChat("));
    /// ```
    pub fn render(&self) -> String {
        let cfg = ts_rs::Config::new().with_large_int(self.large_int.as_deref().unwrap_or("number"));
        render::module(&self.namespaces, cfg)
    }

    /// Writes the module to `path` (creating parent directories), unless it is already
    /// identical.
    ///
    /// # Errors
    /// When the directory cannot be created or the file cannot be written (the error's
    /// [`path`](TypegenError::path) says which).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), TypegenError> {
        let path = path.as_ref();
        let text = self.render();
        if std::fs::read_to_string(path).ok().as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| TypegenError::io(path, e))?;
        }
        std::fs::write(path, text).map_err(|e| TypegenError::io(path, e))
    }

    /// Fails with a unified diff (from the file on disk to the generated text) when the file
    /// at `path` is not what [`Typegen::render`] produces now (the typings are stale: run
    /// `write`).
    ///
    /// # Errors
    /// When the file is stale ([`TypegenError::is_stale`]; its `Display` is the diff) or
    /// cannot be read.
    pub fn check(&self, path: impl AsRef<Path>) -> Result<(), TypegenError> {
        let path = path.as_ref();
        let expected = self.render();
        let actual = std::fs::read_to_string(path).map_err(|e| TypegenError::io(path, e))?;
        if actual == expected {
            return Ok(());
        }
        Err(TypegenError { path: path.to_owned(), kind: Kind::Stale(diff::unified(&actual, &expected)) })
    }
}

/// Why typings could not be written or are stale.
#[derive(Debug)]
pub struct TypegenError {
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Io(std::io::Error),
    Stale(String),
}

impl TypegenError {
    fn io(path: &Path, e: std::io::Error) -> Self {
        Self { path: path.to_owned(), kind: Kind::Io(e) }
    }

    /// The file concerned.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists but differs from the Rust definitions.
    pub fn is_stale(&self) -> bool {
        matches!(self.kind, Kind::Stale(_))
    }
}

impl fmt::Display for TypegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Io(e) => write!(f, "{}: {e}", self.path.display()),
            Kind::Stale(diff) => write!(
                f,
                "{} is stale: the Rust definitions changed. Regenerate it with Typegen::write.\n{diff}",
                self.path.display()
            ),
        }
    }
}

impl std::error::Error for TypegenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io(e) => Some(e),
            Kind::Stale(_) => None,
        }
    }
}
