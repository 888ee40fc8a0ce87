//! The Engine.IO v4 client: the handshake, long-polling, WebSocket, the polling → WebSocket
//! upgrade and the heartbeat. One task per connection: packets to send wait in its
//! [`Outbox`]; what the server sends is handed to a [`Dispatch`] in the task itself (no hop
//! to another task), and the close goes out through a oneshot.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use base64::Engine as _;
use bytes::{Buf as _, BufMut, Bytes, BytesMut};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use sio_core::__client::{OutFrame, WebSocket as Ws, WsError, WsMessage};
use sio_core::engine::{Frame, Message};
use sio_core::protocol::client::Outgoing;
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio::time::{Instant, sleep_until};

use crate::error::Error;
use crate::options::{Target, Transport};

/// The most messages of one read dispatched together.
const MAX_BURST: usize = 256;

/// How long the task waits for its close frame to go out before dropping the connection.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the engine needs to open a connection.
#[derive(Debug, Clone)]
pub(crate) struct EngineOptions {
    pub(crate) target: Target,
    pub(crate) transports: Vec<Transport>,
    pub(crate) upgrade: bool,
    pub(crate) headers: HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    /// The largest HTTP response body or WebSocket message read from the server.
    pub(crate) max_payload: usize,
    /// How long the handshake may take.
    pub(crate) timeout: Duration,
}

/// The packets waiting for the engine task (one outbox per connection, shared by its
/// sockets). An emit costs a push under a lock; the task is woken when the queue was empty,
/// then takes everything queued at once and writes it with one flush.
#[derive(Default)]
pub(crate) struct Outbox {
    queue: parking_lot::Mutex<Queue>,
    ready: Notify,
}

#[derive(Default)]
struct Queue {
    packets: Vec<Outgoing>,
    /// Close once the packets are sent.
    close: bool,
    /// The task ended: nothing is sent any more.
    gone: bool,
}

impl Outbox {
    /// Queues a packet; false when the connection is gone (or closing).
    pub(crate) fn send(&self, packet: Outgoing) -> bool {
        let mut q = self.queue.lock();
        if q.gone || q.close {
            return false;
        }
        let wake = q.packets.is_empty();
        q.packets.push(packet);
        drop(q);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    /// Closes the connection after what is queued.
    pub(crate) fn close(&self) {
        self.queue.lock().close = true;
        self.ready.notify_one();
    }

    /// What is queued (swapped with `into`, an empty buffer), and whether to close after it.
    fn take(&self, into: &mut Vec<Outgoing>) -> bool {
        let mut q = self.queue.lock();
        std::mem::swap(&mut q.packets, into);
        q.close
    }

    fn end(&self) {
        let mut q = self.queue.lock();
        q.gone = true;
        q.packets.clear();
    }
}

/// What woke the WebSocket loop.
enum Event {
    Ws(Result<WsMessage, WsError>),
    Outbox,
    /// What was queued is written and the client is closing.
    Sent,
    /// A write failed.
    Failed(WsError),
    PingTimeout,
}

/// What the engine task does with the messages the server sends.
pub(crate) trait Dispatch: Send + 'static {
    /// Handles the messages of one read, in order, and empties `batch`. An error closes the
    /// connection as a parse error.
    fn messages(&mut self, batch: &mut Vec<Message>) -> Result<(), String>;
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The client closed it.
    Client,
    /// The server closed it, or the connection was lost.
    TransportClose,
    /// A transport failed (an HTTP error, a WebSocket error).
    TransportError(String),
    /// No ping from the server within `pingInterval + pingTimeout`.
    PingTimeout,
    /// The server sent something that is not Engine.IO.
    ParseError(String),
}

/// The server's open packet.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Handshake {
    pub(crate) sid: String,
    #[serde(default)]
    pub(crate) upgrades: Vec<String>,
    pub(crate) ping_interval: u64,
    pub(crate) ping_timeout: u64,
    #[serde(default = "default_max_payload")]
    pub(crate) max_payload: usize,
}

fn default_max_payload() -> usize {
    1_000_000
}

impl Handshake {
    fn parse(data: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(data).map_err(|e| Error::Protocol(format!("bad open packet: {e}")))
    }

