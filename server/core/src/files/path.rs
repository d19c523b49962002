//! Paths inside a project: every file name a client sends is normalised and confined
//! to the project before anything else looks at it.

use kiln_types::ApiError;
use unicode_normalization::UnicodeNormalization;

/// Longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest single path segment, in bytes (the usual file-system limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// `name` as a clean project path: `/`-separated, relative, without `.` or empty
/// segments, in Unicode Normalization Form C — so the two spellings of `café` that
/// Linux (precomposed) and macOS (decomposed) send are one path. Backslashes count as
/// separators (names from Windows clients). Refused with a 422 naming `field` and the
/// name: absolute paths and drive letters, `..` anywhere, NUL or other control
/// characters, over-long names, and names that are empty once cleaned.
pub fn normalize_path(field: &str, name: &str) -> Result<String, ApiError> {
    let refuse = |why: &str| ApiError::invalid_field(field, format!("{}: {why}", shown(name)));
    if name.chars().any(char::is_control) {
        return Err(refuse("must not contain control characters"));
    }
    if name.chars().any(is_invisible) {
        return Err(refuse(
            "must not contain invisible or text-direction characters",
        ));
    }
    let unified: String = name.replace('\\', "/").nfc().collect();
    let has_drive = unified.len() >= 2
        && unified.as_bytes()[1] == b':'
        && unified.as_bytes()[0].is_ascii_alphabetic();
    if unified.starts_with('/') || has_drive {
        return Err(refuse(
            "must be a path inside the project, not an absolute one",
        ));
    }
    let mut segments = Vec::new();
    for segment in unified.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(refuse("must not leave the project (`..`)")),
            segment if segment.len() > MAX_SEGMENT_BYTES => {
                return Err(refuse("has a file or directory name over 255 bytes"));
            }
            segment => segments.push(segment),
        }
    }
    let path = segments.join("/");
    if path.is_empty() {
        return Err(refuse("must name a file"));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(refuse("is longer than 1024 bytes"));
    }
    Ok(path)
}

/// `name` quoted for an error message, its middle elided past 300 characters (the
/// start and the end are what tell one name from another).
fn shown(name: &str) -> String {
    const KEEP: usize = 150;
    let count = name.chars().count();
    if count <= 2 * KEEP {
        return format!("{name:?}");
    }
    let head: String = name.chars().take(KEEP).collect();
    let tail: String = name.chars().skip(count - KEEP).collect();
    format!("{:?}", format!("{head}…{tail}"))
}

