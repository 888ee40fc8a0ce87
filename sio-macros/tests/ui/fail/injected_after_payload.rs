use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self, n: u8, s: Conn) {}
}
fn main() {}
