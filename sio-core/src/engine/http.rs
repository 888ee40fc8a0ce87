//! HTTP side of the engine: request validation, handshake, polling GET/POST and the WebSocket
//! upgrade, answering errors as the reference server does.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::compress::{self, Coding};
use super::driver::Driver;
use super::hooks::{ConnectionError, ErrorCode};
use super::packet::Frame;
use super::payload;
use super::reason::CloseReason;
use super::session::{ProtocolVersion, Session, TransportKind};
use super::ws::{WsConn, WsMessage};
use super::{EngineConfig, EngineHandler, EngineInner};
use crate::Sid;

/// The reference server's answer to a refused request: JSON `{code, message}` (403 for
/// `Forbidden`, 503 for sio's own overload codes, 400 otherwise), or for a WebSocket handshake a
/// plain-text 400 with the message. `message` replaces Node's message for the code, as an
/// `allowRequest` refusal's does.
fn error_response(code: ErrorCode, message: Option<&str>, upgrade: bool) -> Response<Body> {
    let message = message.unwrap_or(code.message());
    if upgrade {
        // The reference aborts upgrade requests with a plain-text 400.
        return Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::CONNECTION, "close")
            .body(Body::from(message.to_owned()))
            .unwrap_or_default();
    }
    let status = match code {
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::ShuttingDown | ErrorCode::TooManyConnections => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = serde_json::json!({ "code": code.code(), "message": message }).to_string();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// Refuses `req`: the `connection_error` hook hears of it, the client gets the reference's
/// answer.
/// The client's address, when the server records it (see [`Session::peer`]).
fn peer(parts: &Parts) -> Option<std::net::SocketAddr> {
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)
}

fn refuse(
    cfg: &EngineConfig,
    req: &Parts,
    code: ErrorCode,
    context: Option<&'static str>,
    refusal: Option<&str>,
    upgrade: bool,
) -> Response<Body> {
    if let Some(hook) = &cfg.connection_error {
        hook(&ConnectionError { req, code, context, refusal });
    }
    error_response(code, refusal, upgrade)
}

/// The query parameters the engine reads, percent-decoded (borrowed when nothing is
/// escaped), as Node's `url.parse(.., true)` reads them.
#[derive(Debug, Default)]
struct Query<'a> {
    eio: Option<Cow<'a, str>>,
    transport: Option<Cow<'a, str>>,
    sid: Option<Cow<'a, str>>,
    b64: bool,
}

impl<'a> Query<'a> {
    fn parse(q: &'a str) -> Self {
        let mut out = Query::default();
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            match &*k {
                "EIO" => out.eio = Some(v),
                "transport" => out.transport = Some(v),
                "sid" => out.sid = Some(v),
                // As Node reads it: any non-empty value asks for base64 (v3 polling).
                "b64" => out.b64 = !v.is_empty(),
                _ => {}
            }
        }
        out
    }

    fn eio(&self) -> Option<&str> {
        self.eio.as_deref()
    }

    fn transport(&self) -> Option<&str> {
        self.transport.as_deref()
    }

    fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }
}

fn is_upgrade_request(headers: &HeaderMap) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| s.split(',').any(|p| p.trim().eq_ignore_ascii_case(token))))
    };
    has_token(header::UPGRADE, "websocket") && has_token(header::CONNECTION, "upgrade")
}

/// Closes the session of a polling GET whose request future is dropped before it ever ran
/// (the client went away right after sending it): without this, hyper may drop the future
/// unpolled and nothing would notice the abandoned poll.
struct EarlyGet(Option<Arc<Session>>);

impl EarlyGet {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for EarlyGet {
    fn drop(&mut self) {
        if let Some(session) = self.0.take() {
            tracing::debug!(sid = %session.id(), "poll request dropped before it was handled");
            session.close(CloseReason::TransportError);
        }
    }
}

pub(crate) fn handle<H: EngineHandler>(
    engine: Arc<EngineInner<H>>,
    req: Request<Body>,
) -> impl Future<Output = Response<Body>> + Send + 'static {
    let early = if req.method() == Method::GET {
        let q = Query::parse(req.uri().query().unwrap_or(""));
        match (q.transport(), q.sid().and_then(Sid::parse)) {
            (Some("polling"), Some(sid)) => {
                engine.get(sid).filter(|s| s.transport() == TransportKind::Polling)
            }
            _ => None,
        }
    } else {
        None
    };
    let mut early = EarlyGet(early);
    async move {
        // Running now: the GET handler's own guard takes over.
        early.disarm();
        handle_request(engine, req).await
    }
}

