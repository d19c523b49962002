//! Jupyter notebooks (`.ipynb`, nbformat 4): the cells' sources, located in the file.
//!
//! A notebook is JSON whose code lives in `cells[i].source` (a string, or a list of
//! strings — one per line); outputs (images as base64, HTML, logs) sit beside it. Kiln
//! indexes the sources only: code cells parsed by the kernel language's parser,
//! markdown cells as text. Each string of a source is located in the file by a small
//! iterative scan (serde_json gives values, not positions), so symbols and chunks
//! point at the notebook's own bytes and lines.

use std::ops::Range;

/// Whether `path` names a notebook.
pub fn is_notebook(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(_, extension)| extension.eq_ignore_ascii_case("ipynb"))
}

/// What a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Code,
    Markdown,
    /// `raw` cells, and kinds this version does not know.
    Other,
}

/// One string of a cell's source: where it is in the file (quotes included) and what
/// it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub json: Range<usize>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub kind: CellKind,
    pub pieces: Vec<Piece>,
}

impl Cell {
    /// The cell's source as one text (its pieces joined).
    pub fn source(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }

    /// The file range of the source text's byte range `decoded` (to whole pieces).
    pub fn locate(&self, decoded: Range<usize>) -> Option<Range<usize>> {
        let (mut offset, mut start, mut end) = (0, None, None);
        for piece in &self.pieces {
            let next = offset + piece.text.len();
            if start.is_none() && decoded.start < next.max(offset + 1) {
                start = Some(piece.json.start);
            }
            if start.is_some() && decoded.end <= next {
                end = Some(piece.json.end);
                break;
            }
            offset = next;
        }
        let end = end.or_else(|| self.pieces.last().map(|p| p.json.end))?;
        Some(start?..end)
    }
}

/// The notebook's cells, or why `text` is not a notebook.
pub fn cells(text: &str) -> Result<Vec<Cell>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(listed) = value.get("cells").and_then(|c| c.as_array()) else {
        return Err("no `cells` list (nbformat 4 is supported)".into());
    };
    let mut cells: Vec<Cell> = listed
        .iter()
        .map(|cell| Cell {
            kind: match cell.get("cell_type").and_then(|t| t.as_str()) {
                Some("code") => CellKind::Code,
                Some("markdown") => CellKind::Markdown,
                _ => CellKind::Other,
            },
            pieces: Vec::new(),
        })
        .collect();
    for (cell, json) in source_strings(text)? {
        let decoded: String = serde_json::from_str(&text[json.clone()])
            .map_err(|e| format!("cell {}: {e}", cell + 1))?;
        if let Some(cell) = cells.get_mut(cell) {
            cell.pieces.push(Piece {
                json,
                text: decoded,
            });
        }
    }
    Ok(cells)
}

/// The kernel's language (`metadata.kernelspec.language`, else
/// `metadata.language_info.name`) as Kiln names languages: lowercased, a standard's
/// year dropped (xeus-cling's `C++17` is `cpp`).
pub fn kernel_language(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let metadata = value.get("metadata")?;
    let language = metadata
        .pointer("/kernelspec/language")
        .or_else(|| metadata.pointer("/language_info/name"))
        .and_then(|l| l.as_str())?
        .to_ascii_lowercase();
    Some(if language.starts_with("c++") {
        "cpp".to_owned()
    } else {
        language
    })
}

/// An open object or array, and where it sits in its parent.
struct Open {
    array: bool,
    /// The key it is the value of (in an object).
    key: Option<String>,
    /// Its index (in an array).
    index: usize,
    /// Arrays: how many values so far.
    count: usize,
    /// Objects: the key just read, waiting for its value.
    pending: Option<String>,
}

