//! A pass over Python source before RustPython's parser, which knows Python 3.11's
//! grammar. Since Python 3.12 (PEP 701) a replacement field of an f-string is any
//! expression: it may hold the string's own quote (`f"{d["key"]}"`), backslashes,
//! comments, line breaks and nested f-strings, all of which RustPython rejects. An
//! outline never looks inside a string, so the pass blanks the text of every f-string
//! (and t-string, PEP 750) out with spaces: offsets do not move, so the parser's spans
//! are spans of the original source.
//!
//! The pass also finds where logical lines start (not inside a string, bracket or
//! backslash continuation), from which [`blocks`] groups lines into statements for
//! outlining what parses when the whole file does not; and it blanks out what nests
//! too deeply for a tree (see [`crate::depth`]).

use std::ops::Range;

use kiln_plugin_sdk::{
    nesting::{self, Offsets},
    text::is_word,
};

use crate::depth::{self, Depth};

/// The source as the parser should see it, and the starts of its logical lines.
pub struct Prepared {
    /// The source with the contents of f-strings and t-strings blanked out, a
    /// t-string's `t` prefix written `f`, and what nests too deeply blanked out. Byte
    /// offsets are those of the source.
    pub text: String,
    /// Byte offsets where logical lines start, in order; the first is 0.
    pub lines: Vec<usize>,
}

/// What the scan is inside of, innermost last; top-level code is the empty stack.
enum Frame {
    /// The literal text of an f-string: its quote, whether tripled or raw, and where
    /// its text starts.
    Text {
        quote: u8,
        triple: bool,
        raw: bool,
        start: usize,
    },
    /// A replacement field's expression, with the brackets open in it.
    Field { depth: usize },
    /// A replacement field's format spec, after its `:`.
    Spec,
}

/// Scans `source` (see the module's documentation).
pub fn prepare(source: &str) -> Prepared {
    let bytes = source.as_bytes();
    let mut text = bytes.to_vec();
    let mut lines = vec![0];
    let mut stack: Vec<Frame> = Vec::new();
    // Brackets open in top-level code, and how deeply that code nests.
    let mut depth = 0usize;
    let mut nesting = Depth::default();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match stack.last_mut() {
            Some(Frame::Text {
                quote,
                triple,
                raw,
                start,
            }) => {
                let (quote, triple, raw, start) = (*quote, *triple, *raw, *start);
                let length = if triple { 3 } else { 1 };
                match byte {
                    b'\\' => at = escape_end(bytes, at, raw),
                    b'{' | b'}' if bytes.get(at + 1) == Some(&byte) => at += 2,
                    b'{' => {
                        stack.push(Frame::Field { depth: 0 });
                        at += 1;
                    }
                    _ if byte == quote && closes(bytes, at, quote, triple) => {
                        stack.pop();
                        // Nested strings are inside their outermost one's text.
                        if stack.is_empty() {
                            blank(&mut text[start..at], triple);
                            nesting.extend(at + length);
                        }
                        at += length;
                    }
                    // An unterminated string: give up on it, the parser reports it.
                    b'\n' | b'\r' if !triple => stack.clear(),
                    _ => at += 1,
                }
            }
            Some(Frame::Spec) => match byte {
                b'{' => {
                    stack.push(Frame::Field { depth: 0 });
                    at += 1;
                }
                // The end of the field.
                b'}' => {
                    stack.pop();
                    at += 1;
                }
                // Anything else is format text; a quote or line break ends the string
                // (or the scan of broken code) in the `Text` frame around.
                b'\'' | b'"' | b'\n' | b'\r' => {
                    stack.pop();
                }
                _ => at += 1,
            },
            None | Some(Frame::Field { .. }) => {
                let in_field = !stack.is_empty();
                let open = match stack.last_mut() {
                    Some(Frame::Field { depth }) => depth,
                    _ => &mut depth,
                };
                match byte {
                    b'#' => at = line_end(bytes, at),
                    b'\\' if is_line_break(bytes.get(at + 1)) => {
                        // A continuation: the next line is part of this one.
                        at = line_break_end(bytes, at + 1);
                    }
                    b'\n' | b'\r' => {
                        at = line_break_end(bytes, at);
                        if !in_field && *open == 0 {
                            lines.push(at);
                            nesting.statement_end();
                        } else if starts_definition(&bytes[at..]) {
                            // No expression holds a `def` or `class` statement: a bracket
                            // or field was left open by a mistake. Resume at the
                            // definition, so that a mistake costs only its statement.
                            stack.clear();
                            depth = 0;
                            lines.push(at);
                            nesting.statement_end();
                        }
                    }
                    b'(' | b'[' | b'{' => {
                        *open += 1;
                        if !in_field {
                            nesting.open(at, byte);
                        }
                        at += 1;
                    }
                    b'}' if in_field && *open == 0 => {
                        stack.pop();
                        at += 1;
                    }
                    b')' | b']' | b'}' => {
                        *open = open.saturating_sub(1);
                        if !in_field {
                            nesting.close(at);
                        }
                        at += 1;
                    }
                    b':' if in_field && *open == 0 => {
                        stack.pop();
                        stack.push(Frame::Spec);
                        at += 1;
                    }
                    b'\'' | b'"' => {
                        let end = string(bytes, &mut text, &mut stack, at, at);
                        if !in_field {
                            nesting.string(at, end);
                        }
                        at = end;
                    }
                    _ if is_word(byte) => {
                        let end = bytes[at..]
                            .iter()
                            .position(|&b| !is_word(b))
                            .map_or(bytes.len(), |length| at + length);
                        let prefix = is_prefix(&bytes[at..end]);
                        let start = at;
                        at = match bytes.get(end) {
                            Some(b'\'' | b'"') if prefix => {
                                string(bytes, &mut text, &mut stack, at, end)
                            }
                            _ => end,
                        };
                        match (in_field, at == end) {
                            (true, _) => {}
                            (false, true) => nesting.word(start, end, &bytes[start..end]),
                            (false, false) => nesting.string(start, at),
                        }
                    }
                    b' ' | b'\t' | b'\x0c' => at += 1,
                    _ if in_field => at += 1,
                    _ => {
                        let end = at + operator_length(&bytes[at..]);
                        nesting.operator(at, end, &bytes[at..end]);
                        at = end;
                    }
                }
            }
        }
    }
    depth::split_elif_chains(&mut text, &lines);
    // Only ASCII replaced whole characters (see `blank`), so this is still UTF-8.
    let text = String::from_utf8(text).unwrap_or_else(|_| source.to_owned());
    Prepared {
        text: nesting::apply(&text, &nesting.finish(), Offsets::Bytes),
        lines,
    }
}

