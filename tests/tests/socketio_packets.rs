//! Socket.IO v5 packets on the wire: CONNECT replies and refusals, malformed packets (each closes
//! the session), binary attachments, acknowledgements both ways and disconnects.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt as _;
use serde::Deserialize;
use sio_core::{Binary, Conn, Event, Handlers};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// `/` (base handlers plus `ask`, `bin`, `bye`) and `/admin` (base handlers), both logging
/// disconnects on one channel as `"<nsp> <reason>"`.
fn server() -> (sio_core::ServerBuilder, mpsc::UnboundedReceiver<String>, mpsc::UnboundedReceiver<Vec<u8>>) {
    let (dtx, drx) = mpsc::unbounded_channel();
    let (btx, brx) = mpsc::unbounded_channel();
    let log = |h: Handlers, tx: mpsc::UnboundedSender<String>| {
        h.on_disconnect(move |conn: Conn, reason| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(format!("{} {}", conn.namespace().path(), reason.as_str()));
            }
        })
    };
    let root = base_handlers()
        .on("ask", |conn: Conn, _ev: Event| async move {
            // Asks the client, then reports the client's answer.
            let reply = conn.timeout(Duration::from_secs(3)).emit_with_ack("question", &1).await;
            let text = match reply {
                Ok(r) => match r.get::<Binary>() {
                    Ok(b) => format!("binary {:?}", b.to_vec()),
                    Err(_) => r.get::<String>().unwrap_or_else(|e| format!("undecodable: {e}")),
                },
                Err(e) => format!("error: {e}"),
            };
            let _ = conn.emit("answer-was", &text);
        })
        .on("bin", move |_conn: Conn, ev: Event| {
            let btx = btx.clone();
            async move {
                #[derive(Deserialize)]
                struct Nested {
                    a: Binary,
                    b: Vec<Binary>,
                }
                if let Ok((first,)) = ev.args::<(Binary,)>() {
                    let _ = btx.send(first.to_vec());
                } else if let Ok(n) = ev.arg::<Nested>() {
                    let mut all = n.a.to_vec();
                    for x in n.b {
                        all.extend_from_slice(&x);
                    }
                    let _ = btx.send(all);
                }
            }
        })
        .on("bye", |conn: Conn, _ev: Event| async move {
            conn.disconnect();
        })
        .on_connect(|conn: Conn| async move {
            if conn.auth::<serde_json::Value>().is_ok_and(|a| a["greet"] == true) {
                let _ = conn.emit("hello", &"before anything else");
            }
            Ok(())
        });
    let b = builder().ns("/", log(root, dtx.clone())).ns("/admin", log(base_handlers(), dtx));
    (b, drx, brx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_root_answers_with_a_socket_id() {
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.send("40").await;
    let reply = c.recv_text().await;
    let sid = connect_reply_sid(&reply, "40");
    assert_ne!(sid, c.sid(), "the socket id is not the engine sid");
    // The same over polling.
    let mut p = Polling::handshake(addr).await;
    let psid = p.connect_ns("/").await;
    assert_ne!(psid, sid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_a_custom_namespace_names_it() {
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.send(r#"40/admin,{"token":"x"}"#).await;
    connect_reply_sid(&c.recv_text().await, "40/admin,");
    c.send(r#"42/admin,5["ack",{"in":"admin"}]"#).await;
    assert_eq!(c.recv_text().await, r#"43/admin,5[{"in":"admin"}]"#);
    // The root namespace is a separate socket on the same connection.
    c.connect_ns("/").await;
    c.ack_round_trip(6, "true").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emits_of_the_connect_handler_follow_the_connect_reply() {
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.send(r#"40{"greet":true}"#).await;
    connect_reply_sid(&c.recv_text().await, "40");
    assert_eq!(c.recv_text().await, r#"42["hello","before anything else"]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_namespace_is_refused_without_closing() {
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.send("40/nope,").await;
    assert_eq!(c.recv_text().await, r#"44/nope,{"message":"Invalid namespace"}"#);
    // The connection stays usable.
    c.connect_ns("/").await;
    c.ack_round_trip(1, r#""after refusal""#).await;

    let mut p = Polling::handshake(addr).await;
    p.post_ok("40/nope,").await;
    assert_eq!(p.recv().await, r#"44/nope,{"message":"Invalid namespace"}"#);
    p.connect_ns("/").await;
}

/// Packets (complete engine text messages) that must close the session of a client joined to `/`.
const MALFORMED: &[&str] = &[
    "4",                             // empty Socket.IO packet
    "49",                            // unknown packet type
    "47[\"x\"]",                     // unknown packet type
    "42{}",                          // payload not an array
    "42\"x\"",                       // payload not an array
    "42[]",                          // no event name
    "42[1]",                         // event name not a string
    "42abc[\"x\"]",                  // garbage where the ack id would be
    "4299999999999999999999[\"x\"]", // ack id overflows 64 bits
    "42[\"x\"",                      // invalid JSON
    "42[\"x\"]tail",                 // trailing garbage
    "42/admin,[\"x\"]",              // event to a namespace not joined
    "42/ghost,[\"x\"]",              // event to a namespace that does not exist
    "43/admin,1[\"x\"]",             // ack to a namespace not joined
    "43[\"x\"]",                     // ack without id
    "44{\"message\":\"x\"}",         // CONNECT_ERROR sent by a client
    "40",                            // CONNECT to a namespace already joined
    "41x",                           // DISCONNECT with a payload
    "45-[\"x\"]",                    // binary event without attachment count
    "40/admin,\"auth\"",             // CONNECT with a payload that is not an object
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_close_the_websocket_session() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    for bad in MALFORMED {
        let mut c = Ws::connect(addr).await;
        c.connect_ns("/").await;
        c.send(bad).await;
        let seen = c.expect_closed().await;
        assert!(seen.is_empty(), "{bad:?}: nothing is answered, got {seen:?}");
        let reason = recv(&mut reasons, bad).await;
        assert!(reason.starts_with("/ "), "{bad:?}: {reason}");
    }
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_close_the_polling_session() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    for bad in ["49", "42abc[\"x\"]", "42/admin,[\"x\"]", "44{\"message\":\"x\"}", "42[\"x\""] {
        let mut p = Polling::handshake(addr).await;
        p.connect_ns("/").await;
        p.post_ok(bad).await;
        recv(&mut reasons, bad).await;
        p.expect_gone().await;
    }
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_frame_without_a_pending_binary_packet_closes_the_session() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send_binary(vec![1, 2, 3]).await;
    c.expect_closed().await;
    recv(&mut reasons, "disconnect").await;

    // Also one frame too many after a complete binary packet.
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send("451-1[\"ack\",{\"_placeholder\":true,\"num\":0}]").await;
    c.send_binary(vec![9]).await;
    assert_eq!(c.recv_text().await, "461-1[{\"_placeholder\":true,\"num\":0}]");
    assert_eq!(c.recv_binary().await, [9]);
    c.send_binary(vec![10]).await;
    c.expect_closed().await;
    recv(&mut reasons, "disconnect").await;
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_while_attachments_are_expected_closes_the_session() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send("452-[\"bin\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]").await;
    c.send_binary(vec![1]).await;
    c.send(r#"421["ack",1]"#).await;
    c.expect_closed().await;
    recv(&mut reasons, "disconnect").await;
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_attachments_are_reassembled() {
    let (b, _, mut bins) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;

    let payload: Vec<u8> = (0..=255).chain(0..=255).collect();
    c.send(r#"451-["bin",{"_placeholder":true,"num":0}]"#).await;
    c.send_binary(payload.clone()).await;
    assert_eq!(recv(&mut bins, "the binary event").await, payload);

    // Two attachments, placeholders nested and out of order.
    c.send(r#"452-["bin",{"a":{"_placeholder":true,"num":1},"b":[{"_placeholder":true,"num":0}]}]"#).await;
    c.send_binary(vec![0xB0]).await;
    c.send_binary(vec![0xA1, 0xA2]).await;
    assert_eq!(recv(&mut bins, "the nested binary event").await, [0xA1, 0xA2, 0xB0]);

    // An empty attachment, in a namespace, acknowledged with the same binary.
    c.connect_ns("/admin").await;
    c.send(r#"451-/admin,8["ack","x",{"_placeholder":true,"num":0}]"#).await;
    c.send_binary(Vec::new()).await;
    assert_eq!(c.recv_text().await, r#"461-/admin,8["x",{"_placeholder":true,"num":0}]"#);
    assert_eq!(c.recv_binary().await, Vec::<u8>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_events_with_an_id_are_acknowledged_with_it() {
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send(r#"420["ack","zero"]"#).await;
    assert_eq!(c.recv_text().await, r#"430["zero"]"#);
    c.send(r#"4212["ack","x",1,{"k":[null,true]}]"#).await;
    assert_eq!(c.recv_text().await, r#"4312["x",1,{"k":[null,true]}]"#);
    c.send(r#"429999999999999999999["ack"]"#).await;
    assert_eq!(c.recv_text().await, "439999999999999999999[]");
    // Without an id there is no acknowledgement: the next packet is the next ack.
    c.send(r#"42["ack","no id"]"#).await;
    c.send(r#"427["ack","seven"]"#).await;
    assert_eq!(c.recv_text().await, r#"437["seven"]"#);
    // An ack for an id the server never used is ignored.
    c.send(r#"43999["unexpected"]"#).await;
    c.ack_round_trip(8, r#""still here""#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_64_bit_ack_id_is_accepted() {
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send(r#"4218446744073709551615["ack"]"#).await;
    assert_eq!(c.recv_text().await, "4318446744073709551615[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_emits_with_ack_get_the_client_reply() {
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;

    c.send(r#"42["ask"]"#).await;
    let question = c.recv_text().await;
    let id = question
        .strip_prefix("42")
        .and_then(|s| s.strip_suffix(r#"["question",1]"#))
        .unwrap_or_else(|| panic!("expected 42<id>[\"question\",1], got {question:?}"));
    assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()), "ack id {id:?}");
    c.send(&format!(r#"43{id}["forty-two"]"#)).await;
    assert_eq!(c.recv_text().await, r#"42["answer-was","forty-two"]"#);

    // A binary reply.
    c.send(r#"42["ask"]"#).await;
    let question = c.recv_text().await;
    let id2 =
        question.strip_prefix("42").and_then(|s| s.strip_suffix(r#"["question",1]"#)).expect("question");
    assert_ne!(id2, id, "every emit with ack has its own id");
    c.send(&format!(r#"461-{id2}[{{"_placeholder":true,"num":0}}]"#)).await;
    c.send_binary(vec![4, 2]).await;
    assert_eq!(c.recv_text().await, r#"42["answer-was","binary [4, 2]"]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_packet_runs_the_disconnect_handler() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    let first = c.connect_ns("/").await;
    c.connect_ns("/admin").await;
    c.send("41/admin,").await;
    assert_eq!(recv(&mut reasons, "disconnect /admin").await, "/admin client namespace disconnect");
    c.send("41").await;
    assert_eq!(recv(&mut reasons, "disconnect /").await, "/ client namespace disconnect");
    // The connection stays open and may join again, as a new socket.
    let second = c.connect_ns("/").await;
    assert_ne!(first, second);
    c.ack_round_trip(2, r#""rejoined""#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_disconnect_sends_a_disconnect_packet() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send(r#"42["bye"]"#).await;
    assert_eq!(c.recv_text().await, "41");
    assert_eq!(recv(&mut reasons, "disconnect").await, "/ server namespace disconnect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_websocket_drop_runs_the_disconnect_handler() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    drop(c); // TCP closed without a close frame.
    let reason = recv(&mut reasons, "disconnect").await;
    assert!(reason == "/ transport close" || reason == "/ transport error", "{reason}");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_websocket_drop_is_a_transport_close() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    drop(c);
    assert_eq!(recv(&mut reasons, "disconnect").await, "/ transport close");
}

// ------------------------------------------------- binary placeholders, checked when decoded
//
// A binary packet whose placeholders the reference's parser refuses (`illegal attachments`)
// closes the session as a parse error as soon as it is decoded, before a handler (here `ack`,
// which relays its arguments untyped) could send it on to clients that would refuse it.

/// Sends binary packet `header` (to `ack` on `/`) and its attachments; expects the session to
/// close as a parse error with nothing relayed, then a normal client served.
async fn placeholder_refused(header: &str, attachments: usize) {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    c.send(header).await;
    for i in 0..attachments {
        // The server may be gone already: it does not wait for the attachments.
        let _ = within(T, "send an attachment", c.ws.send(WsMessage::binary(vec![i as u8]))).await;
    }
    let seen = c.expect_closed().await;
    assert!(seen.is_empty(), "{header}: nothing is relayed, got {seen:?}");
    assert_eq!(recv(&mut reasons, header).await, "/ parse error", "{header}");
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_placeholder_out_of_range_closes_the_session() {
    placeholder_refused(r#"451-1["ack",{"_placeholder":true,"num":1}]"#, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_placeholder_with_a_negative_num_closes_the_session() {
    placeholder_refused(r#"452-1["ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":-1}]"#, 2)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_placeholder_with_a_nested_num_closes_the_session() {
    placeholder_refused(r#"451-1["ack",{"_placeholder":true,"num":{"_placeholder":true,"num":0}}]"#, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_placeholder_with_a_num_that_is_not_an_integer_closes_the_session() {
    placeholder_refused(r#"452-1["ack",{"_placeholder":true,"num":0.5}]"#, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_placeholder_without_num_closes_the_session() {
    placeholder_refused(r#"451-1["ack",{"a":[{"_placeholder":true}]}]"#, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_ack_with_a_bad_placeholder_closes_the_session() {
    // The client's answer to a server emit: refused as well, before it reaches the waiter.
    placeholder_refused(r#"461-7[{"_placeholder":true,"num":3}]"#, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_placeholder_out_of_range_closes_the_polling_session() {
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut p = Polling::handshake(addr).await;
    p.connect_ns("/").await;
    // The packet and its attachment (`b` + base64) in one POST.
    p.post_ok("451-1[\"ack\",{\"_placeholder\":true,\"num\":1}]\x1ebAQ==").await;
    assert_eq!(recv(&mut reasons, "disconnect").await, "/ parse error");
    p.expect_gone().await;
    assert_serves_polling(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_binary_placeholders_are_relayed() {
    // What the refusals above are not: placeholders in range, nested anywhere, in any order,
    // one used twice, one attachment used by none; relayed as sent with the attachments.
    let (b, _, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    let args = r#"{"a":[{"_placeholder":true,"num":2}]},{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}"#;
    c.send(&format!(r#"453-4["ack",{args}]"#)).await;
    for i in 0..3u8 {
        c.send_binary(vec![i]).await;
    }
    assert_eq!(c.recv_text().await, format!("463-4[{args}]"));
    for i in 0..3u8 {
        assert_eq!(c.recv_binary().await, [i]);
    }
    assert_serves(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholder_objects_in_a_text_packet_are_plain_data() {
    // The reference rebuilds only binary packets: in an EVENT or ACK, such an object is data
    // like any other, relayed as it came (a client gets the same plain object).
    let (b, mut reasons, _) = server();
    let (_io, addr) = start(b).await;
    let mut c = Ws::connect(addr).await;
    c.connect_ns("/").await;
    for args in [
        r#"{"_placeholder":true,"num":3}"#,
        r#"{"_placeholder":true}"#,
        r#"[{"_placeholder":true,"num":0.5}]"#,
    ] {
        c.send(&format!(r#"421["ack",{args}]"#)).await;
        assert_eq!(c.recv_text().await, format!("431[{args}]"));
    }
    c.ack_round_trip(2, r#""still served""#).await;
    assert!(reasons.try_recv().is_err(), "no disconnect");
    assert_serves(addr).await;
}
