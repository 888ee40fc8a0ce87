use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[middleware]
    async fn check(&self, ev: &EventCtx) -> bool {
        ev.name().is_empty()
    }
}
fn main() {}
