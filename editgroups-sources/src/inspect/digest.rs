//! What an edit touched, and the tags that says.

use editgroups_core::store::MAX_TAG_CHARS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The properties, languages and sites an edit (or a batch's sample of edits)
/// touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// Properties of statements (`P31`).
    pub statements: BTreeSet<String>,
    /// Properties of qualifiers.
    pub qualifiers: BTreeSet<String>,
    /// Languages of labels (`en`).
    pub labels: BTreeSet<String>,
    /// Languages of descriptions.
    pub descriptions: BTreeSet<String>,
    /// Languages of aliases.
    pub aliases: BTreeSet<String>,
    /// Sites of sitelinks (`enwiki`).
    pub sitelinks: BTreeSet<String>,
}

impl Digest {
    /// Adds what another digest holds.
    pub fn merge(&mut self, other: Digest) {
        self.statements.extend(other.statements);
        self.qualifiers.extend(other.qualifiers);
        self.labels.extend(other.labels);
        self.descriptions.extend(other.descriptions);
        self.aliases.extend(other.aliases);
        self.sitelinks.extend(other.sitelinks);
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
            && self.qualifiers.is_empty()
            && self.labels.is_empty()
            && self.descriptions.is_empty()
            && self.aliases.is_empty()
            && self.sitelinks.is_empty()
    }

    /// The tags it gives: `prop-P…` for statements and qualifiers, `lang-…` for
    /// labels, descriptions and aliases, `site-…` for sitelinks (EditGroups gave
    /// `lang-enwiki`; a site is not a language). Sorted, without duplicates, each
    /// short enough for every store.
    pub fn tags(&self) -> Vec<String> {
        let props = self.statements.iter().chain(&self.qualifiers);
        let langs = self
            .labels
            .iter()
            .chain(&self.descriptions)
            .chain(&self.aliases);
        props
            .map(|p| format!("prop-{p}"))
            .chain(langs.map(|l| format!("lang-{l}")))
            .chain(self.sitelinks.iter().map(|s| format!("site-{s}")))
            .filter(|t| t.chars().count() <= MAX_TAG_CHARS)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// A property id (`P` and digits, no leading zero) as found in a title or key,
/// or `None`.
pub(crate) fn property_id(text: &str) -> Option<String> {
    let digits = text.strip_prefix('P')?;
    let valid = !digits.is_empty()
        && digits.len() <= 19
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then(|| text.to_owned())
}

/// A language code or site id as the tags keep them (lowercase letters, digits,
/// `-` and `_`, at most 100 characters), or `None`.
pub(crate) fn code(text: &str) -> Option<String> {
    let valid = !text.is_empty()
        && text.len() <= 100
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    valid.then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_use_prop_lang_and_site() {
        let mut digest = Digest::default();
        digest.statements.insert("P31".into());
        digest.qualifiers.insert("P580".into());
        digest.qualifiers.insert("P31".into());
        digest.labels.insert("en".into());
        digest.aliases.insert("en".into());
        digest.descriptions.insert("fr".into());
        digest.sitelinks.insert("enwiki".into());
        assert_eq!(
            digest.tags(),
            ["lang-en", "lang-fr", "prop-P31", "prop-P580", "site-enwiki"]
        );
        assert!(Digest::default().tags().is_empty());
        assert!(Digest::default().is_empty());
    }

    #[test]
    fn ids_and_codes_are_checked() {
        assert_eq!(property_id("P6").as_deref(), Some("P6"));
        assert_eq!(property_id("P0"), None);
        assert_eq!(property_id("P06"), None);
        assert_eq!(property_id("Q5"), None);
        assert_eq!(property_id("P"), None);
        assert_eq!(property_id(&format!("P{}", "1".repeat(30))), None);
        assert_eq!(code("be-tarask").as_deref(), Some("be-tarask"));
        assert_eq!(code("zh_min_nanwiki").as_deref(), Some("zh_min_nanwiki"));
        assert_eq!(code("EN"), None);
        assert_eq!(code("<script>"), None);
        assert_eq!(code(""), None);
    }
}
