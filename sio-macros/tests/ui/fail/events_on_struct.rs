use sio_core::prelude::*;
#[server_events]
struct NotAnEnum { a: u8 }
fn main() {}
