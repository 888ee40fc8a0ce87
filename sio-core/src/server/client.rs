//! One client per Engine.IO session: routes packets to its sockets, reassembles binary
//! packets, runs connects.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use super::ServerInner;
use super::encode;
use super::handshake::Handshake;
use super::namespace::Namespace;
use super::reason::DisconnectReason;
use super::recovery::{Recovery, Restored};
use super::socket::{Conn, Event, SocketInner};
use crate::Sid;
use crate::engine::{CloseReason, EngineHandler, Message, ProtocolVersion, Session, Tasks};
use crate::protocol::{Packet, PacketType, Parser, Payload, msgpack};
use serde_json::value::RawValue;

/// The part of a client that sockets and other tasks reach.
pub(crate) struct ClientShared {
    pub(crate) session: Arc<Session>,
    pub(crate) server: Arc<ServerInner>,
    pub(crate) handshake: Handshake,
    sockets: Mutex<Vec<Arc<SocketInner>>>,
    /// Ends the connect-timeout timer early: a namespace was joined, or the session closed.
    settled: tokio::sync::Notify,
}

impl ClientShared {
    pub(crate) fn remove(&self, socket: &SocketInner) {
        self.sockets.lock().retain(|s| s.id != socket.id);
    }

    /// The connection's sockets now.
    pub(crate) fn sockets(&self) -> Vec<Arc<SocketInner>> {
        self.sockets.lock().clone()
    }

    fn find(&self, nsp: &str) -> Option<Arc<SocketInner>> {
        self.sockets.lock().iter().find(|s| s.ns.path() == nsp).cloned()
    }
}

/// A binary packet waiting for its attachments.
struct PendingBinary {
    packet: Packet,
    attachments: Vec<Bytes>,
    bytes: usize,
}

/// Per-session state of the Socket.IO layer, owned by the session task.
pub(crate) struct Client {
    shared: Arc<ClientShared>,
    server: Arc<ServerInner>,
    pending: Option<PendingBinary>,
    /// Namespaces whose CONNECT is being processed (middlewares, connect handler).
    connecting: Arc<Mutex<Vec<Box<str>>>>,
}

/// The Socket.IO server as the engine sees it.
pub(crate) struct SioHandler {
    pub(crate) server: Arc<ServerInner>,
}

impl EngineHandler for SioHandler {
    type State = Client;

    fn on_open(&self, session: &Arc<Session>, req: &http::request::Parts) -> Client {
        let shared = Arc::new(ClientShared {
            session: session.clone(),
            server: self.server.clone(),
            handshake: Handshake::from_parts(req),
            sockets: Mutex::new(Vec::new()),
            settled: tokio::sync::Notify::new(),
        });
        Client { shared, server: self.server.clone(), pending: None, connecting: Default::default() }
    }

    fn on_start(&self, client: &mut Client, tasks: &mut Tasks<'_, '_>) {
        // No namespace joined within the connect timeout: close, as the reference does.
        let shared = client.shared.clone();
        let timeout = self.server.config.connect_timeout;
        tasks.run(Box::pin(async move {
            tokio::select! {
                () = tokio::time::sleep(timeout) => {
                    if shared.sockets.lock().is_empty() && !shared.session.is_closed() {
                        tracing::debug!(sid = %shared.session.id(), "no namespace joined in time, closing");
                        shared.session.close(CloseReason::ForcedClose);
                    }
                }
                () = shared.settled.notified() => {}
            }
        }));
        // Socket.IO v4 (under Engine.IO v3): every client is in `/` from the start, without a
        // CONNECT of its own, as the reference does.
        if client.shared.session.protocol() == ProtocolVersion::V3 {
            client.connect_to("/", None, tasks);
        }
    }

