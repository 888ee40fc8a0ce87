use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

#[derive(Deserialize)]
struct NoTypings {
    text: String,
}

#[derive(Serialize)]
struct ReplyNoTypings;

struct Chat;

#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self, m: NoTypings) -> ReplyNoTypings {
        let _ = m.text;
        ReplyNoTypings
    }
}

fn main() {}
