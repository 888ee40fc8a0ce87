//! A long-polling POST body (packets joined by `\x1e`, binary as `b<base64>`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sio_core::__fuzz::polling_payload(data));
