//! How deeply code nests, and a way to flatten what nests too deeply. oxc's recursive
//! descent needs stack in proportion to the nesting — of brackets, TypeScript generics
//! and JSX elements, but also of chains whose every link it parses inside the one
//! before (`a ? b : c ? d : ...`, `a => b => ...`, `a = b = ...`, `a ** b ** ...`,
//! `!!!x`, `yield yield x`, `else if`) — and
//! running out of stack kills the plugin call instead of returning an error. So where
//! code nests too deeply, the group holding the deep part is blanked out before
//! parsing (what nests is found by [`scan`]).

use crate::scan::{Dialect, Event, scan};

/// Bytes to blank out, and whether a `0` stands in for them (an expression).
#[derive(Debug, PartialEq, Eq)]
struct Blank {
    start: usize,
    end: usize,
    placeholder: bool,
}

/// How `source` nests (see [`nesting`]).
pub struct Nesting {
    /// The deepest nesting: each open bracket, each link of a chain not yet ended and
    /// each prefix operator of a run counts one level.
    pub deepest: usize,
    blanks: Vec<Blank>,
    /// Where each `else` to blank is: those of `else if` chains too long.
    else_ifs: Vec<usize>,
}

/// An open group.
struct Level {
    /// Where its opening bracket is, and what that is.
    at: usize,
    opener: u8,
    /// Whether it may be left empty: arguments or parameters, a block or an object.
    empty: bool,
    /// The levels it counts for (its bracket and the prefix operators before it), and
    /// the links of chains in it.
    weight: usize,
    chain: usize,
    /// Whether it is to be blanked.
    blank: bool,
    /// The `else`s of the `else if` chain being read in it, and the depth around them.
    else_ifs: Vec<usize>,
    base: usize,
}

impl Level {
    fn new(at: usize, opener: u8, empty: bool, weight: usize, base: usize) -> Self {
        Self {
            at,
            opener,
            empty,
            weight,
            chain: 0,
            blank: false,
            else_ifs: Vec::new(),
            base,
        }
    }
}

/// How `source` nests, and what to blank out so that it nests at most `limit` deep:
/// the inside of the group in which the nesting passes the limit (or, with `widen`,
/// the group that many levels around it) or, outside any group, the rest of the
/// expression (after the `=` of `const x = ...`); and every `else` of an `else if` chain
/// longer than the limit.
pub fn nesting(source: &str, limit: usize, dialect: Dialect, widen: usize) -> Nesting {
    let mut state = State {
        bytes: source.as_bytes(),
        limit,
        levels: vec![Level::new(0, 0, true, 0, 0)],
        depth: 0,
        blanking: false,
        blanks: Vec::new(),
        else_ifs: Vec::new(),
    };
    let (mut run, mut deepest) = (0usize, 0usize);
    // Where a top-level expression being blanked started.
    let mut top_blank = None;
    // Where the current top-level expression starts, and the rest after its first `=`.
    let (mut expression, mut assigned) = (0usize, None);
    scan(source, dialect, |at, event| {
        let top = state.levels.len() == 1;
        match event {
            Event::Open(opener, empty) => {
                state.depth += 1 + run;
                let level = Level::new(at, opener, empty, 1 + run, state.depth);
                state.levels.push(level);
            }
            // The top level (below an unmatched closer) is never closed; generics left
            // open (`a<b` was a comparison) close with the group around them.
            Event::Close if !top => {
                state.close_generics(at, 2);
                let opener = state.close(at);
                if state.levels.len() == 1 && opener == b'{' {
                    // After a block at the top level, a new statement starts.
                    expression = at + 1;
                }
            }
            Event::Angle if state.innermost() == b'<' => {
                state.close(at);
            }
            Event::Chain(assignment) => {
                if let Some(level) = state.levels.last_mut() {
                    level.chain += 1;
                    state.depth += 1;
                }
                if top && assignment && assigned.is_none() {
                    assigned = Some(at + 1);
                }
            }
            Event::Break | Event::End => {
                if event == Event::End {
                    state.close_generics(at, 1);
                }
                if let Some(level) = state.levels.last_mut() {
                    state.depth -= level.chain;
                    level.chain = 0;
                }
                if state.levels.len() == 1 {
                    if let Some(start) = top_blank.take() {
                        state.blank(start, at, true);
                    }
                    (expression, assigned) = (at + 1, None);
                }
            }
            Event::If => state.end_chain(),
            Event::ElseIf => {
                let depth = state.depth;
                if let Some(level) = state.levels.last_mut() {
                    if level.else_ifs.is_empty() {
                        level.base = depth;
                    }
                    level.else_ifs.push(at);
                }
            }
            _ => {}
        }
        run = if event == Event::Prefix { run + 1 } else { 0 };
        deepest = deepest.max(state.depth + run);
        // Past the limit: blank the innermost group (or, widened, one around it),
        // unless one around it already is.
        if state.depth + run > limit && !state.blanking && top_blank.is_none() {
            let index = state.levels.len().saturating_sub(1 + widen);
            match state.levels.get_mut(index) {
                Some(level) if index > 0 => {
                    level.blank = true;
                    state.blanking = true;
                }
                _ => top_blank = Some(assigned.unwrap_or(expression)),
            }
        }
    });
    // A blank still open at the end runs to the end of the text.
    while state.levels.len() > 1 {
        state.close(source.len());
    }
    state.end_chain();
    if let Some(start) = top_blank {
        state.blank(start, source.len(), true);
    }
    Nesting {
        deepest,
        blanks: state.blanks,
        else_ifs: state.else_ifs,
    }
}