    /// When the connection is dead if no ping came.
    fn ping_deadline(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.ping_interval.saturating_add(self.ping_timeout))
    }
}

/// An open connection: send with `tx`; `closed` resolves when it ends.
pub(crate) struct Opened {
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) closed: oneshot::Receiver<Closed>,
    pub(crate) transport: Arc<parking_lot::Mutex<Transport>>,
}

/// Opens a connection: the handshake over the first transport of `opts.transports`, then
/// the upgrade to WebSocket in the background when it is allowed. The server's messages go
/// to `dispatch`, in the connection's task.
pub(crate) async fn open(opts: Arc<EngineOptions>, dispatch: Box<dyn Dispatch>) -> Result<Opened, Error> {
    let first = *opts.transports.first().ok_or_else(|| Error::Config("no transport".into()))?;
    let start = tokio::time::timeout(opts.timeout, async {
        match first {
            Transport::WebSocket => {
                let mut ws = ws_connect(&opts, None).await?;
                let hs = read_ws_open(&mut ws).await?;
                Ok::<_, Error>(Start::Ws(ws, hs))
            }
            Transport::Polling => {
                let http = Http::new(&opts);
                let body = http.get(None).await?;
                let packets = decode_payload(&body).map_err(Error::Protocol)?;
                let hs = match packets.into_iter().next() {
                    Some(Packet::Open(data)) => Handshake::parse(&data)?,
                    _ => {
                        return Err(Error::Protocol(
                            "the handshake did not start with an open packet".into(),
                        ));
                    }
                };
                Ok(Start::Polling(http.with_sid(&hs.sid), hs))
            }
        }
    })
    .await
    .map_err(|_| Error::Timeout("the handshake"))??;
    let outbox = Arc::new(Outbox::default());
    let (done, closed) = oneshot::channel();
    let transport = Arc::new(parking_lot::Mutex::new(first));
    let task = Task { opts, out: outbox.clone(), dispatch, batch: Vec::new(), transport: transport.clone() };
    tokio::spawn(task.run(start, done));
    Ok(Opened { outbox, closed, transport })
}

enum Start {
    Ws(Ws, Handshake),
    Polling(Http, Handshake),
}

struct Task {
    opts: Arc<EngineOptions>,
    out: Arc<Outbox>,
    dispatch: Box<dyn Dispatch>,
    /// The messages of one read (kept for the next).
    batch: Vec<Message>,
    transport: Arc<parking_lot::Mutex<Transport>>,
}

/// What to do after a packet.
enum Flow {
    Continue,
    Pong,
    Closed(Closed),
}

impl Task {
    async fn run(mut self, start: Start, done: oneshot::Sender<Closed>) {
        let closed = match start {
            Start::Ws(ws, hs) => self.run_ws(ws, hs.ping_deadline(), Vec::new()).await,
            Start::Polling(http, hs) => self.run_polling(http, hs).await,
        };
        tracing::debug!(?closed, "engine.io connection closed");
        self.out.end();
        let _ = done.send(closed);
    }

    /// Handles a packet from the server (polling).
    fn on_packet(&mut self, packet: Packet, deadline: &mut Instant, hs_ping: Duration) -> Flow {
        match packet {
            Packet::Ping(_) => {
                *deadline = Instant::now() + hs_ping;
                Flow::Pong
            }
            Packet::Message(m) => {
                self.batch.push(m);
                match self.dispatch() {
                    Ok(()) => Flow::Continue,
                    Err(c) => Flow::Closed(c),
                }
            }
            Packet::Close => Flow::Closed(Closed::TransportClose),
            Packet::Noop | Packet::Pong(_) => Flow::Continue,
            Packet::Open(_) | Packet::Upgrade => Flow::Closed(Closed::ParseError("unexpected packet".into())),
        }
    }

