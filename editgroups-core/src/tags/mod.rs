//! Tags: features of edits (the API action, the property, the language, the change
//! type) that are gathered per batch, to describe and filter batches.
//!
//! Extraction follows EditGroups, with its gaps fixed:
//! - single-digit properties (`P1`–`P9`) are tagged too (`P[1-9]\d*`);
//! - sitelink actions give `site-<site id>` tags, not `lang-enwiki`;
//! - an action missing from the table still gets a tag, whose display name is the
//!   action itself instead of nothing.
//!
//! The patterns, matched at the start of the summary as Python's `re.match`
//! does (digits are ASCII digits; lengths are bounded so that every tag fits a
//! store, `MAX_TAG_CHARS`):
//! - action: `/\* ([a-z\-]{1,100}):`
//! - property: `/\* wb[a-z\-]*:[0-9|]* \*/ \[\[Property:(P[1-9][0-9]{0,18})\]\]: `
//! - language or site: `/\* wb[a-z\-]*:[0-9]+\|([a-z\-]{1,100}) \*/`
//!
//! They are read by hand, byte by byte: every attributed edit is read, and the
//! three regular expressions cost several times more (a property test holds the
//! reader to them).

mod table;

use crate::edit::Edit;
use serde::{Deserialize, Serialize};

/// What a tag describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagCategory {
    /// The API action (`wbsetclaim-create`) or change type (`delete`).
    Action,
    /// A property (`prop-P31`).
    Property,
    /// A language of labels, descriptions or aliases (`lang-fr`).
    Language,
    /// A site of sitelinks (`site-enwiki`).
    Site,
}

/// How a tag is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInfo {
    /// The tag id, e.g. `wbsetlabel-add`, `prop-P31`, `lang-fr`.
    pub id: String,
    /// Higher priorities are shown first.
    pub priority: i32,
    /// A CSS colour.
    pub color: &'static str,
    /// A readable name (`adds labels`), or the code for property, language and site
    /// tags.
    pub display_name: String,
    /// What the tag describes.
    pub category: TagCategory,
    /// The property id, language code or site id, for those tags.
    pub code: Option<String>,
}

fn known_action(id: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    // Pages look up every tag they show: a map rather than a walk of the table.
    static BY_ID: std::sync::LazyLock<
        foldhash::HashMap<&'static str, &'static (&'static str, &'static str, &'static str)>,
    > = std::sync::LazyLock::new(|| {
        let mut by_id = foldhash::HashMap::default();
        for action in table::ACTIONS {
            // The first entry of an id, as a walk of the table finds it.
            by_id.entry(action.0).or_insert(action);
        }
        by_id
    });
    BY_ID.get(id).copied()
}

/// The priority of a tag id: change types 20, actions 10, languages and sites 5,
/// properties 2.
pub fn tag_priority(id: &str) -> i32 {
    if matches!(id, "delete" | "restore" | "upload") {
        20
    } else if id.starts_with("prop-") {
        2
    } else if id.starts_with("lang-") || id.starts_with("site-") {
        5
    } else {
        10
    }
}

/// How to show a tag.
pub fn tag_info(id: &str) -> TagInfo {
    let priority = tag_priority(id);
    let prefixed = |prefix: &str, category, color| {
        id.strip_prefix(prefix).map(|code| TagInfo {
            id: id.to_owned(),
            priority,
            color,
            display_name: code.to_owned(),
            category,
            code: Some(code.to_owned()),
        })
    };
    if let Some(info) = prefixed("prop-", TagCategory::Property, table::PROPERTY)
        .or_else(|| prefixed("lang-", TagCategory::Language, table::LANGUAGE))
        .or_else(|| prefixed("site-", TagCategory::Site, table::LANGUAGE))
    {
        return info;
    }
    let (name, color) = known_action(id)
        .map(|(_, name, color)| (*name, *color))
        .unwrap_or((id, table::GRAY));
    TagInfo {
        id: id.to_owned(),
        priority,
        color,
        display_name: name.to_owned(),
        category: TagCategory::Action,
        code: None,
    }
}

/// Every colour [`tag_info`] can give, each once, in a fixed order: for a
/// stylesheet with one class per colour.
pub fn tag_colors() -> Vec<&'static str> {
    let mut colors = vec![
        table::GRAY,
        table::PROPERTY,
        table::LANGUAGE,
        table::CHANGE_TYPE,
    ];
    for (_, _, color) in table::ACTIONS {
        if !colors.contains(color) {
            colors.push(color);
        }
    }
    colors
}

/// Sorts tag ids for display: priority descending, then id ascending.
pub fn sort_tags(tags: &mut [String]) {
    tags.sort_by(|a, b| tag_priority(b).cmp(&tag_priority(a)).then_with(|| a.cmp(b)));
}

/// The tags of one edit, from its summary and change type.
pub fn extract_tags(edit: &Edit) -> Vec<String> {
    let mut tags = Vec::new();
    for_each_tag(edit, |tag| tags.push(tag.to_owned()));
    tags
}

