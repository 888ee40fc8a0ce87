//! An Engine.IO text packet (WebSocket text frame).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sio_core::__fuzz::engine_packet(data));
