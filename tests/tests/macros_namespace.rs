//! `#[namespace]` and `#[server_events]` over a real WebSocket: argument decoding,
//! return values as acks, typed emits (before and after CONNECT), typed server-to-client acks,
//! refusals from `#[connect]`, disconnect reasons.

mod common;

use std::time::Duration;

use common::{T, Ws, recv, within};
use serde::{Deserialize, Serialize};
use sio_core::prelude::*;
use tokio::sync::mpsc;

#[derive(Deserialize, TS)]
struct Login {
    name: String,
}

#[derive(Serialize, Deserialize, Clone, TS)]
struct Point {
    x: i32,
    y: i32,
}

/// What the test namespace sends.
#[server_events]
enum TestEvent {
    #[event(rename = "welcome")]
    Welcome {
        name: String,
    },
    Said(String, u32),
    #[event(ack = String)]
    Question(String),
    MovedTo(Point),
}

struct TestNs {
    reasons: mpsc::UnboundedSender<String>,
}

#[namespace("/t", emits = TestEvent)]
impl TestNs {
    #[connect]
    async fn join(&self, s: Conn, auth: Option<Login>) -> Result<(), ConnectError> {
        match auth {
            Some(l) if !l.name.is_empty() => {
                // Emitted before the CONNECT reply exists: delivered right after it.
                s.emit(TestEvent::Welcome { name: l.name }).map_err(|e| ConnectError::new(e.to_string()))?;
                Ok(())
            }
            _ => Err(ConnectError::new("who are you?").with_data(&serde_json::json!({ "hint": "name" }))),
        }
    }

    #[event]
    async fn msg(&self, m: String) -> String {
        format!("recv {m}")
    }

    #[event(rename = "move")]
    async fn move_to(&self, s: Conn, x: i32, y: Option<i32>) -> (i32, Option<i32>) {
        let _ = s.emit(TestEvent::MovedTo(Point { x, y: y.unwrap_or_default() }));
        (x, y)
    }

    #[event]
    async fn nothing(&self, _n: u8) {}

    #[event]
    async fn bin(&self, label: String, data: Binary) -> (String, Binary) {
        (label, data)
    }

    #[event]
    async fn rest(&self, _first: u8, all: RawArgs) -> usize {
        all.len()
    }

    #[event]
    async fn fallible(&self, n: i64) -> Result<i64, String> {
        if n >= 0 { Ok(n) } else { Err("negative".into()) }
    }

    #[event]
    async fn ask(&self, s: Conn) -> String {
        match s.timeout(Duration::from_secs(2)).emit_with_ack(TestEvent::Question("sure?".into())).await {
            Ok(reply) => reply,
            Err(e) => format!("error: {e}"),
        }
    }

    #[event]
    async fn say(&self, s: Conn, text: String) {
        let _ = s.emit(TestEvent::Said(text, 7));
    }

    /// Acks with the event's own arguments, each one an argument of the ack.
    #[event]
    async fn echo(&self, all: RawArgs) -> RawArgs {
        all
    }

    #[event]
    async fn enter(&self, s: Conn, room: String) -> bool {
        s.join(room);
        true
    }

    /// Events the namespace does not declare: acks with their name and argument count.
    #[fallback]
    async fn other(&self, name: String, args: RawArgs) -> (String, usize) {
        (name, args.len())
    }

    /// Still in its rooms: tells them, and reports how many it saw.
    #[disconnecting]
    async fn going(&self, s: Conn, reason: DisconnectReason) {
        let rooms = s.rooms();
        for room in rooms.iter().skip(1) {
            let _ = s.to(room.clone()).emit(TestEvent::Said(format!("bye from {}", room.as_str()), 0));
        }
        let _ = self.reasons.send(format!("disconnecting: {reason}, {} rooms", rooms.len()));
    }

    #[disconnect]
    async fn leave(&self, s: Conn, reason: DisconnectReason) {
        assert_eq!(s.rooms().len(), 1, "out of its rooms by now");
        let _ = self.reasons.send(reason.as_str().to_owned());
    }
}

