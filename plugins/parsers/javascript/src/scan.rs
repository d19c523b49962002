//! A scan of JavaScript and TypeScript for what nests, for `depth`.
//!
//! This is not a full lexer: it skips comments, string literals, template text and
//! regular expressions, so that brackets inside them do not count, and reads JSX (see
//! [`crate::jsx`]), whose text is no code either. A `/` starts a regular expression
//! where an expression can start (at the start, after an operator or an opening
//! bracket, `}`, or a keyword such as `return` or `typeof`) and divides after an
//! operand (a name, a literal, `)`, `]`, `++`, `--`). A misjudged `/` must not skew the
//! count for long: a regular expression cannot hold a line break, so a `/` whose line
//! holds no closing `/` divides; a string ends at the end of its line at the latest.

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
const PREFIX_KEYWORDS: &[&[u8]] = &[b"await", b"delete", b"new", b"typeof", b"void", b"yield"];

/// Keywords after which `(...)` holds an expression (not arguments or parameters).
const CONDITIONS: &[&[u8]] = &[b"if", b"switch", b"while", b"with"];

/// What the scan meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `(`, `[`, `{`, `$` for the `${` opening a template substitution, `<` opening
    /// TypeScript generics, or `>` opening a JSX element's children; and whether the
    /// group may be empty (a call's arguments, a function's parameters, children).
    Open(u8, bool),
    /// `)`, `]`, `}`, the `}` closing a substitution, or a JSX closing tag.
    Close,
    /// A `>` that closes TypeScript generics if `<` opened the innermost group.
    Angle,
    /// A link of a chain: a conditional's `?`, `=>` or `**` (`false`), or an
    /// assignment's `=` (`true`).
    Chain(bool),
    /// A prefix operator: `!`, `~`, unary `+` or `-`, `typeof`, `new`, `yield`, ...
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

/// Which syntax a file may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// Whether a `<` may open generics.
    pub typescript: bool,
    /// Whether a `<` where an expression starts may open a JSX element.
    pub jsx: bool,
}

#[cfg(test)]
impl Dialect {
    /// `.js`, `.jsx` (JSX is common in `.js` files too).
    pub const JAVASCRIPT: Self = Self {
        typescript: false,
        jsx: true,
    };
    /// `.ts`, where `<T>x` is a type assertion.
    pub const TYPESCRIPT: Self = Self {
        typescript: true,
        jsx: false,
    };
}

/// Calls `event(at, what)` for what `source` holds, in order.
pub fn scan(source: &str, dialect: Dialect, event: impl FnMut(usize, Event)) {
    let bytes = source.as_bytes();
    let at = if bytes.starts_with(b"#!") {
        line_end(bytes, 0)
    } else {
        0
    };
    let mut scanner = Scanner {
        bytes,
        dialect,
        state: State {
            at,
            depth: 0,
            contexts: Vec::new(),
            elements: 0,
            expression_starts: true,
            after_dot: false,
            after_brace: false,
            after_else: None,
            after_condition: false,
        },
        saved: None,
        buffer: Vec::new(),
        no_jsx_before: 0,
        event,
    };
    scanner.run();
}

/// What the scan is inside (of what closes with a `}` or a tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// A template's `${`, opened at this depth: its `}` resumes the template's text.
    Substitution(usize),
    /// A JSX element, in its tag or its children; its name is `bytes[name.0..name.1]`.
    Element {
        name: (usize, usize),
        children: bool,
    },
    /// A JSX `{`, opened at this depth: its `}` goes back to the element.
    Container(usize),
}

/// Where the scan is, and what it has just read.
#[derive(Clone)]
pub(crate) struct State {
    pub at: usize,
    /// How many brackets are open.
    pub depth: usize,
    pub contexts: Vec<Context>,
    /// How many of the contexts are JSX elements.
    pub elements: usize,
    /// Whether an expression may start here (a `/` starts a regex).
    pub expression_starts: bool,
    /// Whether the last token was a `.` (`x.return / 2` divides: that `return` is a
    /// property).
    pub after_dot: bool,
    /// Whether the last token was a `}`: a value (`() => {}`) or a block, which a line
    /// break ends either way.
    pub after_brace: bool,
    /// Where the `else` just before is, if the last token was one.
    pub after_else: Option<usize>,
    /// Whether the last token was a condition's keyword.
    pub after_condition: bool,
}

pub(crate) struct Scanner<'a, F> {
    pub bytes: &'a [u8],
    pub dialect: Dialect,
    pub state: State,
    /// The state before the outermost JSX element being read, to go back to should it
    /// turn out not to be one; its events wait in `buffer` until it closes.
    pub saved: Option<State>,
    pub buffer: Vec<(usize, Event)>,
    /// No JSX element starts before this: one that did turned out not to be one.
    pub no_jsx_before: usize,
    pub event: F,
}

