//! Warnings an operator needs to see (a refused client, a closed session, a panic, an
//! unreachable adapter), rate-limited per kind so a hostile client cannot flood the log.
//!
//! Each kind may log [`BURST`] lines per [`WINDOW_SECS`]-second window; the lines it drops
//! are counted and the next line of that kind carries the count as `suppressed`. The check
//! is two relaxed atomics, and it runs only where a warning is due (never per packet).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

/// Lines of one kind per window.
pub(crate) const BURST: u32 = 10;
/// The window's length.
pub(crate) const WINDOW_SECS: u64 = 10;

/// What a warning is about: each kind has its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A handshake refused: unsupported protocol version, connection limit, shutting down.
    Refused,
    /// A session closed for a packet it could not parse (often a parser mismatch).
    Parse,
    /// A request or message over `max_payload` / `max_attachment_bytes`.
    TooLarge,
    /// A session closed because its outbound queue was full.
    BufferFull,
    /// A handler or hook panicked.
    Panic,
    /// The adapter failed a request or could not be reached.
    Adapter,
}

const KINDS: usize = 6;

struct Budget {
    window: AtomicU64,
    used: AtomicU32,
    suppressed: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const BUDGET: Budget =
    Budget { window: AtomicU64::new(0), used: AtomicU32::new(0), suppressed: AtomicU64::new(0) };
static BUDGETS: [Budget; KINDS] = [BUDGET; KINDS];

fn window_now() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs() / WINDOW_SECS + 1
}

/// Whether a line of `kind` may be logged now: `Some(suppressed)`, with the number of lines
/// of this kind dropped since the last one logged, or `None` when over budget.
pub(crate) fn allow(kind: Kind) -> Option<u64> {
    let b = &BUDGETS[kind as usize];
    let now = window_now();
    let seen = b.window.load(Ordering::Relaxed);
    if seen != now && b.window.compare_exchange(seen, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        b.used.store(0, Ordering::Relaxed);
    }
    if b.used.fetch_add(1, Ordering::Relaxed) < BURST {
        Some(b.suppressed.swap(0, Ordering::Relaxed))
    } else {
        b.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// `tracing::warn!` (or another level) unless this kind is over its budget; the line gets a
/// `suppressed` field when earlier lines were dropped.
macro_rules! limited {
    ($level:ident, $kind:expr, $($rest:tt)+) => {
        if let Some(suppressed) = $crate::log::allow($kind) {
            if suppressed > 0 {
                tracing::$level!(suppressed, $($rest)+);
            } else {
                tracing::$level!($($rest)+);
            }
        }
    };
}
pub(crate) use limited;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_limited_to_its_burst_and_counts_what_it_drops() {
        // Adapter is used by no other unit test in this binary.
        let allowed = (0..BURST * 3).filter(|_| allow(Kind::Adapter).is_some()).count() as u32;
        // A window boundary may fall inside the loop: then a second burst is allowed.
        assert!(allowed == BURST || allowed == 2 * BURST, "{allowed}");
        // The budget of another kind is untouched.
        assert_eq!(allow(Kind::TooLarge), Some(0));
    }
}