async fn handle_request<H: EngineHandler>(engine: Arc<EngineInner<H>>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let origin = parts.headers.get(header::ORIGIN).cloned();
    if parts.method == Method::OPTIONS
        && let Some(cors) = &engine.config.cors
    {
        return preflight(cors, origin.as_ref(), &parts.headers);
    }
    let mut resp = route(engine.clone(), parts, body).await;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS
        && let Some(cors) = &engine.config.cors
    {
        add_cors(cors, origin.as_ref(), resp.headers_mut());
    }
    resp
}

async fn route<H: EngineHandler>(
    engine: Arc<EngineInner<H>>,
    mut parts: Parts,
    body: Body,
) -> Response<Body> {
    let cfg = &engine.config;
    // Taken out, so a handshake kept for a session does not keep it.
    let hold = parts.extensions.remove::<crate::serve::WriteHold>();
    let query_str = parts.uri.query().unwrap_or("");
    let query = Query::parse(query_str);
    let upgrade = is_upgrade_request(&parts.headers);
    let transport = match query.transport() {
        Some("polling") if cfg.polling => TransportKind::Polling,
        Some("websocket") if cfg.websocket => TransportKind::WebSocket,
        _ => return refuse(cfg, &parts, ErrorCode::UnknownTransport, None, None, upgrade),
    };

    if let Some(sid) = query.sid() {
        let Some(session) = Sid::parse(sid).and_then(|s| engine.get(s)) else {
            return refuse(cfg, &parts, ErrorCode::UnknownSid, None, None, upgrade);
        };
        return match transport {
            TransportKind::Polling => {
                if session.transport() != TransportKind::Polling {
                    return refuse(
                        cfg,
                        &parts,
                        ErrorCode::BadRequest,
                        Some("TRANSPORT_MISMATCH"),
                        None,
                        false,
                    );
                }
                if session.is_closed() && session.outbox.len() == 0 {
                    return refuse(cfg, &parts, ErrorCode::UnknownSid, None, None, false);
                }
                let mut resp = match parts.method {
                    Method::GET => poll_get(&session, response_coding(cfg, &parts.headers)).await,
                    Method::POST => {
                        let binary = parts.headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes)
                            == Some(b"application/octet-stream");
                        poll_post(&session, binary, body).await
                    }
                    _ => return error_response(ErrorCode::BadRequest, None, false),
                };
                if cfg.headers.is_some() && resp.status() == StatusCode::OK {
                    merge_headers(resp.headers_mut(), user_headers(cfg, &parts, false, None));
                }
                resp
            }
            TransportKind::WebSocket => {
                if !upgrade || !cfg.allow_upgrades {
                    return refuse(cfg, &parts, ErrorCode::BadRequest, None, None, upgrade);
                }
                if !session.begin_upgrade() {
                    // Already upgrading or upgraded: the reference accepts the WebSocket and
                    // closes it at once, leaving the session alone.
                    return match accept_websocket(&mut parts, cfg) {
                        Ok((mut resp, on_upgrade)) => {
                            add_upgrade_headers(cfg, &mut resp, &parts, false);
                            let cfg = cfg.clone();
                            tokio::spawn(async move {
                                if let Some(ws) = upgraded(on_upgrade, &cfg).await {
                                    ws.close().await;
                                }
                            });
                            resp
                        }
                        Err(e) => refuse(cfg, &parts, e, Some("TRANSPORT_HANDSHAKE_ERROR"), None, true),
                    };
                }
                match accept_websocket(&mut parts, cfg) {
                    Ok((mut resp, on_upgrade)) => {
                        add_upgrade_headers(cfg, &mut resp, &parts, false);
                        let cfg = cfg.clone();
                        tokio::spawn(async move {
                            if let Some(ws) = upgraded(on_upgrade, &cfg).await {
                                probe(session, ws).await;
                            } else {
                                session.abort_upgrade();
                            }
                        });
                        resp
                    }
                    Err(e) => {
                        session.abort_upgrade();
                        refuse(cfg, &parts, e, Some("TRANSPORT_HANDSHAKE_ERROR"), None, true)
                    }
                }
            }
        };
    }

    // A new session.
    if parts.method != Method::GET {
        return refuse(cfg, &parts, ErrorCode::BadHandshakeMethod, None, None, upgrade);
    }
    if transport == TransportKind::WebSocket && !upgrade {
        return refuse(cfg, &parts, ErrorCode::BadRequest, Some("TRANSPORT_HANDSHAKE_ERROR"), None, false);
    }
    if let Some(allow) = &cfg.allow_request
        && !allow(&parts)
    {
        return refuse(cfg, &parts, ErrorCode::Forbidden, None, None, upgrade);
    }
    if let Some(allow) = &cfg.allow_request_async
        && let Err(forbidden) = allow(&parts).await
    {
        return refuse(cfg, &parts, ErrorCode::Forbidden, None, forbidden.message(), upgrade);
    }
    // As the reference: `EIO=4` is v4, anything else (absent included) v3.
    let protocol = match query.eio() {
        Some("4") => ProtocolVersion::V4,
        _ if cfg.allow_eio3 => ProtocolVersion::V3,
        eio => {
            crate::log::limited!(warn, crate::log::Kind::Refused, peer = ?peer(&parts), eio, "refused a client: unsupported Engine.IO protocol version (EIO=4 only; Server::builder().allow_eio3(true) accepts v3 clients)");
            return refuse(cfg, &parts, ErrorCode::UnsupportedProtocolVersion, None, None, upgrade);
        }
    };
    if engine.shutting_down.load(Ordering::Acquire) {
        return refuse(cfg, &parts, ErrorCode::ShuttingDown, None, None, upgrade);
    }
    if cfg.max_connections.is_some_and(|max| engine.session_count() >= max) {
        crate::log::limited!(warn, crate::log::Kind::Refused, peer = ?peer(&parts), max = cfg.max_connections, "refused a client: max_connections reached");
        return refuse(cfg, &parts, ErrorCode::TooManyConnections, None, None, upgrade);
    }

    match transport {
        TransportKind::Polling => {
            let session = engine.new_session(TransportKind::Polling, protocol, !query.b64, peer(&parts));
            session.send_control(open_frame(&session, cfg, true));
            engine.insert(session.clone());
            detach_head(&mut parts);
            let state = engine.handler.on_open(&session, &parts);
            let coding = response_coding(cfg, &parts.headers);
            let extra = (cfg.cookie.is_some() || cfg.initial_headers.is_some() || cfg.headers.is_some())
                .then(|| user_headers(cfg, &parts, true, Some(session.id())));
            drop(parts);
            let mut driver = Driver::new(engine.clone(), session.clone(), state, None);
            tokio::spawn(async move { driver.run().await });
            let mut resp = poll_get(&session, coding).await;
            if let Some(extra) = extra
                && resp.status() == StatusCode::OK
            {
                merge_headers(resp.headers_mut(), extra);
            }
            resp
        }
        TransportKind::WebSocket => match accept_websocket(&mut parts, cfg) {
            Ok((mut resp, on_upgrade)) => {
                add_upgrade_headers(cfg, &mut resp, &parts, true);
                // The open packet follows at once: under `sio_core::serve` it leaves in the
                // 101's write. (Not for an upgrade of a polling session, whose client speaks
                // first.)
                if let Some(hold) = hold {
                    hold.arm();
                }
                detach_head(&mut parts);
                // Only small values are captured: what a future captures stays in its task for
                // the connection's whole life, while locals that end before the session runs
                // share their room with it.
                let start = Box::new((on_upgrade, parts));
                let fut = async move {
                    // The handshake's values live in a block of their own, so the task does not
                    // keep room for them (nor the box) beside the session's driver.
                    let (session, state, ws) = {
                        let (on_upgrade, parts) = {
                            let start = start;
                            *start
                        };
                        let Some(mut ws) = upgraded(on_upgrade, &engine.config).await else { return };
                        let session =
                            engine.new_session(TransportKind::WebSocket, protocol, true, peer(&parts));
                        ws.set_protocol(protocol);
                        session.send_control(open_frame(&session, &engine.config, false));
                        engine.insert(session.clone());
                        let state = engine.handler.on_open(&session, &parts);
                        (session, state, ws)
                    };
                    // A local the task polls in place: the driver is stored once in the task.
                    let mut driver = Driver::new(engine, session, state, Some(ws));
                    driver.run().await;
                };
                tokio::spawn(fut);
                resp
            }
            Err(e) => refuse(cfg, &parts, e, Some("TRANSPORT_HANDSHAKE_ERROR"), None, true),
        },
    }
}

