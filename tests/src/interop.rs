//! The Rust server behind the JS interop suite (`tests/js/`): the same contract as
//! `tests/js/reference-server.mjs`, written with sio's hand-written handler API.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use sio_core::{Conn, ConnectError, Event, EventCtx, EventError, Handlers, RawArgs, Server, middleware};

#[derive(Deserialize)]
struct Target {
    room: Option<String>,
    except: Option<String>,
    event: String,
    #[serde(default)]
    args: Vec<Box<RawValue>>,
    timeout: Option<u64>,
}

fn raw(s: String) -> Box<RawValue> {
    RawValue::from_string(s).unwrap_or_else(|_| RawValue::from_string("null".into()).unwrap_or_default())
}

fn target(ev: &Event) -> Option<(Target, RawArgs)> {
    let t: Target = ev.arg().ok()?;
    let args = RawArgs::new(t.args.clone(), ev.attachments().to_vec());
    Some((t, args))
}

/// Shifts the attachment numbers of binary placeholders in `v` by `offset`.
fn renumber(v: &mut serde_json::Value, offset: usize) {
    match v {
        serde_json::Value::Object(map) if map.get("_placeholder") == Some(&serde_json::Value::Bool(true)) => {
            if let Some(n) = map.get("num").and_then(serde_json::Value::as_u64) {
                map.insert("num".into(), (n + offset as u64).into());
            }
        }
        serde_json::Value::Object(map) => map.values_mut().for_each(|x| renumber(x, offset)),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| renumber(x, offset)),
        _ => {}
    }
}

