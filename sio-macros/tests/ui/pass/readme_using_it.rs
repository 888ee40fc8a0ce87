//! The README's "Using it" example (axum::serve left out).
#![allow(unused_variables, dead_code)]
use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

#[derive(Clone, Serialize, Deserialize, TS)]     // TS: the type's TypeScript side (ts-rs)
struct ChatMsg { room: String, text: String }

/// What the server sends to clients of /chat: one variant per event.
#[server_events]
enum ChatEvent {
    Message(ChatMsg),                          // "message": (m: ChatMsg)
    #[event(rename = "user-joined")]
    UserJoined { name: String },               // "user-joined": (name: string)
}

#[derive(Deserialize, TS)]
struct Login { name: String }

#[derive(Default)]
struct Chat;

#[namespace("/chat", emits = ChatEvent)]
impl Chat {
    /// Runs on CONNECT; an Err refuses the connection (the client gets `connect_error`).
    #[connect]
    async fn join(&self, s: Conn, auth: Login) -> Result<(), ConnectError> {
        if auth.name.is_empty() {
            return Err(ConnectError::new("Pick a nickname"));
        }
        s.broadcast().emit(ChatEvent::UserJoined { name: auth.name }).ok();
        Ok(())
    }

    /// "msg": (m: ChatMsg, ack: (r: string) => void). The return value is the ack.
    #[event]
    async fn msg(&self, s: Conn, m: ChatMsg) -> String {
        s.to(m.room.as_str()).emit(ChatEvent::Message(m.clone())).ok();   // only ChatEvent compiles here
        format!("recv {}", m.text)
    }

    /// Several payload arguments are several event arguments; a trailing Option may be absent.
    #[event(rename = "move")]
    async fn move_to(&self, x: i32, y: Option<i32>) {}

    #[disconnect]
    async fn leave(&self, s: Conn, reason: DisconnectReason) {}
}

fn main() {
    let io = Server::builder().namespace(Chat::default()).build();
    let _app: axum::Router = io.router();
}
