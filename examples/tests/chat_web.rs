//! The chat page stays in step with the server: its typings are what sio-typegen renders from
//! `examples/src/chat.rs`, it type-checks against them, and the committed bundle is what
//! esbuild builds from the sources (so `cargo run --example chat` needs no npm at run time).

use std::path::PathBuf;
use std::process::Command;

fn web() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("chat/web")
}

fn npm_bin(name: &str) -> PathBuf {
    let bin = web().join("node_modules/.bin").join(name);
    assert!(bin.exists(), "{} is missing: run `npm ci --prefix examples/chat/web`", bin.display());
    bin
}

#[test]
fn typings_are_current() {
    let path = web().join("src/sio.ts");
    if std::env::var_os("SIO_TYPEGEN_WRITE").is_some() {
        examples::chat::typings().write(&path).expect("write the typings");
    }
    if let Err(e) = examples::chat::typings().check(&path) {
        panic!("{e}\n(regenerate: SIO_TYPEGEN_WRITE=1 cargo test -p examples --test chat_web)");
    }
}

#[test]
fn page_type_checks_and_bundle_is_current() {
    let tsc = Command::new(npm_bin("tsc")).args(["--noEmit", "-p"]).arg(web()).output().expect("run tsc");
    assert!(
        tsc.status.success(),
        "the page does not type-check against the typings:\n{}{}",
        String::from_utf8_lossy(&tsc.stdout),
        String::from_utf8_lossy(&tsc.stderr)
    );
    let out = std::env::temp_dir().join(format!("sio-chat-app-{}.js", std::process::id()));
    let build = Command::new(npm_bin("esbuild"))
        .current_dir(web())
        .args([
            "src/main.ts",
            "--bundle",
            "--format=iife",
            "--target=es2020",
            "--minify",
            "--legal-comments=none",
        ])
        .arg(format!("--outfile={}", out.display()))
        .output()
        .expect("run esbuild");
    assert!(build.status.success(), "esbuild failed:\n{}", String::from_utf8_lossy(&build.stderr));
    let fresh = std::fs::read_to_string(&out).expect("read the fresh bundle");
    let _ = std::fs::remove_file(&out);
    let committed = std::fs::read_to_string(web().join("dist/app.js")).unwrap_or_default();
    if std::env::var_os("SIO_TYPEGEN_WRITE").is_some() && fresh != committed {
        std::fs::write(web().join("dist/app.js"), &fresh).expect("write the bundle");
        return;
    }
    assert!(
        fresh == committed,
        "examples/chat/web/dist/app.js is stale: run `npm run --prefix examples/chat/web build` (or \
         SIO_TYPEGEN_WRITE=1 cargo test -p examples --test chat_web) and commit it"
    );
}