    /// Hands the messages of `self.batch` to the dispatcher; the error that closes the
    /// connection when one is not a valid packet.
    fn dispatch(&mut self) -> Result<(), Closed> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.dispatch.messages(&mut self.batch).map_err(|e| {
            tracing::debug!(error = %e, "invalid packet from the server, closing");
            self.batch.clear();
            Closed::ParseError(e)
        })
    }

    /// The WebSocket loop. Reads go on while a write waits for the socket (a server that
    /// is slow to read a large message): its messages are still dispatched and the ping
    /// timeout still runs.
    async fn run_ws(&mut self, mut ws: Ws, mut deadline: Instant, first: Vec<Frame>) -> Closed {
        let hs_ping = deadline.saturating_duration_since(Instant::now());
        let mut taken = Vec::new();
        // Frames to write, in order; written as the socket takes them.
        let mut sending: VecDeque<OutFrame> = first
            .into_iter()
            .map(|f| match f {
                Frame::Text(t) => OutFrame::Text(t.into_bytes()),
                Frame::Binary(b) => OutFrame::Binary(b),
            })
            .collect();
        // The client closes once `sending` is written.
        let mut closing = false;
        // One timer for the connection, moved at each ping: a timer made at each turn of the
        // loop cost an entry in tokio's timer wheel per read and per write.
        let ping_timeout = sleep_until(deadline);
        tokio::pin!(ping_timeout);
        // The last read of `ws` found nothing and left the task registered for more, and the
        // task has not slept since: the next turn's first poll then checks the outbox and the
        // timer and does not read (the read that follows a burst or a send would find nothing,
        // a system call for nothing). Once the task has slept this no longer holds: a wake-up
        // by the read clears its registration, and that wake-up may have been spent on another
        // event, so every poll after the first reads.
        let mut parked = false;
        loop {
            let event = {
                let notified = self.out.ready.notified();
                tokio::pin!(notified);
                let mut skip_ws = parked;
                let mut polled = false;
                std::future::poll_fn(|cx| {
                    // Polled again: the task slept, and what woke it may have been the read
                    // (which takes the read's registration with it): no skipping from now on.
                    if std::mem::replace(&mut polled, true) {
                        parked = false;
                    }
                    if notified.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Event::Outbox);
                    }
                    if ping_timeout.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Event::PingTimeout);
                    }
                    // A write under way goes on (or one queued by a read: a pong).
                    if !sending.is_empty() || ws.has_pending_writes() {
                        match ws.poll_write(cx, &mut sending) {
                            Poll::Ready(Err(e)) => return Poll::Ready(Event::Failed(e)),
                            Poll::Ready(Ok(())) if closing => return Poll::Ready(Event::Sent),
                            Poll::Ready(Ok(())) => {}
                            // Waits for the socket; reads go on meanwhile.
                            Poll::Pending => skip_ws = false,
                        }
                    }
                    if std::mem::take(&mut skip_ws) {
                        return Poll::Pending;
                    }
                    ws.poll_next(cx).map(Event::Ws)
                })
                .await
            };
            match event {
                Event::Ws(msg) => {
                    // This message and those already readable are dispatched in one batch.
                    let mut next = Some(msg);
                    let mut ended = None;
                    parked = false;
                    let mut failed = None;
                    while let Some(msg) = next.take() {
                        let packet = match msg {
                            Ok(WsMessage::Text(t)) => match decode_text(t) {
                                Ok(p) => p,
                                Err(e) => {
                                    ended = Some(Closed::ParseError(e));
                                    break;
                                }
                            },
                            Ok(WsMessage::Binary(b)) => Packet::Message(Message::Binary(b)),
                            Ok(WsMessage::Close) => {
                                ended = Some(Closed::TransportClose);
                                break;
                            }
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        };
                        match packet {
                            Packet::Message(m) => self.batch.push(m),
                            Packet::Ping(_) => {
                                deadline = Instant::now() + hs_ping;
                                ping_timeout.as_mut().reset(deadline);
                                // Written by the next turn of the loop (after what is queued).
                                sending.push_back(OutFrame::Text(Bytes::from_static(b"3")));
                            }
                            Packet::Close => {
                                ended = Some(Closed::TransportClose);
                                break;
                            }
                            Packet::Noop | Packet::Pong(_) => {}
                            Packet::Open(_) | Packet::Upgrade => {
                                ended = Some(Closed::ParseError("unexpected packet".into()));
                                break;
                            }
                        }
                        if self.batch.len() < MAX_BURST {
                            next = std::future::poll_fn(|cx| {
                                Poll::Ready(match ws.poll_next(cx) {
                                    Poll::Ready(m) => Some(m),
                                    Poll::Pending => None,
                                })
                            })
                            .await;
                            parked = next.is_none();
                        }
                    }
                    // What came before the end is dispatched first.
                    if let Err(c) = self.dispatch() {
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                            let _ = ws.send(OutFrame::Text(Bytes::from_static(b"1"))).await;
                            ws.close().await;
                        })
                        .await;
                        return c;
                    }
                    if let Some(e) = failed {
                        return ws_failed(ws, e).await;
                    }
                    if let Some(c) = ended {
                        return c;
                    }
                    // A pong due (to an Engine.IO ping, or to a WebSocket ping from a proxy,
                    // RFC 6455 §5.5.2) is written by the loop's next turn, not with the next
                    // packet.
                }
                Event::Outbox => {
                    // Everything emitted meanwhile leaves in one write, after what waits.
                    if self.out.take(&mut taken) && !closing {
                        closing = true;
                        taken.push(Outgoing { text: Bytes::from_static(b"1"), attachments: Vec::new() });
                    }
                    for packet in taken.drain(..) {
                        sending.push_back(OutFrame::Text(packet.text));
                        sending.extend(packet.attachments.into_iter().map(OutFrame::Binary));
                    }
                    // Written now when the socket takes it all (the usual case: no extra turn),
                    // else by the loop, which reads meanwhile.
                    match std::future::poll_fn(|cx| Poll::Ready(ws.poll_write(cx, &mut sending))).await {
                        Poll::Ready(Err(e)) => return ws_failed(ws, e).await,
                        Poll::Ready(Ok(())) if closing => {
                            let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close()).await;
                            return Closed::Client;
                        }
                        Poll::Ready(Ok(())) => {}
                        // The read's wake-up may have gone meanwhile: the next turn reads.
                        Poll::Pending => parked = false,
                    }
                }
                Event::Sent => {
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close()).await;
                    return Closed::Client;
                }
                Event::Failed(e) => return ws_failed(ws, e).await,
                Event::PingTimeout => return Closed::PingTimeout,
            }
        }
    }

    async fn run_polling(&mut self, http: Http, hs: Handshake) -> Closed {
        let http = Arc::new(http);
        let mut deadline = hs.ping_deadline();
        let hs_ping = Duration::from_millis(hs.ping_interval.saturating_add(hs.ping_timeout));
        let mut pending: Vec<Frame> = Vec::new();
        let mut poll: Option<BoxFuture<'static, Result<Bytes, Error>>> = None;
        let mut post: Option<BoxFuture<'static, Result<(), Error>>> = None;
        let mut upgrading: Option<BoxFuture<'static, Result<Ws, Error>>> = None;
        let mut upgraded: Option<Ws> = None;
        if self.opts.upgrade
            && self.opts.transports.contains(&Transport::WebSocket)
            && hs.upgrades.iter().any(|u| u == "websocket")
        {
            let opts = self.opts.clone();
            let sid = hs.sid.clone();
            upgrading = Some(async move { probe(&opts, &sid).await }.boxed());
        }
        loop {
            // The upgrade completes once no request is in flight (the server answers the
            // pending GET with a noop when the probe succeeded).
            if upgraded.is_some() && poll.is_none() && post.is_none() {
                let Some(ws) = upgraded.take() else { continue };
                *self.transport.lock() = Transport::WebSocket;
                let mut first = vec![Frame::Text("5".into())];
                first.append(&mut pending);
                return self.run_ws(ws, deadline, first).await;
            }
            if poll.is_none() && upgraded.is_none() {
                let http = http.clone();
                poll = Some(async move { http.get(Some(())).await }.boxed());
            }
            if post.is_none() && !pending.is_empty() && upgraded.is_none() {
                let body = encode_payload(&mut pending, hs.max_payload);
                let http = http.clone();
                post = Some(async move { http.post(body).await }.boxed());
            }
            tokio::select! {
                res = async { poll.as_mut().expect("checked").await }, if poll.is_some() => {
                    poll = None;
                    let body = match res {
                        Ok(b) => b,
                        Err(e) => return Closed::TransportError(e.to_string()),
                    };
                    let packets = match decode_payload(&body) {
                        Ok(p) => p,
                        Err(e) => return Closed::ParseError(e),
                    };
                    for p in packets {
                        match self.on_packet(p, &mut deadline, hs_ping) {
                            Flow::Continue => {}
                            Flow::Pong => pending.insert(0, Frame::Text("3".into())),
                            Flow::Closed(c) => {
                                if matches!(c, Closed::ParseError(_)) {
                                    let close = http.post(Bytes::from_static(b"1"));
                                    let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
                                }
                                return c;
                            }
                        }
                    }
                }
                res = async { post.as_mut().expect("checked").await }, if post.is_some() => {
                    post = None;
                    if let Err(e) = res {
                        return Closed::TransportError(e.to_string());
                    }
                }
                res = async { upgrading.as_mut().expect("checked").await }, if upgrading.is_some() => {
                    upgrading = None;
                    match res {
                        Ok(ws) => upgraded = Some(ws),
                        Err(e) => tracing::debug!(error = %e, "websocket upgrade failed, staying on polling"),
                    }
                }
                () = self.out.ready.notified() => {
                    let mut queued = Vec::new();
                    let close = self.out.take(&mut queued);
                    for packet in queued {
                        pending.append(&mut packet.into_frames());
                    }
                    if close {
                        if let Some(ws) = upgraded.take() {
                            let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close()).await;
                        }
                        let _ = tokio::time::timeout(Duration::from_secs(2), http.post(Bytes::from_static(b"1"))).await;
                        return Closed::Client;
                    }
                }
                () = sleep_until(deadline) => return Closed::PingTimeout,
            }
        }
    }
}

