//! One Socket.IO client over WebSocket or long-polling: the Engine.IO handshake, the
//! namespace CONNECT, sending packets and receiving messages. Server pings are answered here.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message as Ws, Utf8Bytes};

use crate::http1::HttpConn;

pub(crate) type WsStream = WebSocketStream<TcpStream>;

/// The WebSocket handshake on a connected `tcp` (no Nagle; reset, not closed, when dropped),
/// up to the Engine.IO open packet.
pub(crate) async fn ws_open(target: &Target, tcp: TcpStream) -> io::Result<WsStream> {
    tcp.set_nodelay(true)?;
    tcp.set_zero_linger()?;
    let url = format!("ws://{}{}?EIO=4&transport=websocket", target.addr, target.path);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_config()))
        .await
        .map_err(|e| err(format!("websocket handshake: {e}")))?;
    match ws.next().await {
        Some(Ok(Ws::Text(t))) if t.starts_with('0') => Ok(ws),
        other => Err(err(format!("expected the open packet, got {other:?}"))),
    }
}

/// Where the server is.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    /// Engine.IO path with a trailing slash, e.g. `/socket.io/`.
    pub(crate) path: String,
}

/// A packet to send: a Socket.IO text packet (written without the engine's `4`, which is
/// added here) or a binary attachment.
#[derive(Debug, Clone)]
pub(crate) enum Out {
    Text(String),
    Binary(Bytes),
    /// The engine's close packet (`1`): the session ends.
    Close,
}

/// A message received: a Socket.IO text packet (engine `4` removed) or an attachment.
#[derive(Debug, Clone)]
pub(crate) enum In {
    Text(Bytes),
    Binary(Bytes),
}

fn err(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

/// A connected client (namespace `/` joined).
pub(crate) enum Client {
    Ws(Box<WsStream>),
    Polling(Polling),
}

/// A long-polling client: one task long-polls (GET), one posts what is queued (POST), each on
/// its own keep-alive connection, as browsers do.
pub(crate) struct Polling {
    out: mpsc::UnboundedSender<Out>,
    inbox: mpsc::UnboundedReceiver<io::Result<In>>,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Polling {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub(crate) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(8 * 1024)
}

/// Splits an Engine.IO message into what the Socket.IO layer sees; `None` for control packets.
fn engine_text(t: Bytes) -> io::Result<Option<Bytes>> {
    match t.first() {
        Some(b'4') => Ok(Some(t.slice(1..))),
        Some(b'2' | b'6') => Ok(None),
        Some(b'1') => Err(err("server closed the session")),
        _ => Err(err(format!("unexpected engine packet {:?}", String::from_utf8_lossy(&t)))),
    }
}

impl Client {
    /// Handshake and namespace CONNECT, over WebSocket or polling, within `timeout`.
    pub(crate) async fn connect(target: &Target, polling: bool, timeout: Duration) -> io::Result<Client> {
        let fut = async {
            if polling { Self::connect_polling(target).await } else { Self::connect_ws(target).await }
        };
        tokio::time::timeout(timeout, fut).await.map_err(|_| err("connect timed out"))?
    }

    async fn connect_ws(target: &Target) -> io::Result<Client> {
        let mut ws = ws_open(target, TcpStream::connect(target.addr).await?).await?;
        ws.send(Ws::Text(Utf8Bytes::from_static("40"))).await.map_err(|e| err(e.to_string()))?;
        let mut client = Client::Ws(Box::new(ws));
        client.await_connect().await?;
        Ok(client)
    }

    async fn connect_polling(target: &Target) -> io::Result<Client> {
        let mut get = HttpConn::connect(target.addr).await?;
        let (status, open) =
            get.request("GET", &format!("{}?EIO=4&transport=polling", target.path), b"").await?;
        if status != 200 || open.first() != Some(&b'0') {
            return Err(err(format!("polling handshake answered {status}")));
        }
        let open_end = open.iter().position(|&b| b == 0x1e).unwrap_or(open.len());
        let v: serde_json::Value =
            serde_json::from_slice(&open[1..open_end]).map_err(|e| err(format!("open packet: {e}")))?;
        let sid = v["sid"].as_str().ok_or_else(|| err("open packet without sid"))?.to_owned();
        let uri = format!("{}?EIO=4&transport=polling&sid={sid}", target.path);
        let mut post = HttpConn::connect(target.addr).await?;
        let (status, _) = post.request("POST", &uri, b"40").await?;
        if status != 200 {
            return Err(err(format!("connect POST answered {status}")));
        }
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(poll_loop(get, uri.clone(), in_tx, out_tx.clone()));
        let writer = tokio::spawn(post_loop(post, uri, out_rx));
        let mut client = Client::Polling(Polling { out: out_tx, inbox: in_rx, tasks: [reader, writer] });
        client.await_connect().await?;
        Ok(client)
    }

    async fn await_connect(&mut self) -> io::Result<()> {
        match self.recv().await? {
            In::Text(t) if t.starts_with(b"0") => Ok(()),
            In::Text(t) if t.starts_with(b"4") => {
                Err(err(format!("namespace refused: {}", String::from_utf8_lossy(&t))))
            }
            other => Err(err(format!("expected CONNECT, got {other:?}"))),
        }
    }

    /// Whether this client uses long-polling.
    pub(crate) fn is_polling(&self) -> bool {
        matches!(self, Client::Polling(_))
    }

    /// Sends packets: over WebSocket one frame each and one flush, over polling one POST.
    pub(crate) async fn send(&mut self, packets: Vec<Out>) -> io::Result<()> {
        match self {
            Client::Ws(ws) => {
                for p in packets {
                    ws.feed(to_ws(p)).await.map_err(|e| err(e.to_string()))?;
                }
                ws.flush().await.map_err(|e| err(e.to_string()))
            }
            Client::Polling(p) => {
                for packet in packets {
                    p.out.send(packet).map_err(|_| err("polling writer gone"))?;
                }
                Ok(())
            }
        }
    }

    /// The next Socket.IO message. Cancel-safe.
    pub(crate) async fn recv(&mut self) -> io::Result<In> {
        match self {
            Client::Ws(ws) => loop {
                match ws.next().await {
                    Some(Ok(Ws::Text(t))) => {
                        let bytes = Bytes::from(t);
                        if bytes.first() == Some(&b'2') {
                            ws.send(Ws::Text(Utf8Bytes::from_static("3")))
                                .await
                                .map_err(|e| err(e.to_string()))?;
                            continue;
                        }
                        if let Some(m) = engine_text(bytes)? {
                            return Ok(In::Text(m));
                        }
                    }
                    Some(Ok(Ws::Binary(b))) => return Ok(In::Binary(b)),
                    Some(Ok(Ws::Close(_))) | None => return Err(err("websocket closed")),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(err(e.to_string())),
                }
            },
            Client::Polling(p) => p.inbox.recv().await.unwrap_or_else(|| Err(err("polling reader gone"))),
        }
    }

    /// Ends the session: a WebSocket is reset (no close handshake, no TIME_WAIT); a polling
    /// session posts the close packet first (bounded by one second).
    pub(crate) async fn close(self) {
        let Client::Polling(mut p) = self else { return };
        if p.out.send(Out::Close).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut p.tasks[1]).await;
        }
    }

    /// The WebSocket, split in its writing and reading halves (WebSocket clients only).
    pub(crate) fn split(self) -> Option<(SplitSink<WsStream, Ws>, SplitStream<WsStream>)> {
        match self {
            Client::Ws(ws) => Some((*ws).split()),
            Client::Polling(_) => None,
        }
    }
}

