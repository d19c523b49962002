//! Bounding how deeply code nests before a recursive-descent parser sees it (see
//! [`crate::stack`] for why).
//!
//! A parser needs stack for every level of nesting it is inside, and what a level costs
//! depends on what opens it: a bracket, a prefix operator (`!!!x`), a generic argument,
//! a link of a chain (`a + b + ...`: built in a loop, but a tree that is dropped by
//! recursion). A language's scanner reports what it meets to a [`Flattener`], with what
//! each costs (in bytes of stack, as measured); where the total would pass the budget,
//! the flattener picks what to blank out so that the code stays valid:
//!
//! - a group opened past the budget loses its inside, and a placeholder (`0`, `_`) can
//!   stand in for it where the language needs an expression or type;
//! - a prefix unit past the budget is removed: `!!!!x` becomes `!!  x`;
//! - a link past the budget goes with the rest of its expression: `a + b + c + d`
//!   becomes `a + b        `, up to the `,` or `;` or closing bracket that ends it.
//!
//! [`apply`] then writes spaces over the blanks, keeping the positions of everything
//! else, so that the parser's positions are positions in the source.

/// A range to blank out (in the unit the scanner counts positions in), and what stands
/// in for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blank {
    pub start: usize,
    pub end: usize,
    /// Written over the range's last character, unless the range holds only whitespace.
    /// Must be ASCII.
    pub placeholder: Option<char>,
}

/// An open group.
struct Level {
    /// Where its inside starts.
    inside: usize,
    /// What opening it costs.
    cost: usize,
    /// What the links and prefix units of its current expression cost so far.
    expression: usize,
    /// Whether its current expression has had an `=` (see [`Flattener::assign`]).
    assigned: bool,
    placeholder: Option<char>,
    /// Whether it may end without a closer (a generic's `<` that was a comparison).
    soft: bool,
}

/// What is being blanked out: the inside of the group at a level, or from a link on.
#[derive(Clone, Copy)]
enum Blanking {
    Group(usize),
    Tail { level: usize, start: usize },
}

/// Follows the nesting of code as its scanner reports it and decides what to blank out
/// (see the module's documentation). Positions are the scanner's: bytes or characters.
pub struct Flattener {
    budget: usize,
    /// The open groups; the first is the top level, which never closes.
    levels: Vec<Level>,
    /// The cost of everything open, so far.
    used: usize,
    blanking: Option<Blanking>,
    blanks: Vec<Blank>,
}

impl Flattener {
    /// A flattener that keeps the cost of what is open within `budget`.
    pub fn new(budget: usize) -> Self {
        let top = Level {
            inside: 0,
            cost: 0,
            expression: 0,
            assigned: false,
            placeholder: None,
            soft: false,
        };
        Self {
            budget,
            levels: vec![top],
            used: 0,
            blanking: None,
            blanks: Vec::new(),
        }
    }

    /// How many groups are open, soft ones included.
    pub fn depth(&self) -> usize {
        self.levels.len() - 1
    }

    /// A group opens, its inside starting at `inside`: blanked (with `placeholder`
    /// standing in for it) if opening it passes the budget, or if `blank` is set (say,
    /// for a function body, which holds no symbols). A `soft` group also ends where a
    /// statement does, or where the group around it closes.
    pub fn open(
        &mut self,
        inside: usize,
        cost: usize,
        placeholder: Option<char>,
        soft: bool,
        blank: bool,
    ) {
        self.levels.push(Level {
            inside,
            cost,
            expression: 0,
            assigned: false,
            placeholder,
            soft,
        });
        self.used += cost;
        if self.blanking.is_none() && (blank || self.used > self.budget) {
            self.blanking = Some(Blanking::Group(self.depth()));
        }
    }

    /// The innermost group closes at `at` (where its closer starts), and the soft groups
    /// in it. A closer with no group open is ignored.
    pub fn close(&mut self, at: usize) {
        while self.depth() > 0 && self.levels[self.depth()].soft {
            self.pop(at);
        }
        if self.depth() > 0 {
            self.pop(at);
        }
    }

    /// Closes the innermost group at `at` if it is soft (the `>` of a generic); returns
    /// whether it was.
    pub fn close_soft(&mut self, at: usize) -> bool {
        let soft = self.depth() > 0 && self.levels[self.depth()].soft;
        if soft {
            self.pop(at);
        }
        soft
    }