/// Calls `f` with each tag of one edit, without allocating for each: the hot
/// path of ingestion, where most tags are already known to their batch.
pub fn for_each_tag(edit: &Edit, mut f: impl FnMut(&str)) {
    for_each_comment_tag(edit.comment_str(), &mut f);
    let kind = edit.change_type.kind();
    if matches!(kind, "delete" | "restore" | "upload") {
        f(kind);
    }
}

/// The tags found in an edit summary alone.
pub fn extract_comment_tags(comment: &str) -> Vec<String> {
    let mut tags = Vec::new();
    for_each_comment_tag(comment, |tag| tags.push(tag.to_owned()));
    tags
}

fn for_each_comment_tag(comment: &str, mut f: impl FnMut(&str)) {
    let Some(rest) = comment.strip_prefix("/* ") else {
        return;
    };
    let bytes = rest.as_bytes();
    let run = run_of(bytes, |b| b.is_ascii_lowercase() || b == b'-');
    if bytes.get(run) != Some(&b':') {
        return;
    }
    // The run is ASCII, so this slice is on character boundaries.
    let action = &rest[..run];
    if (1..=100).contains(&run) {
        f(action);
    }
    if !action.starts_with("wb") {
        return;
    }
    let after = &bytes[run + 1..];
    // Prefixed tags are built in one reused buffer.
    let mut buffer = String::new();
    if let Some(pid) = property(after) {
        buffer.push_str("prop-");
        buffer.push_str(pid);
        f(&buffer);
    }
    if let Some(code) = language(after) {
        buffer.clear();
        buffer.push_str(if action.contains("sitelink") {
            "site-"
        } else {
            "lang-"
        });
        buffer.push_str(code);
        f(&buffer);
    }
}

/// How many bytes from the start are in the class.
fn run_of(bytes: &[u8], class: impl Fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|b| class(**b)).count()
}

/// `[0-9|]* \*/ \[\[Property:(P[1-9][0-9]{0,18})\]\]: ` after the action's colon.
fn property(after: &[u8]) -> Option<&str> {
    let digits = run_of(after, |b| b.is_ascii_digit() || b == b'|');
    let rest = after[digits..].strip_prefix(b" */ [[Property:P")?;
    let first = *rest.first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let more = run_of(&rest[1..], |b| b.is_ascii_digit());
    if more > 18 || !rest[1 + more..].starts_with(b"]]: ") {
        return None;
    }
    // "P" is the byte before `rest`; all of it is ASCII.
    let start = after.len() - rest.len() - 1;
    std::str::from_utf8(&after[start..start + 2 + more]).ok()
}

