//! Cuts a parsed file into chunks for search and embedding.
//!
//! A definition (with the comments directly above it) is one chunk when it fits the
//! budget. A longer one is cut on its members' boundaries (the methods of a class),
//! recursively, and what still does not fit is cut between lines — preferably at a
//! blank line — and only a single line longer than the budget is cut at whitespace.
//! Runs of small pieces (imports, constants, one-line functions) are packed together.
//! The chunks always cover the source exactly: no gaps, no overlaps.

use crate::{
    parser::{Chunk, Symbol},
    text::{TextIndex, floor_char_boundary, is_line_break},
};

/// Budgets below this are raised to it, so that a silly request still yields
/// readable pieces.
pub const MIN_CHUNK_BYTES: usize = 64;

/// Chunks covering `source`, cut along `symbols` (parents before children, as the
/// `language-parser` contract requires; malformed symbols are ignored, not trusted).
pub fn chunk(source: &str, symbols: &[Symbol], max_bytes: usize) -> Vec<Chunk> {
    if source.is_empty() {
        return Vec::new();
    }
    let mut members = vec![Vec::new(); symbols.len()];
    let mut roots = Vec::new();
    for (i, symbol) in symbols.iter().enumerate() {
        if symbol.start >= symbol.end || symbol.end > source.len() {
            continue;
        }
        match symbol.parent {
            Some(parent) if parent < i => members[parent].push(i),
            Some(_) => {}
            None => roots.push(i),
        }
    }
    for list in &mut members {
        list.sort_by_key(|&i| symbols[i].start);
    }
    roots.sort_by_key(|&i| symbols[i].start);
    let mut chunker = Chunker {
        source,
        index: TextIndex::new(source),
        symbols,
        members,
        max: max_bytes.max(MIN_CHUNK_BYTES),
        chunks: Vec::new(),
    };
    chunker.region(0, source.len(), &roots, None);
    chunker.chunks
}

struct Chunker<'a> {
    source: &'a str,
    index: TextIndex<'a>,
    symbols: &'a [Symbol],
    members: Vec<Vec<usize>>,
    max: usize,
    chunks: Vec<Chunk>,
}

#[derive(Clone, Copy)]
struct Unit {
    start: usize,
    end: usize,
    symbol: Option<usize>,
}

