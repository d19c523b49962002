//! Text passes before syn parses a file. Each replaces code by spaces and keeps every
//! byte offset and line break, so that syn's spans stay spans of the source.
//!
//! syn's parser recurses once per nested bracket and per prefix operator (`!!!!x`), and
//! the trees it builds are as deep as the code: running out of stack kills the plugin
//! call instead of returning an error. So:
//!
//! - function bodies are blanked out (`{ ... }` becomes `{     }`): no symbol comes from
//!   inside one, and that is where generated code nests deepest (a 5,000-arm `else if`
//!   chain, say), so syn neither parses nor builds any of it;
//! - what is still nested more than [`MAX_NESTING`] brackets deep is blanked out
//!   (`()`, `[]` and `{}` stay valid), and runs of more than [`MAX_PREFIX_OPERATORS`]
//!   prefix operators are thinned out to that many.

/// Groups nested deeper than this are blanked out. Outside function bodies (blanked
/// anyway) real code stays far below it; each level costs syn several kilobytes of
/// stack in a debug build.
pub const MAX_NESTING: usize = 32;

/// Longer runs of prefix operators (`!`, `-`, `*`, `&`, `&&`) are cut to this many.
pub const MAX_PREFIX_OPERATORS: usize = 32;

/// `source` with nesting too deep for syn blanked out, and function bodies too when
/// `bodies` is set (see the module's documentation).
pub fn prepare(source: &str, bodies: bool) -> String {
    let mut text = source.as_bytes().to_vec();
    let mut depth = 0usize;
    // The group being blanked: the depth outside it and where its inside starts.
    let mut blanking: Option<(usize, usize)> = None;
    // After `fn name`: the depth at which its body (or the `;` of a declaration) comes.
    let mut function: Option<usize> = None;
    let mut after_fn = false;
    // The current run of prefix operators.
    let mut run: Vec<(usize, usize)> = Vec::new();
    for token in Lexer::new(source.as_bytes()) {
        if token.kind != Kind::Prefix {
            thin(&mut text, &run);
            run.clear();
        }
        match token.kind {
            Kind::Open => {
                let body = function == Some(depth) && source.as_bytes()[token.start] == b'{';
                if body {
                    function = None;
                }
                if blanking.is_none() && ((bodies && body) || depth == MAX_NESTING) {
                    blanking = Some((depth, token.end));
                }
                depth += 1;
            }
            Kind::Close => {
                depth = depth.saturating_sub(1);
                if let Some((outside, start)) = blanking
                    && outside == depth
                {
                    blank(&mut text[start..token.start]);
                    blanking = None;
                }
            }
            Kind::Prefix if blanking.is_none() => run.push((token.start, token.end)),
            Kind::Punct if function == Some(depth) && source.as_bytes()[token.start] == b';' => {
                function = None;
            }
            Kind::Ident if after_fn => function = Some(depth),
            _ => {}
        }
        after_fn = token.kind == Kind::Ident && &source.as_bytes()[token.start..token.end] == b"fn";
    }
    thin(&mut text, &run);
    if let Some((_, start)) = blanking {
        blank(&mut text[start..]);
    }
    // Only whole characters were replaced, by ASCII spaces, so this is still UTF-8.
    String::from_utf8(text).unwrap_or_else(|_| source.to_owned())
}

/// Blanks out the operators of `run` past the first [`MAX_PREFIX_OPERATORS`], but the
/// first one (which may be a binary operator, as in `a & !!!!b`).
fn thin(text: &mut [u8], run: &[(usize, usize)]) {
    let excess = run.len().saturating_sub(MAX_PREFIX_OPERATORS);
    for &(start, end) in run.iter().skip(1).take(excess) {
        blank(&mut text[start..end]);
    }
}