/// Operators of more than one character, longest first.
const OPERATORS: &[&[u8]] = &[
    b"**=", b"//=", b">>=", b"<<=", b"...", b"**", b"//", b"<<", b">>", b"<=", b">=", b"==", b"!=",
    b"->", b":=", b"+=", b"-=", b"*=", b"/=", b"%=", b"@=", b"&=", b"|=", b"^=",
];

/// How long the operator (or other punctuation) that `code` starts with is.
fn operator_length(code: &[u8]) -> usize {
    OPERATORS
        .iter()
        .find(|operator| code.starts_with(operator))
        .map_or(1, |operator| operator.len())
}

/// A string literal with its prefix at `prefix` and its opening quote at `quote_at`:
/// skips a plain string and returns where it ends; for an f-string or t-string, enters
/// its text (pushing a frame) and returns where the text starts.
fn string(
    bytes: &[u8],
    text: &mut [u8],
    stack: &mut Vec<Frame>,
    prefix: usize,
    quote_at: usize,
) -> usize {
    let quote = bytes[quote_at];
    let triple = bytes.get(quote_at + 1) == Some(&quote) && bytes.get(quote_at + 2) == Some(&quote);
    let start = quote_at + if triple { 3 } else { 1 };
    let prefix_bytes = &bytes[prefix..quote_at];
    let raw = prefix_bytes.iter().any(|b| b.eq_ignore_ascii_case(&b'r'));
    let template = prefix_bytes
        .iter()
        .position(|b| b.eq_ignore_ascii_case(&b't'));
    let formatted =
        template.is_some() || prefix_bytes.iter().any(|b| b.eq_ignore_ascii_case(&b'f'));
    if !formatted {
        return plain_string_end(bytes, start, quote, triple);
    }
    // The parser predates t-strings; to an outline, one is an f-string.
    if let Some(t) = template
        && stack.is_empty()
    {
        text[prefix + t] = if bytes[prefix + t] == b'T' {
            b'F'
        } else {
            b'f'
        };
    }
    stack.push(Frame::Text {
        quote,
        triple,
        raw,
        start,
    });
    start
}

