//! [`EventCtx`]: an incoming event as event middlewares see it.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::extensions::Extensions;
use crate::protocol::{FromArgs, Packet, RawArgs, decode_args_at};

/// An incoming event as an event middleware sees it (Node's `socket.use(([event, ...args],
/// next) => ..)`): its name, its arguments, whether it asks for an ack, and its
/// [`extensions`](EventCtx::extensions), where a middleware leaves data for the handler.
///
/// Cheap to clone (reference counts): it owns what it shows, so an async middleware can keep
/// it across awaits. The handler reads the same extensions through
/// [`Event::extensions`](crate::Event::extensions) or an `&Extensions` parameter of a
/// `#[namespace]` handler.
///
/// ```
/// use sio_core::{Conn, Event, EventCtx, EventError, Handlers};
///
/// #[derive(Clone)]
/// struct Caller(String);
///
/// let h = Handlers::new()
///     .use_event(|conn: Conn, ev: EventCtx| async move {
///         if ev.name().starts_with("admin:") && conn.handshake().query("admin").is_none() {
///             return Err(EventError::new("not allowed"));
///         }
///         ev.extensions().insert(Caller(conn.id().to_string()));
///         Ok(())
///     })
///     .on("admin:reset", |_conn: Conn, ev: Event| async move {
///         let caller = ev.extensions().get::<Caller>();
///     });
/// ```
#[derive(Clone)]
pub struct EventCtx {
    packet: Packet,
    attachments: Vec<Bytes>,
    wants_ack: bool,
    extensions: Arc<Extensions>,
}

impl fmt::Debug for EventCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventCtx")
            .field("name", &self.name())
            .field("data", &String::from_utf8_lossy(&self.packet.data))
            .field("wants_ack", &self.wants_ack)
            .finish_non_exhaustive()
    }
}

impl EventCtx {
    pub(crate) fn new(
        packet: Packet,
        attachments: Vec<Bytes>,
        wants_ack: bool,
        extensions: Arc<Extensions>,
    ) -> Self {
        Self { packet, attachments, wants_ack, extensions }
    }

    /// The event name.
    pub fn name(&self) -> &str {
        self.packet.event_name().unwrap_or("")
    }

    /// Every argument, untyped (JSON and binary; empty if they cannot be read).
    ///
    /// ```
    /// # use sio_core::{Conn, EventCtx, EventError, Handlers};
    /// let h = Handlers::new().use_event(|_conn: Conn, ev: EventCtx| async move {
    ///     if ev.raw().len() > 8 {
    ///         return Err(EventError::new("too many arguments"));
    ///     }
    ///     Ok(())
    /// });
    /// ```
    pub fn raw(&self) -> RawArgs {
        decode_args_at(&self.packet.data, self.packet.args_at(), &self.attachments).unwrap_or_default()
    }

    /// The arguments, typed as a tuple (as [`Event::args`](crate::Event::args)).
    ///
    /// # Errors
    /// When an argument does not deserialize as its type, or a required one is missing.
    pub fn args<T: FromArgs>(&self) -> Result<T, serde_json::Error> {
        decode_args_at(&self.packet.data, self.packet.args_at(), &self.attachments)
    }

    /// The first argument, typed.
    ///
    /// # Errors
    /// When the first argument is missing or does not deserialize as `T`.
    pub fn arg<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.args::<(T,)>().map(|(v,)| v)
    }

    /// Whether the client asked for an acknowledgement.
    pub fn wants_ack(&self) -> bool {
        self.wants_ack
    }

    /// Per-event storage, shared with the handler ([`Event::extensions`](crate::Event::extensions)).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }
}
