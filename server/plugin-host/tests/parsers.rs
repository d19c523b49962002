//! The bundled language parsers, sandboxed, on real-world source: the same answer as
//! the parser compiled natively, accepted by the host's checks, with the symbols a
//! reader of those files would look for.

mod support;

use kiln_plugin_host::{LanguageParserPlugin, PluginEngine, PluginLimits, check_parsed};
use kiln_plugin_sdk::parser::LanguageParser;
use kiln_types::{ParsedFile, SymbolKind};
use support::wasm;

const BUDGET: u32 = 1500;

fn corpus(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/parsers/corpus")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(engine: &PluginEngine, file: &str) -> LanguageParserPlugin {
    LanguageParserPlugin::load(engine, file, &wasm(file), PluginLimits::default()).unwrap()
}

/// Parses `file` in the sandbox and natively with `P`; both must agree.
fn parse_both<P: LanguageParser>(
    engine: &PluginEngine,
    plugin: &str,
    file: &str,
) -> (String, ParsedFile) {
    let source = corpus(file);
    let plugin = load(engine, plugin);
    let sandboxed = plugin.parse(file, &source, BUDGET).unwrap();
    let native = P::parse(file, &source, BUDGET as usize).unwrap();
    let native = check_parsed(plugin.id(), &source, &native, BUDGET).unwrap();
    assert_eq!(
        sandboxed, native,
        "sandboxed and native answers differ for {file}"
    );
    (source, sandboxed)
}

fn symbol<'a>(parsed: &'a ParsedFile, kind: SymbolKind, name: &str) -> &'a kiln_types::CodeSymbol {
    parsed
        .symbols
        .iter()
        .find(|s| s.kind == kind && s.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no {kind:?} {name} in {:?}",
                parsed.symbols.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
}

fn line_of(source: &str, needle: &str) -> u32 {
    let at = source
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in source"));
    u32::try_from(source[..at].lines().count() + 1).unwrap()
}

#[test]
fn rust_symbols_from_anyhow_with_their_lines() {
    let engine = PluginEngine::new().unwrap();
    let (source, parsed) = parse_both::<kiln_parser_rust::RustParser>(
        &engine,
        "kiln_parser_rust.wasm",
        "anyhow_error.rs",
    );
    assert_eq!(parsed.language, "rust");
    // A method of an impl block, spanning its signature line.
    let construct = symbol(&parsed, SymbolKind::Method, "construct");
    let parent = &parsed.symbols[construct.parent.unwrap() as usize];
    assert_eq!(parent.kind, SymbolKind::Impl);
    let line = line_of(&source, "unsafe fn construct<E>(");
    assert!(construct.span.start_line <= line && line < construct.span.end_line);
    let line = line_of(&source, "pub(crate) struct ErrorImpl");
    let error_impl = symbol(&parsed, SymbolKind::Struct, "ErrorImpl");
    assert!(error_impl.span.start_line <= line && line <= error_impl.span.end_line);
}

#[test]
fn python_markdown_and_generic_agree_with_their_native_builds() {
    let engine = PluginEngine::new().unwrap();
    let (_, python) = parse_both::<kiln_parser_python::PythonParser>(
        &engine,
        "kiln_parser_python.wasm",
        "contextlib.py",
    );
    symbol(&python, SymbolKind::Function, "contextmanager");
    let class = python
        .symbols
        .iter()
        .position(|s| s.kind == SymbolKind::Class && s.name == "ExitStack")
        .unwrap();
    assert!(
        python
            .symbols
            .iter()
            .any(|s| s.kind == SymbolKind::Method && s.parent == Some(class as u32))
    );
    let (_, markdown) = parse_both::<kiln_parser_markdown::MarkdownParser>(
        &engine,
        "kiln_parser_markdown.wasm",
        "serde_README.md",
    );
    assert!(
        markdown
            .symbols
            .iter()
            .any(|s| s.kind == SymbolKind::Heading && s.parent.is_some())
    );
    let (_, generic) = parse_both::<kiln_parser_generic::GenericParser>(
        &engine,
        "kiln_parser_generic.wasm",
        "sort.go",
    );
    // The generic parser names the languages of the bundled parsers too, so a file
    // is labelled the same whichever parser reads it.
    assert_eq!(generic.language, "go");
    assert!(generic.chunks.len() > 3);
}

#[test]
fn javascript_typescript_and_go_agree_with_their_native_builds() {
    let engine = PluginEngine::new().unwrap();
    let (_, go) = parse_both::<kiln_parser_go::GoParser>(&engine, "kiln_parser_go.wasm", "sort.go");
    assert_eq!(go.language, "go");
    symbol(&go, SymbolKind::Function, "Sort");
    symbol(&go, SymbolKind::Interface, "Interface");
    let (_, ts) = parse_both::<kiln_parser_javascript::JavaScriptParser>(
        &engine,
        "kiln_parser_javascript.wasm",
        "rxjs_TestScheduler.ts",
    );
    assert_eq!(ts.language, "typescript");
    symbol(&ts, SymbolKind::Class, "TestScheduler");
    symbol(&ts, SymbolKind::Interface, "RunHelpers");
    let (_, js) = parse_both::<kiln_parser_javascript::JavaScriptParser>(
        &engine,
        "kiln_parser_javascript.wasm",
        "playwright_output.js",
    );
    assert_eq!(js.language, "javascript");
    symbol(&js, SymbolKind::Class, "TextOutput");
}

#[test]
fn chunks_cover_the_file_and_lines_match_bytes() {
    let engine = PluginEngine::new().unwrap();
    let (source, parsed) = parse_both::<kiln_parser_rust::RustParser>(
        &engine,
        "kiln_parser_rust.wasm",
        "http_method.rs",
    );
    let mut at = 0;
    for chunk in &parsed.chunks {
        assert_eq!(chunk.span.start_byte, at);
        let start = chunk.span.start_byte as usize;
        assert_eq!(
            chunk.span.start_line as usize,
            source[..start].matches('\n').count() + 1
        );
        at = chunk.span.end_byte;
    }
    assert_eq!(at as usize, source.len());
}

#[test]
fn an_answer_that_breaks_the_contract_is_refused() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(&engine, "fixtures/kiln_fixture_bad_parser.wasm");
    let error = plugin.parse("x.bad", "fn main() {}\n", BUDGET).unwrap_err();
    assert_eq!(error.code(), "invalid_output", "{error}");
    assert_eq!(plugin.stats().failures.get("invalid_output"), Some(&1));
}

#[test]
fn a_syntax_error_is_reported_not_a_crash() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(&engine, "kiln_parser_rust.wasm");
    let error = plugin
        .parse("broken.rs", "fn broken( {\n", BUDGET)
        .unwrap_err();
    assert_eq!(error.code(), "reported_error", "{error}");
    assert!(error.to_string().contains("line 1"), "{error}");
}

#[test]
fn a_parser_says_what_it_claims_when_loaded() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(&engine, "kiln_parser_python.wasm");
    assert!(plugin.info().extensions.contains(&"py".to_owned()));
    assert_eq!(plugin.stats().calls, 1, "info() is one accounted call");
}
