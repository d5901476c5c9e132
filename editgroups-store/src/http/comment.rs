//! `parsedcomment`: HTML the wiki wrote from a user's summary. Only links and
//! text survive, and relative links point at the batch's own wiki.

use super::site::WikiSite;
use ammonia::{Builder, UrlRelative};
use std::borrow::Cow;
use std::collections::HashSet;

/// The scheme and host of an absolute URL (`https://www.wikidata.org`).
fn origin(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    Some(&url[..end])
}

/// Pins a closure's signature to what ammonia asks for.
fn evaluator<F>(f: F) -> F
where
    F: for<'a> Fn(&'a str) -> Option<Cow<'a, str>> + Send + Sync,
{
    f
}

/// Sanitized `parsedcomment`: links (`href` http(s) only, `title`) and text,
/// everything else dropped or escaped.
pub(crate) fn sanitize(html: &str, wiki: &WikiSite) -> String {
    let article = wiki.article_url.clone();
    let host = origin(&wiki.article_url).map(str::to_owned);
    let rewrite = evaluator(move |url| {
        if let Some(rest) = url.strip_prefix("//") {
            return Some(Cow::Owned(format!("https://{rest}")));
        }
        if article.is_empty() {
            return None;
        }
        if let Some(rest) = url.strip_prefix("/wiki/") {
            return Some(Cow::Owned(format!("{article}{rest}")));
        }
        if url.starts_with('/') {
            return host.as_ref().map(|h| Cow::Owned(format!("{h}{url}")));
        }
        // Fragments and bare relative paths have no meaning outside the wiki.
        None
    });
    Builder::new()
        .tags(HashSet::from(["a"]))
        .tag_attributes(std::collections::HashMap::from([(
            "a",
            HashSet::from(["href", "title"]),
        )]))
        .generic_attributes(HashSet::new())
        .url_schemes(HashSet::from(["http", "https"]))
        .url_relative(UrlRelative::Custom(Box::new(rewrite)))
        .link_rel(Some("nofollow noopener noreferrer"))
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_the_wiki_and_scripts_are_gone() {
        let wiki = WikiSite::wikimedia("Commons", "commons.wikimedia.org");
        let html = sanitize(
            r#"<span class="autocomment"><a href="/wiki/Q1#P31" title="Q1">→</a></span> <script>alert(1)</script><a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)><a href="/w/index.php?title=X" onclick="e()" style="color:red">y</a>"#,
            &wiki,
        );
        assert!(
            html.contains(r#"href="https://commons.wikimedia.org/wiki/Q1#P31""#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="https://commons.wikimedia.org/w/index.php?title=X""#),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            !html.contains("onerror") && !html.contains("onclick"),
            "{html}"
        );
        assert!(!html.contains("style="), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<span"), "{html}");
        assert!(
            html.contains("rel=\"nofollow noopener noreferrer\""),
            "{html}"
        );
    }

    #[test]
    fn unknown_wikis_lose_relative_links() {
        let html = sanitize(r#"<a href="/wiki/Q1">Q1</a>"#, &WikiSite::unknown("x"));
        assert!(!html.contains("href"), "{html}");
        assert!(html.contains("Q1"));
    }
}
