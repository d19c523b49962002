//! JSX, for the scan: a `<` where an expression starts opens an element. Its tag holds
//! names, strings and `{...}` expressions; its children are text (which may hold any
//! bracket or quote, `Don't (see below)`), `{...}` expressions and elements, up to the
//! closing tag. An element counts one level of nesting (oxc recurses into its
//! children), opened by the `>` ending its tag and closed by its closing tag.
//!
//! A `<` read as an element may be none (a TypeScript arrow function's `<T,>(x) => x`,
//! a comparison after a name that is no keyword): the scan knows when the tag or text
//! holds what JSX cannot (a `;`, a `}`, a closing tag of another name, the end of the
//! file), goes back to the `<` and reads it as code, and reads no element again before
//! where it knew. So a misread costs one more pass over what it read, and nothing more.

use crate::scan::{Context, Event, Scanner, find, is_word, line_end};

impl<F: FnMut(usize, Event)> Scanner<'_, F> {
    /// Whether the `<` at `at`, where an expression starts, opens an element: `<name`
    /// or `<>`.
    pub(crate) fn may_open_element(&self, at: usize) -> bool {
        let next = self.bytes.get(at + 1).copied();
        self.dialect.jsx
            && at >= self.no_jsx_before
            && next.is_some_and(|b| b == b'>' || (is_word(b) && !b.is_ascii_digit()))
    }

    /// An element's tag opens at `at`.
    pub(crate) fn open_element(&mut self, at: usize) {
        if self.state.elements == 0 {
            self.saved = Some(self.state.clone());
        }
        let end = name_end(self.bytes, at + 1);
        self.emit(at, Event::Token);
        self.state.contexts.push(Context::Element {
            name: (at + 1, end),
            children: false,
        });
        self.state.elements += 1;
        self.state.at = end;
    }

    /// Reads what a tag holds at `state.at`.
    pub(crate) fn tag(&mut self) {
        let bytes = self.bytes;
        let at = self.state.at;
        let next = bytes.get(at + 1).copied();
        self.state.at = match bytes[at] {
            byte if byte.is_ascii_whitespace() => at + 1,
            b'/' if next == Some(b'/') => line_end(bytes, at),
            b'/' if next == Some(b'*') => {
                find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2)
            }
            b'/' if next == Some(b'>') => {
                self.emit(at, Event::Token);
                self.state.at = at + 2;
                return self.close_element();
            }
            b'>' => {
                if let Some(Context::Element { children, .. }) = self.state.contexts.last_mut() {
                    *children = true;
                }
                self.emit(at, Event::Open(b'>', true));
                at + 1
            }
            // An attribute's value needs an expression; a spread is one too.
            b'{' => return self.open_container(at, false),
            // Attribute strings have no escapes and may span lines.
            quote @ (b'"' | b'\'') => match find(bytes, at + 1, &[quote]) {
                Some(end) => end + 1,
                None => return self.not_jsx(),
            },
            b'=' => at + 1,
            byte if is_word(byte) => name_end(bytes, at),
            _ => return self.not_jsx(),
        };
    }

    /// Reads what an element's children hold at `state.at`.
    pub(crate) fn children(&mut self) {
        let bytes = self.bytes;
        let at = self.state.at;
        match bytes[at] {
            b'{' => self.open_container(at, true),
            b'<' if bytes.get(at + 1) == Some(&b'/') => self.closing_tag(at),
            b'<' if self.may_open_element(at) => self.open_element(at),
            b'<' | b'}' => self.not_jsx(),
            _ => {
                let text = bytes[at..].iter().position(|b| b"{<}".contains(b));
                self.state.at = text.map_or(bytes.len(), |length| at + length);
            }
        }
    }

    /// A closing tag at `at`: it must name the element open.
    fn closing_tag(&mut self, at: usize) {
        let bytes = self.bytes;
        let start = skip_whitespace(bytes, at + 2);
        let end = name_end(bytes, start);
        let close = skip_whitespace(bytes, end);
        let open = match self.state.contexts.last() {
            Some(&Context::Element { name, .. }) => &bytes[name.0..name.1],
            _ => return self.not_jsx(),
        };
        if bytes.get(close) != Some(&b'>') || open != &bytes[start..end] {
            return self.not_jsx();
        }
        self.emit(at, Event::Close);
        self.state.at = close + 1;
        self.close_element();
    }

    /// The innermost element has closed (`state.at` is past it).
    fn close_element(&mut self) {
        self.state.contexts.pop();
        self.state.elements -= 1;
        if self.state.elements == 0 {
            // It was JSX after all.
            self.saved = None;
            for (at, event) in std::mem::take(&mut self.buffer) {
                (self.event)(at, event);
            }
        }
        if !matches!(self.state.contexts.last(), Some(Context::Element { .. })) {
            // Back in code, after an operand.
            let state = &mut self.state;
            state.expression_starts = false;
            state.after_dot = false;
            state.after_brace = false;
            state.after_else = None;
            state.after_condition = false;
        }
    }

    /// A `{` at `at` in a tag or children: code, up to its `}`. `empty`: whether it may
    /// stay empty (in children; an attribute needs a value).
    fn open_container(&mut self, at: usize, empty: bool) {
        self.emit(at, Event::Open(b'{', empty));
        let state = &mut self.state;
        state.depth += 1;
        state.contexts.push(Context::Container(state.depth));
        state.at = at + 1;
        state.expression_starts = true;
        state.after_dot = false;
        state.after_brace = false;
        state.after_else = None;
        state.after_condition = false;
    }

    /// What was read as JSX is none: back to the `<` that opened the outermost element,
    /// to read it as code, with no element opening before where this was found out.
    pub(crate) fn not_jsx(&mut self) {
        let Some(saved) = self.saved.take() else {
            // Not reading JSX: nothing to go back to (cannot happen); move on.
            self.state.at += 1;
            return;
        };
        self.no_jsx_before = self.state.at.max(saved.at + 1);
        self.state = saved;
        self.buffer.clear();
    }
}

/// Where a tag's or attribute's name from `at` ends: `a`, `my-element`, `svg:rect`,
/// `Foo.Bar`.
fn name_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| !(is_word(b) || matches!(b, b'-' | b':' | b'.')))
        .map_or(bytes.len(), |length| at + length)
}

fn skip_whitespace(bytes: &[u8], at: usize) -> usize {
    bytes[at.min(bytes.len())..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(bytes.len(), |length| at + length)
}