/// How a WebSocket error ends the connection: a lost connection is the server's close; a
/// protocol error (answered with a close frame that says why) is a transport error.
async fn ws_failed(ws: Ws, e: WsError) -> Closed {
    match e {
        WsError::Gone(_) => Closed::TransportClose,
        WsError::Protocol { .. } => {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close()).await;
            Closed::TransportError(format!("websocket error: {e}"))
        }
    }
}

/// The WebSocket probe of the upgrade: `2probe` out, `3probe` back.
async fn probe(opts: &EngineOptions, sid: &str) -> Result<Ws, Error> {
    let connect = tokio::time::timeout(opts.timeout, ws_connect(opts, Some(sid)));
    let mut ws = connect.await.map_err(|_| Error::Timeout("the upgrade"))??;
    ws.send(OutFrame::Text(Bytes::from_static(b"2probe")))
        .await
        .map_err(|e| Error::Transport(format!("websocket error: {e}")))?;
    let reply =
        tokio::time::timeout(opts.timeout, ws.recv()).await.map_err(|_| Error::Timeout("the probe"))?;
    match reply {
        Ok(WsMessage::Text(t)) if &t[..] == b"3probe" => Ok(ws),
        other => Err(Error::Protocol(format!("unexpected probe answer: {other:?}"))),
    }
}

