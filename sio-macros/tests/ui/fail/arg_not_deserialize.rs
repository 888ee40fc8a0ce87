use sio_core::prelude::*;
struct Chat;
struct NotSerde;
#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self, s: Conn, payload: NotSerde) {}
}
fn main() {}
