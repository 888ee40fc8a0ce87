//! Engine.IO v3 clients (socket.io-client 2.5 and 1.7, from npm, driven by node: the suite in
//! `tests/js/legacy/`) against the interop server with `allow_eio3`, over websocket, polling
//! and polling→websocket upgrade; the same suite against Node's server (the reference, with
//! `allowEIO3`); and the wire details of the v3 protocol on raw connections.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::*;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

async fn run_suite(url: &str, client: &str, transports: &str) {
    assert!(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/socket.io-client-v2").exists(),
        "tests/node_modules is missing the legacy clients: run `npm ci --prefix tests` (the README's test command does)"
    );
    let child = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec", "legacy/"])
        .current_dir(js_dir())
        .env("SIO_URL", url)
        .env("SIO_CLIENT", client)
        .env("SIO_TRANSPORTS", transports)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed to run the legacy client suite");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the legacy suite did not finish within 120 s")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "socket.io-client {client} suite failed over {transports}:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("pass 8"), "not every test ran ({client} over {transports}):\n{stdout}");
}

async fn against_sio(client: &str, transports: &str) {
    tests::init_tracing();
    let io = tests::interop::builder().allow_eio3(true).build();
    let addr = tests::serve(&io).await;
    run_suite(&format!("http://{addr}"), client, transports).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_over_websocket() {
    against_sio("v2", "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_over_polling() {
    against_sio("v2", "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_2_upgrading() {
    against_sio("v2", "polling,websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_1_over_websocket() {
    against_sio("v1", "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_1_over_polling() {
    against_sio("v1", "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_1_upgrading() {
    against_sio("v1", "polling,websocket").await;
}

/// The suite states Node's behaviour: it passes against Node's server too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_against_the_reference_server() {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new("node")
        .args(["reference-server.mjs", "0"])
        .current_dir(js_dir())
        .env("SIO_ALLOW_EIO3", "1")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let url = within(Duration::from_secs(10), "the reference server to listen", async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("listening on ") {
                return url.to_owned();
            }
        }
        panic!("the reference server exited without listening");
    })
    .await;
    for client in ["v2", "v1"] {
        run_suite(&url, client, "polling,websocket").await;
    }
}
