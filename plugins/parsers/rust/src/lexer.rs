//! Rust's tokens, as far as `prepare` needs them: comments are skipped, literals
//! (strings, raw strings, characters) are single tokens whatever they hold, and
//! punctuation is split as Rust splits it (`->`, `=>`, `::`, `&&`, `<=`, ...).

use kiln_plugin_sdk::text::is_word;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword.
    Ident,
    Literal,
    Lifetime,
    /// `(`, `[` or `{`.
    Open,
    /// `)`, `]` or `}`.
    Close,
    Punct,
}

#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Punctuation of more than one character, longest first.
const PUNCTS: &[&[u8]] = &[
    b"<<=", b">>=", b"...", b"..=", b"::", b"->", b"=>", b"==", b"!=", b"<=", b">=", b"&&", b"||",
    b"+=", b"-=", b"*=", b"/=", b"%=", b"^=", b"&=", b"|=", b"<<", b">>", b"..",
];

/// The tokens of `source`.
pub fn tokens(source: &str) -> Vec<Token> {
    Lexer {
        bytes: source.as_bytes(),
        at: 0,
    }
    .collect()
}

struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// Where the token starting at `start` with `byte` ends, and what it is.
    fn token(&self, start: usize, byte: u8) -> (Kind, usize) {
        match byte {
            b'(' | b'[' | b'{' => (Kind::Open, start + 1),
            b')' | b']' | b'}' => (Kind::Close, start + 1),
            b'"' => (Kind::Literal, self.string_end(start + 1)),
            b'\'' => self.quote_end(start),
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
            _ => {
                let rest = &self.bytes[start..];
                let length = PUNCTS
                    .iter()
                    .find(|punct| rest.starts_with(punct))
                    .map_or(1, |punct| punct.len());
                (Kind::Punct, start + length)
            }
        }
    }

    /// A name, keyword, or a literal with a prefix: `b"…"`, `r#"…"#`, `c"…"`, `b'x'`.
    fn word(&self, start: usize) -> (Kind, usize) {
        let end = self.word_end(start);
        let word = &self.bytes[start..end];
        match (word, self.byte(end)) {
            (b"b" | b"c", Some(b'"')) => (Kind::Literal, self.string_end(end + 1)),
            (b"b", Some(b'\'')) => (Kind::Literal, self.quote_end(end).1),
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

    /// A character literal (`'x'`, `'\n'`, `'é'`) or a lifetime (`'a`) starting at the
    /// quote at `quote`, and where it ends.
    fn quote_end(&self, quote: usize) -> (Kind, usize) {
        let rest = &self.bytes[quote + 1..];
        if rest.first() == Some(&b'\\') {
            // An escape: up to the closing quote (`'\u{1F600}'` is the longest).
            let end = rest
                .iter()
                .skip(2)
                .position(|&b| b == b'\'')
                .map_or(self.bytes.len(), |length| quote + 1 + 2 + length + 1);
            return (Kind::Literal, end);
        }
        let width = rest.first().map_or(1, |&b| utf8_width(b));
        if rest.get(width) == Some(&b'\'') {
            return (Kind::Literal, quote + 1 + width + 1);
        }
        (Kind::Lifetime, self.word_end(quote + 1))
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
    fn splits_punctuation_as_rust_does() {
        let source = "a::<'a> =>b->c..=d>>=e 'x' b'}' r#\"\"}\"# /* /* } */ */ x";
        let texts: Vec<(&str, Kind)> = tokens(source)
            .iter()
            .map(|t| (&source[t.start..t.end], t.kind))
            .collect();
        let punct = |text| (text, Kind::Punct);
        assert_eq!(
            texts,
            [
                ("a", Kind::Ident),
                punct("::"),
                punct("<"),
                ("'a", Kind::Lifetime),
                punct(">"),
                punct("=>"),
                ("b", Kind::Ident),
                punct("->"),
                ("c", Kind::Ident),
                punct("..="),
                ("d", Kind::Ident),
                punct(">>="),
                ("e", Kind::Ident),
                ("'x'", Kind::Literal),
                ("b'}'", Kind::Literal),
                ("r#\"\"}\"#", Kind::Literal),
                ("x", Kind::Ident),
            ]
        );
    }
}
