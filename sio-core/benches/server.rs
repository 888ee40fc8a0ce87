//! Server benches: what a packet costs from the moment its bytes are read until the reply
//! frames sit in the outbound queues, with in-process clients (`sio_core::__bench::Harness`
//! plays the session tasks; no sockets, no I/O).
//!
//! * `sio_encode/*`: emits to one socket: a text event with arguments, an event with an ack id
//!   (server → client ack request), a binary event with two 1 KiB attachments. Encoding plus
//!   the push into the socket's queue.
//! * `dispatch/*`: one client packet through `Packet::decode`, namespace routing, a
//!   `Handlers` closure (`macro_*`: a `#[namespace]` handler) and the ack it sends: `echo` (the bench contract's ack of a 64 B
//!   string), a typed struct argument, a binary event with its attachment, and `bcast` to
//!   100 sockets (the bench contract's broadcast, as `examples/bench_server` does it).
//! * `broadcast/*`: `io.of("/").emit(..)` of 64 B: encode once, then queue the shared frame
//!   to N = 1, 100, 1000 sockets; `broadcast/room100_of_1000` targets a room of 100.
//! * `polling/*`: long-polling over the engine's HTTP handling (no TCP): a GET that takes ten
//!   queued event frames (payload encoding, text and binary as `b<base64>`), and a POST of
//!   ten packets (payload decoding).
//!
//! Queues are drained (untimed) between batches. Run: `cargo bench -p sio-core --bench server`
//! (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use serde::Deserialize;
use sio_core::__bench::{self, Harness};
use sio_core::protocol::PacketType;
use sio_core::{Binary, Conn, Event, Handlers, Parser, Server};

#[allow(dead_code)]
mod common;

/// Emits per timed batch: half the default outbound queue (1024 frames), so nothing is refused.
const BATCH: u64 = 400;

#[derive(Debug, Deserialize, sio_core::TS)]
struct ChatMsg {
    room: String,
    text: String,
}

/// The bench contract's handlers (as in `examples/bench_server`), plus a typed one.
fn server() -> Server {
    server_with(Parser::Json)
}

fn server_with(parser: Parser) -> Server {
    let handlers = Handlers::new()
        .on("echo", |_conn: Conn, mut ev: Event| async move {
            let args = ev.raw();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send_args(args);
            }
        })
        .on("bcast", |conn: Conn, ev: Event| async move {
            let _ = conn.namespace().emit_args("bcast", ev.raw());
        })
        .on("msg", |_conn: Conn, mut ev: Event| async move {
            let Ok(m) = ev.arg::<ChatMsg>() else { return };
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&(m.room.len() + m.text.len()));
            }
        });
    Server::builder().parser(parser).ns("/", handlers).namespace(Macro).build()
}

/// The same two events written as a `#[namespace]` (the code the macros generate).
struct Macro;

#[sio_core::namespace("/m")]
impl Macro {
    #[event]
    async fn echo(&self, text: String) -> String {
        text
    }

    #[event]
    async fn msg(&self, _s: Conn, m: ChatMsg) -> usize {
        m.room.len() + m.text.len()
    }
}

fn first_conn(h: &Harness) -> Conn {
    h.server().of("/").and_then(|ns| ns.sockets().into_iter().next()).expect("a connected socket")
}

fn sio_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("sio_encode");
    let io = server();
    let mut h = Harness::connected(&io, 1, "/");
    let conn = first_conn(&h);
    let text = "hello there, how are you?";
    g.bench_function("event_text", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |_| {
                    let _ = conn.emit_args("message", black_box((text, 42, 3.5, true)));
                },
                |h| {
                    h.drain(0);
                },
            )
        })
    });

    // The ack requests are answered in the untimed part, so the pending-ack map stays small.
    let mut ids = Vec::new();
    let io2 = server(); // its own server: `first_conn` must find this harness's socket
    let mut h2 = Harness::connected(&io2, 1, "/");
    let conn2 = first_conn(&h2);
    g.bench_function("event_ack_id", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h2,
                |_| drop(conn2.emit_args_with_ack("question", black_box((text, 42)))),
                |h2| {
                    h2.drain_with(0, |f| {
                        let digits = f[2..].bytes().take_while(u8::is_ascii_digit).count();
                        ids.push(f[2..2 + digits].to_owned());
                    });
                    assert!(!ids.is_empty(), "the ack requests reach this client");
                    for id in ids.drain(..) {
                        h2.text(0, Bytes::from(format!("3{id}[]")));
                    }
                },
            )
        })
    });

    let a = Binary::from(vec![1u8; 1024]);
    let z = Binary::from(vec![2u8; 1024]);
    g.bench_function("binary_event_2x1k", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH / 3,
                &mut h,
                |_| {
                    let _ = conn.emit_args("upload", black_box((&a, "name", &z)));
                },
                |h| {
                    h.drain(0);
                },
            )
        })
    });
    g.finish();
}

