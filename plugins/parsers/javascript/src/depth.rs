//! How deeply code nests, and a way to flatten what nests too deeply. oxc's recursive
//! descent needs stack in proportion to the nesting — of brackets, but also of chains
//! whose every link it parses inside the one before (`a ? b : c ? d : ...`,
//! `a => b => ...`, `a = b = ...`, `!!!x`, `else if`) — and running out of stack kills
//! the plugin call instead of returning an error. So where code nests too deeply, the
//! group holding the deep part is blanked out before parsing.
//!
//! This is a scan, not a full lexer: it skips comments, string literals, template text
//! and regular expressions, so that brackets inside them do not count. A `/` starts a
//! regular expression where an expression can start (at the start, after an operator or
//! an opening bracket, `}`, or a keyword such as `return` or `typeof`) and divides after
//! an operand (a name, a literal, `)`, `]`, `++`, `--`); `</` is a JSX closing tag.
//! Strings and regular expressions end at the end of their line at the latest, so a
//! misjudged `/` only skews the count for the rest of its line.

/// Keywords after which an expression starts (a `/` starts a regex, not a division).
const KEYWORDS: &[&[u8]] = &[
    b"await",
    b"case",
    b"delete",
    b"do",
    b"else",
    b"in",
    b"instanceof",
    b"new",
    b"of",
    b"return",
    b"throw",
    b"typeof",
    b"void",
    b"yield",
];

/// Keywords that are prefix operators: a run of them nests like `!!!x`.
const PREFIX_KEYWORDS: &[&[u8]] = &[b"await", b"delete", b"new", b"typeof", b"void"];

/// What the scan meets, for [`nesting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// `(`, `[`, `{`, or `$` for the `${` opening a template substitution.
    Open(u8),
    /// `)`, `]`, `}`, or the `}` closing a substitution.
    Close,
    /// A link of a chain: a conditional's `?` or `=>` (`false`), or an assignment's
    /// `=` (`true`).
    Chain(bool),
    /// A prefix operator: `!`, `~`, unary `+` or `-`, `typeof`, `new`, ...
    Prefix,
    /// The end of an expression: `;`, `,`, or a line break that nothing carries on.
    Break,
    /// An `else` followed by `if` (at the `else`).
    ElseIf,
    /// Any other token.
    Token,
}

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
    limit: usize,
    blanks: Vec<Blank>,
    /// Where each `else` directly followed by `if` is.
    else_ifs: Vec<usize>,
}

/// How `source` nests, and what to blank out so that it nests at most `limit` deep:
/// the inside of the group in which the nesting passes the limit or, outside any
/// group, the rest of the expression (after the `=` of `const x = ...`); and every
/// `else` of an `else if` when there are more `else if`s than the limit.
pub fn nesting(source: &str, limit: usize) -> Nesting {
    /// An open group: where, its opening bracket, the levels it counts for (its bracket
    /// and the prefix operators before it), the links of chains in it, and whether it
    /// is to be blanked.
    struct Level {
        at: usize,
        opener: u8,
        weight: usize,
        chain: usize,
        blank: bool,
    }
    let group = |level: &Level, end: usize| {
        // `${` is two bytes; the inside starts after the brace.
        let start = level.at + if level.opener == b'$' { 2 } else { 1 };
        Blank {
            start,
            end,
            placeholder: level.opener != b'{',
        }
    };
    let mut levels = vec![Level {
        at: 0,
        opener: 0,
        weight: 0,
        chain: 0,
        blank: false,
    }];
    let (mut depth, mut run, mut deepest) = (0usize, 0usize, 0usize);
    // Whether a group being blanked is open, or a top-level expression being blanked
    // started (at the byte given).
    let (mut blanking, mut top_blank) = (false, None);
    // Where the current top-level expression starts, and the rest after its first `=`.
    let (mut expression, mut assigned) = (0usize, None);
    let mut blanks = Vec::new();
    let mut else_ifs = Vec::new();
    scan(source, |at, event| {
        let top = levels.len() == 1;
        match event {
            Event::Open(opener) => {
                depth += 1 + run;
                levels.push(Level {
                    at,
                    opener,
                    weight: 1 + run,
                    chain: 0,
                    blank: false,
                });
            }
            // The top level (below an unmatched closer) is never closed.
            Event::Close if !top => {
                if let Some(level) = levels.pop() {
                    depth -= level.weight + level.chain;
                    if level.blank {
                        blanks.push(group(&level, at));
                        blanking = false;
                    }
                }
            }
            Event::Chain(assignment) => {
                if let Some(level) = levels.last_mut() {
                    level.chain += 1;
                    depth += 1;
                }
                if top && assignment && assigned.is_none() {
                    assigned = Some(at + 1);
                }
            }
            Event::Break => {
                if let Some(level) = levels.last_mut() {
                    depth -= level.chain;
                    level.chain = 0;
                }
                if top {
                    if let Some(start) = top_blank.take() {
                        blanks.push(Blank {
                            start,
                            end: at,
                            placeholder: true,
                        });
                    }
                    (expression, assigned) = (at + 1, None);
                }
            }
            Event::ElseIf => else_ifs.push(at),
            _ => {}
        }
        run = if event == Event::Prefix { run + 1 } else { 0 };
        deepest = deepest.max(depth + run);
        // Past the limit: blank the innermost group, unless one around it already is.
        if depth + run > limit && !blanking && top_blank.is_none() {
            let inner = levels.len() > 1;
            match levels.last_mut() {
                Some(level) if inner => {
                    level.blank = true;
                    blanking = true;
                }
                _ => top_blank = Some(assigned.unwrap_or(expression)),
            }
        }
    });
    // A blank still open at the end runs to the end of the text.
    if let Some(level) = levels.iter().find(|level| level.blank) {
        blanks.push(group(level, source.len()));
    }
    if let Some(start) = top_blank {
        blanks.push(Blank {
            start,
            end: source.len(),
            placeholder: true,
        });
    }
    Nesting {
        deepest,
        limit,
        blanks,
        else_ifs,
    }
}

