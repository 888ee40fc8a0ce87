use sio_core::prelude::*;
struct Chat;
#[derive(sio_core::TS)]
struct NotSerde;
#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self, s: Conn, payload: NotSerde) {}
}
fn main() {}
