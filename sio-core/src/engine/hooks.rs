//! The engine's request hooks (Node's `allowRequest`, `connection_error`, `headers` and
//! `initial_headers`): what they are given and what they answer.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderMap;
use http::request::Parts;

/// A predicate over a handshake request (see [`EngineConfig::allow_request`](super::EngineConfig::allow_request)).
pub type AllowRequest = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;

/// An asynchronous decision over a handshake request (see
/// [`EngineConfig::allow_request_async`](super::EngineConfig::allow_request_async)).
pub type AllowRequestAsync =
    Arc<dyn Fn(&Parts) -> Pin<Box<dyn Future<Output = Result<(), Forbidden>> + Send>> + Send + Sync>;

/// Called with every refused request (see
/// [`EngineConfig::connection_error`](super::EngineConfig::connection_error)).
pub type ConnectionErrorHook = Arc<dyn Fn(&ConnectionError<'_>) + Send + Sync>;

/// Adds headers to responses (see [`EngineConfig::headers`](super::EngineConfig::headers)).
pub type HeadersHook = Arc<dyn Fn(&mut HeaderMap, &Parts) + Send + Sync>;

/// An asynchronous `allow_request` refusing a handshake: the client gets `403`
/// `{"code":4,"message":..}` with this message, or `Forbidden` without one (Node's
/// `callback(err, false)`).
///
/// ```
/// use sio_core::engine::Forbidden;
///
/// assert_eq!(Forbidden::new().message(), None);
/// assert_eq!(Forbidden::with_message("banned").message(), Some("banned"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forbidden {
    message: Option<Cow<'static, str>>,
}

impl Forbidden {
    /// A refusal answered with Node's message, `Forbidden`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A refusal whose message the client reads in the answer's body.
    pub fn with_message(message: impl Into<Cow<'static, str>>) -> Self {
        Self { message: Some(message.into()) }
    }

    /// The message given, if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message().unwrap_or("Forbidden"))
    }
}

impl std::error::Error for Forbidden {}

/// Why the engine refused a request, with the codes and messages of Node's `engine.io`
/// (`Server.errors`, `Server.errorMessages`); the last two are sio's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 0, `Transport unknown`: no `transport`, or one that is unknown or turned off.
    UnknownTransport,
    /// 1, `Session ID unknown`: a `sid` that names no open session.
    UnknownSid,
    /// 2, `Bad handshake method`: a handshake that is not a `GET`.
    BadHandshakeMethod,
    /// 3, `Bad request`: e.g. a polling request to a WebSocket session, a WebSocket handshake
    /// without the upgrade headers.
    BadRequest,
    /// 4, `Forbidden`: `allow_request` or `allow_request_async` refused the handshake.
    Forbidden,
    /// 5, `Unsupported protocol version`: an Engine.IO v3 client while `allow_eio3` is off.
    UnsupportedProtocolVersion,
    /// 6, `Server shutting down` (not in Node): a handshake during [`Server::shutdown`](crate::Server::shutdown).
    ShuttingDown,
    /// 7, `Too many connections` (not in Node): `max_connections` sessions are open.
    TooManyConnections,
}

impl ErrorCode {
    /// The number clients read in the answer's `code`.
    pub fn code(self) -> u8 {
        match self {
            ErrorCode::UnknownTransport => 0,
            ErrorCode::UnknownSid => 1,
            ErrorCode::BadHandshakeMethod => 2,
            ErrorCode::BadRequest => 3,
            ErrorCode::Forbidden => 4,
            ErrorCode::UnsupportedProtocolVersion => 5,
            ErrorCode::ShuttingDown => 6,
            ErrorCode::TooManyConnections => 7,
        }
    }

    /// Node's message for the code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::UnknownTransport => "Transport unknown",
            ErrorCode::UnknownSid => "Session ID unknown",
            ErrorCode::BadHandshakeMethod => "Bad handshake method",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
            ErrorCode::ShuttingDown => "Server shutting down",
            ErrorCode::TooManyConnections => "Too many connections",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.code())
    }
}

/// A request the engine refused, as Node's `connection_error` event describes it: the
/// request, the code, Node's message for it, and what Node puts in `err.context`.
pub struct ConnectionError<'a> {
    pub(crate) req: &'a Parts,
    pub(crate) code: ErrorCode,
    pub(crate) context: Option<&'static str>,
    pub(crate) refusal: Option<&'a str>,
}

impl<'a> ConnectionError<'a> {
    /// The refused request (Node's `err.req`).
    pub fn req(&self) -> &'a Parts {
        self.req
    }

    /// Why it was refused (Node's `err.code` is [`ErrorCode::code`]).
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Node's message for the code (`err.message`), e.g. `Forbidden` even when an
    /// `allow_request_async` refusal gave the client a message of its own (see
    /// [`refusal`](Self::refusal)).
    pub fn message(&self) -> &'static str {
        self.code.message()
    }

    /// Node's `err.context.name` where it sets one: `TRANSPORT_MISMATCH` (a polling request to
    /// a session on another transport), `TRANSPORT_HANDSHAKE_ERROR` (a WebSocket handshake
    /// without upgrade headers, or with bad ones).
    pub fn context(&self) -> Option<&'static str> {
        self.context
    }

    /// The message an `allow_request_async` refusal gave (Node's `err.context.message`).
    pub fn refusal(&self) -> Option<&'a str> {
        self.refusal
    }
}

impl fmt::Debug for ConnectionError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionError")
            .field("method", &self.req.method)
            .field("uri", &self.req.uri)
            .field("code", &self.code)
            .field("context", &self.context)
            .field("refusal", &self.refusal)
            .finish()
    }
}
