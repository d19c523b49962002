//! Words of code as search sees them, mirroring the `code` analyzer of migration 0005:
//! letters and digits only, split where the character class or the case changes
//! (`parseHTTPConfig2` → parse, httpconfig, 2; a run of capitals stays one word, as
//! the analyzer's camel tokenizer keeps it), lowercased.

/// Byte ranges of the words of `text`.
pub fn word_spans(text: &str) -> Vec<(usize, usize)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Class {
        Lower,
        Upper,
        Digit,
    }
    let class = |c: char| {
        if c.is_numeric() {
            Some(Class::Digit)
        } else if c.is_uppercase() {
            Some(Class::Upper)
        } else if c.is_alphabetic() {
            Some(Class::Lower)
        } else {
            None
        }
    };
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut previous: Option<Class> = None;
    for (at, c) in text.char_indices() {
        let current = class(c);
        let boundary = match (previous, current) {
            (_, None) => true,
            (None, Some(_)) => true,
            (Some(Class::Digit), Some(Class::Digit)) => false,
            (Some(Class::Digit), Some(_)) | (Some(_), Some(Class::Digit)) => true,
            (Some(Class::Lower), Some(Class::Upper)) => true,
            _ => false,
        };
        if boundary && let Some(begin) = start.take() {
            spans.push((begin, at));
        }
        if current.is_some() && start.is_none() {
            start = Some(at);
        }
        previous = current;
    }
    if let Some(begin) = start {
        spans.push((begin, text.len()));
    }
    spans
}

/// The lowercased words of `text`.
pub fn code_words(text: &str) -> Vec<String> {
    word_spans(text)
        .into_iter()
        .map(|(start, end)| text[start..end].to_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_by_case_and_underscores() {
        assert_eq!(code_words("parse_http_config"), ["parse", "http", "config"]);
        assert_eq!(code_words("parseHttpConfig"), ["parse", "http", "config"]);
        assert_eq!(
            code_words("ParseHTTPConfig2()"),
            ["parse", "httpconfig", "2"]
        );
        assert_eq!(code_words("__init__ (self)"), ["init", "self"]);
        assert_eq!(code_words("größe_Straße"), ["größe", "straße"]);
        assert!(code_words("->{};").is_empty());
    }

    #[test]
    fn spans_point_into_the_text() {
        let text = "let héllo = worldWide;";
        let words: Vec<&str> = word_spans(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(words, ["let", "héllo", "world", "Wide"]);
    }
}
