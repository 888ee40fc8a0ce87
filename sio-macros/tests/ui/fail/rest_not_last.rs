use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self, all: RawArgs, n: u8) {}
}
fn main() {}
