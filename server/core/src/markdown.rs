//! Markdown and HTML that Kiln renders come from users, LLMs and plugins: all of it goes
//! through [`sanitize_html`] before it reaches a page.

use std::{collections::HashSet, sync::LazyLock};

use kiln_parser_generic::GenericParser;
use kiln_plugin_sdk::parser::LanguageParser;
use kiln_types::highlight::{TokenKind, highlight};
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Markdown (CommonMark + tables, strikethrough, task lists) to HTML that is safe to
/// insert into a page: no scripts, event handlers, `javascript:` URLs or styles.
/// Fenced code blocks are highlighted with the file viewer's highlighter (the same
/// `tok-*` classes), their language read from the fence (` ```rust `, ` ```py `).
pub fn render_markdown(markdown: &str) -> String {
    render(markdown, false)
}

/// [`render_markdown`] for what a person typed: each line break they made stays one
/// (Markdown would join the lines of a paragraph).
pub fn render_typed_markdown(markdown: &str) -> String {
    render(markdown, true)
}

fn render(markdown: &str, keep_line_breaks: bool) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::SoftBreak if keep_line_breaks => Event::HardBreak,
        other => other,
    });
    html::push_html(&mut unsafe_html, highlighted(events));
    sanitize_html(&unsafe_html)
}

/// The events with every code block replaced by highlighted spans. Text stays a
/// `Text` event, so the HTML writer escapes it as before; only the tags are raw.
fn highlighted<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    let mut block: Option<(Option<&'static str>, String)> = None;
    events.flat_map(move |event| match (event, &mut block) {
        (Event::Start(Tag::CodeBlock(kind)), _) => {
            let language = match kind {
                CodeBlockKind::Fenced(info) => fence_language(&info),
                CodeBlockKind::Indented => None,
            };
            block = Some((language, String::new()));
            Vec::new()
        }
        (Event::Text(text), Some((_, code))) => {
            code.push_str(&text);
            Vec::new()
        }
        (Event::End(TagEnd::CodeBlock), Some(_)) => {
            let Some((language, code)) = block.take() else {
                return Vec::new();
            };
            code_block(language, &code)
        }
        (event, _) => vec![event],
    })
}

/// A code block as events: `<pre><code class="language-…">`, a span per token.
fn code_block(language: Option<&'static str>, code: &str) -> Vec<Event<'static>> {
    let open = match language {
        Some(language) => format!("<pre><code class=\"language-{language}\">"),
        None => "<pre><code>".to_owned(),
    };
    let mut events = vec![Event::Html(open.into())];
    // Pieces joined give each line back; the block's last line ending is the
    // empty line after it.
    let lines = highlight(language.unwrap_or("text"), code);
    let count = lines.len();
    for (index, line) in lines.into_iter().enumerate() {
        for (kind, piece) in line {
            if kind == TokenKind::Plain {
                events.push(Event::Text(CowStr::from(piece)));
            } else {
                events.push(Event::Html(
                    format!("<span class=\"{}\">", kind.class()).into(),
                ));
                events.push(Event::Text(CowStr::from(piece)));
                events.push(Event::Html("</span>".into()));
            }
        }
        if index + 1 < count {
            events.push(Event::Text("\n".into()));
        }
    }
    events.push(Event::Html("</code></pre>\n".into()));
    events
}

/// The language a fence names: a language Kiln knows (`rust`, `python`) or a file
/// extension (`rs`, `py`, `tsx`); `None` when neither.
fn fence_language(info: &str) -> Option<&'static str> {
    static LANGUAGES: LazyLock<HashSet<String>> =
        LazyLock::new(|| GenericParser::info().languages.into_iter().collect());
    let word = info.split_whitespace().next()?.to_ascii_lowercase();
    if let Some(known) = LANGUAGES.get(&word) {
        return Some(known.as_str());
    }
    match GenericParser::language(&format!("x.{word}")) {
        "text" => None,
        language => Some(language),
    }
}

/// Keeps formatting, drops everything that can run code or load from elsewhere
/// without the user's click. Links get `rel="noopener noreferrer nofollow"`.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        // Only code blocks keep a class (`language-rust`): page styles stay out of reach.
        .add_tag_attributes("code", ["class"])
        // Highlighted code: the highlighter's classes and no others.
        .add_allowed_classes("span", ["tok-kw", "tok-str", "tok-com", "tok-num"])
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let html = render_markdown(
            "# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n\
             [click](javascript:alert(1)) <a href=\"https://kiln.dev\" onclick=\"x()\">ok</a>\n\n\
             <iframe src=\"https://evil.example\"></iframe><style>body{display:none}</style>",
        );
        assert!(html.contains("<h1>Hi</h1>"), "{html}");
        for forbidden in [
            "<script",
            "onerror",
            "javascript:",
            "onclick",
            "<iframe",
            "<style",
        ] {
            assert!(!html.contains(forbidden), "{forbidden} in {html}");
        }
        assert!(html.contains("href=\"https://kiln.dev\""), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }

    #[test]
    fn code_blocks_keep_their_text_and_language_class() {
        let html = render_markdown("```rust\nfn main() { let x = 1 < 2; }\n```");
        assert!(html.contains("class=\"language-rust\""), "{html}");
        assert!(html.contains("</span> &lt; <span"), "{html}");
    }

    #[test]
    fn fenced_code_is_highlighted_by_language_or_extension_and_keeps_its_text() {
        let html = render_markdown("```rs\nfn main() { // hi\n    let s = \"<b>\";\n}\n```");
        assert!(html.contains("class=\"language-rust\""), "{html}");
        assert!(html.contains("<span class=\"tok-kw\">fn</span>"), "{html}");
        assert!(
            html.contains("<span class=\"tok-com\">// hi</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"tok-str\">\"&lt;b&gt;\"</span>"),
            "{html}"
        );
        let python = render_markdown("```python title=x\ndef f(): return 1\n```");
        assert!(
            python.contains("<span class=\"tok-kw\">def</span>"),
            "{python}"
        );
        // Without its tags the block is the code as written, line endings included.
        assert_eq!(
            strip_tags(&html),
            // The last line ending is the block's own; the one after `</pre>` is
            // the HTML writer's.
            "fn main() { // hi\n    let s = \"&lt;b&gt;\";\n}\n\n"
        );
    }

    fn strip_tags(html: &str) -> String {
        let mut text = String::new();
        for (index, part) in html.split('<').enumerate() {
            let outside = if index == 0 {
                Some(part)
            } else {
                part.split_once('>').map(|(_, rest)| rest)
            };
            text.push_str(outside.unwrap_or_default());
        }
        text
    }

    #[test]
    fn typed_line_breaks_stay_in_what_a_person_wrote() {
        assert_eq!(render_markdown("one\ntwo"), "<p>one\ntwo</p>\n");
        assert_eq!(render_typed_markdown("one\ntwo"), "<p>one<br>\ntwo</p>\n");
        let code = render_typed_markdown("```\na\nb\n```");
        assert!(!code.contains("<br>"), "code keeps its own lines: {code}");
    }

    #[test]
    fn unknown_fences_stay_plain_and_foreign_classes_are_dropped() {
        let html =
            render_markdown("```klingon\nqapla'\n```\n\n<span class=\"evil tok-kw\">x</span>");
        assert!(html.contains("<pre><code>qapla'\n</code></pre>"), "{html}");
        assert!(!html.contains("evil"), "{html}");
    }
}
