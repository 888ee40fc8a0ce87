//! Entry points for the Criterion benches in `benches/`: the hot paths that are not public API,
//! driven in process, without a network. Not public API: may change in any release.
//!
//! [`Harness`] plays the part of the session tasks: it opens engine sessions, hands them to the
//! server's Engine.IO handler as the session task would, feeds them client messages and drains
//! their outbound queues. Everything from `Packet::decode` to the frames in the queues is the
//! production code.
#![doc(hidden)]

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Waker};

use bytes::Bytes;
use http_body_util::BodyExt as _;

use crate::Server;
use crate::engine::{EngineHandler, Frame, Message, ProtocolVersion, Session, Tasks, TransportKind};
use crate::protocol::{FromArgs, PacketType, Parser, msgpack};

/// Decodes an Engine.IO text packet (a WebSocket text frame), as the session task does.
pub fn engine_decode(text: Bytes) {
    crate::engine::fuzz::decode_text(text);
}

/// A client packet for the MessagePack parser: `{type, data, nsp, id}` with `data` given as
/// JSON (empty if it does not transcode).
pub fn msgpack_packet(kind: PacketType, nsp: &str, id: Option<u64>, json: Option<&str>) -> Bytes {
    msgpack::encode(kind, nsp, id, json.map(str::as_bytes), &[]).unwrap_or_default()
}

/// Decodes a MessagePack packet as the server does with `Parser::MsgPack`.
pub fn msgpack_decode(msg: &Bytes) -> bool {
    msgpack::decode(msg, 10, 1 << 20).is_ok()
}

/// Transcodes a JSON payload and its attachments into a MessagePack EVENT, as every emit
/// does with `Parser::MsgPack`.
pub fn msgpack_encode(json: &[u8], attachments: &[Bytes]) -> Bytes {
    msgpack::encode(PacketType::Event, "/", None, Some(json), attachments).unwrap_or_default()
}

/// Decodes a long-polling POST body into its packets.
pub fn polling_decode(body: Bytes) {
    crate::engine::fuzz::decode_payload(body);
}

/// Decodes event arguments straight from a packet's JSON array, skipping `skip` elements (1
/// for the event name), as `Event::args` does.
pub fn decode_args<T: FromArgs>(data: &[u8], skip: usize, attachments: &[Bytes]) -> serde_json::Result<T> {
    crate::protocol::decode_args_at(data, crate::protocol::ArgsAt::Skip(skip), attachments)
}

/// Answers one HTTP request with the server's engine (handshake, polling GET/POST), as
/// `Server::service` does; returns the status and the whole body. Needs a tokio runtime.
pub async fn request(server: &Server, method: &str, uri: &str, body: Bytes) -> (u16, Bytes) {
    let req = http::Request::builder().method(method).uri(uri).body(http_body_util::Full::new(body));
    let Ok(req) = req else { return (0, Bytes::new()) };
    let resp = server.engine().handle(req).await;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    (status, body)
}

type Deliver = Box<dyn FnMut(usize, Message) + Send>;

/// In-process clients of a [`Server`]: one engine session each, driven by hand.
pub struct Harness {
    server: Server,
    sessions: Vec<Arc<Session>>,
    deliver: Deliver,
    out: VecDeque<Frame>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness").field("clients", &self.sessions.len()).finish()
    }
}

impl Harness {
    /// Opens `clients` WebSocket sessions on `server` (not yet in any namespace).
    pub fn new(server: &Server, clients: usize) -> Self {
        let engine = server.engine().clone();
        let config = Arc::new(engine.config().clone());
        let (parts, ()) = http::Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket")
            .body(())
            .unwrap_or_default()
            .into_parts();
        let mut sessions = Vec::with_capacity(clients);
        let mut states = Vec::with_capacity(clients);
        for _ in 0..clients {
            let session = Arc::new(Session::new(
                TransportKind::WebSocket,
                ProtocolVersion::V4,
                true,
                config.clone(),
                Arc::default(),
                None,
            ));
            states.push(engine.handler().on_open(&session, &parts));
            sessions.push(session);
        }
        // Handler futures that do not finish at once wait here, as in the session task.
        let mut running = None;
        let mut panicked = false;
        let deliver: Deliver = Box::new(move |i, msg| {
            let mut cx = Context::from_waker(Waker::noop());
            let mut tasks = Tasks::new(&mut running, &mut cx, &mut panicked);
            engine.handler().on_message(&mut states[i], msg, &mut tasks);
        });
        Self { server: server.clone(), sessions, deliver, out: VecDeque::new() }
    }

    /// Opens `clients` sessions and connects each to namespace `nsp` (queues drained).
    pub fn connected(server: &Server, clients: usize, nsp: &str) -> Self {
        let mut h = Self::new(server, clients);
        if server.parser() == Parser::MsgPack {
            let connect = msgpack_packet(PacketType::Connect, nsp, None, None);
            for i in 0..clients {
                h.binary(i, connect.clone());
            }
            h.drain_all();
            return h;
        }
        let connect = if nsp == "/" { "0".to_owned() } else { format!("0{nsp},") };
        let connect = Bytes::from(connect);
        for i in 0..clients {
            h.text(i, connect.clone());
        }
        h.drain_all();
        h
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The number of clients.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether there are no clients.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Client `i` sends a Socket.IO text packet (the Engine.IO message's payload, without `4`).
    pub fn text(&mut self, i: usize, packet: Bytes) {
        (self.deliver)(i, Message::Text(packet));
    }

    /// Client `i` sends a binary message (an attachment).
    pub fn binary(&mut self, i: usize, data: Bytes) {
        (self.deliver)(i, Message::Binary(data));
    }

    /// Takes every frame queued for client `i`, as its session task would before a write;
    /// returns how many there were.
    pub fn drain(&mut self, i: usize) -> usize {
        self.drain_with(i, |_| {})
    }

    /// Takes every frame queued for client `i` and shows each text frame to `f`.
    pub fn drain_with(&mut self, i: usize, mut f: impl FnMut(&str)) -> usize {
        let mut cx = Context::from_waker(Waker::noop());
        let _ = self.sessions[i].outbox.poll_drain(&mut cx, &mut self.out);
        let n = self.out.len();
        for frame in self.out.drain(..) {
            if let Frame::Text(t) = frame {
                f(&t);
            }
        }
        n
    }

    /// Drains every client's queue; returns the number of frames taken.
    pub fn drain_all(&mut self) -> usize {
        (0..self.sessions.len()).map(|i| self.drain(i)).sum()
    }
}