/// The headers the user's hooks add to a successful answer to `req`: the session cookie
/// (on a polling handshake's answer, `cookie_sid`), then Node's `initial_headers` (on a
/// handshake's answer) and `headers` events, in Node's order, so a hook sees and may replace
/// the cookie.
fn user_headers(cfg: &EngineConfig, req: &Parts, initial: bool, cookie_sid: Option<Sid>) -> HeaderMap {
    let mut extra = HeaderMap::new();
    if let (Some(cookie), Some(sid)) = (&cfg.cookie, cookie_sid)
        && let Some(value) = cookie.header_value(&sid.to_string())
    {
        extra.insert(header::SET_COOKIE, value);
    }
    if initial && let Some(hook) = &cfg.initial_headers {
        hook(&mut extra, req);
    }
    if let Some(hook) = &cfg.headers {
        hook(&mut extra, req);
    }
    extra
}

/// Adds `extra` to an answer's headers; a name it has replaces the engine's values of that
/// name (as setting a header in Node's hooks does).
fn merge_headers(headers: &mut HeaderMap, extra: HeaderMap) {
    let mut last = None;
    for (name, value) in extra {
        match name {
            Some(name) => {
                headers.insert(name.clone(), value);
                last = Some(name);
            }
            None => {
                if let Some(name) = &last {
                    headers.append(name.clone(), value);
                }
            }
        }
    }
}

