use sio_core::prelude::*;

#[server_events(rename_al = "kebab-case")]
pub enum GameEvent {
    Started(u32),
    #[event(ack = bool, renam = "ready?")]
    Ready,
}

pub struct Game;

// A typo of `emits`: one error, and `s.emit(GameEvent::..)` below still type-checks.
#[namespace("/game", emit = GameEvent)]
impl Game {
    #[event]
    async fn start(&self, s: Conn, round: u32) {
        let _ = s.emit(GameEvent::Started(round));
    }

    // A macro error here: `.namespace(Game)` in main still type-checks.
    #[event]
    fn stop(&self) {}
}

fn main() {
    let _ = Server::builder().namespace(Game).build();
}
