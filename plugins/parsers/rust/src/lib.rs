//! Kiln's Rust parser: symbols and chunks from syn's syntax tree.
//!
//! Reports functions, structs, enums, unions, traits (with their methods, constants
//! and types), impl blocks (named `impl Trait for Type`, with their members), inline
//! modules (recursively), constants, statics, type aliases and macros. Spans cover
//! doc comments and attributes, since syn keeps them on the item.
//!
//! Generated code can nest far deeper than hand-written code (a 20,000-term `A | B |
//! ...` constant, a 5,000-arm `else if` chain), and syn recurses with the nesting.
//! `prepare` blanks out function bodies and what is nested too deeply before syn
//! parses, so that no tree syn builds (and drops itself, when an item then fails to
//! parse) is too deep; spans come from the tokens that bound each item (`spans`); and
//! the tree is never dropped here (see `kiln_plugin_sdk::stack`). So the plugin never
//! runs out of stack.

mod lexer;
mod prepare;
mod spans;

use std::ops::Range;

use kiln_plugin_sdk::{
    parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind},
    stack::leak,
};
use proc_macro2::Span;
use syn::{
    Attribute, ImplItem, Item, TraitItem,
    parse::{Parse, ParseStream},
    spanned::Spanned,
};

pub struct RustParser;

impl LanguageParser for RustParser {
    fn info() -> ParserInfo {
        ParserInfo::new(&["rust"], &["rs"])
    }

