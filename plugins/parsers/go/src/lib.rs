//! Kiln's Go parser: symbols and chunks from gosyn's syntax tree.
//!
//! It reports functions (`Function`); methods (`Method`, top-level like functions since
//! Go writes them outside their type, and named like Go's method expression for them:
//! `(*Builder).WriteString`, `IntSlice.Len`, a generic receiver's parameters dropped);
//! type declarations (a struct is a `Struct` with its fields as `Field` children, an
//! interface an `Interface` with its methods as `Method` children, any other type a
//! `TypeAlias`); constants (`Constant`) and package-level variables (`Variable`). A spec
//! declaring several names (`var a, b int`) yields one symbol per name, sharing the span;
//! the blank identifier `_` is skipped.
//!
//! gosyn counts positions in characters and records where nodes start but mostly not
//! where they end, so spans come from gosyn's tokens: each begins at the comment lines
//! directly above the item (its doc comment) or its first token, and ends at the last
//! token before its next sibling begins (or before the bracket closing their group).
//!
//! gosyn recurses with the nesting of the code, and generated code nests deep (a
//! 5,000-arm `else if` chain, a 20,000-term string concatenation): `prepare` blanks
//! out function bodies and what is nested too deeply before gosyn parses, so that no
//! tree gosyn builds (and drops itself, when the file then fails to parse) is too deep,
//! and the tree is never dropped here (see `kiln_plugin_sdk::stack`). So the plugin
//! never runs out of stack.

mod prepare;

use std::panic;

use gosyn::{
    ast::{
        ConstSpec, Decl, Declaration, Expression, Field, File, FuncDecl, Ident, TypeSpec, VarSpec,
    },
    token::Token,
};
use kiln_plugin_sdk::{
    parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind},
    stack::leak,
    text::TextIndex,
};

pub struct GoParser;

impl LanguageParser for GoParser {
    fn info() -> ParserInfo {
        ParserInfo::new(&["go"], &["go"])
    }

    fn outline(_path: &str, source: &str) -> Result<Outline, String> {
        if source.trim().is_empty() {
            return Ok(Outline::new("go", Vec::new()));
        }
        // gosyn still has `unwrap`s on some malformed input: a panic must become an error
        // so the host falls back to another parser. (Release WebAssembly builds abort on
        // panic instead, which the host treats as a failed plugin call.)
        let symbols = panic::catch_unwind(|| symbols(source))
            .map_err(|_| "gosyn panicked on this file".to_owned())??;
        Ok(Outline::new("go", symbols))
    }
}

fn symbols(source: &str) -> Result<Vec<Symbol>, String> {
    // gosyn does not skip a byte-order mark; parse after it and shift positions by one.
    let (text, shift) = match source.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 1),
        None => (source, 0),
    };
    let tokens = gosyn::tokenize_source(text).map_err(|err| format!("{err:#}"))?;
    // Without function bodies first; should that go wrong, with them: unless none was
    // blanked, when that cannot help.
    let blanked = prepare::prepare(text, &tokens, true);
    let file = gosyn::parse_source(&blanked)
        .or_else(|error| {
            let full = prepare::prepare(text, &tokens, false);
            match full == blanked {
                true => Err(error),
                false => gosyn::parse_source(full),
            }
        })
        .map_err(|err| format!("{err:#}"))?;
    let tokens = tokens
        .iter()
        .map(|token| Lexeme {
            start: token.start,
            end: token.end,
            comment: matches!(token.token, Token::Comment(_)),
        })
        .collect();
    let mut outliner = Outliner {
        source,
        index: TextIndex::new(source),
        shift,
        tokens,
        symbols: Vec::new(),
    };
    outliner.file(&file);
    leak(file);
    Ok(outliner.symbols)
}

/// A token's character range, and whether it is a comment.
struct Lexeme {
    start: usize,
    end: usize,
    comment: bool,
}

struct Outliner<'a> {
    source: &'a str,
    index: TextIndex<'a>,
    /// Characters before the text gosyn saw (a byte-order mark).
    shift: usize,
    tokens: Vec<Lexeme>,
    symbols: Vec<Symbol>,
}

