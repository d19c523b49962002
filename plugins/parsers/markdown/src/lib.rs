//! Kiln's Markdown parser: headings as nested symbols, sections as chunks (pulldown-cmark).
//!
//! Every ATX (`## Title`) and Setext (`Title` over `===`) heading is a `Heading` symbol
//! named by its plain text (markup and links stripped, image badges dropped). Its span
//! is the whole section: from the heading to just before the next heading of the same
//! or a higher level, or to the end of the file; its parent is the nearest enclosing
//! higher-level heading. The SDK chunker therefore keeps a section that fits in one
//! chunk and cuts a longer one at its subsections. Any text is valid Markdown, so
//! parsing never fails.

use std::borrow::Cow;

use kiln_plugin_sdk::parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

pub struct MarkdownParser;

impl LanguageParser for MarkdownParser {
    fn info() -> ParserInfo {
        ParserInfo::new(&["markdown"], &["md", "markdown", "mdown"])
    }

    fn outline(_path: &str, source: &str) -> Result<Outline, String> {
        Ok(Outline::new("markdown", sections(source)))
    }
}

/// A heading as found, before its section's end is known.
struct Heading {
    level: HeadingLevel,
    name: String,
    start: usize,
}

/// The headings of `source` as nested sections, in source order.
fn sections(source: &str) -> Vec<Symbol> {
    let mut symbols: Vec<Symbol> = Vec::new();
    // The sections still open, outermost first: a symbol index and its level.
    let mut open: Vec<(usize, HeadingLevel)> = Vec::new();
    for heading in headings(source) {
        // A heading closes every open section of its own or a deeper level.
        while let Some(&(index, level)) = open.last() {
            if level < heading.level {
                break;
            }
            symbols[index].end = heading.start;
            open.pop();
        }
        symbols.push(Symbol {
            kind: SymbolKind::Heading,
            name: heading.name,
            start: heading.start,
            end: source.len(),
            parent: open.last().map(|&(index, _)| index),
        });
        open.push((symbols.len() - 1, heading.level));
    }
    symbols
}

/// `source` with each bare CR made a LF. CommonMark ends a line at a LF, a CRLF or a
/// bare CR (classic Mac files), but pulldown-cmark only at the first two: it would read
/// such a file as one line. One byte for one, so offsets into it are offsets into
/// `source`.
fn lf_endings(source: &str) -> Cow<'_, str> {
    let bytes = source.as_bytes();
    let bare = |at: usize| bytes[at] == b'\r' && bytes.get(at + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(bare) {
        return Cow::Borrowed(source);
    }
    let lf: Vec<u8> = (0..bytes.len())
        .map(|at| if bare(at) { b'\n' } else { bytes[at] })
        .collect();
    // Only an ASCII byte was replaced, by another: still UTF-8.
    Cow::Owned(String::from_utf8(lf).unwrap_or_else(|_| source.to_owned()))
}

