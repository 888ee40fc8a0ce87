//! The generated code names everything by absolute path, so it compiles without the prelude.
#![no_implicit_prelude]
extern crate sio_core;
extern crate std;

use sio_core::{Conn, ServerEvents, namespace};

#[derive(ServerEvents)]
enum Events {
    #[event(ack = ::std::string::String)]
    Said(::std::string::String, u8),
    Bare,
}

struct Chat;

#[namespace("/chat", emits = Events)]
impl Chat {
    #[connect]
    async fn join(&self, s: Conn) {
        let _ = s.emit(Events::Bare);
    }
    #[event]
    async fn msg(&self, s: Conn, m: ::std::string::String, n: ::std::option::Option<u8>) -> ::std::string::String {
        let _ = s.emit(Events::Said(::std::clone::Clone::clone(&m), 1));
        let _ = n;
        m
    }
    #[event]
    async fn nothing(&self) {}
    #[disconnecting]
    async fn leaving(&self, s: Conn) {
        let _ = s.rooms();
    }
}

fn main() {}