    fn on_message(&self, client: &mut Client, msg: Message, tasks: &mut Tasks<'_, '_>) {
        match msg {
            Message::Text(_) if self.server.config.parser == Parser::MsgPack => {
                crate::log::limited!(warn, crate::log::Kind::Parse, sid = %client.shared.session.id(), peer = ?client.shared.session.peer(), "closing a session: a text packet, but the server uses the msgpack parser (the client must use socket.io-msgpack-parser)");
                client.shared.session.close(CloseReason::ParseError);
            }
            Message::Binary(data) if self.server.config.parser == Parser::MsgPack => {
                let config = &self.server.config;
                match msgpack::decode(&data, config.max_attachments, config.max_attachment_bytes) {
                    Ok((packet, attachments)) => client.on_packet(packet, attachments, tasks),
                    Err(e) => {
                        crate::log::limited!(warn, crate::log::Kind::Parse, sid = %client.shared.session.id(), peer = ?client.shared.session.peer(), error = %e, "closing a session: invalid msgpack packet (does the client use socket.io-msgpack-parser?)");
                        client.shared.session.close(CloseReason::ParseError);
                    }
                }
            }
            Message::Text(text) => {
                if client.pending.is_some() {
                    return client.protocol_error("text packet while attachments were expected");
                }
                match Packet::decode(text, self.server.config.max_attachments) {
                    Ok(packet) if packet.attachments > 0 => {
                        if client.shared.find(packet.nsp.as_str()).is_none() {
                            return client.protocol_error("binary packet for a namespace not joined");
                        }
                        let n = packet.attachments;
                        client.pending =
                            Some(PendingBinary { packet, attachments: Vec::with_capacity(n), bytes: 0 });
                    }
                    Ok(packet) => client.on_packet(packet, Vec::new(), tasks),
                    Err(e) => {
                        crate::log::limited!(warn, crate::log::Kind::Parse, sid = %client.shared.session.id(), peer = ?client.shared.session.peer(), error = %e, "closing a session: invalid Socket.IO packet");
                        client.shared.session.close(CloseReason::ParseError);
                    }
                }
            }
            Message::Binary(data) => {
                let Some(pending) = client.pending.as_mut() else {
                    return client.protocol_error(
                        "a binary message where no attachment was expected (a msgpack client? the server uses the JSON parser)",
                    );
                };
                pending.bytes += data.len();
                if pending.bytes > self.server.config.max_attachment_bytes {
                    crate::log::limited!(warn, crate::log::Kind::TooLarge, sid = %client.shared.session.id(), peer = ?client.shared.session.peer(), limit = self.server.config.max_attachment_bytes, "closing a session: binary attachments over max_attachment_bytes");
                    client.pending = None;
                    client.shared.session.close(CloseReason::TransportError);
                    return;
                }
                pending.attachments.push(data);
                if pending.attachments.len() == pending.packet.attachments
                    && let Some(p) = client.pending.take()
                {
                    client.on_packet(p.packet, p.attachments, tasks);
                }
            }
        }
    }

    #[cfg(feature = "admin-ui")]
    fn on_upgrade(&self, client: &mut Client) {
        if let Some(admin) = &self.server.config.admin {
            for socket in client.shared.sockets.lock().iter() {
                admin.upgraded(socket.ns.path(), socket.id.as_str());
            }
        }
    }

    fn on_close(&self, client: &mut Client, reason: CloseReason, tasks: &mut Tasks<'_, '_>) {
        client.pending = None;
        client.shared.settled.notify_waiters();
        let reason = DisconnectReason::from(reason);
        let sockets = std::mem::take(&mut *client.shared.sockets.lock());
        for socket in sockets {
            if let Some(handlers) = socket.leave(reason) {
                tasks.run(handlers);
            }
        }
    }
}

impl Client {
    fn protocol_error(&self, what: &str) {
        crate::log::limited!(warn, crate::log::Kind::Parse, sid = %self.shared.session.id(), peer = ?self.shared.session.peer(), what, "closing a session: Socket.IO protocol error");
        self.shared.session.close(CloseReason::ParseError);
    }

