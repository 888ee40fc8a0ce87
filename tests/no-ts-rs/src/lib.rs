//! A crate that uses sio as an application does, with `sio-core` and `serde` as its only
//! dependencies (see `Cargo.toml`: no `ts-rs`). That it compiles is the test: `#[derive(TS)]`,
//! `#[namespace]` and `#[server_events]` expand to nothing that names `::ts_rs`.
//!
//! Its tests render the namespace's typings with `sio-typegen`, and check that sio's `TS`
//! derive renders what ts-rs's own derive renders, byte for byte (`same_as_ts_rs`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

#[cfg(test)]
mod same_as_ts_rs;

/// A square of the board.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS)]
pub struct Square(pub u8, pub u8);

/// A piece, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Piece {
    /// The king.
    King,
    /// A pawn.
    Pawn,
}

/// A move: the client sends it, the server checks it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Move {
    /// The square the piece leaves.
    pub from_square: Square,
    /// The square it lands on.
    pub to_square: Square,
    /// Set when a pawn is promoted.
    pub promotion: Option<Piece>,
}

/// What the server answers to a move.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "verdict")]
pub enum Verdict {
    /// The move is played.
    Accepted {
        /// Its number in the game.
        ply: u32,
    },
    /// The move is refused.
    Refused {
        /// Why.
        reason: String,
    },
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

/// The handshake's auth payload.
#[derive(Debug, Deserialize, TS)]
pub struct Login {
    /// The player's name.
    pub name: String,
    /// Per-game settings.
    #[serde(default)]
    pub settings: HashMap<String, String>,
}

/// A player's id.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS)]
pub struct PlayerId(pub u64);

/// What the server sends to the players of /game.
#[server_events]
#[derive(Debug)]
pub enum GameEvent {
    /// A move was played: (by, move).
    Moved(PlayerId, Move),
    /// The game is over.
    Over {
        /// The winner, if any.
        winner: Option<PlayerId>,
    },
    /// "ready?": the client answers whether it is ready.
    #[event(rename = "ready?", ack = bool)]
    AreYouReady,
}

/// The /game namespace.
#[derive(Debug, Default)]
pub struct Game;

#[namespace("/game", emits = GameEvent)]
impl Game {
    /// Players log in with a name.
    #[connect]
    async fn login(&self, auth: Login) -> Result<(), ConnectError> {
        if auth.name.is_empty() { Err(ConnectError::new("a name is required")) } else { Ok(()) }
    }

    /// A move; the ack is the verdict.
    #[event(rename = "move")]
    async fn play(&self, conn: Conn<GameEvent>, m: Move) -> Verdict {
        conn.namespace().emit(GameEvent::Moved(PlayerId(1), m)).ok();
        Verdict::Accepted { ply: 1 }
    }

    /// The moves played so far, a page at a time.
    #[event]
    async fn history(&self, cursor: Option<String>) -> Page<Move> {
        Page { items: Vec::new(), next: cursor }
    }
}

#[cfg(test)]
mod tests {
    use sio_typegen::Typegen;

    use super::*;

    /// The typings of a crate without ts-rs, as sio-typegen renders them.
    #[test]
    fn typings_render() {
        let ts = Typegen::new().namespace::<Game>().render();
        for expected in [
            "export type Square = [number, number];",
            "export type Piece = \"king\" | \"pawn\";",
            "  fromSquare: Square;\n",
            // Move is sent by the client: its Option field may be left out.
            "  promotion?: Piece | null;\n",
            "export type Verdict =\n  | {\n      \"verdict\": \"Accepted\";",
            "export type Page<T> = {",
            "  items: Array<T>;\n",
            "  settings: { [key in string]: string };\n",
            "export type PlayerId = number;",
            "\"move\": (m: Move, ack: (reply: Verdict) => void) => void;",
            "\"history\": (...args: [ack: (reply: Page<Move>) => void] | [cursor: string | null, ack: (reply: Page<Move>) => void]) => void;",
            "\"moved\": (arg0: PlayerId, arg1: Move) => void;",
            // Sent by the server: what serde writes, the field is there.
            "\"over\": (winner: PlayerId | null) => void;",
            "\"ready?\": (callback: (reply: boolean) => void) => void;",
            "& { auth: Login }",
        ] {
            assert!(ts.contains(expected), "missing {expected:?} in:\n{ts}");
        }
    }
}
