//! JSDoc blocks: writing a doc comment as one, and reading one that ts-rs wrote back to text.

use std::fmt::Write as _;

/// Writes `docs` as a JSDoc block indented by `indent`: `/** One line. */`, or `/**`, ` * line`
/// for each line, ` */`. Nothing for empty docs; a `*/` inside cannot end the block.
pub(crate) fn write(out: &mut String, docs: &str, indent: &str) {
    let docs = docs.trim();
    if docs.is_empty() {
        return;
    }
    let docs = docs.replace("*/", "*\\/");
    let lines: Vec<&str> = docs.lines().collect();
    if let [line] = lines[..] {
        let _ = writeln!(out, "{indent}/** {} */", line.trim_end());
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for l in lines {
        let l = l.trim_end();
        if l.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {l}");
        }
    }
    let _ = writeln!(out, "{indent} */");
}

/// The text of a JSDoc block (`/**`, ` * line`..., ` */`): each line without its leading ` * `
/// (indentation past that kept, for code in docs), without the blank lines around it.
pub(crate) fn text(block: &str) -> String {
    let inner = block.trim();
    let inner = inner.strip_prefix("/**").unwrap_or(inner);
    let inner = inner.strip_suffix("*/").unwrap_or(inner);
    let lines: Vec<&str> = inner
        .lines()
        .map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix('*').unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).trim_end()
        })
        .collect();
    let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let last = lines.iter().rposition(|l| !l.is_empty()).map_or(first, |i| i + 1);
    lines[first..last].join("\n")
}

#[cfg(test)]
mod tests {
    fn written(docs: &str, indent: &str) -> String {
        let mut out = String::new();
        super::write(&mut out, docs, indent);
        out
    }

    #[test]
    fn one_line_is_one_line_and_more_are_a_block() {
        assert_eq!(written("Its center.", "  "), "  /** Its center. */\n");
        assert_eq!(written("One.\n\nTwo:\n    code", ""), "/**\n * One.\n *\n * Two:\n *     code\n */\n");
        assert_eq!(written("  \n", ""), "");
        assert_eq!(written("a */ b", ""), "/** a *\\/ b */\n");
    }

    #[test]
    fn text_of_a_ts_rs_block_round_trips() {
        assert_eq!(super::text("/**\n * Must be \"secret\".\n */\n"), "Must be \"secret\".");
        assert_eq!(super::text("/**\n * One.\n *\n * Two:\n *     code\n */"), "One.\n\nTwo:\n    code");
        // A Rust block doc comment (`/** ... */`) keeps its own line breaks.
        assert_eq!(super::text("/** Block\n      doc */"), "Block\ndoc");
        assert_eq!(super::text("/** x */"), "x");
        let docs = "One.\n\nTwo:\n    code";
        assert_eq!(super::text(&written(docs, "    ")), docs);
    }
}
