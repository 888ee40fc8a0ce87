//! Event middlewares, the error hook and outgoing listeners over a real WebSocket, in both
//! forms (`#[namespace]` with `#[middleware]`, `#[error]`, `#[any_outgoing]`, and
//! hand-written `Handlers`): order, refusals (the client's `error` event, the error ack, the
//! hook), per-event data, panics in middlewares, handlers and the hook itself, arguments that
//! do not decode, `Err` as an error, and every emit seen once per recipient. After each bad
//! case a normal round trip proves the socket is still served.

mod common;

use common::{Ws, recv};
use serde_json::json;
use sio_core::prelude::*;
use tokio::sync::mpsc;

type Tx = mpsc::UnboundedSender<String>;
type Rx = mpsc::UnboundedReceiver<String>;

#[derive(Clone)]
struct Caller(String);

/// Sends every step it sees to its channels: middlewares, errors, outgoing events.
struct Hooked {
    mw: Tx,
    errors: Tx,
    out: Tx,
}

#[namespace("/h")]
impl Hooked {
    #[middleware]
    async fn first(&self, ev: &EventCtx) -> Result<(), EventError> {
        let _ = self.mw.send(format!("first {} ack={}", ev.name(), ev.wants_ack()));
        match ev.name() {
            "forbidden" => Err(EventError::new("not allowed").with_data(&json!({ "code": 7 }))),
            "mw-panic" => panic!("middleware bug"),
            _ => {
                ev.extensions().insert(Caller("first".into()));
                Ok(())
            }
        }
    }

    /// Runs second, sees what the first left.
    #[middleware]
    async fn second(&self, s: Conn, ev: &EventCtx) -> Result<(), String> {
        let _ = self.mw.send(format!("second {}", ev.name()));
        ev.extensions().with::<Caller, _>(|c| c.map(|c| c.0.push_str("+second")));
        if s.handshake().query("deny").is_some() { Err("denied".into()) } else { Ok(()) }
    }

    /// Acks with what the middlewares left.
    #[event]
    async fn whoami(&self, ext: &Extensions) -> String {
        ext.get::<Caller>().map(|c| c.0).unwrap_or_default()
    }

    #[event]
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    #[event]
    async fn boom(&self) -> u8 {
        panic!("handler bug")
    }

    /// The error hook panics on this one.
    #[event]
    async fn explode(&self) {
        panic!("handler bug, then a hook bug")
    }

    #[event(err_is_error)]
    async fn check(&self, n: i64) -> Result<i64, EventError> {
        if n < 0 { Err(EventError::new("negative").with_data(&n)) } else { Ok(n) }
    }

    #[event(err_is_error)]
    async fn store(&self, text: String) -> Result<(), String> {
        if text.is_empty() { Err("empty".into()) } else { Ok(()) }
    }

    /// Without `err_is_error`, a `Result` is an ack value as before.
    #[event]
    async fn plain(&self, n: i64) -> Result<i64, String> {
        if n < 0 { Err("negative".into()) } else { Ok(n) }
    }

    /// One direct emit, one broadcast to the whole namespace (the sender included).
    #[event]
    async fn shout(&self, s: Conn, text: String) {
        let _ = s.emit("direct", &text);
        let _ = s.namespace().emit_args("all", (text, 1));
    }

    #[error]
    async fn failed(&self, s: Conn, err: HandlerError) {
        let what = match &err {
            HandlerError::InvalidArgs { error, .. } => format!("invalid: {error}"),
            HandlerError::Refused { error, .. } => {
                format!("refused: {error} data={}", error.data().map_or("-".into(), |d| d.to_string()))
            }
            HandlerError::Panicked { message, .. } => format!("panicked: {message}"),
            HandlerError::Failed { error, .. } => format!("failed: {error}"),
            _ => "other".to_owned(),
        };
        let _ = self.errors.send(format!("{} {} {what}", s.id().as_str().len(), err.event()));
        if err.event() == "explode" {
            panic!("the error hook fails too");
        }
    }

    #[any_outgoing]
    fn out(&self, s: Conn, event: &str, args: &RawArgs) {
        let _ = self.out.send(format!("{} {event} {}", s.id(), args.joined().unwrap_or("?")));
    }
}

struct Chans {
    mw: Rx,
    errors: Rx,
    out: Rx,
}

async fn start_hooked() -> (std::net::SocketAddr, Chans, Server) {
    tests::init_tracing();
    let (mw, mw_rx) = mpsc::unbounded_channel();
    let (errors, errors_rx) = mpsc::unbounded_channel();
    let (out, out_rx) = mpsc::unbounded_channel();
    let io = Server::builder().namespace(Hooked { mw, errors, out }).build();
    let addr = tests::serve(&io).await;
    (addr, Chans { mw: mw_rx, errors: errors_rx, out: out_rx }, io)
}

