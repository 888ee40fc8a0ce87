//! A log-linear latency histogram (values in microseconds, about 1 % resolution), cheap
//! enough to record every operation and mergeable across tasks.

/// Values below this are exact; above, 64 sub-buckets per power of two.
const LINEAR: u64 = 128;
const SUB: u64 = 64;
const BUCKETS: usize = (LINEAR + (64 - 7) * SUB) as usize;

/// Counts of values by bucket.
#[derive(Clone)]
pub(crate) struct Hist {
    counts: Vec<u64>,
    n: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Hist {
    fn default() -> Self {
        Self { counts: vec![0; BUCKETS], n: 0, sum: 0, min: u64::MAX, max: 0 }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - u64::from(v.leading_zeros()); // >= 7
    let shift = e - 6;
    let sub = (v >> shift) - SUB; // 0..64
    (LINEAR + (e - 7) * SUB + sub) as usize
}

/// The middle of bucket `i`.
fn value(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let e = (i - LINEAR) / SUB + 7;
    let sub = (i - LINEAR) % SUB + SUB;
    let shift = e - 6;
    (sub << shift) + (1 << shift) / 2
}

impl Hist {
    /// Records one value.
    pub(crate) fn record(&mut self, v: u64) {
        self.counts[index(v).min(BUCKETS - 1)] += 1;
        self.n += 1;
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Adds every value of `other`.
    pub(crate) fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.n += other.n;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The value at quantile `q` (0..=1); 0 when empty.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        if self.n == 0 {
            return 0;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return value(i).clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// Summary as JSON: count, min, max, mean, p50, p90, p99, p999 (µs).
    pub(crate) fn json(&self) -> serde_json::Value {
        let mean = if self.n == 0 { 0.0 } else { self.sum as f64 / self.n as f64 };
        serde_json::json!({
            "count": self.n,
            "min": if self.n == 0 { 0 } else { self.min },
            "max": self.max,
            "mean": (mean * 10.0).round() / 10.0,
            "p50": self.quantile(0.5),
            "p90": self.quantile(0.9),
            "p99": self.quantile(0.99),
            "p999": self.quantile(0.999),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_within_two_percent() {
        for v in [0u64, 1, 127, 128, 129, 1000, 65_535, 1_000_000, 123_456_789] {
            let back = value(index(v));
            assert!(back.abs_diff(v) as f64 <= v as f64 * 0.02, "{v} -> {back}");
        }
        let mut h = Hist::default();
        (1..=1000).for_each(|v| h.record(v));
        assert!(h.quantile(0.5).abs_diff(500) <= 10);
        assert!(h.quantile(0.99).abs_diff(990) <= 20);
    }
}