/// The user's headers on a WebSocket's `101` (Node adds them through `ws`'s `headers`
/// event; no cookie there).
fn add_upgrade_headers(cfg: &EngineConfig, resp: &mut Response<Body>, req: &Parts, initial: bool) {
    if cfg.headers.is_some() || (initial && cfg.initial_headers.is_some()) {
        merge_headers(resp.headers_mut(), user_headers(cfg, req, initial, None));
    }
}

/// Copies the header values and the URI of a handshake request into one buffer of their own.
///
/// hyper parses a request head in place: every header value and the URI are slices of the
/// connection's read buffer (8 to 16 KiB). The layer above keeps the handshake for the
/// session's lifetime, and through those slices it would keep that whole buffer alive for
/// every open connection. One compact copy costs a few hundred bytes instead.
fn detach_head(parts: &mut http::request::Parts) {
    let headers = &parts.headers;
    let uri_len = parts.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    let total: usize = headers.values().map(|v| v.len()).sum::<usize>() + uri_len;
    let mut buf = Vec::with_capacity(total);
    for v in headers.values() {
        buf.extend_from_slice(v.as_bytes());
    }
    if let Some(pq) = parts.uri.path_and_query() {
        buf.extend_from_slice(pq.as_str().as_bytes());
    }
    let buf = Bytes::from(buf);
    let mut out = HeaderMap::with_capacity(headers.len());
    let mut at = 0;
    for (name, value) in headers {
        let end = at + value.len();
        // Same bytes as a value that was valid already.
        let Ok(mut v) = HeaderValue::from_maybe_shared(buf.slice(at..end)) else { return };
        v.set_sensitive(value.is_sensitive());
        out.append(name.clone(), v);
        at = end;
    }
    if parts.uri.scheme().is_none() && parts.uri.authority().is_none() {
        // Origin form (`/socket.io/?EIO=4..`), as every client sends it.
        match http::Uri::from_maybe_shared(buf.slice(at..at + uri_len)) {
            Ok(uri) => parts.uri = uri,
            Err(_) => return,
        }
    } else if let Ok(uri) = http::Uri::try_from(parts.uri.to_string()) {
        parts.uri = uri;
    }
    parts.headers = out;
}