fn dispatch(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch");
    let io = server();
    let mut h = Harness::connected(&io, 100, "/");

    let echo = Bytes::from(format!(r#"21["echo",{}]"#, common::json_string(64)));
    h.text(0, echo.clone());
    assert_eq!(h.drain(0), 1, "echo is acknowledged");
    g.bench_function("echo_ack_64b", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |h| h.text(0, black_box(echo.clone())),
                |h| {
                    h.drain(0);
                },
            )
        })
    });

    let msg = Bytes::from_static(br#"27["msg",{"room":"lobby","text":"hello there, how are you?"}]"#);
    h.text(0, msg.clone());
    assert_eq!(h.drain(0), 1, "msg is acknowledged");
    g.bench_function("typed_struct_ack", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |h| h.text(0, black_box(msg.clone())),
                |h| {
                    h.drain(0);
                },
            )
        })
    });

    let mut m = Harness::connected(&io, 1, "/m");
    for (name, packet) in [
        ("macro_echo_ack_64b", Bytes::from(format!(r#"2/m,1["echo",{}]"#, common::json_string(64)))),
        (
            "macro_typed_struct_ack",
            Bytes::from_static(br#"2/m,7["msg",{"room":"lobby","text":"hello there, how are you?"}]"#),
        ),
    ] {
        m.text(0, packet.clone());
        assert_eq!(m.drain(0), 1, "{name} is acknowledged");
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                common::batched(
                    iters,
                    BATCH,
                    &mut m,
                    |h| h.text(0, black_box(packet.clone())),
                    |h| {
                        h.drain(0);
                    },
                )
            })
        });
    }

    let header = Bytes::from_static(br#"51-3["echo",{"_placeholder":true,"num":0}]"#);
    let attachment = Bytes::from(vec![7u8; 1024]);
    h.text(0, header.clone());
    h.binary(0, attachment.clone());
    assert_eq!(h.drain(0), 2, "binary echo is acknowledged with its attachment");
    g.bench_function("binary_echo_1k", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH / 2,
                &mut h,
                |h| {
                    h.text(0, black_box(header.clone()));
                    h.binary(0, attachment.clone());
                },
                |h| {
                    h.drain(0);
                },
            )
        })
    });

    let bcast = Bytes::from(format!(r#"2["bcast",{}]"#, common::json_string(64)));
    h.text(0, bcast.clone());
    assert_eq!(h.drain_all(), 100, "bcast reaches every socket");
    g.throughput(Throughput::Elements(100));
    g.bench_function("bcast_to_100", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |h| h.text(0, black_box(bcast.clone())),
                |h| {
                    h.drain_all();
                },
            )
        })
    });
    g.finish();
}

fn broadcast(c: &mut Criterion) {
    let mut g = c.benchmark_group("broadcast");
    let payload = "x".repeat(62);
    for n in [1usize, 100, 1000] {
        let io = server();
        let mut h = Harness::connected(&io, n, "/");
        let ns = io.of("/").expect("namespace /");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_custom(|iters| {
                common::batched(
                    iters,
                    BATCH,
                    &mut h,
                    |_| {
                        let _ = ns.emit("bcast", black_box(payload.as_str()));
                    },
                    |h| {
                        h.drain_all();
                    },
                )
            })
        });
    }

    let io = server();
    let mut h = Harness::connected(&io, 1000, "/");
    let ns = io.of("/").expect("namespace /");
    for conn in ns.sockets().into_iter().step_by(10) {
        conn.join("room");
    }
    ns.to("room").emit("bcast", &payload).expect("emits");
    assert_eq!(h.drain_all(), 100, "the room holds 100 sockets");
    g.throughput(Throughput::Elements(100));
    g.bench_function("room100_of_1000", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |_| {
                    let _ = ns.to("room").emit("bcast", black_box(payload.as_str()));
                },
                |h| {
                    h.drain_all();
                },
            )
        })
    });
    g.finish();
}

