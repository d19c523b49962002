//! A pass over Go source before gosyn parses it. gosyn recurses once per nested
//! bracket and prefix operator, and the trees it builds are as deep as the code, chains
//! (`"a" + "b" + ...`, `a.b.c`) included: running out of stack kills the plugin call
//! instead of returning an error. So, working from gosyn's own tokens:
//!
//! - function bodies are blanked out: no symbol comes from inside one, and that is
//!   where generated code nests deepest (a 5,000-arm `else if` chain, say);
//! - the rest goes through a [`Flattener`], each construct costing what gosyn needs for
//!   it: a group past the [`BUDGET`] loses its inside (a `_` stands in for the inside of
//!   `(...)` and `[...]`: a name, so it does as a type as well as a value), a prefix
//!   past it is removed, and so is the rest of a chain past it, up to the end of its
//!   statement. Types nest through their heads: `*`, `chan`, `map[K]`, `[]` and a
//!   function type's `func(...)` are prefixes of their element or result type.
//!
//! gosyn counts positions in characters, so each character blanked becomes one space:
//! no position moves.

use gosyn::{
    LexicalToken,
    token::{Keyword, Operator, Token},
};
use kiln_plugin_sdk::nesting::{self, Flattener, Offsets};

/// Stack for the nesting outside function bodies: far more than real code needs, and
/// half of what a plugin has.
const BUDGET: usize = 512 * 1024;

// What gosyn needs per level of each construct, in bytes of stack, as measured (on a
// 1 MiB stack, unoptimised) with a little to spare.
/// A bracket: `(`, `[`, `{`.
const BRACKET: usize = 24 * 1024;
/// A prefix operator: `!`, `-`, `*`, `&`, `<-`, ...
const PREFIX: usize = 6 * 1024;
/// A link of a chain (`+ "b"`, `.b`): gosyn builds it in a loop, but the tree drops by
/// recursion.
const LINK: usize = 256;
/// The head of a type (`*`, `chan`, `map[K]`, `[]`): what gosyn needs is less, but it
/// refuses types nested 64 deep, which this keeps below.
const TYPE: usize = BUDGET / 56;
/// A function type's `func(...)` before its result, which gosyn parses inside it
/// without counting it in those 64.
const FUNC: usize = 20 * 1024;

