//! The chat server of `examples/chat`: nicknames from the handshake auth, rooms with member
//! counts, messages acknowledged with their server id and time, a typing indicator and the
//! last 50 messages of a room replayed on join. The page (`examples/chat/web`) is written in
//! TypeScript against the typings sio-typegen renders from this module.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

const HISTORY: usize = 50;

/// A chat message as stored and delivered.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Message {
    /// Server-assigned id, increasing.
    pub id: u64,
    /// The room it was sent to.
    pub room: String,
    /// The sender's nickname.
    pub name: String,
    /// The text.
    pub text: String,
    /// Server time, ms since the epoch.
    pub ts: u64,
}

/// The sender's acknowledgement: the server's id and time for the message.
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct Delivered {
    /// The message's id.
    pub id: u64,
    /// Server time, ms since the epoch.
    pub ts: u64,
}

/// A room and how many people are in it.
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct RoomInfo {
    /// Room name.
    pub room: String,
    /// Sockets in it.
    pub members: usize,
}

/// The handshake auth: `io("/chat", { auth: { name } })`.
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct Login {
    /// Nickname, 1 to 32 characters, unique.
    pub name: String,
}

/// A message the client sends.
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct Outgoing {
    /// A room you are in.
    pub room: String,
    /// Up to 2000 characters.
    pub text: String,
}

/// What the server sends to clients of `/chat`.
#[server_events(rename_all = "kebab-case", client)]
#[derive(Debug)]
pub enum ChatEvent {
    /// Every room with its member count (sent to everyone when it changes).
    Rooms(Vec<RoomInfo>),
    /// A message in a room you are in.
    Message(Message),
    /// Someone joined a room you are in.
    UserJoined {
        /// The room.
        room: String,
        /// Who.
        name: String,
    },
    /// Someone left a room you are in.
    UserLeft {
        /// The room.
        room: String,
        /// Who.
        name: String,
    },
    /// Someone is typing in a room you are in (volatile: may be dropped).
    Typing {
        /// The room.
        room: String,
        /// Who.
        name: String,
    },
}

/// The chat's state: nicknames in use, and the last messages of each room.
#[derive(Debug, Default)]
pub struct Chat {
    names: Mutex<HashSet<String>>,
    history: Mutex<HashMap<String, VecDeque<Message>>>,
    next_id: AtomicU64,
}

#[derive(Clone)]
struct Name(String);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

fn name_of(conn: &Conn<ChatEvent>) -> String {
    conn.extensions().get::<Name>().map(|n| n.0).unwrap_or_default()
}

/// Sends every client the room list with member counts.
fn publish_rooms(conn: &Conn<ChatEvent>) {
    let ns = conn.namespace();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in ns.sockets() {
        for room in c.rooms().into_iter().skip(1) {
            *counts.entry(room.to_string()).or_default() += 1;
        }
    }
    let mut rooms: Vec<RoomInfo> =
        counts.into_iter().map(|(room, members)| RoomInfo { room, members }).collect();
    rooms.sort_by(|a, b| a.room.cmp(&b.room));
    let _ = ns.emit(ChatEvent::Rooms(rooms));
}

/// The `/chat` namespace.
#[namespace("/chat", emits = ChatEvent, rename_all = "kebab-case", client)]
impl Chat {
    /// Takes a nickname from the auth payload; refuses empty or taken ones.
    #[connect]
    async fn login(&self, s: Conn, auth: Option<Login>) -> Result<(), ConnectError> {
        let name = auth.map(|a| a.name.trim().to_owned()).unwrap_or_default();
        if name.is_empty() || name.chars().count() > 32 {
            return Err(ConnectError::new("Pick a nickname (1 to 32 characters)"));
        }
        if !self.names.lock().insert(name.clone()) {
            return Err(
                ConnectError::new("That nickname is taken").with_data(&serde_json::json!({ "name": name }))
            );
        }
        s.extensions().insert(Name(name));
        publish_rooms(&s);
        Ok(())
    }

    /// Joins a room; the ack is the room's last messages.
    #[event(rename = "join")]
    async fn join_room(&self, s: Conn, room: String) -> Vec<Message> {
        let room = room.trim().to_owned();
        if room.is_empty() {
            return Vec::new();
        }
        s.join(room.as_str());
        let history = self.history.lock().get(&room).map(|h| h.iter().cloned().collect()).unwrap_or_default();
        let _ = s.to(room.as_str()).emit(ChatEvent::UserJoined { room, name: name_of(&s) });
        publish_rooms(&s);
        history
    }

    /// Leaves a room.
    #[event]
    async fn leave(&self, s: Conn, room: String) {
        s.leave(room.as_str());
        let _ = s.to(room.as_str()).emit(ChatEvent::UserLeft { room, name: name_of(&s) });
        publish_rooms(&s);
    }

    /// The nicknames in a room.
    #[event]
    async fn members(&self, s: Conn, room: String) -> Vec<String> {
        let mut names: Vec<String> = s.namespace().to(room).sockets().iter().map(name_of).collect();
        names.sort();
        names
    }

    /// Sends a message to a room you are in; the ack carries its id and time (`null` when refused).
    #[event]
    async fn msg(&self, s: Conn, m: Outgoing) -> Option<Delivered> {
        let text: String = m.text.chars().take(2000).collect();
        if text.trim().is_empty() || !s.rooms().iter().any(|r| r.as_str() == m.room) {
            return None;
        }
        let msg = Message {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            room: m.room.clone(),
            name: name_of(&s),
            text,
            ts: now_ms(),
        };
        {
            let mut history = self.history.lock();
            let h = history.entry(m.room.clone()).or_default();
            h.push_back(msg.clone());
            while h.len() > HISTORY {
                h.pop_front();
            }
        }
        let delivered = Delivered { id: msg.id, ts: msg.ts };
        let _ = s.to(m.room.as_str()).emit(ChatEvent::Message(msg));
        Some(delivered)
    }

    /// Tells a room you are typing.
    #[event]
    async fn typing(&self, s: Conn, room: String) {
        // Volatile: a dropped typing notice is harmless.
        let _ = s.to(room.as_str()).volatile().emit(ChatEvent::Typing { room, name: name_of(&s) });
    }

    #[disconnect]
    async fn logout(&self, s: Conn, reason: DisconnectReason) {
        let name = name_of(&s);
        self.names.lock().remove(&name);
        tracing::info!(%name, %reason, "left");
        publish_rooms(&s);
    }
}

/// The page, its script (built from `web/src/main.ts`) and the Socket.IO server, in one router.
pub fn app(io: &Server) -> axum::Router {
    axum::Router::new().route("/", get(index)).route("/app.js", get(script)).merge(io.router())
}

/// The server with the `/chat` namespace.
pub fn server() -> Server {
    builder().build()
}

/// [`server`]'s builder, for settings on top (the example's admin UI and metrics).
pub fn builder() -> sio_core::ServerBuilder {
    Server::builder().namespace(Chat::default())
}

/// The typings the page is written against (`web/src/sio.ts`).
pub fn typings() -> sio_typegen::Typegen {
    sio_typegen::Typegen::new().namespace::<Chat>()
}

async fn index() -> impl IntoResponse {
    Html(include_str!("../chat/web/index.html"))
}

async fn script() -> impl IntoResponse {
    (
        [(http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../chat/web/dist/app.js"),
    )
}
