use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(text: String) {}
}
fn main() {}
