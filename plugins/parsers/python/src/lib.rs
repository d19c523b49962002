//! Kiln's Python parser: symbols and chunks from RustPython's syntax tree.
//!
//! Reports classes, functions (sync and async), methods (functions directly in a class
//! body), nested definitions with their enclosing symbol as parent, simple-name
//! assignments at module level (`Constant` when UPPER_CASE, else `Variable`) and in
//! class bodies (`Constant` or `Field`), and `type X = ...` aliases. Definitions inside
//! `if`/`try`/`with`/`for`/`while`/`match` blocks count as definitions of the scope
//! around the block, since that is where Python binds them. A decorated definition's
//! span starts at its first `@`.
//!
//! RustPython's parser knows Python 3.11's grammar; `scan` first blanks out the
//! f-strings, whose Python 3.12 syntax it rejects. Should a file still not parse (newer
//! syntax, or a mistake), each top-level statement is parsed on its own, and a
//! definition that does not parse is still listed from its `def` or `class` line (with
//! the members of such a class that do parse): an outline with a gap beats none. A
//! file in which no statement parses on its own, or no symbol is found, is an error,
//! reported as such.
//!
//! The parser's trees are as deep as the code, and dropping one recurses: so `scan`
//! also blanks out what nests too deeply for a tree that the parser drops itself when
//! a file fails to parse (see `depth`), and trees that parse are never dropped (see
//! `kiln_plugin_sdk::stack`).

mod depth;
mod parse;
mod recover;
mod scan;

use std::ops::Range;

use kiln_plugin_sdk::stack::leak;
use kiln_plugin_sdk::{
    LogLevel,
    parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind},
};
use parse::parse;
use rustpython_parser::ast::{self, Expr, Ranged, Stmt, text_size::TextRange};

pub struct PythonParser;

impl LanguageParser for PythonParser {
    fn info() -> ParserInfo {
        ParserInfo::new(&["python"], &["py", "pyi", "pyw"])
    }

    fn outline(path: &str, source: &str) -> Result<Outline, String> {
        let prepared = scan::prepare(source);
        let mut walker = Walker {
            source,
            symbols: Vec::new(),
            nesting: 0,
        };
        match parse(path, &prepared.text, 0..source.len(), false) {
            Ok(suite) => {
                walker.body(&suite, Scope::Module);
                leak(suite);
            }
            Err(failure) => {
                let error = failure.describe(path, source);
                let parsed = walker.recover(path, &prepared, 0..source.len(), Scope::Module, 0);
                // Nothing parsed on its own (not Python, or too broken to outline), or
                // nothing to show for it.
                if parsed == 0 || walker.symbols.is_empty() {
                    return Err(error);
                }
                let message = format!("{error} (outlined the statements that parse)");
                kiln_plugin_sdk::log(LogLevel::Warn, &message);
            }
        }
        Ok(Outline::new("python", walker.symbols))
    }
}

/// Blocks nested deeper than this are not walked (see [`Walker::body`]).
const MAX_BLOCK_NESTING: usize = 100;

/// Where a statement sits, which decides what its definitions are.
#[derive(Clone, Copy)]
enum Scope {
    Module,
    Class(usize),
    Function(usize),
}

impl Scope {
    fn parent(self) -> Option<usize> {
        match self {
            Scope::Module => None,
            Scope::Class(index) | Scope::Function(index) => Some(index),
        }
    }
}

struct Walker<'a> {
    source: &'a str,
    symbols: Vec<Symbol>,
    /// How many blocks enclose the statements being walked.
    nesting: usize,
}

