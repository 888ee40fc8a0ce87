use sio_core::prelude::*;
#[server_events]
enum ChatEvent {
    #[event(ack = bool)]
    Confirm(String),
}
struct Chat;
#[namespace("/chat", emits = ChatEvent)]
impl Chat {
    #[event]
    async fn msg(&self, s: Conn) {
        let _r: Result<String, AckError> = s.emit_with_ack(ChatEvent::Confirm("x".into())).await;
    }
}
fn main() {}
