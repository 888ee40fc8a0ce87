use sio_core::prelude::*;

struct Chat;

#[namespace("/chat")]
impl Chat {
    #[event]
    async fn msg(&self, s: Conn, m: String) -> String { format!("recv {m}") }
}

fn main() {
    let _io = Server::builder().namespace(Chat).build();
}