    /// A prefix unit at `start..end` (`!`, `*const`, `|x|`) that costs `cost`: removed
    /// if it passes the budget.
    pub fn prefix(&mut self, start: usize, end: usize, cost: usize) {
        if self.blanking.is_some() {
            return;
        }
        if self.used + cost > self.budget {
            self.blanks.push(Blank {
                start,
                end,
                placeholder: None,
            });
        } else {
            self.spend(cost);
        }
    }

    /// A link of a chain (a binary operator, a `.`) at `at` that costs `cost`: past the
    /// budget, it and the rest of its expression are blanked out.
    pub fn link(&mut self, at: usize, cost: usize) {
        if self.blanking.is_some() {
            return;
        }
        if self.used + cost > self.budget {
            let level = self.depth();
            self.blanking = Some(Blanking::Tail { level, start: at });
        } else {
            self.spend(cost);
        }
    }

    /// An `=` at `at` that costs `cost`. The first of an expression ends what was before
    /// it (the type of `const X: T = ...`, the target of an assignment), which cannot go
    /// without it; a later one is a link of a chain (`a = b = c`).
    pub fn assign(&mut self, at: usize, cost: usize) {
        let depth = self.depth();
        if self.levels[depth].assigned {
            self.link(at, cost);
        } else {
            self.end_expression(at);
            self.levels[depth].assigned = true;
        }
    }

    /// The expression in the innermost group ends at `at` (a `,`): its links and
    /// prefix units no longer count.
    pub fn end_expression(&mut self, at: usize) {
        let depth = self.depth();
        if let Some(Blanking::Tail { level, start }) = self.blanking
            && level == depth
        {
            self.push(start, at, None);
            self.blanking = None;
        }
        let level = &mut self.levels[depth];
        self.used -= level.expression;
        level.expression = 0;
        level.assigned = false;
    }

    /// A statement ends at `at` (a `;`): the soft groups open in it close, and its
    /// expression ends.
    pub fn end_statement(&mut self, at: usize) {
        while self.depth() > 0 && self.levels[self.depth()].soft {
            self.pop(at);
        }
        self.end_expression(at);
    }

    /// What to blank out, with whatever is still open blanked up to `end`.
    pub fn finish(mut self, end: usize) -> Vec<Blank> {
        while self.depth() > 0 {
            self.pop(end);
        }
        self.end_expression(end);
        self.blanks
    }

    fn spend(&mut self, cost: usize) {
        let depth = self.depth();
        self.levels[depth].expression += cost;
        self.used += cost;
    }

    /// Closes the innermost group at `at`, ending a blank that belongs to it.
    fn pop(&mut self, at: usize) {
        let depth = self.depth();
        let Some(level) = self.levels.pop() else {
            return;
        };
        self.used -= level.cost + level.expression;
        match self.blanking {
            Some(Blanking::Group(blanked)) if blanked == depth => {
                self.push(level.inside, at, level.placeholder);
            }
            Some(Blanking::Tail { level, start }) if level == depth => {
                self.push(start, at, None);
            }
            _ => return,
        }
        self.blanking = None;
    }

    fn push(&mut self, start: usize, end: usize, placeholder: Option<char>) {
        if start < end {
            self.blanks.push(Blank {
                start,
                end,
                placeholder,
            });
        }
    }
}

/// What the positions of [`Blank`]s count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offsets {
    /// Bytes: each byte of a blanked character becomes a space.
    Bytes,
    /// Characters: each blanked character becomes one space.
    Chars,
}

