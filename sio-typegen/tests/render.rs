//! The API of the generator: determinism, stale-file diffs, the large-integer option. The
//! full snapshot (every feature) and the TypeScript compiler run in `tests/tests/typegen.rs`.

use serde::{Deserialize, Serialize};
use sio_core::prelude::*;
use sio_typegen::Typegen;

#[derive(Serialize, Deserialize, TS)]
struct Stats {
    count: u64,
}

struct Metrics;

#[namespace("/metrics")]
impl Metrics {
    #[event(rename = "cursor:move")]
    async fn cursor(&self, x: i32) -> Stats {
        Stats { count: x.unsigned_abs().into() }
    }
}

#[test]
fn output_is_deterministic() {
    assert_eq!(
        Typegen::new().namespace::<Metrics>().render(),
        Typegen::new().namespace::<Metrics>().render()
    );
}

#[test]
fn stale_files_are_reported_with_a_diff() {
    let dir = std::env::temp_dir().join(format!("sio-typegen-{}", std::process::id()));
    let path = dir.join("stale.ts");
    let typegen = Typegen::new().namespace::<Metrics>();
    typegen.write(&path).expect("write");
    typegen.check(&path).expect("fresh file passes");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("\"cursor:move\"", "\"cursor:moved\"")).expect("edit");
    let err = typegen.check(&path).expect_err("stale");
    assert!(err.is_stale());
    let msg = err.to_string();
    assert!(msg.contains("-  \"cursor:moved\"") && msg.contains("+  \"cursor:move\""), "{msg}");
    let missing = typegen.check(dir.join("missing.ts")).expect_err("missing");
    assert!(!missing.is_stale());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn large_ints_are_numbers_unless_configured() {
    assert!(Typegen::new().namespace::<Metrics>().render().contains("count: number"));
    assert!(Typegen::new().namespace::<Metrics>().large_int("bigint").render().contains("count: bigint"));
}

#[test]
fn the_module_has_no_trailing_whitespace_or_tabs() {
    let ts = Typegen::new().namespace::<Metrics>().render();
    for (i, line) in ts.lines().enumerate() {
        assert!(line == line.trim_end() && !line.contains('\t'), "line {}: {line:?}", i + 1);
    }
    assert!(ts.contains("export type Stats = {\n  count: number;\n};\n"), "{ts}");
    assert!(ts.ends_with("}\n") && !ts.ends_with("\n\n"));
}
