//! Every feature of the macros in one namespace.
use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

#[derive(Clone, Serialize, Deserialize, TS)]
pub struct ChatMsg {
    pub room: String,
    pub text: String,
    pub file: Option<Binary>,
}

#[derive(Deserialize, TS)]
pub struct Login {
    pub name: String,
}

/// What the server sends to clients of /chat.
#[server_events(rename_all = "kebab-case")]
pub enum ChatEvent {
    /// A message in a room.
    Message(ChatMsg),
    #[event(rename = "user-joined")]
    UserJoined { name: String },
    #[event(ack = bool)]
    Confirm(String, u32),
    Ping,
}

#[derive(Default)]
pub struct Chat;

#[derive(Debug)]
pub struct Refused(&'static str);
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The chat namespace.
#[namespace("/chat", emits = ChatEvent)]
impl Chat {
    #[connect]
    async fn join(&self, s: Conn, h: Handshake, auth: Option<Login>) -> Result<(), Refused> {
        let _ = h.query("x");
        match auth {
            Some(l) if !l.name.is_empty() => {
                s.emit(ChatEvent::UserJoined { name: l.name }).ok();
                Ok(())
            }
            _ => Err(Refused("no name")),
        }
    }

    /// Sends a message.
    #[event]
    async fn msg(&self, s: Conn, m: ChatMsg) -> String {
        s.to(m.room.as_str()).emit(ChatEvent::Message(m.clone())).ok();
        let ok: Result<bool, AckError> = s.emit_with_ack(ChatEvent::Confirm("sure?".into(), 1)).await;
        let _ = ok;
        s.untyped().emit("anything", &1).ok();
        format!("recv {}", m.text)
    }

    #[event(rename = "move")]
    async fn move_to(&self, _s: Conn, x: i32, y: Option<i32>) {
        let _ = (x, y);
    }

    #[event]
    async fn echo(&self, s: Conn, all: RawArgs) -> usize {
        s.emit(ChatEvent::Ping).ok();
        all.len()
    }

    #[event]
    async fn pair(&self, a: u8, b: Binary) -> (u8, usize) {
        (a, b.len())
    }

    #[event]
    async fn fallible(&self, n: i64) -> Result<i64, String> {
        if n > 0 { Ok(n) } else { Err("negative".into()) }
    }

    #[fallback]
    async fn other(&self, _s: Conn, name: String, args: RawArgs) -> RawArgs {
        let _ = name;
        args
    }

    #[disconnecting]
    async fn leaving(&self, s: Conn, _h: Handshake, reason: DisconnectReason) {
        let _ = (s.rooms(), reason);
    }

    /// Event middlewares, in order: per-event data for the handlers, refusals.
    #[middleware]
    async fn tag(&self, ev: &EventCtx) {
        ev.extensions().insert(ev.name().len());
    }

    #[middleware]
    async fn gate(&self, s: Conn, h: Handshake, ev: &EventCtx) -> Result<(), Refused> {
        let _ = (s.id(), h.query("x"));
        if ev.wants_ack() || ev.raw().len() < 8 { Ok(()) } else { Err(Refused("too long")) }
    }

    /// Reads what the middlewares left; `Err` goes to the error hook.
    #[event(err_is_error)]
    async fn tagged(&self, s: Conn, ext: &Extensions, n: u8) -> Result<usize, EventError> {
        let _ = s.id();
        ext.get::<usize>().map(|len| len + usize::from(n)).ok_or_else(|| EventError::new("untagged"))
    }

    #[event(err_is_error)]
    async fn stored(&self) -> Result<(), String> {
        Ok(())
    }

    #[error]
    async fn failed(&self, s: Conn, err: HandlerError) {
        let _ = (s.id(), err.event(), err.client_message());
    }

    #[any_outgoing]
    fn sent(&self, s: Conn, event: &str, args: &RawArgs) {
        let _ = (s.id(), event, args.len());
    }

    #[disconnect]
    async fn leave(&self, _s: Conn, reason: DisconnectReason) {
        let _ = reason;
    }

    fn helper(&self) -> u8 {
        1
    }
}

fn main() {
    let io = Server::builder().namespace(Chat).build();
    let _ = io;
    let schema = <Chat as sio_core::TypedNamespace>::schema();
    assert_eq!(schema.path, "/chat");
    assert_eq!(schema.events.len(), 7);
    assert_eq!(schema.server_events.len(), 4);
    assert_eq!(Chat.helper(), 1);
}
