use super::error::{RuleError, RuleErrorKind};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One tool-recognition rule, as EditGroups stores it in its `Tool` table.
///
/// Every pattern is matched at the start of the comment, like Python's `re.match`
/// (anchored at the start only; `.*` is greedy, so when a pattern occurs several
/// times the last occurrence is captured). Patterns use the syntax of the `regex`
/// crate, which runs in linear time: no rule can hang ingestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The tool's short id (`OR`, `QSv2`, ...). May be empty when `tool_group`
    /// takes it from the comment.
    #[serde(default)]
    pub shortid: String,
    /// The tool's display name.
    #[serde(default)]
    pub name: String,
    /// The tool's home page.
    #[serde(default)]
    pub url: String,
    /// The pattern that finds the batch id.
    pub id_regex: String,
    /// The group of `id_regex` that holds the batch id.
    #[serde(default = "one")]
    pub id_group: usize,
    /// A group of `id_regex` that holds the tool's short id, for rules that cover
    /// every tool following a convention (`editgroups/b/CODE/ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_group: Option<usize>,
    /// Patterns for the batch summary, tried in order; the first that matches wins.
    /// None matching gives the empty summary.
    #[serde(default)]
    pub summary_regexes: Vec<String>,
    /// The group of the summary patterns that holds the summary.
    #[serde(default = "one")]
    pub summary_group: usize,
    /// A pattern that finds the real author in the summary (proxy tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_regex: Option<String>,
    /// The group of `user_regex` that holds the author.
    #[serde(default = "one")]
    pub user_group: usize,
}

fn one() -> usize {
    1
}

/// An ordered list of rules: the first rule that matches an edit wins.
///
/// Loads from and saves to TOML (`[[rules]]` tables) or JSON (`{"rules": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The rules, in matching order.
    pub rules: Vec<Rule>,
}

/// The summary patterns of EditGroups' own reverts (`EG`) and of tools following
/// its documented convention: the text after the last `*/ ` (or from the start when
/// the comment does not begin with `/`), up to the last ` ([[`.
///
/// The original pattern, `(^(?!/)|.*\*/ )(.*) \(\[\[`, needs a look-ahead; the first
/// pattern here matches exactly the comments its first branch matches (an empty
/// capture, or one that does not start with `/`), the second its second branch.
const EG_STYLE_SUMMARY: [&str; 2] = [r"((?:[^/].*)?) \(\[\[", r".*\*/ (.*) \(\[\["];

impl RuleSet {
    /// The default rules: OpenRefine, QuickStatements (batches and temporary
    /// batches), EditGroups reverts, and any tool following the
    /// `[[:toolforge:editgroups/b/CODE/ID|details]]` convention.
    pub fn defaults() -> Self {
        let eg_summary = || EG_STYLE_SUMMARY.iter().map(|s| s.to_string()).collect();
        Self {
            rules: vec![
                Rule {
                    shortid: "OR".into(),
                    name: "OpenRefine".into(),
                    url: "https://www.wikidata.org/wiki/Wikidata:Tools/OpenRefine".into(),
                    id_regex: r".*(?:[Ee]dit[ _]groups/|editgroups/(?:b/)?)OR/([a-f0-9]{4,32})\b"
                        .into(),
                    id_group: 1,
                    tool_group: None,
                    summary_regexes: vec![r".*[:,/] ([^,]*) \(\[\[".into()],
                    summary_group: 1,
                    user_regex: None,
                    user_group: 1,
                },
                Rule {
                    shortid: "QSv2".into(),
                    name: "QuickStatements".into(),
                    url: "https://quickstatements.toolforge.org/".into(),
                    id_regex: r".*\[\[:(?:toollabs|toolforge):quickstatements/#(?:mode=batch&batch=|/batch/)(\d+)\|".into(),
                    id_group: 1,
                    tool_group: None,
                    summary_regexes: vec![r".*(#quickstatements)".into()],
                    summary_group: 1,
                    user_regex: Some(r".* by \[\[User:(.*)\|\]\]".into()),
                    user_group: 1,
                },
                Rule {
                    shortid: "QSv2T".into(),
                    name: "QuickStatements (temporary batches)".into(),
                    url: "https://quickstatements.toolforge.org/".into(),
                    id_regex: r".*#temporary_batch_(\d+)".into(),
                    id_group: 1,
                    tool_group: None,
                    summary_regexes: vec![r".*(#quickstatements)".into()],
                    summary_group: 1,
                    user_regex: None,
                    user_group: 1,
                },
                Rule {
                    shortid: "EG".into(),
                    name: "EditGroups".into(),
                    url: "https://editgroups.toolforge.org/".into(),
                    id_regex: r".*(?:[Ee]dit[ _]groups/|editgroups/(?:b/)?)EG/([a-f0-9]{4,32})\b"
                        .into(),
                    id_group: 1,
                    tool_group: None,
                    summary_regexes: eg_summary(),
                    summary_group: 1,
                    user_regex: None,
                    user_group: 1,
                },
                Rule {
                    shortid: String::new(),
                    name: "Tool following the EditGroups convention".into(),
                    url: "https://www.wikidata.org/wiki/Wikidata:Edit_groups/Adding_a_tool"
                        .into(),
                    id_regex: r".*:(?:toolforge|toollabs):editgroups/b/([A-Za-z][A-Za-z0-9_-]{0,31})/([0-9a-fA-F]{4,64})\|details\]\]".into(),
                    id_group: 2,
                    tool_group: Some(1),
                    summary_regexes: eg_summary(),
                    summary_group: 1,
                    user_regex: None,
                    user_group: 1,
                },
            ],
        }
    }

    /// Parses a rule set from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, RuleError> {
        toml::from_str(text).map_err(|e| RuleError::new(None, RuleErrorKind::File(e.to_string())))
    }

    /// Parses a rule set from JSON text.
    pub fn from_json(text: &str) -> Result<Self, RuleError> {
        serde_json::from_str(text)
            .map_err(|e| RuleError::new(None, RuleErrorKind::File(e.to_string())))
    }

    /// Serialises the rule set as TOML.
    pub fn to_toml(&self) -> Result<String, RuleError> {
        toml::to_string_pretty(self)
            .map_err(|e| RuleError::new(None, RuleErrorKind::File(e.to_string())))
    }

    /// Serialises the rule set as JSON.
    pub fn to_json(&self) -> Result<String, RuleError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| RuleError::new(None, RuleErrorKind::File(e.to_string())))
    }

    /// Reads a rule set from a file: JSON when its name ends in `.json`, TOML
    /// otherwise.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RuleError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            RuleError::new(
                None,
                RuleErrorKind::File(format!("cannot read {}: {e}", path.display())),
            )
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        let parsed = if is_json {
            Self::from_json(&text)
        } else {
            Self::from_toml(&text)
        };
        parsed.map_err(|e| {
            RuleError::new(
                None,
                RuleErrorKind::File(format!("{}: {}", path.display(), e)),
            )
        })
    }
}

impl Default for RuleSet {
    fn default() -> Self {
        Self::defaults()
    }
}
