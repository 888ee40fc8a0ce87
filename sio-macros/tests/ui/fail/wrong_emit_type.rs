use sio_core::prelude::*;
#[server_events]
enum ChatEvent { Message(String) }
#[server_events]
enum OtherEvent { Other(String) }
struct Chat;
#[namespace("/chat", emits = ChatEvent)]
impl Chat {
    #[event]
    async fn msg(&self, s: Conn, text: String) {
        let _ = s.emit(OtherEvent::Other(text));
    }
}
fn main() {}
