//! A bot for the chat example (`examples/chat_bot.rs`), on `sio-client` with the typed client
//! that `#[namespace(.., client)]` generates from the chat's own handlers ([`ChatClient`]):
//! it logs in to `/chat` with a nickname, joins a room, and answers messages there that start
//! with `!` (`!ping`, `!time`, `!echo <text>`, `!who`). Every call is checked against the
//! server's handlers at compile time: `chat.msg(..)` takes an [`Outgoing`] and resolves with
//! the handler's `Option<Delivered>`.

use sio_client::Error;
use tokio::sync::mpsc;

use crate::chat::{ChatClient, ChatEvent, Login, Message, Outgoing};

/// The bot's answer to `text` from `from`, if it is a command (`members` lists the room).
pub fn answer(text: &str, from: &str, members: &[String]) -> Option<String> {
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
        "!who" => members.join(", "),
        _ => return None,
    })
}

/// A running bot: the client, and the task that answers.
#[derive(Debug)]
pub struct Bot {
    /// The bot's typed client.
    pub chat: ChatClient,
    task: tokio::task::JoinHandle<()>,
}

impl Bot {
    /// Leaves the chat.
    pub fn stop(self) {
        self.task.abort();
        self.chat.socket().disconnect();
    }
}

/// Connects the bot `name` to the chat at `url` (`http://host:port`) and joins `room`.
///
/// # Errors
/// When the chat refuses the nickname ([`Error::ConnectRefused`]) or cannot be reached.
pub async fn run(url: &str, name: &str, room: &str) -> Result<Bot, Error> {
    let (tx, mut messages) = mpsc::unbounded_channel::<Message>();
    let chat = ChatClient::builder(url)
        .auth(&Login { name: name.to_owned() })
        .on_event(move |event| {
            // Handlers must not wait: the messages go to the task below.
            if let ChatEvent::Message(m) = event {
                let _ = tx.send(m);
            }
        })
        .connect()
        .await?;
    let history: Vec<Message> = chat.join_room(room.to_owned()).await?;
    tracing::info!(room, messages = history.len(), "joined");
    let (me, client) = (name.to_owned(), chat.clone());
    let task = tokio::spawn(async move {
        while let Some(m) = messages.recv().await {
            if m.name == me {
                continue;
            }
            let members = if m.text.trim() == "!who" {
                client.members(m.room.clone()).await.unwrap_or_default()
            } else {
                Vec::new()
            };
            let Some(text) = answer(&m.text, &m.name, &members) else { continue };
            match client.msg(Outgoing { room: m.room, text }).await {
                Ok(Some(delivered)) => tracing::debug!(id = delivered.id, "answered"),
                Ok(None) => tracing::warn!("the chat refused the answer"),
                Err(e) => tracing::warn!(error = %e, "the answer was not delivered"),
            }
        }
    });
    Ok(Bot { chat, task })
}
