//! A scan of JavaScript and TypeScript for what nests, for `depth`.
//!
//! This is not a full lexer: it skips comments, string literals, template text and
//! regular expressions, so that brackets inside them do not count. A `/` starts a
//! regular expression where an expression can start (at the start, after an operator or
//! an opening bracket, `}`, or a keyword such as `return` or `typeof`) and divides after
//! an operand (a name, a literal, `)`, `]`, `++`, `--`); `</` is a JSX closing tag.
//! Strings and regular expressions end at the end of their line at the latest, so a
//! misjudged `/` skews the count up to the next `/` on its line at most; but in minified
//! code, one line can be the whole file.

use kiln_plugin_sdk::text;

/// Keywords after which an expression starts (a `/` starts a regex, not a division).
const KEYWORDS: &[&[u8]] = &[
    b"await",
    b"case",
    b"delete",
    b"do",
    b"else",
    b"in",
    b"instanceof",
    b"new",
    b"of",
    b"return",
    b"throw",
    b"typeof",
    b"void",
    b"yield",
];

/// Keywords that are prefix operators: a run of them nests like `!!!x`.
const PREFIX_KEYWORDS: &[&[u8]] = &[b"await", b"delete", b"new", b"typeof", b"void"];

/// Keywords after which `(...)` holds an expression (not arguments or parameters).
const CONDITIONS: &[&[u8]] = &[b"if", b"switch", b"while", b"with"];

/// What the scan meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `(`, `[`, `{`, `$` for the `${` opening a template substitution, or `<` opening
    /// TypeScript generics; and whether the group may be empty (a call's arguments, a
    /// function's parameters).
    Open(u8, bool),
    /// `)`, `]`, `}`, or the `}` closing a substitution.
    Close,
    /// A `>` that closes TypeScript generics if `<` opened the innermost group.
    Angle,
    /// A link of a chain: a conditional's `?` or `=>` (`false`), or an assignment's
    /// `=` (`true`).
    Chain(bool),
    /// A prefix operator: `!`, `~`, unary `+` or `-`, `typeof`, `new`, ...
    Prefix,
    /// The end of an expression: `,`.
    Break,
    /// The end of a statement: `;`, or a line break that nothing carries on.
    End,
    /// An `if` that starts a statement (not an `else if`).
    If,
    /// An `else` followed by `if` (at the `else`).
    ElseIf,
    /// Any other token.
    Token,
}

