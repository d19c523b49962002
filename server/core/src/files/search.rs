//! Full-text search over a project's chunks and symbol names (BM25, the `code`
//! analyzer of migration 0005), and the ranked retrieval the chat builds its context
//! from.

use std::collections::{HashMap, HashSet};

use super::{FileService, store, unsigned, words::word_spans};
use crate::{ServiceError, access::ProjectScope, store::files::ChunkQuery};
use kiln_types::{SearchHit, SearchQuery, SearchResults};

pub const SEARCH_DEFAULT_LIMIT: u32 = 20;
pub const SEARCH_MAX_LIMIT: u32 = 50;
const QUERY_MAX_CHARS: usize = 500;
/// A symbol's name matching counts this much more than a word in the text.
const SYMBOL_WEIGHT: f64 = 2.0;

impl FileService {
    /// The chunks that best match `query.q`, best first.
    pub async fn search(
        &self,
        scope: &ProjectScope,
        query: &SearchQuery,
    ) -> Result<SearchResults, ServiceError> {
        let project_id = scope.id().as_str();
        // Indexed text is NFC: so is the query.
        let q: String = unicode_normalization::UnicodeNormalization::nfc(query.q.trim()).collect();
        let q = q.as_str();
        if q.is_empty() || q.chars().count() > QUERY_MAX_CHARS {
            return Err(ServiceError::invalid_field(
                "q",
                format!("give 1 to {QUERY_MAX_CHARS} characters"),
            ));
        }
        // The analyzer splits identifiers; punctuation is left out here so that `load()`
        // finds `load();` (the code's punctuation runs are tokens of their own).
        let words = super::code_words(q);
        let terms: HashSet<String> = words.iter().cloned().collect();
        if terms.is_empty() {
            return Err(ServiceError::invalid_field(
                "q",
                "give at least one word or identifier",
            ));
        }
        let limit = query.limit.unwrap_or(SEARCH_DEFAULT_LIMIT);
        if !(1..=SEARCH_MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::invalid_field(
                "limit",
                format!("must be 1 to {SEARCH_MAX_LIMIT}"),
            ));
        }
        // Languages are stored lowercase (`python`); `Python` means the same.
        let language = query
            .language
            .as_deref()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty());
        let glob = match query
            .path
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(glob) => Some(self.files_matching(project_id, glob).await?),
            None => None,
        };
        if glob.as_ref().is_some_and(Vec::is_empty) {
            return Ok(SearchResults {
                query: q.to_owned(),
                hits: Vec::new(),
            });
        }
        let rows = store::search(
            &self.db,
            ChunkQuery {
                project_id,
                words: words.join(" "),
                language: language.as_deref(),
                files: glob,
                limit,
                symbol_weight: SYMBOL_WEIGHT,
            },
        )
        .await?;
        let hits = rows
            .into_iter()
            .map(|row| SearchHit {
                highlights: highlights(&row.text, &terms),
                symbols: row.symbols.split_whitespace().map(str::to_owned).collect(),
                file_id: row.file_id,
                path: row.path,
                language: row.language,
                start_line: unsigned(row.start_line),
                end_line: unsigned(row.end_line),
                version: unsigned(row.version),
                score: row.score,
                text: row.text,
            })
            .collect();
        Ok(SearchResults {
            query: q.to_owned(),
            hits,
        })
    }

    /// Context for a question: the chunks that match the most of its words, best
    /// first, as many as fit in `token_budget` tokens together. A question is prose
    /// ("where do we retry failed uploads?"): each significant word is searched on its
    /// own and a chunk's scores are summed, so no single word has to be present.
    pub async fn retrieve(
        &self,
        scope: &ProjectScope,
        question: &str,
        token_budget: usize,
    ) -> Result<Vec<SearchHit>, ServiceError> {
        let mut words: Vec<String> = super::code_words(question)
            .into_iter()
            .filter(|word| {
                (3..=RETRIEVAL_WORD_MAX_CHARS).contains(&word.chars().count())
                    && !STOP_WORDS.contains(&word.as_str())
            })
            .collect();
        let mut seen = HashSet::new();
        words.retain(|word| seen.insert(word.clone()));
        words.truncate(RETRIEVAL_MAX_WORDS);
        let mut by_chunk: HashMap<(String, u64), SearchHit> = HashMap::new();
        for word in words {
            let query = SearchQuery {
                q: word,
                limit: Some(SEARCH_MAX_LIMIT),
                ..SearchQuery::default()
            };
            for hit in self.search(scope, &query).await?.hits {
                by_chunk
                    .entry((hit.file_id.clone(), hit.start_line))
                    .and_modify(|known| known.score += hit.score)
                    .or_insert(hit);
            }
        }
        let mut hits: Vec<SearchHit> = by_chunk.into_values().collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.path.cmp(&b.path))
        });
        let mut spent = 0;
        Ok(hits
            .into_iter()
            .filter(|hit| {
                let cost = estimated_tokens(&hit.text);
                let fits = spent + cost <= token_budget;
                if fits {
                    spent += cost;
                }
                fits
            })
            .collect())
    }
}