/// Where a plain string whose text starts at `at` ends: after its closing quote, or at
/// the end of the line when a single-quoted one is unterminated.
fn plain_string_end(bytes: &[u8], mut at: usize, quote: u8, triple: bool) -> usize {
    while let Some(&byte) = bytes.get(at) {
        match byte {
            // Even in a raw string a backslash keeps the next quote from closing it, and
            // continues the string past a line break (`\r\n` is one).
            b'\\' => at = line_break_end(bytes, at + 1),
            _ if byte == quote && closes(bytes, at, quote, triple) => {
                return at + if triple { 3 } else { 1 };
            }
            b'\n' | b'\r' if !triple => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Where the escape at `at` in an f-string's text ends. `\N{DASH}` is one escape, not a
/// field; before `{` or `}` the backslash stands alone and the brace opens or closes a
/// field as usual; in a raw string only a quote, a backslash or a line break (`\r\n` is
/// one) is escaped.
fn escape_end(bytes: &[u8], at: usize, raw: bool) -> usize {
    match bytes.get(at + 1) {
        Some(b'{' | b'}') => at + 1,
        Some(b'\\' | b'\'' | b'"') => at + 2,
        Some(b'\n' | b'\r') => line_break_end(bytes, at + 1),
        Some(b'N') if !raw && bytes.get(at + 2) == Some(&b'{') => bytes[at..]
            .iter()
            .position(|&b| b == b'}')
            .map_or(bytes.len(), |length| at + length + 1),
        _ if raw => at + 1,
        _ => at + 2,
    }
}

/// Whether the quote at `at` closes a string opened with `quote` (three of them when
/// `triple`).
fn closes(bytes: &[u8], at: usize, quote: u8, triple: bool) -> bool {
    !triple || bytes.get(at..at + 3) == Some(&[quote; 3][..])
}

/// Replaces a string's text by spaces. A triple-quoted one keeps its line breaks; a
/// single-quoted one may only span lines (through a replacement field) since Python
/// 3.12, so there they become spaces too: offsets are all that matter.
fn blank(text: &mut [u8], triple: bool) {
    for byte in text {
        if !(triple && matches!(*byte, b'\n' | b'\r')) {
            *byte = b' ';
        }
    }
}

/// Whether `line` starts at its first column with `def`, `async def` or `class`.
fn starts_definition(line: &[u8]) -> bool {
    let word = |text: &[u8], word: &[u8]| {
        text.starts_with(word)
            && text
                .get(word.len())
                .is_some_and(|&b| b == b' ' || b == b'\t')
    };
    word(line, b"def") || word(line, b"class") || word(line, b"async")
}

/// `r`, `f`, `rb`, `Rf`, `t`, ...: letters that may prefix a string literal.
fn is_prefix(word: &[u8]) -> bool {
    let lower = word.to_ascii_lowercase();
    matches!(
        lower.as_slice(),
        b"r" | b"u" | b"b" | b"br" | b"rb" | b"f" | b"fr" | b"rf" | b"t" | b"tr" | b"rt"
    )
}

fn is_line_break(byte: Option<&u8>) -> bool {
    matches!(byte, Some(b'\n' | b'\r'))
}

/// Where the line break at `at` (`\n`, `\r\n` or `\r`) ends.
fn line_break_end(bytes: &[u8], at: usize) -> usize {
    if bytes.get(at..at + 2) == Some(b"\r\n") {
        at + 2
    } else {
        at + 1
    }
}

/// Where the line holding `at` ends (its line break, or the end of the text).
fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |length| at + length)
}

/// The statements among the logical lines `lines` that start in `lo..hi`, at the
/// indentation of the first: each from its first line (a decorator's, for a decorated
/// definition) to where the next begins, with the `else`, `elif`, `except` and
/// `finally` clauses of a compound statement, and the blank and comment lines after it.
pub fn blocks(text: &str, lines: &[usize], lo: usize, hi: usize) -> Vec<Range<usize>> {
    let mut starts: Vec<usize> = Vec::new();
    let mut indent = None;
    let mut decorated = false;
    let first = lines.partition_point(|&start| start < lo);
    for &start in lines[first..].iter().take_while(|&&start| start < hi) {
        let line = &text[start..];
        let code = line.trim_start_matches([' ', '\t', '\x0c']);
        if code.is_empty() || code.starts_with(['#', '\n', '\r']) {
            continue;
        }
        let width = line.len() - code.len();
        if *indent.get_or_insert(width) != width {
            continue;
        }
        let clause = ["else", "elif", "except", "finally"]
            .iter()
            .any(|keyword| starts_with_word(code, keyword));
        if !decorated && !clause {
            starts.push(start);
        }
        decorated = code.starts_with('@');
    }
    let ends = starts.iter().skip(1).copied().chain([hi]);
    starts.iter().zip(ends).map(|(&s, e)| s..e).collect()
}

/// Whether `code` starts with the word `word` (not just a name beginning with it).
pub fn starts_with_word(code: &str, word: &str) -> bool {
    code.strip_prefix(word)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(source: &str) -> String {
        let prepared = prepare(source);
        assert_eq!(prepared.text.len(), source.len());
        prepared.text
    }

    #[test]
    fn blanks_f_strings_of_every_kind() {
        // `_` marks each byte that must become a space.
        let cases = [
            (r#"f"{a["b"]}" + 'x'"#, r#"f"________" + 'x'"#),
            // A raw f-string's `\'` does not close it.
            (r#"x = rf'{a}\'' + b"#, r#"x = rf'_____' + b"#),
            // Comments and line breaks in a triple-quoted field keep their line breaks.
            (
                "F'''{\n  x # c\n}''' + u'{}'",
                "F'''_\n_______\n_''' + u'{}'",
            ),
            (r#"f"{f"{f"{x}"}"}""#, r#"f"_____________""#),
            // A field over several lines of a single-quoted f-string, with a comment.
            (
                "f\"{\n  row[\"q\"] # total\n:>10.2f}\"\ny = 1",
                "f\"_____________________________\"\ny = 1",
            ),
            // Escapes: doubled braces, a named character, a backslash before a field.
            (
                r#"f"{{x}} \N{DASH} \{y}" 'z'"#,
                r#"f"___________________" 'z'"#,
            ),
            (
                r#"f"{x:{w}.{p}f}" f'{y!r:>{"w"}}'"#,
                r#"f"____________" f'____________'"#,
            ),
            // A t-string reads as an f-string; plain and byte strings are left alone.
            (
                r#"t"{x}" Tr'{y}' b"{z}" rb'\'{'"#,
                r#"f"___" Fr'___' b"{z}" rb'\'{'"#,
            ),
            // Names ending in a prefix letter are not prefixes.
            (r#"elif"{x}" if"{y}""#, r#"elif"{x}" if"{y}""#),
            // Non-ASCII text becomes one space per byte.
            ("f'é{x}'", "f'_____'"),
        ];
        for (source, expected) in cases {
            assert_eq!(text(source), expected.replace('_', " "), "{source}");
        }
    }

    #[test]
    fn a_backslash_before_a_crlf_continues_a_string() {
        let source = "x = 'a\\\r\n(b'\r\ny = f'{a}\\\r\n{b}'\r\nz = 1\r\n";
        let prepared = prepare(source);
        let firsts: Vec<&str> = (prepared.lines.iter())
            .filter_map(|&at| source.get(at..at + 1))
            .collect();
        assert_eq!(firsts, ["x", "y", "z"]);
        let blank = "y = f'         '";
        assert!(prepared.text.contains(blank), "{:?}", prepared.text);
    }

    #[test]
    fn finds_logical_lines() {
        let source = "a = (1,\n  2)\ns = '''x\ny'''\nb = 1 + \\\n  2\nc = f\"{\n1}\"\n# c\r\nd\re";
        let lines = prepare(source).lines;
        let starts: Vec<&str> = lines.iter().map(|&at| &source[at..]).collect();
        let firsts: Vec<&str> = starts.iter().map(|s| &s[..1]).collect();
        assert_eq!(firsts, ["a", "s", "b", "c", "#", "d", "e"]);
    }

    #[test]
    fn groups_lines_into_statements() {
        let source = "import os\n\n@dec\n@dec2\ndef f():\n    pass\n\n# about\nclass A:\n    x = 1\nif a:\n    b\nelse:\n    c\ntry:\n    d\nexcept E:\n    e\nfinally:\n    f\nelsewhere = 1\n";
        let prepared = prepare(source);
        let blocks = blocks(source, &prepared.lines, 0, source.len());
        let firsts: Vec<&str> = blocks
            .iter()
            .map(|block| source[block.clone()].lines().next().unwrap())
            .collect();
        assert_eq!(
            firsts,
            [
                "import os",
                "@dec",
                "class A:",
                "if a:",
                "try:",
                "elsewhere = 1"
            ]
        );
        assert_eq!(blocks.last().unwrap().end, source.len());
        // A class body's members, at their own indentation.
        let body = source.find("    x = 1").unwrap();
        let members = super::blocks(source, &prepared.lines, body, source.find("if a").unwrap());
        assert_eq!(members.len(), 1);
    }
}
