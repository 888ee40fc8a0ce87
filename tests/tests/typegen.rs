//! The TypeScript typings of `tests::typed`: the committed module is current, the TypeScript
//! project in `tests/ts` compiles (typed uses pass, each misuse marked `@ts-expect-error`
//! fails), and the compiled client gets typed results back from the running server.

use std::path::PathBuf;

fn ts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ts")
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
