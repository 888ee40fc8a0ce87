//! The wire types against real traffic: messages captured (Redis `MONITOR`) in a mixed
//! cluster of sio and Node (`socket.io` 4.8, `@socket.io/redis-adapter` 8.3) before the
//! types existed, and messages the hand-built encoders of that time wrote for the same
//! input. What sio sends must come out byte for byte; what Node sends must read.

use std::time::Duration;

use bytes::Bytes;
use rmpv::Value as Mp;
use sio_core::Room;
use sio_core::adapter::{BroadcastOptions, Payload, SocketInfo};

use super::classic::{
    AckResponse, Broadcast, BroadcastRequest, ClientCountResponse, DisconnectRequest, DoneResponse,
    EmitRequest, EmitResponse, FetchRequest, Request, RequestType, Response, RoomsRequest, RoomsResponse,
    SocketsResponse,
};
use super::sharded::{
    BroadcastBody, ClientCountBody, DisconnectBody, EmitBody, FetchBody, FetchResponseBody, Message,
    MessageType, ReplyBody, RoomsBody,
};
use super::{Args, Flags, Opts, Rooms, Sockets, decode, from_mp};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn text(bytes: Option<Vec<u8>>) -> String {
    String::from_utf8(bytes.expect("encodes")).expect("utf-8")
}

fn payload(json: &'static str) -> Payload {
    Payload { data: Bytes::from_static(json.as_bytes()), attachments: Vec::new() }
}

fn with_binary(json: &'static str, attachments: &[&'static [u8]]) -> Payload {
    Payload {
        data: Bytes::from_static(json.as_bytes()),
        attachments: attachments.iter().map(|a| Bytes::from_static(a)).collect(),
    }
}

fn opts(rooms: &[&str], except: &[&str], volatile: bool, timeout_ms: Option<u64>) -> BroadcastOptions {
    BroadcastOptions {
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: except.iter().map(|r| Room::from(*r)).collect(),
        local: false,
        volatile,
        timeout: timeout_ms.map(Duration::from_millis),
    }
}

fn rooms(names: &[&str]) -> Vec<Room> {
    names.iter().map(|r| Room::from(*r)).collect()
}

/// Numbers, escapes, non-ASCII and nesting, in a payload with and without binary.
const PLAIN: &str = r#"["ev",{"b":1,"a":[-3,1.5,1e300,12345678901234567890,"q\"x\u00e9",null,true]}]"#;
const BINARY: &str =
    r#"["ev",{"b":{"_placeholder":true,"num":0},"a":[-3,1.5,1e300,12345678901234567890,"q\"x\u00e9"]}]"#;

fn binary() -> Payload {
    with_binary(BINARY, &[&[1, 2, 3]])
}

/// A socket whose handshake and data have unsorted keys and numbers.
fn socket() -> SocketInfo {
    SocketInfo {
        id: "s1".into(),
        handshake: serde_json::json!({"z": 1, "a": {"y": [1.5, -2]}}),
        rooms: vec!["s1".into(), "r".into()],
        data: serde_json::json!({"k": "v"}),
    }
}

/// Every option the wire carries: rooms, except with a repeat (sent once), volatile, timeout.
fn full_opts() -> BroadcastOptions {
    opts(&["r1", "r2"], &["a", "a", "b"], true, Some(1500))
}

// ---- classic: what sio sends ----

