//! Data that is not words: embedded base64 (data: URIs, inline images, keys) and
//! inline SVG drawings. Search would otherwise index every random run of letters in
//! them (`kggo` from each PNG header), so chunk text has them elided before indexing.

use std::{borrow::Cow, ops::Range};

/// What an elided blob leaves in the indexed text.
const ELIDED: &str = "…";
/// A run of the base64 alphabet this long (without spaces) is data, not a word, when it
/// mixes upper case, lower case and digits as encoded bytes do. Hex digests (no upper
/// and lower case mixed) and long identifiers stay words. MIME and PEM wrap base64 at
/// 60–76 characters a line: each line is a run of its own.
const MIN_RUN: usize = 40;

/// The byte ranges of `text` that are data, not words. Found once per file, so that an
/// element split across chunks is elided from each.
pub fn blob_ranges(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let payload = || (at > 0 && bytes[at - 1] == b',').then(|| url_payload_end(bytes, at));
        let svg = || starts_with_ignore_case(&bytes[at..], b"<svg").then(|| svg_end(text, at));
        let run = || {
            (is_base64(bytes[at]) && (at == 0 || !is_base64(bytes[at - 1])))
                .then(|| base64_run_end(bytes, at))
        };
        let end = payload()
            .flatten()
            .or_else(|| svg().flatten())
            .or_else(|| run().flatten());
        match end {
            Some(end) => {
                ranges.push(at..end);
                at = end;
            }
            None => at += 1,
        }
    }
    ranges
}

/// `text` (which starts at byte `offset` of the file `ranges` were found in) with the
/// parts inside `ranges` replaced by [`ELIDED`] and their line breaks — kept, so line
/// numbers within the text stay right.
pub fn elide<'a>(text: &'a str, offset: usize, ranges: &[Range<usize>]) -> Cow<'a, str> {
    let end = offset + text.len();
    let mut out = String::new();
    let mut copied = 0;
    for range in ranges.iter().filter(|r| r.start < end && r.end > offset) {
        let (from, to) = (
            range.start.max(offset) - offset,
            range.end.min(end) - offset,
        );
        let (Some(before), Some(blob)) = (text.get(copied..from), text.get(from..to)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(ELIDED);
        out.extend(std::iter::repeat_n('\n', newlines(blob)));
        copied = to;
    }
    if copied == 0 && out.is_empty() {
        return Cow::Borrowed(text);
    }
    out.push_str(text.get(copied..).unwrap_or_default());
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
/// lower, digit, symbol) changes at 3 characters in 8 or more (random bytes: about 5
/// in 8), where words, paths and identifiers change far less often (a URL path like
/// `org/Docs/API/v2/Reference/AuthenticationTokens2024`: 1 in 3). JSON's `\/` escape does not end a run.
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
    let encoded = len >= MIN_RUN && seen[0] && seen[1] && seen[2] && changes * 8 >= len * 3;
    (data_uri_payload && len > 0 || encoded).then_some(end)
}

/// The end of a `data:` URI's URL-encoded payload starting at `at` (`data:image/svg+xml,
/// %3Csvg…`): up to the quote, bracket or space that ends the URI.
fn url_payload_end(bytes: &[u8], at: usize) -> Option<usize> {
    let comma = at.checked_sub(1).filter(|&c| bytes[c] == b',')?;
    // `data:` and a media type (no spaces or quotes, 200 bytes at most) before it; the
    // bound keeps a file of many commas linear.
    let window = &bytes[comma.saturating_sub(200)..comma];
    let scheme = window
        .windows(5)
        .rposition(|w| w.eq_ignore_ascii_case(b"data:"))?;
    if window[scheme + 5..]
        .iter()
        .any(|b| b" \"'<>()\n".contains(b))
    {
        return None;
    }
    // Quoted (`url("data:…")`, `src='data:…'`), the URI runs to its closing quote, spaces
    // and the other quote included; bare, to the first space, quote or bracket.
    let ends: &[u8] = match scheme.checked_sub(1).map(|i| window[i]) {
        Some(b'"') => b"\"\n",
        Some(b'\'') => b"'\n",
        _ => b" \t\r\n\"'<>()",
    };
    let end = bytes[at..]
        .iter()
        .position(|b| ends.contains(b))
        .map_or(bytes.len(), |len| at + len);
    (end > at).then_some(end)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    /// `text` as search indexes it when it is a whole file.
    fn elide_blobs(text: &str) -> Cow<'_, str> {
        super::elide(text, 0, &super::blob_ranges(text))
    }

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
        let encoded = "<img src=\"data:image/svg+xml,%3Csvg%20viewBox%3D%220%200%2010%22%3E\">";
        assert_eq!(elide_blobs(encoded), "<img src=\"data:image/svg+xml,…\">");
        let css = "a { background: url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'/>\"); }";
        assert_eq!(
            elide_blobs(css),
            "a { background: url(\"data:image/svg+xml,…\"); }"
        );
        let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQx5Ah1fGQ7Ej2YFqTQ9oH3qkq7gwCgYIKoZIzj0EAwIw\n";
        assert_eq!(elide_blobs(pem), "-----BEGIN CERTIFICATE-----\n…\n");
    }

    #[test]
    fn an_element_split_across_chunks_is_elided_from_each() {
        let file = "<p>intro</p>\n<svg viewBox=\"0 0 10 10\">\n<path d=\"M1 2 L3 4\"/>\n</svg>\n<p>outro</p>\n";
        let blobs = super::blob_ranges(file);
        let cut = file.find("<path").unwrap();
        let (first, second) = (&file[..cut], &file[cut..]);
        assert_eq!(super::elide(first, 0, &blobs), "<p>intro</p>\n…\n");
        assert_eq!(super::elide(second, cut, &blobs), "…\n\n<p>outro</p>\n");
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
