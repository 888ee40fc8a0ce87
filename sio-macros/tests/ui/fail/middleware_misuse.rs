use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[middleware]
    async fn no_ctx(&self, s: Conn) -> Result<(), String> {
        let _ = s;
        Ok(())
    }
    #[middleware]
    async fn payload(&self, ev: &EventCtx, text: String) {
        let _ = (ev, text);
    }
    #[middleware]
    fn not_async(&self, ev: &EventCtx) {
        let _ = ev;
    }
}
fn main() {}
