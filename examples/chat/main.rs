//! The main example: a chat app a person uses in a browser, typed end to end.
//!
//! `cargo run --release --example chat`, then open <http://localhost:3000> in two windows.
//! The server is `examples/src/chat.rs`; the page is `examples/chat/web` (TypeScript against
//! the generated `web/src/sio.ts`, bundled into the committed `web/dist/app.js`).

use sio_core::Cors;
use sio_core::admin::AdminUi;
use sio_core::metrics::Metrics;

/// A random value for the default password (from the std hasher's random keys).
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr = std::env::var("CHAT_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    // Operating it: Prometheus metrics at /metrics, and the Socket.IO Admin UI (the hosted
    // https://admin.socket.io, or @socket.io/admin-ui's ui/dist served anywhere) with a
    // password printed below (ADMIN_PASSWORD to choose it; ADMIN_UI_ORIGIN for a UI served
    // from another origin).
    let metrics = Metrics::new();
    let password =
        std::env::var("ADMIN_PASSWORD").unwrap_or_else(|_| format!("{:012x}", rand_u64() & 0xffff_ffff_ffff));
    let ui_origin = std::env::var("ADMIN_UI_ORIGIN").unwrap_or_else(|_| "https://admin.socket.io".into());
    let io = examples::chat::builder()
        .metrics(&metrics)
        .admin_ui(AdminUi::basic("admin", AdminUi::hash_password(&password)))
        .cors(Cors::origins([ui_origin.clone()]).credentials(true))
        .build();
    let app = examples::chat::app(&io).merge(metrics.router("/metrics"));
    let sock_addr =
        tokio::net::lookup_host(&addr).await?.next().ok_or(std::io::ErrorKind::AddrNotAvailable)?;
    // A backlog that rides out a reconnect storm, TCP_NODELAY inherited by accepted sockets.
    let listener = sio_core::listen(sock_addr)?;
    tracing::info!("chat on http://{addr}");
    tracing::info!("metrics on http://{addr}/metrics");
    tracing::info!(
        "admin UI: open {ui_origin}, server URL http://{addr}, username admin, password {password} \
         (WebSocket only? on when the UI is https)"
    );
    let shutdown_io = io.clone();
    // sio's serve: TCP_NODELAY (a small reply leaves at once instead of waiting on the
    // client's delayed ACK) and a header read timeout (a connection that never sends a whole
    // request head is closed).
    sio_core::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
            // Disconnects everyone after delivering what is queued, runs the disconnect
            // handlers, and waits for them (at most 5 s).
            shutdown_io.shutdown(std::time::Duration::from_secs(5)).await;
        })
        .await
}
