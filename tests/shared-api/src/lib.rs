//! The shape of a project whose Rust client must not compile the server's code: this crate
//! holds the payload types and the `/notes` namespace. Its handlers (and what they use, the
//! `server` module) compile only with the `server` feature; the typed client
//! (`NotesClient`) only with `client`. A bot depends on it with `features = ["client"]`, the
//! server with `["server"]`.
//!
//! `.ci/run` checks both builds on their own: `cargo check -p shared-api --features client`
//! (no handler code) and `--features server` (no client code, no `sio-client`).

use serde::{Deserialize, Serialize};
use sio_core::prelude::*;

/// A note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Note {
    /// Its text.
    pub text: String,
    /// Pinned notes stay on top.
    pub pinned: bool,
}

/// What the server sends to clients of `/notes`.
#[server_events(client = "client")]
#[derive(Debug, Clone, PartialEq)]
pub enum NotesEvent {
    /// A note was added (to everyone but its author).
    Added(Note),
    /// The board was cleared.
    Cleared,
    /// The server asks whether to keep a note; the client answers yes or no.
    #[event(ack = bool)]
    Keep {
        /// The note's text.
        text: String,
    },
}

/// The `/notes` namespace's state.
#[derive(Debug, Default)]
pub struct Notes {
    #[cfg(feature = "server")]
    store: server::Store,
}

#[namespace("/notes", emits = NotesEvent, client = "client", server = "server")]
impl Notes {
    /// Adds a note; returns how many there are.
    #[event]
    async fn add(&self, s: Conn, note: Note) -> usize {
        let _ = s.broadcast().emit(NotesEvent::Added(note.clone()));
        self.store.add(note)
    }

    /// The notes, pinned ones first.
    #[event]
    async fn list(&self, _s: Conn) -> Vec<Note> {
        self.store.list()
    }

    /// Asks the sender whether to keep the note at `index`; removes it if not. Returns
    /// whether it is kept.
    #[event]
    async fn review(&self, s: Conn, index: usize) -> Option<bool> {
        let note = self.store.list().into_iter().nth(index)?;
        let keep = s.emit_with_ack(NotesEvent::Keep(note.text.clone())).await.ok()?;
        if !keep {
            self.store.remove(&note);
        }
        Some(keep)
    }

    /// Clears the board, for everyone.
    #[event]
    async fn clear(&self, s: Conn) {
        self.store.clear();
        let _ = s.namespace().emit(NotesEvent::Cleared);
    }
}

/// Server-side code: only in server builds.
#[cfg(feature = "server")]
pub mod server {
    use std::sync::Mutex;

    use super::Note;

    /// The notes, in memory.
    #[derive(Debug, Default)]
    pub struct Store(Mutex<Vec<Note>>);

    impl Store {
        pub(crate) fn add(&self, note: Note) -> usize {
            let mut notes = self.0.lock().unwrap_or_else(|e| e.into_inner());
            notes.push(note);
            notes.len()
        }

        pub(crate) fn list(&self) -> Vec<Note> {
            let mut notes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
            notes.sort_by_key(|n| !n.pinned);
            notes
        }

        pub(crate) fn remove(&self, note: &Note) {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).retain(|n| n != note);
        }

        pub(crate) fn clear(&self) {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}
