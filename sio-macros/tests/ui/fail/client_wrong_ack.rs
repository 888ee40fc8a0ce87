// The typed client's ack replies are the handler's return type, and the answers to server
// events are the event's `ack` type: other types do not compile.
use sio_core::prelude::*;

#[server_events(client)]
pub enum BoardEvent {
    #[event(ack = bool)]
    Confirm { what: String },
}

pub struct Board;

#[namespace("/board", emits = BoardEvent, client)]
impl Board {
    #[event]
    async fn count(&self, _s: Conn) -> u64 {
        7
    }
}

async fn use_it(board: BoardClient) -> Result<(), sio_client::Error> {
    let n: String = board.count().await?;
    let _ = n;
    let _ = BoardEvent::on_confirm(|what: String| what);
    Ok(())
}

fn main() {
    let _ = use_it;
}