impl Nesting {
    /// Whether the source nests deeper than the limit.
    pub fn too_deep(&self) -> bool {
        !self.blanks.is_empty() || self.else_ifs.len() > self.limit
    }

    /// `source` with what nests too deeply replaced by spaces, keeping line breaks and
    /// byte offsets. Where an expression is needed (inside `(…)`, `[…]`, `${…}`, after
    /// `=`) a `0` stands in for it; `{}` may stay empty. An `else if` chain becomes a run of `if`s (the `else`s blanked):
    /// still valid code, nesting one deep. What is declared at the top of the file, which
    /// is what an outline lists, keeps its place and name.
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
        if self.else_ifs.len() > self.limit {
            for &at in &self.else_ifs {
                bytes[at..at + "else".len()].fill(b' ');
            }
        }
        // Only whole characters were replaced, by ASCII, so the text is still UTF-8.
        String::from_utf8(bytes).unwrap_or_else(|_| source.to_owned())
    }
}

/// Calls `event(at, what)` for what the code holds, in order.
fn scan(source: &str, mut event: impl FnMut(usize, Event)) {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    // The depth inside each open `${`, to resume the template's text at its `}`.
    let mut templates: Vec<usize> = Vec::new();
    // Whether an expression may start here (a `/` starts a regex), and whether the
    // last token was a `.` (`x.return / 2` divides: that `return` is a property).
    let (mut expression_starts, mut after_dot) = (true, false);
    // Whether the last token was a `}`: a value (`() => {}`) or a block, which a line
    // break ends either way.
    let mut after_brace = false;
    // Where the `else` just before is, if the last token was one.
    let mut after_else: Option<usize> = None;
    let mut at = if bytes.starts_with(b"#!") {
        line_end(bytes, 0)
    } else {
        0
    };
    while let Some(&byte) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        // Where the token ends, whether it ends an operand, and what it is.
        let (end, operand, what) = match byte {
            b'/' if next == Some(b'/') => {
                at = line_end(bytes, at);
                continue;
            }
            b'/' if next == Some(b'*') => {
                at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            b'\n' | b'\r' => {
                // A line break ends an expression, unless an operator before it or a
                // `?` or `:` after it carries the expression on (a chain over lines).
                let carried = matches!(next_code(bytes, at), Some(b'?' | b':'));
                if (!expression_starts || after_brace) && !carried {
                    event(at, Event::Break);
                }
                at += 1;
                continue;
            }
            _ if byte.is_ascii_whitespace() => {
                at += 1;
                continue;
            }
            b'\'' | b'"' => (quoted(bytes, at + 1, byte), true, Event::Token),
            b'/' if expression_starts && !(at > 0 && bytes[at - 1] == b'<') => {
                (regex(bytes, at + 1), true, Event::Token)
            }
            b'`' | b'}' if byte == b'`' || templates.last() == Some(&depth) => {
                if byte == b'}' {
                    templates.pop();
                    event(at, Event::Close);
                    depth -= 1;
                }
                let (end, substitution) = template_text(bytes, at + 1);
                if substitution {
                    event(end - 2, Event::Open(b'$'));
                    depth += 1;
                    templates.push(depth);
                }
                // After `${` an expression starts; after the closing backquote, not.
                (end, !substitution, Event::Token)
            }
            b'(' | b'[' | b'{' => {
                event(at, Event::Open(byte));
                depth += 1;
                (at + 1, false, Event::Token)
            }
            b')' | b']' | b'}' => {
                event(at, Event::Close);
                depth = depth.saturating_sub(1);
                // After a block's `}` a statement (maybe a regex) starts.
                (at + 1, byte != b'}', Event::Token)
            }
            b';' | b',' => (at + 1, false, Event::Break),
            // `?.`, `??`, and TypeScript's optional marks (`a?: T`, `(a?) =>`) are not
            // conditionals.
            b'?' if next == Some(b'.') || next == Some(b'?') => (at + 2, false, Event::Token),
            b'?' if matches!(next, Some(b':' | b')' | b',' | b'=' | b']' | b';')) => {
                (at + 1, false, Event::Token)
            }
            b'?' => (at + 1, false, Event::Chain(false)),
            b'=' if next == Some(b'>') => (at + 2, false, Event::Chain(false)),
            b'=' if next == Some(b'=') => {
                let end = bytes[at..]
                    .iter()
                    .position(|&b| b != b'=')
                    .map_or(bytes.len(), |length| at + length);
                (end, false, Event::Token)
            }
            // `<=`, `>=`, `!=` compare; `=` and `+=`, `&&=`, ... assign.
            b'=' if at > 0 && matches!(bytes[at - 1], b'<' | b'>' | b'!') => {
                (at + 1, false, Event::Token)
            }
            b'=' => (at + 1, false, Event::Chain(true)),
            b'!' | b'~' if next != Some(b'=') => (at + 1, false, Event::Prefix),
            // `a++ / 2`: a postfix `++` or `--` ends an operand.
            b'+' | b'-' if next == Some(byte) => (at + 2, true, Event::Token),
            b'+' | b'-' if expression_starts => (at + 1, false, Event::Prefix),
            _ if is_word(byte) => {
                let end = bytes[at..]
                    .iter()
                    .position(|&b| !is_word(b))
                    .map_or(bytes.len(), |length| at + length);
                let word = &bytes[at..end];
                let keyword = !after_dot && KEYWORDS.contains(&word);
                let what = match after_else {
                    Some(else_at) if word == b"if" => {
                        event(else_at, Event::ElseIf);
                        Event::Token
                    }
                    _ if !after_dot && PREFIX_KEYWORDS.contains(&word) => Event::Prefix,
                    _ => Event::Token,
                };
                after_else = (keyword && word == b"else").then_some(at);
                (end, !keyword, what)
            }
            _ => (at + 1, false, Event::Token),
        };
        if !is_word(byte) {
            after_else = None;
        }
        event(at, what);
        expression_starts = !operand;
        after_dot = byte == b'.';
        after_brace = byte == b'}';
        at = end;
    }
}