impl Outliner<'_> {
    fn file(&mut self, file: &File) {
        let heads: Vec<usize> = file.decl.iter().map(declaration_pos).collect();
        let spans = self.spans(&heads, usize::MAX);
        for (declaration, span) in file.decl.iter().zip(spans) {
            match declaration {
                Declaration::Function(function) => self.function(function, span),
                Declaration::Type(decl) => {
                    self.specs(decl, span, |this, spec, span| this.type_spec(spec, span));
                }
                Declaration::Const(decl) => self.specs(decl, span, |this, spec, span| {
                    this.names(SymbolKind::Constant, &spec.name, span, None);
                }),
                Declaration::Variable(decl) => self.specs(decl, span, |this, spec, span| {
                    this.names(SymbolKind::Variable, &spec.name, span, None);
                }),
            }
        }
    }

    fn function(&mut self, function: &FuncDecl, span: (usize, usize)) {
        let name = &function.name.name;
        match function.recv.as_ref().and_then(|recv| recv.list.first()) {
            Some(receiver) => {
                let name = format!("{}.{name}", receiver_name(&receiver.typ));
                self.push(SymbolKind::Method, name, span, None);
            }
            None => {
                self.push(SymbolKind::Function, name.clone(), span, None);
            }
        }
    }

    /// Emits the specs of a `type`, `const` or `var` declaration: a lone spec spans the
    /// whole declaration, the specs of a group `( ... )` each their own lines.
    fn specs<S: Spec>(
        &mut self,
        decl: &Decl<S>,
        span: (usize, usize),
        mut emit: impl FnMut(&mut Self, &S, (usize, usize)),
    ) {
        match decl.pos1 {
            None => decl.specs.iter().for_each(|spec| emit(self, spec, span)),
            Some((_, close)) => {
                let heads: Vec<usize> = decl.specs.iter().map(Spec::pos).collect();
                let spans = self.spans(&heads, close);
                for (spec, span) in decl.specs.iter().zip(spans) {
                    emit(self, spec, span);
                }
            }
        }
    }

    fn type_spec(&mut self, spec: &TypeSpec, span: (usize, usize)) {
        let name = spec.name.name.clone();
        match &spec.typ {
            Expression::TypeStruct(body) => {
                let Some(parent) = self.push(SymbolKind::Struct, name, span, None) else {
                    return;
                };
                self.members(SymbolKind::Field, &body.fields, body.pos.1, parent);
            }
            Expression::TypeInterface(body) => {
                let Some(parent) = self.push(SymbolKind::Interface, name, span, None) else {
                    return;
                };
                if let Some((_, close)) = body.methods.pos {
                    self.members(SymbolKind::Method, &body.methods.list, close, parent);
                }
            }
            _ => {
                self.push(SymbolKind::TypeAlias, name, span, None);
            }
        }
    }

    /// Struct fields or interface elements, ending before `close` (the `}`). Embedded
    /// struct fields are named by their type's name, as Go does; embedded interfaces and
    /// type constraints are not symbols but still bound their neighbours.
    fn members(&mut self, kind: SymbolKind, fields: &[Field], close: usize, parent: usize) {
        let fields: Vec<(&Field, usize)> = fields
            .iter()
            .filter_map(|field| {
                let pos = match field.name.first() {
                    Some(name) => name.pos,
                    None => expression_pos(&field.typ)?,
                };
                Some((field, pos))
            })
            .collect();
        let heads: Vec<usize> = fields.iter().map(|&(_, pos)| pos).collect();
        let spans = self.spans(&heads, close);
        for ((field, _), span) in fields.iter().zip(spans) {
            if !field.name.is_empty() {
                self.names(kind, &field.name, span, Some(parent));
                continue;
            }
            if kind == SymbolKind::Field
                && let Some(name) = type_name(&field.typ)
            {
                self.push(kind, name.to_owned(), span, Some(parent));
            }
        }
    }

    fn names(
        &mut self,
        kind: SymbolKind,
        names: &[Ident],
        span: (usize, usize),
        parent: Option<usize>,
    ) {
        for name in names.iter().filter(|name| name.name != "_") {
            self.push(kind, name.name.clone(), span, parent);
        }
    }

    /// Character spans of consecutive siblings whose first tokens are at `heads`: each
    /// starts at its doc comment or first token and ends with the last token before the
    /// next one starts (or before `close`).
    fn spans(&self, heads: &[usize], close: usize) -> Vec<(usize, usize)> {
        let starts: Vec<usize> = heads.iter().map(|&pos| self.start(pos)).collect();
        starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let bound = starts.get(i + 1).copied().unwrap_or(close);
                (start, self.end_before(bound))
            })
            .collect()
    }

    /// Where an item whose first token is at `pos` starts: at the comments on the lines
    /// directly above it. (Read from the tokens rather than gosyn's `docs`, which can hold
    /// stale comments from inside the previous declaration and miss those of interface
    /// methods.)
    fn start(&self, pos: usize) -> usize {
        let before = self.tokens.partition_point(|token| token.start < pos);
        let mut start = pos;
        for token in self.tokens[..before].iter().rev() {
            let gap = self.source.get(self.byte(token.end)..self.byte(start));
            let adjacent = gap.is_some_and(|gap| gap.matches('\n').count() <= 1);
            if !token.comment || !adjacent || !self.starts_line(token.start) {
                break;
            }
            start = token.start;
        }
        start
    }

    fn starts_line(&self, pos: usize) -> bool {
        let at = self.byte(pos);
        self.source[self.index.line_start(at)..at].trim().is_empty()
    }

    /// The end of the last token that starts before `bound` and is not a comment (0 if
    /// none): comments between siblings belong to the next one or to neither.
    fn end_before(&self, bound: usize) -> usize {
        let before = self.tokens.partition_point(|token| token.start < bound);
        self.tokens[..before]
            .iter()
            .rev()
            .find(|token| !token.comment)
            .map_or(0, |token| token.end)
    }

    fn byte(&self, pos: usize) -> usize {
        self.index.byte_of_char(pos.saturating_add(self.shift))
    }

    /// Records a symbol spanning characters `start..end`, unless that is empty.
    fn push(
        &mut self,
        kind: SymbolKind,
        name: String,
        (start, end): (usize, usize),
        parent: Option<usize>,
    ) -> Option<usize> {
        let (start, end) = (self.byte(start), self.byte(end));
        if start >= end {
            return None;
        }
        self.symbols.push(Symbol {
            kind,
            name,
            start,
            end,
            parent,
        });
        Some(self.symbols.len() - 1)
    }
}

