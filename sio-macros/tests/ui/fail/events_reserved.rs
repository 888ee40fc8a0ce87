use sio_core::prelude::*;
#[derive(ServerEvents)]
enum ChatEvent {
    Connect,
    #[event(rename = "a", bogus = 1)]
    A,
    #[event(rename = "a")]
    B,
}
fn main() {}