/// What [`nesting`] keeps track of.
struct State<'a> {
    bytes: &'a [u8],
    limit: usize,
    /// The open groups; the first is the top level.
    levels: Vec<Level>,
    depth: usize,
    /// Whether a group being blanked is open.
    blanking: bool,
    blanks: Vec<Blank>,
    else_ifs: Vec<usize>,
}

impl State<'_> {
    /// What opened the innermost group (0 at the top level).
    fn innermost(&self) -> u8 {
        match self.levels.as_slice() {
            [_, .., level] => level.opener,
            _ => 0,
        }
    }

    /// Closes the innermost group at `at`, blanking it if it is to be; returns what
    /// opened it.
    fn close(&mut self, at: usize) -> u8 {
        self.end_chain();
        let Some(level) = self.levels.pop() else {
            return 0;
        };
        self.depth -= level.weight + level.chain;
        if level.blank {
            // Parameters (of an arrow function too) may stay empty; expressions may not.
            let arrow = level.opener == b'(' && code_after(self.bytes, at + 1).starts_with(b"=>");
            let start = level.at + if level.opener == b'$' { 2 } else { 1 };
            self.blank(start, at, !(level.empty || arrow));
            self.blanking = false;
        }
        level.opener
    }

    /// Closes the generics open innermost, keeping `keep` levels.
    fn close_generics(&mut self, at: usize, keep: usize) {
        while self.levels.len() > keep && self.innermost() == b'<' {
            self.close(at);
        }
    }

    /// Blanks the `else`s of the chain read in the innermost group if it is too long,
    /// and starts anew.
    fn end_chain(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            let chain = std::mem::take(&mut level.else_ifs);
            if level.base + chain.len() > self.limit {
                self.else_ifs.extend(chain);
            }
        }
    }

    fn blank(&mut self, start: usize, end: usize, placeholder: bool) {
        self.blanks.push(Blank {
            start,
            end,
            placeholder,
        });
    }
}

/// The code from `at` on, after whitespace.
fn code_after(bytes: &[u8], at: usize) -> &[u8] {
    let rest = bytes.get(at..).unwrap_or_default();
    let start = rest.iter().position(|b| !b.is_ascii_whitespace());
    &rest[start.unwrap_or(rest.len())..]
}

impl Nesting {
    /// Whether the source nests deeper than the limit.
    pub fn too_deep(&self) -> bool {
        !self.blanks.is_empty() || !self.else_ifs.is_empty()
    }