/// A spec of a `type`, `const` or `var` declaration: where its first token is.
trait Spec {
    fn pos(&self) -> usize;
}

impl Spec for TypeSpec {
    fn pos(&self) -> usize {
        self.name.pos
    }
}

impl Spec for ConstSpec {
    fn pos(&self) -> usize {
        self.name.first().map_or(0, |name| name.pos)
    }
}

impl Spec for VarSpec {
    fn pos(&self) -> usize {
        self.name.first().map_or(0, |name| name.pos)
    }
}

/// Where a declaration's keyword (`func`, `type`, `const`, `var`) is.
fn declaration_pos(declaration: &Declaration) -> usize {
    match declaration {
        Declaration::Function(function) => function.typ.pos,
        Declaration::Type(decl) => decl.pos0,
        Declaration::Const(decl) => decl.pos0,
        Declaration::Variable(decl) => decl.pos0,
    }
}

/// `(*Builder)` or `Builder` for a receiver of type `*Builder` or `Builder`.
fn receiver_name(receiver: &Expression) -> String {
    match receiver {
        Expression::TypePointer(pointer) => {
            format!("(*{})", type_name(&pointer.typ).unwrap_or("?"))
        }
        other => type_name(other).unwrap_or("?").to_owned(),
    }
}

/// The name of a (possibly qualified, generic or pointer) type: `Mutex` for
/// `*sync.Mutex`, `List` for `List[T]`.
fn type_name(typ: &Expression) -> Option<&str> {
    match typ {
        Expression::Ident(ident) => Some(&ident.name),
        Expression::Selector(selector) => Some(&selector.sel.name),
        Expression::TypePointer(pointer) => type_name(&pointer.typ),
        Expression::Paren(paren) => type_name(&paren.expr),
        Expression::Index(index) => type_name(&index.left),
        Expression::IndexList(list) => type_name(&list.left),
        _ => None,
    }
}

