//! Line differences between two versions of a file.

use kiln_types::{DiffLine, DiffLineKind, FileDiff};
use similar::{ChangeTag, TextDiff};

/// Lines of unchanged text around each change.
const CONTEXT: usize = 3;

/// A bound on the work one diff may do: past it, similar falls back to a coarser
/// (still correct) answer instead of running quadratic on huge rewrites.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

pub(super) fn diff(from: u64, old: &str, to: u64, new: &str) -> FileDiff {
    let deadline = std::time::Instant::now() + DEADLINE;
    let text_diff = TextDiff::configure()
        .deadline(deadline)
        .diff_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    let hunks = text_diff
        .grouped_ops(CONTEXT)
        .iter()
        .map(|group| {
            group
                .iter()
                .flat_map(|op| text_diff.iter_changes(op))
                .map(|change| {
                    let kind = match change.tag() {
                        ChangeTag::Equal => DiffLineKind::Context,
                        ChangeTag::Insert => {
                            added += 1;
                            DiffLineKind::Added
                        }
                        ChangeTag::Delete => {
                            removed += 1;
                            DiffLineKind::Removed
                        }
                    };
                    let line = |index: Option<usize>| index.map(|i| i as u64 + 1);
                    DiffLine {
                        kind,
                        old_line: line(change.old_index()),
                        new_line: line(change.new_index()),
                        text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                    }
                })
                .collect()
        })
        .collect();
    let unified = text_diff
        .unified_diff()
        .context_radius(CONTEXT)
        .header(&format!("version {from}"), &format!("version {to}"))
        .to_string();
    FileDiff {
        from,
        to,
        added,
        removed,
        hunks,
        unified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_with_their_numbers() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nB\nc\nd\ne\n";
        let diff = diff(1, old, 2, new);
        assert_eq!((diff.added, diff.removed), (2, 1));
        let lines: Vec<(DiffLineKind, Option<u64>, Option<u64>, &str)> = diff.hunks[0]
            .iter()
            .map(|l| (l.kind, l.old_line, l.new_line, l.text.as_str()))
            .collect();
        assert!(lines.contains(&(DiffLineKind::Removed, Some(2), None, "b")));
        assert!(lines.contains(&(DiffLineKind::Added, None, Some(2), "B")));
        assert!(lines.contains(&(DiffLineKind::Added, None, Some(5), "e")));
        assert!(diff.unified.contains("-b\n+B\n"));
    }

    #[test]
    fn identical_versions_have_no_hunks() {
        let diff = diff(1, "same\n", 2, "same\n");
        assert!(diff.hunks.is_empty());
        assert_eq!((diff.added, diff.removed), (0, 0));
    }

    #[test]
    fn a_bare_cr_ends_a_line_as_lf_and_crlf_do() {
        let diff = diff(1, "a\rb\rc\r", 2, "a\rB\rc\r");
        let changed: Vec<(DiffLineKind, Option<u64>, Option<u64>, &str)> = diff.hunks[0]
            .iter()
            .filter(|l| l.kind != DiffLineKind::Context)
            .map(|l| (l.kind, l.old_line, l.new_line, l.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            [
                (DiffLineKind::Removed, Some(2), None, "b"),
                (DiffLineKind::Added, None, Some(2), "B"),
            ]
        );
    }
}
