//! The interop test server as a standalone process: `cargo run -p tests --bin interop_server [port]`.

#[tokio::main]
async fn main() {
    tests::init_tracing();
    let io = tests::interop::server();
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    println!("listening on http://{addr}");
    let app = io.router::<()>();
    let _ = sio_core::serve(listener, app).await;
}
