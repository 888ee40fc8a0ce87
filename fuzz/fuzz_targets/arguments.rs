//! Event arguments (a JSON array) decoded untyped and typed, with two attachments.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sio_core::__fuzz::arguments(data));
