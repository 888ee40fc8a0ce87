use sio_core::prelude::*;

#[server_events]
pub enum LobbyEvent {
    Joined(String),
    #[event(ack = bool)]
    Ready,
    #[event(ack = u32)]
    Vote { question: String },
}

pub struct Lobby;

#[namespace("/lobby", emits = LobbyEvent)]
impl Lobby {
    #[connect]
    async fn hello(&self, s: Conn) {
        // The client's callback would never be called: does not compile.
        let _ = s.emit(LobbyEvent::Ready);
        let _ = s.to("room").emit(LobbyEvent::Vote("go?".into()));
        // Nor can a plain event be awaited.
        let _ = s.emit_with_ack(LobbyEvent::Joined("x".into()));
    }
}

fn main() {}
