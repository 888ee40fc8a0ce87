use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[fallback]
    async fn other(&self, s: Conn, args: RawArgs) {
        let _ = (s, args);
    }
}
fn main() {}
