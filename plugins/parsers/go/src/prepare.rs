//! A pass over Go source before gosyn parses it. gosyn's parser recurses once per
//! nested bracket, prefix operator and `else if`, and the trees it builds are as deep
//! as the code: running out of stack kills the plugin call instead of returning an
//! error. So, working from gosyn's own tokens:
//!
//! - function bodies are blanked out: no symbol comes from inside one, and that is
//!   where generated code nests deepest (a 5,000-arm `else if` chain, say);
//! - what is still nested more than [`MAX_NESTING`] brackets deep is blanked out (a `0`
//!   stands in for the inside of `(...)` and `[...]`), and runs of more than
//!   [`MAX_PREFIX_OPERATORS`] prefix operators are thinned out to that many.
//!
//! gosyn counts positions in characters, so each character blanked becomes one space:
//! no position moves.

use gosyn::{
    LexicalToken,
    token::{Keyword, Operator, Token},
};

/// Groups nested deeper than this are blanked out. Outside function bodies (blanked
/// anyway) real Go code stays far below it; each level costs gosyn some 20 KiB of stack
/// in a debug build.
pub const MAX_NESTING: usize = 32;

/// Longer runs of prefix operators (`!!!!x`, `***T`, `<-<-<-c`) are cut to this many.
pub const MAX_PREFIX_OPERATORS: usize = 16;

/// A range of characters to blank, and what stands in for them.
struct Blank {
    start: usize,
    end: usize,
    /// `0` inside brackets that need an expression; `None` for a body or operators.
    placeholder: Option<char>,
}

/// `text` with the blanks of the module's documentation, function bodies only when
/// `bodies` is set; `tokens` are gosyn's tokens of `text`.
pub fn prepare(text: &str, tokens: &[LexicalToken], bodies: bool) -> String {
    let mut blanks: Vec<Blank> = Vec::new();
    let mut depth = 0usize;
    // The group being blanked: the depth outside it, where its inside starts, and what
    // stands in for it.
    let mut blanking: Option<(usize, usize, Option<char>)> = None;
    // Whether the top-level declaration being read is a function (or a function type
    // or literal: blanking their braces keeps them valid too).
    let mut function = false;
    let mut run: Vec<(usize, usize)> = Vec::new();
    for token in tokens {
        let operator = match token.token {
            Token::Operator(operator) => Some(operator),
            _ => None,
        };
        if !operator.is_some_and(is_prefix) {
            thin(&mut blanks, &run);
            run.clear();
        }
        match (&token.token, operator) {
            (Token::Keyword(keyword), _) if depth == 0 => {
                if matches!(
                    keyword,
                    Keyword::Func | Keyword::Type | Keyword::Var | Keyword::Const | Keyword::Import
                ) {
                    function = *keyword == Keyword::Func;
                }
            }
            (_, Some(Operator::ParenLeft | Operator::BarackLeft | Operator::BraceLeft)) => {
                let brace = operator == Some(Operator::BraceLeft);
                let body = bodies && function && brace && depth == 0;
                if blanking.is_none() && (body || depth == MAX_NESTING) {
                    let placeholder = (!brace).then_some('0');
                    blanking = Some((depth, token.end, placeholder));
                }
                depth += 1;
            }
            (_, Some(Operator::ParenRight | Operator::BarackRight | Operator::BraceRight)) => {
                depth = depth.saturating_sub(1);
                if let Some((outside, start, placeholder)) = blanking
                    && outside == depth
                {
                    blanks.push(Blank {
                        start,
                        end: token.start,
                        placeholder: placeholder.filter(|_| start < token.start),
                    });
                    blanking = None;
                }
            }
            (_, Some(_)) if blanking.is_none() && operator.is_some_and(is_prefix) => {
                run.push((token.start, token.end));
            }
            _ => {}
        }
    }
    thin(&mut blanks, &run);
    if let Some((_, start, placeholder)) = blanking {
        blanks.push(Blank {
            start,
            end: usize::MAX,
            placeholder,
        });
    }
    apply(text, &mut blanks)
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

/// Blanks the operators of `run` past the first [`MAX_PREFIX_OPERATORS`], but the first
/// one (which may be a binary operator, as in `a + ----b`).
fn thin(blanks: &mut Vec<Blank>, run: &[(usize, usize)]) {
    let excess = run.len().saturating_sub(MAX_PREFIX_OPERATORS);
    for &(start, end) in run.iter().skip(1).take(excess) {
        blanks.push(Blank {
            start,
            end,
            placeholder: None,
        });
    }
}

/// `text` with the character ranges of `blanks` replaced by spaces, but for the line
/// breaks of a body (which hold no statement once blank). A group with a placeholder
/// loses its line breaks too, or Go would end a statement after its `0`.
fn apply(text: &str, blanks: &mut [Blank]) -> String {
    blanks.sort_by_key(|blank| blank.start);
    let mut blanks = blanks.iter().peekable();
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.chars().enumerate() {
        while blanks.next_if(|blank| blank.end <= at).is_some() {}
        match blanks.peek() {
            Some(blank) if blank.start <= at => {
                if at == blank.start
                    && let Some(placeholder) = blank.placeholder
                {
                    out.push(placeholder);
                } else if blank.placeholder.is_none() && matches!(c, '\n' | '\r') {
                    out.push(c);
                } else {
                    out.push(' ');
                }
            }
            _ => out.push(c),
        }
    }
    out
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
    fn bounds_nesting_and_prefix_operators() {
        let deep = format!(
            "package p\nvar x = {}\n1{}\n",
            "(".repeat(200),
            ")".repeat(200)
        );
        let out = prepared(&deep, true);
        let open = MAX_NESTING + 1;
        assert_eq!(out.matches('(').count(), open);
        assert_eq!(out.matches(')').count(), open);
        assert!(out.contains(&format!("{}0", "(".repeat(open))));
        assert!(!out.contains('1'), "line breaks in the group go too");
        let nots = format!("package p\nvar x = a || {}b\n", "!".repeat(100));
        let out = prepared(&nots, true);
        assert_eq!(out.matches('!').count(), MAX_PREFIX_OPERATORS);
        assert!(out.starts_with("package p\nvar x = a || "));
        assert!(out.ends_with("!b\n"));
    }
}