    fn on_packet(&mut self, packet: Packet, attachments: Vec<Bytes>, tasks: &mut Tasks<'_, '_>) {
        let nsp = packet.nsp.as_str();
        match packet.kind {
            PacketType::Connect => self.connect(packet, tasks),
            PacketType::Disconnect => {
                if let Some(socket) = self.shared.find(nsp)
                    && let Some(handlers) = socket.leave(DisconnectReason::ClientNamespaceDisconnect)
                {
                    tasks.run(handlers);
                }
            }
            PacketType::Event | PacketType::BinaryEvent => {
                let Some(socket) = self.shared.find(nsp) else {
                    return self.protocol_error("event for a namespace not joined");
                };
                let event = Event::new(packet, attachments, &socket);
                tasks.run(socket.ns.handler.event(Conn::from_inner(socket.clone()), event));
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(socket) = self.shared.find(nsp) else {
                    return self.protocol_error("ack for a namespace not joined");
                };
                if let Some(id) = packet.id {
                    socket.on_ack(id, Payload { data: packet.data, attachments });
                }
            }
            PacketType::ConnectError => self.protocol_error("CONNECT_ERROR from a client"),
        }
    }

    fn connect(&mut self, packet: Packet, tasks: &mut Tasks<'_, '_>) {
        if self.shared.session.protocol() == ProtocolVersion::V3 {
            // Socket.IO v4: the auth is the query string of the namespace (`/chat?token=x`).
            let (path, query) = packet.nsp.as_str().split_once('?').unwrap_or((packet.nsp.as_str(), ""));
            let auth: serde_json::Map<String, serde_json::Value> = form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
                .collect();
            let auth = serde_json::value::to_raw_value(&auth).ok();
            return self.connect_to(path, auth, tasks);
        }
        let auth = if packet.data.is_empty() {
            None
        } else {
            std::str::from_utf8(&packet.data)
                .ok()
                .and_then(|s| serde_json::value::RawValue::from_string(s.to_owned()).ok())
        };
        self.connect_to(packet.nsp.as_str(), auth, tasks);
    }

    fn connect_to(
        &mut self,
        path: &str,
        auth: Option<Box<serde_json::value::RawValue>>,
        tasks: &mut Tasks<'_, '_>,
    ) {
        if self.shared.find(path).is_some() || self.connecting.lock().iter().any(|p| &**p == path) {
            return self.protocol_error("CONNECT to a namespace already joined");
        }
        let limit = self.server.config.max_namespaces_per_client;
        if self.shared.sockets.lock().len() + self.connecting.lock().len() >= limit {
            let _ = self.shared.session.send(encode::connect_error(
                self.server.config.parser,
                path,
                "Too many namespaces",
                None,
            ));
            return;
        }
        let ns = match self.server.namespace_for(path) {
            Ok(ns) => ns,
            Err(message) => {
                let _ = self.shared.session.send(encode::connect_error(
                    self.server.config.parser,
                    path,
                    message,
                    None,
                ));
                return;
            }
        };
        // v3 clients compute the id of their socket in `/` as the engine's id (and, elsewhere,
        // as `/nsp#<engine id>`, which does not fit a `Sid`: those get a fresh one).
        let v3 = self.shared.session.protocol() == ProtocolVersion::V3;
        let id = if v3 && path == "/" { self.shared.session.id() } else { Sid::new() };
        // Connection state recovery is for Socket.IO v5 clients.
        let recovery = if v3 { None } else { ns.recovery.clone() };
        self.connecting.lock().push(path.into());
        let connecting = self.connecting.clone();
        let shared = self.shared.clone();
        let pending = Pending { server: self.server.clone(), ns: ns.clone() };
        let start = Start { id, auth, recovery };
        tasks.run(Box::pin(run_connect(ns, start, shared, connecting, pending)));
    }
}

/// The fields of a CONNECT's auth that name a session to recover (the rest is the app's).
#[derive(serde::Deserialize)]
struct RecoveryAuth {
    pid: Option<serde_json::Value>,
    offset: Option<serde_json::Value>,
}

/// A CONNECT counted on its namespace; settled however `run_connect` ends (dropped or
/// panicking included), so an empty dynamic namespace can be dropped.
struct Pending {
    server: Arc<ServerInner>,
    ns: Arc<Namespace>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.server.settle(&self.ns);
    }
}

/// What a CONNECT asked for: a socket id (unless it recovers a session), its auth.
struct Start {
    id: Sid,
    auth: Option<Box<serde_json::value::RawValue>>,
    recovery: Option<Arc<Recovery>>,
}