/// `text` with the blanks of the module's documentation, function bodies only when
/// `bodies` is set; `tokens` are gosyn's tokens of `text`.
pub fn prepare(text: &str, tokens: &[LexicalToken], bodies: bool) -> String {
    // Where the line breaks are, in characters: Go ends a statement at one.
    let breaks: Vec<usize> = text
        .chars()
        .enumerate()
        .filter_map(|(at, c)| (c == '\n').then_some(at))
        .collect();
    let line_break = |from: usize, to: usize| {
        let first = breaks.partition_point(|&at| at < from);
        breaks.get(first).is_some_and(|&at| at < to)
    };
    let code: Vec<&LexicalToken> = tokens
        .iter()
        .filter(|token| !matches!(token.token, Token::Comment(_)))
        .collect();
    let closers = closers(&code);
    // Where the bracket group right after the token at `index` ends, if one does.
    let group_end = |index: usize| closers.get(index + 1).copied().flatten();
    let mut flattener = Flattener::new(BUDGET);
    // Whether the top-level declaration being read is a function (or a function type
    // or literal: blanking their braces keeps them valid too).
    let mut function = false;
    // The token before; whether it ended an operand, or a statement.
    let mut previous: Option<&LexicalToken> = None;
    let mut operand = false;
    let mut statement_starts = true;
    for (index, token) in code.iter().enumerate() {
        if let Some(previous) = previous
            && ends_statement(&previous.token)
            && line_break(previous.end, token.start)
        {
            flattener.end_statement(previous.end);
            operand = false;
            statement_starts = true;
        }
        previous = Some(token);
        let starts = std::mem::replace(&mut statement_starts, false);
        let (start, end) = (token.start, token.end);
        let operator = match token.token {
            Token::Keyword(keyword) => {
                let top = flattener.depth() == 0;
                match keyword {
                    Keyword::Func if top && starts => {
                        function = true;
                        flattener.end_statement(start);
                    }
                    // A function type or literal: `func(...)` heads its result.
                    Keyword::Func => {
                        function |= top;
                        let head = group_end(index).map_or(end, |close| code[close].end);
                        flattener.prefix(start, head, FUNC);
                    }
                    Keyword::Map => {
                        let head = group_end(index).map_or(end, |close| code[close].end);
                        flattener.prefix(start, head, TYPE);
                    }
                    Keyword::Chan => flattener.prefix(start, end, TYPE),
                    _ if top && is_declaration(keyword) => {
                        function = false;
                        flattener.end_statement(start);
                    }
                    _ => {}
                }
                operand = false;
                continue;
            }
            Token::Literal(..) => {
                operand = true;
                continue;
            }
            Token::Operator(operator) => operator,
            Token::Comment(_) => continue,
        };
        let after_operand = std::mem::replace(&mut operand, false);
        match operator {
            Operator::ParenLeft | Operator::BarackLeft | Operator::BraceLeft => {
                let brace = operator == Operator::BraceLeft;
                // `[]` heads a slice type.
                let slice = code
                    .get(index + 1)
                    .is_some_and(|next| next.token == Token::Operator(Operator::BarackRight));
                if operator == Operator::BarackLeft && slice {
                    flattener.prefix(start, code[index + 1].end, TYPE);
                }
                let body = bodies && function && brace && flattener.depth() == 0;
                let placeholder = (!brace).then_some('_');
                flattener.open(end, BRACKET, placeholder, false, body);
            }
            Operator::ParenRight | Operator::BarackRight | Operator::BraceRight => {
                flattener.close(start);
                operand = true;
            }
            Operator::SemiColon => {
                flattener.end_statement(start);
                statement_starts = true;
            }
            Operator::Comma | Operator::Colon | Operator::Assign | Operator::Define => {
                flattener.end_expression(start);
            }
            Operator::Inc | Operator::Dec | Operator::DotDotDot => {}
            _ if is_assignment(operator) => flattener.end_expression(start),
            // A pointer type's `*` is a type's head too.
            Operator::Star if !after_operand => flattener.prefix(start, end, TYPE),
            _ if !after_operand && is_prefix(operator) => flattener.prefix(start, end, PREFIX),
            _ => flattener.link(start, LINK),
        }
    }
    let blanks = flattener.finish(usize::MAX);
    nesting::apply(text, &blanks, Offsets::Chars)
}

/// For each of the `tokens`, where the bracket group it opens closes (an index).
fn closers(tokens: &[&LexicalToken]) -> Vec<Option<usize>> {
    let mut closers = vec![None; tokens.len()];
    let mut open = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        match token.token {
            Token::Operator(Operator::ParenLeft | Operator::BarackLeft | Operator::BraceLeft) => {
                open.push(index);
            }
            Token::Operator(
                Operator::ParenRight | Operator::BarackRight | Operator::BraceRight,
            ) => {
                if let Some(opener) = open.pop() {
                    closers[opener] = Some(index);
                }
            }
            _ => {}
        }
    }
    closers
}

/// Whether `keyword` starts a top-level declaration.
fn is_declaration(keyword: Keyword) -> bool {
    matches!(
        keyword,
        Keyword::Func | Keyword::Type | Keyword::Var | Keyword::Const | Keyword::Import
    )
}

/// Whether a line break after `token` ends its statement (Go inserts a `;` there).
fn ends_statement(token: &Token) -> bool {
    matches!(
        token,
        Token::Literal(..)
            | Token::Operator(
                Operator::Inc
                    | Operator::Dec
                    | Operator::ParenRight
                    | Operator::BraceRight
                    | Operator::BarackRight
            )
            | Token::Keyword(
                Keyword::Break | Keyword::Return | Keyword::Continue | Keyword::FallThrough
            )
    )
}

