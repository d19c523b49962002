//! Offsets: parsers report positions in many coordinate systems (line + column in
//! characters, character offsets); Kiln's contract is UTF-8 byte offsets.

/// Converts line/column and character positions of one source text to byte offsets.
/// Lines end at `\n`, `\r\n` (one ending) or a bare `\r`, as in CommonMark and editors.
pub struct TextIndex<'a> {
    source: &'a str,
    /// Byte offset where each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// Byte offset of every character, only built for non-ASCII text.
    char_starts: Option<Vec<usize>>,
}

impl<'a> TextIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(line_breaks(source)).collect();
        let char_starts =
            (!source.is_ascii()).then(|| source.char_indices().map(|(at, _)| at).collect());
        Self {
            source,
            line_starts,
            char_starts,
        }
    }

    /// Byte offset of the `index`-th character (clamped to the end of the text).
    pub fn byte_of_char(&self, index: usize) -> usize {
        match &self.char_starts {
            None => index.min(self.source.len()),
            Some(starts) => starts.get(index).copied().unwrap_or(self.source.len()),
        }
    }

    /// Byte offset of `column` (counted in characters) on 1-based `line`.
    pub fn byte_of_line_column(&self, line: usize, column: usize) -> usize {
        let line = line.saturating_sub(1);
        let Some(&start) = self.line_starts.get(line) else {
            return self.source.len();
        };
        // The line with its line ending, like the text a column can point past.
        let end = self.line_starts.get(line + 1).copied();
        let line_text = &self.source[start..end.unwrap_or(self.source.len())];
        start
            + line_text
                .char_indices()
                .nth(column)
                .map_or(line_text.len(), |(at, _)| at)
    }

    /// 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// Byte offset where the line holding `offset` starts.
    pub fn line_start(&self, offset: usize) -> usize {
        self.line_starts[self.line_of(offset) - 1]
    }

    /// Byte offset of every line start, in order; the first is 0.
    pub fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }
}

/// Byte offsets just past each line ending of `text`: a `\n`, a `\r\n` (one ending,
/// so the offset after its `\n`) or a bare `\r`.
pub fn line_breaks(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(move |&(at, &byte)| {
            byte == b'\n' || (byte == b'\r' && bytes.get(at + 1) != Some(&b'\n'))
        })
        .map(|(at, _)| at + 1)
}

/// How many lines `text` has, as editors count them: each line ending ends one, and
/// a last line without an ending counts too (`""` has none).
pub fn line_count(text: &str) -> usize {
    let unterminated = !text.is_empty() && !text.ends_with(['\n', '\r']);
    line_breaks(text).count() + usize::from(unterminated)
}

/// Whether `text` is exactly one line ending: `\n`, `\r\n` or `\r`.
pub fn is_line_break(text: &str) -> bool {
    matches!(text, "\n" | "\r\n" | "\r")
}

/// The largest char boundary of `text` that is `<= at`.
pub fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Whether `byte` belongs to a name, keyword or number in most languages: an ASCII
/// letter or digit, `_`, or any non-ASCII byte (names may be Unicode, and every byte of
/// a non-ASCII character is non-ASCII). Scanners that only need to skip words use it
/// instead of decoding characters.
pub fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || !byte.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_columns_in_characters_to_bytes() {
        let source = "ab\nçé = 1\nlast";
        let index = TextIndex::new(source);
        assert_eq!(index.byte_of_line_column(1, 0), 0);
        assert_eq!(index.byte_of_line_column(2, 2), 3 + 4);
        assert_eq!(&source[index.byte_of_line_column(3, 1)..], "ast");
        assert_eq!(index.byte_of_char(4), 3 + 2);
        assert_eq!(index.line_of(0), 1);
        assert_eq!(index.line_of(3), 2);
        assert_eq!(index.line_start(9), 3);
    }

    #[test]
    fn a_bare_cr_and_a_crlf_each_end_one_line() {
        let source = "a\rb\r\nc\nd\r\re";
        assert_eq!(line_breaks(source).collect::<Vec<_>>(), [2, 5, 7, 9, 10]);
        let index = TextIndex::new(source);
        assert_eq!(index.line_starts(), [0, 2, 5, 7, 9, 10]);
        // Line of each byte: the `\r\n` pair belongs to line 2.
        let lines: Vec<usize> = (0..source.len()).map(|at| index.line_of(at)).collect();
        assert_eq!(lines, [1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6]);
        assert_eq!(line_count(source), 6);
        assert_eq!(
            (line_count(""), line_count("x\r"), line_count("x\r\ny")),
            (0, 1, 2)
        );
        assert_eq!(index.line_start(4), 2);
        assert_eq!(index.byte_of_line_column(2, 0), 2);
        assert_eq!(index.byte_of_line_column(3, 0), 5);
        assert_eq!(&source[index.byte_of_line_column(6, 0)..], "e");
        // A column past the end stops after the line's ending, not in the next line.
        assert_eq!(index.byte_of_line_column(2, 9), 5);
        // The same text with `\n` endings numbers its lines the same way.
        let lf = TextIndex::new("a\nb\nc\nd\n\ne");
        assert_eq!(lf.line_starts().len(), index.line_starts().len());
        assert!(is_line_break("\r\n") && is_line_break("\r") && !is_line_break("\n\n"));
    }
}
