//! A description of a namespace's events, emitted by `#[namespace]` and
//! `#[server_events]`, for generators (TypeScript typings, docs, clients).
//!
//! Every type in a schema implements [`ts_rs::TS`]: its TypeScript name and declarations are
//! reachable through [`TypeRef`], so a payload type that cannot be typed is refused when the
//! namespace is compiled, not when the typings are generated.

use std::any::TypeId;
use std::collections::HashSet;
use std::fmt;

use ts_rs::{Config, TS, TypeVisitor};

/// A Rust type as written in the source, with its TypeScript side.
#[derive(Clone, Copy)]
pub struct TypeRef {
    /// The type as written (`Vec<ChatMsg>`).
    pub written: &'static str,
    /// `std::any::type_name` of the type.
    pub type_name: &'static str,
    ts_name: fn(&Config) -> String,
    ts_unwrapped: fn(&Config) -> String,
    declare: fn(&mut Declarations),
}

impl fmt::Debug for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypeRef").field("written", &self.written).finish()
    }
}

impl PartialEq for TypeRef {
    fn eq(&self, other: &Self) -> bool {
        self.type_name == other.type_name && self.written == other.written
    }
}

impl Eq for TypeRef {}

impl TypeRef {
    /// Describes `T`, written as `written`.
    pub fn of<T>(written: &'static str) -> Self
    where
        T: TS + ?Sized + 'static,
        T::OptionInnerType: TS + 'static,
    {
        Self {
            written,
            type_name: std::any::type_name::<T>(),
            ts_name: |cfg| T::name(cfg),
            ts_unwrapped: |cfg| <T::OptionInnerType as TS>::name(cfg),
            declare: |d| d.visit::<T>(),
        }
    }

    /// The TypeScript type inside an `Option` (`Login` for `Option<Login>`; the type itself
    /// otherwise).
    pub fn ts_unwrapped(&self, cfg: &Config) -> String {
        (self.ts_unwrapped)(cfg)
    }

    /// Whether the Rust type is an `Option`.
    pub fn is_option(&self) -> bool {
        self.type_name.starts_with("core::option::Option<")
    }

    /// The TypeScript type (`Array<ChatMsg>`, `number | null`).
    pub fn ts(&self, cfg: &Config) -> String {
        (self.ts_name)(cfg)
    }

    /// Adds the declarations this type needs (itself and what it refers to) to `decls`.
    pub fn declare(&self, decls: &mut Declarations) {
        (self.declare)(decls)
    }
}

/// The TypeScript declarations a set of types needs: each declared once, every type after the
/// types it refers to, in the order first met.
pub struct Declarations {
    cfg: Config,
    seen: HashSet<TypeId>,
    declared: HashSet<TypeId>,
    out: Vec<Declaration>,
}

/// One declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The TypeScript name (without generics).
    pub name: String,
    /// `type Name = ...;` as ts-rs renders it (with the Rust doc comment as JSDoc).
    pub decl: String,
    /// The Rust doc comment.
    pub docs: Option<String>,
}

impl fmt::Debug for Declarations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Declarations").field("count", &self.out.len()).finish()
    }
}

impl Declarations {
    /// Collects declarations rendered with `cfg`.
    pub fn new(cfg: Config) -> Self {
        Self { cfg, seen: HashSet::new(), declared: HashSet::new(), out: Vec::new() }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The declarations, dependencies first.
    pub fn into_vec(self) -> Vec<Declaration> {
        self.out
    }
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        T::visit_generics(self);
        // Types with a declaration of their own (derived `TS`); wrappers and primitives are
        // inlined and only their parameters are visited.
        if T::output_path().is_some() {
            T::visit_dependencies(self);
            // `Page<A>` and `Page<B>` share one generic declaration.
            if self.declared.insert(TypeId::of::<T::WithoutGenerics>()) {
                let decl = <T::WithoutGenerics as TS>::decl(&self.cfg);
                self.out.push(Declaration { name: T::ident(&self.cfg), decl, docs: T::docs() });
            }
        } else {
            T::visit_dependencies(self);
        }
    }
}

/// One argument of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSchema {
    /// The parameter or field name (`_0`, `_1`... for tuple fields).
    pub name: &'static str,
    /// Its type.
    pub ty: TypeRef,
    /// Whether it may be absent (a trailing `Option`).
    pub optional: bool,
    /// Whether it captures every remaining argument ([`RawArgs`](crate::RawArgs)).
    pub rest: bool,
}

/// A client-to-server event handled by a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSchema {
    /// The event name on the wire.
    pub name: &'static str,
    /// The Rust method that handles it.
    pub handler: &'static str,
    /// Its doc comment.
    pub docs: &'static str,
    /// Its arguments, in order.
    pub args: Vec<ArgSchema>,
    /// The ack reply type, when the handler returns a value.
    pub ack: Option<TypeRef>,
    /// Whether the reply is the ack's arguments as they are (the handler returns
    /// [`RawArgs`](crate::RawArgs)), rather than its one argument.
    pub ack_spread: bool,
}

/// A server-to-client event (one variant of a `ServerEvents` enum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEventSchema {
    /// The event name on the wire.
    pub name: &'static str,
    /// The variant.
    pub variant: &'static str,
    /// Its doc comment.
    pub docs: &'static str,
    /// Its arguments (the variant's fields, in order).
    pub args: Vec<ArgSchema>,
    /// The type the client's ack callback replies with, if the event expects one.
    pub ack: Option<TypeRef>,
}

/// Everything a `#[namespace]` impl block declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceSchema {
    /// The namespace path, e.g. `/chat`.
    pub path: &'static str,
    /// The Rust type that serves it.
    pub rust_name: &'static str,
    /// Its doc comment.
    pub docs: &'static str,
    /// The auth payload the connect handler expects.
    pub auth: Option<TypeRef>,
    /// Client-to-server events.
    pub events: Vec<EventSchema>,
    /// Server-to-client events (`emits = E`), empty when untyped.
    pub server_events: Vec<ServerEventSchema>,
}
