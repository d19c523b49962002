//! A cheap pre-check of how deeply brackets nest. oxc's recursive descent needs stack
//! in proportion to the nesting, and running out of stack kills the plugin call instead
//! of returning an error, so absurdly nested input is refused before parsing.
//!
//! This is a scan, not a lexer: it skips comments, string literals, template text and
//! (by the usual heuristic of the preceding character) regular expressions, so that
//! brackets inside them do not count. An occasional misjudged `/` only skews the count
//! for the rest of its line.

/// The deepest nesting of `(`, `[`, `{` and `${` in `source`.
pub fn bracket_depth(source: &str) -> usize {
    let bytes = source.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    // The depth outside each open `${`, to resume the template's text at its `}`.
    let mut templates: Vec<usize> = Vec::new();
    // The last code character, to tell a regex from a division (`x` after a literal).
    let mut previous = b'(';
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        let closes_substitution =
            byte == b'}' && templates.last().is_some_and(|&outer| outer + 1 == depth);
        // Where scanning resumes, and whether a literal (an operand) was skipped.
        let (resume, literal) = match byte {
            // Comments leave `previous` alone.
            b'/' if next == Some(b'/') => {
                at = find(bytes, at, b"\n").unwrap_or(bytes.len());
                continue;
            }
            b'/' if next == Some(b'*') => {
                at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            b'\'' | b'"' => (quoted(bytes, at + 1, byte), true),
            b'/' if REGEX_FOLLOWS.contains(&previous) => (quoted(bytes, at + 1, b'/'), true),
            b'`' => {
                let (end, substitution) = template_text(bytes, at + 1);
                if substitution {
                    templates.push(depth);
                    depth += 1;
                }
                (end, true)
            }
            b'}' if closes_substitution => {
                templates.pop();
                depth -= 1;
                let (end, substitution) = template_text(bytes, at + 1);
                if substitution {
                    templates.push(depth);
                    depth += 1;
                }
                (end, true)
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                (at + 1, false)
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                (at + 1, false)
            }
            _ => (at + 1, false),
        };
        deepest = deepest.max(depth);
        if literal {
            previous = b'x';
        } else if !byte.is_ascii_whitespace() {
            previous = byte;
        }
        at = resume;
    }
    deepest
}

/// Characters after which a `/` starts a regular expression rather than a division.
const REGEX_FOLLOWS: &[u8] = b"(,=:[!&|?{};+-*%<>~^";

/// Skips a string or regex body from `at` to just past its closing `quote`, honouring
/// escapes and (for regexes) character classes; stops at the end of the line.
fn quoted(bytes: &[u8], mut at: usize, quote: u8) -> usize {
    let mut class = false;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 1,
            b'\n' => return at,
            b'[' if quote == b'/' => class = true,
            b']' => class = false,
            _ if byte == quote && !class => return at + 1,
            _ => {}
        }
        at += 1;
    }
    at
}

/// Skips template text from `at`: returns where it ends and whether it ended at a `${`
/// (rather than the closing backquote).
fn template_text(bytes: &[u8], mut at: usize) -> (usize, bool) {
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 1,
            b'`' => return (at + 1, false),
            b'$' if bytes.get(at + 1) == Some(&b'{') => return (at + 2, true),
            _ => {}
        }
        at += 1;
    }
    (at, false)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::bracket_depth;

    #[test]
    fn counts_code_brackets_only() {
        assert_eq!(bracket_depth("f(a[{ b: (1) }])"), 4);
        assert_eq!(bracket_depth("x = '((((' + \"[[[\" // ((((\n/* {{{{ */"), 0);
        assert_eq!(bracket_depth("s.replace(/\\(+[(]/g, '')"), 1);
        assert_eq!(bracket_depth("a = b / (c) / d"), 1);
        assert_eq!(bracket_depth("t = `(( ${ f({ a: `[${x}]` }) } ((`; g()"), 4);
    }
}
