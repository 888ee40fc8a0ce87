//! Settings of the Engine.IO layer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use super::compress::{HttpCompression, PerMessageDeflate};
use super::cookie::SessionCookie;
use super::hooks::{AllowRequest, AllowRequestAsync, ConnectionErrorHook, HeadersHook};

/// Engine.IO settings. Built through [`crate::ServerBuilder`] (or [`EngineConfig::default`] when
/// the engine is used on its own).
#[derive(Clone)]
pub struct EngineConfig {
    /// HTTP path the engine answers under, with a trailing slash (default `/socket.io/`).
    pub path: String,
    /// Time between two server pings (default 25 s).
    pub ping_interval: Duration,
    /// Time a client has to answer a ping before the session is closed (default 20 s).
    pub ping_timeout: Duration,
    /// Largest accepted message or polling body in bytes (default 1 MB, as the reference).
    pub max_payload: u64,
    /// Time a polling session has to complete a WebSocket upgrade (default 10 s).
    pub upgrade_timeout: Duration,
    /// Frames that may wait in one session's outbound queue (default 1024). A session whose
    /// peer does not read fast enough is closed rather than allowed to grow memory.
    pub outbound_buffer: usize,
    /// Whether clients may use HTTP long-polling (default true).
    pub polling: bool,
    /// Whether clients may use WebSocket (default true).
    pub websocket: bool,
    /// Whether polling sessions are offered an upgrade to WebSocket (default true).
    pub allow_upgrades: bool,
    /// Whether Engine.IO v3 clients (socket.io-client 1.x and 2.x) are served beside v4 ones
    /// (default false, as Node's `allowEIO3`). A refused v3 handshake answers 400
    /// `Unsupported protocol version`.
    pub allow_eio3: bool,
    /// Cross-origin settings for polling requests; `None` sends no CORS headers (default).
    pub cors: Option<Cors>,
    /// Decides whether a handshake request is accepted; a refusal answers 403 `Forbidden`.
    pub allow_request: Option<AllowRequest>,
    /// Decides asynchronously whether a handshake request is accepted (after
    /// `allow_request`, when both are set); a refusal answers 403 with its message (Node's
    /// `allowRequest(req, callback)`).
    pub allow_request_async: Option<AllowRequestAsync>,
    /// Called with every request the engine refuses (Node's `connection_error` event).
    pub connection_error: Option<ConnectionErrorHook>,
    /// Adds headers to every successful Engine.IO answer: polling GETs and POSTs, the
    /// handshake, and the `101` of every WebSocket (Node's `headers` event).
    pub headers: Option<HeadersHook>,
    /// Adds headers to the answer of a handshake only: the first polling GET, or the `101`
    /// of a direct WebSocket (Node's `initial_headers` event). Runs before `headers`.
    pub initial_headers: Option<HeadersHook>,
    /// The cookie set to the session id on a polling handshake's answer (Node's `cookie`;
    /// `None`, the default, sets none).
    pub cookie: Option<SessionCookie>,
    /// Bytes taken from a WebSocket per read (default 16 KiB, at least 1 KiB). The buffer
    /// read into is shared by the connections of a thread: an idle connection holds none, and
    /// messages larger than it are still read whole.
    pub ws_read_buffer: usize,
    /// Largest number of open sessions; further handshakes answer `503` `Too many
    /// connections` (default: no limit).
    pub max_connections: Option<usize>,
    /// permessage-deflate on WebSocket (Node's `perMessageDeflate`); `None`, the default,
    /// never answers the extension.
    pub per_message_deflate: Option<PerMessageDeflate>,
    /// gzip/deflate of polling responses by `Accept-Encoding` (Node's `httpCompression`);
    /// on by default with a 1024-byte threshold, `None` turns it off.
    pub http_compression: Option<HttpCompression>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            path: "/socket.io/".to_owned(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            upgrade_timeout: Duration::from_millis(10_000),
            outbound_buffer: 1024,
            polling: true,
            websocket: true,
            allow_upgrades: true,
            allow_eio3: false,
            cors: None,
            allow_request: None,
            allow_request_async: None,
            connection_error: None,
            headers: None,
            initial_headers: None,
            cookie: None,
            ws_read_buffer: 16 * 1024,
            max_connections: None,
            per_message_deflate: None,
            http_compression: Some(HttpCompression::default()),
        }
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("max_payload", &self.max_payload)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("outbound_buffer", &self.outbound_buffer)
            .field("polling", &self.polling)
            .field("websocket", &self.websocket)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("allow_eio3", &self.allow_eio3)
            .field("cors", &self.cors)
            .field("allow_request", &self.allow_request.as_ref().map(|_| "<fn>"))
            .field("allow_request_async", &self.allow_request_async.as_ref().map(|_| "<fn>"))
            .field("connection_error", &self.connection_error.as_ref().map(|_| "<fn>"))
            .field("headers", &self.headers.as_ref().map(|_| "<fn>"))
            .field("initial_headers", &self.initial_headers.as_ref().map(|_| "<fn>"))
            .field("cookie", &self.cookie)
            .field("ws_read_buffer", &self.ws_read_buffer)
            .field("max_connections", &self.max_connections)
            .field("per_message_deflate", &self.per_message_deflate)
            .field("http_compression", &self.http_compression)
            .finish()
    }
}

