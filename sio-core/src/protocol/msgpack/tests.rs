//! The codec against bytes written by the real thing: socket.io-msgpack-parser 3.0.2 and its
//! notepack.io 2.2.0, from `tests/js/msgpack-fixtures.cjs` (run it to regenerate).

use super::*;

fn hex(s: &str) -> Bytes {
    let b: Vec<u8> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect();
    Bytes::from(b)
}

fn dec(s: &str) -> Result<(Packet, Vec<Bytes>), DecodeError> {
    decode(&hex(s), 10, 1 << 20)
}

fn data(p: &Packet) -> &str {
    std::str::from_utf8(&p.data).expect("utf-8")
}

// What Node's server sends (key order `type, data, nsp, id`, as its adapter's broadcasts).
const EVENT: &str = "83a47479706502a46461746192a36d7367a26869a36e7370a12f";
const BINARY_EVENT_ID: &str = "84a47479706502a46461746193a27570c40301020302a36e7370a52f63686174a2696407";
const ACK: &str = "84a47479706503a4646174619301a17881a16198c3c0cb3ff8000000000000fdcd012cd1ff38ce00011170cf0000000100000000a36e7370a12fa2696404";
const CONNECT_REPLY: &str = "83a47479706500a46461746181a3736964a3616263a36e7370a12f";
const DISCONNECT: &str = "82a47479706501a36e7370a22f61";
const CONNECT_ERROR: &str =
    "83a47479706504a46461746181a76d657373616765b1496e76616c6964206e616d657370616365a36e7370a22f78";
// What socket.io-client sends.
const CLIENT_EVENT: &str =
    "85a47479706502a46461746193a2657601a2c3a9a76f7074696f6e7381a8636f6d7072657373c3a2696403a36e7370a12f";
const CLIENT_CONNECT: &str = "83a47479706500a464617461d40000a36e7370a12f";
const CLIENT_CONNECT_AUTH: &str = "83a47479706500a46461746181a5746f6b656ea178a36e7370a62f61646d696e";
const CLIENT_BINARY_ACK: &str = "84a47479706503a2696405a46461746192c40109c702000708a36e7370a12f";
const CLIENT_ODD: &str = "83a47479706502a46461746197a36f6464d7000000018bcfe5687bcb7ff8000000000000d4000082a175d40000a16b01cbbff4000000000000cf0020000000000002a36e7370a12f";

fn enc(kind: PacketType, nsp: &str, id: Option<u64>, data: Option<&str>, bins: &[Bytes]) -> Bytes {
    encode(kind, nsp, id, data.map(str::as_bytes), bins).expect("encodes")
}

