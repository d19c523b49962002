//! Kiln's Python parser: symbols and chunks from RustPython's syntax tree.
//!
//! Reports classes, functions (sync and async), methods (functions directly in a class
//! body), nested definitions with their enclosing symbol as parent, simple-name
//! assignments at module level (`Constant` when UPPER_CASE, else `Variable`) and in
//! class bodies (`Constant` or `Field`), and `type X = ...` aliases. Definitions inside
//! `if`/`try`/`with`/`for`/`while`/`match` blocks count as definitions of the scope
//! around the block, since that is where Python binds them. A decorated definition's
//! span starts at its first `@`. Source that does not parse is an error, so the host
//! falls back to another parser.

use kiln_plugin_sdk::{
    parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind},
    text::{TextIndex, floor_char_boundary},
};
use rustpython_parser::{
    Mode,
    ast::{self, Expr, Ranged, Stmt, text_size::TextRange},
};

pub struct PythonParser;

impl LanguageParser for PythonParser {
    fn info() -> ParserInfo {
        ParserInfo::new(&["python"], &["py", "pyi", "pyw"])
    }

    fn outline(path: &str, source: &str) -> Result<Outline, String> {
        let suite = parse(path, source)?;
        let mut walker = Walker {
            source,
            symbols: Vec::new(),
        };
        walker.body(&suite, Scope::Module);
        Ok(Outline::new("python", walker.symbols))
    }
}

/// Parses `source` as a module, reporting errors as `path:line:column: message`.
fn parse(path: &str, source: &str) -> Result<Vec<Stmt>, String> {
    // RustPython's parser returns errors for invalid input, but it is generated code
    // full of `unwrap`s on invariants we cannot audit for every input. Catching a panic
    // turns such a bug into an ordinary error in native builds; in WebAssembly panics
    // abort, and the host treats the trap as a failed parse.
    let result = std::panic::catch_unwind(|| rustpython_parser::parse(source, Mode::Module, path))
        .map_err(|_| format!("{path}: the Python parser crashed on this file"))?;
    match result {
        Ok(ast::Mod::Module(module)) => Ok(module.body),
        Ok(_) => Err(format!("{path}: not a Python module")),
        Err(error) => {
            let offset = floor_char_boundary(source, usize::from(error.offset));
            let index = TextIndex::new(source);
            let line = index.line_of(offset);
            let column = source[index.line_start(offset)..offset].chars().count() + 1;
            Err(format!("{path}:{line}:{column}: {}", error.error))
        }
    }
}

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
}

impl Walker<'_> {
    /// Records the definitions of `body` in source order, parents before children.
    fn body(&mut self, body: &[Stmt], scope: Scope) {
        for stmt in body {
            self.stmt(stmt, scope);
        }
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
            Stmt::If(ast::StmtIf { body, orelse, .. })
            | Stmt::For(ast::StmtFor { body, orelse, .. })
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
        self.symbols.push(Symbol {
            kind,
            name: name.to_owned(),
            start,
            end: usize::from(range.end()),
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
    fn a_syntax_error_is_an_error_naming_its_line() {
        let error = PythonParser::parse("bad.py", "import os\n\ndef broken(:\n    pass\n", 200)
            .unwrap_err();
        assert!(error.starts_with("bad.py:3:"), "{error}");
        for source in [
            "def",
            "class A(:",
            "x = (",
            "\tif x:\n  pass\n   y",
            "'''unterminated",
            "@decorator\n",
        ] {
            assert!(
                PythonParser::parse("bad.py", source, 200).is_err(),
                "{source:?}"
            );
        }
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
}