/// Characters that change how a name reads without being seen (Unicode format
/// characters): zero-width spaces and joiners, bidirectional overrides and isolates
/// (`evil\u{202e}gnp.js` shows as `evilsj.png`), line and paragraph separators, the
/// byte-order mark, soft hyphens.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Whether `name` is metadata an operating system writes next to real files, which
/// users never mean to store — at any depth:
/// - macOS: AppleDouble twins (`._main.py`), `.DS_Store`, the custom-icon file
///   `Icon\r`, `.apdisk`, and anything under `__MACOSX/` (Archive Utility's copy of
///   the twins), `.AppleDouble/` or the volume folders `.Spotlight-V100`, `.Trashes`,
///   `.fseventsd`, `.TemporaryItems`, `.DocumentRevisions-V100`;
/// - Windows: `Thumbs.db`, `ehthumbs.db`, `desktop.ini`, Office's `~$*` owner files,
///   and anything under `$RECYCLE.BIN/` or `System Volume Information/`;
/// - Linux desktops: anything under a `.Trash-<uid>/` folder.
pub fn is_os_metadata(name: &str) -> bool {
    const FOLDERS: &[&str] = &[
        "__MACOSX",
        ".AppleDouble",
        ".Spotlight-V100",
        ".Trashes",
        ".fseventsd",
        ".TemporaryItems",
        ".DocumentRevisions-V100",
        "$RECYCLE.BIN",
        "System Volume Information",
    ];
    const FILES: &[&str] = &[
        ".DS_Store",
        "Icon\r",
        ".apdisk",
        "Thumbs.db",
        "ehthumbs.db",
        "desktop.ini",
    ];
    let unified = name.replace('\\', "/");
    let mut segments = unified.split('/').filter(|s| !s.is_empty()).peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        let folder = FOLDERS.iter().any(|f| f.eq_ignore_ascii_case(segment))
            || segment.starts_with(".Trash-");
        // `~$report.docx`: the owner file Office keeps beside a document while it is open.
        let file = FILES.iter().any(|f| f.eq_ignore_ascii_case(segment))
            || segment.starts_with("._")
            || segment.starts_with("~$");
        if (folder && !last) || (file && last) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_relative_paths() {
        for (name, clean) in [
            ("src/lib.rs", "src/lib.rs"),
            ("./src//lib.rs", "src/lib.rs"),
            ("src\\win\\main.c", "src/win/main.c"),
            ("dir/./x.py", "dir/x.py"),
            ("ünïcødé/файл.go", "ünïcødé/файл.go"),
            ("..hidden/a..b", "..hidden/a..b"),
            // Decomposed (macOS) and precomposed spellings are one path, stored NFC.
            ("docs/cafe\u{301}.md", "docs/caf\u{e9}.md"),
            ("docs/caf\u{e9}.md", "docs/caf\u{e9}.md"),
            ("\u{1100}\u{1161}/x", "\u{ac00}/x"),
        ] {
            assert_eq!(normalize_path("files", name).unwrap(), clean, "{name}");
        }
    }

    #[test]
    fn refuses_names_that_escape_or_cannot_be_stored() {
        let long_segment = "a".repeat(256);
        let long_path = ["abc"; 300].join("/");
        for name in [
            "../etc/passwd",
            "src/../../x",
            "..\\..\\windows",
            "/etc/passwd",
            "\\\\server\\share",
            "C:/Users/x",
            "c:\\x",
            "a\0b",
            "line\nbreak",
            "",
            "./",
            long_segment.as_str(),
            long_path.as_str(),
        ] {
            let error = normalize_path("files", name).unwrap_err();
            assert_eq!(
                error.kind,
                kiln_types::ErrorKind::ValidationError,
                "{name:?}"
            );
        }
    }

    #[test]
    fn refusals_name_the_path() {
        let long = format!("tests/fixtures/snapshot_{}.txt", "x".repeat(291));
        let error = normalize_path("files", &long).unwrap_err();
        assert!(
            error.detail.contains("tests/fixtures/snapshot_xxx"),
            "{}",
            error.detail
        );
        assert!(error.detail.contains("over 255 bytes"), "{}", error.detail);
        for name in ["evil\u{202e}gnp.js", "main\u{200b}.py", "a\u{2028}b.md"] {
            let error = normalize_path("files", name).unwrap_err();
            assert!(error.detail.contains("invisible"), "{}", error.detail);
        }
        let error = normalize_path("path", "../escape.rs").unwrap_err();
        assert!(
            error.detail.contains("\"../escape.rs\""),
            "{}",
            error.detail
        );
    }

    #[test]
    fn os_metadata_is_recognised_at_any_depth() {
        for name in [
            "._main.py",
            "proj/src/._util.py",
            ".DS_Store",
            "proj/.DS_Store",
            "__MACOSX/proj/._main.py",
            "proj/__MACOSX/._x",
            "proj\\__MACOSX\\y",
            "proj/Icon\r",
            ".Spotlight-V100/Store-V2/x",
            "proj/.fseventsd/fseventsd-uuid",
            "photos/Thumbs.db",
            "proj/desktop.ini",
            "$RECYCLE.BIN/S-1-5/x.txt",
            "usb/.Trash-1000/files/old.py",
            "share/.AppleDouble/main.py",
            "docs/~$report.docx",
        ] {
            assert!(is_os_metadata(name), "{name:?}");
        }
        for name in [
            "proj/main.py",
            "src/_private.py",
            ".github/workflows/ci.yml",
            "docs/DS_Store.md",
            "__MACOSX",
            "proj/Icon.png",
            "a/.DS_Store/real.txt",
            "docs/thumbs.db.md",
            ".trash/notes.md",
        ] {
            assert!(!is_os_metadata(name), "{name:?}");
        }
    }
}
