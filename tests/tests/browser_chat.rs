//! The main example as a person uses it: headless Chromium (Debian's `chromium`, driven by
//! `playwright-core` from `tests/package.json`) opens two pages of the chat served by the real
//! example app, on the default transport and forced to long-polling. Screenshots land in
//! `target/browser-artifacts/`. The same holds for the official Socket.IO Admin UI watching a
//! server (sio and Node side by side).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// The tests crate's folder and Chromium's path, failing with how to get them when Chromium
/// or `tests/node_modules/<needs>` is missing.
fn browser_setup(needs: &str) -> (PathBuf, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (`apt-get install chromium`; .ci/run does)"
    );
    assert!(
        root.join("node_modules").join(needs).exists(),
        "tests/node_modules/{needs} is missing: run `npm ci --prefix tests`"
    );
    (root, chromium)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_chat_in_a_real_browser() {
    tests::init_tracing();
    let (root, chromium) = browser_setup("playwright-core");
    let io = examples::chat::server();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = examples::chat::app(&io);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let artifacts = root.join("../target/browser-artifacts");
    let child = tokio::process::Command::new("node")
        .arg(root.join("browser/chat.mjs"))
        .env("CHAT_URL", format!("http://{addr}/"))
        .env("ARTIFACTS", &artifacts)
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the browser test did not finish within 120 s")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser chat failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("browser chat: 12 checks passed"), "unexpected output:\n{stdout}");
    assert!(artifacts.join("chat-polling.png").exists(), "screenshot missing");
}

/// bcrypt("changeit"), as the Admin UI's README gives it.
const ADMIN_HASH: &str = "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS";

/// `tests/browser/admin.mjs`: the official Admin UI (served from the pinned npm package's
/// `ui/dist`) in Chromium, watching the server at `url`.
async fn admin_ui_in_chromium(url: &str, name: &str, readonly: bool) {
    let (root, chromium) = browser_setup("@socket.io/admin-ui/ui/dist/index.html");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(root.join("browser/admin.mjs"))
        .env("SERVER_URL", url)
        .env("PASSWORD", "changeit")
        .env("NAME", name)
        .env("ARTIFACTS", root.join("../target/browser-artifacts"))
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if readonly {
        cmd.env("READONLY", "1");
    }
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.spawn().expect("node").wait_with_output())
        .await
        .expect("the admin UI test did not finish within 120 s")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "admin UI against {name} failed:\n{stdout}\n{stderr}");
    let checks = if readonly { 9 } else { 8 };
    assert!(stdout.contains(&format!("admin ui: {checks} checks passed")), "unexpected output:\n{stdout}");
}

async fn sio_with_admin_ui(readonly: bool) -> String {
    let io = tests::interop::builder()
        .admin_ui(sio_core::admin::AdminUi::basic("admin", ADMIN_HASH).readonly(readonly))
        .cors(sio_core::Cors::any().credentials(true))
        .build();
    format!("http://{}", tests::serve(&io).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_admin_ui_watches_and_disconnects_on_sio_as_on_node() {
    tests::init_tracing();
    admin_ui_in_chromium(&sio_with_admin_ui(false).await, "sio", false).await;
    let (_node, node) = tests::node::reference_server(&[("ADMIN_UI", &format!("admin:{ADMIN_HASH}"))]).await;
    admin_ui_in_chromium(&node, "node", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_admin_ui_in_read_only_mode_offers_no_action_on_sio_as_on_node() {
    tests::init_tracing();
    admin_ui_in_chromium(&sio_with_admin_ui(true).await, "sio", true).await;
    let (_node, node) = tests::node::reference_server(&[
        ("ADMIN_UI", &format!("admin:{ADMIN_HASH}")),
        ("ADMIN_READONLY", "1"),
    ])
    .await;
    admin_ui_in_chromium(&node, "node", true).await;
}
