// A typed client sends the handler's argument types: one the client cannot serialize is
// reported on the type, with the hint to derive both sides.
use serde::Deserialize;
use sio_core::prelude::*;

#[derive(Deserialize, TS)]
pub struct Note {
    pub text: String,
}

pub struct Board;

#[namespace("/board", client)]
impl Board {
    #[event]
    async fn post(&self, _s: Conn, note: Note) {
        let _ = note;
    }
}

fn main() {}
