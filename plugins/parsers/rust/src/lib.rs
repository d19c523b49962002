//! Kiln's Rust parser: symbols and chunks from syn's syntax tree.
//!
//! Reports functions, structs, enums, unions, traits (with their methods, constants
//! and types), impl blocks (named `impl Trait for Type`, with their members), inline
//! modules (recursively), constants, statics, type aliases and macros. Spans cover
//! doc comments and attributes, since syn keeps them on the item.

use kiln_plugin_sdk::parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind};
use proc_macro2::Span;
use syn::{ImplItem, Item, TraitItem, spanned::Spanned};

pub struct RustParser;

impl LanguageParser for RustParser {
    fn info() -> ParserInfo {
        ParserInfo::new(&["rust"], &["rs"])
    }

    fn outline(_path: &str, source: &str) -> Result<Outline, String> {
        let text = blank_prelude(source);
        let parsed = syn::parse_str::<syn::File>(&text);
        let outline = match parsed {
            Ok(file) => {
                let mut collector = Collector {
                    source,
                    symbols: Vec::new(),
                };
                collector.items(&file.items, None);
                Ok(Outline::new("rust", collector.symbols))
            }
            Err(error) => {
                let at = error.span().start();
                Err(format!(
                    "line {}, column {}: {error}",
                    at.line,
                    at.column + 1
                ))
            }
        };
        // Spans live in a thread-local source map; free it for the next file.
        proc_macro2::extra::invalidate_current_thread_spans();
        outline
    }
}

/// `source` with a byte-order mark and a `#!` line blanked out rather than removed
/// (as `syn::parse_file` would), so that syn's offsets stay offsets into `source`.
fn blank_prelude(source: &str) -> String {
    let mut text = source.to_owned();
    if text.starts_with('\u{feff}') {
        text.replace_range(..'\u{feff}'.len_utf8(), "   ");
    }
    let first_code = text.trim_start_matches(' ');
    if first_code.starts_with("#!") && !first_code.starts_with("#![") {
        let start = text.len() - first_code.len();
        let end = text[start..].find('\n').map_or(text.len(), |at| start + at);
        let blank = " ".repeat(end - start);
        text.replace_range(start..end, &blank);
    }
    text
}

struct Collector<'a> {
    source: &'a str,
    symbols: Vec<Symbol>,
}

impl Collector<'_> {
    fn push(&mut self, kind: SymbolKind, name: String, span: Span, parent: Option<usize>) -> usize {
        let range = span.byte_range();
        self.symbols.push(Symbol {
            kind,
            name,
            start: range.start,
            end: range.end,
            parent,
        });
        self.symbols.len() - 1
    }

    /// The source text of `span` on one line, e.g. `Display` or `Vec<T>`.
    fn text(&self, span: Span) -> String {
        let range = span.byte_range();
        let text = self.source.get(range).unwrap_or_default();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn items(&mut self, items: &[Item], parent: Option<usize>) {
        for item in items {
            self.item(item, parent);
        }
    }

    fn item(&mut self, item: &Item, parent: Option<usize>) {
        let span = item.span();
        match item {
            Item::Fn(f) => {
                self.push(SymbolKind::Function, f.sig.ident.to_string(), span, parent);
            }
            Item::Struct(s) => {
                let id = self.push(SymbolKind::Struct, s.ident.to_string(), span, parent);
                for field in &s.fields {
                    if let Some(name) = &field.ident {
                        self.push(SymbolKind::Field, name.to_string(), field.span(), Some(id));
                    }
                }
            }
            Item::Union(u) => {
                self.push(SymbolKind::Struct, u.ident.to_string(), span, parent);
            }
            Item::Enum(e) => {
                self.push(SymbolKind::Enum, e.ident.to_string(), span, parent);
            }
            Item::Trait(t) => {
                let id = self.push(SymbolKind::Trait, t.ident.to_string(), span, parent);
                for member in &t.items {
                    let (kind, name) = match member {
                        TraitItem::Fn(f) => (SymbolKind::Method, f.sig.ident.to_string()),
                        TraitItem::Const(c) => (SymbolKind::Constant, c.ident.to_string()),
                        TraitItem::Type(t) => (SymbolKind::TypeAlias, t.ident.to_string()),
                        _ => continue,
                    };
                    self.push(kind, name, member.span(), Some(id));
                }
            }
            Item::TraitAlias(t) => {
                self.push(SymbolKind::Trait, t.ident.to_string(), span, parent);
            }
            Item::Impl(i) => {
                let name = match &i.trait_ {
                    Some((negative, path, _)) => format!(
                        "impl {}{} for {}",
                        if negative.is_some() { "!" } else { "" },
                        self.text(path.span()),
                        self.text(i.self_ty.span())
                    ),
                    None => format!("impl {}", self.text(i.self_ty.span())),
                };
                let id = self.push(SymbolKind::Impl, name, span, parent);
                for member in &i.items {
                    let (kind, name) = match member {
                        ImplItem::Fn(f) => (SymbolKind::Method, f.sig.ident.to_string()),
                        ImplItem::Const(c) => (SymbolKind::Constant, c.ident.to_string()),
                        ImplItem::Type(t) => (SymbolKind::TypeAlias, t.ident.to_string()),
                        ImplItem::Macro(m) => (SymbolKind::Macro, self.text(m.mac.path.span())),
                        _ => continue,
                    };
                    self.push(kind, name, member.span(), Some(id));
                }
            }
            Item::Mod(m) => {
                let id = self.push(SymbolKind::Module, m.ident.to_string(), span, parent);
                if let Some((_, items)) = &m.content {
                    self.items(items, Some(id));
                }
            }
            Item::Const(c) => {
                self.push(SymbolKind::Constant, c.ident.to_string(), span, parent);
            }
            Item::Static(s) => {
                self.push(SymbolKind::Variable, s.ident.to_string(), span, parent);
            }
            Item::Type(t) => {
                self.push(SymbolKind::TypeAlias, t.ident.to_string(), span, parent);
            }
            Item::Macro(m) => {
                // `macro_rules! name` defines `name`; other invocations are named by
                // the macro they call (`thread_local`, `lazy_static`).
                let name = m
                    .ident
                    .as_ref()
                    .map_or_else(|| self.text(m.mac.path.span()), ToString::to_string);
                self.push(SymbolKind::Macro, name, span, parent);
            }
            Item::ForeignMod(f) => {
                for foreign in &f.items {
                    if let syn::ForeignItem::Fn(function) = foreign {
                        let name = function.sig.ident.to_string();
                        self.push(SymbolKind::Function, name, foreign.span(), parent);
                    }
                }
            }
            _ => {}
        }
    }
}