fn root() -> Handlers {
    Handlers::new()
        .on("echo", |conn: Conn, ev: Event| async move {
            let _ = conn.emit_args("echo", ev.raw());
        })
        .on("ack", |_conn: Conn, mut ev: Event| async move {
            let args = ev.raw();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send_args(args);
            }
        })
        .on("join", |conn: Conn, mut ev: Event| async move {
            if let Ok(room) = ev.arg::<String>() {
                conn.join(room);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("leave", |conn: Conn, mut ev: Event| async move {
            if let Ok(room) = ev.arg::<String>() {
                conn.leave(room);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("rooms", |conn: Conn, mut ev: Event| async move {
            let mut rooms: Vec<String> = conn.rooms().iter().map(|r| r.to_string()).collect();
            rooms.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&rooms);
            }
        })
        .on("to-room", |conn: Conn, mut ev: Event| async move {
            if let Some((t, args)) = target(&ev) {
                let mut op = conn.to(t.room.unwrap_or_default());
                if let Some(except) = t.except {
                    op = op.except(except);
                }
                let _ = op.emit_args(&t.event, args);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("to-all", |conn: Conn, mut ev: Event| async move {
            if let Some((t, args)) = target(&ev) {
                let _ = conn.namespace().emit_args(&t.event, args);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("broadcast", |conn: Conn, mut ev: Event| async move {
            if let Some((t, args)) = target(&ev) {
                let _ = conn.broadcast().emit_args(&t.event, args);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("server-ack", |conn: Conn, mut ev: Event| async move {
            let Some((t, args)) = target(&ev) else { return };
            let timeout = Duration::from_millis(t.timeout.unwrap_or(5000));
            let reply = conn.timeout(timeout).emit_args_with_ack(&t.event, args).await;
            let Some(ack) = ev.take_ack() else { return };
            let _ = match reply {
                Ok(reply) => {
                    let r = reply.raw();
                    let list: Vec<&str> = r.json().collect();
                    let body = format!(r#"{{"ok":true,"reply":[{}]}}"#, list.join(","));
                    ack.send_args(RawArgs::new(vec![raw(body)], r.attachments().to_vec()))
                }
                Err(_) => ack.send(&serde_json::json!({ "ok": false })),
            };
        })
        .on("room-ack", |conn: Conn, mut ev: Event| async move {
            let Some((t, args)) = target(&ev) else { return };
            let timeout = Duration::from_millis(t.timeout.unwrap_or(5000));
            let op = conn.namespace().to(t.room.unwrap_or_default());
            let res = op.timeout(timeout).emit_args_with_ack(&t.event, args).await;
            let Some(ack) = ev.take_ack() else { return };
            // Each reply's first argument; binary placeholders are renumbered into one list.
            let mut attachments = Vec::new();
            let (ok, mut replies) = match res {
                Ok(r) => {
                    let mut texts = Vec::new();
                    for reply in &r.replies {
                        let raw_args = reply.raw();
                        let first = raw_args.json().next().unwrap_or("null");
                        let mut v: serde_json::Value = serde_json::from_str(first).unwrap_or_default();
                        renumber(&mut v, attachments.len());
                        attachments.extend(raw_args.attachments().iter().cloned());
                        texts.push(v.to_string());
                    }
                    (r.is_complete(), texts)
                }
                Err(_) => (false, Vec::new()),
            };
            replies.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            let body = format!(r#"{{"ok":{ok},"replies":[{}]}}"#, replies.join(","));
            let _ = ack.send_args(RawArgs::new(vec![raw(body)], attachments));
        })
        // Connection state recovery (tests/js/recovery): who the socket is now.
        .on("whoami", |conn: Conn, mut ev: Event| async move {
            let mut rooms: Vec<String> = conn.rooms().iter().map(|r| r.to_string()).collect();
            rooms.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            let data: serde_json::Value = conn.data().unwrap_or_default();
            let me = serde_json::json!({ "id": conn.id().as_str(), "recovered": conn.recovered(), "rooms": rooms, "data": data });
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&me);
            }
        })
        .on("set-data", |conn: Conn, mut ev: Event| async move {
            let _ = conn.set_data(&ev.arg::<serde_json::Value>().unwrap_or_default());
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        // emit-to({room: <socket id>, event, args}): a direct emit to that socket, by id.
        .on("emit-to", |conn: Conn, mut ev: Event| async move {
            if let Some((t, args)) = target(&ev) {
                let _ = conn.namespace().to(t.room.unwrap_or_default()).emit_args(&t.event, args);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("volatile-me", |conn: Conn, mut ev: Event| async move {
            if let Some((t, args)) = target(&ev) {
                let _ = conn.volatile().emit_args(&t.event, args);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&true);
            }
        })
        .on("disconnect-me", |conn: Conn, _ev: Event| async move {
            conn.disconnect();
        })
        .on("close-me", |conn: Conn, _ev: Event| async move {
            let _ = conn.emit("bye", &());
            conn.close();
        })
        .on("count", |conn: Conn, mut ev: Event| async move {
            let n = conn.namespace().sockets().len();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&n);
            }
        })
}

fn auth() -> (Handlers, Vec<sio_core::Middleware>) {
    let check =
        middleware(|conn: Conn| async move {
            #[derive(Deserialize)]
            struct Auth {
                token: Option<String>,
            }
            match conn.auth::<Auth>() {
                Ok(Auth { token: Some(t) }) if t == "secret" => Ok(()),
                _ => Err(ConnectError::new("unauthorized")
                    .with_data(&serde_json::json!({ "reason": "bad token" }))),
            }
        });
    let handlers = Handlers::new().on_connect(|conn: Conn| async move {
        let token: serde_json::Value =
            conn.auth::<serde_json::Value>().ok().and_then(|a| a.get("token").cloned()).unwrap_or_default();
        let header = conn.handshake().headers().get("x-test").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let _ = conn.emit(
            "welcome",
            &serde_json::json!({ "token": token, "query": conn.handshake().query("hello"), "header": header }),
        );
        Ok(())
    });
    (handlers, vec![check])
}

/// `/hooks`: an event middleware refuses events named `forbidden` (the client gets an `error`
/// event and, when it asked, the error ack); `ack` acknowledges with its arguments.
fn hooks() -> Handlers {
    Handlers::new()
        .use_event(|_conn: Conn, ev: EventCtx| async move {
            if ev.name() == "forbidden" {
                return Err(EventError::new("not allowed").with_data(&serde_json::json!({ "code": 7 })));
            }
            Ok(())
        })
        .on("ack", |_conn: Conn, mut ev: Event| async move {
            let args = ev.raw();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send_args(args);
            }
        })
}

/// The interop server.
pub fn server() -> Server {
    builder().build()
}

/// The interop server with the given packet parser.
pub fn server_with(parser: sio_core::Parser) -> Server {
    builder().parser(parser).build()
}

/// The interop server's builder, for variants (e.g. `.allow_eio3(true)`).
pub fn builder() -> sio_core::ServerBuilder {
    let (auth_handlers, auth_mw) = auth();
    let dyn_handlers = Handlers::new().on_connect(|conn: Conn| async move {
        let _ = conn.emit("hello", conn.namespace().path());
        Ok(())
    });
    Server::builder()
        .ns("/", root())
        .ns("/hooks", hooks())
        .ns_with("/auth", auth_handlers, auth_mw)
        .dynamic_ns(
            |path| {
                path.strip_prefix("/dyn-")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            },
            dyn_handlers,
            Vec::new(),
        )
}
