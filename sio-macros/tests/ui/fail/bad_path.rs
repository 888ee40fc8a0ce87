use sio_core::prelude::*;
struct Chat;
#[namespace("chat")]
impl Chat {}
fn main() {}
