// The typed client of `#[namespace(.., client)]` and `#[server_events(client)]`.
use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

#[derive(Debug, Serialize, Deserialize, TS)]
pub struct Login {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Note {
    pub text: String,
}

#[server_events(client)]
pub enum LobbyEvent {
    Joined { name: String },
    Notes(Vec<Note>),
    Closing,
    #[event(ack = u32)]
    Vote { question: String },
}

pub struct Lobby;

#[namespace("/lobby", emits = LobbyEvent, client)]
impl Lobby {
    #[connect]
    async fn hello(&self, s: Conn, login: Option<Login>) {
        let _ = (s, login);
    }

    #[event]
    async fn post(&self, s: Conn, note: Note, loud: Option<bool>) -> Vec<Note> {
        let _ = (s, loud);
        vec![note]
    }

    #[event]
    async fn wave(&self, _s: Conn, to: String) {
        let _ = to;
    }
}

async fn use_it() -> Result<(), sio_client::Error> {
    let lobby = LobbyClient::builder("http://127.0.0.1:3000")
        .auth(&Login { name: "ann".into() })
        .on_event(|e| match e {
            LobbyEvent::Joined { name } => drop(name),
            LobbyEvent::Notes(notes) => drop(notes),
            LobbyEvent::Closing => {}
        })
        .handle(LobbyEvent::on_vote(|question: String| question.len() as u32))
        .configure(|b| b.reconnection(false))
        .connect()
        .await?;
    let notes: Vec<Note> = lobby.post(Note { text: "hi".into() }, None).await?;
    lobby.wave("bob".into())?;
    let _ = (notes, lobby.socket().id());
    let _again = LobbyClient::connect("http://127.0.0.1:3000", &Login { name: "bob".into() }).await?;
    Ok(())
}

fn main() {
    let _ = use_it;
}