/// `text` with the `blanks` written over by spaces (but for line breaks, so that line
/// numbers hold), and each placeholder over its blank's last character: that is, right
/// before the closer of a blanked group, where no line break can follow it (Go ends a
/// statement at a line break after an operand).
pub fn apply(text: &str, blanks: &[Blank], offsets: Offsets) -> String {
    let mut blanks: Vec<&Blank> = blanks.iter().filter(|b| b.start < b.end).collect();
    blanks.sort_by_key(|blank| blank.start);
    let mut pending = blanks.into_iter().peekable();
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    // The blank being written, where its last character went and whether it held code.
    let mut current: Option<(&Blank, usize, bool)> = None;
    let mut placeholders = Vec::new();
    for (index, (byte, c)) in text.char_indices().enumerate() {
        let at = match offsets {
            Offsets::Bytes => byte,
            Offsets::Chars => index,
        };
        if let Some((blank, last, code)) = current
            && blank.end <= at
        {
            placeholders.extend(blank.placeholder.filter(|_| code).map(|p| (last, p)));
            current = None;
        }
        while current.is_none()
            && let Some(blank) = pending.next_if(|blank| blank.start <= at)
        {
            current = (at < blank.end).then_some((blank, 0, false));
        }
        let Some((_, last, code)) = &mut current else {
            let mut buffer = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            continue;
        };
        *last = out.len();
        *code |= !c.is_whitespace();
        if matches!(c, '\n' | '\r') {
            out.push(c as u8);
        } else {
            let width = match offsets {
                Offsets::Bytes => c.len_utf8(),
                Offsets::Chars => 1,
            };
            out.resize(out.len() + width, b' ');
        }
    }
    if let Some((blank, last, true)) = current {
        placeholders.extend(blank.placeholder.map(|p| (last, p)));
    }
    for (at, placeholder) in placeholders {
        if placeholder.is_ascii() {
            out[at] = placeholder as u8;
        }
    }
    // Only whole characters were replaced, by ASCII, so this is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(start: usize, end: usize, placeholder: Option<char>) -> Blank {
        Blank {
            start,
            end,
            placeholder,
        }
    }

    #[test]
    fn groups_prefixes_and_links_share_one_budget() {
        // `!(!(!(x)))` at 10 a bracket and 1 a `!`, in a budget of 25: the third group
        // would cost 33.
        let mut flattener = Flattener::new(25);
        for at in [0, 2, 4] {
            flattener.prefix(at, at + 1, 1);
            flattener.open(at + 2, 10, Some('0'), false, false);
        }
        for at in [7, 8, 9] {
            flattener.close(at);
        }
        assert_eq!(flattener.finish(10), [blank(6, 7, Some('0'))]);
        // A chain: the link past the budget goes, with the rest of the expression.
        let mut flattener = Flattener::new(2);
        for at in [2, 6, 10] {
            flattener.link(at, 1);
        }
        flattener.end_expression(14);
        flattener.link(16, 1);
        assert_eq!(flattener.finish(20), [blank(10, 14, None)]);
        // Prefix units past the budget are thinned out; a new statement starts afresh.
        let mut flattener = Flattener::new(2);
        for at in 0..4 {
            flattener.prefix(at, at + 1, 1);
        }
        flattener.end_statement(5);
        flattener.prefix(6, 7, 1);
        assert_eq!(flattener.finish(8), [blank(2, 3, None), blank(3, 4, None)]);
        // The first `=` ends a declaration's type, which must stay; later ones chain.
        let mut flattener = Flattener::new(2);
        flattener.prefix(0, 1, 2);
        for at in [3, 5, 7] {
            flattener.assign(at, 2);
        }
        assert_eq!(flattener.finish(9), [blank(7, 9, None)]);
    }

    #[test]
    fn soft_groups_close_with_their_statement_or_enclosing_group() {
        let mut flattener = Flattener::new(100);
        flattener.open(1, 10, None, false, false);
        flattener.open(3, 10, Some('_'), true, false);
        flattener.open(5, 10, Some('_'), true, false);
        assert!(flattener.close_soft(7));
        assert_eq!(flattener.depth(), 2);
        flattener.close(8);
        assert_eq!(flattener.depth(), 0);
        assert!(!flattener.close_soft(9));
        flattener.open(10, 10, Some('_'), true, false);
        flattener.end_statement(12);
        assert_eq!(flattener.depth(), 0);
        // A forced blank (a body) and a tail ended by the group around it.
        flattener.open(13, 0, None, false, true);
        flattener.close(20);
        flattener.open(21, 90, None, false, false);
        flattener.link(22, 5);
        flattener.link(24, 6);
        flattener.close(30);
        assert_eq!(
            flattener.finish(31),
            [blank(13, 20, None), blank(24, 30, None)]
        );
    }

    #[test]
    fn apply_keeps_offsets_and_line_breaks() {
        let text = "f((é\n1), !!x)";
        let blanks = [blank(3, 7, Some('0')), blank(11, 12, None)];
        assert_eq!(apply(text, &blanks, Offsets::Bytes), "f((  \n0), ! x)");
        // In characters, `é` is one position and becomes one space.
        let blanks = [blank(3, 6, Some('0')), blank(10, 11, None)];
        assert_eq!(apply(text, &blanks, Offsets::Chars), "f(( \n0), ! x)");
        // Only whitespace: no placeholder; an unclosed blank runs to the end.
        assert_eq!(
            apply("( \n)", &[blank(1, 3, Some('0'))], Offsets::Bytes),
            "( \n)"
        );
        assert_eq!(
            apply("a[b c", &[blank(2, 9, Some('_'))], Offsets::Bytes),
            "a[  _"
        );
    }
}
