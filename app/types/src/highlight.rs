//! A small, fast syntax highlighter for the file viewer: comments, strings, numbers and
//! keywords of the languages Kiln parses, by line. Deterministic and dependency-free,
//! so the server's render and the browser's hydration agree.

/// What a piece of a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Plain,
    Keyword,
    String,
    Comment,
    Number,
}

impl TokenKind {
    /// The CSS class of the kind.
    pub fn class(self) -> &'static str {
        match self {
            Self::Plain => "tok",
            Self::Keyword => "tok-kw",
            Self::String => "tok-str",
            Self::Comment => "tok-com",
            Self::Number => "tok-num",
        }
    }
}

/// Past this many bytes a file is shown without colours.
pub const HIGHLIGHT_MAX_BYTES: usize = 512 * 1024;

struct Syntax {
    line_comment: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    quotes: &'static [char],
    /// Python's `"""`: strings that may span lines.
    triple_quotes: bool,
    keywords: &'static [&'static str],
}

const RUST: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];
const PYTHON: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];
const JAVASCRIPT: &[&str] = &[
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "of",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "yield",
];
const GO: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "nil",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
    "true",
    "false",
];
const C_LIKE: &[&str] = &[
    "break",
    "case",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "else",
    "enum",
    "extern",
    "false",
    "for",
    "if",
    "import",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "struct",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typedef",
    "void",
    "while",
];
const SHELL: &[&str] = &[
    "case", "do", "done", "elif", "else", "esac", "export", "fi", "for", "function", "if", "in",
    "local", "return", "then", "while",
];

fn syntax(language: &str) -> Option<Syntax> {
    let c_like = |keywords| Syntax {
        line_comment: &["//"],
        block_comment: Some(("/*", "*/")),
        quotes: &['"', '\''],
        triple_quotes: false,
        keywords,
    };
    Some(match language {
        "rust" => Syntax {
            quotes: &['"'],
            ..c_like(RUST)
        },
        "javascript" | "typescript" => Syntax {
            quotes: &['"', '\'', '`'],
            ..c_like(JAVASCRIPT)
        },
        "go" => Syntax {
            quotes: &['"', '`'],
            ..c_like(GO)
        },
        "c" | "cpp" | "csharp" | "java" | "kotlin" | "scala" | "swift" | "dart" | "php" => {
            c_like(C_LIKE)
        }
        "python" => Syntax {
            line_comment: &["#"],
            block_comment: None,
            quotes: &['"', '\''],
            triple_quotes: true,
            keywords: PYTHON,
        },
        "shell" | "ruby" | "perl" | "toml" | "yaml" | "makefile" | "dockerfile" | "r" => Syntax {
            line_comment: &["#"],
            block_comment: None,
            quotes: &['"', '\''],
            triple_quotes: false,
            keywords: SHELL,
        },
        "sql" | "lua" | "haskell" => Syntax {
            line_comment: &["--"],
            block_comment: None,
            quotes: &['"', '\''],
            triple_quotes: false,
            keywords: &[],
        },
        _ => return None,
    })
}

/// What is still open at the end of a line.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Nothing,
    BlockComment,
    TripleString(char),
    /// Template literals and Go raw strings span lines.
    Backtick,
}

/// `text` as lines of `(kind, piece)`; pieces joined give each line back exactly.
pub fn highlight(language: &str, text: &str) -> Vec<Vec<(TokenKind, String)>> {
    let lines = split_lines(text).into_iter();
    let syntax = match syntax(language) {
        Some(syntax) if text.len() <= HIGHLIGHT_MAX_BYTES => syntax,
        _ => {
            return lines
                .map(|line| vec![(TokenKind::Plain, line.to_owned())])
                .collect();
        }
    };
    let mut open = Open::Nothing;
    lines
        .map(|line| {
            let mut tokens = Tokens::default();
            let mut rest = line;
            while !rest.is_empty() {
                let (kind, taken, still_open) = next_token(&syntax, rest, open);
                open = still_open;
                tokens.push(kind, &rest[..taken]);
                rest = &rest[taken..];
            }
            tokens.0
        })
        .collect()
}

/// `text` cut at its line endings — LF, CRLF, and a bare CR each end one line, as in
/// CommonMark and every editor — without them; the part after the last ending is the
/// last line (empty when the text ends with one).
pub fn split_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let (mut lines, mut start, mut at) = (Vec::new(), 0, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => {
                lines.push(&text[start..at]);
                start = at + 1;
            }
            b'\r' => {
                lines.push(&text[start..at]);
                if bytes.get(at + 1) == Some(&b'\n') {
                    at += 1;
                }
                start = at + 1;
            }
            _ => {}
        }
        at += 1;
    }
    lines.push(&text[start..]);
    lines
}

#[derive(Default)]
struct Tokens(Vec<(TokenKind, String)>);

impl Tokens {
    /// Adjacent pieces of one kind merge, so a line is a handful of spans.
    fn push(&mut self, kind: TokenKind, piece: &str) {
        match self.0.last_mut() {
            Some((last, text)) if *last == kind => text.push_str(piece),
            _ => self.0.push((kind, piece.to_owned())),
        }
    }
}

