// The typed client takes the handler's argument types: another payload does not compile.
use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

#[derive(Serialize, Deserialize, TS)]
pub struct Note {
    pub text: String,
}

pub struct Board;

#[namespace("/board", client)]
impl Board {
    #[event]
    async fn post(&self, _s: Conn, note: Note) -> u64 {
        note.text.len() as u64
    }
}

async fn use_it(board: BoardClient) {
    let _ = board.post("a note".to_string()).await;
}

fn main() {
    let _ = use_it;
}
