//! The API of the generator: determinism, stale-file diffs, the large-integer option, the
//! direction of each type, trailing `Option` arguments, `emitWithTimeout`. The full snapshot
//! (every feature) and the TypeScript compiler run in `tests/tests/typegen.rs`.

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

/// What the client sends (in `Ask`, itself with an `Inner`).
#[derive(Serialize, Deserialize, TS)]
struct Ask {
    note: Option<String>,
    inner: Inner,
    both: Both,
}

#[derive(Serialize, Deserialize, TS)]
struct Inner {
    x: Option<u8>,
}

/// What the server sends (in `Told`, itself with a `Score`).
#[derive(Serialize, Deserialize, TS)]
struct Told {
    note: Option<String>,
    score: Score,
    both: Both,
}

#[derive(Serialize, Deserialize, TS)]
struct Score {
    best: Option<u8>,
}

/// Sent both ways.
#[derive(Serialize, Deserialize, TS)]
struct Both {
    c: Option<u8>,
}

/// The client's reply to a server event.
#[derive(Serialize, Deserialize, TS)]
struct Answer {
    why: Option<String>,
}

/// A server event's payload.
#[derive(Debug, Serialize, Deserialize, TS)]
struct Notice {
    at: Option<u32>,
}

#[derive(Serialize, Deserialize, TS)]
struct Auth {
    token: Option<String>,
}

/// Only its schema is used: the variants are never sent.
#[allow(dead_code)]
#[server_events]
#[derive(Debug)]
enum QuizEvent {
    Notice(Notice, Option<u8>),
    #[event(ack = Answer)]
    Question(String),
}

struct Quiz;

#[namespace("/quiz", emits = QuizEvent)]
impl Quiz {
    #[connect]
    async fn join(&self, auth: Auth) {
        let _ = auth;
    }

    #[event]
    async fn ask(&self, a: Ask) -> Told {
        Told { note: a.note, score: Score { best: a.inner.x }, both: a.both }
    }

    #[event]
    async fn pick(&self, x: u8, y: Option<u8>, z: Option<u8>) -> u8 {
        x + y.unwrap_or(0) + z.unwrap_or(0)
    }

    #[event]
    async fn nudge(&self, x: u8, y: Option<u8>) {
        let _ = (x, y);
    }

    #[event]
    async fn swap(&self, x: Option<u8>, y: u8) -> u8 {
        x.unwrap_or(y)
    }
}

/// `export type Name = ...;` in `ts`.
fn declaration<'a>(ts: &'a str, name: &str) -> &'a str {
    let start = ts.find(&format!("export type {name} =")).unwrap_or_else(|| panic!("no {name} in\n{ts}"));
    // It ends at the first line that is not indented and ends with `;`.
    let mut end = start;
    for line in ts[start..].split_inclusive('\n') {
        end += line.len();
        if (end - line.len() == start || !line.starts_with(' ')) && line.trim_end().ends_with(';') {
            break;
        }
    }
    ts[start..end].trim_end()
}

#[test]
fn each_type_is_declared_in_the_form_of_its_sender() {
    let ts = Typegen::new().namespace::<Quiz>().render();
    // The client sends an event's arguments, the auth, its replies to server events, and the
    // types inside them: it may leave an `Option` field out.
    assert_eq!(
        declaration(&ts, "Ask"),
        "export type Ask = {\n  note?: string | null;\n  inner: Inner;\n  both: Both;\n};"
    );
    assert_eq!(declaration(&ts, "Inner"), "export type Inner = {\n  x?: number | null;\n};");
    assert_eq!(declaration(&ts, "Auth"), "export type Auth = {\n  token?: string | null;\n};");
    assert_eq!(declaration(&ts, "Answer"), "export type Answer = {\n  why?: string | null;\n};");
    // The server sends acks of the client's events, its events' arguments, and the types inside
    // them: every field is there.
    assert_eq!(
        declaration(&ts, "Told"),
        "export type Told = {\n  note: string | null;\n  score: Score;\n  both: Both;\n};"
    );
    assert_eq!(declaration(&ts, "Score"), "export type Score = {\n  best: number | null;\n};");
    assert_eq!(declaration(&ts, "Notice"), "export type Notice = {\n  at: number | null;\n};");
    // Both ways: the client's form, declared once.
    assert_eq!(declaration(&ts, "Both"), "export type Both = {\n  c?: number | null;\n};");
    assert_eq!(ts.matches("export type Both =").count(), 1);
}

#[test]
fn trailing_options_may_be_left_out_with_or_without_an_ack() {
    let ts = Typegen::new().namespace::<Quiz>().render();
    let line = |event: &str| -> &str {
        ts.lines()
            .find(|l| l.starts_with(&format!("  \"{event}\": ")))
            .unwrap_or_else(|| panic!("no {event}"))
    };
    assert_eq!(
        line("pick"),
        "  \"pick\": (...args: [x: number, ack: (reply: number) => void] \
         | [x: number, y: number | null, ack: (reply: number) => void] \
         | [x: number, y: number | null, z: number | null, ack: (reply: number) => void]) => void;"
    );
    assert_eq!(line("nudge"), "  \"nudge\": (x: number, y?: number | null) => void;");
    // Only trailing ones: an `Option` before a required argument is required (`null`).
    assert_eq!(
        line("swap"),
        "  \"swap\": (x: number | null, y: number, ack: (reply: number) => void) => void;"
    );
    // The server sends every argument of its events.
    assert_eq!(line("notice"), "  \"notice\": (arg0: Notice, arg1: number | null) => void;");
    assert_eq!(
        line("question"),
        "  \"question\": (arg0: string, callback: (reply: Answer) => void) => void;"
    );
}

#[test]
fn emit_with_timeout_is_declared_once_after_the_namespaces() {
    let ts = Typegen::new().namespace::<Quiz>().namespace::<Metrics>().render();
    assert_eq!(ts.matches("export function emitWithTimeout<").count(), 1);
    assert!(ts.find("export function connectMetrics(") < ts.find("export function emitWithTimeout<"));
    // Its example is the first event with a typed reply.
    assert!(ts.contains(" * const reply: Told = await emitWithTimeout(socket, 5000, \"ask\", a);\n"), "{ts}");
}

#[test]
fn the_module_has_no_trailing_whitespace_or_tabs() {
    let ts = Typegen::new().namespace::<Quiz>().namespace::<Metrics>().render();
    for (i, line) in ts.lines().enumerate() {
        assert!(line == line.trim_end() && !line.contains('\t'), "line {}: {line:?}", i + 1);
    }
    assert!(ts.contains("export type Stats = {\n  count: number;\n};\n"), "{ts}");
    assert!(ts.ends_with("}\n") && !ts.ends_with("\n\n"));
}