fn open_frame(session: &Session, cfg: &EngineConfig, polling: bool) -> Frame {
    let upgrades = if polling && cfg.allow_upgrades && cfg.websocket { r#"["websocket"]"# } else { "[]" };
    Frame::from_packet_text(format!(
        r#"0{{"sid":"{}","upgrades":{},"pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
        session.id(),
        upgrades,
        cfg.ping_interval.as_millis(),
        cfg.ping_timeout.as_millis(),
        cfg.max_payload
    ))
}

/// Clears a polling flag when the request ends, and closes the session when a GET is
/// abandoned before it was answered (the client went away mid-poll).
struct PollGuard<'a> {
    session: &'a Session,
    get: bool,
    answered: bool,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        if self.get {
            self.session.get_active.store(false, Ordering::Release);
            if !self.answered {
                tracing::debug!(sid = %self.session.id(), "poll connection closed prematurely");
                self.session.close(CloseReason::TransportError);
            }
        } else {
            self.session.post_active.store(false, Ordering::Release);
        }
    }
}

/// The content coding for a polling response to a request with `headers`, if HTTP
/// compression is on and the request accepts one.
fn response_coding(cfg: &EngineConfig, headers: &HeaderMap) -> Option<Coding> {
    cfg.http_compression.as_ref().and_then(|_| compress::choose_coding(headers))
}

async fn poll_get(session: &Arc<Session>, coding: Option<Coding>) -> Response<Body> {
    if session.get_active.swap(true, Ordering::AcqRel) {
        tracing::debug!(sid = %session.id(), "overlapping GET, closing the session");
        session.close(CloseReason::TransportError);
        return error_response(ErrorCode::BadRequest, None, false);
    }
    let mut guard = PollGuard { session, get: true, answered: false };
    let mut frames = VecDeque::new();
    // While an upgrade is probing, a waiting GET is ended within 100 ms (as the reference's
    // check interval does), or refused if the upgrade completes meanwhile.
    let mut probe_wait: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    let mut upgraded = false;
    std::future::poll_fn(|cx| {
        if session.transport() == TransportKind::WebSocket {
            upgraded = true;
            return std::task::Poll::Ready(());
        }
        let r = session.outbox.poll_drain(cx, &mut frames);
        if r.is_ready() || !session.is_probed() {
            return r;
        }
        let wait = probe_wait.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(100))));
        if wait.as_mut().poll(cx).is_ready() {
            frames.push_back(Frame::NOOP);
            return std::task::Poll::Ready(());
        }
        std::task::Poll::Pending
    })
    .await;
    if upgraded {
        guard.answered = true;
        return error_response(ErrorCode::BadRequest, None, false);
    }
    guard.answered = true;
    drop(guard);
    if frames.is_empty() {
        frames.push_back(Frame::CLOSE);
    } else if frames.len() > 1 && frames.back() == Some(&Frame::CLOSE) {
        // The close packet goes in a payload of its own, as the reference sends it: clients
        // hand decoded Socket.IO packets on asynchronously but act on a close at once, so
        // packets sharing its payload (the DISCONNECTs of a closing connection) would be seen
        // after it, as a `transport close`.
        frames.pop_back();
        session.send_control(Frame::CLOSE);
    }
    session.count_frames_out(frames.iter());
    if session.is_closed() {
        session.wake_task();
    }
    let (body, content_type) = match session.protocol() {
        ProtocolVersion::V4 => {
            (Bytes::from(payload::encode(frames.make_contiguous())), "text/plain; charset=UTF-8")
        }
        ProtocolVersion::V3 => payload::v3::encode(frames.make_contiguous(), session.binary_polling),
    };
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        // As the reference: a poll's answer is never cached.
        .header(header::CACHE_CONTROL, "no-store");
    let Some(cfg) = &session.config.http_compression else {
        return resp.body(Body::from(body)).unwrap_or_default();
    };
    // The answer depends on Accept-Encoding, whatever this one's size.
    resp = resp.header(header::VARY, "Accept-Encoding");
    match (coding, compress::compress_body(cfg, coding, &body)) {
        (Some(coding), Some(z)) => resp.header(header::CONTENT_ENCODING, coding.header()).body(Body::from(z)),
        _ => resp.body(Body::from(body)),
    }
    .unwrap_or_default()
}

