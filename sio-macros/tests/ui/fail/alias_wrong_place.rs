use sio_core::prelude::*;

type Why = DisconnectReason;
type Session = std::sync::Arc<Conn>;

pub struct Lobby;

#[namespace("/lobby")]
impl Lobby {
    #[event]
    async fn leave(&self, s: Session, why: Why) {}

    #[disconnect]
    async fn bye(&self, why: Why, name: String) {}
}

fn main() {
    let _ = Server::builder().namespace(Lobby).build();
}
