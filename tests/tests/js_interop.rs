//! Drives the stock `socket.io-client` 4.8 (node, `tests/js/`) against the Rust interop server
//! over websocket-only, polling-only and polling→websocket upgrade, with the default parser and
//! with `socket.io-msgpack-parser` (`SIO_PARSER=msgpack`, the server built with
//! `Parser::MsgPack`).

use std::time::Duration;

async fn run_suite(transports: &str) {
    run_suite_with(transports, sio_core::Parser::Json).await;
}

async fn run_suite_with(transports: &str, parser: sio_core::Parser) {
    tests::init_tracing();
    let io = tests::interop::server_with(parser);
    let parser = if parser == sio_core::Parser::MsgPack { "msgpack" } else { "json" };
    let url = format!("http://{}", tests::serve(&io).await);
    let env = [("SIO_URL", &*url), ("SIO_TRANSPORTS", transports), ("SIO_PARSER", parser)];
    // 44 tests, one of them only for the upgrade.
    tests::node::run_suite("interop/", &env, Duration::from_secs(240), 43).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_over_websocket() {
    run_suite("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_over_polling() {
    run_suite("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_upgrading_polling_to_websocket() {
    run_suite("polling,websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgpack_parser_over_websocket() {
    run_suite_with("websocket", sio_core::Parser::MsgPack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgpack_parser_over_polling() {
    run_suite_with("polling", sio_core::Parser::MsgPack).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgpack_parser_upgrading_polling_to_websocket() {
    run_suite_with("polling,websocket", sio_core::Parser::MsgPack).await;
}

// ----------------------------------------------------------- connection state recovery

/// The recovery window of both servers in the recovery suite (its expiry test waits it out).
const RECOVERY_MS: u64 = 1500;

async fn recovery_suite_against_sio(transports: &str, parser: sio_core::Parser) {
    tests::init_tracing();
    let io = tests::interop::builder()
        .parser(parser)
        .connection_state_recovery(sio_core::RecoveryConfig {
            max_disconnection_duration: Duration::from_millis(RECOVERY_MS),
            ..Default::default()
        })
        .build();
    let addr = tests::serve(&io).await;
    let url = format!("http://{addr}");
    let parser = if parser == sio_core::Parser::MsgPack { "msgpack" } else { "json" };
    let window = RECOVERY_MS.to_string();
    let env = [
        ("SIO_URL", &*url),
        ("SIO_TRANSPORTS", transports),
        ("SIO_PARSER", parser),
        ("RECOVERY_MS", &window),
    ];
    tests::node::run_suite("recovery/", &env, Duration::from_secs(120), 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_over_websocket() {
    recovery_suite_against_sio("websocket", sio_core::Parser::Json).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_over_polling() {
    recovery_suite_against_sio("polling", sio_core::Parser::Json).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_upgrading_polling_to_websocket() {
    recovery_suite_against_sio("polling,websocket", sio_core::Parser::Json).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_with_the_msgpack_parser() {
    recovery_suite_against_sio("websocket", sio_core::Parser::MsgPack).await;
}

/// The recovery suite states Node's behaviour: it passes against Node's server with
/// `connectionStateRecovery` too, over every transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recovery_suite_passes_against_the_reference_server() {
    let window = RECOVERY_MS.to_string();
    let (_node, url) = tests::node::reference_server(&[("RECOVERY_MS", &window)]).await;
    for transports in ["websocket", "polling", "polling,websocket"] {
        let env = [("SIO_URL", &*url), ("SIO_TRANSPORTS", transports), ("RECOVERY_MS", &window)];
        tests::node::run_suite("recovery/", &env, Duration::from_secs(120), 6).await;
    }
}
