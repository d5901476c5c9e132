//! What the pages need that the store does not hold: the wikis' names and URLs,
//! the tools' names and home pages, links and limits.

use editgroups_core::RuleSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A wiki as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WikiSite {
    /// The name shown, e.g. `Wikidata`.
    pub name: String,
    /// The wiki's `index.php`, e.g. `https://www.wikidata.org/w/index.php`: diffs,
    /// undo and delete links, the discuss link.
    pub index_url: String,
    /// The base of article URLs, e.g. `https://www.wikidata.org/wiki/`: pages,
    /// users, contributions, `Property:` pages, and the relative links of
    /// `parsedcomment`.
    pub article_url: String,
    /// The prefix of a batch's discussion page, e.g. `Wikidata:Edit_groups/`.
    pub discuss_page_prefix: String,
    /// The page preloaded into a new discussion, e.g. `Wikidata:Edit_groups/Preload`.
    pub discuss_preload: String,
    /// The namespace of properties, as a title prefix (`Property:`).
    pub property_prefix: String,
}

impl Default for WikiSite {
    fn default() -> Self {
        Self::wikimedia("Wikidata", "www.wikidata.org")
    }
}

impl WikiSite {
    /// A Wikimedia-style wiki at `host` (`/w/index.php`, `/wiki/`), with
    /// EditGroups' discussion pages.
    pub fn wikimedia(name: &str, host: &str) -> Self {
        Self {
            name: name.to_owned(),
            index_url: format!("https://{host}/w/index.php"),
            article_url: format!("https://{host}/wiki/"),
            discuss_page_prefix: "Wikidata:Edit_groups/".to_owned(),
            discuss_preload: "Wikidata:Edit_groups/Preload".to_owned(),
            property_prefix: "Property:".to_owned(),
        }
    }

    /// A wiki the site does not describe: shown by its id, without links.
    pub fn unknown(wiki: &str) -> Self {
        Self {
            name: wiki.to_owned(),
            index_url: String::new(),
            article_url: String::new(),
            ..Self::default()
        }
    }

    /// Whether links to the wiki can be made.
    pub fn has_urls(&self) -> bool {
        !self.index_url.is_empty() && !self.article_url.is_empty()
    }
}

/// A tool as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSite {
    /// The short id (`OR`, `QSv2`).
    pub shortid: String,
    /// The name shown.
    #[serde(default)]
    pub name: String,
    /// The tool's home page.
    #[serde(default)]
    pub url: String,
}

/// The configuration of the web service: wikis, tools, links and limits.
///
/// Loads from TOML ([`Site::from_toml`]); every field has a default, so an empty
/// file gives a service for Wikidata with EditGroups' tools:
///
/// ```toml
/// default_wiki = "mywiki"
/// lag_limit_seconds = 600
///
/// [wikis.mywiki]
/// name = "My Wikibase"
/// index_url = "https://wikibase.example.org/w/index.php"
/// article_url = "https://wikibase.example.org/wiki/"
/// discuss_page_prefix = "Project:Edit_groups/"
/// discuss_preload = "Project:Edit_groups/Preload"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Site {
    /// The title of the pages.
    pub title: String,
    /// The wiki that EditGroups' URLs (`/`, `/api/`, `/b/TOOL/UID/`) serve; the
    /// others are under `/w/WIKI/`.
    pub default_wiki: String,
    /// The wikis, by wiki id. A wiki of the store that is not listed is still
    /// served, by its id and without links to it.
    pub wikis: BTreeMap<String, WikiSite>,
    /// The tools' names and home pages; see [`Site::with_rules`].
    pub tools: Vec<ToolSite>,
    /// How a batch is linked from wikitext, before `TOOL/UID`
    /// (`:toolforge:editgroups/b/`).
    pub batch_link_prefix: String,
    /// The absolute URL the service is reached at (`https://editgroups.example.org`,
    /// with the mount path if any), for the absolute links of the JSON; when
    /// empty, links are built from the request's `Host`.
    pub public_url: String,
    /// `/healthz` answers 503 when the newest event read is older than this.
    pub lag_limit_seconds: u64,
    /// Requests taking longer get a 408.
    pub request_timeout_seconds: u64,
    /// Requests handled at once; more wait.
    pub max_concurrent_requests: usize,
    /// How long an answer of the batch lists (`/`, `/api/`, any filter or page)
    /// is kept and served again, in milliseconds: the most a list can lag behind
    /// the store. 0 keeps none. Batch pages, edits, exports and health are always
    /// read afresh.
    pub list_cache_milliseconds: u64,
}

