//! RustPython's parser, called on a whole file, one statement, or a class's members.

use std::ops::Range;

use kiln_plugin_sdk::text::{TextIndex, floor_char_boundary};
use rustpython_parser::{
    Mode,
    ast::{self, Stmt},
    text_size::TextSize,
};

/// Why a parse failed: what, and where (a byte offset) when known.
pub struct Failure {
    message: String,
    offset: Option<usize>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            offset: None,
        }
    }

    /// `path:line:column: message`, or `path: message`.
    pub fn describe(&self, path: &str, source: &str) -> String {
        let Some(offset) = self.offset else {
            return format!("{path}: {}", self.message);
        };
        let offset = floor_char_boundary(source, offset);
        let index = TextIndex::new(source);
        let line = index.line_of(offset);
        let column = source[index.line_start(offset)..offset].chars().count() + 1;
        format!("{path}:{line}:{column}: {}", self.message)
    }
}

/// What lets the members of a class be parsed without their class.
const MEMBERS: &str = "class _:\n";

/// Parses `text[range]`, with offsets into `text`, as statements: top-level ones, or
/// the (indented) `members` of a class.
pub fn parse(
    path: &str,
    text: &str,
    range: Range<usize>,
    members: bool,
) -> Result<Vec<Stmt>, Failure> {
    let wrapped;
    let (code, start) = if members {
        // Members always follow their class's line, so there is room for the wrapper.
        let start = range.start.checked_sub(MEMBERS.len());
        wrapped = format!("{MEMBERS}{}", &text[range]);
        (
            wrapped.as_str(),
            start.ok_or_else(|| Failure::new("no class"))?,
        )
    } else {
        (&text[range.clone()], range.start)
    };
    let offset = TextSize::try_from(start).map_err(|_| Failure::new("file too large"))?;
    // RustPython's parser returns errors for invalid input, but it is generated code
    // full of `unwrap`s on invariants we cannot audit for every input. Catching a panic
    // turns such a bug into an ordinary error in native builds; in WebAssembly panics
    // abort, and the host treats the trap as a failed parse.
    let result = std::panic::catch_unwind(|| {
        rustpython_parser::parse_starts_at(code, Mode::Module, path, offset)
    })
    .map_err(|_| Failure::new("the Python parser crashed on this file"))?;
    let body = match result {
        Ok(ast::Mod::Module(module)) => module.body,
        Ok(_) => return Err(Failure::new("not a Python module")),
        Err(error) => {
            return Err(Failure {
                message: error.error.to_string(),
                offset: Some(usize::from(error.offset)),
            });
        }
    };
    if !members {
        return Ok(body);
    }
    match body.into_iter().next() {
        Some(Stmt::ClassDef(class)) => Ok(class.body),
        _ => Err(Failure::new("not the members of a class")),
    }
}
