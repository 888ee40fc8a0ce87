//! A client's binary message under the MessagePack parser: decoded, read as handlers read it,
//! re-encoded and decoded again (the same packet must come back).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sio_core::__fuzz::msgpack_packet(data));
