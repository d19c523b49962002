//! Paths inside a project: every file name a client sends is normalised and confined
//! to the project before anything else looks at it.

use kiln_types::ApiError;

/// Longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest single path segment, in bytes (the usual file-system limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// `name` as a clean project path: `/`-separated, relative, without `.` or empty
/// segments. Backslashes count as separators (names from Windows clients). Refused
/// with a 422 naming `field`: absolute paths and drive letters, `..` anywhere, NUL or
/// other control characters, over-long names, and names that are empty once cleaned.
pub fn normalize_path(field: &str, name: &str) -> Result<String, ApiError> {
    let refuse = |why: &str| ApiError::invalid_field(field, why);
    if name.chars().any(char::is_control) {
        return Err(refuse("must not contain control characters"));
    }
    let unified = name.replace('\\', "/");
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
}
