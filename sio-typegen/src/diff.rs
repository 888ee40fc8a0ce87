//! A small line diff for stale-file errors (longest common subsequence; generated modules are
//! a few hundred lines).

/// `-`/`+` lines for what differs, with two lines of context, hunks separated by `...`.
pub(crate) fn lines(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len().saturating_mul(b.len()) > 25_000_000 {
        return format!("(files too large to diff: {} vs {} lines)", a.len(), b.len());
    }
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let changed: Vec<usize> =
        ops.iter().enumerate().filter(|(_, (k, _))| *k != ' ').map(|(n, _)| n).collect();
    let mut out = String::new();
    let mut last_shown: Option<usize> = None;
    for (n, (kind, line)) in ops.iter().enumerate() {
        let near = changed.iter().any(|&c| c.abs_diff(n) <= 2);
        if !near {
            continue;
        }
        if let Some(l) = last_shown {
            if n > l + 1 {
                out.push_str("...\n");
            }
        }
        out.push(*kind);
        out.push_str(line);
        out.push('\n');
        last_shown = Some(n);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_changed_lines_with_context() {
        let d = super::lines("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\ne\nf\ng\n");
        assert_eq!(d, " b\n c\n-d\n+X\n e\n f\n");
    }
}
