use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[any_outgoing]
    async fn a(&self, event: &str, args: &RawArgs) {
        let _ = (event, args);
    }
    #[any_outgoing]
    fn b(&self, event: String) {
        let _ = event;
    }
}
fn main() {}
