//! How deeply Python code nests, and what to blank out where it nests too deeply.
//!
//! RustPython's parser is table-driven and needs no stack to parse, but its trees are as
//! deep as the code (a 20,000-term `a + b + ...` is a tree 20,000 levels deep), and when
//! a file then fails to parse (a mistake, or syntax newer than the parser), the parser
//! drops what it built, by recursion, and runs out of stack. So as `scan` reads the
//! code outside strings, [`Depth`] counts levels: each open bracket, and each link of a
//! chain (an operator, `.`, a call's or a subscript's bracket, `not`, `lambda`, `if`)
//! until its expression ends (at `,`, `=`, `;` or the end of the logical line). Past
//! [`MAX_DEPTH`] it blanks out the innermost group, a `0` standing in inside `(...)`
//! and `[...]` (but for a parameter list); or outside any group the statement's
//! expression: after its `=` (`ALL = 0`), or after its keyword (`if 0:`), or all of it.
//! The `0` goes last, so that the statement still ends where it did in the source.
//!
//! `elif` chains nest too: one `elif` in every [`MAX_DEPTH`] of a chain becomes an
//! `if`, which starts a new chain. What either defines belongs to the scope around, so
//! the outline is the same.

use kiln_plugin_sdk::{nesting::Blank, text::is_word};

/// Levels of nesting the trees may have: real code stays far below it, and dropping a
/// level takes RustPython some 230 bytes of stack (unoptimised).
pub const MAX_DEPTH: usize = 1000;

/// Keywords that start a statement with an expression after them.
const HEADS: &[&[u8]] = &[
    b"assert", b"del", b"elif", b"if", b"raise", b"return", b"while", b"with", b"yield",
];

/// Keywords that link a chain: operators, conditionals, `lambda`.
const LINKS: &[&[u8]] = &[
    b"and", b"await", b"else", b"if", b"in", b"is", b"lambda", b"not", b"or",
];

/// An open bracket.
struct Level {
    /// Where its inside starts.
    inside: usize,
    /// Links of the expression being read in it.
    links: usize,
    placeholder: Option<char>,
    blank: bool,
}

/// Follows the nesting of a file's code as `scan` reports it (see the module's
/// documentation). Positions are byte offsets.
#[derive(Default)]
pub struct Depth {
    levels: Vec<Level>,
    /// Links of the top-level expression being read.
    links: usize,
    /// Levels open now: brackets and links.
    used: usize,
    /// Where the statement's expression being read starts, once it has.
    expression: Option<usize>,
    /// Where the code read so far ends, and the `:` that ends it, if one does (a
    /// compound statement's header).
    last: usize,
    colon: Option<usize>,
    /// Whether the last token ended an operand, so that a bracket calls or subscripts.
    operand: bool,
    /// Whether the last token was `def`, or the name after it (a `(` opens parameters).
    after_def: bool,
    after_name: bool,
    /// Whether a group is being blanked, or where the top-level blank starts.
    blanking: bool,
    top_blank: Option<usize>,
    blanks: Vec<Blank>,
}

impl Depth {
    /// A bracket at `at`.
    pub fn open(&mut self, at: usize, bracket: u8) {
        let params = self.after_name;
        if self.operand {
            self.link(at, at);
        }
        self.token(at, at + 1, false);
        let placeholder = (bracket != b'{' && !params).then_some('0');
        self.levels.push(Level {
            inside: at + 1,
            links: 0,
            placeholder,
            blank: false,
        });
        self.used += 1;
        self.check(at);
    }

    /// A closing bracket at `at`; one without an open bracket is a mistake the parser
    /// reports.
    pub fn close(&mut self, at: usize) {
        if let Some(level) = self.levels.pop() {
            self.used -= 1 + level.links;
            if level.blank {
                self.blank(level.inside, at, level.placeholder);
                self.blanking = false;
            }
        }
        self.token(at, at + 1, true);
    }

    /// A name, keyword or number at `start..end`.
    pub fn word(&mut self, start: usize, end: usize, word: &[u8]) {
        let head = self.expression.is_none() && HEADS.contains(&word);
        if LINKS.contains(&word) {
            self.link(start, end);
        } else {
            self.token(start, end, word != b"def");
        }
        if head {
            self.expression = Some(end);
        }
        self.after_def = word == b"def";
    }