/// A fresh private session id, or the session the auth's `pid` and `offset` name: kept by
/// this node, else by the adapter (when it recovers sessions across nodes).
async fn restore(ns: &Namespace, rec: &Recovery, auth: Option<&RawValue>) -> (Sid, Option<Restored>) {
    let asked = auth
        .and_then(|raw| serde_json::from_str::<RecoveryAuth>(raw.get()).ok())
        .and_then(|a| Some((a.pid?.as_str()?.to_owned(), a.offset?.as_str()?.to_owned())));
    let mut restored = None;
    if let Some((pid, offset)) = asked {
        if !ns.adapter_logs {
            restored = rec.take(&pid, &offset);
        }
        if restored.is_none()
            && let Some(lookup) = ns.adapter().and_then(|a| a.restore_session(&pid, &offset))
        {
            match tokio::time::timeout(ns.config.ack_timeout, lookup).await {
                Ok(Ok(Some(session))) => {
                    restored = rec.restored_remotely(session, ns.config.parser, ns.path())
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(ns = ns.path(), error = %e, "the adapter could not restore a session")
                }
                Err(_) => tracing::warn!(ns = ns.path(), "the adapter did not restore a session in time"),
            }
        }
    }
    (restored.as_ref().map_or_else(Sid::new, |r| r.saved.pid), restored)
}

async fn run_connect(
    ns: Arc<Namespace>,
    start: Start,
    shared: Arc<ClientShared>,
    connecting: Arc<Mutex<Vec<Box<str>>>>,
    pending: Pending,
) {
    let _pending = pending;
    let Start { id, auth, recovery } = start;
    let (pid, restored) = match &recovery {
        Some(rec) => {
            let (pid, restored) = restore(&ns, rec, auth.as_deref()).await;
            (Some(pid), restored)
        }
        None => (None, None),
    };
    let id = restored.as_ref().map_or(id, |r| r.saved.sid);
    let rooms = restored.as_ref().map(|r| r.saved.rooms.clone()).unwrap_or_default();
    let socket = Arc::new(SocketInner::new(id, ns.clone(), shared.clone(), auth, pid, restored));
    for room in rooms {
        ns.join(&socket, room);
    }
    let mut result = Ok(());
    let skip = socket.recovered() && ns.recovery.as_ref().is_some_and(|r| r.config.skip_middlewares);
    for mw in ns.middlewares.iter().filter(|_| !skip) {
        result = mw(Conn::from_inner(socket.clone())).await;
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = ns.handler.connect(Conn::from_inner(socket.clone())).await;
    }
    connecting.lock().retain(|p| &**p != ns.path());
    match result {
        Ok(()) if !shared.session.is_closed() => {
            let admit = |missed| {
                ns.insert_socket(&socket);
                shared.sockets.lock().push(socket.clone());
                socket.mark_connected(missed);
                #[cfg(feature = "admin-ui")]
                if let Some(admin) = &ns.config.admin {
                    admin.connected(&Conn::from_inner(socket.clone()));
                }
            };
            let restored = socket.take_restored();
            match (&ns.recovery, restored) {
                (Some(rec), Some(restored)) => {
                    let rooms = socket.rooms.lock().clone();
                    rec.replay(&restored, &rooms, admit);
                }
                _ => admit(Vec::new()),
            }
            shared.settled.notify_waiters();
        }
        Ok(()) => {
            // The connection closed meanwhile: out of the rooms the socket joined, and a
            // recovered session stays for the next attempt.
            ns.remove_socket(&socket);
            if let (Some(rec), Some(r)) = (&ns.recovery, socket.take_restored()) {
                match ns.adapter() {
                    Some(adapter) if ns.adapter_logs => {
                        adapter.persist_session(&r.saved, rec.config.max_disconnection_duration)
                    }
                    _ => rec.persist(r.saved),
                }
            }
        }
        Err(e) => {
            ns.remove_socket(&socket);
            let frame = match shared.session.protocol() {
                ProtocolVersion::V4 => {
                    encode::connect_error(ns.config.parser, ns.path(), e.message(), e.data())
                }
                // Socket.IO v4: the error's data, or else its message, as the reference sends.
                ProtocolVersion::V3 => encode::connect_error_v3(ns.path(), e.message(), e.data()),
            };
            let _ = shared.session.send(frame);
        }
    }
}
