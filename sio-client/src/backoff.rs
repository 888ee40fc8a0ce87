//! socket.io-client's reconnection delays (its `backo2`): `min * 2^attempt`, spread by
//! `± randomization_factor`, capped at `max`.

use std::time::Duration;

#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    pub(crate) min: Duration,
    pub(crate) max: Duration,
    pub(crate) jitter: f64,
    pub(crate) attempts: u32,
}

impl Backoff {
    /// The delay before the next attempt (and counts it).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let min = self.min.as_secs_f64() * 1000.0;
        let mut ms = min * 2f64.powi(self.attempts.min(62) as i32);
        self.attempts = self.attempts.saturating_add(1);
        if self.jitter > 0.0 {
            let r: f64 = rand::random();
            let deviation = (r * self.jitter * ms).floor();
            ms = if ((r * 10.0).floor() as u64) & 1 == 0 { ms - deviation } else { ms + deviation };
        }
        let max = self.max.as_secs_f64() * 1000.0;
        Duration::from_millis(ms.clamp(0.0, max.max(0.0)) as u64)
    }

    pub(crate) fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_is_capped() {
        let mut b =
            Backoff { min: Duration::from_secs(1), max: Duration::from_secs(5), jitter: 0.0, attempts: 0 };
        let d: Vec<_> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(d, [1000, 2000, 4000, 5000, 5000]);
        b.reset();
        b.jitter = 0.5;
        for _ in 0..100 {
            b.reset();
            let d = b.next_delay().as_millis();
            assert!((500..=1500).contains(&d), "{d}");
        }
    }
}
