use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event(rename = "disconnect")]
    async fn bye(&self) {}
}
fn main() {}