/// The token at the start of `rest`: its kind, its length in bytes, and what it
/// leaves open.
fn next_token(syntax: &Syntax, rest: &str, open: Open) -> (TokenKind, usize, Open) {
    match open {
        Open::BlockComment => {
            let end = syntax.block_comment.map_or("*/", |(_, end)| end);
            return match rest.find(end) {
                Some(at) => (TokenKind::Comment, at + end.len(), Open::Nothing),
                None => (TokenKind::Comment, rest.len(), Open::BlockComment),
            };
        }
        Open::TripleString(quote) => {
            let end: String = std::iter::repeat_n(quote, 3).collect();
            return match rest.find(&end) {
                Some(at) => (TokenKind::String, at + 3, Open::Nothing),
                None => (TokenKind::String, rest.len(), open),
            };
        }
        Open::Backtick => {
            return match rest.find('`') {
                Some(at) => (TokenKind::String, at + 1, Open::Nothing),
                None => (TokenKind::String, rest.len(), Open::Backtick),
            };
        }
        Open::Nothing => {}
    }
    if syntax
        .line_comment
        .iter()
        .any(|marker| rest.starts_with(marker))
    {
        return (TokenKind::Comment, rest.len(), Open::Nothing);
    }
    if let Some((start, _)) = syntax.block_comment
        && rest.starts_with(start)
    {
        return next_token(syntax, &rest[start.len()..], Open::BlockComment)
            .pipe(|(kind, taken, open)| (kind, taken + start.len(), open));
    }
    let Some(first) = rest.chars().next() else {
        return (TokenKind::Plain, 0, Open::Nothing);
    };
    if syntax.quotes.contains(&first) {
        if syntax.triple_quotes
            && rest.starts_with(&std::iter::repeat_n(first, 3).collect::<String>())
        {
            return next_token(syntax, &rest[3..], Open::TripleString(first))
                .pipe(|(kind, taken, open)| (kind, taken + 3, open));
        }
        if first == '`' {
            return next_token(syntax, &rest[1..], Open::Backtick)
                .pipe(|(kind, taken, open)| (kind, taken + 1, open));
        }
        return (TokenKind::String, string_length(rest, first), Open::Nothing);
    }
    if first.is_ascii_digit() {
        let taken = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        return (TokenKind::Number, taken, Open::Nothing);
    }
    if first.is_alphabetic() || first == '_' {
        let taken = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let kind = if syntax.keywords.contains(&&rest[..taken]) {
            TokenKind::Keyword
        } else {
            TokenKind::Plain
        };
        return (kind, taken, Open::Nothing);
    }
    (TokenKind::Plain, first.len_utf8(), Open::Nothing)
}

/// A quoted string up to its closing quote (escapes skipped), or to the end of line.
fn string_length(rest: &str, quote: char) -> usize {
    let mut escaped = false;
    for (at, c) in rest.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return at + c.len_utf8();
        }
    }
    rest.len()
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}

impl<T> Pipe for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_lf_crlf_and_a_bare_cr() {
        assert_eq!(split_lines("a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(split_lines("a\r\r"), ["a", "", ""]);
        assert_eq!(split_lines("x"), ["x"]);
        assert_eq!(highlight("text", "one\rtwo\r").len(), 3);
    }

    fn kinds(language: &str, text: &str) -> Vec<Vec<(TokenKind, &'static str)>> {
        highlight(language, text)
            .into_iter()
            .map(|line| {
                line.into_iter()
                    .map(|(kind, piece)| (kind, &*Box::leak(piece.into_boxed_str())))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn lines_come_back_exactly() {
        let text = "fn main() {\r\n    let s = \"a \\\" b\"; // done\n    /* x\n y */ 42\n}";
        let lines = highlight("rust", text);
        let joined: Vec<String> = lines
            .iter()
            .map(|line| line.iter().map(|(_, piece)| piece.as_str()).collect())
            .collect();
        assert_eq!(
            joined,
            [
                "fn main() {",
                "    let s = \"a \\\" b\"; // done",
                "    /* x",
                " y */ 42",
                "}"
            ]
        );
    }

    #[test]
    fn kinds_of_rust() {
        let lines = kinds("rust", "pub fn f() -> u8 { 7 } // seven\n/* a\nb */ \"s\"");
        assert_eq!(lines[0][0], (TokenKind::Keyword, "pub"));
        assert!(lines[0].contains(&(TokenKind::Number, "7")));
        assert_eq!(lines[0].last(), Some(&(TokenKind::Comment, "// seven")));
        assert_eq!(lines[1], [(TokenKind::Comment, "/* a")]);
        assert_eq!(lines[2][0], (TokenKind::Comment, "b */"));
        assert_eq!(lines[2].last(), Some(&(TokenKind::String, "\"s\"")));
    }

    #[test]
    fn python_docstrings_span_lines() {
        let lines = kinds(
            "python",
            "def f():\n    \"\"\"Doc\n    more\"\"\"\n    return 1",
        );
        assert_eq!(lines[0][0], (TokenKind::Keyword, "def"));
        assert_eq!(lines[2], [(TokenKind::String, "    more\"\"\"")]);
        assert_eq!(lines[3][1], (TokenKind::Keyword, "return"));
    }

    #[test]
    fn unknown_languages_are_plain() {
        assert_eq!(kinds("text", "fn x"), [[(TokenKind::Plain, "fn x")]]);
    }
}