    fn outline(_path: &str, source: &str) -> Result<Outline, String> {
        let text = blank_prelude(source);
        // Without function bodies first. An empty body is valid wherever a body is, but
        // should a brace have been taken for a body wrongly (in a macro's tokens, say),
        // try again with bodies: unless none was blanked, when that cannot help.
        let blanked = prepare::prepare(&text, true);
        let parsed = syn::parse_str::<Items>(&blanked).or_else(|error| {
            let full = prepare::prepare(&text, false);
            match full == blanked {
                true => Err(error),
                false => syn::parse_str::<Items>(&full),
            }
        });
        let outline = match parsed {
            Ok(Items(items)) => {
                let mut collector = Collector {
                    source,
                    symbols: Vec::new(),
                };
                collector.items(&items, None);
                leak(items);
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

/// A file's items, parsed as `syn::File` does, but one by one so that when one fails
/// to parse those before it are leaked rather than dropped (see [`leak`], which explains
/// why). (A tree that
/// syn drops itself, in an item that fails half-way, can still be too deep: only in
/// code that does not compile.)
struct Items(Vec<Item>);

impl Parse for Items {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // Inner attributes (`#![...]`) define nothing.
        input.call(Attribute::parse_inner)?;
        let mut items = Vec::new();
        while !input.is_empty() {
            match input.parse() {
                Ok(item) => items.push(item),
                Err(error) => {
                    leak(items);
                    return Err(error);
                }
            }
        }
        Ok(Self(items))
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
    fn push(
        &mut self,
        kind: SymbolKind,
        name: String,
        range: Range<usize>,
        parent: Option<usize>,
    ) -> usize {
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
        let Some(span) = spans::item(item) else {
            return;
        };
        match item {
            Item::Fn(f) => {
                self.push(SymbolKind::Function, f.sig.ident.to_string(), span, parent);
            }
            Item::Struct(s) => {
                let id = self.push(SymbolKind::Struct, s.ident.to_string(), span, parent);
                for field in &s.fields {
                    if let Some(name) = &field.ident {
                        // Printing a type for its span recurses with its nesting,
                        // which `prepare` bounds (an array length's chains too).
                        let range = field.span().byte_range();
                        self.push(SymbolKind::Field, name.to_string(), range, Some(id));
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
                    if let Some(range) = spans::trait_item(member) {
                        self.push(kind, name, range, Some(id));
                    }
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
                    if let Some(range) = spans::impl_item(member) {
                        self.push(kind, name, range, Some(id));
                    }
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
                        let range = spans::foreign_fn(function);
                        self.push(SymbolKind::Function, name, range, parent);
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
    use kiln_plugin_sdk::{parser::Parsed, stack::on_small_stack};

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
        // Real code nests well within the budget: nothing but bodies is blanked.
        assert_eq!(prepare::prepare(source, false), source);
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
        let error = RustParser::parse(
            "a.rs",
            "fn ok() {}\nstruct S {}\nfn broken() -> {}\n",
            BUDGET,
        )
        .unwrap_err();
        assert!(error.starts_with("line 3"), "{error}");
        // An error after a deep item: the items parsed before it are not dropped.
        let chain = vec!["1"; 20_000].join(" | ");
        let source = format!("const A: u64 = {chain};\nconst B: u8 = ;\n");
        let error = on_small_stack(move || RustParser::outline("a.rs", &source).unwrap_err());
        assert!(error.starts_with("line 2"), "{error}");
    }

    /// A deep chain, then a syntax error in the same item: syn drops what it built of
    /// the item, so the chain must reach it short enough to drop.
    #[test]
    fn a_deep_chain_then_a_syntax_error_is_an_error() {
        let or = vec!["1"; 20_000].join(" | ");
        let calls = format!("a{}", ".b()".repeat(20_000));
        let casts = format!("1{}", " as u64".repeat(20_000));
        for chain in [or, calls, casts] {
            let source = format!("fn f() {{}}\nconst A: [u8; {chain}] = ;\n");
            let error = on_small_stack(move || RustParser::outline("a.rs", &source));
            assert!(error.is_err(), "{}", &chain[..20]);
        }
    }

    /// `macro_rules!` bodies hold `fn name` without a body: that must not make a later
    /// brace at the same depth a body.
    #[test]
    fn a_function_without_a_body_does_not_blank_later_braces() {
        let source = "macro_rules! m { ($t:ty) => { fn f() -> $t } }\nmod a { mod b { struct S { x: u8 } } }\n";
        let parsed = parse(source);
        let (s, _) = find(&parsed, SymbolKind::Struct, "S");
        assert_eq!(find(&parsed, SymbolKind::Field, "x").1.parent, Some(s));
    }

    /// Outlines `source` on a stack as small as a WebAssembly instance's: deep trees
    /// must neither overflow it nor fail.
    fn names_on_a_small_stack(source: String) -> Vec<(SymbolKind, String)> {
        on_small_stack(move || {
            let parsed = parse(&source);
            assert_well_formed(&source, &parsed);
            parsed
                .symbols
                .into_iter()
                .map(|s| (s.kind, s.name))
                .collect()
        })
    }

    fn named(symbols: &[(SymbolKind, &str)]) -> Vec<(SymbolKind, String)> {
        symbols.iter().map(|&(k, n)| (k, n.to_owned())).collect()
    }

    /// Case 05: generated code whose trees are deep although its brackets are not.
    #[test]
    fn deep_generated_code_keeps_its_outline() {
        // `flags.rs`: a 20,000-term `|` chain in a constant.
        let chain: Vec<String> = (0..20_000)
            .map(|i| format!("0x{:x}", 1u64 << (i % 63)))
            .collect();
        let flags = format!(
            "// @generated\n\npub const ALL_FLAGS: u64 = {};\n\npub fn has_flag(value: u64, flag: u64) -> bool {{\n    value & flag != 0\n}}\n",
            chain.join(" | ")
        );
        assert_eq!(
            names_on_a_small_stack(flags),
            named(&[
                (SymbolKind::Constant, "ALL_FLAGS"),
                (SymbolKind::Function, "has_flag")
            ])
        );
        // `classify.rs`: a 5,000-arm `else if` chain in a function, and one in a constant.
        let arms: Vec<String> = (0..5000)
            .map(|i| format!("if code == {i} {{\n        {}\n    }}", i * 7 % 13))
            .collect();
        let classify = format!(
            "pub fn classify(code: u32) -> u32 {{\n    {} else {{\n        0\n    }}\n}}\n\npub fn is_known(code: u32) -> bool {{\n    code < 5000\n}}\n\nconst C: u32 = {} else {{ 0 }};\n",
            arms.join(" else "),
            arms.join(" else ").replace("code", "N"),
        );
        assert_eq!(
            names_on_a_small_stack(classify),
            named(&[
                (SymbolKind::Function, "classify"),
                (SymbolKind::Function, "is_known"),
                (SymbolKind::Constant, "C"),
            ])
        );
        // Long method chains and `+` chains in statics, impls and traits.
        let calls = format!("a{}", ".b()".repeat(20_000));
        let sum = vec!["1"; 20_000].join(" + ");
        let source = format!(
            "static S: u8 = {calls};\nimpl T {{\n    const K: u8 = {sum};\n    fn m() {{ {sum}; }}\n}}\ntrait U {{\n    const K: u8 = {sum};\n    fn d() {{ {calls} }}\n}}\n"
        );
        assert_eq!(
            names_on_a_small_stack(source),
            named(&[
                (SymbolKind::Variable, "S"),
                (SymbolKind::Impl, "impl T"),
                (SymbolKind::Constant, "K"),
                (SymbolKind::Method, "m"),
                (SymbolKind::Trait, "U"),
                (SymbolKind::Constant, "K"),
                (SymbolKind::Method, "d"),
            ])
        );
    }

    /// Brackets, prefix operators, generics, pointers, references, closures and function
    /// types all nest, and count in one budget.
    #[test]
    fn every_kind_of_nesting_counts_in_one_budget() {
        let n = 5000;
        for (typ, value) in [
            (
                "u8".into(),
                format!("{}true{}", "!!!!!!!!!!!!!!!!(".repeat(40), ")".repeat(40)),
            ),
            (
                format!("{}u8{}", "Vec<".repeat(n), ">".repeat(n)),
                "0".into(),
            ),
            (format!("{}u8", "*const ".repeat(n)), "0".into()),
            (format!("{}u8", "*mut ".repeat(n)), "0".into()),
            (format!("{}u8", "&'a ".repeat(n)), "0".into()),
            (format!("{}u8", "&'a mut ".repeat(n)), "0".into()),
            (format!("{}u8", "fn() -> ".repeat(n)), "0".into()),
            ("u8".into(), format!("{}1", "|a| ".repeat(n))),
            ("u8".into(), format!("{}1", "move || ".repeat(n))),
            ("u8".into(), format!("{}1", "&mut ".repeat(n))),
            ("u8".into(), format!("a{}", " = b".repeat(n))),
        ] {
            let source = format!(
                "type T = {typ};\nconst C: {typ} = {value};\nstruct After {{ field: Vec<{typ}> }}\n"
            );
            assert_eq!(
                names_on_a_small_stack(source),
                named(&[
                    (SymbolKind::TypeAlias, "T"),
                    (SymbolKind::Constant, "C"),
                    (SymbolKind::Struct, "After"),
                    (SymbolKind::Field, "field"),
                ]),
                "{} {}",
                &typ[..2],
                &value[..1]
            );
        }
    }

    /// Nesting too deep for syn's recursive descent degrades to an outline of what is
    /// not too deep, instead of an error or a crash.
    #[test]
    fn deeply_nested_code_keeps_its_outline() {
        for (open, close) in [
            ("(", ")"),
            ("[", "]"),
            ("{", "}"),
            ("-", ""),
            ("!", ""),
            ("&", ""),
        ] {
            let value = format!("{}1{}", open.repeat(5000), close.repeat(5000));
            let source = format!(
                "/// Before.\nfn before() {{ {value} }}\nconst DEEP: u8 = {value};\nstruct After {{ field: [u8; {value}] }}\n"
            );
            assert_eq!(
                names_on_a_small_stack(source),
                named(&[
                    (SymbolKind::Function, "before"),
                    (SymbolKind::Constant, "DEEP"),
                    (SymbolKind::Struct, "After"),
                    (SymbolKind::Field, "field"),
                ]),
                "{open}"
            );
        }
    }
}