/// Opens a WebSocket: the HTTP upgrade (RFC 6455 §4.1) over a connection of its own,
/// checked as §4.1 asks (101, `Upgrade`, `Connection`, the accept key, no extension or
/// subprotocol the client did not offer), then sio's framing on the upgraded connection.
async fn ws_connect(opts: &EngineOptions, sid: Option<&str>) -> Result<Ws, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::Transport(format!("websocket error: {e}"));
    let url = opts.target.url(Transport::WebSocket, sid, &opts.query);
    let uri: http::Uri = url.parse().map_err(|e| Error::Config(format!("bad url {url:?}: {e}")))?;
    let authority = uri.authority().ok_or_else(|| Error::Config(format!("{url}: no host")))?.clone();
    let tcp = TcpStream::connect((authority.host(), authority.port_u16().unwrap_or(80)))
        .await
        .map_err(|e| failed(&e))?;
    tcp.set_nodelay(true).map_err(|e| failed(&e))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| failed(&e))?;
    // The connection runs until the upgrade hands its socket over (or the request fails).
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let mut req = Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(header::HOST, authority.as_str())
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, &key)
        .body(Empty::<Bytes>::new())
        .map_err(|e| Error::Config(format!("bad url {url:?}: {e}")))?;
    for (k, v) in &opts.headers {
        req.headers_mut().append(k, v.clone());
    }
    let res = sender.send_request(req).await.map_err(|e| failed(&e))?;
    if res.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(Error::Transport(format!("websocket error: HTTP error: {}", res.status())));
    }
    let h = res.headers();
    let has = |name: header::HeaderName, token: &str| {
        h.get_all(name)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))))
    };
    let accept = sio_core::__client::accept_key(key.as_bytes());
    let refusal = if !has(header::UPGRADE, "websocket") {
        Some("no `Upgrade: websocket` in the answer")
    } else if !has(header::CONNECTION, "upgrade") {
        Some("no `Connection: upgrade` in the answer")
    } else if h.get(header::SEC_WEBSOCKET_ACCEPT).is_none_or(|v| v.as_bytes() != accept.as_bytes()) {
        Some("a wrong Sec-WebSocket-Accept")
    } else if h.contains_key(header::SEC_WEBSOCKET_EXTENSIONS) {
        // None is offered (an `extra_header` may ask for one; none is spoken).
        Some("an extension the client does not speak")
    } else if h.contains_key(header::SEC_WEBSOCKET_PROTOCOL)
        && !opts.headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL)
    {
        Some("a subprotocol the client did not offer")
    } else {
        None
    };
    if let Some(why) = refusal {
        return Err(Error::Protocol(format!("websocket handshake: {why}")));
    }
    let io = hyper::upgrade::on(res).await.map_err(|e| failed(&e))?;
    Ok(Ws::new(io, opts.max_payload))
}

