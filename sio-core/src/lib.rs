//! sio-core: the runtime of sio, a typed Socket.IO server for Rust.
#![forbid(unsafe_code)]

pub mod engine;
pub mod protocol;
mod sid;

pub use sid::Sid;
