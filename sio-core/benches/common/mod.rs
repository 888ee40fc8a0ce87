//! Helpers shared by the bench targets.

use std::time::{Duration, Instant};

use criterion::Criterion;

/// Short warm-up and measurement windows: the whole suite runs in about a minute, and
/// `cargo bench -p sio-core --bench '*' -- --quick` in seconds.
pub(crate) fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
}

/// Runs `work` `iters` times in batches of at most `batch`, timing only `work`; `cleanup`
/// runs untimed after each batch (draining outbound queues, which are bounded). Both get
/// `state`.
pub(crate) fn batched<S>(
    iters: u64,
    batch: u64,
    state: &mut S,
    mut work: impl FnMut(&mut S),
    mut cleanup: impl FnMut(&mut S),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(batch);
        let start = Instant::now();
        for _ in 0..n {
            work(state);
        }
        total += start.elapsed();
        cleanup(state);
        left -= n;
    }
    total
}

/// A JSON string literal of exactly `len` bytes including its quotes.
pub(crate) fn json_string(len: usize) -> String {
    format!("\"{}\"", "x".repeat(len.saturating_sub(2)))
}