async fn joined(addr: std::net::SocketAddr) -> (Ws, String) {
    let mut ws = Ws::connect(addr).await;
    let sid = ws.connect_ns("/h").await;
    (ws, sid)
}

/// A normal event with ack still works on this socket.
async fn still_served(ws: &mut Ws, id: u64) {
    ws.send(&format!(r#"42/h,{id}["add",2,3]"#)).await;
    assert_eq!(ws.recv_text().await, format!("43/h,{id}[5]"), "a normal round trip after a bad case");
}

#[tokio::test]
async fn middlewares_run_in_order_and_leave_data_for_the_handler() {
    let (addr, mut ch, _io) = start_hooked().await;
    let (mut ws, _) = joined(addr).await;
    ws.send(r#"42/h,1["whoami"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/h,1["first+second"]"#);
    assert_eq!(recv(&mut ch.mw, "first").await, "first whoami ack=true");
    assert_eq!(recv(&mut ch.mw, "second").await, "second whoami");
    ws.send(r#"42/h,["add",1,1]"#).await;
    assert_eq!(recv(&mut ch.mw, "first").await, "first add ack=false");
    assert_eq!(recv(&mut ch.mw, "second").await, "second add");
    still_served(&mut ws, 2).await;
}

#[tokio::test]
async fn a_refusal_reaches_the_client_the_ack_and_the_hook() {
    let (addr, mut ch, _io) = start_hooked().await;
    let (mut ws, _) = joined(addr).await;
    ws.send(r#"42/h,1["forbidden",1]"#).await;
    assert_eq!(ws.recv_text().await, r#"42/h,["error",{"data":{"code":7},"message":"not allowed"}]"#);
    assert_eq!(ws.recv_text().await, r#"43/h,1[{"error":{"data":{"code":7},"message":"not allowed"}}]"#);
    assert_eq!(
        recv(&mut ch.errors, "the hook").await,
        r#"20 forbidden refused: not allowed data={"code":7}"#
    );
    assert_eq!(recv(&mut ch.mw, "first").await, "first forbidden ack=true");
    // The second middleware never saw it: the next step it logs is the next event's.
    still_served(&mut ws, 2).await;
    assert_eq!(recv(&mut ch.mw, "first").await, "first add ack=true");
    assert_eq!(recv(&mut ch.mw, "second").await, "second add");

    // Refused without an ack: the `error` event only. A `Display` error is its message.
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&deny=1");
    let mut denied = Ws { ws: common::ws_connect_url(&url).await, open: None };
    let _open = denied.recv_raw_text().await;
    denied.connect_ns("/h").await;
    denied.send(r#"42/h,["add",1,2]"#).await;
    assert_eq!(denied.recv_text().await, r#"42/h,["error",{"message":"denied"}]"#);
    assert!(recv(&mut ch.errors, "the hook").await.ends_with("add refused: denied data=-"));
}

#[tokio::test]
async fn panics_in_middlewares_handlers_and_the_hook_are_contained() {
    let (addr, mut ch, io) = start_hooked().await;
    let (mut ws, _) = joined(addr).await;
    let (mut other, _) = joined(addr).await;

    ws.send(r#"42/h,1["mw-panic"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/h,1[{"error":{"message":"internal error"}}]"#);
    assert_eq!(recv(&mut ch.errors, "hook").await, "20 mw-panic panicked: middleware bug");
    still_served(&mut ws, 2).await;

    ws.send(r#"42/h,3["boom"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/h,3[{"error":{"message":"internal error"}}]"#);
    assert_eq!(recv(&mut ch.errors, "hook").await, "20 boom panicked: handler bug");
    // With an error hook the socket stays connected.
    still_served(&mut ws, 4).await;

    ws.send(r#"42/h,5["explode"]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/h,5[{"error":{"message":"internal error"}}]"#);
    assert_eq!(recv(&mut ch.errors, "hook").await, "20 explode panicked: handler bug, then a hook bug");
    still_served(&mut ws, 6).await;
    still_served(&mut other, 1).await;
    assert_eq!(io.connection_count(), 2);
}

#[tokio::test]
async fn arguments_that_do_not_decode_get_an_error_ack_and_reach_the_hook() {
    let (addr, mut ch, _io) = start_hooked().await;
    let (mut ws, _) = joined(addr).await;
    ws.send(r#"42/h,1["add","x",1]"#).await;
    let reply = ws.recv_text().await;
    let body: serde_json::Value =
        serde_json::from_str(reply.strip_prefix("43/h,1").expect("the error ack")).expect("JSON");
    let message = body[0]["error"]["message"].as_str().expect("a message");
    assert!(message.starts_with(r#"invalid arguments: invalid type: string "x", expected i64"#), "{message}");
    let hooked = recv(&mut ch.errors, "hook").await;
    assert!(hooked.starts_with(r#"20 add invalid: invalid type: string "x", expected i64"#), "{hooked}");
    // A missing argument, without an ack: the hook only.
    ws.send(r#"42/h,["add",1]"#).await;
    assert!(recv(&mut ch.errors, "hook").await.starts_with("20 add invalid: "));
    still_served(&mut ws, 2).await;
}

#[tokio::test]
async fn err_is_error_is_an_opt_in() {
    let (addr, mut ch, _io) = start_hooked().await;
    let (mut ws, _) = joined(addr).await;
    ws.send(r#"42/h,1["check",-1]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/h,1[{"error":{"data":-1,"message":"negative"}}]"#);
    assert_eq!(recv(&mut ch.errors, "hook").await, "20 check failed: negative");
    ws.send(r#"42/h,2["check",4]"#).await;
    assert_eq!(ws.recv_text().await, "43/h,2[4]", "Ok is the ack value");
    ws.send(r#"42/h,3["store",""]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/h,3[{"error":{"message":"empty"}}]"#);
    assert_eq!(recv(&mut ch.errors, "hook").await, "20 store failed: empty");
    ws.send(r#"42/h,4["store","x"]"#).await;
    assert_eq!(ws.recv_text().await, "43/h,4[]", "Ok(()) is an empty ack");
    // Without the option, `Err` is an ack value and the hook hears nothing.
    ws.send(r#"42/h,5["plain",-1]"#).await;
    assert_eq!(ws.recv_text().await, r#"43/h,5[{"Err":"negative"}]"#);
    still_served(&mut ws, 6).await;
    assert!(ch.errors.try_recv().is_err(), "no error for the plain Result");
}

#[tokio::test]
async fn any_outgoing_sees_direct_emits_and_each_recipient_of_a_broadcast() {
    let (addr, mut ch, _io) = start_hooked().await;
    let (mut a, a_id) = joined(addr).await;
    let (mut b, b_id) = joined(addr).await;
    a.send(r#"42/h,["shout","hey"]"#).await;
    assert_eq!(a.recv_text().await, r#"42/h,["direct","hey"]"#);
    assert_eq!(a.recv_text().await, r#"42/h,["all","hey",1]"#);
    assert_eq!(b.recv_text().await, r#"42/h,["all","hey",1]"#);
    assert_eq!(recv(&mut ch.out, "direct").await, format!(r#"{a_id} direct "hey""#));
    let mut broadcast = vec![recv(&mut ch.out, "all").await, recv(&mut ch.out, "all").await];
    broadcast.sort();
    let mut expected = vec![format!(r#"{a_id} all "hey",1"#), format!(r#"{b_id} all "hey",1"#)];
    expected.sort();
    assert_eq!(broadcast, expected, "once per recipient");
    // Acks are not events: an ack reply is not seen.
    still_served(&mut a, 1).await;
    still_served(&mut b, 1).await;
    assert!(ch.out.try_recv().is_err(), "acks do not reach the outgoing listener");
}

/// The hand-written form: `use_event`, `on_error`, `on_fallible`, `on_any_outgoing`, and the
/// order against `on_any`.
#[tokio::test]
async fn the_hand_written_form() {
    tests::init_tracing();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (t1, t2, t3, t4, t5) = (tx.clone(), tx.clone(), tx.clone(), tx.clone(), tx);
    let h = Handlers::new()
        .use_event(move |_conn: Conn, ev: EventCtx| {
            let tx = t1.clone();
            async move {
                let _ = tx.send(format!("mw1 {}", ev.name()));
                match ev.name() {
                    "no" => Err(EventError::new("refused")),
                    "mw-panic" => panic!("middleware bug"),
                    _ => {
                        ev.extensions().insert(Caller("mw1".into()));
                        Ok(())
                    }
                }
            }
        })
        .use_event(move |_conn: Conn, ev: EventCtx| {
            let tx = t2.clone();
            async move {
                let _ = tx.send(format!("mw2 {}", ev.name()));
                Ok::<_, EventError>(())
            }
        })
        .on_any(move |_conn: &Conn, ev: &Event| {
            let _ = t3.send(format!("any {}", ev.name()));
        })
        .on("who", |_conn: Conn, mut ev: Event| async move {
            let caller = ev.extensions().get::<Caller>().map(|c| c.0).unwrap_or_default();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&caller);
            }
        })
        .on("boom", |_conn: Conn, _ev: Event| async move { panic!("handler bug") })
        .on("shout", |conn: Conn, _ev: Event| async move {
            let _ = conn.namespace().emit("all", &"hi");
        })
        .on_fallible("save", |_conn: Conn, ev: Event| async move {
            let n: i64 = ev.arg().map_err(|e| e.to_string())?;
            if n < 0 { Err(format!("{n} is negative")) } else { Ok(()) }
        })
        .on_error(move |conn: Conn, err: HandlerError| {
            let tx = t4.clone();
            async move {
                let _ = tx.send(format!("error {} {err}", err.event()));
                if err.event() == "boom" {
                    let _ = conn.emit("after-panic", &"still here");
                    panic!("the hook fails too");
                }
            }
        })
        .on_any_outgoing(move |_conn: &Conn, event: &str, args: &RawArgs| {
            let _ = t5.send(format!("out {event} {}", args.joined().unwrap_or("?")));
        });
    let io = Server::builder().ns("/", h).build();
    let addr = tests::serve(&io).await;
    let mut ws = Ws::connect(addr).await;
    ws.connect_ns("/").await;
    let mut other = Ws::connect(addr).await;
    other.connect_ns("/").await;

    ws.send(r#"421["who"]"#).await;
    assert_eq!(ws.recv_text().await, r#"431["mw1"]"#);
    for step in ["mw1 who", "mw2 who", "any who"] {
        assert_eq!(recv(&mut rx, step).await, step, "middlewares first, then on_any");
    }

    ws.send(r#"422["no",1]"#).await;
    assert_eq!(ws.recv_text().await, r#"42["error",{"message":"refused"}]"#);
    assert_eq!(ws.recv_text().await, r#"432[{"error":{"message":"refused"}}]"#);
    assert_eq!(recv(&mut rx, "mw1").await, "mw1 no");
    assert_eq!(recv(&mut rx, "out").await, r#"out error {"message":"refused"}"#);
    assert_eq!(recv(&mut rx, "error").await, "error no `no` refused: refused");

    ws.send(r#"423["mw-panic"]"#).await;
    assert_eq!(ws.recv_text().await, r#"433[{"error":{"message":"internal error"}}]"#);
    assert_eq!(recv(&mut rx, "mw1").await, "mw1 mw-panic");
    assert_eq!(
        recv(&mut rx, "error").await,
        "error mw-panic the handler of `mw-panic` panicked: middleware bug"
    );

    // A panicking handler, then a panicking hook: the socket stays (there is a hook).
    ws.send(r#"424["boom"]"#).await;
    assert_eq!(ws.recv_text().await, r#"434[{"error":{"message":"internal error"}}]"#);
    assert_eq!(ws.recv_text().await, r#"42["after-panic","still here"]"#);
    for step in ["mw1 boom", "mw2 boom", "any boom"] {
        assert_eq!(recv(&mut rx, step).await, step);
    }
    assert_eq!(recv(&mut rx, "error").await, "error boom the handler of `boom` panicked: handler bug");
    assert_eq!(recv(&mut rx, "out").await, r#"out after-panic "still here""#);

    ws.send(r#"425["save",-2]"#).await;
    assert_eq!(ws.recv_text().await, r#"435[{"error":{"message":"-2 is negative"}}]"#);
    for step in ["mw1 save", "mw2 save", "any save"] {
        assert_eq!(recv(&mut rx, step).await, step);
    }
    assert_eq!(recv(&mut rx, "error").await, "error save the handler of `save` failed: -2 is negative");

    // A broadcast: the outgoing listener once per recipient.
    ws.send(r#"42["shout"]"#).await;
    assert_eq!(ws.recv_text().await, r#"42["all","hi"]"#);
    assert_eq!(other.recv_text().await, r#"42["all","hi"]"#);
    for step in ["mw1 shout", "mw2 shout", "any shout", r#"out all "hi""#, r#"out all "hi""#] {
        assert_eq!(recv(&mut rx, step).await, step);
    }

    // Still served, both of them.
    ws.send(r#"426["who"]"#).await;
    assert_eq!(ws.recv_text().await, r#"436["mw1"]"#);
    other.send(r#"421["who"]"#).await;
    assert_eq!(other.recv_text().await, r#"431["mw1"]"#);
    assert_eq!(io.connection_count(), 2);
}

/// An `on_any` listener that panics is caught: the event still reaches its handler and the
/// connection goes on.
#[tokio::test]
async fn a_panicking_on_any_listener_is_contained() {
    tests::init_tracing();
    let h = Handlers::new()
        .on_any(|_conn: &Conn, ev: &Event| {
            if ev.name() == "bad" {
                panic!("listener bug");
            }
        })
        .on_fallback(|_conn: Conn, mut ev: Event| async move {
            let name = ev.name().to_owned();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&name);
            }
        });
    let io = Server::builder().ns("/", h).build();
    let addr = tests::serve(&io).await;
    let mut ws = Ws::connect(addr).await;
    ws.connect_ns("/").await;
    ws.send(r#"421["bad"]"#).await;
    assert_eq!(ws.recv_text().await, r#"431["bad"]"#);
    ws.send(r#"422["good"]"#).await;
    assert_eq!(ws.recv_text().await, r#"432["good"]"#);
}
