use sio_core::prelude::*;
#[derive(ServerEvents)]
enum ChatEvent { Message(String) }
#[derive(ServerEvents)]
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