/// `[0-9]+\|([a-z\-]{1,100}) \*/` after the action's colon.
fn language(after: &[u8]) -> Option<&str> {
    let digits = run_of(after, |b| b.is_ascii_digit());
    if digits == 0 || after.get(digits) != Some(&b'|') {
        return None;
    }
    let rest = &after[digits + 1..];
    let code = run_of(rest, |b| b.is_ascii_lowercase() || b == b'-');
    if !(1..=100).contains(&code) || !rest[code..].starts_with(b" */") {
        return None;
    }
    std::str::from_utf8(&rest[..code]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    /// The reference: the patterns as regular expressions.
    fn by_regex(comment: &str) -> Vec<String> {
        static PATTERNS: std::sync::LazyLock<[Regex; 3]> = std::sync::LazyLock::new(|| {
            [
                r"^/\* ([a-z\-]{1,100}):",
                r"^/\* wb[a-z\-]*:[0-9|]* \*/ \[\[Property:(P[1-9][0-9]{0,18})\]\]: ",
                r"^/\* wb[a-z\-]*:[0-9]+\|([a-z\-]{1,100}) \*/",
            ]
            .map(|p| Regex::new(p).unwrap())
        });
        let [action, property, language] = &*PATTERNS;
        let mut tags = Vec::new();
        let found = action.captures(comment).map(|c| c[1].to_owned());
        if let Some(a) = &found {
            tags.push(a.clone());
        }
        if let Some(c) = property.captures(comment) {
            tags.push(format!("prop-{}", &c[1]));
        }
        if let Some(c) = language.captures(comment) {
            // Sitelink actions are wb… actions: the action matched too, unless
            // longer than 100 characters, when it is read from the comment.
            let name = comment[3..].split(':').next().unwrap_or("");
            let prefix = if name.contains("sitelink") {
                "site-"
            } else {
                "lang-"
            };
            tags.push(format!("{prefix}{}", &c[1]));
        }
        tags
    }

    /// Summaries near the patterns: each part of an autocomment right or
    /// slightly wrong.
    fn near_pattern() -> impl Strategy<Value = String> {
        let start = prop_oneof![4 => Just("/* "), 1 => Just("/*"), 1 => Just("")];
        let action = prop_oneof![
            Just("wbsetclaim-create".to_owned()),
            Just("wbsetsitelink-add".to_owned()),
            Just("wb".to_owned()),
            Just("setlabel".to_owned()),
            "[a-zé\\-]{0,3}",
            "wb[a-z]{99,101}",
        ];
        let colon = prop_oneof![4 => Just(":"), 1 => Just(""), 1 => Just(";")];
        let middle = prop_oneof![
            2 => "[0-9|]{0,4}",
            3 => "[0-9]{1,3}",
            1 => Just(String::new()),
            1 => "[0-9|٣]{1,2}"
        ];
        let property = (
            prop_oneof![
                Just(" */ [[Property:P"),
                Just(" */ [[Property:"),
                Just("*/ [[Property:P")
            ],
            prop_oneof!["[0-9]{0,3}", "[1-9][0-9]{16,20}"],
            prop_oneof![Just("]]: "), Just("]]:"), Just("")],
        )
            .prop_map(|(a, b, c)| format!("{a}{b}{c}"));
        let language = (
            prop_oneof![4 => Just("|"), 1 => Just("")],
            prop_oneof![
                "[a-z\\-]{0,3}",
                "[a-z]{100}",
                "[a-z]{99}",
                "[a-z]{101}",
                "[a-zé]{1,3}"
            ],
            prop_oneof![4 => Just(" */"), 1 => Just(" *"), 1 => Just("")],
        )
            .prop_map(|(a, b, c)| format!("{a}{b}{c}"));
        let after = prop_oneof![property, language];
        (start, action, colon, middle, after, ".{0,3}")
            .prop_map(|(s, a, c, m, r, t)| format!("{s}{a}{c}{m}{r}{t}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn the_reader_equals_the_regular_expressions(comment in near_pattern()) {
            prop_assert_eq!(extract_comment_tags(&comment), by_regex(&comment));
        }
    }

    #[test]
    fn actions_languages_and_properties_are_extracted() {
        assert_eq!(
            extract_comment_tags("/* wbsetdescription-add:1|eu */ Wikimedia-kategoria"),
            ["wbsetdescription-add", "lang-eu"]
        );
        assert_eq!(
            extract_comment_tags("/* wbsetlabel-add:1|ru */ Некий"),
            ["wbsetlabel-add", "lang-ru"]
        );
        for (comment, pid) in [
            (
                "/* wbcreateclaim-create:1| */ [[Property:P4135]]: 13, #quickstatements",
                "P4135",
            ),
            (
                "/* wbsetclaim-create:2||1 */ [[Property:P106]]: [[Q1028181]]",
                "P106",
            ),
            (
                "/* wbcreateclaim-create:1| */ [[Property:P1433]]: [[Q180445]]",
                "P1433",
            ),
            (
                "/* wbsetclaim-update:2||1|1 */ [[Property:P159]]: [[Q60]]",
                "P159",
            ),
            ("/* wbsetclaim-create:2||1 */ [[Property:P6]]: [[Q1]]", "P6"),
        ] {
            let tags = extract_comment_tags(comment);
            assert_eq!(
                tags.get(1).map(String::as_str),
                Some(format!("prop-{pid}").as_str()),
                "{comment}"
            );
        }
    }

    #[test]
    fn sitelinks_are_sites_not_languages() {
        assert_eq!(
            extract_comment_tags("/* wbsetsitelink-add:1|enwiki */ Paris"),
            ["wbsetsitelink-add", "site-enwiki"]
        );
    }

    #[test]
    fn tags_are_bounded_in_length() {
        let long = format!("/* {}: */ x", "a".repeat(500));
        assert!(extract_comment_tags(&long).is_empty());
        let tags = extract_comment_tags(&format!("/* wbsetlabel-add:1|{} */ x", "b".repeat(500)));
        assert_eq!(tags, ["wbsetlabel-add"]);
    }

    #[test]
    fn plain_comments_have_no_tags() {
        assert!(extract_comment_tags("Undo revision 5").is_empty());
        assert!(extract_comment_tags("").is_empty());
    }

    #[test]
    fn sorting_and_display_follow_priorities() {
        let mut tags: Vec<String> = [
            "prop-P856",
            "prop-P18",
            "wbcreateclaim-create",
            "lang-eu",
            "delete",
        ]
        .map(String::from)
        .to_vec();
        sort_tags(&mut tags);
        assert_eq!(
            tags,
            [
                "delete",
                "wbcreateclaim-create",
                "lang-eu",
                "prop-P18",
                "prop-P856"
            ]
        );
        assert_eq!(tag_info("lang-eu").display_name, "eu");
        assert_eq!(tag_info("lang-eu").category, TagCategory::Language);
        assert_eq!(tag_info("wbsetlabel-add").display_name, "adds labels");
        assert_eq!(
            tag_info("wbeditentity-override").display_name,
            "clears items"
        );
        assert_eq!(tag_info("undo").color, "#372fc5");
        assert_eq!(tag_info("something-new").display_name, "something-new");
        assert_eq!(tag_info("prop-P31").code.as_deref(), Some("P31"));
    }
}
