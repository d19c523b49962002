//! Kiln's JavaScript and TypeScript parser: symbols and chunks from oxc's syntax tree.
//!
//! It reports the declarations at module level (and inside TypeScript namespaces):
//! functions (`Function`, also for a `const`/`let`/`var` or an assignment such as
//! `Foo.prototype.bar = function () {}` whose value is a function or arrow function);
//! classes (`Class`, also for `const X = class {}`) with their methods (`Method`) and
//! properties (`Field`); other `const` declarations (`Constant`) and `let`/`var`
//! declarations (`Variable`); TypeScript interfaces (`Interface`, with their property and
//! method signatures as `Field` and `Method`), type aliases (`TypeAlias`), enums (`Enum`)
//! and namespaces or modules (`Module`, named `A.B` or `"module-name"` or `global`, with
//! their declarations as children). A span covers the comment lines directly above the
//! declaration (its JSDoc), its decorators and, when exported, the whole `export ...`
//! statement; `export default` of an anonymous function or class is named `default`.
//! Private members keep their `#`, computed keys are shown as `[expression]`.
//!
//! The language is `typescript` for `.ts`, `.mts`, `.cts` and `.tsx`, `javascript`
//! otherwise. JSX is accepted in `.jsx` and `.tsx`, and in plain JavaScript files too,
//! since React projects often keep JSX in `.js` files.

mod depth;
mod jsx;
mod scan;

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    Class, ClassElement, Comment, Declaration, Decorator, ExportDefaultDeclarationKind, Expression,
    PropertyKey, Statement, TSInterfaceDeclaration, TSModuleBlock, TSNamespaceDeclarationBody,
    TSSignature, VariableDeclaration, VariableDeclarationKind,
};
use oxc_parser::{ParseOptions, Parser, ParserReturn};
use oxc_span::{FileExtension, GetSpan, SourceType, Span};

use kiln_plugin_sdk::parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind};

pub struct JavaScriptParser;

const EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx"];

/// Code nested deeper than this (brackets, generics, and chains such as `a ? b : c ?
/// ...`) is blanked out before parsing (see [`depth`]): real code stays far below it,
/// and oxc handles several times more within a WebAssembly stack.
const MAX_NESTING: usize = 128;

impl LanguageParser for JavaScriptParser {
    fn info() -> ParserInfo {
        ParserInfo::new(&["javascript", "typescript"], EXTENSIONS)
    }

    fn outline(path: &str, source: &str) -> Result<Outline, String> {
        let source_type = source_type(path);
        let language = if source_type.is_typescript() {
            "typescript"
        } else {
            "javascript"
        };
        let allocator = Allocator::default();
        let (source, parsed) = parse_flattened(&allocator, path, source, source_type);
        // oxc recovers from some errors and still builds the program; only give up when
        // nothing usable came out, so that a slip in a big file keeps its outline. (On
        // errors it cannot recover from it "panics": stops, with an empty program.)
        let failed = parsed.diagnostics.has_errors()
            && parsed.program.body.is_empty()
            && !source.trim().is_empty();
        if parsed.panicked || failed {
            let mut errors = parsed.diagnostics.errors();
            let first = errors.next().map_or_else(String::new, ToString::to_string);
            let more = errors.count();
            let more = if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            };
            return Err(format!("syntax error: {first}{more}"));
        }
        let mut outliner = Outliner {
            source,
            comments: &parsed.program.comments,
            symbols: Vec::new(),
        };
        outliner.statements(&parsed.program.body, None);
        Ok(Outline::new(language, outliner.symbols))
    }
}

/// Parses `source`, or what oxc's recursion can take of it, and returns the text parsed.
///
/// Code too deep for that (generated code, or a bundle of it) is parsed with the
/// deepest groups blanked out. Offsets do not move, and the declarations an outline
/// lists sit near the top, so the outline is the same save what was inside them.
/// Should that leave code that does not parse (a `0` standing in for a group that is no
/// expression), the groups around those are blanked instead.
fn parse_flattened<'a>(
    allocator: &'a Allocator,
    path: &str,
    source: &'a str,
    source_type: SourceType,
) -> (&'a str, ParserReturn<'a>) {
    let dialect = scan::Dialect {
        typescript: source_type.is_typescript(),
        jsx: source_type.is_jsx(),
    };
    let nesting = depth::nesting(source, MAX_NESTING, dialect, 0);
    if !nesting.too_deep() {
        return (source, parse(allocator, source, source_type));
    }
    let message = format!(
        "{path}: nested {} levels deep; parsed with the deepest parts left out",
        nesting.deepest
    );
    kiln_plugin_sdk::log(kiln_plugin_sdk::LogLevel::Info, &message);
    let flat = allocator.alloc_str(&nesting.flatten(source));
    let parsed = parse(allocator, flat, source_type);
    let errors = parsed.diagnostics.errors().count();
    if errors == 0 {
        return (flat, parsed);
    }
    let nesting = depth::nesting(source, MAX_NESTING, dialect, 1);
    let wider = allocator.alloc_str(&nesting.flatten(source));
    let retried = parse(allocator, wider, source_type);
    if retried.diagnostics.errors().count() < errors {
        (wider, retried)
    } else {
        (flat, parsed)
    }
}