async fn start() -> (std::net::SocketAddr, mpsc::UnboundedReceiver<String>, Server) {
    tests::init_tracing();
    let (tx, rx) = mpsc::unbounded_channel();
    let io = Server::builder().namespace(TestNs { reasons: tx }).build();
    let addr = tests::serve(&io).await;
    (addr, rx, io)
}

async fn joined(addr: std::net::SocketAddr) -> Ws {
    let mut ws = Ws::connect(addr).await;
    ws.send(r#"40/t,{"name":"ann"}"#).await;
    let connect = ws.recv_text().await;
    assert!(connect.starts_with(r#"40/t,{"sid":""#), "CONNECT reply first: {connect}");
    assert_eq!(ws.recv_text().await, r#"42/t,["welcome","ann"]"#, "the connect handler's emit follows it");
    ws
}

#[tokio::test]
async fn return_values_are_acks() {
    let (addr, _reasons, _io) = start().await;
    let mut ws = joined(addr).await;
    ws.send(r#"42/t,1["msg","hi"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,1["recv hi"]"#);
    // A tuple is one argument: an array.
    ws.send(r#"42/t,2["move",3]"#).await;
    assert_eq!(ws.recv_text().await, r#"42/t,["movedTo",{"x":3,"y":0}]"#);
    assert_eq!(ws.recv_text().await, r#"43/t,2[[3,null]]"#);
    // `()` answers an ack request with an empty ack, so the client's callback fires.
    ws.send(r#"42/t,3["nothing",1]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,3[]"#);
    // Result serializes as serde does.
    ws.send(r#"42/t,4["fallible",-1]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,4[{"Err":"negative"}]"#);
    ws.send(r#"42/t,5["fallible",2]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,5[{"Ok":2}]"#);
    // No ack id: nothing is sent back.
    ws.send(r#"42/t,["msg","quiet"]"#).await;
    ws.send(r#"42/t,6["msg","loud"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,6["recv loud"]"#);
}

#[tokio::test]
async fn mismatched_arguments_get_an_error_ack_and_the_connection_is_kept() {
    let (addr, _reasons, _io) = start().await;
    let mut ws = joined(addr).await;
    ws.send(r#"42/t,1["msg",5]"#).await; // wrong type
    let reply = ws.recv_text().await;
    assert!(
        reply.starts_with(
            r#"43/t,1[{"error":{"message":"invalid arguments: invalid type: integer `5`, expected a string"#
        ),
        "{reply}"
    );
    ws.send(r#"42/t,2["move"]"#).await; // missing a required argument
    assert!(ws.recv_text().await.starts_with(r#"43/t,2[{"error":{"message":"invalid arguments: "#));
    ws.send(r#"42/t,["msg",5]"#).await; // no ack asked: nothing comes back
    ws.send(r#"42/t,4["msg","still here"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,4["recv still here"]"#);
}

#[tokio::test]
async fn binary_and_rest_arguments() {
    let (addr, _reasons, _io) = start().await;
    let mut ws = joined(addr).await;
    ws.send(r#"451-/t,1["bin","file",{"_placeholder":true,"num":0}]"#).await;
    ws.send_binary(vec![1, 2, 3]).await;
    assert_eq!(ws.recv_text().await, r#"461-/t,1[["file",{"_placeholder":true,"num":0}]]"#);
    assert_eq!(ws.recv_binary().await, vec![1, 2, 3]);
    ws.send(r#"42/t,2["rest",1,"a",{"b":2},[3]]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,2[3]"#);
    // Returned `RawArgs` are the ack's arguments as they came, attachments included.
    ws.send(r#"451-/t,3["echo",1,{"_placeholder":true,"num":0},"x"]"#).await;
    ws.send_binary(vec![4, 5]).await;
    assert_eq!(ws.recv_text().await, r#"461-/t,3[1,{"_placeholder":true,"num":0},"x"]"#);
    assert_eq!(ws.recv_binary().await, vec![4, 5]);
    ws.send(r#"42/t,4["echo"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,4[]"#);
}

#[tokio::test]
async fn typed_emits_and_typed_client_acks() {
    let (addr, _reasons, _io) = start().await;
    let mut ws = joined(addr).await;
    ws.send(r#"42/t,["say","hey"]"#).await;
    assert_eq!(ws.recv_text().await, r#"42/t,["said","hey",7]"#);

    ws.send(r#"42/t,9["ask"]"#).await;
    let question = ws.recv_text().await;
    let id = question
        .strip_prefix("42/t,")
        .and_then(|r| r.strip_suffix(r#"["question","sure?"]"#))
        .unwrap_or_else(|| panic!("a question with an ack id: {question}"));
    assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()), "ack id: {id}");
    ws.send(&format!(r#"43/t,{id}["yes"]"#)).await;
    assert_eq!(ws.recv_text().await, r#"43/t,9["yes"]"#);

    // A reply of the wrong type is a typed error, not a panic.
    ws.send(r#"42/t,10["ask"]"#).await;
    let question = ws.recv_text().await;
    let id =
        question.strip_prefix("42/t,").and_then(|r| r.strip_suffix(r#"["question","sure?"]"#)).unwrap_or("");
    ws.send(&format!(r#"43/t,{id}[42]"#)).await;
    let reply = ws.recv_text().await;
    assert!(reply.starts_with(r#"43/t,10["error: unexpected acknowledgement payload"#), "{reply}");
}

#[tokio::test]
async fn connect_handler_refuses_with_message_and_data() {
    let (addr, _reasons, _io) = start().await;
    let mut ws = Ws::connect(addr).await;
    ws.send("40/t,").await;
    assert_eq!(ws.recv_text().await, r#"44/t,{"data":{"hint":"name"},"message":"who are you?"}"#);
    ws.send(r#"40/t,{"name":""}"#).await;
    assert!(ws.recv_text().await.starts_with(r#"44/t,"#));
    // Malformed auth for the declared type is refused with a message, not a crash.
    ws.send(r#"40/t,{"name":5}"#).await;
    let refused = ws.recv_text().await;
    assert!(refused.starts_with(r#"44/t,{"message":"invalid auth payload"#), "{refused}");
    ws.send(r#"40/t,{"name":"bob"}"#).await;
    assert!(ws.recv_text().await.starts_with(r#"40/t,{"sid":""#));
}

#[tokio::test]
async fn disconnect_handler_gets_the_reason() {
    let (addr, mut reasons, _io) = start().await;
    let mut ws = joined(addr).await;
    ws.send("41/t,").await;
    assert_eq!(
        recv(&mut reasons, "disconnecting").await,
        "disconnecting: client namespace disconnect, 1 rooms"
    );
    assert_eq!(recv(&mut reasons, "client namespace disconnect").await, "client namespace disconnect");
    let ws2 = joined(addr).await;
    drop(ws2);
    assert_eq!(recv(&mut reasons, "disconnecting").await, "disconnecting: transport close, 1 rooms");
    assert_eq!(recv(&mut reasons, "transport close").await, "transport close");
    within(T, "server still serves", async {
        let mut again = joined(addr).await;
        again.send(r#"42/t,1["msg","x"]"#).await;
        assert_eq!(again.recv_text().await, r#"43/t,1["recv x"]"#);
    })
    .await;
    drop(ws);
}

#[tokio::test]
async fn disconnecting_runs_while_the_socket_is_still_in_its_rooms() {
    let (addr, mut reasons, io) = start().await;
    let (mut a, mut b) = (joined(addr).await, joined(addr).await);
    for ws in [&mut a, &mut b] {
        ws.send(r#"42/t,1["enter","r1"]"#).await;
        assert_eq!(ws.recv_text().await, "43/t,1[true]");
        ws.send(r#"42/t,2["enter","r2"]"#).await;
        assert_eq!(ws.recv_text().await, "43/t,2[true]");
    }
    drop(a);
    assert_eq!(recv(&mut reasons, "disconnecting").await, "disconnecting: transport close, 3 rooms");
    assert_eq!(recv(&mut reasons, "disconnect").await, "transport close");
    // What the hook sent to its rooms reached the other member, once per room.
    let mut got = vec![b.recv_text().await, b.recv_text().await];
    got.sort();
    assert_eq!(got, [r#"42/t,["said","bye from r1",0]"#, r#"42/t,["said","bye from r2",0]"#]);
    // And the leaver is out of the rooms afterwards.
    let handle = io.namespace::<TestNs>().expect("the namespace");
    assert_eq!(handle.to("r1").sockets().len(), 1);
}

/// The hand-written form, with a hook that panics: the socket still leaves its rooms, the
/// disconnect handler still runs, and the server goes on.
#[tokio::test]
async fn a_panicking_disconnecting_hook_still_takes_the_socket_out_of_its_rooms() {
    tests::init_tracing();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (tx1, tx2) = (tx.clone(), tx);
    let h = Handlers::new()
        .on("enter", |conn: Conn, mut ev: Event| async move {
            conn.join(ev.arg::<String>().unwrap_or_default());
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on_disconnecting(move |conn: Conn, _reason| {
            let tx = tx1.clone();
            async move {
                let _ = tx.send(format!("disconnecting in {} rooms", conn.rooms().len()));
                panic!("a hook that fails");
            }
        })
        .on_disconnect(move |conn: Conn, reason| {
            let tx = tx2.clone();
            async move {
                let _ = tx.send(format!("{reason} in {} rooms", conn.rooms().len()));
            }
        });
    let io = Server::builder().ns("/", h).build();
    let addr = tests::serve(&io).await;
    let mut ws = Ws::connect(addr).await;
    ws.connect_ns("/").await;
    ws.send(r#"421["enter","r"]"#).await;
    assert_eq!(ws.recv_text().await, "431[true]");
    ws.send("41").await;
    assert_eq!(recv(&mut rx, "disconnecting").await, "disconnecting in 2 rooms");
    assert_eq!(recv(&mut rx, "disconnect").await, "client namespace disconnect in 1 rooms");
    assert_eq!(io.of("/").expect("/").to("r").sockets().len(), 0);
    // The same connection joins again and is served.
    ws.connect_ns("/").await;
    ws.send(r#"421["enter","r"]"#).await;
    assert_eq!(ws.recv_text().await, "431[true]");
}

#[test]
fn schema_describes_the_namespace() {
    let schema = <TestNs as sio_core::TypedNamespace>::schema();
    assert_eq!(schema.path, "/t");
    let names: Vec<_> = schema.events.iter().map(|e| e.name).collect();
    assert_eq!(names, ["msg", "move", "nothing", "bin", "rest", "fallible", "ask", "say", "echo", "enter"]);
    assert!(schema.events.iter().all(|e| e.ack_spread == (e.name == "echo")));
    let mv = &schema.events[1];
    assert_eq!((mv.args[0].name, mv.args[0].ty.written, mv.args[0].optional), ("x", "i32", false));
    assert_eq!((mv.args[1].name, mv.args[1].ty.written, mv.args[1].optional), ("y", "Option<i32>", true));
    assert_eq!(mv.ack.map(|a| a.written), Some("(i32, Option<i32>)"));
    assert!(schema.events[4].args[1].rest);
    assert_eq!(schema.auth.map(|a| a.written), Some("Option<Login>"));
    let server: Vec<_> = schema.server_events.iter().map(|e| (e.name, e.ack.map(|a| a.written))).collect();
    assert_eq!(server, [("welcome", None), ("said", None), ("question", Some("String")), ("movedTo", None)]);
}

#[tokio::test]
async fn typed_namespace_wide_emit_from_outside_a_handler() {
    let (addr, _reasons, io) = start().await;
    let mut a = joined(addr).await;
    let mut b = joined(addr).await;
    let ns = io.namespace::<TestNs>().expect("registered");
    assert_eq!(ns.len(), 2);
    ns.emit(TestEvent::Said("all".into(), 1)).expect("emit");
    assert_eq!(a.recv_text().await, r#"42/t,["said","all",1]"#);
    assert_eq!(b.recv_text().await, r#"42/t,["said","all",1]"#);
    // A room, typed too.
    for conn in ns.sockets() {
        conn.join("everyone");
    }
    ns.to("everyone").emit(TestEvent::Said("room".into(), 2)).expect("emit");
    assert_eq!(a.recv_text().await, r#"42/t,["said","room",2]"#);
    assert_eq!(b.recv_text().await, r#"42/t,["said","room",2]"#);
}

#[tokio::test]
async fn leave_all_and_room_len() {
    let h = Handlers::new()
        .on("enter", |conn: Conn, mut ev: Event| async move {
            conn.join(ev.arg::<String>().unwrap_or_default());
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("leave-all", |conn: Conn, mut ev: Event| async move {
            conn.leave_all();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&conn.rooms().len());
            }
        });
    let io = Server::builder().ns("/", h).build();
    let addr = tests::serve(&io).await;
    let (mut a, mut b) = (Ws::connect(addr).await, Ws::connect(addr).await);
    let a_id = a.connect_ns("/").await;
    b.connect_ns("/").await;
    for (ws, rooms) in [(&mut a, ["x", "y"]), (&mut b, ["x", "z"])] {
        for room in rooms {
            ws.send(&format!(r#"421["enter","{room}"]"#)).await;
            assert_eq!(ws.recv_text().await, "431[true]");
        }
    }
    let root = io.of("/").expect("/");
    assert_eq!([root.room_len("x"), root.room_len("y"), root.room_len("z")], [2, 1, 1]);
    assert_eq!(root.room_len(&a_id), 1, "a socket id is a room of one");
    assert_eq!(root.room_len("nowhere"), 0);
    a.send(r#"422["leave-all"]"#).await;
    assert_eq!(a.recv_text().await, "432[1]", "only its own id room is left");
    assert_eq!([root.room_len("x"), root.room_len("y"), root.room_len("z")], [1, 0, 1]);
    assert!(root.rooms().iter().all(|(r, _)| r.as_str() != "y"), "an emptied room is gone");
    assert_eq!(root.room_len(&a_id), 1, "still connected");
}

#[tokio::test]
async fn the_fallback_gets_undeclared_events_with_their_name_and_arguments() {
    let (addr, _reasons, _io) = start().await;
    let mut ws = joined(addr).await;
    ws.send(r#"42/t,5["not-declared",1,{"a":2}]"#).await;
    // (A tuple is one ack argument, a JSON array.)
    assert_eq!(ws.recv_text().await, r#"43/t,5[["not-declared",2]]"#);
    // Declared events still go to their handler.
    ws.send(r#"42/t,6["msg","hi"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/t,6["recv hi"]"#);
}

#[tokio::test]
async fn on_any_sees_every_event_before_its_handler_and_on_fallback_the_rest() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (tx1, tx2, tx3) = (tx.clone(), tx.clone(), tx);
    let h = Handlers::new()
        .on_any(move |_conn: &Conn, ev: &Event| {
            let _ = tx1.send(format!("any {} {}", ev.name(), ev.raw().len()));
        })
        .on("known", move |_conn: Conn, _ev: Event| {
            let tx = tx2.clone();
            async move {
                let _ = tx.send("known handler".to_owned());
            }
        })
        .on_fallback(move |_conn: Conn, mut ev: Event| {
            let tx = tx3.clone();
            async move {
                let _ = tx.send(format!("fallback {}", ev.name()));
                if let Some(ack) = ev.take_ack() {
                    let _ = ack.send(&"handled by the fallback");
                }
            }
        });
    let io = Server::builder().ns("/", h).build();
    let addr = tests::serve(&io).await;
    let mut ws = Ws::connect(addr).await;
    ws.connect_ns("/").await;
    ws.send(r#"42["known",1,2]"#).await;
    assert_eq!(recv(&mut rx, "any").await, "any known 2");
    assert_eq!(recv(&mut rx, "handler").await, "known handler");
    ws.send(r#"427["unknown"]"#).await;
    assert_eq!(recv(&mut rx, "any").await, "any unknown 0");
    assert_eq!(recv(&mut rx, "fallback").await, "fallback unknown");
    assert_eq!(ws.recv_text().await, r#"437["handled by the fallback"]"#);
}
