//! The diff in a stale-file error: a unified diff (`diff -u`'s format, by the `similar` crate)
//! of the committed file against what the Rust definitions generate now.

use std::time::Duration;

use similar::TextDiff;

/// Past this the diff is coarser (still correct): a bound for a pathological file, far above
/// the few milliseconds that a generated module of a few thousand lines takes.
const TIMEOUT: Duration = Duration::from_secs(2);

/// A unified diff from `on_disk` to `generated`, three lines of context, with `---`/`+++`
/// headers that say which side is which.
pub(crate) fn unified(on_disk: &str, generated: &str) -> String {
    TextDiff::configure()
        .timeout(TIMEOUT)
        .diff_lines(on_disk, generated)
        .unified_diff()
        .context_radius(3)
        .header("on disk", "from the Rust definitions")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_changed_line_is_a_hunk_with_context() {
        let on_disk = "1\n2\n3\n4\n5\nold\n7\n8\n9\n10\n";
        let generated = "1\n2\n3\n4\n5\nnew\n7\n8\n9\n10\n";
        assert_eq!(
            super::unified(on_disk, generated),
            "--- on disk\n\
             +++ from the Rust definitions\n\
             @@ -3,7 +3,7 @@\n \
             3\n \
             4\n \
             5\n\
             -old\n\
             +new\n \
             7\n \
             8\n \
             9\n"
        );
    }

    #[test]
    fn far_apart_changes_are_separate_hunks_and_a_missing_final_newline_is_shown() {
        let on_disk: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let generated = on_disk.replacen("2\n", "two\n", 1).replacen("20\n", "20", 1);
        assert_eq!(
            super::unified(&on_disk, &generated),
            "--- on disk\n\
             +++ from the Rust definitions\n\
             @@ -1,5 +1,5 @@\n \
             1\n\
             -2\n\
             +two\n \
             3\n \
             4\n \
             5\n\
             @@ -17,4 +17,4 @@\n \
             17\n \
             18\n \
             19\n\
             -20\n\
             +20\n\
             \\ No newline at end of file\n"
        );
    }
}