/// Calls `event(at, what)` for what `source` holds, in order; `typescript`: whether a
/// `<` may open generics.
pub fn scan(source: &str, typescript: bool, mut event: impl FnMut(usize, Event)) {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    // The depth inside each open `${`, to resume the template's text at its `}`.
    let mut templates: Vec<usize> = Vec::new();
    // Whether an expression may start here (a `/` starts a regex), and whether the
    // last token was a `.` (`x.return / 2` divides: that `return` is a property).
    let (mut expression_starts, mut after_dot) = (true, false);
    // Whether the last token was a `}`: a value (`() => {}`) or a block, which a line
    // break ends either way.
    let mut after_brace = false;
    // Where the `else` just before is, if the last token was one; and whether the last
    // token was a condition's keyword.
    let mut after_else: Option<usize> = None;
    let mut after_condition = false;
    let mut at = if bytes.starts_with(b"#!") {
        line_end(bytes, 0)
    } else {
        0
    };
    while let Some(&byte) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        // Where the token ends, whether it ends an operand, and what it is.
        let (end, operand, what) = match byte {
            b'/' if next == Some(b'/') => {
                at = line_end(bytes, at);
                continue;
            }
            b'/' if next == Some(b'*') => {
                at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            b'\n' | b'\r' => {
                // A line break ends a statement, unless an operator before it or a
                // `?` or `:` after it carries the expression on (a chain over lines).
                let carried = matches!(next_code(bytes, at), Some(b'?' | b':'));
                if (!expression_starts || after_brace) && !carried {
                    event(at, Event::End);
                }
                at += 1;
                continue;
            }
            _ if byte.is_ascii_whitespace() => {
                at += 1;
                continue;
            }
            b'\'' | b'"' => (quoted(bytes, at + 1, byte), true, Event::Token),
            b'/' if expression_starts && !(at > 0 && bytes[at - 1] == b'<') => {
                (regex(bytes, at + 1), true, Event::Token)
            }
            b'`' | b'}' if byte == b'`' || templates.last() == Some(&depth) => {
                if byte == b'}' {
                    templates.pop();
                    event(at, Event::Close);
                    depth -= 1;
                }
                let (end, substitution) = template_text(bytes, at + 1);
                if substitution {
                    event(end - 2, Event::Open(b'$', false));
                    depth += 1;
                    templates.push(depth);
                }
                // After `${` an expression starts; after the closing backquote, not.
                (end, !substitution, Event::Token)
            }
            b'(' | b'[' | b'{' => {
                // Arguments and parameters may be empty; an expression may not.
                let empty =
                    byte == b'{' || (byte == b'(' && !expression_starts && !after_condition);
                event(at, Event::Open(byte, empty));
                depth += 1;
                (at + 1, false, Event::Token)
            }
            b')' | b']' | b'}' => {
                event(at, Event::Close);
                depth = depth.saturating_sub(1);
                // After a block's `}` a statement (maybe a regex) starts.
                (at + 1, byte != b'}', Event::Token)
            }
            b'<' if typescript && opens_generics(bytes, at) => {
                (at + 1, false, Event::Open(b'<', false))
            }
            b'>' if next != Some(b'=') => (at + 1, false, Event::Angle),
            b',' => (at + 1, false, Event::Break),
            b';' => (at + 1, false, Event::End),
            // `?.`, `??`, and TypeScript's optional marks (`a?: T`, `(a?) =>`) are not
            // conditionals.
            b'?' if next == Some(b'.') || next == Some(b'?') => (at + 2, false, Event::Token),
            b'?' if matches!(next, Some(b':' | b')' | b',' | b'=' | b']' | b';')) => {
                (at + 1, false, Event::Token)
            }
            b'?' => (at + 1, false, Event::Chain(false)),
            b'=' if next == Some(b'>') => (at + 2, false, Event::Chain(false)),
            b'=' if next == Some(b'=') => {
                let end = bytes[at..]
                    .iter()
                    .position(|&b| b != b'=')
                    .map_or(bytes.len(), |length| at + length);
                (end, false, Event::Token)
            }
            // `<=`, `>=`, `!=` compare; `=` and `+=`, `&&=`, ... assign.
            b'=' if at > 0 && matches!(bytes[at - 1], b'<' | b'>' | b'!') => {
                (at + 1, false, Event::Token)
            }
            b'=' => (at + 1, false, Event::Chain(true)),
            b'!' | b'~' if next != Some(b'=') => (at + 1, false, Event::Prefix),
            // `a++ / 2`: a postfix `++` or `--` ends an operand.
            b'+' | b'-' if next == Some(byte) => (at + 2, true, Event::Token),
            b'+' | b'-' if expression_starts => (at + 1, false, Event::Prefix),
            _ if is_word(byte) => {
                let end = bytes[at..]
                    .iter()
                    .position(|&b| !is_word(b))
                    .map_or(bytes.len(), |length| at + length);
                let word = &bytes[at..end];
                let keyword = !after_dot && KEYWORDS.contains(&word);
                let what = match after_else {
                    Some(else_at) if word == b"if" => {
                        event(else_at, Event::ElseIf);
                        Event::Token
                    }
                    _ if !after_dot && word == b"if" => Event::If,
                    _ if !after_dot && PREFIX_KEYWORDS.contains(&word) => Event::Prefix,
                    _ => Event::Token,
                };
                after_else = (keyword && word == b"else").then_some(at);
                after_condition = !after_dot && CONDITIONS.contains(&word);
                (end, !keyword, what)
            }
            _ => (at + 1, false, Event::Token),
        };
        if !is_word(byte) {
            after_else = None;
            after_condition = false;
        }
        event(at, what);
        expression_starts = !operand;
        after_dot = byte == b'.';
        after_brace = byte == b'}';
        at = end;
    }
}

/// Whether the `<` at `at` opens TypeScript generics (`Array<T>`, `f<T>(x)`): right after
/// a name or another generic's `>`, and right before a type. (Comparisons are written
/// with spaces; one that is not counts as generics until its statement ends.)
fn opens_generics(bytes: &[u8], at: usize) -> bool {
    let before = at.checked_sub(1).map(|before| bytes[before]);
    let after = bytes.get(at + 1).copied();
    before.is_some_and(|b| is_word(b) || b == b'>')
        && after.is_some_and(|b| is_word(b) || matches!(b, b'{' | b'[' | b'(' | b'\'' | b'"'))
}

/// The first byte after `at` that is not whitespace.
fn next_code(bytes: &[u8], at: usize) -> Option<u8> {
    bytes[at..]
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

/// A byte of a name, keyword or number; JavaScript names may hold `$` and escapes.
fn is_word(byte: u8) -> bool {
    text::is_word(byte) || matches!(byte, b'$' | b'\\')
}

/// Skips a string body from `at` to just past its closing `quote`, honouring escapes and
/// line continuations (`\` and a line break, `\r\n` being one); stops at the end of the
/// line (an unterminated string).
fn quoted(bytes: &[u8], mut at: usize, quote: u8) -> usize {
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' if bytes.get(at + 1..at + 3) == Some(b"\r\n") => at += 3,
            b'\\' => at += 2,
            b'\n' | b'\r' => return at,
            _ if byte == quote => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Skips a regex body from `at` to just past its closing `/`: a `/` inside a character
/// class `[...]` or after a backslash does not close it. Stops at the end of the line.
fn regex(bytes: &[u8], mut at: usize) -> usize {
    let mut class = false;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 1,
            b'\n' | b'\r' => return at,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => return at + 1,
            _ => {}
        }
        at += 1;
    }
    bytes.len()
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
    (bytes.len(), false)
}

/// Where the line holding `at` ends (its line break, or the end of the text).
fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |length| at + length)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}
