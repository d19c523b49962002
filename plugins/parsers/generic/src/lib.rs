//! The generic parser: any text file. The language comes from the file name; chunks
//! follow top-level blocks (a line starting at column 0 after a blank line or a
//! closing bracket), so even unknown languages are cut between definitions rather
//! than through them. It reports no symbols. Kiln also runs it natively as the
//! built-in parser of last resort.

use kiln_plugin_sdk::{
    chunking,
    parser::{LanguageParser, Outline, Parsed, ParserInfo, Symbol, SymbolKind},
    text,
};

pub struct GenericParser;

/// Extensions (lower-case, no dot) and the language they mean.
/// The languages the bundled parsers understand are named here too, so a file is
/// labelled the same whichever parser ends up reading it.
const EXTENSIONS: &[(&str, &str)] = &[
    ("rs", "rust"),
    ("py", "python"),
    ("pyi", "python"),
    ("js", "javascript"),
    ("mjs", "javascript"),
    ("cjs", "javascript"),
    ("jsx", "javascript"),
    ("ts", "typescript"),
    ("mts", "typescript"),
    ("cts", "typescript"),
    ("tsx", "typescript"),
    ("go", "go"),
    ("md", "markdown"),
    ("markdown", "markdown"),
    ("mdown", "markdown"),
    ("c", "c"),
    ("h", "c"),
    ("cc", "cpp"),
    ("cpp", "cpp"),
    ("cxx", "cpp"),
    ("hh", "cpp"),
    ("hpp", "cpp"),
    ("cs", "csharp"),
    ("java", "java"),
    ("kt", "kotlin"),
    ("kts", "kotlin"),
    ("scala", "scala"),
    ("swift", "swift"),
    ("m", "objective-c"),
    ("rb", "ruby"),
    ("php", "php"),
    ("pl", "perl"),
    ("lua", "lua"),
    ("r", "r"),
    ("dart", "dart"),
    ("ex", "elixir"),
    ("exs", "elixir"),
    ("erl", "erlang"),
    ("hs", "haskell"),
    ("ml", "ocaml"),
    ("clj", "clojure"),
    ("zig", "zig"),
    ("nim", "nim"),
    ("sh", "shell"),
    ("bash", "shell"),
    ("zsh", "shell"),
    ("ps1", "powershell"),
    ("sql", "sql"),
    ("html", "html"),
    ("htm", "html"),
    ("css", "css"),
    ("scss", "scss"),
    ("vue", "vue"),
    ("svelte", "svelte"),
    ("json", "json"),
    ("yaml", "yaml"),
    ("yml", "yaml"),
    ("toml", "toml"),
    ("xml", "xml"),
    ("proto", "protobuf"),
    ("graphql", "graphql"),
    ("tf", "terraform"),
    ("txt", "text"),
];

/// Whole file names and their language.
const FILENAMES: &[(&str, &str)] = &[
    ("Makefile", "makefile"),
    ("GNUmakefile", "makefile"),
    ("Dockerfile", "dockerfile"),
    ("CMakeLists.txt", "cmake"),
    ("Gemfile", "ruby"),
    ("Rakefile", "ruby"),
    ("Justfile", "just"),
];

impl GenericParser {
    /// The language of `path` by name, `text` when unknown.
    pub fn language(path: &str) -> &'static str {
        let name = path.rsplit('/').next().unwrap_or(path);
        if let Some((_, language)) = FILENAMES.iter().find(|(file, _)| *file == name) {
            return language;
        }
        let extension = name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        EXTENSIONS
            .iter()
            .find(|(ext, _)| *ext == extension)
            .map_or("text", |(_, language)| language)
    }
}

impl LanguageParser for GenericParser {
    fn info() -> ParserInfo {
        let mut languages: Vec<&str> = EXTENSIONS.iter().map(|(_, l)| *l).collect();
        languages.sort_unstable();
        languages.dedup();
        ParserInfo::new(&languages, &["*"])
            .with_filenames(&FILENAMES.iter().map(|(f, _)| *f).collect::<Vec<_>>())
    }

    fn outline(path: &str, _source: &str) -> Result<Outline, String> {
        Ok(Outline::new(Self::language(path), Vec::new()))
    }

    fn parse(path: &str, source: &str, max_chunk_bytes: usize) -> Result<Parsed, String> {
        let chunks = chunking::chunk(source, &blocks(source), max_chunk_bytes)
            .into_iter()
            .map(|chunk| kiln_plugin_sdk::parser::Chunk {
                symbol: None,
                ..chunk
            })
            .collect();
        Ok(Parsed {
            language: Self::language(path).to_owned(),
            symbols: Vec::new(),
            chunks,
        })
    }
}

/// Top-level blocks as anonymous symbols, for the chunker to cut along.
fn blocks(source: &str) -> Vec<Symbol> {
    let mut blocks: Vec<Symbol> = Vec::new();
    let mut offset = 0;
    let mut previous: Option<&str> = None;
    // Lines end at a LF, a CRLF or a bare CR (classic Mac files).
    let ends = text::line_breaks(source).chain(std::iter::once(source.len()));
    let lines = ends.scan(0, |start, end| {
        let line = &source[*start..end];
        *start = end;
        Some(line)
    });
    for line in lines.filter(|line| !line.is_empty()) {
        let starts_block = !line.trim().is_empty()
            && !line.starts_with(char::is_whitespace)
            && previous.is_none_or(|above| {
                let above = above.trim_end();
                above.is_empty()
                    || (!above.starts_with(char::is_whitespace)
                        && matches!(
                            above,
                            "}" | "};" | "end" | "]" | ")" | "fi" | "done" | "esac"
                        ))
            });
        if starts_block {
            if let Some(last) = blocks.last_mut() {
                last.end = offset;
            }
            blocks.push(Symbol {
                kind: SymbolKind::Other,
                name: String::new(),
                start: offset,
                end: source.len(),
                parent: None,
            });
        }
        offset += line.len();
        previous = Some(line);
    }
    blocks
}

kiln_plugin_sdk::export_language_parser!(GenericParser);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_languages_by_file_name_and_extension() {
        assert_eq!(GenericParser::language("src/Main.JAVA"), "java");
        assert_eq!(GenericParser::language("docker/Dockerfile"), "dockerfile");
        assert_eq!(GenericParser::language("notes"), "text");
    }

    /// With any line ending: LF, CRLF or a bare CR (classic Mac files).
    #[test]
    fn cuts_between_top_level_blocks() {
        let function = |name: &str| {
            format!(
                "int {name}(void) {{\n{}    return 0;\n}}\n\n",
                "    work();\n".repeat(8)
            )
        };
        let lf = format!(
            "#include <stdio.h>\n\n{}{}",
            function("one"),
            function("two")
        );
        for ending in ["\n", "\r\n", "\r"] {
            let source = lf.replace('\n', ending);
            let starts: Vec<&str> = blocks(&source)
                .iter()
                .map(|block| &source[block.start..block.start + 7])
                .collect();
            assert_eq!(starts, ["#includ", "int one", "int two"], "{ending:?}");
            let parsed = GenericParser::parse("main.c", &source, 150).unwrap();
            assert_eq!(parsed.language, "c");
            parsed.check(&source, 150).unwrap();
            let texts: Vec<&str> = parsed
                .chunks
                .iter()
                .map(|c| &source[c.start..c.end])
                .collect();
            assert!(
                texts.iter().any(|t| t.starts_with("int two(void)")),
                "{ending:?}: {texts:#?}"
            );
        }
    }
}
