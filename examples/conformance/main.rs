//! The server the official Engine.IO v4 and Socket.IO v5 protocol test suites expect
//! (DESIGN §5): `/engine.io/` echoes every message, `/socket.io/` serves `/` and `/custom`.
//!
//! `cargo run --release --example conformance`, then run the suites against
//! `http://localhost:3000`. The switches of DESIGN §5 apply (see `examples::switches`):
//! `PORT`, `SIO_ALLOW_EIO3=1` (for the Engine.IO v3 suite), `SIO_PARSER=msgpack`.

use std::sync::Arc;
use std::time::Duration;

use sio_core::engine::{CloseReason, Engine, EngineConfig, EngineHandler, Frame, Message, Session, Tasks};
use sio_core::{Conn, Event, Handlers, RawArgs, Server};

/// Bare Engine.IO: every message goes back unchanged.
struct Echo;

impl EngineHandler for Echo {
    type State = Arc<Session>;

    fn on_open(&self, session: &Arc<Session>, _req: &http::request::Parts) -> Arc<Session> {
        session.clone()
    }

    fn on_message(&self, session: &mut Arc<Session>, msg: Message, _tasks: &mut Tasks<'_, '_>) {
        let frame = match msg {
            Message::Text(t) => Frame::message(std::str::from_utf8(&t).unwrap_or_default()),
            Message::Binary(b) => Frame::Binary(b),
        };
        let _ = session.send(frame);
    }

    fn on_close(&self, _session: &mut Arc<Session>, _reason: CloseReason, _tasks: &mut Tasks<'_, '_>) {}
}

fn emit_auth(conn: &Conn) {
    let auth: serde_json::Value = conn.auth().unwrap_or_else(|_| serde_json::json!({}));
    let _ = conn.emit("auth", &auth);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let ping_interval = Duration::from_millis(300);
    let ping_timeout = Duration::from_millis(200);
    let switches = examples::switches::Switches::from_env();

    let mut config = EngineConfig {
        path: "/engine.io/".into(),
        ping_interval,
        ping_timeout,
        max_payload: 1_000_000,
        ..EngineConfig::default()
    };
    switches.apply_engine(&mut config);
    let engine = Engine::new(config, Echo);

    let root = Handlers::new()
        .on_connect(|conn: Conn| async move {
            emit_auth(&conn);
            Ok(())
        })
        .on("message", |conn: Conn, ev: Event| async move {
            let _ = conn.emit_args("message-back", ev.raw());
        })
        .on("message-with-ack", |_conn: Conn, mut ev: Event| async move {
            let args: RawArgs = ev.raw();
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send_args(args);
            }
        });
    let custom = Handlers::new().on_connect(|conn: Conn| async move {
        emit_auth(&conn);
        Ok(())
    });
    let io = switches
        .apply(Server::builder())
        .ping_interval(ping_interval)
        .ping_timeout(ping_timeout)
        .max_payload(1_000_000)
        .ns("/", root)
        .ns("/custom", custom)
        .build();

    let eio = engine.clone();
    let app = axum::Router::new()
        .route_service(
            "/engine.io/",
            tower::service_fn(move |req: http::Request<axum::body::Body>| {
                let eio = eio.clone();
                async move { Ok::<_, std::convert::Infallible>(eio.handle(req).await) }
            }),
        )
        .merge(io.router());
    let port = switches.port.unwrap_or(3000);
    let listener = sio_core::listen(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    println!(
        "conformance server on http://localhost:{port} (/engine.io/ and /socket.io/){}",
        switches.describe()
    );
    sio_core::serve(listener, app).await
}
