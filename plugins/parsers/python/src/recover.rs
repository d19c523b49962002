//! An outline of a file that does not parse as a whole: each statement parsed on its
//! own, and a definition that does not parse listed from its `def` or `class` line.

use std::ops::Range;

use kiln_plugin_sdk::{parser::SymbolKind, stack::leak, text::floor_char_boundary};

use crate::{
    Scope, Walker,
    parse::parse,
    scan::{self, Prepared},
};

/// How deep the outline of a file that does not parse follows classes that do not
/// parse either, into their members.
const MAX_RECOVERY_NESTING: usize = 8;

impl Walker<'_> {
    /// Outlines `range` of a file that does not parse: each statement at the first one's
    /// indentation is parsed on its own (as a member of the class, in a class's scope),
    /// and one that does not parse is still listed if it is a definition. Returns how
    /// many statements parsed.
    pub(crate) fn recover(
        &mut self,
        path: &str,
        prepared: &Prepared,
        range: Range<usize>,
        scope: Scope,
        nesting: usize,
    ) -> usize {
        let members = matches!(scope, Scope::Class(_));
        let mut parsed = 0;
        for block in scan::blocks(&prepared.text, &prepared.lines, range.start, range.end) {
            match parse(path, &prepared.text, block.clone(), members) {
                Ok(body) => {
                    self.body(&body, scope);
                    leak(body);
                    parsed += 1;
                }
                Err(_) => parsed += self.definition_line(path, prepared, block, scope, nesting),
            }
        }
        parsed
    }

    /// Lists a statement that does not parse by its `def` or `class` line (the first
    /// that is not a decorator or comment), spanning the whole statement; the members of
    /// a class are outlined in turn. Returns how many of them parsed.
    fn definition_line(
        &mut self,
        path: &str,
        prepared: &Prepared,
        block: Range<usize>,
        scope: Scope,
        nesting: usize,
    ) -> usize {
        let text = &prepared.text;
        let first = prepared.lines.partition_point(|&start| start < block.start);
        let mut lines = prepared.lines[first..]
            .iter()
            .copied()
            .take_while(|&start| start < block.end);
        let code = |start: usize| text[start..].trim_start_matches([' ', '\t', '\x0c']);
        let Some(header) = lines.find(|&start| !code(start).starts_with(['@', '#', '\n', '\r']))
        else {
            return 0;
        };
        let Some((kind, name)) = definition(code(header), scope) else {
            return 0;
        };
        // From the first decorator or the `def`, without the indentation, to the last
        // non-blank character.
        let start = text.len() - code(block.start).len();
        let end = block.start + text[block.clone()].trim_end().len();
        let end = floor_char_boundary(self.source, end);
        let index = self.push_span(kind, name, start..end, scope);
        if kind != SymbolKind::Class || nesting >= MAX_RECOVERY_NESTING {
            return 0;
        }
        let body = lines.next().unwrap_or(block.end)..block.end;
        self.recover(path, prepared, body, Scope::Class(index), nesting + 1)
    }
}

/// The kind and name of what the line `code` defines, if it is a `def`, `async def` or
/// `class` line.
fn definition(code: &str, scope: Scope) -> Option<(SymbolKind, &str)> {
    let code = match code.strip_prefix("async") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start_matches([' ', '\t']),
        _ => code,
    };
    let (kind, rest) = if scan::starts_with_word(code, "def") {
        let kind = match scope {
            Scope::Class(_) => SymbolKind::Method,
            Scope::Module | Scope::Function(_) => SymbolKind::Function,
        };
        (kind, &code["def".len()..])
    } else if scan::starts_with_word(code, "class") {
        (SymbolKind::Class, &code["class".len()..])
    } else {
        return None;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    let length = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (length > 0).then(|| (kind, &rest[..length]))
}
