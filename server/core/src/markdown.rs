//! Markdown and HTML that Kiln renders come from users, LLMs and plugins: all of it goes
//! through [`sanitize_html`] before it reaches a page.

use pulldown_cmark::{Options, Parser, html};

/// Markdown (CommonMark + tables, strikethrough, task lists) to HTML that is safe to
/// insert into a page: no scripts, event handlers, `javascript:` URLs or styles.
pub fn render_markdown(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    sanitize_html(&unsafe_html)
}

/// Keeps formatting, drops everything that can run code or load from elsewhere
/// without the user's click. Links get `rel="noopener noreferrer nofollow"`.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        // Only code blocks keep a class (`language-rust`): page styles stay out of reach.
        .add_tag_attributes("code", ["class"])
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
        assert!(html.contains("1 &lt; 2"), "{html}");
    }
}