/// Where an expression starts; gosyn's own `pos` panics on a list.
fn expression_pos(expression: &Expression) -> Option<usize> {
    match expression {
        Expression::List(list) => list.first().and_then(expression_pos),
        other => Some(other.pos()),
    }
}

kiln_plugin_sdk::export_language_parser!(GoParser);

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_plugin_sdk::stack::on_small_stack;

    const BUDGET: usize = 1500;

    fn parse(source: &str) -> Vec<Symbol> {
        GoParser::outline("x.go", source).unwrap().symbols
    }

    fn find<'a>(symbols: &'a [Symbol], kind: SymbolKind, name: &str) -> (usize, &'a Symbol) {
        symbols
            .iter()
            .enumerate()
            .find(|(_, s)| s.kind == kind && s.name == name)
            .unwrap_or_else(|| panic!("no {kind:?} {name}: {symbols:#?}"))
    }

    fn text<'a>(source: &'a str, symbol: &Symbol) -> &'a str {
        &source[symbol.start..symbol.end]
    }

    /// The contract's invariants: valid spans, parents first, chunks tiling the file.
    fn assert_well_formed(source: &str) {
        let parsed = GoParser::parse("x.go", source, BUDGET).unwrap();
        assert_eq!(parsed.language, "go");
        parsed.check(source, BUDGET).unwrap();
        assert!(parsed.symbols.iter().all(|s| s.start < s.end));
    }

    #[test]
    fn outlines_strings_builder() {
        let source = include_str!("../../corpus/builder.go");
        let symbols = parse(source);
        let (builder, symbol) = find(&symbols, SymbolKind::Struct, "Builder");
        assert!(text(source, symbol).starts_with("// A Builder is used"));
        assert!(text(source, symbol).ends_with("buf  []byte\n}"));
        let (_, addr) = find(&symbols, SymbolKind::Field, "addr");
        assert_eq!(addr.parent, Some(builder));
        assert_eq!(
            find(&symbols, SymbolKind::Field, "buf").1.parent,
            Some(builder)
        );

        let (_, write) = find(&symbols, SymbolKind::Method, "(*Builder).WriteString");
        assert!(text(source, write).starts_with("// WriteString appends"));
        assert!(text(source, write).ends_with("return len(s), nil\n}"));
        assert_eq!(write.parent, None);

        let (_, noescape) = find(&symbols, SymbolKind::Function, "noescape");
        let noescape = text(source, noescape);
        assert!(noescape.starts_with("// noescape hides") && noescape.contains("//go:nosplit"));
        // A method without a doc comment starts at `func`, not in the previous body.
        let (_, copy_check) = find(&symbols, SymbolKind::Method, "(*Builder).copyCheck");
        assert!(text(source, copy_check).starts_with("func (b *Builder) copyCheck() {"));
        let one_liner = find(&symbols, SymbolKind::Method, "(*Builder).Len").1;
        assert!(text(source, one_liner).ends_with("{ return len(b.buf) }"));
        assert_well_formed(source);
        // Real code nests well within the budget: nothing but bodies is blanked.
        let tokens = gosyn::tokenize_source(source).unwrap();
        assert_eq!(prepare::prepare(source, &tokens, false), source);
    }

    #[test]
    fn outlines_sort() {
        let source = include_str!("../../corpus/sort.go");
        let symbols = parse(source);
        let (interface, symbol) = find(&symbols, SymbolKind::Interface, "Interface");
        assert!(text(source, symbol).starts_with("// An implementation of Interface"));
        for method in ["Len", "Less", "Swap"] {
            let symbol = find(&symbols, SymbolKind::Method, method).1;
            assert_eq!(symbol.parent, Some(interface));
            assert!(
                text(source, symbol).starts_with(&format!("// {method} ")),
                "{symbol:?}"
            );
        }
        let sort = text(source, find(&symbols, SymbolKind::Function, "Sort").1);
        assert!(
            sort.starts_with("// Sort sorts data") && sort.ends_with('}'),
            "{sort}"
        );
        find(&symbols, SymbolKind::Method, "IntSlice.Less");
        find(&symbols, SymbolKind::Method, "(*xorshift).Next");
        find(&symbols, SymbolKind::TypeAlias, "IntSlice");
        find(&symbols, SymbolKind::Struct, "reverse");
        // `const ( unknownHint sortedHint = iota; increasingHint; decreasingHint )`
        let hint = find(&symbols, SymbolKind::Constant, "increasingHint").1;
        assert_eq!(text(source, hint), "increasingHint");
        assert_well_formed(source);
    }

    #[test]
    fn groups_multiple_names_and_unicode() {
        let source = "\u{feff}package p\n\n// Grüße says hello.\nvar (\n\t// a and b\n\ta, b = 1, \"ü\"\n\t_ = a\n)\n\ntype (\n\tÄ = int\n\tI interface {\n\t\tfmt.Stringer\n\t\tM() Ä\n\t}\n)\n\nfunc (l *List[T]) Push(v T) {}\n";
        let symbols = parse(source);
        let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "Ä", "I", "M", "(*List).Push"]);
        assert_eq!(text(source, &symbols[0]), "// a and b\n\ta, b = 1, \"ü\"");
        assert_eq!(symbols[0].start, symbols[1].start);
        assert_eq!(text(source, &symbols[2]), "Ä = int");
        assert_eq!(text(source, &symbols[4]), "M() Ä");
        assert_eq!(symbols[4].parent, Some(3));
        assert_well_formed(source);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for source in [
            "package p\n\nfunc broken( {\n",
            "func main() {}",
            "package p\nvar x = \"unterminated\n",
            "package p\n/* open comment",
            "package p\ntype T struct { a int",
            "package p\n@",
        ] {
            assert!(GoParser::outline("x.go", source).is_err(), "{source:?}");
        }
        assert!(GoParser::outline("x.go", " \n").unwrap().symbols.is_empty());
    }

    /// Outlines `source` on a stack as small as a WebAssembly instance's: deep trees
    /// must neither overflow it nor fail.
    fn names_on_a_small_stack(source: String) -> Vec<(SymbolKind, String)> {
        on_small_stack(move || {
            assert_well_formed(&source);
            parse(&source)
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
        // `assets.go`: a 20,000-term string concatenation.
        let parts: Vec<String> = (0..20_000).map(|i| format!("\"{}\"", i % 10)).collect();
        let assets = format!(
            "// Code generated by an asset embedder. DO NOT EDIT.\n\npackage assets\n\nvar indexHTML = {}\n\nfunc IndexHTML() string {{\n\treturn indexHTML\n}}\n",
            parts.join(" +\n\t")
        );
        let symbols = names_on_a_small_stack(assets.clone());
        assert_eq!(
            symbols,
            named(&[
                (SymbolKind::Variable, "indexHTML"),
                (SymbolKind::Function, "IndexHTML")
            ])
        );
        let html = &parse(&assets)[0];
        assert!(text(&assets, html).starts_with("var indexHTML = \"0\" +"));
        assert!(text(&assets, html).ends_with("\"9\""));
        // A 5,000-arm `else if` chain and a long chain in a function.
        let mut classify = String::from(
            "package p\n\nfunc classify(x int) int {\n\tif x == 0 {\n\t\treturn 0\n\t}",
        );
        for i in 1..5000 {
            classify += &format!(" else if x == {i} {{\n\t\treturn {i}\n\t}}");
        }
        classify += &format!(
            " else {{\n\t\treturn {}\n\t}}\n}}\n\nfunc isKnown(x int) bool {{\n\treturn x < 5000\n}}\n",
            vec!["1"; 20_000].join(" + ")
        );
        assert_eq!(
            names_on_a_small_stack(classify),
            named(&[
                (SymbolKind::Function, "classify"),
                (SymbolKind::Function, "isKnown")
            ])
        );
    }

    /// A deep chain, then a syntax error: the tree built before the error is dropped by
    /// gosyn itself, so the chain must reach it short enough to drop.
    #[test]
    fn a_deep_chain_then_a_syntax_error_is_an_error() {
        let strings = vec!["\"a\""; 20_000].join(" +\n\t");
        let selectors = format!("a{}", ".b".repeat(20_000));
        let minus = vec!["x"; 20_000].join(" - ");
        for chain in [strings, selectors, minus] {
            for after in ["", "\nfunc f() {\n\treturn\n}\n"] {
                let source = format!("package p\n\nvar x = {chain}\n{after}\nvar y = )\n");
                let error = on_small_stack(move || GoParser::outline("x.go", &source));
                assert!(error.is_err(), "{}", &chain[..20]);
            }
        }
    }

    /// Brackets and prefix operators count in one budget: `!!!(!!!(...))` is as deep as
    /// its operators and brackets together.
    #[test]
    fn brackets_and_prefix_operators_nest_together() {
        let value = format!("{}true{}", "!!!!!!!!!!!!!!!!(".repeat(40), ")".repeat(40));
        let source =
            format!("package p\n\nvar x = {value}\n\ntype After struct {{\n\tfield int\n}}\n");
        assert_eq!(
            names_on_a_small_stack(source),
            named(&[
                (SymbolKind::Variable, "x"),
                (SymbolKind::Struct, "After"),
                (SymbolKind::Field, "field"),
            ])
        );
    }

    /// Nesting too deep for gosyn's recursive descent degrades to an outline of what is
    /// not too deep, instead of an error or a crash.
    #[test]
    fn deeply_nested_code_keeps_its_outline() {
        for (open, close) in [
            ("(", ")"),
            ("[]T{", "}"),
            ("f(", ")"),
            ("!", ""),
            ("- ", ""),
            ("*", ""),
        ] {
            let value = format!("{}1{}", open.repeat(5000), close.repeat(5000));
            let source = format!(
                "package p\n\n// Before.\nfunc before() {{\n\tx := {value}\n}}\n\nvar deep = {value}\n\ntype After struct {{\n\tfield int\n}}\n"
            );
            let symbols = names_on_a_small_stack(source);
            assert_eq!(
                symbols,
                named(&[
                    (SymbolKind::Function, "before"),
                    (SymbolKind::Variable, "deep"),
                    (SymbolKind::Struct, "After"),
                    (SymbolKind::Field, "field"),
                ]),
                "{open}"
            );
        }
    }

    /// Types nest through what heads them too: a function type's result (`func()
    /// func() ...`), a channel's, a map's or a slice's element, a pointer's target.
    #[test]
    fn deep_types_keep_their_outline() {
        for (name, deep) in [
            ("F", "func() ".repeat(1000) + "int"),
            ("F", "func(a, b int) ".repeat(1000) + "(int, error)"),
            ("P", "*".repeat(20_000) + "int"),
            ("C", "chan ".repeat(5000) + "int"),
            ("M", "map[string]".repeat(5000) + "int"),
            ("S", "[]".repeat(5000) + "int"),
            (
                "G",
                format!("{}int{}", "List[".repeat(3000), "]".repeat(3000)),
            ),
        ] {
            let source = format!(
                "package p\n\ntype {name} {deep}\n\nvar v {deep}\n\nfunc After() {deep} {{\n\treturn nil\n}}\n"
            );
            assert_eq!(
                names_on_a_small_stack(source),
                named(&[
                    (SymbolKind::TypeAlias, name),
                    (SymbolKind::Variable, "v"),
                    (SymbolKind::Function, "After"),
                ]),
                "{}",
                &deep[..12]
            );
        }
    }
}
