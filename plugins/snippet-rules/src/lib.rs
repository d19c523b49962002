//! The rules of Kiln's snippet extractor: a CommonMark parser (pulldown-cmark) finds
//! the fenced code blocks, so the rules users know from every Markdown renderer hold —
//! backtick and tilde fences, a longer fence containing a shorter one, info strings
//! with attributes, unterminated fences running to the end of the document, fences
//! inside lists and block quotes. Compiled into the bundled plugin and, natively, into
//! the server as the fallback when no plugin can answer.

use std::borrow::Cow;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// One fenced code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FencedBlock {
    /// First word of the info string; `None` without one.
    pub language: Option<String>,
    /// The whole info string, trimmed.
    pub info: String,
    pub code: String,
    /// 1-based line of the opening fence.
    pub start_line: u32,
    /// 1-based line of the closing fence (the last line when unterminated).
    pub end_line: u32,
}

/// Fenced code blocks of `markdown`, in document order. Lines end at `\n`, `\r\n` or a
/// bare `\r`, as in CommonMark; the code's line endings are always `\n`.
pub fn extract(markdown: &str) -> Vec<FencedBlock> {
    let markdown = unify_line_endings(markdown);
    let markdown = markdown.as_ref();
    let lines = LineIndex::new(markdown);
    let mut snippets = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                open = Some((info.trim().to_owned(), range.start, String::new()));
            }
            Event::Text(text) => {
                if let Some((_, _, code)) = open.as_mut() {
                    code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((info, start, code)) = open.take() {
                    // The block's range ends after its closing fence's newline, if any.
                    let last_byte = range.end.saturating_sub(1).max(start);
                    snippets.push(FencedBlock {
                        language: info.split_whitespace().next().map(str::to_owned),
                        info,
                        code,
                        start_line: lines.line_of(start),
                        end_line: lines.line_of(last_byte),
                    });
                }
            }
            _ => {}
        }
    }
    snippets
}

/// `markdown` with every line ending (`\r\n`, bare `\r`) written as `\n`. pulldown-cmark
/// handles `\r\n` but misreads a bare `\r` (a classic Mac file came out as one
/// paragraph and a fence whose info string was the last word). Each ending stays one
/// ending, so line numbers are those of the original text.
fn unify_line_endings(markdown: &str) -> Cow<'_, str> {
    if !markdown.contains('\r') {
        return Cow::Borrowed(markdown);
    }
    Cow::Owned(markdown.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Maps byte offsets to 1-based line numbers.
struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { line_starts }
    }

    fn line_of(&self, offset: usize) -> u32 {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_backtick_and_tilde_fences_with_their_lines() {
        let md = "intro\n```rust title=\"a.rs\"\nfn a() {}\n```\ntext\n~~~\nplain\n~~~\n";
        let s = extract(md);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].language.as_deref(), Some("rust"));
        assert_eq!(s[0].info, "rust title=\"a.rs\"");
        assert_eq!(s[0].code, "fn a() {}\n");
        assert_eq!((s[0].start_line, s[0].end_line), (2, 4));
        assert_eq!(s[1].language, None);
        assert_eq!((s[1].start_line, s[1].end_line), (6, 8));
    }

    #[test]
    fn a_longer_fence_contains_a_shorter_one() {
        let md = "````markdown\n```rust\nx\n```\n````\n";
        let s = extract(md);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].code, "```rust\nx\n```\n");
    }

    #[test]
    fn an_unterminated_fence_runs_to_the_end() {
        let md = "a\n```py\nprint(1)\nprint(2)";
        let s = extract(md);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].code, "print(1)\nprint(2)");
        assert_eq!((s[0].start_line, s[0].end_line), (2, 4));
    }

    /// The three inputs of case 07 (`/work/shared/cases/07-fence-tabs-cr`) and the
    /// snippet each must give: (code, start line, end line), language `sh` or `make`.
    #[test]
    fn bare_cr_crlf_and_lf_end_lines_alike() {
        let cr = "Intro written on a classic Mac\r\r```sh\recho hi\r```\r\rDone\r";
        let s = extract(cr);
        assert_eq!(s.len(), 1, "{s:#?}");
        assert_eq!(s[0].language.as_deref(), Some("sh"));
        assert_eq!(s[0].info, "sh");
        assert_eq!(s[0].code, "echo hi\n");
        assert_eq!((s[0].start_line, s[0].end_line), (3, 5));

        let crlf = "Intro from Windows\r\n\r\n```sh\r\necho hi\r\n\r\necho bye\r\n```\r\n";
        let s = extract(crlf);
        assert_eq!(s.len(), 1, "{s:#?}");
        assert_eq!(s[0].language.as_deref(), Some("sh"));
        assert_eq!(s[0].code, "echo hi\n\necho bye\n");
        assert_eq!((s[0].start_line, s[0].end_line), (3, 7));

        // The same document with each kind of line ending, and with all three mixed.
        let lf = "a\n\n```py\nx = 1\n\ny = 2\n```\nb\n";
        let expected = extract(lf);
        assert_eq!(expected[0].code, "x = 1\n\ny = 2\n");
        assert_eq!((expected[0].start_line, expected[0].end_line), (3, 7));
        assert_eq!(extract(&lf.replace('\n', "\r")), expected);
        assert_eq!(extract(&lf.replace('\n', "\r\n")), expected);
        let mixed = "a\r\n\r```py\nx = 1\r\r\ny = 2\r```\nb\r";
        assert_eq!(extract(mixed), expected);
    }

    #[test]
    fn a_fence_indented_by_a_tab_in_a_list_item() {
        let md = "Steps:\n\n1. Add the rule:\n\n\t```make\n\tall:\n\t\tgcc -o app main.c\n\t```\n\n2. Run `make`.\n";
        let s = extract(md);
        assert_eq!(s.len(), 1, "{s:#?}");
        assert_eq!(s[0].language.as_deref(), Some("make"));
        assert_eq!(s[0].code, "all:\n\tgcc -o app main.c\n");
        assert_eq!((s[0].start_line, s[0].end_line), (5, 8));
        // The same with bare CRs.
        assert_eq!(extract(&md.replace('\n', "\r")), s);
    }

    #[test]
    fn indented_code_is_not_a_snippet() {
        assert!(extract("    indented\n").is_empty());
    }
}