/// A polling client of `io`, connected to `/`: its session id and its socket.
fn polling_client(rt: &tokio::runtime::Runtime, io: &Server) -> (String, Conn) {
    let (status, open) =
        rt.block_on(__bench::request(io, "GET", "/socket.io/?EIO=4&transport=polling", Bytes::new()));
    assert_eq!(status, 200, "handshake");
    let open = String::from_utf8_lossy(&open);
    let sid = open.split('"').nth(3).expect("sid in the open packet").to_owned();
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (status, _) = rt.block_on(__bench::request(io, "POST", &uri, Bytes::from_static(b"40")));
    assert_eq!(status, 200, "connect POST");
    let (_, connected) = rt.block_on(__bench::request(io, "GET", &uri, Bytes::new()));
    assert!(connected.starts_with(b"40"), "namespace connected");
    let conn = io.of("/").and_then(|ns| ns.sockets().into_iter().next()).expect("the polling socket");
    (uri, conn)
}

fn polling(c: &mut Criterion) {
    let mut g = c.benchmark_group("polling");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let io = server();
    let (uri, conn) = polling_client(&rt, &io);
    let text = "x".repeat(62);
    let bin = Binary::from(vec![3u8; 1024]);

    for (name, binary) in [("get_text10", false), ("get_binary10_1k", true)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    for i in 0..10 {
                        let _ = if binary {
                            conn.emit_args("bin", (i, &bin))
                        } else {
                            conn.emit_args("text", (i, text.as_str()))
                        };
                    }
                    let start = Instant::now();
                    let (status, body) = rt.block_on(__bench::request(&io, "GET", &uri, Bytes::new()));
                    total += start.elapsed();
                    assert!(status == 200 && !body.is_empty());
                }
                total
            })
        });
    }

    // Ten events without a handler: decoded, routed, ignored (nothing to send back).
    let packets: Vec<String> =
        (0..10).map(|i| format!(r#"42["noop",{i},{}]"#, common::json_string(64))).collect();
    let body = Bytes::from(packets.join("\x1e"));
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("post_text10", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let (status, _) = rt.block_on(__bench::request(&io, "POST", &uri, black_box(body.clone())));
                total += start.elapsed();
                assert_eq!(status, 200);
                // Let the session task take the packets (untimed).
                rt.block_on(tokio::task::yield_now());
            }
            total
        })
    });
    g.finish();
}

/// The MessagePack parser's cost, beside the JSON figures of `sio_encode` and `dispatch`: the
/// same emits and the same echo with ack, transcoded at the edges.
fn msgpack(c: &mut Criterion) {
    let mut g = c.benchmark_group("msgpack");
    let io = server_with(Parser::MsgPack);
    let mut h = Harness::connected(&io, 1, "/");
    let conn = first_conn(&h);
    let text = "hello there, how are you?";
    g.bench_function("encode_event_text", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |_| {
                    let _ = conn.emit_args("message", black_box((text, 42, 3.5, true)));
                },
                |h| {
                    h.drain(0);
                },
            )
        })
    });
    let a = Binary::from(vec![1u8; 1024]);
    let z = Binary::from(vec![2u8; 1024]);
    g.bench_function("encode_binary_event_2x1k", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |_| {
                    let _ = conn.emit_args("upload", black_box((&a, "name", &z)));
                },
                |h| {
                    h.drain(0);
                },
            )
        })
    });

    let echo_json = format!(r#"["echo",{}]"#, common::json_string(64));
    let echo = __bench::msgpack_packet(PacketType::Event, "/", Some(1), Some(&echo_json));
    g.bench_function("decode_event_64b", |b| b.iter(|| __bench::msgpack_decode(black_box(&echo))));
    h.binary(0, echo.clone());
    assert_eq!(h.drain(0), 1, "echo is acknowledged");
    g.bench_function("echo_ack_64b", |b| {
        b.iter_custom(|iters| {
            common::batched(
                iters,
                BATCH,
                &mut h,
                |h| h.binary(0, black_box(echo.clone())),
                |h| {
                    h.drain(0);
                },
            )
        })
    });
    // Bytes on the wire for that echo, each way: JSON text packet vs MessagePack.
    let json_len = format!("421{echo_json}").len();
    println!("msgpack: echo_64b event is {} bytes (JSON parser: {json_len})", echo.len());
    g.finish();
}

fn main() {
    let mut c = common::config().configure_from_args();
    sio_encode(&mut c);
    dispatch(&mut c);
    msgpack(&mut c);
    broadcast(&mut c);
    polling(&mut c);
    c.final_summary();
}