async fn read_ws_open(ws: &mut Ws) -> Result<Handshake, Error> {
    match ws.recv().await {
        Ok(WsMessage::Text(t)) if t.first() == Some(&b'0') => Handshake::parse(&t[1..]),
        Ok(WsMessage::Close) => Err(Error::Transport("the server closed the websocket".into())),
        other => Err(Error::Protocol(format!("expected an open packet, got {other:?}"))),
    }
}

/// An Engine.IO packet from the server.
#[derive(Debug, PartialEq, Eq)]
enum Packet {
    Open(Bytes),
    Close,
    Ping(Bytes),
    Pong(Bytes),
    Message(Message),
    Upgrade,
    Noop,
}

/// A text packet: its type, then its data.
fn decode_text(text: Bytes) -> Result<Packet, String> {
    let Some(&first) = text.first() else { return Err("empty packet".into()) };
    let mut data = text;
    data.advance(1);
    Ok(match first {
        b'0' => Packet::Open(data),
        b'1' => Packet::Close,
        b'2' => Packet::Ping(data),
        b'3' => Packet::Pong(data),
        b'4' => Packet::Message(Message::Text(data)),
        b'5' => Packet::Upgrade,
        b'6' => Packet::Noop,
        other => return Err(format!("unknown packet type {:?}", other as char)),
    })
}

/// A polling payload: packets separated by `\x1e`, binary ones as `b<base64>`.
fn decode_payload(body: &Bytes) -> Result<Vec<Packet>, String> {
    if std::str::from_utf8(body).is_err() {
        return Err("a polling payload that is not UTF-8".into());
    }
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..=body.len() {
        if i < body.len() && body[i] != 0x1e {
            continue;
        }
        let part = body.slice(start..i);
        start = i + 1;
        if part.first() == Some(&b'b') {
            let bin = base64::engine::general_purpose::STANDARD
                .decode(&part[1..])
                .map_err(|e| format!("bad base64 in a polling payload: {e}"))?;
            out.push(Packet::Message(Message::Binary(bin.into())));
        } else {
            out.push(decode_text(part)?);
        }
    }
    Ok(out)
}

