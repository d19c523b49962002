//! Data that is not words: embedded base64 (data: URIs, inline images, keys) and
//! inline SVG drawings. Search would otherwise index every random run of letters in
//! them (`kggo` from each PNG header), so chunk text has them elided before indexing.

use std::borrow::Cow;

/// What an elided blob leaves in the indexed text.
const ELIDED: &str = "…";
/// A run of the base64 alphabet this long (without spaces) is data, not a word, when it
/// mixes upper case, lower case and digits as encoded bytes do. Hex digests (64 hex
/// digits, no upper and lower case mixed) and long identifiers stay words.
const MIN_RUN: usize = 64;

/// `text` without base64 runs, data: URI payloads and `<svg>…</svg>` elements; line
/// breaks inside them are kept, so line numbers within the text stay right.
pub fn elide_blobs(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let skip = if starts_with_ignore_case(&bytes[at..], b"<svg") {
            svg_end(text, at)
        } else if is_base64(bytes[at]) && (at == 0 || !is_base64(bytes[at - 1])) {
            base64_run_end(bytes, at)
        } else {
            None
        };
        match skip {
            Some(end) => {
                out.push_str(&text[copied..at]);
                out.push_str(ELIDED);
                out.extend(std::iter::repeat_n('\n', newlines(&text[at..end])));
                copied = end;
                at = end;
            }
            None => at += 1,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The end of the `<svg` element starting at `at` (after its `</svg>`), if it closes.
fn svg_end(text: &str, at: usize) -> Option<usize> {
    let lower = text[at..].to_ascii_lowercase();
    lower.find("</svg>").map(|end| at + end + "</svg>".len())
}

fn is_base64(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=')
}

/// The end of the base64 run starting at `at`, when it is one: a data: URI's payload,
/// or a run long enough and mixed like encoded bytes — the character class (upper,
/// lower, digit, symbol) changes at least every fourth character, where words, paths
/// and identifiers change far less often. JSON's `\/` escape does not end a run.
fn base64_run_end(bytes: &[u8], at: usize) -> Option<usize> {
    let class = |byte: u8| match byte {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let (mut end, mut changes, mut seen) = (at, 0, [false; 4]);
    let mut previous = None;
    while end < bytes.len() {
        let byte = bytes[end];
        if byte == b'\\' && bytes.get(end + 1) == Some(&b'/') {
            end += 2;
            continue;
        }
        if !is_base64(byte) {
            break;
        }
        let current = class(byte);
        seen[current] = true;
        changes += usize::from(previous.is_some_and(|p| p != current));
        previous = Some(current);
        end += 1;
    }
    let data_uri_payload = bytes[..at].ends_with(b";base64,");
    let len = end - at;
    let encoded = len >= MIN_RUN && seen[0] && seen[1] && seen[2] && changes * 4 >= len;
    (data_uri_payload && len > 0 || encoded).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::elide_blobs;

    #[test]
    fn base64_and_svg_are_elided_and_words_stay() {
        let png = "iVBORw0KGgoAAAANSUhEUgAAAoAAAAHgCAIAAAC6s0uzAAAgAElEQVR4nOy9d3xc1Z3";
        let text = format!("![plot](data:image/png;base64,{png}) churn by plan\n");
        assert_eq!(
            elide_blobs(&text),
            "![plot](data:image/png;base64,…) churn by plan\n"
        );
        let short = "<img src=\"data:image/gif;base64,R0lGOD==\">";
        assert_eq!(elide_blobs(short), "<img src=\"data:image/gif;base64,…\">");
        let json = format!("\"image/png\": \"{png}{png}\",\n");
        assert_eq!(elide_blobs(&json), "\"image/png\": \"…\",\n");
        let svg = "before <SVG width=\"10\">\n<path d=\"M10 20 L30 40\"/>\n</svg> after";
        assert_eq!(elide_blobs(svg), "before …\n\n after");
    }

    #[test]
    fn code_and_digests_are_left_alone() {
        for text in [
            "fn parse_http_config(input: &str) -> Config { Config::default() }",
            "sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
            "const LONG_SCREAMING_CASE_CONSTANT_NAME_FOR_TESTING_PURPOSES_ONLY_OK = 1;",
            "path/to/some/deeply/nested/module/file.rs",
            "src/components/AuthenticationProvider/hooks/useAuthentication2FA/index.ts",
            "https://example.org/Docs/API/v2/Reference/AuthenticationTokens2024",
            "<svg without an end",
        ] {
            assert_eq!(elide_blobs(text), text);
        }
    }
}