    /// A string at `start..end` (an f-string's `end` may come later: see [`Depth::extend`]).
    pub fn string(&mut self, start: usize, end: usize) {
        self.token(start, end, true);
    }

    /// The code read so far goes on to `end` (the end of an f-string).
    pub fn extend(&mut self, end: usize) {
        self.last = end;
    }

    /// An operator `start..end`: a link of a chain, or an `=`, `,` or `;` that ends an
    /// expression.
    pub fn operator(&mut self, start: usize, end: usize, operator: &[u8]) {
        let assignment = operator == b":="
            || operator.ends_with(b"=") && !matches!(operator, b"==" | b"!=" | b"<=" | b">=");
        match operator {
            b";" => self.statement_end(),
            b"," => {
                self.token(start, end, false);
                self.end_expression();
            }
            b":" => {
                self.token(start, end, false);
                self.colon = self.levels.is_empty().then_some(start);
            }
            _ if assignment => {
                self.token(start, end, false);
                self.end_expression();
                if self.levels.is_empty() {
                    self.expression = Some(end);
                }
            }
            _ => self.link(start, end),
        }
    }

    /// The logical line ends (or a `;` does a statement): a blank still open ends with
    /// the code, as do brackets left open by a mistake.
    pub fn statement_end(&mut self) {
        let end = self.last;
        while let Some(level) = self.levels.pop() {
            if level.blank {
                self.blank(level.inside, end, level.placeholder);
            }
        }
        if let Some(start) = self.top_blank.take() {
            self.blank(start, self.colon.unwrap_or(end), Some('0'));
        }
        (self.links, self.used, self.blanking) = (0, 0, false);
        (self.expression, self.operand) = (None, false);
        (self.after_def, self.after_name) = (false, false);
    }

    /// What to blank out.
    pub fn finish(mut self) -> Vec<Blank> {
        self.statement_end();
        self.blanks
    }

    fn token(&mut self, start: usize, end: usize, operand: bool) {
        self.expression.get_or_insert(start);
        self.last = end;
        self.colon = None;
        self.operand = operand;
        self.after_name = std::mem::take(&mut self.after_def) && operand;
    }

    fn link(&mut self, start: usize, end: usize) {
        self.token(start, end, false);
        match self.levels.last_mut() {
            Some(level) => level.links += 1,
            None => self.links += 1,
        }
        self.used += 1;
        self.check(start);
    }

    fn end_expression(&mut self) {
        let links = match self.levels.last_mut() {
            Some(level) => &mut level.links,
            None => &mut self.links,
        };
        self.used -= std::mem::take(links);
    }

    /// Past the limit: blank the innermost group, or the statement's expression.
    fn check(&mut self, at: usize) {
        if self.used <= MAX_DEPTH || self.blanking || self.top_blank.is_some() {
            return;
        }
        match self.levels.last_mut() {
            Some(level) => {
                level.blank = true;
                self.blanking = true;
            }
            None => self.top_blank = Some(self.expression.unwrap_or(at)),
        }
    }

    fn blank(&mut self, start: usize, end: usize, placeholder: Option<char>) {
        self.blanks.push(Blank {
            start,
            end,
            placeholder,
        });
    }
}

/// Makes every [`MAX_DEPTH`]th `elif` of a chain an `if` (see the module's
/// documentation); `lines` are where the logical lines of `text` start.
pub fn split_elif_chains(text: &mut [u8], lines: &[usize]) {
    // The `elif`s of the chain open at each indentation, innermost last.
    let mut chains: Vec<(usize, usize)> = Vec::new();
    for &start in lines {
        let line = &text[start..];
        let indent = line
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\x0c'))
            .count();
        let code = &line[indent..];
        if code.is_empty() || matches!(code[0], b'#' | b'\n' | b'\r') {
            continue;
        }
        while chains.last().is_some_and(|&(width, _)| width > indent) {
            chains.pop();
        }
        if chains.last().is_none_or(|&(width, _)| width < indent) {
            chains.push((indent, 0));
        }
        let Some((_, elifs)) = chains.last_mut() else {
            continue;
        };
        if !starts_with_word(code, b"elif") {
            if !starts_with_word(code, b"else") {
                *elifs = 0;
            }
            continue;
        }
        *elifs += 1;
        if *elifs >= MAX_DEPTH {
            text[start + indent..start + indent + 4].copy_from_slice(b"if  ");
            *elifs = 0;
        }
    }
}

