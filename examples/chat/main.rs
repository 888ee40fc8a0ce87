//! The main example: a chat app a person uses in a browser, typed end to end.
//!
//! `cargo run --release --example chat`, then open <http://localhost:3000> in two windows.
//! The server is `examples/src/chat.rs`; the page is `examples/chat/web` (TypeScript against
//! the generated `web/src/sio.ts`, bundled into the committed `web/dist/app.js`).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let io = examples::chat::server();
    let app = examples::chat::app(&io);
    let addr = std::env::var("CHAT_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let sock_addr =
        tokio::net::lookup_host(&addr).await?.next().ok_or(std::io::ErrorKind::AddrNotAvailable)?;
    // A backlog that rides out a reconnect storm, TCP_NODELAY inherited by accepted sockets.
    let listener = sio_core::listen(sock_addr)?;
    tracing::info!("chat on http://{addr}");
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
