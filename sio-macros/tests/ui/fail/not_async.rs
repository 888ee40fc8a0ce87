use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event]
    fn msg(&self, m: String) -> String { m }
}
fn main() {}