/// The document's own headings with their plain text.
fn headings(source: &str) -> Vec<Heading> {
    let source = &*lf_endings(source);
    // Metadata blocks keep YAML/TOML front matter from being read as a Setext heading
    // (`title: x` over `---`); heading attributes keep `{#id}` out of the name. Other
    // extensions only change how text inside blocks is read, so they stay off.
    let options = Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES;
    let mut headings = Vec::new();
    let mut current: Option<Heading> = None;
    // How many tags are open, to tell a document heading from one inside a block quote
    // or a list item, which does not start a section of the document.
    let mut depth = 0usize;
    // Image alt text (badges in a title) is not part of the heading's name.
    let mut in_image = 0usize;
    for (event, range) in Parser::new_ext(source, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) if depth == 0 => {
                current = Some(Heading {
                    level,
                    name: String::new(),
                    start: line_start(source, range.start),
                });
                depth += 1;
            }
            Event::Start(Tag::Image { .. }) => {
                in_image += 1;
                depth += 1;
            }
            Event::Start(_) => depth += 1,
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                match end {
                    TagEnd::Image => in_image = in_image.saturating_sub(1),
                    TagEnd::Heading(_) if depth == 0 => {
                        if let Some(heading) = current.take() {
                            headings.push(heading);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(text) | Event::Code(text) | Event::InlineMath(text) => {
                if let Some(heading) = current.as_mut().filter(|_| in_image == 0) {
                    heading.name.push_str(&text);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(heading) = current.as_mut() {
                    heading.name.push(' ');
                }
            }
            _ => {}
        }
    }
    for heading in &mut headings {
        heading.name = heading
            .name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
    }
    // A heading with no text (`#` alone) names nothing a reader could search for.
    headings.retain(|heading| !heading.name.is_empty());
    headings
}

/// The start of the line holding `offset` when only indentation precedes it, so that
/// sections are whole lines.
fn line_start(source: &str, offset: usize) -> usize {
    let line = source[..offset].rfind('\n').map_or(0, |at| at + 1);
    if source[line..offset].trim().is_empty() {
        line
    } else {
        offset
    }
}

kiln_plugin_sdk::export_language_parser!(MarkdownParser);

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!("../../corpus/serde_README.md");
    const BUDGET: usize = 1500;

    fn outline(source: &str) -> Vec<Symbol> {
        MarkdownParser::outline("README.md", source)
            .unwrap()
            .symbols
    }

    /// Name, parent's name and text of every heading.
    fn tree<'a>(
        source: &'a str,
        symbols: &'a [Symbol],
    ) -> Vec<(&'a str, Option<&'a str>, &'a str)> {
        symbols
            .iter()
            .map(|s| {
                assert_eq!(s.kind, SymbolKind::Heading);
                let parent = s.parent.map(|p| symbols[p].name.as_str());
                (s.name.as_str(), parent, &source[s.start..s.end])
            })
            .collect()
    }

    /// The contract every answer must keep.
    fn assert_well_formed(source: &str, budget: usize) {
        let parsed = MarkdownParser::parse("doc.md", source, budget).unwrap();
        assert_eq!(parsed.language, "markdown");
        parsed.check(source, budget).unwrap();
        assert!(parsed.symbols.iter().all(|s| s.start < s.end));
    }

    #[test]
    fn serde_readme_is_covered_by_chunks_and_symbols_are_well_formed() {
        assert_well_formed(README, BUDGET);
        assert_well_formed(README, 200);
    }

    #[test]
    fn serde_readme_headings_nest_and_span_their_sections() {
        let symbols = outline(README);
        let tree = tree(README, &symbols);
        let names: Vec<(&str, Option<&str>)> = tree.iter().map(|&(n, p, _)| (n, p)).collect();
        // The `# The core APIs ...` lines inside a fenced code block are not headings,
        // and the badges in the title are not part of its name.
        assert_eq!(
            names,
            [
                ("Serde", None),
                ("Serde in action", Some("Serde")),
                ("Getting help", Some("Serde")),
                ("License", Some("Getting help")),
            ]
        );
        assert_eq!(tree[0].2, README, "the title's section is the whole file");
        assert!(tree[1].2.starts_with("## Serde in action\n"));
        assert!(tree[1].2.ends_with("```\n\n"), "{:?}", tree[1].2);
        assert!(tree[2].2.starts_with("## Getting help\n") && README.ends_with(tree[2].2));
        assert!(tree[3].2.starts_with("#### License\n") && README.ends_with(tree[3].2));
    }

    #[test]
    fn an_oversized_section_is_cut_at_its_subsections() {
        let parsed = MarkdownParser::parse("README.md", README, BUDGET).unwrap();
        let starts: Vec<&str> = parsed
            .chunks
            .iter()
            .map(|c| README[c.start..c.end].lines().next().unwrap_or(""))
            .collect();
        assert!(starts.contains(&"## Serde in action"), "{starts:#?}");
        assert!(starts.contains(&"## Getting help"), "{starts:#?}");
        let help = parsed.symbols.iter().position(|s| s.name == "Getting help");
        let chunk = parsed
            .chunks
            .iter()
            .find(|c| README[c.start..].starts_with("## Getting help"));
        assert_eq!(chunk.unwrap().symbol, help);
    }

    #[test]
    fn setext_and_atx_headings_close_sections_by_level() {
        let source = "\
Intro text.

Guide
=====

Install
-------
Run it.

### Linux ###
apt install.

# Reference {#ref}
## *Config* `file`
Done.
";
        let symbols = outline(source);
        assert_eq!(
            tree(source, &symbols),
            [
                (
                    "Guide",
                    None,
                    "Guide\n=====\n\nInstall\n-------\nRun it.\n\n### Linux ###\napt install.\n\n"
                ),
                (
                    "Install",
                    Some("Guide"),
                    "Install\n-------\nRun it.\n\n### Linux ###\napt install.\n\n"
                ),
                ("Linux", Some("Install"), "### Linux ###\napt install.\n\n"),
                (
                    "Reference",
                    None,
                    "# Reference {#ref}\n## *Config* `file`\nDone.\n"
                ),
                (
                    "Config file",
                    Some("Reference"),
                    "## *Config* `file`\nDone.\n"
                ),
            ]
        );
        assert_well_formed(source, 64);
    }

    #[test]
    fn front_matter_quotes_code_and_empty_headings_are_not_sections() {
        let source = "---\ntitle: Notes\n---\n\n> # Quoted\n\n- # In a list\n\n```\n# comment\n```\n\n#\n\n  ## Indented\ntext\n";
        let symbols = outline(source);
        assert_eq!(
            tree(source, &symbols),
            [("Indented", None, "  ## Indented\ntext\n")]
        );
        assert_well_formed(source, 64);
    }

    #[test]
    fn non_ascii_headings_have_spans_on_char_boundaries() {
        let source = "# Café ☕\n\nÜber 🦀.\n\n## Grüße 👋\nnaïve text é\n\n## 名前\n終わり";
        let symbols = outline(source);
        assert_eq!(
            tree(source, &symbols),
            [
                ("Café ☕", None, source),
                ("Grüße 👋", Some("Café ☕"), "## Grüße 👋\nnaïve text é\n\n"),
                ("名前", Some("Café ☕"), "## 名前\n終わり"),
            ]
        );
        assert_well_formed(source, 64);
    }

    #[test]
    fn text_without_headings_still_chunks_and_never_fails() {
        assert_well_formed("just a paragraph\nwith two lines\n", 64);
        assert_well_formed(&"word ".repeat(500), 100);
        let parsed = MarkdownParser::parse("empty.md", "", 100).unwrap();
        assert!(parsed.symbols.is_empty() && parsed.chunks.is_empty());
        assert_eq!(
            MarkdownParser::info().extensions,
            ["md", "markdown", "mdown"]
        );
    }

    /// CommonMark ends a line at a LF, a CRLF or a bare CR (classic Mac files): each
    /// heading is one line, and spans are offsets into the text as given.
    #[test]
    fn lf_crlf_and_bare_cr_each_end_a_line() {
        let body = "# Title\n\nSome text\n\n## Section two\n\nmore\n";
        for ending in ["\n", "\r\n", "\r"] {
            let source = body.replace('\n', ending);
            let symbols = outline(&source);
            let section = format!("## Section two{ending}{ending}more{ending}");
            assert_eq!(
                tree(&source, &symbols),
                [
                    ("Title", None, source.as_str()),
                    ("Section two", Some("Title"), section.as_str()),
                ],
                "{ending:?}"
            );
            assert_well_formed(&source, 64);
        }
        let setext = "Title\r=====\r\rSub\r---\rtext\r";
        let symbols = outline(setext);
        assert_eq!(
            tree(setext, &symbols),
            [
                ("Title", None, setext),
                ("Sub", Some("Title"), "Sub\r---\rtext\r"),
            ]
        );
        // Sections long enough to be cut into chunks.
        let notes: String = (0..10)
            .map(|j| format!("## Part {j}\r\rtext {j} {}\r\r", "word ".repeat(30)))
            .collect();
        let notes = format!("# Notes\r\r{notes}");
        let symbols = outline(&notes);
        assert_eq!(symbols.len(), 11);
        assert!(symbols[1..].iter().all(|s| s.parent == Some(0)));
        assert!(notes[symbols[10].start..].starts_with("## Part 9\r"));
        assert_eq!(symbols[10].end, notes.len());
        assert_well_formed(&notes, 200);
    }

    /// A heading's name is one line of bounded length, whatever its text.
    #[test]
    fn long_multi_line_headings_have_short_one_line_names() {
        let source = format!("{}\r\n---\n", "a long\rline ".repeat(100));
        let parsed = MarkdownParser::parse("doc.md", &source, 256).unwrap();
        let name = &parsed.symbols[0].name;
        assert!(name.starts_with("a long line a long line"), "{name}");
        parsed.check(&source, 256).unwrap();
    }
}
