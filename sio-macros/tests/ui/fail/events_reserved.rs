use sio_core::prelude::*;
#[server_events]
enum ChatEvent {
    Connect,
    #[event(rename = "a", bogus = 1)]
    A,
    #[event(rename = "a")]
    B,
}
fn main() {}
