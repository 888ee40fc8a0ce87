//! A typed server using every feature the TypeScript typings render: several arguments,
//! optional ones, binary, nested structs, serde-tagged enums, generics, large integers,
//! server events with acks, rest arguments, auth, and two namespaces sharing types.
//!
//! `tests/tests/typegen.rs` checks that `tests/ts/src/board.ts` is what sio-typegen renders
//! for it, compiles the TypeScript project in `tests/ts` (typed uses, and misuses that must
//! fail), then runs the compiled client against this server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

/// A point on the board.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Point {
    /// Horizontal position.
    pub x: i32,
    /// Vertical position.
    pub y: i32,
}

/// A page of results.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Total count; a `u64` is a `number` in the typings.
    pub total: u64,
}

/// How a shape is drawn (internally tagged, as serde writes it).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Shape {
    /// A circle.
    Circle {
        /// Its center.
        center: Point,
        /// Its radius.
        radius: f64,
    },
    /// A closed polygon.
    Polygon {
        /// Its corners.
        points: Vec<Point>,
    },
}

/// A file with its bytes.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Upload {
    /// File name.
    pub name: String,
    /// Contents.
    pub data: Binary,
    /// Optional labels.
    pub tags: Option<Vec<String>>,
}

/// The board's handshake auth.
#[derive(Debug, Deserialize, TS)]
pub struct Login {
    /// Must be "secret".
    pub token: String,
    /// Drawing preferences (only the client sends them, and it may leave them out).
    pub prefs: Option<Prefs>,
}

/// Drawing preferences, only ever inside a `Login`: sent by the client, like it.
#[derive(Debug, Deserialize, TS)]
pub struct Prefs {
    /// Pen width in pixels.
    pub width: Option<u32>,
}

/// A team: the client picks one, the server reports it back (sent both ways).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Team {
    /// Team name.
    pub name: String,
    /// Its color, if it has one.
    pub color: Option<Color>,
}

/// A player as the server reports it (only the server sends it).
#[derive(Debug, Clone, Serialize, TS)]
pub struct Player {
    /// The id the client asked for.
    pub id: u32,
    /// Their team, if any.
    pub team: Option<Team>,
    /// Their scores.
    pub score: Score,
}

/// Scores, only ever inside a `Player`: sent by the server, like it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Score {
    /// Games won.
    pub wins: u32,
    /// The best time in ms, if any game was finished.
    pub best: Option<u32>,
}

/// A pen color.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    /// Red.
    Red,
    /// Blue.
    Blue,
}

/// What the board pushes to its clients.
#[server_events]
#[derive(Debug)]
pub enum BoardEvent {
    /// A shape was drawn (to everyone else).
    Drawn(Shape, Color),
    /// Someone joined.
    #[event(rename = "user:joined")]
    UserJoined {
        /// Who.
        name: String,
        /// When (ms since the epoch).
        at: u64,
    },
    /// Asks the client to confirm; it answers with a boolean.
    #[event(ack = bool)]
    Confirm(String),
    /// The board was cleared.
    Cleared,
}

/// The drawing board.
#[derive(Debug, Default)]
pub struct Board {
    next_id: AtomicU64,
}

/// A collaborative drawing board.
#[namespace("/board", emits = BoardEvent)]
impl Board {
    #[connect]
    async fn join(&self, s: Conn, auth: Login) -> Result<(), ConnectError> {
        if auth.token != "secret" {
            return Err(ConnectError::new("bad token"));
        }
        let _ = s.emit(BoardEvent::UserJoined { name: "you".into(), at: 1_700_000_000_000 });
        Ok(())
    }

    /// Draws a shape; the ack is its id.
    #[event]
    async fn draw(&self, s: Conn, shape: Shape, color: Option<Color>) -> u64 {
        let _ = s.broadcast().emit(BoardEvent::Drawn(shape, color.unwrap_or(Color::Red)));
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Moves the cursor.
    #[event(rename = "cursor:move")]
    async fn cursor(&self, to: Point, smooth: Option<bool>) {
        let _ = (to, smooth);
    }

    /// Stores a file; the ack is its name and the thumbnail's size.
    #[event]
    async fn upload(&self, file: Upload, thumbnail: Binary) -> (String, usize) {
        (format!("{}:{}", file.name, file.data.len()), thumbnail.len())
    }

    /// One page of the drawing history.
    #[event]
    async fn history(&self, page: u32) -> Page<Shape> {
        let items =
            (0..page).map(|i| Shape::Circle { center: Point { x: i as i32, y: 0 }, radius: 1.5 }).collect();
        Page { items, total: u64::from(page) }
    }

    /// Asks the client to confirm and reports its answer.
    #[event]
    async fn ask(&self, s: Conn, question: String) -> Option<bool> {
        s.timeout(Duration::from_secs(2)).emit_with_ack(BoardEvent::Confirm(question)).await.ok()
    }

    /// Clears the board for everyone.
    #[event]
    async fn clear(&self, s: Conn) {
        let _ = s.namespace().emit(BoardEvent::Cleared);
    }

    /// Anything else: counts the extra arguments.
    #[event]
    async fn anything(&self, kind: String, rest: RawArgs) -> String {
        format!("{kind}:{}", rest.len())
    }

    /// Replies with the same arguments, as many as came.
    #[event]
    async fn echo(&self, all: RawArgs) -> RawArgs {
        all
    }

    /// Joins a team (or none) as player `id`; the ack is the player as the server sees it.
    #[event]
    async fn pick(&self, id: u32, team: Option<Team>) -> Player {
        let best = id.is_multiple_of(2).then_some(id * 1000);
        Player { id, team, score: Score { wins: id, best } }
    }

    /// Replies `ms` after `ms` milliseconds (for timeouts).
    #[event]
    async fn slow(&self, ms: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
        ms
    }
}

/// Chat beside the board: shares `Point` and `Color`.
#[derive(Debug, Default)]
pub struct Chat;

/// Chat next to the board.
#[namespace("/chat")]
impl Chat {
    #[connect]
    async fn join(&self, auth: Option<Login>) {
        let _ = auth;
    }

    /// Says something, optionally pointing at the board.
    #[event]
    async fn say(&self, text: String, at: Option<Point>, color: Option<Color>) -> Result<u32, String> {
        if text.is_empty() {
            return Err("empty".into());
        }
        let _ = (at, color);
        Ok(text.len() as u32)
    }
}

/// The server: both namespaces.
pub fn server() -> Server {
    server_with(sio_core::Parser::Json)
}

/// The server with the given packet parser.
pub fn server_with(parser: sio_core::Parser) -> Server {
    Server::builder().parser(parser).namespace(Board::default()).namespace(Chat).build()
}

/// The typings of [`server`].
pub fn typegen() -> sio_typegen::Typegen {
    sio_typegen::Typegen::new().namespace::<Board>().namespace::<Chat>()
}