/// Parses `source` with oxc.
fn parse<'a>(
    allocator: &'a Allocator,
    source: &'a str,
    source_type: SourceType,
) -> ParserReturn<'a> {
    // CommonJS modules may `return` at top level.
    let options = ParseOptions {
        allow_return_outside_function: true,
        ..ParseOptions::default()
    };
    Parser::new(allocator, source, source_type)
        .with_options(options)
        .parse()
}

/// oxc's source type for `path`, by its (case-insensitive) extension.
fn source_type(path: &str) -> SourceType {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension.parse::<FileExtension>() {
        Ok(extension) => {
            let source_type = SourceType::from(extension)
                .with_typescript_definition(extension.is_ts_declaration(&name));
            if source_type.is_javascript() {
                source_type.with_jsx(true)
            } else {
                source_type
            }
        }
        Err(_) => SourceType::default().with_jsx(true),
    }
}

struct Outliner<'s> {
    source: &'s str,
    /// All comments, in source order.
    comments: &'s [Comment],
    symbols: Vec<Symbol>,
}

impl Outliner<'_> {
    fn statements(&mut self, statements: &[Statement], parent: Option<usize>) {
        for statement in statements {
            self.statement(statement, parent);
        }
    }

    fn statement(&mut self, statement: &Statement, parent: Option<usize>) {
        let span = statement.span();
        match statement {
            Statement::ExportDeclaration(export) => {
                self.declaration(&export.declaration, span, parent);
            }
            Statement::ExportDefaultDeclaration(export) => match &export.declaration {
                ExportDefaultDeclarationKind::FunctionDeclaration(function) => {
                    let name = function
                        .id
                        .as_ref()
                        .map_or("default", |id| id.name.as_str());
                    self.push(SymbolKind::Function, name, span, parent);
                }
                ExportDefaultDeclarationKind::ClassDeclaration(class) => {
                    self.class(class, "default", span, parent);
                }
                ExportDefaultDeclarationKind::TSInterfaceDeclaration(interface) => {
                    self.interface(interface, span, parent);
                }
                other => {
                    if let Some(value) = other.as_expression() {
                        self.value("default", value, SymbolKind::Constant, span, parent);
                    }
                }
            },
            // `Foo.prototype.bar = function () {}`, `module.exports = () => {}`
            Statement::ExpressionStatement(expression) => {
                if let Expression::AssignmentExpression(assignment) = &expression.expression
                    && is_function(&assignment.right)
                {
                    let name = self.text(assignment.left.span()).to_owned();
                    self.push(SymbolKind::Function, &name, span, parent);
                }
            }
            _ => {
                if let Some(declaration) = statement.as_declaration() {
                    self.declaration(declaration, span, parent);
                }
            }
        }
    }

    /// A declaration written as the statement `outer` (itself, or `export` + itself).
    fn declaration(&mut self, declaration: &Declaration, outer: Span, parent: Option<usize>) {
        let span = outer.merge(declaration.span());
        match declaration {
            Declaration::VariableDeclaration(variables) => self.variables(variables, span, parent),
            Declaration::FunctionDeclaration(function) => {
                let name = function
                    .id
                    .as_ref()
                    .map_or("default", |id| id.name.as_str());
                self.push(SymbolKind::Function, name, span, parent);
            }
            Declaration::ClassDeclaration(class) => self.class(class, "default", span, parent),
            Declaration::TSTypeAliasDeclaration(alias) => {
                self.push(SymbolKind::TypeAlias, &alias.id.name, span, parent);
            }
            Declaration::TSInterfaceDeclaration(interface) => {
                self.interface(interface, span, parent);
            }
            Declaration::TSEnumDeclaration(enumeration) => {
                self.push(SymbolKind::Enum, &enumeration.id.name, span, parent);
            }
            Declaration::TSExternalModuleDeclaration(module) => {
                let name = self.text(module.id.span).to_owned();
                let module_index = self.push(SymbolKind::Module, &name, span, parent);
                if let (Some(body), Some(_)) = (&module.body, module_index) {
                    self.statements(&body.body, module_index);
                }
            }
            Declaration::TSNamespaceDeclaration(namespace) => {
                // `namespace A.B { }` nests `B` inside `A`; it reads as one module `A.B`.
                let mut name = namespace.id.name.to_string();
                let mut body = &namespace.body;
                while let TSNamespaceDeclarationBody::TSNamespaceDeclaration(inner) = body {
                    name = format!("{name}.{}", inner.id.name);
                    body = &inner.body;
                }
                let block: Option<&TSModuleBlock> = match body {
                    TSNamespaceDeclarationBody::TSModuleBlock(block) => Some(block),
                    TSNamespaceDeclarationBody::TSNamespaceDeclaration(_) => None,
                };
                let module_index = self.push(SymbolKind::Module, &name, span, parent);
                if let (Some(block), Some(_)) = (block, module_index) {
                    self.statements(&block.body, module_index);
                }
            }
            Declaration::TSGlobalDeclaration(global) => {
                let module_index = self.push(SymbolKind::Module, "global", span, parent);
                if module_index.is_some() {
                    self.statements(&global.body.body, module_index);
                }
            }
            Declaration::TSImportEqualsDeclaration(_) => {}
        }
    }

    /// `const a = 1, f = () => {}`: one symbol per named declarator. The first starts with
    /// the keyword (and `export`), the last ends with the statement.
    fn variables(&mut self, variables: &VariableDeclaration, span: Span, parent: Option<usize>) {
        let kind = match variables.kind {
            VariableDeclarationKind::Const => SymbolKind::Constant,
            _ => SymbolKind::Variable,
        };
        let last = variables.declarations.len().saturating_sub(1);
        for (i, declarator) in variables.declarations.iter().enumerate() {
            // Destructuring (`const { a, b } = require(...)`) names no single thing.
            let Some(id) = declarator.id.get_binding_identifier() else {
                continue;
            };
            let start = if i == 0 {
                span.start
            } else {
                declarator.span.start
            };
            let end = if i == last {
                span.end
            } else {
                declarator.span.end
            };
            let declarator_span = Span::new(start, end);
            match &declarator.init {
                Some(value) => self.value(&id.name, value, kind, declarator_span, parent),
                None => {
                    self.push(kind, &id.name, declarator_span, parent);
                }
            }
        }
    }

    /// A name bound to `value`: a function, a class, or else a `kind` (constant/variable).
    fn value(
        &mut self,
        name: &str,
        value: &Expression,
        kind: SymbolKind,
        span: Span,
        parent: Option<usize>,
    ) {
        match value.get_inner_expression() {
            Expression::ClassExpression(class) => self.class(class, name, span, parent),
            value if is_function(value) => {
                self.push(SymbolKind::Function, name, span, parent);
            }
            // `export default someExpression` names nothing worth listing.
            _ if name == "default" => {}
            _ => {
                self.push(kind, name, span, parent);
            }
        }
    }

    fn class(&mut self, class: &Class, fallback: &str, span: Span, parent: Option<usize>) {
        let name = class.id.as_ref().map_or(fallback, |id| id.name.as_str());
        let span = with_decorators(span.merge(class.span), &class.decorators);
        let Some(index) = self.push(SymbolKind::Class, name, span, parent) else {
            return;
        };
        for element in &class.body.body {
            let (kind, key, span, decorators) = match element {
                ClassElement::MethodDefinition(method) => (
                    SymbolKind::Method,
                    &method.key,
                    method.span,
                    &method.decorators,
                ),
                ClassElement::PropertyDefinition(property) => (
                    SymbolKind::Field,
                    &property.key,
                    property.span,
                    &property.decorators,
                ),
                ClassElement::AccessorProperty(accessor) => (
                    SymbolKind::Field,
                    &accessor.key,
                    accessor.span,
                    &accessor.decorators,
                ),
                ClassElement::StaticBlock(_) | ClassElement::TSIndexSignature(_) => continue,
            };
            let name = self.key_name(key);
            self.push(kind, &name, with_decorators(span, decorators), Some(index));
        }
    }

    fn interface(&mut self, interface: &TSInterfaceDeclaration, span: Span, parent: Option<usize>) {
        let Some(index) = self.push(SymbolKind::Interface, &interface.id.name, span, parent) else {
            return;
        };
        for signature in &interface.body.body {
            let (kind, key, span) = match signature {
                TSSignature::TSPropertySignature(property) => {
                    (SymbolKind::Field, &property.key, property.span)
                }
                TSSignature::TSMethodSignature(method) => {
                    (SymbolKind::Method, &method.key, method.span)
                }
                _ => continue,
            };
            let name = self.key_name(key);
            self.push(kind, &name, span, Some(index));
        }
    }

    /// `name`, `#private`, `"quoted"` as `quoted`, `[computed]` as written.
    fn key_name(&self, key: &PropertyKey) -> String {
        match key {
            PropertyKey::PrivateIdentifier(private) => format!("#{}", private.name),
            _ => match key.static_name() {
                Some(name) => name.into_owned(),
                None => format!("[{}]", self.text(key.span())),
            },
        }
    }

    fn text(&self, span: Span) -> &str {
        self.source
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// Where the comments on the lines directly above `start` begin (or `start`).
    fn doc_start(&self, start: u32) -> u32 {
        let before = self
            .comments
            .partition_point(|comment| comment.span.end <= start);
        let mut start = start;
        for comment in self.comments[..before].iter().rev() {
            let gap = self.text(Span::new(comment.span.end, start));
            let preceding = self
                .source
                .get(..comment.span.start as usize)
                .unwrap_or_default();
            let own_line = preceding
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .trim()
                .is_empty();
            if !own_line || !gap.trim().is_empty() || gap.matches('\n').count() > 1 {
                break;
            }
            start = comment.span.start;
        }
        start
    }

    /// Records a symbol (with its doc comment), unless its span is empty or not within
    /// the source.
    fn push(
        &mut self,
        kind: SymbolKind,
        name: &str,
        span: Span,
        parent: Option<usize>,
    ) -> Option<usize> {
        let (start, end) = (self.doc_start(span.start) as usize, span.end as usize);
        if start >= end || self.source.get(start..end).is_none() {
            return None;
        }
        self.symbols.push(Symbol {
            kind,
            name: name.to_owned(),
            start,
            end,
            parent,
        });
        Some(self.symbols.len() - 1)
    }
}

