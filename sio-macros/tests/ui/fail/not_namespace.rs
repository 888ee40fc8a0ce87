use sio_core::prelude::*;
struct Plain;
fn main() {
    let _ = Server::builder().namespace(Plain);
}
