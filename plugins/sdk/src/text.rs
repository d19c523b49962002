//! Offsets: parsers report positions in many coordinate systems (line + column in
//! characters, character offsets); Kiln's contract is UTF-8 byte offsets.

/// Converts line/column and character positions of one source text to byte offsets.
pub struct TextIndex<'a> {
    source: &'a str,
    /// Byte offset where each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// Byte offset of every character, only built for non-ASCII text.
    char_starts: Option<Vec<usize>>,
}

impl<'a> TextIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
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
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.source.len();
        };
        let rest = &self.source[start..];
        let line_text = rest.split_inclusive('\n').next().unwrap_or("");
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
}

/// The largest char boundary of `text` that is `<= at`.
pub fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
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
}
