//! WebSocket frames as a client sends them (masking, fragments, control frames, close), read
//! whole and in small pieces: no panic, and the same messages either way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sio_core::__fuzz::ws_frames(data));
