//! A Socket.IO packet; bytes after the first NUL are its attachments, split on NUL.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sio_core::__fuzz::socketio_packet(data));
