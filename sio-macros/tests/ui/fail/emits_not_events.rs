use sio_core::prelude::*;
struct Chat;
#[namespace("/chat", emits = String)]
impl Chat {
    #[event]
    async fn msg(&self, s: Conn) {}
}
fn main() {}