/// Whether `code` starts with the word `word` (not just a name beginning with it).
fn starts_with_word(code: &[u8], word: &[u8]) -> bool {
    code.starts_with(word) && !code.get(word.len()).is_some_and(|&b| is_word(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_plugin_sdk::nesting::{Offsets, apply};

    /// `source` flattened, as `scan` reports its tokens, for these tests: words, single
    /// brackets and operators separated by spaces, lines by `\n`.
    fn flatten(source: &str) -> String {
        let mut depth = Depth::default();
        let mut at = 0;
        for line in source.split_inclusive('\n') {
            for token in line.split(' ') {
                let word = token.trim_end_matches('\n');
                let (start, end) = (at, at + word.len());
                match word.as_bytes() {
                    [] => {}
                    [b @ (b'(' | b'[' | b'{')] => depth.open(start, *b),
                    [b')' | b']' | b'}'] => depth.close(start),
                    w if w[0].is_ascii_alphanumeric() => depth.word(start, end, w),
                    w => depth.operator(start, end, w),
                }
                at += token.len() + 1;
            }
            at -= 1;
            depth.statement_end();
        }
        let flat = apply(source, &depth.finish(), Offsets::Bytes);
        assert_eq!(flat.len(), source.len());
        flat
    }

    #[test]
    fn blanks_a_long_chain_after_its_assignment() {
        let chain = vec!["a"; MAX_DEPTH + 2].join(" + ");
        let flat = flatten(&format!("x = {chain}\ny = 1\n"));
        assert!(flat.starts_with("x =     "));
        assert!(flat.ends_with(" 0\ny = 1\n"), "{flat}");
        let flat = flatten(&format!("return {chain} ; y = 1\n"));
        assert!(
            flat.starts_with("return  ") && flat.ends_with("0 ; y = 1\n"),
            "{flat}"
        );
        let flat = flatten(&format!("if {chain} :\n  pass\n"));
        assert!(
            flat.starts_with("if  ") && flat.ends_with(" 0:\n  pass\n"),
            "{flat}"
        );
        let flat = flatten(&format!("f ( x ) . {chain}\n"));
        assert!(flat.trim_start().starts_with('0'), "{flat}");
    }

    #[test]
    fn blanks_the_group_where_the_limit_passes() {
        let chain = vec!["a"; MAX_DEPTH + 2].join(" . ");
        let flat = flatten(&format!("x = f ( 1 , g ( {chain} ) ) , [ 2 ]\n"));
        assert!(flat.starts_with("x = f ( 1 , g ( "), "{flat}");
        assert!(flat.ends_with("  0) ) , [ 2 ]\n"), "{flat}");
        // Parameters stay empty; braces need no placeholder.
        let flat = flatten(&format!("def f ( a = {chain} ) : pass\n"));
        assert!(
            flat.starts_with("def f (   ") && flat.ends_with("  ) : pass\n"),
            "{flat}"
        );
        let flat = flatten(&format!("x = {{ {chain} }}\n"));
        assert!(flat.ends_with("  }\n"), "{flat}");
    }

    #[test]
    fn splits_long_elif_chains() {
        let mut source = String::from("if a:\n  pass\n");
        source += &"elif b:\n  if c:\n    pass\n  elif d:\n    pass\n".repeat(MAX_DEPTH);
        source += "else:\n  pass\nelif_ = 1\n";
        let mut text = source.clone().into_bytes();
        let lines: Vec<usize> = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        split_elif_chains(&mut text, &lines);
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text.matches("\nif   b:").count(), 1);
        // The inner chains are short: they are left alone.
        assert_eq!(text.matches("  elif d:").count(), MAX_DEPTH);
        assert!(text.ends_with("else:\n  pass\nelif_ = 1\n"));
    }
}
