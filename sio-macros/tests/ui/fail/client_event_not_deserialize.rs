// A typed client reads the server events' fields: a type it cannot deserialize is reported
// once, on the type.
use serde::Serialize;
use sio_core::prelude::*;

#[derive(Clone, Serialize, TS)]
pub struct Score {
    pub points: u32,
}

#[server_events(client)]
pub enum GameEvent {
    Scored(Score),
    #[event(ack = bool)]
    Ready { score: Score },
}

fn main() {}