impl<F: FnMut(usize, Event)> Scanner<'_, F> {
    fn run(&mut self) {
        loop {
            if self.state.at >= self.bytes.len() {
                // A JSX element still open at the end was no element.
                if self.saved.is_some() {
                    self.not_jsx();
                    continue;
                }
                break;
            }
            match self.state.contexts.last() {
                Some(Context::Element { children, .. }) => {
                    if *children {
                        self.children();
                    } else {
                        self.tag();
                    }
                }
                _ => self.code(),
            }
        }
    }

    pub(crate) fn emit(&mut self, at: usize, event: Event) {
        if self.saved.is_some() {
            self.buffer.push((at, event));
        } else {
            (self.event)(at, event);
        }
    }

    /// Reads the code token at `state.at`.
    fn code(&mut self) {
        let bytes = self.bytes;
        let at = self.state.at;
        let byte = bytes[at];
        let next = bytes.get(at + 1).copied();
        let starts = self.state.expression_starts;
        let innermost = self.state.contexts.last().copied();
        let depth = self.state.depth;
        // Where the token ends, whether it ends an operand, and what it is.
        let (end, operand, what) = match byte {
            b'/' if next == Some(b'/') => {
                self.state.at = line_end(bytes, at);
                return;
            }
            b'/' if next == Some(b'*') => {
                self.state.at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                return;
            }
            b'\n' | b'\r' => {
                // A line break ends a statement, unless an operator before it or a
                // `?` or `:` after it carries the expression on (a chain over lines).
                let carried = matches!(next_code(bytes, at), Some(b'?' | b':'));
                if (!starts || self.state.after_brace) && !carried {
                    self.emit(at, Event::End);
                }
                self.state.at += 1;
                return;
            }
            _ if byte.is_ascii_whitespace() => {
                self.state.at += 1;
                return;
            }
            b'\'' | b'"' => (quoted(bytes, at + 1, byte), true, Event::Token),
            // `</` closes a JSX tag and `} />` ends one, where JSX was not read as such.
            b'/' if starts
                && !(at > 0 && bytes[at - 1] == b'<')
                && !(self.state.after_brace && next == Some(b'>')) =>
            {
                match regex(bytes, at + 1) {
                    Some(end) => (end, true, Event::Token),
                    None => (at + 1, false, Event::Token),
                }
            }
            b'<' if starts && self.may_open_element(at) => {
                self.open_element(at);
                return;
            }
            b'`' => self.template(at + 1),
            b'}' if innermost == Some(Context::Substitution(depth)) => {
                self.state.contexts.pop();
                self.emit(at, Event::Close);
                self.state.depth -= 1;
                self.template(at + 1)
            }
            b'}' if innermost == Some(Context::Container(depth)) => {
                self.state.contexts.pop();
                self.emit(at, Event::Close);
                self.state.depth -= 1;
                self.state.at = at + 1;
                return;
            }
            b'(' | b'[' | b'{' => {
                // Arguments and parameters may be empty; an expression may not.
                let empty =
                    byte == b'{' || (byte == b'(' && !starts && !self.state.after_condition);
                self.emit(at, Event::Open(byte, empty));
                self.state.depth += 1;
                (at + 1, false, Event::Token)
            }
            b')' | b']' | b'}' => {
                self.emit(at, Event::Close);
                self.state.depth = depth.saturating_sub(1);
                // After a block's `}` a statement (maybe a regex) starts.
                (at + 1, byte != b'}', Event::Token)
            }
            b'<' if self.dialect.typescript && opens_generics(bytes, at) => {
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
            // `**` is right-associative: `a ** b ** c` nests like `a ? b : c ? ...`.
            b'*' if next == Some(b'*') && bytes.get(at + 2) != Some(&b'=') => {
                (at + 2, false, Event::Chain(false))
            }
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
            // `++x`, `-- -- x`: where an operand may start, a prefix that nests; after
            // one (`a++ / 2`), a postfix that ends it.
            b'+' | b'-' if next == Some(byte) && starts => (at + 2, false, Event::Prefix),
            b'+' | b'-' if next == Some(byte) => (at + 2, true, Event::Token),
            b'+' | b'-' if starts => (at + 1, false, Event::Prefix),
            _ if is_word(byte) => self.word(at),
            _ => (at + 1, false, Event::Token),
        };
        if !is_word(byte) {
            self.state.after_else = None;
            self.state.after_condition = false;
        }
        self.emit(at, what);
        let state = &mut self.state;
        state.expression_starts = !operand;
        state.after_dot = byte == b'.';
        state.after_brace = byte == b'}';
        state.at = end;
    }

    /// A name, keyword or number at `at`: where it ends, whether it is an operand, and
    /// what it is.
    fn word(&mut self, at: usize) -> (usize, bool, Event) {
        let bytes = self.bytes;
        let end = bytes[at..]
            .iter()
            .position(|&b| !is_word(b))
            .map_or(bytes.len(), |length| at + length);
        let word = &bytes[at..end];
        let after_dot = self.state.after_dot;
        let keyword = !after_dot && KEYWORDS.contains(&word);
        let what = match self.state.after_else {
            Some(else_at) if word == b"if" => {
                self.emit(else_at, Event::ElseIf);
                Event::Token
            }
            _ if !after_dot && word == b"if" => Event::If,
            _ if !after_dot && PREFIX_KEYWORDS.contains(&word) => Event::Prefix,
            _ => Event::Token,
        };
        self.state.after_else = (keyword && word == b"else").then_some(at);
        self.state.after_condition = !after_dot && CONDITIONS.contains(&word);
        (end, !keyword, what)
    }

    /// Template text from `from`: where it ends, whether it ends an operand (at the
    /// closing backquote; after `${` an expression starts), and what it is.
    fn template(&mut self, from: usize) -> (usize, bool, Event) {
        let (end, substitution) = template_text(self.bytes, from);
        if substitution {
            self.emit(end - 2, Event::Open(b'$', false));
            self.state.depth += 1;
            self.state
                .contexts
                .push(Context::Substitution(self.state.depth));
        }
        (end, !substitution, Event::Token)
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
pub(crate) fn is_word(byte: u8) -> bool {
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
/// class `[...]` or after a backslash does not close it. None if the line ends first:
/// then it was no regex.
fn regex(bytes: &[u8], mut at: usize) -> Option<usize> {
    let mut class = false;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' if !matches!(bytes.get(at + 1), Some(b'\n' | b'\r')) => at += 1,
            b'\n' | b'\r' => return None,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => return Some(at + 1),
            _ => {}
        }
        at += 1;
    }
    None
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
pub(crate) fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |length| at + length)
}

pub(crate) fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}