/// The first byte after `at` that is not whitespace.
fn next_code(bytes: &[u8], at: usize) -> Option<u8> {
    bytes[at..]
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

/// A byte of a name, keyword or number (any non-ASCII byte, too: names may be Unicode).
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'$' | b'\\') || !byte.is_ascii()
}

/// Skips a string body from `at` to just past its closing `quote`, honouring escapes;
/// stops at the end of the line (an unterminated string).
fn quoted(bytes: &[u8], mut at: usize, quote: u8) -> usize {
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 1,
            b'\n' | b'\r' => return at,
            _ if byte == quote => return at + 1,
            _ => {}
        }
        at += 1;
    }
    at
}

/// Skips a regex body from `at` to just past its closing `/`: a `/` inside a character
/// class `[...]` or after a backslash does not close it. Stops at the end of the line.
fn regex(bytes: &[u8], mut at: usize) -> usize {
    let mut class = false;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 1,
            b'\n' | b'\r' => return at,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => return at + 1,
            _ => {}
        }
        at += 1;
    }
    at
}

/// Skips template text from `at`: returns where it ends and whether it ended at a `${`
/// (rather than the closing backquote).
fn template_text(bytes: &[u8], mut at: usize) -> (usize, bool) {
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 1,
            b'`' => return (at + 1, false),
            b'$' if bytes.get(at + 1) == Some(&b'{') => return (at + 2, true),
            _ => {}
        }
        at += 1;
    }
    (at, false)
}

/// Where the line holding `at` ends (its line break, or the end of the text).
fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |length| at + length)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::nesting;

    fn depth(source: &str) -> usize {
        nesting(source, usize::MAX).deepest
    }

    fn flatten(source: &str, limit: usize) -> String {
        let flat = nesting(source, limit).flatten(source);
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
        // JSX closing tags and self-closing tags are not regexes.
        assert_eq!(depth("f(<p>{a}</p>, <br/>, (1))"), 2);
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
        assert_eq!(depth("<A\n  a=\"1\"\n  b=\"2\"\n/>"), 1);
    }

    #[test]
    fn flattening_blanks_deep_groups_and_keeps_offsets() {
        let source = "f(g([{a: (1)}]), `${h((2))}`)\nx => (y)";
        assert_eq!(flatten(source, 10), source);
        let flat = flatten(source, 1);
        // `x => (y)` is two deep too: a link of a chain and a group.
        assert_eq!(flat, "f(g(0         ), `${0     }`)\nx => (0)");
        assert_eq!(depth(&flat), 2);
        // Arrow parameters stay empty, an object or block is `{}`, line breaks stay.
        assert_eq!(flatten("f(a, {\nb})", 1), "f(a, {\n })");
        assert_eq!(flatten("f(é)", 0), "f(0 )");
        assert_eq!(flatten("f(\n  a)", 0), "f(\n  0)");
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
        assert!(nesting("a.else\nif (b) {}", 0).else_ifs.is_empty());
    }
}
