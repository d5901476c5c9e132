//! Reading the HTML of a Wikibase diff (`action=compare`).
//!
//! Wikibase renders each changed part of an entity as a row whose header cell
//! (`td.diff-lineno`) names it: `Property / <a title="Property:P31">…</a>` for a
//! statement (ending in `/ qualifier` when a qualifier changed, whose property
//! is the first link of the next added or deleted line), `label / en`,
//! `description / en`, `aliases / fr / 0`, `links / enwiki / name`. A wikitext
//! page's diff has no such rows and gives an empty digest.

use super::digest::{Digest, code, property_id};
use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;

#[allow(clippy::expect_used)]
static CELLS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("td").expect("a constant selector"));
#[allow(clippy::expect_used)]
static LINKS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a").expect("a constant selector"));
#[allow(clippy::expect_used)]
static PROPERTY_TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Property:|Special:EntityPage/)(P[1-9][0-9]{0,18})$")
        .expect("a constant pattern")
});

/// What reading one diff gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffReading {
    /// What the diff touched.
    pub digest: Digest,
    /// Rows that name a statement, qualifier or term but could not be read
    /// (no property link, an impossible code): skipped, with a warning.
    pub rows_skipped: u64,
}

fn has_class(cell: &ElementRef<'_>, class: &str) -> bool {
    cell.value().classes().any(|c| c == class)
}

/// The property of the first link of a cell, if it names one.
fn first_property(cell: &ElementRef<'_>) -> Option<String> {
    let link = cell.select(&LINKS).next()?;
    let title = link.value().attr("title")?;
    let pid = PROPERTY_TITLE.captures(title)?.get(1)?.as_str();
    property_id(pid)
}

/// The code after a row's prefix (`en` of `label / en`, `enwiki` of
/// `links / enwiki / name`).
fn code_after(text: &str, prefixes: &[&str]) -> Option<Option<String>> {
    let rest = prefixes.iter().find_map(|p| text.strip_prefix(p))?;
    let first = rest.trim_start().split([' ', '/']).next().unwrap_or("");
    Some(code(first))
}

/// Reads the HTML of a diff (the rows, as `compare` gives them without the
/// enclosing table). Never fails: what cannot be read is skipped and counted.
pub fn read_diff(html: &str) -> DiffReading {
    let fragment = Html::parse_fragment(&format!("<table>{html}</table>"));
    let mut reading = DiffReading::default();
    let mut qualifier_pending = false;
    for cell in fragment.select(&CELLS) {
        if has_class(&cell, "diff-lineno") {
            let text: String = cell.text().collect::<String>().trim().to_lowercase();
            if text.is_empty() {
                continue;
            }
            qualifier_pending = false;
            if text.starts_with("property /") {
                match first_property(&cell) {
                    Some(pid) => {
                        reading.digest.statements.insert(pid);
                        qualifier_pending = text.ends_with("qualifier");
                    }
                    None => {
                        tracing::warn!(row = %text, "diff row names a property without a property link; skipped");
                        reading.rows_skipped += 1;
                    }
                }
                continue;
            }
            let terms: [(&[&str], &mut std::collections::BTreeSet<String>); 4] = [
                (&["label / ", "labels / "], &mut reading.digest.labels),
                (
                    &["description / ", "descriptions / "],
                    &mut reading.digest.descriptions,
                ),
                (&["aliases / ", "alias / "], &mut reading.digest.aliases),
                (&["links / ", "sitelinks / "], &mut reading.digest.sitelinks),
            ];
            for (prefixes, set) in terms {
                match code_after(&text, prefixes) {
                    Some(Some(code)) => {
                        set.insert(code);
                    }
                    Some(None) => {
                        tracing::warn!(row = %text, "diff row without a readable code; skipped");
                        reading.rows_skipped += 1;
                    }
                    None => continue,
                }
                break;
            }
        } else if qualifier_pending
            && (has_class(&cell, "diff-addedline") || has_class(&cell, "diff-deletedline"))
        {
            qualifier_pending = false;
            match first_property(&cell) {
                Some(pid) => {
                    reading.digest.qualifiers.insert(pid);
                }
                None => {
                    tracing::warn!("qualifier line without a property link; skipped");
                    reading.rows_skipped += 1;
                }
            }
        }
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> std::collections::BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn statement_qualifier_and_term_rows_are_read() {
        let html = r#"<tr><td colspan="2" class="diff-lineno"></td><td colspan="2" class="diff-lineno">Property / <a title="Property:P6" href="/wiki/Property:P6">head</a>: <a title="Q1">x</a> / qualifier</td></tr>
<tr><td class="diff-marker">+</td><td class="diff-addedline"><div><a title="Property:P580">start</a>: <table><tr><td class="wb-time-isotime">x</td></tr></table></div></td></tr>
<tr><td class="diff-lineno">label / de</td><td class="diff-lineno">label / de</td></tr>
<tr><td class="diff-lineno">aliases / fr / 0</td></tr>
<tr><td class="diff-lineno">links / enwiki / badges</td></tr>
<tr><td class="diff-lineno">Property / <a title="Special:EntityPage/P9000">fed</a></td></tr>"#;
        let reading = read_diff(html);
        assert_eq!(reading.rows_skipped, 0);
        assert_eq!(reading.digest.statements, set(&["P6", "P9000"]));
        assert_eq!(reading.digest.qualifiers, set(&["P580"]));
        assert_eq!(reading.digest.labels, set(&["de"]));
        assert_eq!(reading.digest.aliases, set(&["fr"]));
        assert_eq!(reading.digest.sitelinks, set(&["enwiki"]));
    }

    #[test]
    fn rows_without_the_expected_link_are_skipped_and_counted() {
        // EditGroups raised IndexError here.
        let html = r#"<tr><td class="diff-lineno">Property / no link / qualifier</td></tr>
<tr><td class="diff-addedline">no link either</td></tr>
<tr><td class="diff-lineno">Property / <a title="Q5">an item</a></td></tr>
<tr><td class="diff-lineno">Property / <a title="Property:P31">ok</a> / qualifier</td></tr>
<tr><td class="diff-deletedline"><span>plain text</span></td></tr>
<tr><td class="diff-lineno">label / <b>EN!</b></td></tr>
<tr><td class="diff-lineno">description / en</td></tr>"#;
        let reading = read_diff(html);
        assert_eq!(reading.rows_skipped, 4, "{reading:?}");
        assert_eq!(reading.digest.statements, set(&["P31"]));
        assert!(reading.digest.qualifiers.is_empty());
        assert!(reading.digest.labels.is_empty());
        assert_eq!(reading.digest.descriptions, set(&["en"]));
    }

    #[test]
    fn wikitext_and_garbage_give_nothing() {
        let wikitext = r#"<tr><td colspan="2" class="diff-lineno">Line 1:</td><td colspan="2" class="diff-lineno">Line 1:</td></tr><tr><td class="diff-marker">−</td><td class="diff-deletedline"><div>Hello</div></td></tr>"#;
        assert_eq!(read_diff(wikitext), DiffReading::default());
        for garbage in [
            "",
            "<<<>>>",
            "</table></table><td",
            "\u{0}\u{fffd}",
            "<tr><td class=diff-lineno>",
        ] {
            let reading = read_diff(garbage);
            assert!(reading.digest.is_empty(), "{garbage:?}");
        }
    }
}