async fn poll_post(session: &Arc<Session>, binary: bool, body: Body) -> Response<Body> {
    if session.post_active.swap(true, Ordering::AcqRel) {
        tracing::debug!(sid = %session.id(), "overlapping POST, closing the session");
        session.close(CloseReason::TransportError);
        return error_response(ErrorCode::BadRequest, None, false);
    }
    let _guard = PollGuard { session, get: false, answered: true };
    let limit = usize::try_from(session.config.max_payload).unwrap_or(usize::MAX);
    let bytes: Bytes = match Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                crate::log::limited!(warn, crate::log::Kind::TooLarge, sid = %session.id(), peer = ?session.peer(), limit = session.config.max_payload, "closing a session: POST body over max_payload");
                session.close(CloseReason::TransportError);
                return Response::builder()
                    .status(StatusCode::PAYLOAD_TOO_LARGE)
                    .header(header::CONNECTION, "close")
                    .body(Body::empty())
                    .unwrap_or_default();
            }
            tracing::debug!(sid = %session.id(), error = %e, "POST body failed");
            session.close(CloseReason::TransportError);
            return error_response(ErrorCode::BadRequest, None, false);
        }
    };
    let decoded = match session.protocol() {
        ProtocolVersion::V4 => payload::decode(bytes),
        ProtocolVersion::V3 if binary => payload::v3::decode_binary(bytes),
        ProtocolVersion::V3 => payload::v3::decode_text(bytes),
    };
    match decoded {
        Ok(packets) => session.push_inbound(packets),
        Err(e) => {
            tracing::debug!(sid = %session.id(), error = ?e, "parse error in POST body");
            session.close(CloseReason::ParseError);
            return error_response(ErrorCode::BadRequest, None, false);
        }
    }
    Response::builder().header(header::CONTENT_TYPE, "text/html").body(Body::from("ok")).unwrap_or_default()
}

/// Validates a WebSocket handshake and builds the `101 Switching Protocols` answer (taking
/// the connection to come from `parts`).
fn accept_websocket(parts: &mut Parts, cfg: &EngineConfig) -> Result<(Response<Body>, Upgrade), ErrorCode> {
    let key = parts.headers.get(header::SEC_WEBSOCKET_KEY).ok_or(ErrorCode::BadRequest)?;
    if !valid_key(key.as_bytes()) {
        return Err(ErrorCode::BadRequest);
    }
    if parts.headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        return Err(ErrorCode::BadRequest);
    }
    let accept = accept_key(key.as_bytes());
    let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(ErrorCode::BadRequest)?;
    let deflate = cfg.per_message_deflate.as_ref().and_then(|d| compress::negotiate(d, &parts.headers));
    let mut resp = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept);
    if let Some((_, answer)) = &deflate {
        resp = resp.header(header::SEC_WEBSOCKET_EXTENSIONS, answer.clone());
    }
    let resp = resp.body(Body::empty()).map_err(|_| ErrorCode::BadRequest)?;
    Ok((resp, Upgrade { on_upgrade, deflate: deflate.map(|(agreed, _)| agreed) }))
}

/// An accepted WebSocket handshake: the connection to come and the extension agreed on.
struct Upgrade {
    on_upgrade: OnUpgrade,
    deflate: Option<compress::Agreed>,
}

async fn upgraded(upgrade: Upgrade, cfg: &EngineConfig) -> Option<WsConn> {
    match upgrade.on_upgrade.await {
        Ok(io) => {
            let max = usize::try_from(cfg.max_payload).unwrap_or(usize::MAX);
            let mut ws = WsConn::new(TokioIo::new(io), max, cfg.ws_read_buffer);
            ws.set_deflate(upgrade.deflate.map(|a| Box::new(compress::Deflate::new(a))));
            Some(ws)
        }
        Err(e) => {
            tracing::debug!(error = %e, "websocket upgrade failed");
            None
        }
    }
}

/// Runs the upgrade handshake of a polling session (`2probe` → `3probe`, then `5`) and hands
/// the WebSocket to the session; gives up after the upgrade timeout.
async fn probe(session: Arc<Session>, mut ws: WsConn) {
    ws.set_protocol(session.protocol());
    let timeout = session.config.upgrade_timeout;
    let exchange = async {
        loop {
            match ws.recv().await {
                Ok(WsMessage::Text(t)) if &t[..] == b"2probe" => {
                    ws.send(Frame::from_packet_text("3probe".to_owned())).await.ok()?;
                    // Release a GET the client is waiting on, so it can pause polling.
                    session.mark_probed();
                }
                Ok(WsMessage::Text(t)) if &t[..] == b"5" => return Some(()),
                other => {
                    tracing::debug!(sid = %session.id(), packet = ?other, "invalid upgrade packet");
                    return None;
                }
            }
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Some(())) if !session.is_closed() => return session.hand_over(Box::new(ws)),
        Ok(_) => session.abort_upgrade(),
        Err(_) => {
            tracing::debug!(sid = %session.id(), "upgrade timed out");
            session.abort_upgrade();
        }
    }
    // The abandoned WebSocket gets a close frame (with the code of a protocol error the peer
    // made), as the reference closes it; a peer that does not read does not keep it.
    let _ = tokio::time::timeout(PROBE_CLOSE_TIMEOUT, ws.close()).await;
}

