//! Support for sio's integration tests: start a server on an ephemeral loopback port.

use std::net::SocketAddr;

use sio_core::Server;

/// Serves `io` on 127.0.0.1 with an ephemeral port (with `sio_core::serve`, as the examples
/// do); the server runs until the runtime ends.
pub async fn serve(io: &Server) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let app = io.router::<()>();
    tokio::spawn(async move {
        let _ = sio_core::serve(listener, app).await;
    });
    addr
}

/// Logs to stderr at the level in `RUST_LOG` (tests call it once; later calls are no-ops).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

pub mod cluster;
pub mod interop;
pub mod node;
pub mod postgres;
pub mod typed;