/// Cross-origin resource sharing for the polling transport (browsers on another origin),
/// as Node's `cors` option: which origins may call, whether with credentials, and how long a
/// browser may cache the preflight answer.
///
/// ```
/// use std::time::Duration;
/// use sio_core::{Cors, Server};
///
/// let io = Server::builder()
///     .cors(
///         Cors::predicate(|origin| origin.ends_with(".example.com") || origin == "http://localhost:5173")
///             .credentials(true)
///             .max_age(Duration::from_secs(600)),
///     )
///     .build();
/// ```
///
/// This covers what a Socket.IO endpoint needs (the WebSocket transport is not subject to
/// CORS). For anything else (exposed headers, per-route rules), leave it unset and put
/// `tower_http::cors::CorsLayer` around [`Server::router`](crate::Server::router).
#[derive(Clone)]
#[must_use]
pub struct Cors {
    origins: CorsOrigins,
    credentials: bool,
    max_age: Option<Duration>,
}

#[derive(Clone)]
enum CorsOrigins {
    Any,
    List(Vec<HeaderValue>),
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl fmt::Debug for Cors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origins: &dyn fmt::Debug = match &self.origins {
            CorsOrigins::Any => &"any",
            CorsOrigins::List(list) => list,
            CorsOrigins::Predicate(_) => &"<fn>",
        };
        f.debug_struct("Cors")
            .field("origins", origins)
            .field("credentials", &self.credentials)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl Cors {
    /// Allows every origin (the request's `Origin` is echoed back).
    pub fn any() -> Self {
        Self { origins: CorsOrigins::Any, credentials: false, max_age: None }
    }

    /// Allows the listed origins, e.g. `["http://localhost:5173"]`.
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list = origins.into_iter().filter_map(|o| HeaderValue::from_str(o.as_ref()).ok()).collect();
        Self { origins: CorsOrigins::List(list), credentials: false, max_age: None }
    }

    /// Allows the origins for which `allow` returns true (it sees the `Origin` header as
    /// text; a request without one is refused).
    pub fn predicate(allow: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self { origins: CorsOrigins::Predicate(Arc::new(allow)), credentials: false, max_age: None }
    }

    /// Sends `Access-Control-Allow-Credentials: true` (cookies on cross-origin requests).
    pub fn credentials(mut self, yes: bool) -> Self {
        self.credentials = yes;
        self
    }

    /// How long browsers may cache a preflight answer (`Access-Control-Max-Age`, Node's
    /// `maxAge`); not sent by default.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub(crate) fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match (&self.origins, origin) {
            (CorsOrigins::Any, Some(o)) => Some(o.clone()),
            (CorsOrigins::Any, None) => Some(HeaderValue::from_static("*")),
            (CorsOrigins::List(list), Some(o)) => list.iter().find(|a| *a == o).cloned(),
            (CorsOrigins::Predicate(allow), Some(o)) => {
                o.to_str().ok().filter(|text| allow(text)).map(|_| o.clone())
            }
            (CorsOrigins::List(_) | CorsOrigins::Predicate(_), None) => None,
        }
    }

    pub(crate) fn max_age_header(&self) -> Option<HeaderValue> {
        self.max_age.map(|d| HeaderValue::from(d.as_secs()))
    }

    pub(crate) fn credentials_allowed(&self) -> bool {
        self.credentials
    }
}
