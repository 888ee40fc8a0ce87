use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[connect]
    async fn a(&self) {}
    #[connect]
    async fn b(&self) {}
}
fn main() {}