impl Walker<'_> {
    /// Records the definitions of `body` in source order, parents before children.
    fn body(&mut self, body: &[Stmt], scope: Scope) {
        // The walk recurses once per block. Python itself refuses more than 100 levels
        // of indentation, so deeper blocks are broken input, and are not walked.
        if self.nesting > MAX_BLOCK_NESTING {
            return;
        }
        self.nesting += 1;
        for stmt in body {
            self.stmt(stmt, scope);
        }
        self.nesting -= 1;
    }

    fn stmt(&mut self, stmt: &Stmt, scope: Scope) {
        match stmt {
            Stmt::ClassDef(class) => {
                let start = self.decorated_start(class.range, &class.decorator_list);
                let index = self.push(SymbolKind::Class, &class.name, start, class.range, scope);
                self.body(&class.body, Scope::Class(index));
            }
            Stmt::FunctionDef(ast::StmtFunctionDef {
                name,
                range,
                decorator_list,
                body,
                ..
            })
            | Stmt::AsyncFunctionDef(ast::StmtAsyncFunctionDef {
                name,
                range,
                decorator_list,
                body,
                ..
            }) => self.function(name, *range, decorator_list, body, scope),
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    self.assignment(target, assign.range, scope);
                }
            }
            Stmt::AnnAssign(assign) => self.assignment(&assign.target, assign.range, scope),
            Stmt::TypeAlias(alias) => {
                if let Expr::Name(name) = alias.name.as_ref() {
                    let start = alias.range.start().into();
                    self.push(SymbolKind::TypeAlias, &name.id, start, alias.range, scope);
                }
            }
            // Blocks do not open a scope: what they define belongs to the scope around.
            Stmt::If(first) => {
                // Each `elif` is an `if` in the `else` of the one before: follow the chain
                // in a loop rather than by recursion, however long it is.
                let mut branch = first;
                loop {
                    self.body(&branch.body, scope);
                    match branch.orelse.as_slice() {
                        [Stmt::If(next)] => branch = next,
                        orelse => break self.body(orelse, scope),
                    }
                }
            }
            Stmt::For(ast::StmtFor { body, orelse, .. })
            | Stmt::AsyncFor(ast::StmtAsyncFor { body, orelse, .. })
            | Stmt::While(ast::StmtWhile { body, orelse, .. }) => {
                self.body(body, scope);
                self.body(orelse, scope);
            }
            Stmt::With(ast::StmtWith { body, .. })
            | Stmt::AsyncWith(ast::StmtAsyncWith { body, .. }) => self.body(body, scope),
            Stmt::Match(block) => {
                for case in &block.cases {
                    self.body(&case.body, scope);
                }
            }
            Stmt::Try(ast::StmtTry {
                body,
                handlers,
                orelse,
                finalbody,
                ..
            })
            | Stmt::TryStar(ast::StmtTryStar {
                body,
                handlers,
                orelse,
                finalbody,
                ..
            }) => {
                self.body(body, scope);
                for ast::ExceptHandler::ExceptHandler(handler) in handlers {
                    self.body(&handler.body, scope);
                }
                self.body(orelse, scope);
                self.body(finalbody, scope);
            }
            _ => {}
        }
    }

    fn function(
        &mut self,
        name: &str,
        range: TextRange,
        decorators: &[Expr],
        body: &[Stmt],
        scope: Scope,
    ) {
        let kind = match scope {
            Scope::Class(_) => SymbolKind::Method,
            Scope::Module | Scope::Function(_) => SymbolKind::Function,
        };
        let start = self.decorated_start(range, decorators);
        let index = self.push(kind, name, start, range, scope);
        self.body(body, Scope::Function(index));
    }

    /// A simple-name assignment is a symbol at module and class level; inside functions
    /// it is a local, not a definition anyone searches for.
    fn assignment(&mut self, target: &Expr, range: TextRange, scope: Scope) {
        let Expr::Name(name) = target else {
            return;
        };
        let constant = is_constant_name(&name.id);
        let kind = match scope {
            Scope::Function(_) => return,
            Scope::Module if constant => SymbolKind::Constant,
            Scope::Module => SymbolKind::Variable,
            Scope::Class(_) if constant => SymbolKind::Constant,
            Scope::Class(_) => SymbolKind::Field,
        };
        self.push(kind, &name.id, range.start().into(), range, scope);
    }

    /// Where a definition starts with its decorators: RustPython's range begins at
    /// `def`/`class`, and a decorator's expression begins after its `@` (and any
    /// whitespace or parenthesis after it), so search back from each.
    fn decorated_start(&self, range: TextRange, decorators: &[Expr]) -> usize {
        let definition = usize::from(range.start());
        decorators
            .iter()
            .map(|decorator| {
                let expression = usize::from(decorator.start()).min(self.source.len());
                self.source[..expression].rfind('@').unwrap_or(expression)
            })
            .fold(definition, usize::min)
    }

    fn push(
        &mut self,
        kind: SymbolKind,
        name: &str,
        start: usize,
        range: TextRange,
        scope: Scope,
    ) -> usize {
        self.push_span(kind, name, start..usize::from(range.end()), scope)
    }

    fn push_span(
        &mut self,
        kind: SymbolKind,
        name: &str,
        span: Range<usize>,
        scope: Scope,
    ) -> usize {
        self.symbols.push(Symbol {
            kind,
            name: name.to_owned(),
            start: span.start,
            end: span.end,
            parent: scope.parent(),
        });
        self.symbols.len() - 1
    }
}

