use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self) {}
    #[event(rename = "msg")]
    async fn other(&self) {}
}
fn main() {}
