//! What permessage-deflate costs per connection, counted by the allocator (live heap bytes):
//! connections that agreed on the extension but sent nothing large cost what plain ones do;
//! after one compressed message each way, context takeover keeps about 300 KB of zlib state
//! per connection, and no context takeover keeps none (the state is per thread).
//!
//! `cargo test --release -p tests --test deflate_memory -- --nocapture` prints the figures
//! the README quotes.

mod common;

use std::alloc::System;

use common::*;
use sio_core::PerMessageDeflate;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

const N: usize = 200;

/// A compressed text frame (RSV1) that is a valid first message of any deflate stream.
fn compressed_event(text: &str) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::default(), false);
    let mut z = Vec::with_capacity(text.len() + 64);
    c.compress_vec(text.as_bytes(), &mut z, flate2::FlushCompress::Sync).expect("deflate");
    z.truncate(z.len() - 4);
    let mut f = masked(true, 1, &z);
    f[0] |= 0x40;
    f
}

/// What one connection does after joining `/`.
#[derive(Clone, Copy)]
struct Talk {
    /// Sends a compressed event (the server inflates).
    compressed_in: bool,
    /// The event's ack is over the threshold (the server deflates).
    big_reply: bool,
}

/// Live heap bytes per connection for `N` clients of a server with `deflate` that offered the
/// extension and then did `talk`.
async fn per_connection(deflate: Option<PerMessageDeflate>, talk: Option<Talk>) -> i64 {
    let on = deflate.is_some();
    let (io, addr) = start(builder().per_message_deflate(deflate).ns("/", base_handlers())).await;
    let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    let mut clients = Vec::with_capacity(N + 1);
    // The first client pays for what is per thread (buffers, shared zlib state); counted
    // from the second on.
    let mut before = 0;
    for i in 0..=N {
        if i == 1 {
            before = live_bytes();
        }
        let (status, _, mut c) = RawWs::request_with(addr, "EIO=4&transport=websocket", WS_KEY, offer).await;
        assert_eq!(status, 101);
        parse_open(&c.next_text().await);
        c.send(&masked(true, 1, b"40")).await;
        connect_reply_sid(&c.next_text().await, "40");
        if let Some(t) = talk {
            let arg = if t.big_reply { "m".repeat(1500) } else { "m".to_owned() };
            let event = format!(r#"421["ack","{arg}"]"#);
            let frame =
                if t.compressed_in { compressed_event(&event) } else { masked(true, 1, event.as_bytes()) };
            c.send(&frame).await;
            let (b0, _) = c.next_frame().await.expect("ack");
            assert_eq!(b0 == 0xC1, t.big_reply && on);
        }
        clients.push(c);
    }
    let per = (live_bytes() - before) / N as i64;
    drop(clients);
    within(T, "the sessions to end", async {
        while io.connection_count() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    per
}

#[tokio::test(flavor = "current_thread")]
async fn bytes_per_connection_with_and_without_context_takeover() {
    let both = Some(Talk { compressed_in: true, big_reply: true });
    let plain = per_connection(None, Some(Talk { compressed_in: false, big_reply: true })).await;
    let idle = per_connection(Some(PerMessageDeflate::default()), None).await;
    let takeover = per_connection(Some(PerMessageDeflate::default()), both).await;
    let inflate_only = per_connection(
        Some(PerMessageDeflate::default()),
        Some(Talk { compressed_in: true, big_reply: false }),
    )
    .await;
    let deflate_only = per_connection(
        Some(PerMessageDeflate::default()),
        Some(Talk { compressed_in: false, big_reply: true }),
    )
    .await;
    let no_takeover = per_connection(
        Some(PerMessageDeflate::default().server_no_context_takeover(true).client_no_context_takeover(true)),
        both,
    )
    .await;
    println!(
        "live heap per connection (server and raw client in one process, {N} connections): \
         plain {plain} B; deflate agreed, nothing compressed {idle} B; after a compressed \
         message each way: context takeover {takeover} B (inflate only {inflate_only} B, \
         deflate only {deflate_only} B), no context takeover {no_takeover} B"
    );
    assert!(idle - plain < 1024, "agreeing costs nothing until used: {idle} vs {plain}");
    assert!(no_takeover - plain < 4096, "no context takeover keeps no zlib state: {no_takeover} vs {plain}");
    assert!(takeover - plain < 512 * 1024, "bounded: {takeover} vs {plain}");
    assert!(takeover - plain > 100 * 1024, "zlib state kept: {takeover} vs {plain}");
}
