//! The main example as a person uses it: headless Chromium (Debian's `chromium`, driven by
//! `playwright-core` from `tests/package.json`) opens two pages of the chat served by the real
//! example app, on the default transport and forced to long-polling. Screenshots land in
//! `target/browser-artifacts/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_chat_in_a_real_browser() {
    tests::init_tracing();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (`apt-get install chromium`; .ci/run does)"
    );
    assert!(
        root.join("node_modules/playwright-core").exists(),
        "tests/node_modules/playwright-core is missing: run `npm ci --prefix tests`"
    );
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
