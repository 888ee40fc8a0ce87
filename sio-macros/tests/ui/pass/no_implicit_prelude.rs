//! The generated code names everything by absolute path, so it compiles without the prelude.
#![no_implicit_prelude]
extern crate sio_core;
extern crate std;

use sio_core::{Conn, EventCtx, Extensions, HandlerError, RawArgs, namespace, server_events};

#[server_events]
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
        let _ = s.emit_with_ack(Events::Said(::std::clone::Clone::clone(&m), 1));
        let _ = n;
        m
    }
    #[event]
    async fn nothing(&self) {}
    #[event(err_is_error)]
    async fn checked(&self, ext: &Extensions, n: u8) -> ::std::result::Result<u8, ::std::string::String> {
        let _ = ext;
        ::std::result::Result::Ok(n)
    }
    #[middleware]
    async fn first(&self, s: Conn, ev: &EventCtx) -> ::std::result::Result<(), ::std::string::String> {
        let _ = (s, ev.name());
        ::std::result::Result::Ok(())
    }
    #[middleware]
    async fn second(&self, ev: &EventCtx) {
        let _ = ev;
    }
    #[error]
    async fn failed(&self, err: HandlerError) {
        let _ = err;
    }
    #[any_outgoing]
    fn sent(&self, s: Conn, event: &str, args: &RawArgs) {
        let _ = (s, event, args);
    }
    #[disconnecting]
    async fn leaving(&self, s: Conn) {
        let _ = s.rooms();
    }
}

fn main() {}