/// `MAX_SIZE`, `_DEFAULT`, `X1`: a letter and no lower-case letters, by convention a
/// constant (PEP 8).
fn is_constant_name(name: &str) -> bool {
    name.chars().any(char::is_alphabetic) && !name.chars().any(char::is_lowercase)
}

kiln_plugin_sdk::export_language_parser!(PythonParser);

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_plugin_sdk::{stack::on_small_stack, text::floor_char_boundary};

    const TEXTWRAP: &str = include_str!("../../corpus/textwrap.py");
    const CONTEXTLIB: &str = include_str!("../../corpus/contextlib.py");
    const BUDGET: usize = 1500;

    fn outline(source: &str) -> Vec<Symbol> {
        PythonParser::outline("test.py", source).unwrap().symbols
    }

    /// The one symbol called `name` whose parent is called `parent` (`None`: top level).
    fn find<'a>(symbols: &'a [Symbol], name: &str, parent: Option<&str>) -> &'a Symbol {
        let matches: Vec<&Symbol> = symbols
            .iter()
            .filter(|s| s.name == name && s.parent.map(|p| symbols[p].name.as_str()) == parent)
            .collect();
        assert_eq!(matches.len(), 1, "{name} in {parent:?}: {matches:#?}");
        matches[0]
    }

    /// The contract every answer must keep, checked on real files.
    fn assert_well_formed(source: &str) {
        let parsed = PythonParser::parse("corpus.py", source, BUDGET).unwrap();
        assert_eq!(parsed.language, "python");
        parsed.check(source, BUDGET).unwrap();
        for pair in parsed.symbols.windows(2) {
            assert!(pair[0].start < pair[0].end, "{:?}", pair[0]);
            assert!(
                pair[0].start <= pair[1].start,
                "not in source order: {pair:?}"
            );
        }
    }

    #[test]
    fn corpus_files_are_covered_by_chunks_and_symbols_are_well_formed() {
        assert_well_formed(TEXTWRAP);
        assert_well_formed(CONTEXTLIB);
    }

    #[test]
    fn textwrap_classes_methods_functions_and_module_names() {
        let symbols = outline(TEXTWRAP);
        let class = find(&symbols, "TextWrapper", None);
        assert_eq!(class.kind, SymbolKind::Class);
        assert!(TEXTWRAP[class.start..].starts_with("class TextWrapper:"));
        let wrap = find(&symbols, "wrap", Some("TextWrapper"));
        assert_eq!(wrap.kind, SymbolKind::Method);
        assert!(TEXTWRAP[wrap.start..wrap.end].starts_with("def wrap(self, text):"));
        assert!(class.start < wrap.start && wrap.end <= class.end);
        // The module-level `wrap` is a different symbol from the method.
        assert_eq!(find(&symbols, "wrap", None).kind, SymbolKind::Function);
        let dedent = find(&symbols, "dedent", None);
        assert_eq!(dedent.kind, SymbolKind::Function);
        assert!(TEXTWRAP[dedent.start..dedent.end].ends_with("return text"));
        // A function nested in a function.
        assert_eq!(
            find(&symbols, "prefixed_lines", Some("indent")).kind,
            SymbolKind::Function
        );
        assert_eq!(find(&symbols, "__all__", None).kind, SymbolKind::Variable);
        assert_eq!(
            find(&symbols, "_whitespace_only_re", None).kind,
            SymbolKind::Variable
        );
        // Class attributes.
        assert_eq!(
            find(&symbols, "word_punct", Some("TextWrapper")).kind,
            SymbolKind::Field
        );
    }

    #[test]
    fn contextlib_decorated_definitions_start_at_their_decorator() {
        let symbols = outline(CONTEXTLIB);
        let manager = find(&symbols, "contextmanager", None);
        assert_eq!(manager.kind, SymbolKind::Function);
        let helper = find(&symbols, "helper", Some("contextmanager"));
        assert_eq!(helper.kind, SymbolKind::Function);
        assert!(CONTEXTLIB[helper.start..].starts_with("@wraps(func)\n    def helper("));
        let exit = find(&symbols, "__exit__", Some("AbstractContextManager"));
        assert_eq!(exit.kind, SymbolKind::Method);
        assert!(CONTEXTLIB[exit.start..].starts_with("@abc.abstractmethod\n    def __exit__("));
        let wrapper = find(&symbols, "_create_exit_wrapper", Some("_BaseExitStack"));
        assert!(CONTEXTLIB[wrapper.start..].starts_with("@staticmethod"));
        // A class whose bases span several lines.
        let class = find(&symbols, "_GeneratorContextManager", None);
        assert_eq!(class.kind, SymbolKind::Class);
        assert!(
            CONTEXTLIB[class.start..class.end].starts_with("class _GeneratorContextManager(\n")
        );
        assert_eq!(
            find(&symbols, "__enter__", Some("_GeneratorContextManager")).kind,
            SymbolKind::Method
        );
    }

    #[test]
    fn an_oversized_class_is_chunked_at_its_methods() {
        let parsed = PythonParser::parse("textwrap.py", TEXTWRAP, BUDGET).unwrap();
        let wrap = parsed
            .symbols
            .iter()
            .position(|s| s.name == "_wrap_chunks")
            .unwrap();
        let chunk = parsed
            .chunks
            .iter()
            .find(|c| c.symbol == Some(wrap))
            .unwrap();
        assert!(
            TEXTWRAP[chunk.start..]
                .trim_start()
                .starts_with("def _wrap_chunks")
        );
    }

    #[test]
    fn kinds_of_assignments_async_functions_and_aliases() {
        let source = "\
MAX_SIZE: int = 10
name = other = 'x'
a, b = 1, 2
type Point = tuple[float, float]

class Colour:
    RED = 1
    label: str

    async def fetch(self):
        local = 1
        class Inner:
            pass

if True:
    def conditional():
        pass
else:
    VERSION = 2
";
        let symbols = outline(source);
        let kinds: Vec<(&str, SymbolKind, Option<usize>)> = symbols
            .iter()
            .map(|s| (s.name.as_str(), s.kind, s.parent))
            .collect();
        assert_eq!(
            kinds,
            [
                ("MAX_SIZE", SymbolKind::Constant, None),
                ("name", SymbolKind::Variable, None),
                ("other", SymbolKind::Variable, None),
                ("Point", SymbolKind::TypeAlias, None),
                ("Colour", SymbolKind::Class, None),
                ("RED", SymbolKind::Constant, Some(4)),
                ("label", SymbolKind::Field, Some(4)),
                ("fetch", SymbolKind::Method, Some(4)),
                ("Inner", SymbolKind::Class, Some(7)),
                ("conditional", SymbolKind::Function, None),
                ("VERSION", SymbolKind::Constant, None),
            ]
        );
        let alias = &symbols[3];
        assert_eq!(
            &source[alias.start..alias.end],
            "type Point = tuple[float, float]"
        );
    }

    #[test]
    fn decorators_with_space_parentheses_or_comments_are_included() {
        let source = "# about\n@ first\n# between\n@(second)\nclass Thing:\n    pass\n";
        let symbols = outline(source);
        assert_eq!(
            &source[symbols[0].start..symbols[0].end],
            &source[8..source.len() - 1]
        );
    }

    #[test]
    fn a_file_where_nothing_parses_is_an_error_naming_its_line() {
        let error = PythonParser::parse("bad.py", "import os\n\nx = (:\n", 200).unwrap_err();
        assert!(error.starts_with("bad.py:3:"), "{error}");
        let error = PythonParser::parse("bad.py", "def broken(:\n", 200).unwrap_err();
        assert!(error.starts_with("bad.py:1:"), "{error}");
        for source in [
            "def",
            "class A(:",
            "@decorator\ndef f[T = int](): pass\n",
            "x = (",
            "\tif x:\n  pass\n   y",
            "'''unterminated",
            "@decorator\n",
            "f'{unterminated",
        ] {
            assert!(
                PythonParser::parse("bad.py", source, 200).is_err(),
                "{source:?}"
            );
        }
    }

    /// The names (with their parent's name) of `source`'s outline, in order.
    fn names(source: &str) -> Vec<(String, Option<String>)> {
        let symbols = outline(source);
        symbols
            .iter()
            .map(|s| (s.name.clone(), s.parent.map(|p| symbols[p].name.clone())))
            .collect()
    }

    fn top(names: &[&str]) -> Vec<(String, Option<String>)> {
        names.iter().map(|name| (name.to_string(), None)).collect()
    }

    /// Case 03: Python 3.12 f-strings (PEP 701), then plain files.
    #[test]
    fn pep_701_f_strings_parse() {
        let contacts = include_str!("../tests/data/reports/contacts.py");
        assert_eq!(names(contacts), top(&["describe", "header"]));
        let describe = &outline(contacts)[0];
        assert!(contacts[describe.start..describe.end].ends_with("{person[\"email\"]}>\""));
        let paths = include_str!("../tests/data/reports/paths.py");
        assert_eq!(names(paths), top(&["SEPARATOR", "label", "nested"]));
        let totals = include_str!("../tests/data/reports/totals.py");
        let symbols = outline(totals);
        assert_eq!(
            names(totals),
            [
                ("TotalsReport".into(), None),
                ("line".into(), Some("TotalsReport".into()))
            ]
        );
        assert_eq!(symbols[1].kind, SymbolKind::Method);
        assert!(totals[symbols[1].start..symbols[1].end].ends_with(":>10.2f}\""));
        let models = include_str!("../tests/data/app/models.py");
        let class = |name: &str| Some(name.to_string());
        assert_eq!(
            names(models),
            [
                ("Invoice".into(), None),
                ("__init__".into(), class("Invoice")),
                ("total".into(), class("Invoice")),
                ("Customer".into(), None),
                ("__init__".into(), class("Customer")),
            ]
        );
        let services = include_str!("../tests/data/app/services.py");
        assert_eq!(
            names(services),
            top(&["MAX_RETRIES", "send_invoice", "retry_delay"])
        );
        let util = include_str!("../tests/data/app/util.py");
        assert_eq!(names(util), top(&["slugify"]));
        for source in [contacts, paths, totals, models, services, util] {
            assert_well_formed(source);
        }
    }

    #[test]
    fn f_and_t_strings_of_every_kind_parse() {
        let source = r#"
A = f'{'nested'}' rf"{x!r:>{w}}\d" F"""{
    # a comment
    "a" + f"{'b'}"
}"""
B = t"{name}" f"{{literal}} \N{EM DASH} {x:{'>' if y else '<'}10}"


def after(x):
    return f"{x["k"]}" + f'{"\n".join(x)}'
"#;
        assert_eq!(names(source), top(&["A", "B", "after"]));
        assert_well_formed(source);
    }

    #[test]
    fn pep_695_generics_aliases_and_match_parse() {
        let source = "\
def first[T](items: list[T]) -> T:
    return items[0]


class Box[T: (int, str), *Ts, **P]:
    def get(self) -> T:
        match self.value:
            case [x, *rest] if rest:
                return x
            case {\"k\": v, **kw}:
                return v
            case Point(x=0) | None:
                pass
            case _:
                pass


type Pair[T] = tuple[T, T]
type = 'a soft keyword is still a name'
match = 1
";
        let names = names(source);
        assert_eq!(
            names,
            [
                ("first".into(), None),
                ("Box".into(), None),
                ("get".into(), Some("Box".into())),
                ("Pair".into(), None),
                ("type".into(), None),
                ("match".into(), None),
            ]
        );
        assert_well_formed(source);
    }

    /// Syntax the parser does not know yet (type parameter defaults from Python 3.13,
    /// `except A, B:` from 3.14) or a mistake costs the statement it is in, not the file.
    #[test]
    fn a_file_that_does_not_parse_keeps_the_outline_of_what_does() {
        let source = "\
import os

LIMIT = 10


@cache
def newer[T = int](x: T) -> T:
    return x


class Service:
    name = 'svc'

    def ok(self):
        pass

    def run(self):
        try:
            pass
        except ValueError, TypeError:
            pass

    async def later(self):
        def inner():
            pass


def broken(:
    pass


class Fine:
    def method(self):
        return f\"{self[\"x\"]}\"
";
        let symbols = outline(source);
        let names: Vec<(&str, SymbolKind, Option<&str>)> = symbols
            .iter()
            .map(|s| {
                let parent = s.parent.map(|p| symbols[p].name.as_str());
                (s.name.as_str(), s.kind, parent)
            })
            .collect();
        assert_eq!(
            names,
            [
                ("LIMIT", SymbolKind::Constant, None),
                ("newer", SymbolKind::Function, None),
                ("Service", SymbolKind::Class, None),
                ("name", SymbolKind::Field, Some("Service")),
                ("ok", SymbolKind::Method, Some("Service")),
                ("run", SymbolKind::Method, Some("Service")),
                ("later", SymbolKind::Method, Some("Service")),
                ("inner", SymbolKind::Function, Some("later")),
                ("broken", SymbolKind::Function, None),
                ("Fine", SymbolKind::Class, None),
                ("method", SymbolKind::Method, Some("Fine")),
            ]
        );
        let text = |name: &str| {
            let symbol = symbols.iter().find(|s| s.name == name).unwrap();
            &source[symbol.start..symbol.end]
        };
        assert!(text("newer").starts_with("@cache\ndef newer[T = int]"));
        assert!(text("newer").ends_with("return x"));
        assert!(text("Service").ends_with("pass"));
        assert!(text("run").starts_with("def run(self):") && text("run").ends_with("pass"));
        assert_eq!(text("broken"), "def broken(:\n    pass");
        assert_well_formed(source);
    }

    #[test]
    fn truncated_files_never_panic() {
        // Every prefix of a real file is a stress test for the parser's error paths.
        for end in (0..CONTEXTLIB.len()).step_by(97) {
            let source = &CONTEXTLIB[..floor_char_boundary(CONTEXTLIB, end)];
            if let Ok(parsed) = PythonParser::parse("cut.py", source, 300) {
                assert_eq!(parsed.chunks.last().map_or(0, |c| c.end), source.len());
            }
        }
    }

    #[test]
    fn non_ascii_source_gives_spans_on_char_boundaries() {
        let source = "café = '☕'\n\n\ndef grüße(名前='🎉'):\n    \"\"\"Sagt «hallo» 👋.\"\"\"\n    return 名前 + '!'\n\n\nclass Ünïcode:\n    def émoji(self):\n        return '🦀'\n";
        let parsed = PythonParser::parse("unicode.py", source, 64).unwrap();
        let names: Vec<&str> = parsed.symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["café", "grüße", "Ünïcode", "émoji"]);
        let texts: Vec<&str> = parsed
            .symbols
            .iter()
            .map(|s| &source[s.start..s.end])
            .collect();
        assert_eq!(texts[0], "café = '☕'");
        assert!(texts[1].starts_with("def grüße(") && texts[1].ends_with("return 名前 + '!'"));
        assert!(texts[3].starts_with("def émoji(") && texts[3].ends_with("'🦀'"));
        let covered: String = parsed
            .chunks
            .iter()
            .map(|c| &source[c.start..c.end])
            .collect();
        assert_eq!(covered, source);
    }

    #[test]
    fn a_definition_ending_in_a_non_ascii_identifier_is_chunked() {
        // The span of `f` ends right after `名前`: the chunker must not slice inside it.
        let source = "def f(名前):\n    return 名前\n\n\ndef g():\n    pass\n";
        let parsed = PythonParser::parse("unicode.py", source, 64).unwrap();
        let f = &parsed.symbols[0];
        assert_eq!(&source[f.start..f.end], "def f(名前):\n    return 名前");
        let covered: String = parsed
            .chunks
            .iter()
            .map(|c| &source[c.start..c.end])
            .collect();
        assert_eq!(covered, source);
    }

    #[test]
    fn an_empty_file_has_no_symbols_or_chunks() {
        let parsed = PythonParser::parse("empty.py", "", 100).unwrap();
        assert!(parsed.symbols.is_empty() && parsed.chunks.is_empty());
        assert_eq!(PythonParser::info().extensions, ["py", "pyi", "pyw"]);
    }

    /// Outlines `source` on a stack as small as a WebAssembly instance's: deep trees
    /// must neither overflow it nor fail.
    fn outline_on_a_small_stack(source: String) -> Vec<Symbol> {
        on_small_stack(move || outline(&source))
    }

    #[test]
    fn deep_generated_code_keeps_its_outline() {
        let terms = |operator: &str| vec!["a"; 20_000].join(operator);
        let after = "\n\ndef after():\n    pass\n";
        for value in [
            terms(" + "),
            terms(" | "),
            terms(" and "),
            format!("{}1{}", "f(".repeat(5000), ")".repeat(5000)),
            format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
            format!("a{}", ".b".repeat(20_000)),
        ] {
            let symbols = outline_on_a_small_stack(format!("ALL = {value}{after}"));
            let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["ALL", "after"], "{}", &value[..20]);
        }
        // 5,000-arm `elif` chains, in a function and at top level.
        let mut classify = String::from("def classify(x):\n    if x == 0:\n        return 0\n");
        let mut top = String::from("if x == 0:\n    def a0(): pass\n");
        for i in 1..5000 {
            classify += &format!("    elif x == {i}:\n        return {i}\n");
            top += &format!("elif x == {i}:\n    def a{i}(): pass\n");
        }
        classify += "    else:\n        return -1\n\n\ndef is_known(x):\n    return True\n";
        top += "else:\n    def last(): pass\n";
        let names: Vec<String> = outline_on_a_small_stack(classify)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["classify", "is_known"]);
        let symbols = outline_on_a_small_stack(top);
        assert_eq!(symbols.len(), 5001);
        assert_eq!(symbols[4999].name, "a4999");
        assert_eq!(symbols[5000].name, "last");
    }

    /// A deep tree, then syntax the parser does not know: the parser drops what it built
    /// when it fails, so no statement may build a tree too deep to drop. The outline
    /// comes from the statements that parse, spans from the source as written.
    #[test]
    fn a_deep_chain_then_a_syntax_error_keeps_its_outline() {
        let terms = |operator: &str| vec!["a"; 20_000].join(operator);
        let newer = "\n\ndef f[T = int](): pass\n";
        for value in [
            terms(" + "),
            terms(" and "),
            terms(" if b else "),
            format!("{}1{}", "f(".repeat(5000), ")".repeat(5000)),
            format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
            format!("a{}", ".b".repeat(20_000)),
            format!("a{}", "()".repeat(20_000)),
            format!("{}a", "not ".repeat(20_000)),
            format!("{}a", "lambda: ".repeat(20_000)),
        ] {
            let source = format!("ALL = {value}{newer}");
            let symbols = outline_on_a_small_stack(source.clone());
            let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["ALL", "f"], "{}", &value[..20]);
            assert_eq!(
                &source[symbols[0].start..symbols[0].end],
                format!("ALL = {value}")
            );
        }
        // A 5,000-arm `elif` chain, and a deep chain in a function, before the error.
        let mut chain = String::from("if x == 0:\n    pass\n");
        for i in 1..5000 {
            chain += &format!("elif x == {i}:\n    pass\n");
        }
        let function = format!("def g():\n    return {}\n", terms(" + "));
        for source in [chain, function] {
            let names: Vec<String> = outline_on_a_small_stack(format!("{source}{newer}"))
                .into_iter()
                .map(|s| s.name)
                .collect();
            assert_eq!(names.last().map(String::as_str), Some("f"));
        }
    }
}
