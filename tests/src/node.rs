//! Runs the node side of the JS suites (`tests/js/`): a suite directory under `node --test`,
//! and Node's reference server (`tests/js/reference-server.mjs`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};

/// `tests/js`.
pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Fails with the install step when `tests/node_modules/<package>` is missing.
pub fn require_package(package: &str) {
    assert!(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules").join(package).exists(),
        "tests/node_modules/{package} is missing: run `npm ci --prefix tests` (the README's test command does)"
    );
}

/// Runs `node --test` over `suite` (a directory of `tests/js`) with `env`, within `limit`;
/// panics with the output unless every test passed and at least `min_passed` ran.
pub async fn run_suite(suite: &str, env: &[(&str, &str)], limit: Duration, min_passed: usize) {
    require_package("socket.io-client");
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-concurrency=1", "--test-reporter=spec", suite])
        .current_dir(js_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("node must be installed to run the JS suites");
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the {suite} suite did not finish within {limit:?} ({env:?})"))
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the {suite} suite failed ({env:?}):\n{stdout}\n{stderr}");
    let passed = stdout
        .lines()
        .find_map(|l| l.trim_start_matches(['\u{2139}', ' ']).strip_prefix("pass "))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0);
    assert!(passed >= min_passed, "only {passed} of {min_passed} tests of {suite} ran ({env:?}):\n{stdout}");
}

/// Node's reference server on a free port, with `env`; killed when the child is dropped.
/// Returns it and its URL.
pub async fn reference_server(env: &[(&str, &str)]) -> (Child, String) {
    reference_server_at(0, env).await
}

/// [`reference_server`] on `port` (0: a free one), e.g. to start it again where it was.
pub async fn reference_server_at(port: u16, env: &[(&str, &str)]) -> (Child, String) {
    require_package("socket.io");
    let mut cmd = Command::new("node");
    cmd.args(["reference-server.mjs", &port.to_string()])
        .current_dir(js_dir())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("node must be installed");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("listening on ") {
                return url.to_owned();
            }
        }
        panic!("the reference server exited without listening");
    })
    .await
    .expect("the reference server listens within 10 s");
    (child, url)
}
