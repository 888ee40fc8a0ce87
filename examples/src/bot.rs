//! A bot for the chat example (`examples/chat_bot.rs`), on `sio-client`: it logs in to
//! `/chat` with a nickname, joins a room, and answers messages there that start with `!`
//! (`!ping`, `!time`, `!echo <text>`, `!who`).

use serde::{Deserialize, Serialize};
use sio_client::{Error, Socket};

/// A message of the chat, as the server sends it (`ChatEvent::Message`).
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// Server-assigned id.
    pub id: u64,
    /// The room.
    pub room: String,
    /// The sender.
    pub name: String,
    /// The text.
    pub text: String,
}

/// What the bot sends (`msg`).
#[derive(Debug, Serialize)]
struct Outgoing<'a> {
    room: &'a str,
    text: &'a str,
}

/// The bot's answer to `text` from `from`, if it is a command.
pub fn answer(text: &str, from: &str, members: impl FnOnce() -> Vec<String>) -> Option<String> {
    let (cmd, rest) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    Some(match cmd {
        "!ping" => format!("pong, {from}"),
        "!time" => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            format!("{secs} s since the epoch")
        }
        "!echo" => rest.to_owned(),
        "!who" => members().join(", "),
        _ => return None,
    })
}

/// Connects the bot `name` to the chat at `url` (`http://host:port`) and joins `room`. It
/// runs until the returned socket is dropped or disconnected.
///
/// # Errors
/// When the chat refuses the nickname ([`Error::ConnectRefused`]) or cannot be reached.
pub async fn run(url: &str, name: &str, room: &str) -> Result<Socket, Error> {
    let me = name.to_owned();
    let socket =
        Socket::builder(&format!("{url}/chat")).auth(&serde_json::json!({ "name": name })).connect().await?;
    // Answers run in a task of their own: handlers must not wait, and `!who` asks the server.
    let answering = socket.clone();
    socket.on("message", move |ev| {
        let Ok((m,)) = ev.args::<(Message,)>() else { return };
        if m.name == me {
            return;
        }
        let socket = answering.clone();
        tokio::spawn(async move {
            let members = if m.text.trim() == "!who" {
                socket.emit_with_ack::<_, Vec<String>>("members", (&m.room,)).await.unwrap_or_default()
            } else {
                Vec::new()
            };
            if let Some(text) = answer(&m.text, &m.name, || members) {
                let reply = Outgoing { room: &m.room, text: &text };
                if let Err(e) = socket.emit_with_ack::<_, Option<serde_json::Value>>("msg", (reply,)).await {
                    tracing::warn!(error = %e, "the answer was not delivered");
                }
            }
        });
    });
    let history: Vec<Message> = socket.emit_with_ack("join", (room,)).await?;
    tracing::info!(room, messages = history.len(), "joined");
    Ok(socket)
}
