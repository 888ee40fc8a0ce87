use sio_core::prelude::*;
struct Chat;
#[namespace("/chat", emit = u8)]
impl Chat {
    #[event(name = "x")]
    async fn msg(&self) {}
}
fn main() {}
