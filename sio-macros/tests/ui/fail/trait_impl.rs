use sio_core::prelude::*;
struct Chat;
trait T { fn f(&self); }
#[namespace("/chat")]
impl T for Chat {
    fn f(&self) {}
}
fn main() {}