/// Whether `operator` can be a prefix (unary) operator.
fn is_prefix(operator: Operator) -> bool {
    matches!(
        operator,
        Operator::Add
            | Operator::Sub
            | Operator::Not
            | Operator::Xor
            | Operator::Star
            | Operator::And
            | Operator::Arrow
            | Operator::Tiled
    )
}

/// Whether `operator` assigns with an operation: `+=`, `<<=`, ...
fn is_assignment(operator: Operator) -> bool {
    matches!(
        operator,
        Operator::AddAssign
            | Operator::SubAssign
            | Operator::MulAssign
            | Operator::QuoAssign
            | Operator::RemAssign
            | Operator::AndAssign
            | Operator::OrAssign
            | Operator::XorAssign
            | Operator::ShlAssign
            | Operator::ShrAssign
            | Operator::AndNotAssign
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(text: &str, bodies: bool) -> String {
        let tokens = gosyn::tokenize_source(text).unwrap();
        let out = prepare(text, &tokens, bodies);
        assert_eq!(out.chars().count(), text.chars().count());
        out
    }

    #[test]
    fn blanks_function_bodies_only() {
        let source = |a: &str, b: &str, c: &str| {
            format!(
                "package p\n\nfunc (r *R) M() struct{{{a}}} {{{b}}}\n\nvar f = func() {{{c}}}\n\ntype T struct {{\n\tF func() int\n}}\n\nfunc D()\n"
            )
        };
        let insides = [" a int ", "\n\treturn é{}\n", "\n\tg()\n"];
        let blank = insides.map(|inside| inside.replace(|c: char| c != '\n', " "));
        let original = source(insides[0], insides[1], insides[2]);
        assert_eq!(
            prepared(&original, true),
            source(&blank[0], &blank[1], &blank[2])
        );
        assert_eq!(prepared(&original, false), original);
    }

    #[test]
    fn bounds_nesting_and_prefix_operators_together() {
        let deep = format!(
            "package p\nvar x = {}\n1{}\n",
            "(".repeat(200),
            ")".repeat(200)
        );
        let out = prepared(&deep, true);
        let open = BUDGET / BRACKET + 1;
        assert_eq!(out.matches('(').count(), open);
        assert_eq!(out.matches(')').count(), open);
        // The placeholder goes last, where no line break can follow it.
        assert!(out.contains(&format!("_{}", ")".repeat(open))));
        assert!(!out.contains('1'));
        let nots = format!("package p\nvar x = a || {}b\n", "!".repeat(100));
        let out = prepared(&nots, true);
        let kept = (BUDGET - LINK) / PREFIX;
        assert_eq!(out.matches('!').count(), kept);
        // The first operators stay, the rest go.
        let thinned = format!(
            "var x = a || {}{}b\n",
            "!".repeat(kept),
            " ".repeat(100 - kept)
        );
        assert!(out.ends_with(&thinned), "{out}");
        // `!!!(` costs its operators and its bracket.
        let mixed = format!("package p\nvar x = {}b\n", "!!!(".repeat(100));
        let out = prepared(&mixed, true);
        assert_eq!(
            out.matches('(').count(),
            BUDGET / (3 * PREFIX + BRACKET) + 1
        );
    }

    #[test]
    fn cuts_long_chains_at_the_end_of_their_statement() {
        let chain = vec!["\"a\""; 5000].join(" +\n\t");
        let source = format!("package p\nvar x = {chain}\nvar y = a.b - -c\n");
        let out = prepared(&source, true);
        assert_eq!(out.matches('+').count(), BUDGET / LINK);
        assert!(out.ends_with("\nvar y = a.b - -c\n"));
        let kept = out.find("var y").unwrap();
        assert!(out[..kept].trim_end().ends_with("\"a\""));
    }
}
