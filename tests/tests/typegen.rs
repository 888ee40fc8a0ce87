//! The TypeScript typings of `tests::typed`: the committed module is current, the TypeScript
//! project in `tests/ts` compiles (typed uses pass, each misuse marked `@ts-expect-error`
//! fails), and the compiled client gets typed results back from the running server.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

/// `tests/`, where `package.json` and `node_modules` are.
fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ts_dir() -> PathBuf {
    tests_dir().join("ts")
}

/// Runs `cmd` (already configured) to completion within `limit`, killing it past that.
async fn run(mut cmd: tokio::process::Command, what: &str, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {} s", limit.as_secs()))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Compiles `tests/ts` with the pinned tsc into `out_dir`; panics with tsc's output on failure.
async fn tsc(out_dir: &Path) {
    let tsc = tests_dir().join("node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "{} is missing: run `npm ci --prefix tests` (the README's test command does)",
        tsc.display()
    );
    let mut cmd = tokio::process::Command::new(tsc);
    cmd.current_dir(tests_dir()).arg("-p").arg("ts").arg("--outDir").arg(out_dir);
    let out = run(cmd, "tsc -p tests/ts", Duration::from_secs(120)).await;
    assert!(
        out.status.success(),
        "tsc -p tests/ts failed ({}): a typed use no longer compiles, or a misuse marked \
         @ts-expect-error now does:\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn generated_module_is_current() {
    let path = ts_dir().join("src/board.ts");
    if std::env::var_os("SIO_TYPEGEN_WRITE").is_some() {
        tests::typed::typegen().write(&path).expect("write");
    }
    if let Err(e) = tests::typed::typegen().check(&path) {
        panic!("{e}\n(after an intended change: SIO_TYPEGEN_WRITE=1 cargo test -p tests --test typegen)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_accepts_the_typings_and_rejects_misuses() {
    tsc(&ts_dir().join("dist")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_typescript_client_gets_typed_results() {
    typed_client(sio_core::Parser::Json, "dist/run").await;
}

/// The same typed client and server with socket.io-msgpack-parser on both ends: typed
/// arguments, acks both ways, `Binary` in structs and as arguments, `RawArgs`, broadcasts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_typescript_client_under_the_msgpack_parser() {
    typed_client(sio_core::Parser::MsgPack, "dist/run-msgpack").await;
}

async fn typed_client(parser: sio_core::Parser, out: &str) {
    tests::init_tracing();
    // Its own output directory (inside tests/, so node finds tests/node_modules), so that this
    // test does not depend on the others nor race with them.
    let out_dir = ts_dir().join(out);
    tsc(&out_dir).await;

    let io = tests::typed::server_with(parser);
    let addr = tests::serve(&io).await;
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(out_dir.join("client.js")).current_dir(tests_dir()).env("SIO_URL", format!("http://{addr}"));
    if parser == sio_core::Parser::MsgPack {
        cmd.env("SIO_PARSER", "msgpack");
    }
    let out = run(cmd, "node tests/ts/dist/run/client.js", Duration::from_secs(60)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the typed client failed ({}):\n{stdout}\n{stderr}", out.status);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("typed client: ")
            && last.ends_with(" checks passed")
            && !last.contains(": 0 checks"),
        "unexpected last line {last:?}:\n{stdout}\n{stderr}"
    );
    println!("{last}");
}