/// Replaces all but line breaks by spaces.
fn blank(text: &mut [u8]) {
    for byte in text {
        if *byte != b'\n' && *byte != b'\r' {
            *byte = b' ';
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    /// A literal or a lifetime.
    Literal,
    Open,
    Close,
    /// An operator that may be a prefix one: `!`, `-`, `*`, `&`, `&&`.
    Prefix,
    Punct,
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Rust's tokens, as far as the passes need them: comments are skipped, and literals
/// (strings, raw strings, characters) are single tokens whatever they hold.
struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Lexer<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// Where the token starting at `start` with `byte` ends, and what it is.
    fn token(&self, start: usize, byte: u8) -> (Kind, usize) {
        let next = self.byte(start + 1);
        match byte {
            b'(' | b'[' | b'{' => (Kind::Open, start + 1),
            b')' | b']' | b'}' => (Kind::Close, start + 1),
            b'"' => (Kind::Literal, self.string_end(start + 1)),
            b'\'' => (Kind::Literal, self.quote_end(start)),
            b'0'..=b'9' => {
                let mut end = self.word_end(start);
                // `1.5`, but not `1..2` or `x.0.method()`.
                while self.byte(end) == Some(b'.')
                    && self.byte(end + 1).is_some_and(|b| b.is_ascii_digit())
                {
                    end = self.word_end(end + 1);
                }
                (Kind::Literal, end)
            }
            _ if is_word(byte) => self.word(start),
            b'&' if next == Some(b'&') && self.byte(start + 2) == Some(b'=') => {
                (Kind::Punct, start + 3)
            }
            b'&' if next == Some(b'&') => (Kind::Prefix, start + 2),
            b'!' | b'-' | b'*' | b'&' if next == Some(b'=') => (Kind::Punct, start + 2),
            b'-' if next == Some(b'>') => (Kind::Punct, start + 2),
            b'!' | b'-' | b'*' | b'&' => (Kind::Prefix, start + 1),
            _ => (Kind::Punct, start + 1),
        }
    }

    /// A name, keyword, or a literal with a prefix: `b"…"`, `r#"…"#`, `c"…"`, `b'x'`.
    fn word(&self, start: usize) -> (Kind, usize) {
        let end = self.word_end(start);
        let word = &self.bytes[start..end];
        match (word, self.byte(end)) {
            (b"b" | b"c", Some(b'"')) => (Kind::Literal, self.string_end(end + 1)),
            (b"b", Some(b'\'')) => (Kind::Literal, self.quote_end(end)),
            (b"r" | b"br" | b"cr", Some(b'"' | b'#')) => match self.raw_string_end(end) {
                Some(end) => (Kind::Literal, end),
                // `r#name`, a raw identifier.
                None => (Kind::Ident, self.word_end(end + 1)),
            },
            _ => (Kind::Ident, end),
        }
    }

    fn word_end(&self, start: usize) -> usize {
        self.bytes[start..]
            .iter()
            .position(|&b| !is_word(b))
            .map_or(self.bytes.len(), |length| start + length)
    }

    /// The end of a string whose text starts at `at`: after the closing quote.
    fn string_end(&self, mut at: usize) -> usize {
        while let Some(byte) = self.byte(at) {
            match byte {
                b'\\' => at += 2,
                b'"' => return at + 1,
                _ => at += 1,
            }
        }
        self.bytes.len()
    }

    /// The end of the raw string whose `#`s (if any) start at `at`, or `None` when no
    /// quote follows them.
    fn raw_string_end(&self, at: usize) -> Option<usize> {
        let hashes = self.bytes[at..].iter().take_while(|&&b| b == b'#').count();
        if self.byte(at + hashes) != Some(b'"') {
            return None;
        }
        let mut close = vec![b'"'];
        close.extend(std::iter::repeat_n(b'#', hashes));
        let text = at + hashes + 1;
        Some(
            self.bytes[text..]
                .windows(close.len())
                .position(|window| window == close.as_slice())
                .map_or(self.bytes.len(), |length| text + length + close.len()),
        )
    }

    /// The end of a character literal (`'x'`, `'\n'`, `'é'`) or lifetime (`'a`) that
    /// starts at the quote at `quote`.
    fn quote_end(&self, quote: usize) -> usize {
        let rest = &self.bytes[quote + 1..];
        if rest.first() == Some(&b'\\') {
            // An escape: up to the closing quote (`'\u{1F600}'` is the longest).
            return rest
                .iter()
                .skip(2)
                .position(|&b| b == b'\'')
                .map_or(self.bytes.len(), |length| quote + 1 + 2 + length + 1);
        }
        let width = rest.first().map_or(1, |&b| utf8_width(b));
        if rest.get(width) == Some(&b'\'') {
            return quote + 1 + width + 1;
        }
        self.word_end(quote + 1)
    }

    /// Where the comment or whitespace at `at` ends, if there is one.
    fn trivia_end(&self, at: usize) -> Option<usize> {
        let byte = self.byte(at)?;
        if byte.is_ascii_whitespace() {
            return Some(at + 1);
        }
        match (byte, self.byte(at + 1)) {
            (b'/', Some(b'/')) => Some(
                self.bytes[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(self.bytes.len(), |length| at + length),
            ),
            (b'/', Some(b'*')) => {
                // Block comments nest.
                let (mut depth, mut at) = (1, at + 2);
                while depth > 0 && at < self.bytes.len() {
                    match (self.bytes[at], self.byte(at + 1)) {
                        (b'/', Some(b'*')) => (depth, at) = (depth + 1, at + 2),
                        (b'*', Some(b'/')) => (depth, at) = (depth - 1, at + 2),
                        _ => at += 1,
                    }
                }
                Some(at.min(self.bytes.len()))
            }
            _ => None,
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        while let Some(end) = self.trivia_end(self.at) {
            self.at = end;
        }
        let start = self.at;
        let byte = self.byte(start)?;
        let (kind, end) = self.token(start, byte);
        self.at = end.clamp(start + 1, self.bytes.len());
        Some(Token {
            kind,
            start,
            end: self.at,
        })
    }
}

/// A byte of a name, keyword or number (any non-ASCII byte too: names may be Unicode).
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || !byte.is_ascii()
}

/// How many bytes the UTF-8 character starting with `first` takes.
fn utf8_width(first: u8) -> usize {
    match first {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_function_bodies_only() {
        let source = |a: &str, b: &str, c: &str| {
            format!(
                "fn f(x: [u8; 2]) -> u8 {{{a}}}\ntrait T {{ fn g(); fn h() {{{b}}} }}\nconst C: u8 = {{ 1 }};\nstatic F: fn(u8) = |x| {{ x }};\nfn é<const N: usize>() where [(); N]: {{{c}}}\n"
            )
        };
        let bodies = [" x[0] ", " 1 ", "\n    'a: loop { break 'a; }\n"];
        let original = source(bodies[0], bodies[1], bodies[2]);
        let blank = bodies.map(|body| body.replace(|c: char| !c.is_whitespace(), " "));
        assert_eq!(
            prepare(&original, true),
            source(&blank[0], &blank[1], &blank[2])
        );
        assert_eq!(prepare(&original, false), original);
    }

    #[test]
    fn literals_and_comments_hold_no_code() {
        let source = concat!(
            "fn a() { \"}\" }\n",
            "fn b() { r#\"\"}\"# }\n",
            "fn c() { '}' }\n",
            "fn d<'a>(x: &'a str) { b'}'; }\n",
            "// fn e() {\n",
            "/* /* fn e() { */ } */\n",
            "fn f() {}\n",
        );
        let text = prepare(source, true);
        let lines: Vec<&str> = text.lines().collect();
        // The first four bodies are blanked whole, up to their real closing brace.
        for (line, original) in lines.iter().zip(source.lines()).take(4) {
            let open = original.find(") {").unwrap() + 3;
            let blank = " ".repeat(original.len() - open - 1);
            assert_eq!(*line, format!("{}{blank}}}", &original[..open]));
        }
        assert_eq!(&lines[4..], &source.lines().collect::<Vec<_>>()[4..]);
    }

    #[test]
    fn bounds_nesting_and_prefix_operators() {
        let deep = format!("const A: u8 = {}1{};", "(".repeat(100), ")".repeat(100));
        let text = prepare(&deep, true);
        let open = MAX_NESTING + 1;
        assert!(text.starts_with(&format!("const A: u8 = {}", "(".repeat(open))));
        assert!(text.ends_with(&format!("{};", ")".repeat(open))));
        assert_eq!(text.matches('(').count(), open);
        assert!(!text.contains('1'));
        let nots = format!("const B: bool = a & {}b;", "!".repeat(100));
        let text = prepare(&nots, true);
        assert_eq!(text.matches('!').count(), MAX_PREFIX_OPERATORS - 1);
        assert!(text.starts_with("const B: bool = a & "));
        assert!(text.ends_with("!b;"));
        // Compound operators are not prefix operators.
        let compound = "x != -y; a -= *b; c && !d; f() -> &&e;";
        assert_eq!(prepare(compound, true), compound);
    }
}
