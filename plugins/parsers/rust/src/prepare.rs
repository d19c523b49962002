//! A text pass before syn parses a file. It replaces code by spaces and keeps every byte
//! offset and line break, so that syn's spans stay spans of the source.
//!
//! syn recurses with the nesting of the code — brackets, prefix operators (`!!x`),
//! pointers and references (`*const *const T`, `&'a mut &'a mut T`), generic arguments,
//! closures (`|a| |b| x`), function types (`fn() -> fn() -> T`), assignments — and the
//! trees it builds are as deep, chains (`a | b | ...`, `a.b().c()`, `x as u8 as u16`)
//! included: running out of stack kills the plugin call instead of returning an error.
//! So:
//!
//! - function bodies are blanked out (`{ ... }` becomes `{     }`): no symbol comes from
//!   inside one, and that is where generated code nests deepest (a 5,000-arm `else if`
//!   chain, say), so syn neither parses nor builds any of it;
//! - the rest goes through a [`Flattener`], each construct costing what syn needs for
//!   it: a group past the [`BUDGET`] loses its inside (a `_` stands in inside `[...]` and
//!   `<...>`, since `[]` is no type; `()` and `{}` are valid empty), a prefix operator or
//!   closure head past it is removed, and so is the rest of a chain past it.

use kiln_plugin_sdk::nesting::{self, Flattener, Offsets};

use crate::lexer::{self, Kind, Token};

/// Stack for the nesting outside function bodies: far more than real code needs, and
/// half of what a plugin has.
const BUDGET: usize = 512 * 1024;

// What syn needs per level of each construct, in bytes of stack, as measured (on a
// 1 MiB stack, unoptimised) with a little to spare.
/// A bracket: `(`, `[`, `{`.
const BRACKET: usize = 16 * 1024;
/// A generic argument list: `Vec<`.
const GENERIC: usize = 56 * 1024;
/// A pointer or reference: `*const`, `&'a mut`, `&`.
const POINTER: usize = 32 * 1024;
/// A function type's return type: `fn() ->`.
const RETURN: usize = 40 * 1024;
/// A closure's head: `|a|`, `move ||`.
const CLOSURE: usize = 16 * 1024;
/// A prefix operator (`!`, `-`), or an assignment (`a = b = c` nests to the right).
const PREFIX: usize = 8 * 1024;
/// A link of a chain (`+ b`, `.b()`, `as u8`): syn builds it in a loop, but the tree
/// drops by recursion.
const LINK: usize = 256;

/// Keywords after which an expression or type starts, so that a `-`, `*`, `&` or `|`
/// after them is a prefix rather than a binary operator.
const KEYWORDS: &[&[u8]] = &[
    b"async", b"box", b"break", b"const", b"dyn", b"else", b"enum", b"for", b"if", b"impl", b"in",
    b"let", b"match", b"move", b"mut", b"pub", b"ref", b"return", b"static", b"struct", b"trait",
    b"type", b"unsafe", b"use", b"where", b"while", b"yield",
];

/// `source` with nesting too deep for syn blanked out, and function bodies too when
/// `bodies` is set (see the module's documentation).
pub fn prepare(source: &str, bodies: bool) -> String {
    let tokens = lexer::tokens(source);
    let mut pass = Pass {
        source: source.as_bytes(),
        tokens: &tokens,
        flattener: Flattener::new(BUDGET),
        bodies,
        operand: false,
        function: None,
    };
    let mut at = 0;
    while at < tokens.len() {
        at = pass.token(at);
    }
    let blanks = pass.flattener.finish(source.len());
    nesting::apply(source, &blanks, Offsets::Bytes)
}

struct Pass<'a> {
    source: &'a [u8],
    tokens: &'a [Token],
    flattener: Flattener,
    bodies: bool,
    /// Whether the last token ended an operand: then `-`, `*`, `&`, `|` are binary.
    operand: bool,
    /// After `fn name`: the depth at which its body (or the `;` of a declaration) comes.
    function: Option<usize>,
}

