use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[disconnecting]
    async fn a(&self, s: Conn, text: String) -> bool {
        let _ = (s, text);
        true
    }
    #[disconnecting]
    async fn b(&self) {}
}
fn main() {}