impl Default for Site {
    fn default() -> Self {
        let wikis = [
            (
                "wikidatawiki",
                WikiSite::wikimedia("Wikidata", "www.wikidata.org"),
            ),
            (
                "commonswiki",
                WikiSite {
                    discuss_page_prefix: "Commons:Edit_groups/".to_owned(),
                    discuss_preload: "Commons:Edit_groups/Preload".to_owned(),
                    ..WikiSite::wikimedia("Wikimedia Commons", "commons.wikimedia.org")
                },
            ),
        ]
        .into_iter()
        .map(|(id, wiki)| (id.to_owned(), wiki))
        .collect();
        Self {
            title: "EditGroups".to_owned(),
            default_wiki: "wikidatawiki".to_owned(),
            wikis,
            tools: Vec::new(),
            batch_link_prefix: ":toolforge:editgroups/b/".to_owned(),
            public_url: String::new(),
            lag_limit_seconds: 3000,
            request_timeout_seconds: 30,
            max_concurrent_requests: 512,
            list_cache_milliseconds: 1000,
        }
        .with_rules(&RuleSet::defaults())
    }
}

/// A site configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("site configuration: {0}")]
pub struct SiteError(String);

impl Site {
    /// Reads a configuration from TOML; missing fields keep their defaults, and
    /// tools not listed come from the default rules.
    pub fn from_toml(text: &str) -> Result<Self, SiteError> {
        let site: Self = toml::from_str(text).map_err(|e| SiteError(e.to_string()))?;
        site.checked()
    }

    /// Reads a configuration file (TOML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SiteError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SiteError(format!("{}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|SiteError(e)| SiteError(format!("{}: {e}", path.display())))
    }

    fn checked(self) -> Result<Self, SiteError> {
        if self.default_wiki.is_empty() {
            return Err(SiteError("default_wiki is empty".to_owned()));
        }
        if self.max_concurrent_requests == 0 || self.request_timeout_seconds == 0 {
            return Err(SiteError(
                "max_concurrent_requests and request_timeout_seconds must be positive".to_owned(),
            ));
        }
        for (id, wiki) in &self.wikis {
            for url in [&wiki.index_url, &wiki.article_url] {
                if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(SiteError(format!(
                        "wiki {id}: {url:?} is not an http(s) URL"
                    )));
                }
            }
        }
        for tool in &self.tools {
            if !(tool.url.is_empty()
                || tool.url.starts_with("https://")
                || tool.url.starts_with("http://"))
            {
                return Err(SiteError(format!(
                    "tool {}: {:?} is not an http(s) URL",
                    tool.shortid, tool.url
                )));
            }
        }
        Ok(self)
    }

    /// Takes the tools' names and home pages from rules (the rules file the
    /// pipeline uses), keeping those already listed.
    pub fn with_rules(mut self, rules: &RuleSet) -> Self {
        for rule in &rules.rules {
            if rule.shortid.is_empty() || self.tools.iter().any(|t| t.shortid == rule.shortid) {
                continue;
            }
            self.tools.push(ToolSite {
                shortid: rule.shortid.clone(),
                name: rule.name.clone(),
                url: rule.url.clone(),
            });
        }
        self
    }

    /// The wiki with this id, or a description of an unknown one.
    pub fn wiki(&self, id: &str) -> WikiSite {
        self.wikis
            .get(id)
            .cloned()
            .unwrap_or_else(|| WikiSite::unknown(id))
    }

    /// The tool with this short id; an unknown tool is shown by its id.
    pub fn tool(&self, shortid: &str) -> ToolSite {
        self.tools
            .iter()
            .find(|t| t.shortid == shortid)
            .cloned()
            .unwrap_or_else(|| ToolSite {
                shortid: shortid.to_owned(),
                name: shortid.to_owned(),
                url: String::new(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_describe_wikidata_and_its_tools() {
        let site = Site::default();
        assert_eq!(site.default_wiki, "wikidatawiki");
        let wiki = site.wiki("wikidatawiki");
        assert_eq!(wiki.index_url, "https://www.wikidata.org/w/index.php");
        assert_eq!(site.tool("OR").name, "OpenRefine");
        assert_eq!(site.tool("XYZ").name, "XYZ");
        assert!(!site.wiki("otherwiki").has_urls());
    }

    #[test]
    fn toml_overrides_and_refuses_bad_urls() {
        let site = Site::from_toml(
            "default_wiki = \"mine\"\n[wikis.mine]\nname = \"Mine\"\nindex_url = \"https://x.org/w/index.php\"\narticle_url = \"https://x.org/wiki/\"\n",
        )
        .unwrap();
        assert_eq!(site.wiki("mine").name, "Mine");
        assert_eq!(site.wiki("mine").property_prefix, "Property:");
        assert!(site.tools.iter().any(|t| t.shortid == "QSv2"));
        let bad = Site::from_toml("[wikis.x]\narticle_url = \"javascript:alert(1)\"\n");
        assert!(bad.is_err());
        assert!(Site::from_toml("nonsense = 1").is_err());
    }
}