    /// `source` with what nests too deeply replaced by spaces, keeping line breaks and
    /// byte offsets. Where an expression is needed (inside `(…)` but for arguments and
    /// parameters, `[…]`, `${…}`, generics' `<…>`, a JSX attribute's `{…}`, after `=`)
    /// a `0` stands in for it; `{}` and a JSX element's children may stay empty. A long
    /// `else if` chain becomes a run of `if`s (the `else`s blanked): still valid code,
    /// nesting one deep. What is declared at the top of the file, which is what an
    /// outline lists, keeps its place and name.
    pub fn flatten(&self, source: &str) -> String {
        let mut bytes = source.as_bytes().to_vec();
        for blank in &self.blanks {
            for byte in &mut bytes[blank.start..blank.end] {
                if *byte != b'\n' && *byte != b'\r' {
                    *byte = b' ';
                }
            }
            let text = &source.as_bytes()[blank.start..blank.end];
            if let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace())
                && blank.placeholder
            {
                bytes[blank.start + first] = b'0';
            }
        }
        for &at in &self.else_ifs {
            bytes[at..at + "else".len()].fill(b' ');
        }
        // Only whole characters were replaced, by ASCII, so the text is still UTF-8.
        String::from_utf8(bytes).unwrap_or_else(|_| source.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::nesting;
    use crate::scan::Dialect;

    fn depth(source: &str) -> usize {
        nesting(source, usize::MAX, Dialect::JAVASCRIPT, 0).deepest
    }

    fn flatten(source: &str, limit: usize) -> String {
        let flat = nesting(source, limit, Dialect::JAVASCRIPT, 0).flatten(source);
        assert_eq!(flat.len(), source.len());
        flat
    }

    #[test]
    fn counts_code_brackets_only() {
        assert_eq!(depth("f(a[{ b: (1) }])"), 4);
        assert_eq!(depth("f('((((', \"[[[\") // ((((\n/* {{{{ */"), 1);
        assert_eq!(depth("s.replace(/\\(+[(]/g, '')"), 1);
        assert_eq!(depth("f(b / (c) / d)"), 2);
        assert_eq!(depth("f(`(( ${ g({ a: `[${x}]` }) } ((`); h()"), 5);
        assert_eq!(depth("#!/usr/bin/env node\nf()"), 1);
    }

    #[test]
    fn a_regex_after_a_keyword_or_an_operator_is_not_code() {
        // Minifiers drop the space after `return` (case 04): `/\(/` holds no bracket.
        let minified = "function a(e){return/\\(/.test(e)?e.slice(1):e}";
        assert_eq!(depth(&minified.repeat(300)), 3);
        for source in [
            "function f(e){return/^\\s*\\[/.test(e)}",
            "function f(e){var t=e.length;return/\\{/.test(e)&&t>2}",
            "f(typeof/\\(/)",
            "switch(x){case/\\[/:break}",
            "do/\\(/.exec(s);while(0)",
            "if(a){}/\\(/.test(b)",
            "f(a?/\\(/:/\\[/)",
            "f([/\\(/,/\\)/])",
            "f(!/\\(/.test(y))",
            "yield/\\{/",
            "f(y\n/\\(/.test(z))", // a new line after an operand: a division
        ] {
            assert!(depth(source) <= 3, "{source}");
        }
        // A `/` inside a character class does not end the regex.
        assert_eq!(depth("f(/[/(]/);g()"), 1);
        assert_eq!(depth("f(/\\/(/);g()"), 1);
    }

    #[test]
    fn a_slash_after_an_operand_divides() {
        assert_eq!(depth("f(a / (b) / (c))"), 2);
        assert_eq!(depth("f(g(a) / (b + (c)))"), 3);
        assert_eq!(depth("f(a[0] / ((b)))"), 3);
        assert_eq!(depth("f(a++ / (b) / 2)"), 2);
        assert_eq!(depth("f(10 / (2) / 5)"), 2);
        assert_eq!(depth("f(this.return / (a))"), 2);
        // A `/` with no closing `/` on its line divides: a misread stops at the line.
        assert_eq!(depth(&"f({} / 2)\n".repeat(20)), 2);
        assert_eq!(depth(&"if (a) {}\n/ (b)\n".repeat(20)), 1);
    }

    #[test]
    fn jsx_text_and_tags_are_not_code() {
        // Closing and self-closing tags are no regexes; an element is one level, and
        // each `{...}` in it another.
        assert_eq!(depth("f(<p>{a}</p>, <br/>, (1))"), 3);
        let rows = "<ul>{a.map((x) => <Row key={x.id} />)}</ul>\n".repeat(20);
        assert_eq!(depth(&format!("f(<section>\n{rows}</section>)")), 7);
        let badges = "{show && <Badge count={n} />}\n".repeat(20);
        assert_eq!(depth(&format!("x = <div>\n{badges}</div>")), 4);
        // Text holds no brackets, quotes or regexes; attribute strings span lines.
        assert_eq!(depth("f(<p a=\"(\n[\">Don't (see /below\n</p>); g()"), 2);
        assert_eq!(depth("<A\n  a=\"1\"\n  b={2}\n/>"), 1);
        assert_eq!(depth("<><a.b x:y='1' {...p}>{/* ( */}</a.b></>"), 3);
    }

    #[test]
    fn what_is_no_jsx_is_read_again_as_code() {
        let tsx = Dialect {
            typescript: true,
            jsx: true,
        };
        // TypeScript's generic arrow functions (JSX after them is read as such); a
        // comparison after a name that is a keyword elsewhere; an element never
        // closed, or closed by another name.
        for (source, deepest) in [
            ("f(<T,>(x: T) => [x]); g(<div>{(1)}</div>)", 4),
            ("if (of <b) { f((1)) }", 3),
            ("x = <a> (\n[(1)]", 4),
            ("x = <a>{[1]}</b>; f(((2)))", 3),
        ] {
            assert_eq!(
                nesting(source, usize::MAX, tsx, 0).deepest,
                deepest,
                "{source}"
            );
        }
    }

    #[test]
    fn chains_nest_until_their_expression_ends() {
        // Each link of a chain is one level deeper, until `;`, `,` or a line break.
        assert_eq!(depth("x = a ? b : c ? d : e;"), 3);
        assert_eq!(depth("x = a => b => c"), 3);
        assert_eq!(depth("a = b = c = d"), 3);
        assert_eq!(depth("x = !!!a"), 4);
        assert_eq!(depth("x = typeof new a"), 3);
        assert_eq!(depth("f(!!(a))"), 4);
        // Not chains: comparisons, optional chaining, TypeScript optional marks.
        assert_eq!(depth("a == b !== c <= d >= e != f ?? g?.h"), 0);
        assert_eq!(depth("class A {\n  a?: string;\n  f(b?: T) {}\n}"), 2);
        // Statements, arguments and lines end chains; an operator carries one over.
        assert_eq!(depth("a = 1; b = 2\nc = 3, d = 4"), 1);
        assert_eq!(depth("class A {\n  a = 1\n  b = 2\n  c = 3\n}"), 2);
        assert_eq!(depth("class A {\n  a = () => {}\n  b = () => {}\n}"), 4);
        assert_eq!(depth("x = a\n  ? b\n  : c\n  ? d\n  : e"), 3);
        assert_eq!(depth("x = a ? b :\n  c ? d :\n  e"), 3);
    }

    #[test]
    fn flattening_blanks_deep_groups_and_keeps_offsets() {
        let source = "f(g([{a: (1)}]), `${h((2))}`)\nx => (y)";
        assert_eq!(flatten(source, 10), source);
        let flat = flatten(source, 1);
        // `x => (y)` is two deep too: a link of a chain and a group.
        assert_eq!(flat, "f(g(          ), `${0     }`)\nx => (0)");
        assert_eq!(depth(&flat), 2);
        // Arguments and parameters stay empty, an object or block is `{}`, expressions
        // get a `0`; line breaks stay.
        assert_eq!(flatten("f(a, {\nb})", 1), "f(a, {\n })");
        assert_eq!(flatten("f(é)", 0), "f(  )");
        assert_eq!(flatten("x = (\n  a)", 1), "x = (\n  0)");
        assert_eq!(flatten("if (a) {}", 0), "if (0) {}");
        for (params, limit) in [
            ("function f(a) {}", 0),
            ("x = function(a) {}", 1),
            ("({ m(a) {} })", 2),
        ] {
            let flat = flatten(params, limit);
            assert_eq!(flat, params.replace("(a)", "( )"), "{params}");
        }
        // Widened, the group around the innermost goes: here, an arrow's parameters.
        let arrow = "f((a = [b]) => a)";
        let flat = nesting(arrow, 3, Dialect::JAVASCRIPT, 1).flatten(arrow);
        assert_eq!(flat, "f((       ) => a)");
        // An unclosed group is blanked to the end.
        assert_eq!(flatten("a[b[c", 0), "a[0  ");
    }

    #[test]
    fn flattening_blanks_the_group_holding_a_long_chain() {
        let chain = "a ? 1 : ".repeat(10);
        let source = format!("function f() {{ return {chain}0; }}\nconst g = 1;");
        let flat = flatten(&source, 5);
        assert_eq!(
            flat,
            format!(
                "function f() {{{}}}\nconst g = 1;",
                " ".repeat(source.find('}').unwrap() - 14)
            )
        );
        // At the top level, the rest of the expression goes, after an assignment's `=`.
        let top = format!("const x = {chain}0, y = 1;\n{chain}0\nz = 2");
        let blank = |text: &str| {
            let lead = text.len() - text.trim_start().len();
            format!("{}0{}", " ".repeat(lead), " ".repeat(text.len() - lead - 1))
        };
        let expected = format!(
            "const x ={}, y = 1;\n{}\nz = 2",
            blank(&format!(" {chain}0")),
            blank(&format!("{chain}0"))
        );
        assert_eq!(flatten(&top, 5), expected);
        // Many `else if`s become `if`s.
        let chain = "if (a) {} else if (b) {} else if (c) {} else {}";
        assert_eq!(
            flatten(chain, 1),
            "if (a) {}      if (b) {}      if (c) {} else {}"
        );
        assert_eq!(flatten(chain, 2), chain);
        assert!(
            nesting("a.else\nif (b) {}", 0, Dialect::JAVASCRIPT, 0)
                .else_ifs
                .is_empty()
        );
        // The count is per chain: many short chains are not one long one.
        let short = "if (a) {} else if (b) {}\n".repeat(10);
        assert_eq!(flatten(&short, 2), short);
        let nested = "if (a) { if (b) {} else if (c) {} } else if (d) {} else if (e) {}";
        assert_eq!(flatten(nested, 2), nested);
    }

    #[test]
    fn a_backslash_before_a_crlf_continues_a_string() {
        assert_eq!(depth("x = 'a\\\r\n(b'\r\nf()"), 1);
        assert_eq!(depth("x = \"a\\\r\n[b\"; f()"), 1);
    }
}