#[test]
fn encodes_as_node_does() {
    assert_eq!(enc(PacketType::Event, "/", None, Some(r#"["msg","hi"]"#), &[]), hex(EVENT));
    let bin = [Bytes::from_static(&[1, 2, 3])];
    assert_eq!(
        enc(
            PacketType::BinaryEvent,
            "/chat",
            Some(7),
            Some(r#"["up",{"_placeholder":true,"num":0},2]"#),
            &bin
        ),
        hex(BINARY_EVENT_ID)
    );
    // serde_json writes 1.5 and integers; notepack writes the smallest encoding of each.
    let ack = r#"[1,"x",{"a":[true,null,1.5,-3,300,-200,70000,4294967296]}]"#;
    assert_eq!(enc(PacketType::Ack, "/", Some(4), Some(ack), &[]), hex(ACK));
    assert_eq!(enc(PacketType::Connect, "/", None, Some(r#"{"sid":"abc"}"#), &[]), hex(CONNECT_REPLY));
    assert_eq!(enc(PacketType::Disconnect, "/a", None, None, &[]), hex(DISCONNECT));
    let err = r#"{"message":"Invalid namespace"}"#;
    assert_eq!(enc(PacketType::ConnectError, "/x", None, Some(err), &[]), hex(CONNECT_ERROR));
}

#[test]
fn encoding_details() {
    // Integral floats are integers, as notepack writes JS numbers; others float 64.
    let e = enc(PacketType::Event, "/", None, Some(r#"["n",2.0,-0.5]"#), &[]);
    assert!(e.ends_with(&hex("93a16e02cbbfe0000000000000a36e7370a12f")), "{e:?}");
    // A text packet's placeholder-shaped objects stay objects.
    let ph = r#"["n",{"_placeholder":true,"num":0}]"#;
    let (p, bins) = decode(&enc(PacketType::Event, "/", None, Some(ph), &[]), 10, 100).expect("decodes");
    assert_eq!((data(&p), bins.len()), (ph, 0));
    // Long arrays, maps and strings take the 16-bit headers.
    let long: Vec<String> = (0..20).map(|i| format!("\"{}\"", "x".repeat(i * 3))).collect();
    let json = format!("[{}]", long.join(","));
    let (p, _) = decode(&enc(PacketType::Event, "/", None, Some(&json), &[]), 10, 100).expect("decodes");
    assert_eq!(data(&p), json);
    // Too deep to transcode is an error, not a panic.
    let deep = format!("[\"d\",{}{}]", "[".repeat(200), "]".repeat(200));
    assert!(encode(PacketType::Event, "/", None, Some(deep.as_bytes()), &[]).is_err());
}

#[test]
fn decodes_what_node_sends() {
    let (p, b) = dec(EVENT).expect("event");
    assert_eq!(
        (p.kind, p.nsp.as_str(), p.id, p.event_name(), data(&p)),
        (PacketType::Event, "/", None, Some("msg"), r#"["msg","hi"]"#)
    );
    assert!(b.is_empty());
    let (p, b) = dec(BINARY_EVENT_ID).expect("binary event");
    assert_eq!((p.kind, p.nsp.as_str(), p.id, p.attachments), (PacketType::BinaryEvent, "/chat", Some(7), 1));
    assert_eq!(data(&p), r#"["up",{"_placeholder":true,"num":0},2]"#);
    assert_eq!(b, vec![Bytes::from_static(&[1, 2, 3])]);
    let (p, _) = dec(ACK).expect("ack");
    assert_eq!((p.kind, p.id), (PacketType::Ack, Some(4)));
    assert_eq!(data(&p), r#"[1,"x",{"a":[true,null,1.5,-3,300,-200,70000,4294967296]}]"#);
    let (p, _) = dec(DISCONNECT).expect("disconnect");
    assert_eq!((p.kind, p.nsp.as_str()), (PacketType::Disconnect, "/a"));
    assert_eq!(dec(CONNECT_ERROR).map(|_| ()), Err(DecodeError::Unexpected), "only servers send it");
}

#[test]
fn decodes_what_the_client_sends() {
    // `options` is dropped; strings are UTF-8.
    let (p, _) = dec(CLIENT_EVENT).expect("event");
    assert_eq!((p.kind, p.id, data(&p)), (PacketType::Event, Some(3), r#"["ev",1,"é"]"#));
    // `data: undefined` is no auth.
    let (p, _) = dec(CLIENT_CONNECT).expect("connect");
    assert_eq!((p.kind, p.nsp.as_str(), data(&p)), (PacketType::Connect, "/", ""));
    let (p, _) = dec(CLIENT_CONNECT_AUTH).expect("connect with auth");
    assert_eq!((p.nsp.as_str(), data(&p)), ("/admin", r#"{"token":"x"}"#));
    // A Buffer (bin) and an ArrayBuffer (ext type 0), both attachments.
    let (p, b) = dec(CLIENT_BINARY_ACK).expect("binary ack");
    assert_eq!((p.kind, p.id, p.attachments), (PacketType::BinaryAck, Some(5), 2));
    assert_eq!(data(&p), r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    assert_eq!(b, vec![Bytes::from_static(&[9]), Bytes::from_static(&[7, 8])]);
    // Values JSON has no spelling for: as JSON.stringify writes what notepack decodes.
    let (p, _) = dec(CLIENT_ODD).expect("odd values");
    assert_eq!(data(&p), r#"["odd","2023-11-14T22:13:20.123Z",null,null,{"k":1},-1.25,9007199254740994]"#);
}

#[test]
fn encode_decode_round_trip() {
    let json = r#"["e",{"a":[1,-1,2.5,"s",null,true,false,{}],"b":[]},{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#;
    let bins = [Bytes::from(vec![7u8; 300]), Bytes::from_static(b"")];
    let m = enc(PacketType::BinaryEvent, "/n", Some(u64::MAX), Some(json), &bins);
    let (p, b) = decode(&m, 10, 1000).expect("decodes");
    // Placeholders are renumbered in the order the values appear.
    assert_eq!(
        data(&p),
        r#"["e",{"a":[1,-1,2.5,"s",null,true,false,{}],"b":[]},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(b, vec![bins[1].clone(), bins[0].clone()]);
    assert_eq!((p.id, p.nsp.as_str()), (Some(u64::MAX), "/n"));
}

#[test]
fn dates_as_json_stringify_writes_them() {
    let date = |ms: i64| {
        let mut s = Sink::default();
        write_date(&mut s, ms);
        String::from_utf8(s.json).expect("utf-8")
    };
    assert_eq!(date(0), r#""1970-01-01T00:00:00.000Z""#);
    assert_eq!(date(-1), r#""1969-12-31T23:59:59.999Z""#);
    assert_eq!(date(951_782_400_000), r#""2000-02-29T00:00:00.000Z""#);
    assert_eq!(date(-62_198_755_200_000), r#""-000001-01-01T00:00:00.000Z""#);
    assert_eq!(date(253_402_300_800_000), r#""+010000-01-01T00:00:00.000Z""#);
    assert_eq!(date(8_640_000_000_000_000), r#""+275760-09-13T00:00:00.000Z""#);
    assert_eq!(date(8_640_000_000_000_001), "null");
}

/// A packet map with `data` given as raw MessagePack bytes (hex).
fn packet(ty: &str, data_hex: Option<&str>) -> String {
    match data_hex {
        Some(d) => format!("83a474797065{ty}a36e7370a12fa464617461{d}"),
        None => format!("82a474797065{ty}a36e7370a12f"),
    }
}

#[test]
fn refuses_what_the_parser_refuses() {
    let bad: &[(&str, DecodeError)] = &[
        ("", DecodeError::Empty),
        ("c1", DecodeError::UnknownType),
        ("92a16101", DecodeError::UnknownType),
        ("81a4747970650a", DecodeError::UnknownType), // no nsp, type 10
        ("82a474797065a132a36e7370a12f", DecodeError::UnknownType), // type "2"
        ("82a474797065cb4000000000000001a36e7370a12f", DecodeError::UnknownType), // 2.0000000000000004
        ("82a47479706502a36e7370c0", DecodeError::BadNamespace),
        ("81a47479706502", DecodeError::BadNamespace),
        ("82a47479706502a36e7370a22f01", DecodeError::BadNamespace),
        ("83a47479706502a36e7370a12fa46461746181a16101", DecodeError::BadPayload), // data a map
        ("82a47479706502a36e7370a12f", DecodeError::BadPayload),                   // no data
        ("83a47479706502a36e7370a12fa46461746190", DecodeError::BadPayload),       // []
        ("83a47479706502a36e7370a12fa4646174619101", DecodeError::BadPayload),     // [1]
        ("83a47479706500a36e7370a12fa464617461c0", DecodeError::BadPayload),       // connect null
        ("83a47479706501a36e7370a12fa4646174619101", DecodeError::BadPayload),     // disconnect data
        ("83a47479706503a36e7370a12fa46461746190", DecodeError::BadPayload),       // ack without id
        ("84a47479706502a36e7370a12fa46461746191a161a2696401ff", DecodeError::BadPayload), // trailing
        ("84a47479706502a36e7370a12fa46461746191a161a26964ff", DecodeError::BadAckId),
        ("84a47479706502a36e7370a12fa46461746191a161a26964cb3ff8000000000000", DecodeError::BadAckId),
        ("84a47479706502a36e7370a12fa46461746191a161a26964c0", DecodeError::BadAckId),
        ("84a47479706502a36e7370a12fa46461746191a161a26964a131", DecodeError::BadAckId),
        ("83a47479706502a36e7370a12fa46461746192a161", DecodeError::BadPayload), // truncated
        ("83a47479706502a36e7370a12fa464617461dd7fffffff", DecodeError::BadPayload), // huge length
        ("83a47479706502a36e7370a12fa46461746192a16181c0c0", DecodeError::BadPayload), // nil key
        ("83a47479706502a36e7370a12fa46461746192a16181cb3ff8000000000000c0", DecodeError::BadPayload),
        // CONNECT's auth with a Buffer.
        ("83a47479706500a36e7370a12fa46461746181a162c40101", DecodeError::BadPayload),
    ];
    for (h, e) in bad {
        assert_eq!(dec(h).map(|_| ()), Err(e.clone()), "{h}");
    }
}

#[test]
fn bounds_attachments_and_depth() {
    let bins = |n: usize, len: usize| {
        let mut h = format!("9{n:x}a161");
        for _ in 1..n {
            h += &format!("c4{len:02x}{}", "00".repeat(len));
        }
        packet("02", Some(&h))
    };
    assert!(decode(&hex(&bins(11, 1)), 10, 100).is_ok());
    assert_eq!(decode(&hex(&bins(12, 1)), 10, 100).map(|_| ()), Err(DecodeError::BadAttachments));
    assert_eq!(decode(&hex(&bins(3, 60)), 10, 100).map(|_| ()), Err(DecodeError::BadAttachments));
    let nested = |depth: usize| {
        let d = format!("92a161{}{}", "91".repeat(depth - 1), "c0");
        packet("02", Some(&d))
    };
    assert!(dec(&nested(MAX_DEPTH)).is_ok());
    assert_eq!(dec(&nested(MAX_DEPTH + 1)).map(|_| ()), Err(DecodeError::BadPayload));
    // A whole megabyte of nesting: refused, without exhausting the stack.
    assert!(decode(&hex(&packet("02", Some(&"91".repeat(1 << 20)))), 10, 100).is_err());
    // Maps nest as deep.
    let maps = packet("02", Some(&format!("92a161{}c0", "81a16b".repeat(MAX_DEPTH))));
    assert_eq!(dec(&maps).map(|_| ()), Err(DecodeError::BadPayload));
}

#[test]
fn other_values() {
    // Integer keys become strings; undefined in an array is null; other ext types are
    // `[type, <binary>]`; invalid UTF-8 is replaced; float 32 widened.
    let d = "96a161" // ["a",
        .to_owned()
        + "82" + "05" + "01" + "ff" + "02" // {5:1,-1:2}
        + "91d40000" // [undefined]
        + "d5070102" // fixext 2 type 7
        + "a2c328" // invalid UTF-8
        + "ca3fc00000"; // 1.5f32
    let (p, b) = dec(&packet("02", Some(&d))).expect("decodes");
    assert_eq!(data(&p), r#"["a",{"5":1,"-1":2},[null],[7,{"_placeholder":true,"num":0}],"�(",1.5]"#);
    assert_eq!(b, vec![Bytes::from_static(&[1, 2])]);
    // An unknown top-level key may hold anything, and later keys win.
    let h = "85a474797065a130a47479706502a3616e79d70100000000000000".to_owned()
        + "a36e7370a12fa4646174619191a161";
    assert_eq!(dec(&h).map(|_| ()), Err(DecodeError::BadPayload), "[[\"a\"]] is no event");
}

/// The fuzz target's property on mutations of the fixtures: whatever decodes re-encodes and
/// decodes to the same packet, and nothing panics.
#[cfg(feature = "__internals")]
#[test]
fn mutated_fixtures_round_trip() {
    let seeds = [
        EVENT,
        BINARY_EVENT_ID,
        ACK,
        DISCONNECT,
        CLIENT_EVENT,
        CLIENT_CONNECT,
        CLIENT_CONNECT_AUTH,
        CLIENT_BINARY_ACK,
        CLIENT_ODD,
    ];
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let noise =
        [0x00, 0x01, 0x7f, 0x80, 0x90, 0x91, 0xa1, 0xc0, 0xc1, 0xc4, 0xc7, 0xcb, 0xd4, 0xd7, 0xdc, 0xff];
    let mut decoded = 0;
    for i in 0..30_000 {
        let mut b = hex(seeds[i % seeds.len()]).to_vec();
        for _ in 0..=(next() % 3) {
            let at = (next() as usize) % (b.len() + 1);
            let c = noise[(next() as usize) % noise.len()];
            match next() % 3 {
                0 if at < b.len() => {
                    b.remove(at);
                }
                1 if at < b.len() => b[at] = c,
                _ => b.insert(at, c),
            }
        }
        crate::__fuzz::msgpack_packet(&b);
        decoded += usize::from(decode(&Bytes::from(b), 10, 1 << 20).is_ok());
    }
    assert!(decoded > 1000, "the mutations should mostly keep packets valid: {decoded}");
}