impl<'a> Pass<'a> {
    fn text(&self, token: &Token) -> &'a [u8] {
        &self.source[token.start..token.end]
    }

    /// Reports the token at `index` (and any it makes one unit with); returns the index
    /// of the next.
    fn token(&mut self, index: usize) -> usize {
        let token = self.tokens[index];
        let text = self.text(&token);
        let (operand, next) = match token.kind {
            Kind::Ident if text == b"as" => {
                self.flattener.link(token.start, LINK);
                (false, index + 1)
            }
            Kind::Ident if text == b"move" && self.closure_end(index + 1).is_some() => {
                return self.closure(index, index + 1);
            }
            Kind::Ident => {
                let after_fn = index > 0 && self.text(&self.tokens[index - 1]) == b"fn";
                if after_fn {
                    self.function = Some(self.flattener.depth());
                }
                (!KEYWORDS.contains(&text), index + 1)
            }
            Kind::Literal | Kind::Lifetime => (true, index + 1),
            Kind::Open => {
                self.open(&token, text[0]);
                (false, index + 1)
            }
            Kind::Close => {
                self.flattener.close(token.start);
                if self.function > Some(self.flattener.depth()) {
                    // The function named was no item: a `macro_rules!` pattern, say.
                    self.function = None;
                }
                if text == b"}" {
                    // A block or an item ends: what follows is a new statement.
                    self.flattener.end_expression(token.end);
                }
                (text != b"}", index + 1)
            }
            Kind::Punct => return self.punct(index, text),
        };
        self.operand = operand;
        next
    }

    fn open(&mut self, token: &Token, bracket: u8) {
        let depth = self.flattener.depth();
        let body = bracket == b'{' && self.function == Some(depth);
        if body {
            self.function = None;
        }
        let placeholder = (bracket == b'[').then_some('_');
        let blank = body && self.bodies;
        (self.flattener).open(token.end, BRACKET, placeholder, false, blank);
    }

    fn punct(&mut self, index: usize, text: &'a [u8]) -> usize {
        let token = self.tokens[index];
        let (start, operand) = (token.start, self.operand);
        self.operand = false;
        match text {
            b";" => {
                self.flattener.end_statement(start);
                if self.function == Some(self.flattener.depth()) {
                    self.function = None;
                }
            }
            b"," | b"=>" => self.flattener.end_expression(start),
            b"=" => self.flattener.assign(start, PREFIX),
            b"->" => self.flattener.link(start, RETURN),
            b"?" => {
                self.flattener.link(start, LINK);
                self.operand = true;
            }
            b"<" if self.closes_operand(index) => self.flattener.link(start, LINK),
            b"<" => (self.flattener).open(token.end, GENERIC, Some('_'), true, false),
            _ if text.starts_with(b">") => self.greater(start, text),
            b"|" | b"||" if !operand && self.closure_end(index).is_some() => {
                return self.closure(index, index);
            }
            b"!" | b"-" | b"*" | b"&" | b"&&" if !operand => return self.prefix(index, text),
            // A macro call's `!` (`vec![]`); a path's `::`, a type's `:`, and so on.
            b"!" | b"::" | b":" | b"#" | b"$" | b"@" => {}
            _ => self.flattener.link(start, LINK),
        }
        index + 1
    }

    /// Whether the token before `index` is a literal or a closing `)` or `]`, after
    /// which a `<` compares (after a name it opens generics, or compares: counting it
    /// as generics costs no more than a soft level until the statement ends).
    fn closes_operand(&self, index: usize) -> bool {
        index > 0 && {
            let before = self.tokens[index - 1];
            before.kind == Kind::Literal || matches!(self.text(&before), b")" | b"]")
        }
    }

    /// `>`, `>>`, `>=`, `>>=`: each `>` closes a generic's `<` if one is open; what
    /// is left is a comparison, a shift or an assignment.
    fn greater(&mut self, start: usize, text: &[u8]) {
        let closers = text.iter().take_while(|&&b| b == b'>').count();
        let closed = (0..closers)
            .take_while(|&i| self.flattener.close_soft(start + i))
            .count();
        if closed < text.len() {
            let cost = if closed == closers { PREFIX } else { LINK };
            self.flattener.link(start + closed, cost);
        } else {
            self.operand = true;
        }
    }

    /// A prefix operator, pointer or reference at `index` with what belongs to it
    /// (`*const`, `&'a mut`), as one unit; returns the index after it.
    fn prefix(&mut self, index: usize, text: &[u8]) -> usize {
        let mut next = index + 1;
        let cost = match text {
            b"!" | b"-" => PREFIX,
            _ => {
                let kind = |at: usize| self.tokens.get(at).map(|t| (t.kind, self.text(t)));
                if matches!(kind(next), Some((Kind::Lifetime, _))) {
                    next += 1;
                }
                if matches!(kind(next), Some((Kind::Ident, b"const" | b"mut"))) {
                    next += 1;
                }
                POINTER * text.len()
            }
        };
        let end = self.tokens[next - 1].end;
        self.flattener.prefix(self.tokens[index].start, end, cost);
        next
    }

    /// Where the closure head whose first `|` (or `||`) is at `index` ends: the index
    /// of its closing `|`, if it has one.
    fn closure_end(&self, index: usize) -> Option<usize> {
        let first = self.tokens.get(index)?;
        match self.text(first) {
            b"||" => Some(index),
            b"|" => {
                let mut depth = 0usize;
                for (at, token) in self.tokens.iter().enumerate().skip(index + 1) {
                    match token.kind {
                        Kind::Open => depth += 1,
                        Kind::Close => depth = depth.checked_sub(1)?,
                        _ if depth == 0 && self.text(token) == b"|" => return Some(at),
                        _ => {}
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// A closure head from the token at `first` (its `move` or `|`), whose first `|` is
    /// at `head`, to its closing `|`, as one prefix unit; returns the index after it.
    fn closure(&mut self, first: usize, head: usize) -> usize {
        let last = self.closure_end(head).unwrap_or(head);
        let (start, end) = (self.tokens[first].start, self.tokens[last].end);
        self.flattener.prefix(start, end, CLOSURE);
        self.operand = false;
        last + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_function_bodies_only() {
        let source = |a: &str, b: &str, c: &str| {
            format!(
                "fn f(x: [u8; 2]) -> u8 {{{a}}}\ntrait T {{ fn g(); fn h() {{{b}}} }}\nconst C: u8 = {{ 1 }};\nstatic F: fn(u8) = |x| {{ x }};\nfn é<const N: usize>() -> A<{{ N }}> where [(); N]: {{{c}}}\n"
            )
        };
        let bodies = [" x[0] ", " 1 ", "\n    'a: loop { break 'a; }\n"];
        let original = source(bodies[0], bodies[1], bodies[2]);
        let blank = bodies.map(|body| body.replace(|c: char| !c.is_whitespace(), " "));
        assert_eq!(
            prepare(&original, true),
            source(&blank[0], &blank[1], &blank[2])
        );
        assert_eq!(prepare(&original, false), original);
    }

    #[test]
    fn literals_and_comments_hold_no_code() {
        let source = concat!(
            "fn a() { \"}\" }\n",
            "fn b() { r#\"\"}\"# }\n",
            "fn c() { '}' }\n",
            "fn d<'a>(x: &'a str) { b'}'; }\n",
            "// fn e() {\n",
            "/* /* fn e() { */ } */\n",
            "fn f() {}\n",
        );
        let text = prepare(source, true);
        let lines: Vec<&str> = text.lines().collect();
        // The first four bodies are blanked whole, up to their real closing brace.
        for (line, original) in lines.iter().zip(source.lines()).take(4) {
            let open = original.find(") {").unwrap() + 3;
            let blank = " ".repeat(original.len() - open - 1);
            assert_eq!(*line, format!("{}{blank}}}", &original[..open]));
        }
        assert_eq!(&lines[4..], &source.lines().collect::<Vec<_>>()[4..]);
    }

    #[test]
    fn bounds_nesting_with_valid_placeholders() {
        // That many groups fit, and the next is blanked inside.
        let levels = BUDGET / BRACKET + 1;
        let deep = format!("const A: u8 = {}1{};", "(".repeat(100), ")".repeat(100));
        let text = prepare(&deep, true);
        assert!(text.starts_with(&format!("const A: u8 = {}", "(".repeat(levels))));
        assert_eq!(text.matches('(').count(), levels);
        assert!(!text.contains('1'));
        // `[]` is no type: `_` stands in for what was inside.
        let deep = format!("type T = {}u8{};", "[".repeat(100), "; 1]".repeat(100));
        let text = prepare(&deep, true);
        assert_eq!(text.matches('[').count(), levels);
        assert!(text.contains(" _]; 1]"), "{text}");
        let generics = format!("type T = {}u8{};", "Vec<".repeat(100), ">".repeat(100));
        let text = prepare(&generics, true);
        let levels = BUDGET / GENERIC + 1;
        assert_eq!(text.matches('<').count(), levels);
        assert!(
            text.ends_with(&format!(" _{};", ">".repeat(levels))),
            "{text}"
        );
    }

    #[test]
    fn thins_prefix_units_and_cuts_long_chains() {
        let nots = format!("const B: bool = a & {}b;", "!".repeat(100));
        let text = prepare(&nots, true);
        assert_eq!(text.matches('!').count(), (BUDGET - LINK) / PREFIX);
        assert!(text.starts_with("const B: bool = a & !"));
        let pointers = format!("type P = {}u8;", "*const ".repeat(100));
        let text = prepare(&pointers, true);
        assert_eq!(text.matches("*const").count(), BUDGET / POINTER);
        assert!(text.ends_with("       u8;"));
        let closures = format!("const F: u8 = {}1;", "move |a, (b, c)| ".repeat(100));
        let text = prepare(&closures, true);
        assert_eq!(text.matches("move").count(), BUDGET / CLOSURE);
        // The chain keeps what fits and loses the rest, up to the `;`.
        let chain = format!(
            "const C: u8 = {};\nconst D: u8 = 1;",
            vec!["1"; 5000].join(" | ")
        );
        let text = prepare(&chain, true);
        let kept = BUDGET / LINK;
        assert_eq!(text.matches('|').count(), kept);
        assert!(text.contains(" 1                "));
        assert!(text.ends_with(";\nconst D: u8 = 1;"));
        // Binary operators are not prefixes, and comparisons are no generics.
        let binary = "const X: bool = a != -b && *c < d && e-f > g && h &&i;";
        assert_eq!(prepare(binary, true), binary);
    }
}