/// How long an abandoned upgrade's WebSocket may take to send its close frame.
const PROBE_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) fn add_cors(cors: &super::Cors, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
    if let Some(allow) = cors.allow_origin(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if cors.credentials_allowed() {
            headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
    }
}

fn preflight(cors: &super::Cors, origin: Option<&HeaderValue>, req: &HeaderMap) -> Response<Body> {
    let mut resp = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET,HEAD,PUT,PATCH,POST,DELETE")
        .body(Body::empty())
        .unwrap_or_default();
    if let Some(h) = req.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_HEADERS, h.clone());
    }
    if let Some(age) = cors.max_age_header() {
        resp.headers_mut().insert(header::ACCESS_CONTROL_MAX_AGE, age);
    }
    add_cors(cors, origin, resp.headers_mut());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_engine_query() {
        let q = Query::parse("EIO=4&transport=polling&t=abc&sid=xyz");
        assert_eq!(q.eio(), Some("4"));
        assert_eq!(q.transport(), Some("polling"));
        assert_eq!(q.sid(), Some("xyz"));
        let empty = Query::parse("");
        assert!(empty.eio().is_none() && empty.transport().is_none());
        // Percent-encoded and plus-encoded values are decoded, as Node decodes them.
        let q = Query::parse("EIO=%34&transport=poll%69ng&sid=a+b");
        assert_eq!((q.eio(), q.transport(), q.sid()), (Some("4"), Some("polling"), Some("a b")));
    }

    #[test]
    fn detached_head_keeps_every_header_and_the_uri() {
        let req = Request::get("/socket.io/?EIO=4&transport=websocket&x=%20y")
            .header("host", "localhost:3000")
            .header("x-token", "secret")
            .header("accept", "a")
            .header("accept", "b")
            .body(())
            .expect("request");
        let (mut parts, ()) = req.into_parts();
        let before = (parts.headers.clone(), parts.uri.clone());
        detach_head(&mut parts);
        assert_eq!(parts.headers, before.0);
        assert_eq!(parts.uri, before.1);
        assert_eq!(parts.headers.get_all("accept").iter().count(), 2);
    }

    #[test]
    fn error_bodies_match_the_reference() {
        let r = error_response(ErrorCode::UnknownSid, None, false);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = error_response(ErrorCode::Forbidden, Some("no \"token\""), false);
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
}

/// Whether a `Sec-WebSocket-Key` is 16 bytes in base64 (RFC 6455 §4.2.1): 22 base64 digits
/// and `==`, what the reference (`ws`) accepts.
fn valid_key(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22].iter().all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 §4.2.2): the base64 of
/// the SHA-1 of the key followed by the protocol's GUID.
pub(crate) fn accept_key(key: &[u8]) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let mut sha = sha1::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

#[cfg(test)]
mod accept_key_tests {
    #[test]
    fn rfc_6455_example() {
        // The example of RFC 6455 section 1.3.
        assert_eq!(super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn keys_must_be_16_bytes_in_base64() {
        for good in ["dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA==", "+/+/+/+/+/+/+/+/+/+/+w=="] {
            assert!(super::valid_key(good.as_bytes()), "{good}");
        }
        for bad in [
            "",
            "x",
            "dGhlIHNhbXBsZSBub25jZQ",     // no padding
            "dGhlIHNhbXBsZSBub25jZQ=",    // 23 characters
            "dGhlIHNhbXBsZSBub25jZQ===",  // 25
            "dGhlIHNhbXBsZSBub25jZWVl",   // 18 bytes
            "dGhlIHNhbXBsZSBub25j-Q==",   // base64url
            "dGhlIHNhbXBsZSBub25j ZQ==",  // a space
            "dGhlIHNhbXBsZSBub25jZQ==\0", // trailing bytes
        ] {
            assert!(!super::valid_key(bad.as_bytes()), "{bad}");
        }
    }
}
