//! A chat server: nicknames from the handshake auth, rooms with member counts, messages
//! acknowledged with their server id and time, a typing indicator and the last 50 messages
//! of a room replayed on join. The page is served at `/`.
//!
//! `npm ci --prefix examples/chat/web && cargo run --release --example chat`, then open
//! <http://localhost:3000> in two windows.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sio_core::{Conn, ConnectError, DisconnectReason, Event, Handlers, Server};

const HISTORY: usize = 50;

#[derive(Default)]
struct Chat {
    names: Mutex<HashSet<String>>,
    history: Mutex<HashMap<String, VecDeque<Message>>>,
    next_id: AtomicU64,
}

#[derive(Clone, Serialize)]
struct Message {
    id: u64,
    room: String,
    name: String,
    text: String,
    ts: u64,
}

#[derive(Deserialize)]
struct Auth {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Outgoing {
    room: String,
    text: String,
}

#[derive(Clone)]
struct Name(String);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

fn name_of(conn: &Conn) -> String {
    conn.extensions().get::<Name>().map(|n| n.0).unwrap_or_default()
}

/// Sends every client the room list with member counts.
fn publish_rooms(conn: &Conn) {
    let ns = conn.namespace();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in ns.sockets() {
        for room in c.rooms().into_iter().skip(1) {
            *counts.entry(room.to_string()).or_default() += 1;
        }
    }
    let mut rooms: Vec<_> = counts
        .into_iter()
        .map(|(room, members)| serde_json::json!({ "room": room, "members": members }))
        .collect();
    rooms.sort_by(|a, b| a["room"].as_str().cmp(&b["room"].as_str()));
    let _ = ns.emit("rooms", &rooms);
}

fn handlers(chat: Arc<Chat>) -> Handlers {
    let on_connect = chat.clone();
    let on_msg = chat.clone();
    let on_join = chat.clone();
    let on_disconnect = chat;
    Handlers::new()
        .on_connect(move |conn: Conn| {
            let chat = on_connect.clone();
            async move {
                let name = conn.auth::<Auth>().ok().and_then(|a| a.name).unwrap_or_default();
                let name = name.trim().to_owned();
                if name.is_empty() || name.len() > 32 {
                    return Err(ConnectError::new("Pick a nickname (1 to 32 characters)"));
                }
                if !chat.names.lock().insert(name.clone()) {
                    return Err(ConnectError::new("That nickname is taken")
                        .with_data(&serde_json::json!({ "name": name })));
                }
                conn.extensions().insert(Name(name));
                publish_rooms(&conn);
                Ok(())
            }
        })
        .on("join", move |conn: Conn, mut ev: Event| {
            let chat = on_join.clone();
            async move {
                let Ok(room) = ev.arg::<String>() else { return };
                let room = room.trim().to_owned();
                if room.is_empty() {
                    return;
                }
                conn.join(room.as_str());
                let history: Vec<Message> =
                    chat.history.lock().get(&room).map(|h| h.iter().cloned().collect()).unwrap_or_default();
                if let Some(ack) = ev.take_ack() {
                    let _ = ack.send(&history);
                }
                let _ = conn
                    .to(room.as_str())
                    .emit("user-joined", &serde_json::json!({ "room": room, "name": name_of(&conn) }));
                publish_rooms(&conn);
            }
        })
        .on("leave", |conn: Conn, ev: Event| async move {
            let Ok(room) = ev.arg::<String>() else { return };
            conn.leave(room.as_str());
            let _ = conn
                .to(room.as_str())
                .emit("user-left", &serde_json::json!({ "room": room, "name": name_of(&conn) }));
            publish_rooms(&conn);
        })
        .on("members", |conn: Conn, mut ev: Event| async move {
            let Ok(room) = ev.arg::<String>() else { return };
            let mut names: Vec<String> = conn.namespace().to(room).sockets().iter().map(name_of).collect();
            names.sort();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&names);
            }
        })
        .on("msg", move |conn: Conn, mut ev: Event| {
            let chat = on_msg.clone();
            async move {
                let Ok(out) = ev.arg::<Outgoing>() else { return };
                let text: String = out.text.chars().take(2000).collect();
                if text.trim().is_empty() || !conn.rooms().iter().any(|r| r.as_str() == out.room) {
                    return;
                }
                let msg = Message {
                    id: chat.next_id.fetch_add(1, Ordering::Relaxed) + 1,
                    room: out.room.clone(),
                    name: name_of(&conn),
                    text,
                    ts: now_ms(),
                };
                {
                    let mut history = chat.history.lock();
                    let h = history.entry(out.room.clone()).or_default();
                    h.push_back(msg.clone());
                    while h.len() > HISTORY {
                        h.pop_front();
                    }
                }
                let _ = conn.to(out.room.as_str()).emit("message", &msg);
                if let Some(ack) = ev.take_ack() {
                    let _ = ack.send(&serde_json::json!({ "id": msg.id, "ts": msg.ts }));
                }
            }
        })
        .on("typing", |conn: Conn, ev: Event| async move {
            let Ok(room) = ev.arg::<String>() else { return };
            // Volatile: a dropped typing notice is harmless.
            let _ = conn
                .to(room.as_str())
                .volatile()
                .emit("typing", &serde_json::json!({ "room": room, "name": name_of(&conn) }));
        })
        .on_disconnect(move |conn: Conn, reason: DisconnectReason| {
            let chat = on_disconnect.clone();
            async move {
                let name = name_of(&conn);
                chat.names.lock().remove(&name);
                tracing::info!(%name, %reason, "left");
                publish_rooms(&conn);
            }
        })
}

async fn index() -> impl IntoResponse {
    Html(include_str!("web/index.html"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let client_js = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/chat/web/node_modules/socket.io-client/dist/socket.io.min.js"
    ))
    .map_err(|e| {
        std::io::Error::other(format!(
            "the browser client is missing ({e}): run `npm ci --prefix examples/chat/web` first"
        ))
    })?;

    let io = Server::builder().ns("/chat", handlers(Arc::new(Chat::default()))).build();
    let app = axum::Router::new()
        .route("/", get(index))
        .route(
            "/vendor/socket.io.min.js",
            get(move || {
                let js = client_js.clone();
                async move { ([(http::header::CONTENT_TYPE, "text/javascript")], js) }
            }),
        )
        .merge(io.router());

    let addr = std::env::var("CHAT_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("chat on http://{addr}");
    let shutdown_io = io.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
            shutdown_io.close();
        })
        .await
}