kiln_plugin_sdk::export_language_parser!(RustParser);

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_plugin_sdk::parser::Parsed;

    const BUDGET: usize = 1500;

    fn parse(source: &str) -> Parsed {
        RustParser::parse("src/lib.rs", source, BUDGET).unwrap()
    }

    fn find<'a>(parsed: &'a Parsed, kind: SymbolKind, name: &str) -> (usize, &'a Symbol) {
        parsed
            .symbols
            .iter()
            .enumerate()
            .find(|(_, s)| s.kind == kind && s.name == name)
            .unwrap_or_else(|| panic!("no {kind:?} {name}"))
    }

    fn assert_well_formed(source: &str, parsed: &Parsed) {
        parsed.check(source, BUDGET).unwrap();
        assert!(parsed.symbols.iter().all(|s| s.start < s.end));
    }

    #[test]
    fn outlines_anyhow_error() {
        let source = include_str!("../../corpus/anyhow_error.rs");
        let parsed = parse(source);
        assert_well_formed(source, &parsed);
        let (impl_id, _) = find(&parsed, SymbolKind::Impl, "impl Error");
        let (_, msg) = find(&parsed, SymbolKind::Method, "msg");
        assert_eq!(msg.parent, Some(impl_id));
        // The doc comment above `msg` is part of its span.
        assert!(source[msg.start..msg.end].starts_with("/// Create a new error object"));
        find(&parsed, SymbolKind::Impl, "impl From<E> for Error");
        find(&parsed, SymbolKind::Struct, "ErrorVTable");
        find(&parsed, SymbolKind::Function, "object_drop");
    }

    #[test]
    fn outlines_http_method() {
        let source = include_str!("../../corpus/http_method.rs");
        let parsed = parse(source);
        assert_well_formed(source, &parsed);
        let (_, method) = find(&parsed, SymbolKind::Struct, "Method");
        assert!(source[method.start..method.end].contains("pub struct Method(Inner);"));
        let (module, _) = find(&parsed, SymbolKind::Module, "extension");
        let (_, inline) = find(&parsed, SymbolKind::Struct, "InlineExtension");
        assert_eq!(inline.parent, Some(module));
        find(&parsed, SymbolKind::Method, "from_bytes");
        find(&parsed, SymbolKind::Constant, "GET");
        // A function that fits the budget is never cut.
        for symbol in parsed
            .symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Method)
        {
            if symbol.end - symbol.start < BUDGET / 2 {
                assert!(
                    parsed
                        .chunks
                        .iter()
                        .any(|c| c.start <= symbol.start && symbol.end <= c.end),
                    "{} was cut",
                    symbol.name
                );
            }
        }
    }

    #[test]
    fn keeps_offsets_with_a_shebang_a_bom_and_unicode() {
        let source = "\u{feff}#!/usr/bin/env run-cargo-script\n/// Grüße 👋\nfn grüßen() -> &'static str { \"é\" }\n";
        let parsed = parse(source);
        let (_, function) = find(&parsed, SymbolKind::Function, "grüßen");
        assert!(source[function.start..function.end].starts_with("/// Grüße 👋\nfn grüßen()"));
        assert!(source[function.start..function.end].ends_with('}'));
        assert_well_formed(source, &parsed);
    }

    #[test]
    fn reports_syntax_errors_with_their_line() {
        let error = RustParser::parse("a.rs", "fn ok() {}\nfn broken( {\n", BUDGET).unwrap_err();
        assert!(error.starts_with("line 2"), "{error}");
    }
}