pub(crate) fn to_ws(p: Out) -> Ws {
    match p {
        Out::Text(mut t) => {
            t.insert(0, '4');
            Ws::Text(t.into())
        }
        Out::Binary(b) => Ws::Binary(b),
        Out::Close => Ws::Text(Utf8Bytes::from_static("1")),
    }
}

/// Long-polls until the session ends; answers pings through the writer.
async fn poll_loop(
    mut get: HttpConn,
    uri: String,
    inbox: mpsc::UnboundedSender<io::Result<In>>,
    out: mpsc::UnboundedSender<Out>,
) {
    loop {
        let r = get.request("GET", &uri, b"").await;
        let body = match r {
            Ok((200, body)) => body,
            Ok((status, _)) => {
                let _ = inbox.send(Err(err(format!("poll answered {status}"))));
                return;
            }
            Err(e) => {
                let _ = inbox.send(Err(e));
                return;
            }
        };
        let mut start = 0;
        while start <= body.len() {
            let end = body[start..].iter().position(|&b| b == 0x1e).map_or(body.len(), |i| start + i);
            let part = body.slice(start..end);
            start = end + 1;
            let msg = match part.first() {
                Some(b'b') => match STANDARD.decode(&part[1..]) {
                    Ok(raw) => Ok(Some(In::Binary(Bytes::from(raw)))),
                    Err(_) => Err(err("bad base64 in poll")),
                },
                Some(b'2') => {
                    // Ping: the pong goes out with the next POST.
                    let _ = out.send(Out::Text(String::new()));
                    continue;
                }
                _ => engine_text(part).map(|m| m.map(In::Text)),
            };
            match msg {
                Ok(Some(m)) => {
                    if inbox.send(Ok(m)).is_err() {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = inbox.send(Err(e));
                    return;
                }
            }
        }
    }
}

/// Posts whatever is queued, batched into one payload per request.
async fn post_loop(mut post: HttpConn, uri: String, mut out: mpsc::UnboundedReceiver<Out>) {
    let mut body = Vec::new();
    while let Some(first) = out.recv().await {
        body.clear();
        let mut next = Some(first);
        let mut closing = false;
        while let Some(p) = next {
            if !body.is_empty() {
                body.push(0x1e);
            }
            match p {
                // An empty text is the pong the poller asked for.
                Out::Text(t) if t.is_empty() => body.push(b'3'),
                Out::Text(t) => {
                    body.push(b'4');
                    body.extend_from_slice(t.as_bytes());
                }
                Out::Close => {
                    body.push(b'1');
                    closing = true;
                }
                Out::Binary(b) => {
                    body.push(b'b');
                    let mut s = String::new();
                    STANDARD.encode_string(&b, &mut s);
                    body.extend_from_slice(s.as_bytes());
                }
            }
            next = out.try_recv().ok();
        }
        match post.request("POST", &uri, &body).await {
            Ok((200, _)) if !closing => {}
            _ => return,
        }
    }
}