fn is_function(expression: &Expression) -> bool {
    expression.get_inner_expression().is_function()
}

/// `span` widened to take in the decorators written before it.
fn with_decorators(span: Span, decorators: &[Decorator]) -> Span {
    decorators
        .iter()
        .fold(span, |span, decorator| span.merge(decorator.span))
}

kiln_plugin_sdk::export_language_parser!(JavaScriptParser);

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_plugin_sdk::stack::on_small_stack;

    const BUDGET: usize = 1500;

    fn outline(path: &str, source: &str) -> Outline {
        JavaScriptParser::outline(path, source).unwrap()
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
    fn assert_well_formed(path: &str, source: &str) {
        let parsed = JavaScriptParser::parse(path, source, BUDGET).unwrap();
        parsed.check(source, BUDGET).unwrap();
        assert!(parsed.symbols.iter().all(|s| s.start < s.end));
    }

    #[test]
    fn outlines_playwright_javascript() {
        let path = "lib/tools/cli-client/output.js";
        let source = include_str!("../../corpus/playwright_output.js");
        let outline = outline(path, source);
        assert_eq!(outline.language, "javascript");
        let symbols = &outline.symbols;
        let (text_output, class) = find(symbols, SymbolKind::Class, "TextOutput");
        assert!(text(source, class).starts_with("class TextOutput {"));
        assert!(text(source, class).ends_with('}'));
        let (json_output, _) = find(symbols, SymbolKind::Class, "JsonOutput");
        let lists: Vec<_> = symbols.iter().filter(|s| s.name == "list").collect();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].parent, Some(text_output));
        assert_eq!(lists[1].parent, Some(json_output));
        assert_eq!(
            find(symbols, SymbolKind::Method, "_emit").1.parent,
            Some(json_output)
        );
        let render = find(symbols, SymbolKind::Function, "renderBrowser").1;
        assert!(text(source, render).starts_with("function renderBrowser(browser) {"));
        // esbuild's helpers: arrow functions bound with `var`.
        find(symbols, SymbolKind::Function, "__toCommonJS");
        find(symbols, SymbolKind::Variable, "import_path");
        assert_well_formed(path, source);
    }

    #[test]
    fn outlines_rxjs_test_scheduler() {
        let path = "src/internal/testing/TestScheduler.ts";
        let source = include_str!("../../corpus/rxjs_TestScheduler.ts");
        let outline = outline(path, source);
        assert_eq!(outline.language, "typescript");
        let symbols = &outline.symbols;
        let (helpers, interface) = find(symbols, SymbolKind::Interface, "RunHelpers");
        assert!(text(source, interface).starts_with("export interface RunHelpers {"));
        assert_eq!(
            find(symbols, SymbolKind::Field, "cold").1.parent,
            Some(helpers)
        );
        find(symbols, SymbolKind::Interface, "FlushableTest");
        find(symbols, SymbolKind::TypeAlias, "observableToBeFn");
        find(symbols, SymbolKind::Constant, "defaultMaxFrame");
        let (scheduler, class) = find(symbols, SymbolKind::Class, "TestScheduler");
        assert!(text(source, class).starts_with("export class TestScheduler extends"));
        assert!(text(source, class).ends_with('}'));
        let (_, parse) = find(symbols, SymbolKind::Method, "parseMarbles");
        assert_eq!(parse.parent, Some(scheduler));
        // The JSDoc above a member is part of its span.
        let factor = find(symbols, SymbolKind::Field, "frameTimeFactor").1;
        assert!(
            text(source, factor).starts_with("/**"),
            "{}",
            text(source, factor)
        );
        assert!(text(source, factor).ends_with("static frameTimeFactor = 10;"));
        assert_eq!(
            find(symbols, SymbolKind::Method, "run").1.parent,
            Some(scheduler)
        );
        assert_well_formed(path, source);
        // Real code, generics and all, nests well within the limit.
        assert!(!depth::nesting(source, MAX_NESTING, scan::Dialect::TYPESCRIPT, 0).too_deep());
    }

    #[test]
    fn outlines_rxjs_notification() {
        let path = "src/internal/Notification.ts";
        let source = include_str!("../../corpus/rxjs_Notification.ts");
        let symbols = outline(path, source).symbols;
        let kind = find(&symbols, SymbolKind::Enum, "NotificationKind").1;
        // All the comment lines directly above belong to it, the JSDoc and a `// TODO`.
        assert!(text(source, kind).starts_with("// TODO: When this enum is removed"));
        assert!(text(source, kind).ends_with("COMPLETE = 'C',\n}"));
        let (notification, _) = find(&symbols, SymbolKind::Class, "Notification");
        // Overloads are listed one by one, each with its own documentation.
        let accepts = symbols.iter().filter(|s| s.name == "accept").count();
        assert_eq!(accepts, 5);
        let create = find(&symbols, SymbolKind::Method, "createNext").1;
        assert_eq!(create.parent, Some(notification));
        let private = find(&symbols, SymbolKind::Field, "completeNotification").1;
        assert_eq!(private.parent, Some(notification));
        let observe = find(&symbols, SymbolKind::Function, "observeNotification").1;
        assert!(text(source, observe).contains("export function observeNotification<T>"));
        assert_well_formed(path, source);
    }

    #[test]
    fn parses_jsx_and_tsx() {
        let tsx = "import React from 'react';\n\n/** A greeting. */\nexport default function Hello({ name }: { name: string }) {\n  return <div className=\"hi\">Hello, {name}!</div>;\n}\n\nexport const List = <T,>(props: { items: T[] }) => <ul>{props.items.map((i) => <li>{String(i)}</li>)}</ul>;\n";
        let parsed = outline("src/Hello.tsx", tsx);
        assert_eq!(parsed.language, "typescript");
        let hello = find(&parsed.symbols, SymbolKind::Function, "Hello").1;
        assert!(text(tsx, hello).starts_with("/** A greeting. */\nexport default function"));
        assert!(text(tsx, hello).ends_with("</div>;\n}"));
        find(&parsed.symbols, SymbolKind::Function, "List");
        assert_well_formed("src/Hello.tsx", tsx);
        // React projects keep JSX in `.js` files too.
        let js = "export function App() {\n  return <main><Hello name=\"x\" /></main>;\n}\n";
        let parsed = outline("src/App.js", js);
        assert_eq!(parsed.language, "javascript");
        find(&parsed.symbols, SymbolKind::Function, "App");
    }

    #[test]
    fn names_exports_namespaces_and_members() {
        let source = r#"@Component({ selector: 'x' })
export class Widget {
  #secret = 1;
  [Symbol.iterator]() {}
  @Input() label: string;
  static create() { return new Widget(); }
}
export default class {}
export let a = 1, b = () => 2;
const { x, y } = require('z');
const Shape = class { area() {} };
Foo.prototype.bar = function () {};
export namespace Outer.Inner {
  export const value = 3;
  function helper() {}
}
declare module "lib" {
  export function f(): void;
}
declare global {
  interface Window { kiln: string; open(): void }
}
export type Id = string | number;
"#;
        let symbols = outline("src/x.ts", source).symbols;
        let (widget, class) = find(&symbols, SymbolKind::Class, "Widget");
        assert!(text(source, class).starts_with("@Component({ selector: 'x' })\nexport class"));
        for (kind, name) in [
            (SymbolKind::Field, "#secret"),
            (SymbolKind::Method, "[Symbol.iterator]"),
            (SymbolKind::Field, "label"),
            (SymbolKind::Method, "create"),
        ] {
            assert_eq!(find(&symbols, kind, name).1.parent, Some(widget), "{name}");
        }
        assert!(text(source, find(&symbols, SymbolKind::Field, "label").1).starts_with("@Input()"));
        find(&symbols, SymbolKind::Class, "default");
        let a = find(&symbols, SymbolKind::Variable, "a").1;
        assert_eq!(text(source, a), "export let a = 1");
        let b = find(&symbols, SymbolKind::Function, "b").1;
        assert_eq!(text(source, b), "b = () => 2;");
        assert!(!symbols.iter().any(|s| s.name == "x" || s.name == "y"));
        let (shape, _) = find(&symbols, SymbolKind::Class, "Shape");
        assert_eq!(
            find(&symbols, SymbolKind::Method, "area").1.parent,
            Some(shape)
        );
        find(&symbols, SymbolKind::Function, "Foo.prototype.bar");
        let (outer, _) = find(&symbols, SymbolKind::Module, "Outer.Inner");
        assert_eq!(
            find(&symbols, SymbolKind::Constant, "value").1.parent,
            Some(outer)
        );
        assert_eq!(
            find(&symbols, SymbolKind::Function, "helper").1.parent,
            Some(outer)
        );
        let (module, _) = find(&symbols, SymbolKind::Module, "\"lib\"");
        assert_eq!(
            find(&symbols, SymbolKind::Function, "f").1.parent,
            Some(module)
        );
        let (global, _) = find(&symbols, SymbolKind::Module, "global");
        let (window, _) = find(&symbols, SymbolKind::Interface, "Window");
        assert_eq!(symbols[window].parent, Some(global));
        assert_eq!(
            find(&symbols, SymbolKind::Method, "open").1.parent,
            Some(window)
        );
        find(&symbols, SymbolKind::TypeAlias, "Id");
        assert_well_formed("src/x.ts", source);
    }

    #[test]
    fn syntax_errors_give_an_error_or_a_partial_outline() {
        // oxc gives up on these: an error, so the host tries its next parser.
        for (path, source) in [
            ("a.js", "function good() {}\nlet x = 1 +;\nclass Fine {}\n"),
            ("a.js", "function ( {"),
            ("a.ts", "class { ] ] ]"),
            ("a.js", "\u{0}\u{1}))))"),
            ("a.tsx", "export const A = () => <div>;"),
        ] {
            let error = JavaScriptParser::outline(path, source).unwrap_err();
            assert!(error.starts_with("syntax error: "), "{error}");
        }
        // oxc recovers from these: the outline survives the mistake.
        let source = "function good() {}\nconst x;\nx = { get a(b) {} };\nclass Fine {}\n";
        let symbols = outline("a.js", source).symbols;
        find(&symbols, SymbolKind::Function, "good");
        find(&symbols, SymbolKind::Class, "Fine");
        assert_well_formed("a.js", source);
        assert!(outline("a.js", "  // nothing here\n").symbols.is_empty());
    }

    /// Case 04: minified bundles whose regexes hold brackets (`return/\(/.test(e)`),
    /// and the project's own files uploaded after them.
    #[test]
    fn minified_bundles_with_regexes_parse() {
        let shapes = [
            "function {n}(e){return/\\(/.test(e)?e.slice(1):e}",
            "function {n}(e,t){if(typeof e!=\"string\")return t;return/^\\s*\\[/.test(e)?JSON.parse(e):t}",
            "function {n}(e){var t=e.length;return/\\{/.test(e)&&t>2}",
        ];
        let body: String = (0..600)
            .map(|i| shapes[i % 3].replace("{n}", &format!("c{i:x}")))
            .collect();
        let bundle = format!(
            "/*! charts v1.0.0 | synthetic test bundle */\n!function(g){{\"use strict\";{body}g.charts={{c0:c0}}}}(typeof globalThis<\"u\"?globalThis:this);\n"
        );
        assert!(!depth::nesting(&bundle, MAX_NESTING, scan::Dialect::JAVASCRIPT, 0).too_deep());
        outline("out/vendor/charts.min.js", &bundle);
        assert_well_formed("out/vendor/charts.min.js", &bundle);
        // The same functions at top level are all listed.
        let symbols = outline("vendor/flat.min.js", &body).symbols;
        assert_eq!(symbols.len(), 600);

        let api = include_str!("../tests/data/api.ts");
        let symbols = outline("src/api.ts", api).symbols;
        let (profile, _) = find(&symbols, SymbolKind::Interface, "UserProfile");
        assert_eq!(
            find(&symbols, SymbolKind::Field, "id").1.parent,
            Some(profile)
        );
        find(&symbols, SymbolKind::Function, "fetchUserProfile");
        let (client, _) = find(&symbols, SymbolKind::Class, "ApiClient");
        assert_eq!(
            find(&symbols, SymbolKind::Method, "url").1.parent,
            Some(client)
        );
        let store = include_str!("../tests/data/store.ts");
        let symbols = outline("src/store.ts", store).symbols;
        find(&symbols, SymbolKind::TypeAlias, "CartItem");
        find(&symbols, SymbolKind::Constant, "MAX_ITEMS");
        find(&symbols, SymbolKind::Function, "addToCart");
        let ui = include_str!("../tests/data/ui.jsx");
        let symbols = outline("src/ui.jsx", ui).symbols;
        find(&symbols, SymbolKind::Function, "ProfileCard");
        find(&symbols, SymbolKind::Function, "EmptyState");
        for (path, source) in [
            ("src/api.ts", api),
            ("src/store.ts", store),
            ("src/ui.jsx", ui),
        ] {
            assert_well_formed(path, source);
        }
    }

    /// Outlines `source` on a stack as small as a WebAssembly instance's: deep code must
    /// neither overflow it nor fail.
    fn symbols_on_a_small_stack(path: &'static str, source: &str) -> Vec<Symbol> {
        let source = source.to_owned();
        on_small_stack(move || outline(path, &source).symbols)
    }

    /// Nesting too deep for oxc's recursive descent degrades to an outline of what is
    /// not too deep, instead of an error (or a crash).
    #[test]
    fn deeply_nested_code_keeps_its_outline() {
        let deep = |open: &str, close: &str| {
            format!(
                "/** Before. */\nexport function before() {{}}\nconst DATA = {}1{};\nclass After {{\n  run() {{ return f({}2{}); }}\n}}\nlet tail = (x) => x;\n",
                open.repeat(5000),
                close.repeat(5000),
                open.repeat(3000),
                close.repeat(3000),
            )
        };
        for (open, close) in [
            ("[", "]"),
            ("(", ")"),
            ("f(", ")"),
            ("{a:", "}"),
            ("`${", "}`"),
        ] {
            let source = deep(open, close);
            let symbols = symbols_on_a_small_stack("deep.js", &source);
            let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["before", "DATA", "After", "run", "tail"], "{open}");
            let data = find(&symbols, SymbolKind::Constant, "DATA").1;
            assert!(text(&source, data).starts_with("const DATA = "));
            assert!(text(&source, data).ends_with(&format!("{close};")));
            assert_well_formed("deep.js", &source);
        }
    }

    /// Chains whose every link oxc parses inside the one before (generated `else if`
    /// dispatch, minified `a?b:c?d:...` lookups) are as deep as brackets: they too
    /// degrade to an outline instead of a crash.
    #[test]
    fn deep_chains_keep_their_outline() {
        let n = 5000;
        let mut elif = String::from("if (x === 0) { y = 0; }");
        for i in 1..n {
            elif += &format!(" else if (x === {i}) {{ y = {i}; }}");
        }
        elif += " else { y = -1; }";
        let chains = [
            elif.clone(),
            format!("y = {}0;", "a ? 1 : ".repeat(n)),
            format!("y = {}0;", "a\n  ? 1\n  : ".repeat(n)),
            format!("y = {}0;", "a => ".repeat(n)),
            format!("y = {}0;", "!".repeat(n)),
            format!("y = {}0;", "a = ".repeat(n)),
            format!("y = {}X;", "new ".repeat(n)),
            format!("y = {}0;", "- ".repeat(n)),
        ];
        for chain in &chains {
            // In a function, at the top level, and as a constant's value.
            let value = chain.strip_prefix("y = ").unwrap_or("0;");
            let source = format!(
                "export function inside(x) {{\n  {chain}\n}}\n{chain}\nexport const VALUE = {value}\nclass After {{\n  run() {{ {chain} }}\n}}\n"
            );
            let symbols = symbols_on_a_small_stack("deep.js", &source);
            let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(
                names,
                ["inside", "VALUE", "After", "run"],
                "{}",
                &chain[..40]
            );
            assert_well_formed("deep.js", &source);
        }
    }

    /// Blanking never leaves `0` where a parameter list stands: nesting made of function
    /// expressions, methods and arrow functions still parses once flattened.
    #[test]
    fn flattened_parameter_lists_stay_valid() {
        for link in [
            "f(function(a){return ",
            "f({m(a){return ",
            "f((a)=>{return ",
            "f(async function named(a, b){return ",
            // Not known for parameters: the retry blanks the call around instead.
            "f(function*(a){return ",
        ] {
            let close = if link.contains('{') && link.starts_with("f({") {
                "}})"
            } else {
                "})"
            };
            let source = format!(
                "export const x = {}0{};\nexport function after() {{}}\n",
                link.repeat(64),
                close.repeat(64)
            );
            let names: Vec<String> = symbols_on_a_small_stack("deep.js", &source)
                .into_iter()
                .map(|s| s.name)
                .collect();
            assert_eq!(names, ["x", "after"], "{link}");
        }
    }

    /// Flattening at the top level starts after the declarations before it, even with no
    /// line break or `;` in between (minified code).
    #[test]
    fn top_level_flattening_keeps_earlier_declarations() {
        let source = format!("function a(){{}}{}x;class B{{}}", "!".repeat(200));
        let names: Vec<String> = symbols_on_a_small_stack("min.js", &source)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["a", "B"]);
    }

    /// TypeScript generics nest like brackets.
    #[test]
    fn deep_typescript_generics_keep_their_outline() {
        let deep = format!("{}number{}", "Array<".repeat(5000), ">".repeat(5000));
        let source = format!(
            "export type T = {deep};\nexport function f(x: {deep}): void {{}}\nexport interface I {{\n  a: {deep};\n}}\nexport const after = 1;\n"
        );
        let names: Vec<String> = symbols_on_a_small_stack("deep.ts", &source)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["T", "f", "I", "a", "after"]);
        // Comparisons are not generics, or only until their statement ends.
        let comparisons = "const a = b < c, d = e > f;\nif (g < h) {}\nx = a<b && c>d\ny = a<b\n";
        let (js, ts) = [false, true]
            .map(|typescript| {
                let dialect = scan::Dialect {
                    typescript,
                    jsx: false,
                };
                depth::nesting(comparisons, 9, dialect, 0).deepest
            })
            .into();
        assert_eq!((js, ts), (1, 2));
    }

    /// A `}` before `/>` or `</` ends a JSX attribute's or child's expression: no
    /// regex starts there, so no bracket goes uncounted and the code is not flattened.
    #[test]
    fn jsx_expressions_before_closing_tags_keep_their_brackets() {
        let rows: String = (0..35)
            .map(|i| {
                format!("      <ul>{{props.items{i}.map((x) => <Row key={{x.id}} />)}}</ul>\n")
            })
            .collect();
        let lists = format!(
            "export function Lists(props) {{\n  return (\n    <section>\n{rows}    </section>\n  );\n}}\nexport const Footer2 = () => null;\n"
        );
        let badges: String = (0..130)
            .map(|i| format!("      {{show{i} && <Badge count={{n{i}}} />}}\n"))
            .collect();
        let dashboard = format!(
            "import React from 'react';\nexport function Dashboard(props) {{\n  return (\n    <div>\n{badges}    </div>\n  );\n}}\nexport function Footer() {{ return <footer />; }}\n"
        );
        for (path, source, names) in [
            ("Lists.jsx", &lists, ["Lists", "Footer2"]),
            ("Lists.tsx", &lists, ["Lists", "Footer2"]),
            ("Dashboard.js", &dashboard, ["Dashboard", "Footer"]),
        ] {
            let dialect = scan::Dialect {
                typescript: path.ends_with(".tsx"),
                jsx: true,
            };
            assert!(
                !depth::nesting(source, MAX_NESTING, dialect, 0).too_deep(),
                "{path}"
            );
            let symbols = outline(path, source).symbols;
            let found: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(found, names, "{path}");
            assert_well_formed(path, source);
        }
    }

    /// Right-associative `**` chains, `yield yield ...` and JSX elements nest as deep as
    /// they are long: they too are flattened, not a crash.
    #[test]
    fn deep_jsx_powers_and_yields_keep_their_outline() {
        let cases = [
            (
                "deep.jsx",
                format!(
                    "export function Deep() {{\n  return {}x{};\n}}\n",
                    "<div>".repeat(1000),
                    "</div>".repeat(1000)
                ),
                "Deep",
            ),
            (
                "frag.tsx",
                format!(
                    "export const Deep = () => {}<a.b c={{1}} />{};\n",
                    "<>{[\n<i key=\"k\">".repeat(400),
                    "</i>]}</>".repeat(400)
                ),
                "Deep",
            ),
            (
                "pow.js",
                format!("export const P = {};\n", vec!["2"; 2000].join(" ** ")),
                "P",
            ),
            (
                "yield.js",
                format!(
                    "export function* g() {{ yield {}1; }}\n",
                    "yield ".repeat(5000)
                ),
                "g",
            ),
            (
                "negate.js",
                format!("export const N = {}1;\n", "- ".repeat(20_000)),
                "N",
            ),
        ];
        for (path, source, name) in cases {
            let source = format!("{source}export function after() {{}}\n");
            let names: Vec<String> = symbols_on_a_small_stack(path, &source)
                .into_iter()
                .map(|s| s.name)
                .collect();
            assert_eq!(names, [name, "after"], "{path}");
        }
    }

    /// `------…1` (20,000 dashes) recursed once per `--` in oxc until the stack ran out:
    /// a run of `++`/`--` where an operand may start nests like `!!!x`, and is flattened.
    #[test]
    fn a_run_of_increments_never_exhausts_the_stack() {
        let source = format!("export const x = {}1;\n", "-".repeat(20_000));
        let names: Vec<String> = symbols_on_a_small_stack("dashes.ts", &source)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["x"]);
    }
}