/// Where in the file each string of `cells[i].source` is: `(i, range)` in order.
fn source_strings(text: &str) -> Result<Vec<(usize, Range<usize>)>, String> {
    let bytes = text.as_bytes();
    let mut open: Vec<Open> = Vec::new();
    let mut found = Vec::new();
    // Where a value starting now sits: (key, index) in the innermost container.
    let slot = |open: &[Open]| match open.last() {
        Some(top) if top.array => (None, top.count),
        Some(top) => (top.pending.clone(), 0),
        None => (None, 0),
    };
    let done = |open: &mut Vec<Open>| match open.last_mut() {
        Some(top) if top.array => top.count += 1,
        Some(top) => top.pending = None,
        None => {}
    };
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' | b'[' => {
                let (key, index) = slot(&open);
                open.push(Open {
                    array: bytes[at] == b'[',
                    key,
                    index,
                    count: 0,
                    pending: None,
                });
                at += 1;
            }
            b'}' | b']' => {
                open.pop();
                done(&mut open);
                at += 1;
            }
            b'"' => {
                let end = string_end(bytes, at).ok_or("an unterminated string")?;
                let is_key = open
                    .last()
                    .is_some_and(|top| !top.array && top.pending.is_none());
                if is_key {
                    if let Some(top) = open.last_mut() {
                        top.pending = Some(text[at + 1..end - 1].to_owned());
                    }
                } else {
                    if let Some(cell) = source_cell(&open) {
                        found.push((cell, at..end));
                    }
                    done(&mut open);
                }
                at = end;
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => at += 1,
            _ => {
                // A number, true, false or null.
                while at < bytes.len() && !b",}] \t\n\r".contains(&bytes[at]) {
                    at += 1;
                }
                done(&mut open);
            }
        }
    }
    Ok(found)
}

/// The cell a string value belongs to, when it is (part of) `cells[i].source`.
fn source_cell(open: &[Open]) -> Option<usize> {
    let is_cells = |o: &Open| o.array && o.key.as_deref() == Some("cells");
    match open {
        // `"source": "…"` directly in a cell object.
        [top, cells, cell] if !top.array && is_cells(cells) && !cell.array => {
            (cell.pending.as_deref() == Some("source")).then_some(cell.index)
        }
        // `"source": ["…", "…"]`.
        [top, cells, cell, source]
            if !top.array
                && is_cells(cells)
                && !cell.array
                && source.array
                && source.key.as_deref() == Some("source") =>
        {
            Some(cell.index)
        }
        _ => None,
    }
}

/// The byte after the closing quote of the string starting at `at`.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTEBOOK: &str = r##"{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Churn\n", "by plan"]},
  {"cell_type": "code", "execution_count": 1, "metadata": {"tags": ["a", 2, null]},
   "outputs": [{"data": {"image/png": "iVBORw0KGgo", "text/plain": ["<Figure>"]}}],
   "source": ["import pandas as pd\n", "\n", "def load(path):\n", "    return \"x\"\n"]},
  {"cell_type": "code", "source": "x = load(1)", "outputs": []}
 ],
 "metadata": {"kernelspec": {"language": "Python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5
}"##;

    #[test]
    fn sources_are_found_where_they_are_and_outputs_are_not() {
        let cells = cells(NOTEBOOK).unwrap();
        let kinds: Vec<CellKind> = cells.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [CellKind::Markdown, CellKind::Code, CellKind::Code]);
        assert_eq!(cells[0].source(), "# Churn\nby plan");
        assert_eq!(
            cells[1].source(),
            "import pandas as pd\n\ndef load(path):\n    return \"x\"\n"
        );
        assert_eq!(cells[2].source(), "x = load(1)");
        for cell in &cells {
            for piece in &cell.pieces {
                let raw = &NOTEBOOK[piece.json.clone()];
                assert_eq!(serde_json::from_str::<String>(raw).unwrap(), piece.text);
            }
        }
        // `def load…` (bytes 21..) is the third piece, through the end of the fourth.
        let def = cells[1].source().find("def").unwrap();
        let located = cells[1].locate(def..cells[1].source().len()).unwrap();
        assert!(NOTEBOOK[located].starts_with("\"def load(path):\\n\""));
        assert_eq!(kernel_language(NOTEBOOK).as_deref(), Some("python"));
        let cling = r#"{"cells": [], "metadata": {"kernelspec": {"language": "C++17"}}}"#;
        assert_eq!(kernel_language(cling).as_deref(), Some("cpp"));
        assert!(is_notebook("work/Analysis.IPYNB") && !is_notebook("ipynb.py"));
    }

    #[test]
    fn what_is_not_a_notebook_says_why() {
        assert!(cells("{\"cells\": [").unwrap_err().contains("JSON"));
        assert!(cells("{\"worksheets\": []}").unwrap_err().contains("cells"));
    }
}