#[test]
fn classic_broadcast_bytes() {
    let sent = |p: &Payload, o: &BroadcastOptions, nsp: &str| Broadcast::new("IP_FWH", nsp, p, o).encode();
    let none = BroadcastOptions::default();
    assert_eq!(
        sent(&payload(r#"["hello",{"n":1}]"#), &none, "/"),
        Some(hex(
            "93a649505f46574883a47479706502a46461746192a568656c6c6f81a16e01a36e7370a12f83a5726f6f6d7390\
             a665786365707490a5666c61677380"
        ))
    );
    assert_eq!(
        sent(&with_binary(r#"["bin2","x",{"_placeholder":true,"num":0}]"#, &[&[1, 2, 3]]), &none, "/"),
        Some(hex(
            "93a649505f46574883a47479706502a46461746193a462696e32a178c403010203a36e7370a12f83a5726f6f6d\
             7390a665786365707490a5666c61677380"
        ))
    );
    assert_eq!(
        sent(&payload(r#"["not-r2",4]"#), &opts(&[], &["r"], false, None), "/"),
        Some(hex(
            "93a649505f46574883a47479706502a46461746192a66e6f742d723204a36e7370a12f83a5726f6f6d7390a665\
             786365707491a172a5666c61677380"
        ))
    );
    // Volatile travels, the timeout does not (plain broadcasts have none).
    assert_eq!(
        Broadcast::new("UID123", "/chat", &payload(PLAIN), &full_opts()).encode(),
        Some(hex(
            "93a655494431323383a47479706502a46461746192a2657682a16201a16197fdcb3ff8000000000000cb7e37e4\
             3c8800759ccfab54a98ceb1f0ad2a5712278c3a9c0c3a36e7370a52f6368617483a5726f6f6d7392a27231a272\
             32a665786365707492a161a162a5666c61677381a8766f6c6174696c65c3"
        ))
    );
}

#[test]
fn classic_broadcast_with_ack_bytes() {
    let request = BroadcastRequest::new(
        "IP_FWH",
        "qzEcov",
        "/",
        &payload(r#"["q2",2]"#),
        &opts(&["r"], &[], false, Some(2000)),
    );
    assert_eq!(
        request.encode(),
        Some(hex(
            "85a3756964a649505f465748a9726571756573744964a6717a45636f76a47479706507a67061636b657483a474\
             79706502a46461746192a2713202a36e7370a12fa46f70747383a5726f6f6d7391a172a665786365707490a566\
             6c61677381a774696d656f7574cd07d0"
        ))
    );
    assert_eq!(
        BroadcastRequest::new("UID123", "REQ456", "/chat", &binary(), &full_opts()).encode(),
        Some(hex(
            "85a3756964a6554944313233a9726571756573744964a6524551343536a47479706507a67061636b657483a474\
             79706502a46461746192a2657682a162c403010203a16195fdcb3ff8000000000000cb7e37e43c8800759ccfab\
             54a98ceb1f0ad2a5712278c3a9a36e7370a52f63686174a46f70747383a5726f6f6d7392a27231a27232a6657863\
             65707492a161a162a5666c61677382a8766f6c6174696c65c3a774696d656f7574cd05dc"
        ))
    );
    // The answers: a count, then one message per reply (none: no `packet`).
    assert_eq!(
        text(ClientCountResponse::new("mrIgJ3", 1).encode()),
        r#"{"clientCount":1,"requestId":"mrIgJ3","type":8}"#
    );
    assert_eq!(
        AckResponse::new("mrIgJ3", Args::of(&payload(r#"["a:1"]"#)).first()).encode(),
        Some(hex("83a47479706509a9726571756573744964a66d7249674a33a67061636b6574a3613a31"))
    );
    assert_eq!(
        AckResponse::new("REQ456", Args::of(&payload("[]")).first()).encode(),
        Some(hex("82a47479706509a9726571756573744964a6524551343536"))
    );
    assert_eq!(
        AckResponse::new("REQ456", Args::of(&binary()).first()).encode(),
        Some(hex("83a47479706509a9726571756573744964a6524551343536a67061636b6574a26576"))
    );
}

#[test]
fn classic_fetch_sockets_bytes() {
    assert_eq!(
        text(FetchRequest::new("IP_FWH", "-XygsK", &opts(&["r"], &[], false, None)).encode()),
        r#"{"opts":{"except":[],"rooms":["r"]},"requestId":"-XygsK","type":5,"uid":"IP_FWH"}"#
    );
    assert_eq!(
        text(FetchRequest::new("UID123", "REQ456", &full_opts()).encode()),
        r#"{"opts":{"except":["a","b"],"rooms":["r1","r2"]},"requestId":"REQ456","type":5,"uid":"UID123"}"#
    );
    let captured = r#"{"requestId":"FEn4ir","sockets":[{"data":{},"handshake":{"address":"127.0.0.1","auth":{},"headers":{"connection":"Upgrade","host":"127.0.0.1:45073","sec-websocket-extensions":"permessage-deflate; client_max_window_bits","sec-websocket-key":"BoCorghYL/oLGnNZdM1c+A==","sec-websocket-version":"13","upgrade":"websocket"},"issued":1796221655051,"query":{"EIO":"4","transport":"websocket"},"secure":false,"time":"Wed, 02 Dec 2026 14:27:35 GMT","url":"/socket.io/?EIO=4&transport=websocket","xdomain":false},"id":"Nv9FTHGU1c5XyXp09lPj","rooms":["Nv9FTHGU1c5XyXp09lPj","r"]}]}"#;
    let sockets: Response = decode(captured.as_bytes()).expect("reads");
    assert_eq!(sockets.sockets.0.len(), 1);
    assert_eq!(text(SocketsResponse::new(Some("FEn4ir"), sockets.sockets).encode()), captured);
    let info = socket();
    assert_eq!(
        text(SocketsResponse::new(Some("REQ456"), Sockets(vec![info])).encode()),
        r#"{"requestId":"REQ456","sockets":[{"data":{"k":"v"},"handshake":{"a":{"y":[1.5,-2]},"z":1},"id":"s1","rooms":["s1","r"]}]}"#
    );
}

#[test]
fn classic_server_side_emit_bytes() {
    let emit = |id: Option<&str>, args: &Payload| {
        text(EmitRequest::new("IP_FWH", id, args).and_then(|r| r.encode()))
    };
    assert_eq!(
        emit(Some("x4A7bv"), &payload(r#"["whoami","yo"]"#)),
        r#"{"uid":"IP_FWH","requestId":"x4A7bv","type":6,"data":["whoami","yo"]}"#
    );
    assert_eq!(emit(None, &payload(r#"["note",6]"#)), r#"{"uid":"IP_FWH","type":6,"data":["note",6]}"#);
    // Without binary the arguments go as they are; with it, buffers as Node writes them.
    assert_eq!(
        emit(None, &payload(PLAIN)),
        r#"{"uid":"IP_FWH","type":6,"data":["ev",{"b":1,"a":[-3,1.5,1e300,12345678901234567890,"q\"x\u00e9",null,true]}]}"#
    );
    assert_eq!(
        emit(Some("REQ456"), &binary()),
        r#"{"uid":"IP_FWH","requestId":"REQ456","type":6,"data":["ev",{"b":{"type":"Buffer","data":[1,2,3]},"a":[-3,1.5,1e+300,12345678901234567890,"q\"xé"]}]}"#
    );
    assert_eq!(
        text(EmitResponse::new("PAvM0-", &payload(r#"[{"node":"sio","got":"hi"}]"#)).encode()),
        r#"{"type":6,"requestId":"PAvM0-","data":{"node":"sio","got":"hi"}}"#
    );
    assert_eq!(
        text(EmitResponse::new("REQ456", &payload("[]")).encode()),
        r#"{"type":6,"requestId":"REQ456"}"#
    );
}

#[test]
fn classic_room_and_legacy_bytes() {
    let target = opts(&["_UOpNp8R_gbGIldnAAAB"], &[], false, None);
    assert_eq!(
        text(RoomsRequest::new("IP_FWH", true, &target, &rooms(&["joined2"])).encode()),
        r#"{"opts":{"except":[],"rooms":["_UOpNp8R_gbGIldnAAAB"]},"rooms":["joined2"],"type":2,"uid":"IP_FWH"}"#
    );
    assert_eq!(
        text(RoomsRequest::new("IP_FWH", false, &target, &rooms(&["joined2"])).encode()),
        r#"{"opts":{"except":[],"rooms":["_UOpNp8R_gbGIldnAAAB"]},"rooms":["joined2"],"type":3,"uid":"IP_FWH"}"#
    );
    assert_eq!(
        text(DisconnectRequest::new("IP_FWH", &target, false).encode()),
        r#"{"close":false,"opts":{"except":[],"rooms":["_UOpNp8R_gbGIldnAAAB"]},"type":4,"uid":"IP_FWH"}"#
    );
    assert_eq!(
        text(DisconnectRequest::new("UID123", &full_opts(), true).encode()),
        r#"{"close":true,"opts":{"except":["a","b"],"rooms":["r1","r2"]},"type":4,"uid":"UID123"}"#
    );
    assert_eq!(
        text(RoomsRequest::new("UID123", true, &full_opts(), &rooms(&["x", "y"])).encode()),
        r#"{"opts":{"except":["a","b"],"rooms":["r1","r2"]},"rooms":["x","y"],"type":2,"uid":"UID123"}"#
    );
    assert_eq!(
        text(SocketsResponse::new(Some("REQ456"), vec!["s1", "s2"]).encode()),
        r#"{"requestId":"REQ456","sockets":["s1","s2"]}"#
    );
    assert_eq!(
        text(RoomsResponse::new(Some("REQ456"), vec!["r1".into(), "s1".into()]).encode()),
        r#"{"requestId":"REQ456","rooms":["r1","s1"]}"#
    );
    assert_eq!(text(DoneResponse::new(None).encode()), "{}");
    assert_eq!(text(DoneResponse::new(Some("REQ456")).encode()), r#"{"requestId":"REQ456"}"#);
}

// ---- classic: what Node sends ----

#[test]
fn classic_reads_node_broadcasts() {
    let b = Broadcast::decode(&hex(
        "93a678493134307183a47479706502a46461746193a668656c6c6f3281a16e02a374776fa36e7370a12f83a5726f6f\
         6d7390a665786365707490a5666c61677380",
    ))
    .expect("reads");
    assert_eq!(b.0.as_deref(), Some("xI140q"));
    assert_eq!(b.1.nsp.as_deref(), Some("/"));
    assert_eq!(b.1.data.payload(), payload(r#"["hello2",{"n":2},"two"]"#));
    assert_eq!(b.2, Opts::default());
    // Binary, nested too, becomes attachments.
    let b = Broadcast::decode(&hex(
        "93a678493134307183a47479706502a46461746193a362696ec40307080981a66e6573746564c4026869a36e7370a1\
         2f83a5726f6f6d7390a665786365707490a5666c61677380",
    ))
    .expect("reads");
    assert_eq!(
        b.1.data.payload(),
        with_binary(
            r#"["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]"#,
            &[&[7, 8, 9], b"hi"]
        )
    );
    // To one socket, with a flag sio does not know.
    let b = Broadcast::decode(&hex(
        "93a678493134307183a47479706502a46461746192a6646972656374a4746f2d61a36e7370a12f83a5726f6f6d7391\
         b44e763946544847553163355879587030396c506aa665786365707490a5666c61677381b465787065637453696e67\
         6c65526573706f6e7365c3",
    ))
    .expect("reads");
    assert_eq!(b.2.rooms, Rooms(rooms(&["Nv9FTHGU1c5XyXp09lPj"])));
    assert_eq!(b.2.flags, Flags::default());
}

#[test]
fn classic_reads_node_requests() {
    let r: Request =
        decode(br#"{"uid":"xI140q","requestId":"FEn4ir","type":5,"opts":{"rooms":["r"],"except":[]}}"#)
            .expect("reads");
    assert_eq!(
        (r.kind, r.uid.as_deref(), r.request_id.as_deref()),
        (RequestType::RemoteFetch, Some("xI140q"), Some("FEn4ir"))
    );
    assert_eq!(r.opts.map(Opts::options), Some(opts(&["r"], &[], false, None)));
    let r: Request =
        decode(br#"{"uid":"xI140q","requestId":"PAvM0-","type":6,"data":["whoami","hi"]}"#).expect("reads");
    assert_eq!(r.kind, RequestType::ServerSideEmit);
    assert_eq!(r.data.map(|a| a.payload()), Some(payload(r#"["whoami","hi"]"#)));
    let r: Request = decode(br#"{"uid":"xI140q","type":6,"data":["note",5]}"#).expect("reads");
    assert_eq!(r.request_id, None);
    let r: Request = decode(&hex(
        "85a3756964a6784931343071a9726571756573744964a66d7249674a33a47479706507a67061636b657483a4747970\
         6502a46461746192a17101a36e7370a12fa46f70747383a5726f6f6d7391a172a665786365707490a5666c616773\
         81a774696d656f7574cd0bb8",
    ))
    .expect("reads");
    assert_eq!((r.kind, r.request_id.as_deref()), (RequestType::Broadcast, Some("mrIgJ3")));
    assert_eq!(r.packet.map(|p| p.data.payload()), Some(payload(r#"["q",1]"#)));
    assert_eq!(r.opts.map(Opts::options), Some(opts(&["r"], &[], false, Some(3000))));
    let r: Request = decode(
        br#"{"uid":"xI140q","type":2,"opts":{"rooms":["kp5L8uNmN2B6rZyCYas6"],"except":[]},"rooms":["joined"]}"#,
    )
    .expect("reads");
    assert_eq!((r.kind, r.rooms), (RequestType::RemoteJoin, Rooms(rooms(&["joined"]))));
    let r: Request = decode(
        br#"{"uid":"xI140q","type":4,"opts":{"rooms":["kp5L8uNmN2B6rZyCYas6"],"except":[]},"close":false}"#,
    )
    .expect("reads");
    assert_eq!((r.kind, r.close), (RequestType::RemoteDisconnect, false));
    // The legacy form; numeric rooms; fields of the wrong type count as absent.
    let r: Request =
        decode(br#"{"type":3,"uid":5,"sid":"abc","room":42,"requestId":"x","rooms":[1,null,"b"]}"#)
            .expect("reads");
    assert_eq!((r.uid, r.sid.as_deref(), r.room), (None, Some("abc"), Some(Room::from("42"))));
    assert_eq!((r.opts, r.rooms), (None, Rooms(rooms(&["1", "b"]))));
    assert!(decode::<Request>(br#"{"type":42}"#).is_err());
}

#[test]
fn classic_reads_node_responses() {
    let r: Response = decode(br#"{"requestId":"-XygsK","sockets":[{"id":"Et33KwJGjIHvajGrAAAA","handshake":{"headers":{"sec-websocket-version":"13","sec-websocket-key":"p6TYFPiVA6r788o2Jv4VOA==","connection":"Upgrade","upgrade":"websocket","sec-websocket-extensions":"permessage-deflate; client_max_window_bits","host":"127.0.0.1:33189"},"time":"Wed Dec 02 2026 14:27:35 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1796221655065,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{}},"rooms":["Et33KwJGjIHvajGrAAAA","r"],"data":{}}]}"#).expect("reads");
    assert_eq!((r.kind, r.request_id.as_deref()), (None, Some("-XygsK")));
    let [socket] = r.sockets.0.as_slice() else { panic!("one socket: {:?}", r.sockets) };
    assert_eq!(
        (socket.id.as_str(), socket.rooms.as_slice()),
        ("Et33KwJGjIHvajGrAAAA", ["Et33KwJGjIHvajGrAAAA".to_owned(), "r".to_owned()].as_slice())
    );
    assert_eq!(socket.handshake["query"]["EIO"], "4");
    let r: Response =
        decode(br#"{"type":6,"requestId":"x4A7bv","data":{"node":"node","got":"yo"}}"#).expect("reads");
    assert_eq!(r.kind, Some(RequestType::ServerSideEmit));
    assert_eq!(Args::one(r.data).payload(), payload(r#"[{"node":"node","got":"yo"}]"#));
    let r: Response = decode(br#"{"type":8,"requestId":"qzEcov","clientCount":1}"#).expect("reads");
    assert_eq!((r.kind, r.client_count), (Some(RequestType::BroadcastClientCount), 1));
    let r: Response = decode(&hex("83a47479706509a9726571756573744964a6717a45636f76a67061636b6574a3623a32"))
        .expect("reads");
    assert_eq!((r.kind, r.packet), (Some(RequestType::BroadcastAck), Some(Mp::from("b:2"))));
    // `null` is a value; absent is none.
    let r: Response = decode(br#"{"type":9,"requestId":"q","packet":null}"#).expect("reads");
    assert_eq!(r.packet, Some(Mp::Nil));
    // Sockets: numeric rooms become text, entries that are no socket are skipped.
    let r: Response =
        decode(br#"{"requestId":"q","sockets":[{"id":"a","handshake":{},"rooms":["a",7]},{"nope":1}]}"#)
            .expect("reads");
    assert_eq!(r.sockets.0.len(), 1);
    assert_eq!(r.sockets.0[0].rooms, ["a".to_owned(), "7".to_owned()]);
}

// ---- sharded: what sio sends ----

const UID: &str = "973e8addfe506daf";

fn sharded<D: super::sharded::Body>(kind: MessageType, data: D) -> Vec<u8> {
    Message::new(kind, data, UID, "/").encode().expect("encodes")
}

fn sharded_text<D: super::sharded::Body>(kind: MessageType, data: D) -> String {
    String::from_utf8(sharded(kind, data)).expect("utf-8")
}

#[test]
fn sharded_broadcast_bytes() {
    let none = BroadcastOptions::default();
    assert_eq!(
        sharded_text(
            MessageType::Broadcast,
            BroadcastBody::new(&payload(r#"["hello",{"n":1}]"#), None, &none)
        ),
        r#"{"type":3,"data":{"packet":{"type":2,"data":["hello",{"n":1}]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    assert_eq!(
        sharded_text(
            MessageType::Broadcast,
            BroadcastBody::new(
                &payload(r#"["bc",5]"#),
                None,
                &opts(&[], &["hNJk36lbwigdeaPBSANH"], false, None)
            )
        ),
        r#"{"type":3,"data":{"packet":{"type":2,"data":["bc",5]},"opts":{"rooms":[],"except":["hNJk36lbwigdeaPBSANH"],"flags":{}}},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    let bin = with_binary(r#"["in-r2",2,{"_placeholder":true,"num":0}]"#, &[&[1, 2, 3]]);
    assert_eq!(
        sharded(MessageType::Broadcast, BroadcastBody::new(&bin, None, &opts(&["r"], &[], false, None))),
        hex("84a47479706503a46461746182a67061636b657482a47479706502a46461746193a5696e2d723202c403010203\
             a46f70747383a5726f6f6d7391a172a665786365707490a5666c61677380a3756964b0393733653861646466\
             65353036646166a36e7370a12f")
    );
    let message = Message::new(
        MessageType::Broadcast,
        BroadcastBody::new(&payload(PLAIN), None, &full_opts()),
        "0123456789abcdef",
        "/chat",
    );
    assert_eq!(
        text(message.encode()),
        r#"{"type":3,"data":{"packet":{"type":2,"data":["ev",{"b":1,"a":[-3,1.5,1e+300,12345678901234567890,"q\"xé",null,true]}]},"opts":{"rooms":["r1","r2"],"except":["a","b"],"flags":{"volatile":true,"timeout":1500}}},"uid":"0123456789abcdef","nsp":"/chat"}"#
    );
}

#[test]
fn sharded_broadcast_with_ack_bytes() {
    let o = opts(&["r"], &[], false, Some(2000));
    assert_eq!(
        sharded_text(
            MessageType::Broadcast,
            BroadcastBody::new(&payload(r#"["q2",2]"#), Some("536515e70bc070e9"), &o)
        ),
        r#"{"type":3,"data":{"packet":{"type":2,"data":["q2",2]},"requestId":"536515e70bc070e9","opts":{"rooms":["r"],"except":[],"flags":{"timeout":2000}}},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    let message = Message::new(
        MessageType::Broadcast,
        BroadcastBody::new(&binary(), Some("REQ456"), &full_opts()),
        "0123456789abcdef",
        "/chat",
    );
    assert_eq!(
        message.encode(),
        Some(hex(
            "84a47479706503a46461746183a67061636b657482a47479706502a46461746192a2657682a162c403010203a1\
             6195fdcb3ff8000000000000cb7e37e43c8800759ccfab54a98ceb1f0ad2a5712278c3a9a9726571756573744964\
             a6524551343536a46f70747383a5726f6f6d7392a27231a27232a665786365707492a161a162a5666c61677382a8\
             766f6c6174696c65c3a774696d656f7574cd05dca3756964b030313233343536373839616263646566a36e7370a5\
             2f63686174"
        ))
    );
    assert_eq!(
        sharded_text(MessageType::BroadcastClientCount, ClientCountBody::new("020147bde4f60cb7", 1)),
        r#"{"type":11,"data":{"requestId":"020147bde4f60cb7","clientCount":1},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    let reply = Args::of(&payload(r#"["a:1"]"#)).first();
    assert_eq!(
        sharded_text(MessageType::BroadcastAck, ReplyBody::new("020147bde4f60cb7", reply)),
        r#"{"type":12,"data":{"requestId":"020147bde4f60cb7","packet":"a:1"},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    let reply = Args::of(&with_binary(r#"[{"_placeholder":true,"num":0}]"#, &[&[4, 5]])).first();
    assert_eq!(
        Message::new(
            MessageType::BroadcastAck,
            ReplyBody::new("b76cfc90144fb4a8", reply),
            "117d92dd7a553310",
            "/"
        )
        .encode(),
        Some(hex(
            "84a4747970650ca46461746182a9726571756573744964b062373663666339303134346662346138a67061636b65\
             74c4020405a3756964b031313764393264643761353533333130a36e7370a12f"
        ))
    );
}

#[test]
fn sharded_fetch_sockets_bytes() {
    assert_eq!(
        sharded_text(
            MessageType::FetchSockets,
            FetchBody::new(&opts(&["r"], &[], false, None), "69e5f445fe1ec740")
        ),
        r#"{"type":7,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"requestId":"69e5f445fe1ec740"},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    let captured = r#"{"type":8,"data":{"requestId":"2ffc023b1fec1340","sockets":[{"id":"hNJk36lbwigdeaPBSANH","handshake":{"address":"127.0.0.1","auth":{},"headers":{"connection":"Upgrade","host":"127.0.0.1:32931","sec-websocket-extensions":"permessage-deflate; client_max_window_bits","sec-websocket-key":"m9cVrzTabP6J7D7qNRtk0w==","sec-websocket-version":"13","upgrade":"websocket"},"issued":1796221660373,"query":{"EIO":"4","transport":"websocket"},"secure":false,"time":"Wed, 02 Dec 2026 14:27:40 GMT","url":"/socket.io/?EIO=4&transport=websocket","xdomain":false},"rooms":["hNJk36lbwigdeaPBSANH","r"],"data":{}}]},"uid":"973e8addfe506daf","nsp":"/"}"#;
    let message: Message = decode(captured.as_bytes()).expect("reads");
    let body: FetchResponseBody = from_mp(message.data).expect("a fetch response");
    assert_eq!(
        sharded_text(
            MessageType::FetchSocketsResponse,
            FetchResponseBody::new(&body.request_id, body.sockets.0)
        ),
        captured
    );
    let info = socket();
    assert_eq!(
        sharded_text(MessageType::FetchSocketsResponse, FetchResponseBody::new("REQ456", vec![info])),
        r#"{"type":8,"data":{"requestId":"REQ456","sockets":[{"id":"s1","handshake":{"a":{"y":[1.5,-2]},"z":1},"rooms":["s1","r"],"data":{"k":"v"}}]},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
}

#[test]
fn sharded_server_side_emit_bytes() {
    assert_eq!(
        sharded_text(
            MessageType::ServerSideEmit,
            EmitBody::new(Some("a40155d0ac7b1ee6"), &payload(r#"["whoami","yo"]"#))
        ),
        r#"{"type":9,"data":{"requestId":"a40155d0ac7b1ee6","packet":["whoami","yo"]},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    assert_eq!(
        sharded_text(MessageType::ServerSideEmit, EmitBody::new(None, &payload(r#"["note",6]"#))),
        r#"{"type":9,"data":{"packet":["note",6]},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    let message = Message::new(
        MessageType::ServerSideEmit,
        EmitBody::new(None, &binary()),
        "0123456789abcdef",
        "/chat",
    );
    assert_eq!(
        message.encode(),
        Some(hex(
            "84a47479706509a46461746181a67061636b657492a2657682a162c403010203a16195fdcb3ff8000000000000\
             cb7e37e43c8800759ccfab54a98ceb1f0ad2a5712278c3a9a3756964b030313233343536373839616263646566\
             a36e7370a52f63686174"
        ))
    );
    let reply = Args::of(&payload(r#"[{"node":"sio","got":"hi"}]"#)).first();
    assert_eq!(
        sharded_text(MessageType::ServerSideEmitResponse, ReplyBody::new("4c7c6b7ba642e875", reply)),
        r#"{"type":10,"data":{"requestId":"4c7c6b7ba642e875","packet":{"node":"sio","got":"hi"}},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    assert_eq!(
        sharded_text(MessageType::ServerSideEmitResponse, ReplyBody::new("REQ456", None)),
        r#"{"type":10,"data":{"requestId":"REQ456"},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
}

#[test]
fn sharded_room_bytes() {
    let target = opts(&["qPjSLuhKI1AzPmYQAAAB"], &[], false, None);
    assert_eq!(
        sharded_text(MessageType::SocketsJoin, RoomsBody::new(&target, &rooms(&["joined2"]))),
        r#"{"type":4,"data":{"opts":{"rooms":["qPjSLuhKI1AzPmYQAAAB"],"except":[],"flags":{}},"rooms":["joined2"]},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    assert_eq!(
        sharded_text(MessageType::SocketsLeave, RoomsBody::new(&target, &rooms(&["joined2"]))),
        r#"{"type":5,"data":{"opts":{"rooms":["qPjSLuhKI1AzPmYQAAAB"],"except":[],"flags":{}},"rooms":["joined2"]},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    assert_eq!(
        sharded_text(MessageType::DisconnectSockets, DisconnectBody::new(&target, false)),
        r#"{"type":6,"data":{"opts":{"rooms":["qPjSLuhKI1AzPmYQAAAB"],"except":[],"flags":{}},"close":false},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
    assert_eq!(
        sharded_text(MessageType::DisconnectSockets, DisconnectBody::new(&full_opts(), true)),
        r#"{"type":6,"data":{"opts":{"rooms":["r1","r2"],"except":["a","b"],"flags":{"volatile":true,"timeout":1500}},"close":true},"uid":"973e8addfe506daf","nsp":"/"}"#
    );
}

// ---- sharded: what Node sends ----

fn node_message(bytes: &[u8]) -> Message {
    let message: Message = decode(bytes).expect("reads");
    assert_eq!((message.uid.as_deref(), message.nsp.as_deref()), (Some("117d92dd7a553310"), Some("/")));
    message
}

#[test]
fn sharded_reads_node_messages() {
    let m = node_message(br#"{"type":3,"data":{"packet":{"type":2,"data":["hello2",{"n":2},"two"]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"117d92dd7a553310","nsp":"/"}"#);
    assert_eq!(m.kind, MessageType::Broadcast);
    let b: BroadcastBody = from_mp(m.data).expect("a broadcast");
    assert_eq!((b.packet.data.payload(), b.request_id), (payload(r#"["hello2",{"n":2},"two"]"#), None));
    let m = node_message(&hex(
        "84a47479706503a46461746182a67061636b657482a47479706502a46461746193a362696ec40307080981a66e6573\
         746564c4026869a46f70747383a5726f6f6d7390a665786365707490a5666c61677380a3756964b031313764393264\
         643761353533333130a36e7370a12f",
    ));
    let b: BroadcastBody = from_mp(m.data).expect("a broadcast");
    assert_eq!(
        b.packet.data.payload().attachments,
        [Bytes::from_static(&[7, 8, 9]), Bytes::from_static(b"hi")]
    );
    let m = node_message(br#"{"type":3,"data":{"packet":{"type":2,"data":["q",1]},"requestId":"020147bde4f60cb7","opts":{"rooms":["r"],"except":[],"flags":{"timeout":3000}}},"uid":"117d92dd7a553310","nsp":"/"}"#);
    let b: BroadcastBody = from_mp(m.data).expect("a broadcast with acks");
    assert_eq!(b.request_id.as_deref(), Some("020147bde4f60cb7"));
    assert_eq!(b.opts.options(), opts(&["r"], &[], false, Some(3000)));
    let m = node_message(br#"{"type":3,"data":{"packet":{"type":2,"data":["direct","to-a"]},"opts":{"rooms":["hNJk36lbwigdeaPBSANH"],"except":[],"flags":{"expectSingleResponse":true}}},"uid":"117d92dd7a553310","nsp":"/"}"#);
    let b: BroadcastBody = from_mp(m.data).expect("a broadcast");
    assert_eq!(b.opts.flags, Flags::default());

    let m = node_message(br#"{"type":7,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"requestId":"2ffc023b1fec1340"},"uid":"117d92dd7a553310","nsp":"/"}"#);
    let f: FetchBody = from_mp(m.data).expect("a fetch");
    assert_eq!((f.request_id.as_str(), f.opts.rooms), ("2ffc023b1fec1340", Rooms(rooms(&["r"]))));
    let m = node_message(br#"{"type":8,"data":{"requestId":"69e5f445fe1ec740","sockets":[{"id":"tCnp-5c0xsdLz45MAAAA","handshake":{"headers":{"sec-websocket-version":"13","sec-websocket-key":"BDnZxJ/q8rvtvXcLM2ZYJw==","connection":"Upgrade","upgrade":"websocket","sec-websocket-extensions":"permessage-deflate; client_max_window_bits","host":"127.0.0.1:39377"},"time":"Wed Dec 02 2026 14:27:40 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1796221660386,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{}},"rooms":["tCnp-5c0xsdLz45MAAAA","r"],"data":{}}]},"uid":"117d92dd7a553310","nsp":"/"}"#);
    assert_eq!(m.kind, MessageType::FetchSocketsResponse);
    let f: FetchResponseBody = from_mp(m.data).expect("a fetch response");
    assert_eq!(f.sockets.0.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["tCnp-5c0xsdLz45MAAAA"]);

    let m = node_message(br#"{"type":9,"data":{"requestId":"4c7c6b7ba642e875","packet":["whoami","hi"]},"uid":"117d92dd7a553310","nsp":"/"}"#);
    let e: EmitBody = from_mp(m.data).expect("an event");
    assert_eq!(
        (e.request_id.as_deref(), e.packet.payload()),
        (Some("4c7c6b7ba642e875"), payload(r#"["whoami","hi"]"#))
    );
    let m = node_message(br#"{"type":10,"data":{"requestId":"a40155d0ac7b1ee6","packet":{"node":"node","got":"yo"}},"uid":"117d92dd7a553310","nsp":"/"}"#);
    assert_eq!(m.kind, MessageType::ServerSideEmitResponse);
    let r: ReplyBody = from_mp(m.data).expect("a reply");
    assert_eq!(Args::one(r.packet).payload(), payload(r#"[{"node":"node","got":"yo"}]"#));
    let m = node_message(br#"{"type":11,"data":{"requestId":"536515e70bc070e9","clientCount":1},"uid":"117d92dd7a553310","nsp":"/"}"#);
    let c: ClientCountBody = from_mp(m.data).expect("a count");
    assert_eq!((c.request_id.as_str(), c.client_count), ("536515e70bc070e9", 1));
    let m = node_message(&hex(
        "84a4747970650ca46461746182a9726571756573744964b062373663666339303134346662346138a67061636b6574\
         c4020405a3756964b031313764393264643761353533333130a36e7370a12f",
    ));
    assert_eq!(m.kind, MessageType::BroadcastAck);
    let r: ReplyBody = from_mp(m.data).expect("a reply");
    assert_eq!(r.packet, Some(Mp::Binary(vec![4, 5])));

    let m = node_message(br#"{"type":5,"data":{"opts":{"rooms":["LNJhiNAI4LIriKkOwLyM"],"except":[],"flags":{}},"rooms":["joined"]},"uid":"117d92dd7a553310","nsp":"/"}"#);
    assert_eq!(m.kind, MessageType::SocketsLeave);
    let r: RoomsBody = from_mp(m.data).expect("rooms");
    assert_eq!((r.opts.rooms, r.rooms), (Rooms(rooms(&["LNJhiNAI4LIriKkOwLyM"])), Rooms(rooms(&["joined"]))));
    let m = node_message(br#"{"type":6,"data":{"opts":{"rooms":["LNJhiNAI4LIriKkOwLyM"],"except":[],"flags":{}},"close":false},"uid":"117d92dd7a553310","nsp":"/"}"#);
    let d: DisconnectBody = from_mp(m.data).expect("a disconnect");
    assert!(!d.close);
    // Types of adapters with heartbeats are read (and ignored by the adapter); unknown
    // types are errors.
    let m = decode::<Message>(br#"{"type":2,"data":{},"uid":"x","nsp":"/"}"#).expect("a heartbeat");
    assert_eq!(m.kind, MessageType::Heartbeat);
    assert!(decode::<Message>(br#"{"type":99,"data":{},"uid":"x","nsp":"/"}"#).is_err());
}
