//! Tags: features of edits (the API action, the property, the language, the change
//! type) that are gathered per batch, to describe and filter batches.
//!
//! Extraction follows EditGroups, with its gaps fixed:
//! - single-digit properties (`P1`–`P9`) are tagged too (`P[1-9]\d*`);
//! - sitelink actions give `site-<site id>` tags, not `lang-enwiki`;
//! - an action missing from the table still gets a tag, whose display name is the
//!   action itself instead of nothing.

mod table;

use crate::edit::Edit;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

// Lengths are bounded so that every tag fits a store (`MAX_TAG_CHARS`).
static ACTION: LazyLock<Regex> = LazyLock::new(|| compile(r"^/\* ([a-z\-]{1,100}):"));
static PROPERTY: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^/\* wb[a-z\-]*:[\d|]* \*/ \[\[Property:(P[1-9]\d{0,18})\]\]: "));
static LANGUAGE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^/\* wb[a-z\-]*:\d+\|([a-z\-]{1,100}) \*/"));

#[allow(clippy::expect_used)]
fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("tag patterns are constants")
}

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
    table::ACTIONS.iter().find(|(known, _, _)| *known == id)
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
    let mut tags = extract_comment_tags(edit.comment_str());
    let kind = edit.change_type.kind();
    if matches!(kind, "delete" | "restore" | "upload") {
        tags.push(kind.to_owned());
    }
    tags
}

/// The tags found in an edit summary alone.
pub fn extract_comment_tags(comment: &str) -> Vec<String> {
    let mut tags = Vec::new();
    // Every tag pattern starts with an autocomment.
    if !comment.starts_with("/* ") {
        return tags;
    }
    let action = ACTION
        .captures(comment)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str());
    if let Some(action) = action {
        tags.push(action.to_owned());
    }
    if let Some(pid) = PROPERTY.captures(comment).and_then(|c| c.get(1)) {
        tags.push(format!("prop-{}", pid.as_str()));
    }
    if let Some(code) = LANGUAGE.captures(comment).and_then(|c| c.get(1)) {
        let is_site = action.is_some_and(|a| a.contains("sitelink"));
        let prefix = if is_site { "site-" } else { "lang-" };
        tags.push(format!("{prefix}{}", code.as_str()));
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

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
