use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[error]
    async fn a(&self, s: Conn, text: String) -> bool {
        let _ = (s, text);
        true
    }
    #[error]
    async fn b(&self, err: HandlerError) {
        let _ = err;
    }
}
fn main() {}
