use sio_core::prelude::*;
#[derive(ServerEvents)]
struct NotAnEnum { a: u8 }
fn main() {}
