use serde::Serialize;
use sio_core::prelude::*;

#[derive(Serialize)]
pub struct Move {
    pub x: i32,
}

#[server_events]
pub enum GameEvent {
    Moved(Move),
}

fn main() {}
