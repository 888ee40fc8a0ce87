use sio_core::prelude::*;

#[server_events]
pub enum LobbyEvent {
    #[event(ack = String)]
    Name,
    #[event(ack = u32)]
    Vote { question: String },
}

pub struct Lobby;

#[namespace("/lobby", emits = LobbyEvent)]
impl Lobby {
    #[connect]
    async fn hello(&self, s: Conn) {
        // Another variant acks a `String`; this one acks a `u32`.
        let answer: Result<String, AckError> = s.emit_with_ack(LobbyEvent::Vote("go?".into())).await;
        let _ = answer;
    }
}

fn main() {}
