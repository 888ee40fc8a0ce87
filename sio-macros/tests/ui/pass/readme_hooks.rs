//! The README's "Event middlewares, errors, outgoing events" example.
#![allow(unused_variables, dead_code)]
use sio_core::prelude::*;

#[derive(Clone)]
struct UserId(u64);

struct Notes;

#[namespace("/notes")]
impl Notes {
    #[middleware]
    async fn logged_in(&self, s: Conn, ev: &EventCtx) -> Result<(), EventError> {
        let user = s.extensions().get::<UserId>().ok_or(EventError::new("log in first"))?;
        ev.extensions().insert(user);                          // read by the handler
        Ok(())
    }

    #[event(err_is_error)]
    async fn save(&self, ext: &Extensions, text: String) -> Result<usize, String> {
        if text.is_empty() { Err("empty note".into()) } else { Ok(text.len()) }
    }

    #[error]
    async fn failed(&self, s: Conn, err: HandlerError) { eprintln!("{}: {err}", s.id()) }
}

fn main() {
    let io = Server::builder().namespace(Notes).build();
    let _ = io;
}
