//! Parameter roles come from types, not from how they are spelled: aliases of `Conn`,
//! `Handshake`, `RawArgs` and `Option` work, injected parameters may come anywhere.
use serde::Deserialize;
use sio_core::prelude::*;

#[server_events]
pub enum LobbyEvent {
    Joined(String),
    #[event(ack = u32)]
    Vote { question: String },
}

#[derive(Deserialize, TS)]
pub struct Team {
    pub name: String,
}

type S = Conn<LobbyEvent>;
type Shake = Handshake;
type Rest = sio_core::RawArgs;
type MaybeTeam = Option<Team>;
type Login = Option<Team>;

pub struct Lobby;

#[namespace("/lobby", emits = LobbyEvent)]
impl Lobby {
    #[connect]
    async fn hello(&self, s: S, h: Shake, team: Login) {
        let _ = (h, team.map(|t| t.name));
        let _ = s.emit(LobbyEvent::Joined("you".into()));
    }

    #[event]
    async fn join_game(&self, id: u32, s: S, team: MaybeTeam) -> u32 {
        let votes: Result<u32, AckError> = s.emit_with_ack(LobbyEvent::Vote("go?".into())).await;
        let _ = team;
        id + votes.unwrap_or(0)
    }

    #[event]
    async fn relay(&self, s: S, room: String, rest: Rest) {
        let _ = s.untyped().to(room).emit_args("relayed", rest);
    }

    #[disconnect]
    async fn bye(&self, s: S, reason: DisconnectReason) {
        let _ = (s.id(), reason);
    }
}

fn main() {
    let io = Server::builder().namespace(Lobby).build();
    let schema = <Lobby as sio_core::TypedNamespace>::schema();
    assert_eq!(schema.events[0].name, "joinGame");
    assert_eq!(schema.events[0].args.len(), 2);
    assert!(schema.events[0].args[1].optional);
    assert!(schema.events[1].args[1].rest);
    assert!(schema.auth.is_some());
    let _ = io;
}
