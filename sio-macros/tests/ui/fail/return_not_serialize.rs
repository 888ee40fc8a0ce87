use sio_core::prelude::*;
struct Chat;
#[derive(sio_core::TS)]
struct NotSerde;
#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self, text: String) -> NotSerde { NotSerde }
}
fn main() {}