/// Words searched for a question, at most.
const RETRIEVAL_MAX_WORDS: usize = 12;

/// The longest word of a question that is searched for: no part of an identifier is
/// this long, but a pasted blob (base64, a minified line) is, and would be refused as
/// a query.
const RETRIEVAL_WORD_MAX_CHARS: usize = 64;

/// Words of questions that say nothing about the code (lowercase, three letters or
/// more: shorter words are skipped anyway).
const STOP_WORDS: &[&str] = &[
    "about", "after", "all", "also", "and", "any", "are", "because", "been", "before", "being",
    "but", "can", "could", "did", "does", "doing", "done", "each", "explain", "for", "from", "get",
    "gets", "had", "has", "have", "here", "how", "into", "its", "just", "like", "make", "many",
    "more", "most", "much", "not", "now", "off", "once", "only", "other", "our", "out", "over",
    "own", "please", "same", "should", "show", "some", "such", "tell", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "through", "under",
    "until", "very", "was", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your",
];

/// About four bytes of code per token, as common tokenizers average.
pub fn estimated_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// Byte ranges of the words of `text` that are query terms.
fn highlights(text: &str, terms: &HashSet<String>) -> Vec<[u32; 2]> {
    word_spans(text)
        .into_iter()
        .filter(|&(start, end)| terms.contains(&text[start..end].to_lowercase()))
        .filter_map(|(start, end)| Some([u32::try_from(start).ok()?, u32::try_from(end).ok()?]))
        .collect()
}

impl FileService {
    /// The ids of the project's live files whose path `glob` matches.
    async fn files_matching(
        &self,
        project_id: &str,
        glob: &str,
    ) -> Result<Vec<String>, ServiceError> {
        let matcher = path_glob(glob)?;
        Ok(store::live_paths(&self.db, project_id)
            .await?
            .into_iter()
            .filter(|file| matcher.is_match(&file.path))
            .map(|file| file.id)
            .collect())
    }
}

/// A path glob as globset reads it: `*` and `?` within a directory, `**` across
/// them, `[abc]` classes, `{a,b}` alternatives, `\` escapes. Without a `/`, it
/// matches file names at any depth (`*.rs` is `**/*.rs`).
fn path_glob(glob: &str) -> Result<globset::GlobMatcher, ServiceError> {
    if glob.len() > 500 {
        return Err(ServiceError::invalid_field(
            "path",
            "the pattern is too long",
        ));
    }
    // Paths are stored NFC; a pattern typed on a Mac may arrive decomposed.
    let glob: String = unicode_normalization::UnicodeNormalization::nfc(glob).collect();
    let anchored = if glob.contains('/') {
        glob
    } else {
        format!("**/{glob}")
    };
    globset::GlobBuilder::new(&anchored)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|error| {
            ServiceError::invalid_field("path", format!("not a glob: {}", error.kind()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(glob: &str, path: &str) -> bool {
        path_glob(glob).is_ok_and(|matcher| matcher.is_match(path))
    }

    #[test]
    fn globs() {
        assert!(matches("*.rs", "src/deep/main.rs"));
        assert!(matches("src/**/*.rs", "src/a/b/c.rs"));
        assert!(matches("src/**/*.rs", "src/c.rs"));
        assert!(!matches("src/*.rs", "src/a/c.rs"));
        assert!(matches("src/*.{rs,toml}", "src/Cargo.toml"));
        assert!(!matches("src/*.rs", "lib/c.rs"));
        assert!(matches("a+b?.md", "x/a+b1.md"));
    }

    #[test]
    fn globs_mean_what_they_say_with_any_characters() {
        // Symbols outside ASCII are plain characters, not broken escapes.
        assert!(matches("notes/🚀*", "notes/🚀 launch – plan.md"));
        assert!(matches("*–*", "notes/🚀 launch – plan.md"));
        assert!(!matches("*–*", "notes/plain.md"));
        // `<` and `>` are characters, not word boundaries.
        assert!(matches("notes/<draft>.md", "notes/<draft>.md"));
        // A decomposed (macOS) spelling finds the stored, composed path.
        assert!(matches("docs/cafe\u{301}*", "docs/caf\u{e9}.md"));
        assert!(!matches("notes/<draft>.md", "notes/draft.md"));
        // Brackets are a character class, as in every glob; `\\` escapes one.
        assert!(matches("a.[bc]", "a.c"));
        assert!(!matches("a.[b]", "a.[b]"));
        assert!(matches("a.\\[b\\]", "a.[b]"));
    }

    #[test]
    fn a_broken_glob_is_a_clear_422() {
        for glob in ["src/{a,b", "[z-a]", "x/[unclosed"] {
            let error = path_glob(glob).unwrap_err();
            assert!(error.to_string().contains("not a glob"), "{glob}: {error}");
        }
    }
}