impl Chunker<'_> {
    /// Chunks `lo..hi`, the body of `owner` (or the file), whose direct members are
    /// `members`.
    fn region(&mut self, lo: usize, hi: usize, members: &[usize], owner: Option<usize>) {
        let units = self.units(lo, hi, members, owner);
        let small = self.max / 4;
        let mut packed: Option<Unit> = None;
        for unit in units {
            let len = unit.end - unit.start;
            if len <= small {
                packed = Some(match packed {
                    Some(run) if unit.end - run.start <= self.max => Unit {
                        start: run.start,
                        end: unit.end,
                        symbol: if run.symbol == unit.symbol {
                            run.symbol
                        } else {
                            owner
                        },
                    },
                    other => {
                        self.emit(other);
                        unit
                    }
                });
                continue;
            }
            self.emit(packed.take());
            match unit.symbol {
                _ if len <= self.max => self.emit(Some(unit)),
                Some(symbol) if unit.symbol != owner && !self.members[symbol].is_empty() => {
                    let members = self.members[symbol].clone();
                    self.region(unit.start, unit.end, &members, Some(symbol));
                }
                symbol => self.lines(unit.start, unit.end, symbol),
            }
        }
        self.emit(packed);
    }

    /// Splits `lo..hi` at each member's first line, pulled back over the comments and
    /// attributes directly above it. Trailing text stays with the unit before it.
    fn units(&self, lo: usize, hi: usize, members: &[usize], owner: Option<usize>) -> Vec<Unit> {
        let mut starts: Vec<(usize, Option<usize>)> = vec![(lo, owner)];
        let mut previous_end = lo;
        for &member in members {
            let symbol = &self.symbols[member];
            if symbol.start < lo || symbol.start >= hi {
                continue;
            }
            // Text on the line where the previous member ends belongs to it.
            let floor = if previous_end > lo {
                self.next_line_start(previous_end - 1).min(hi)
            } else {
                lo
            };
            let mut start = self.index.line_start(symbol.start).max(lo);
            while start > floor {
                let above = self.index.line_start(start - 1);
                if above < floor || self.source[above..start].trim().is_empty() {
                    break;
                }
                start = above;
            }
            previous_end = previous_end.max(symbol.end.min(hi));
            let only = starts.len() == 1;
            let Some(last) = starts.last_mut() else {
                continue;
            };
            if start > last.0 {
                starts.push((start, Some(member)));
            } else if only && last.1 == owner {
                // The member starts the region: the leading unit is the member's.
                last.1 = Some(member);
            }
        }
        let ends = starts.iter().skip(1).map(|&(start, _)| start).chain([hi]);
        starts
            .iter()
            .zip(ends)
            .map(|(&(start, symbol), end)| Unit { start, end, symbol })
            .collect()
    }

    /// Cuts `start..end` between lines, preferring blank lines in the second half of
    /// the budget; a line longer than the budget is cut after whitespace.
    fn lines(&mut self, start: usize, end: usize, symbol: Option<usize>) {
        let mut from = start;
        while end - from > self.max {
            let limit = floor_char_boundary(self.source, from + self.max);
            let window = &self.source[from..limit];
            let cut = self
                .paragraph_cut(from, limit, self.max / 2)
                .or_else(|| self.line_cut(from, limit))
                .or_else(|| {
                    window
                        .char_indices()
                        .rfind(|(_, c)| c.is_whitespace())
                        .map(|(at, c)| at + c.len_utf8())
                })
                .filter(|&cut| cut > 0)
                .unwrap_or_else(|| {
                    // One token longer than the budget: cut at a character boundary.
                    window
                        .len()
                        .max(self.source[from..].chars().next().map_or(1, char::len_utf8))
                });
            self.emit(Some(Unit {
                start: from,
                end: from + cut,
                symbol,
            }));
            from += cut;
        }
        if from < end {
            self.emit(Some(Unit {
                start: from,
                end,
                symbol,
            }));
        }
    }

    /// The first line start after `offset` (the end of the source on the last line).
    fn next_line_start(&self, offset: usize) -> usize {
        let starts = self.index.line_starts();
        let next = starts.partition_point(|&start| start <= offset);
        starts.get(next).copied().unwrap_or(self.source.len())
    }

    /// The last line start in `from + 1..=limit`, relative to `from`.
    fn line_cut(&self, from: usize, limit: usize) -> Option<usize> {
        let start = self.index.line_start(limit);
        (start > from).then(|| start - from)
    }

    /// The last line start in `from + 1..=limit` that follows a blank line (one holding
    /// only its line ending), relative to `from`, if it is at least `min` bytes in.
    fn paragraph_cut(&self, from: usize, limit: usize, min: usize) -> Option<usize> {
        let starts = self.index.line_starts();
        let first = starts.partition_point(|&start| start <= from);
        let last = starts.partition_point(|&start| start <= limit);
        // The blank line and the line ending before it both lie in the window.
        (first + 1..last)
            .rev()
            .find(|&i| is_line_break(&self.source[starts[i - 1]..starts[i]]))
            .map(|i| starts[i] - from)
            .filter(|&cut| cut >= min)
    }

    fn emit(&mut self, unit: Option<Unit>) {
        if let Some(unit) = unit.filter(|unit| unit.end > unit.start) {
            self.chunks.push(Chunk {
                start: unit.start,
                end: unit.end,
                symbol: unit.symbol,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::SymbolKind;

    fn symbol(source: &str, text: &str, kind: SymbolKind, parent: Option<usize>) -> Symbol {
        let start = source.find(text).unwrap();
        Symbol {
            kind,
            name: text.to_owned(),
            start,
            end: start + text.len(),
            parent,
        }
    }

    fn assert_covers(source: &str, chunks: &[Chunk], max: usize) {
        let mut at = 0;
        for chunk in chunks {
            assert_eq!(chunk.start, at, "gap or overlap before {chunk:?}");
            assert!(chunk.end > chunk.start);
            assert!(chunk.end - chunk.start <= max, "{chunk:?} over budget");
            assert!(source.is_char_boundary(chunk.end));
            at = chunk.end;
        }
        assert_eq!(at, source.len());
    }

    #[test]
    fn a_definition_that_fits_is_one_chunk_with_its_comment() {
        let a = format!(
            "/// Adds.\nfn add() {{\n{}}}\n",
            "    let x = 1;\n".repeat(4)
        );
        let b = format!(
            "\n// Subtracts.\nfn sub() {{\n{}}}\n",
            "    let y = 2;\n".repeat(4)
        );
        let source = format!("use std::fmt;\n\n{a}{b}");
        let symbols = vec![
            symbol(&source, "fn add() {", SymbolKind::Function, None),
            symbol(&source, "fn sub() {", SymbolKind::Function, None),
        ];
        let chunks = chunk(&source, &symbols, 120);
        assert_covers(&source, &chunks, 120);
        let texts: Vec<&str> = chunks.iter().map(|c| &source[c.start..c.end]).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("// Subtracts.\nfn sub()")),
            "{texts:#?}"
        );
        assert!(
            texts.iter().any(|t| t.contains("/// Adds.\nfn add()")),
            "{texts:#?}"
        );
    }

    #[test]
    fn an_oversized_class_is_cut_between_its_methods() {
        let method = |name: &str| format!("    def {name}(self):\n        return {name}\n\n");
        let source = format!(
            "class Big:\n{}{}{}",
            method("alpha"),
            method("beta"),
            method("gamma")
        );
        let mut symbols = vec![Symbol {
            kind: SymbolKind::Class,
            name: "Big".into(),
            start: 0,
            end: source.len(),
            parent: None,
        }];
        for name in ["def alpha", "def beta", "def gamma"] {
            symbols.push(symbol(&source, name, SymbolKind::Method, Some(0)));
        }
        let chunks = chunk(&source, &symbols, 64);
        assert_covers(&source, &chunks, 64);
        for chunk in &chunks[1..] {
            let text = &source[chunk.start..chunk.end];
            assert!(text.trim_start().starts_with("def "), "{text:?}");
        }
    }

    #[test]
    fn a_long_line_is_cut_at_whitespace_and_unicode_is_respected() {
        let source = "é".repeat(10) + " " + &"word ".repeat(60);
        let chunks = chunk(&source, &[], 64);
        assert_covers(&source, &chunks, 64);
        for chunk in &chunks[..chunks.len() - 1] {
            assert!(source[..chunk.end].ends_with(' '), "cut inside a word");
        }
    }

    #[test]
    fn a_member_ending_in_a_multibyte_char_is_fine() {
        let source = "def a(): return é\ndef b(): pass\n";
        let symbols = vec![
            symbol(source, "def a(): return é", SymbolKind::Function, None),
            symbol(source, "def b(): pass", SymbolKind::Function, None),
        ];
        let chunks = chunk(source, &symbols, 64);
        assert_covers(source, &chunks, 64);
    }

    #[test]
    fn bare_cr_and_crlf_cut_like_lf() {
        // Paragraphs of lines, with a member that must start its own chunk.
        let paragraph = |word: &str| format!("{word} one\n{word} two\n{word} three\n\n");
        let lf: String = ["alpha", "beta", "gamma", "delta", "omega"]
            .map(paragraph)
            .concat();
        let symbols = |source: &str| vec![symbol(source, "gamma one", SymbolKind::Other, None)];
        let texts = |source: &str| -> Vec<String> {
            let chunks = chunk(source, &symbols(source), 64);
            assert_covers(source, &chunks, 64);
            chunks
                .iter()
                .map(|c| {
                    source[c.start..c.end]
                        .replace("\r\n", "\n")
                        .replace('\r', "\n")
                })
                .collect()
        };
        let expected = texts(&lf);
        assert!(expected.len() > 2, "{expected:#?}");
        // Every chunk ends at a blank line or a line end, never inside a line.
        assert!(expected.iter().all(|t| t.ends_with('\n')), "{expected:#?}");
        // Same byte lengths, so the same cuts.
        assert_eq!(texts(&lf.replace('\n', "\r")), expected);
        // Longer lines pack differently, but still cut after whole `\r\n` endings.
        let crlf = lf.replace('\n', "\r\n");
        let chunks = chunk(&crlf, &symbols(&crlf), 64);
        assert_covers(&crlf, &chunks, 64);
        assert!(chunks.iter().all(|c| crlf[..c.end].ends_with("\r\n\r\n")));
        assert!(
            chunks
                .iter()
                .any(|c| crlf[c.start..].starts_with("gamma one"))
        );
    }

    #[test]
    fn malformed_symbols_are_ignored() {
        let source = "a\nb\nc\n";
        let symbols = vec![
            Symbol {
                kind: SymbolKind::Other,
                name: "x".into(),
                start: 4,
                end: 99,
                parent: None,
            },
            Symbol {
                kind: SymbolKind::Other,
                name: "y".into(),
                start: 2,
                end: 3,
                parent: Some(7),
            },
        ];
        let chunks = chunk(source, &symbols, 64);
        assert_covers(source, &chunks, 64);
    }
}