/// Takes from `pending` what fits in one POST of at most `max` bytes (at least one frame).
fn encode_payload(pending: &mut Vec<Frame>, max: usize) -> Bytes {
    let mut buf = BytesMut::new();
    let mut taken = 0;
    for f in pending.iter() {
        let len = match f {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => 1 + b.len().div_ceil(3) * 4,
        };
        if taken > 0 && buf.len() + 1 + len > max {
            break;
        }
        if taken > 0 {
            buf.put_u8(0x1e);
        }
        match f {
            Frame::Text(t) => buf.put_slice(t.as_bytes()),
            Frame::Binary(b) => {
                buf.put_u8(b'b');
                buf.put_slice(base64::engine::general_purpose::STANDARD.encode(b).as_bytes());
            }
        }
        taken += 1;
    }
    pending.drain(..taken);
    buf.freeze()
}

/// Long-polling requests of one session.
struct Http {
    client: HttpClient<HttpConnector, Full<Bytes>>,
    url: String,
    headers: HeaderMap,
    max_payload: usize,
}

impl Http {
    fn new(opts: &EngineOptions) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            client: HttpClient::builder(TokioExecutor::new()).build(connector),
            url: opts.target.url(Transport::Polling, None, &opts.query),
            headers: opts.headers.clone(),
            max_payload: opts.max_payload,
        }
    }

    fn with_sid(self, sid: &str) -> Self {
        let url = format!("{}&sid={sid}", self.url);
        Self { url, ..self }
    }

    fn request(&self, method: http::Method, body: Bytes) -> Result<Request<Full<Bytes>>, Error> {
        let mut req = Request::builder().method(method).uri(&self.url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if !body.is_empty() {
            req = req.header(http::header::CONTENT_TYPE, "text/plain;charset=UTF-8");
        }
        req.body(Full::new(body)).map_err(|e| Error::Config(format!("bad url: {e}")))
    }

    /// A GET: the handshake (`None`) or a long poll.
    async fn get(&self, _poll: Option<()>) -> Result<Bytes, Error> {
        let res = self
            .client
            .request(self.request(http::Method::GET, Bytes::new())?)
            .await
            .map_err(|e| Error::Transport(format!("xhr poll error: {e}")))?;
        let status = res.status();
        let body = Limited::new(res.into_body(), self.max_payload)
            .collect()
            .await
            .map_err(|e| Error::Transport(format!("xhr poll error: {e}")))?
            .to_bytes();
        if status != StatusCode::OK {
            return Err(Error::Transport(format!(
                "xhr poll error: {status} {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            )));
        }
        Ok(body)
    }

    async fn post(&self, body: Bytes) -> Result<(), Error> {
        let res = self
            .client
            .request(self.request(http::Method::POST, body)?)
            .await
            .map_err(|e| Error::Transport(format!("xhr post error: {e}")))?;
        let status = res.status();
        let _ = Limited::new(res.into_body(), 1024).collect().await;
        if status != StatusCode::OK {
            return Err(Error::Transport(format!("xhr post error: {status}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_respect_max_payload() {
        let mut pending = vec![
            Frame::Text("42[\"a\"]".into()),
            Frame::Binary(Bytes::from_static(&[1, 2, 3])),
            Frame::Text("3".into()),
        ];
        let body = encode_payload(&mut pending, 1_000_000);
        assert!(pending.is_empty());
        assert_eq!(&body[..], b"42[\"a\"]\x1ebAQID\x1e3");
        let packets = decode_payload(&body).expect("decodes");
        assert_eq!(
            packets,
            vec![
                Packet::Message(Message::Text(Bytes::from_static(b"2[\"a\"]"))),
                Packet::Message(Message::Binary(Bytes::from_static(&[1, 2, 3]))),
                Packet::Pong(Bytes::new()),
            ]
        );
        let mut pending = vec![Frame::Text("4aaaa".into()), Frame::Text("4bbbb".into())];
        assert_eq!(&encode_payload(&mut pending, 8)[..], b"4aaaa");
        assert_eq!(&encode_payload(&mut pending, 8)[..], b"4bbbb");
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        for junk in [&b"x"[..], b"", b"b!!", b"4a\x1e", b"\xff\xfe"] {
            let r = decode_payload(&Bytes::copy_from_slice(junk));
            assert!(r.is_err(), "{junk:?}: {r:?}");
        }
    }
}
