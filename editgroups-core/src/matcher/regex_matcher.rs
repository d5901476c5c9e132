use super::error::{RuleError, RuleErrorKind};
use super::rules::{Rule, RuleSet};
use super::{ToolMatch, ToolMatcher};
use crate::edit::Edit;
use regex::{Regex, RegexSet};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input, PatternID, meta};

/// A [`ToolMatcher`] driven by an ordered list of regex [`Rule`]s.
///
/// Each pattern compiles once. A [`RegexSet`] of every rule's id pattern rejects,
/// in one pass over the comment, the edits that no rule can match (most edits of a
/// real stream); only the rules it reports run their capturing patterns.
///
/// ```
/// use editgroups_core::matcher::RegexToolMatcher;
/// let matcher = RegexToolMatcher::default();
/// let found = matcher
///     .match_comment(
///         "QuickStatementsBot",
///         "#quickstatements; [[:toollabs:quickstatements/#/batch/9509|batch #9509]] by [[User:Tibbs001|]]",
///     )
///     .unwrap();
/// assert_eq!((found.tool.as_str(), found.uid.as_str(), found.user.as_str()), ("QSv2", "9509", "Tibbs001"));
/// ```
#[derive(Debug, Clone)]
pub struct RegexToolMatcher {
    rules: RuleSet,
    compiled: Vec<CompiledRule>,
    prefilter: RegexSet,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    id: Pattern,
    summaries: Vec<Pattern>,
    user: Option<Pattern>,
}

/// Anchors a pattern at the start of the text, as Python's `re.match` does.
fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})")
}

/// A pattern matched at the start of the text, with a fast path for patterns
/// that begin with a greedy `.*` (almost all tool rules).
///
/// Such a pattern captures at the *last* place where the rest of it matches.
/// Finding that place with the rest alone (a literal-accelerated search) and
/// capturing there is several times faster than running the capture engine over
/// `.*` and the whole comment.
#[derive(Debug, Clone)]
struct Pattern {
    /// The pattern, searched anchored at the start of the text.
    whole: meta::Regex,
    /// The pattern without its leading `.*`, for patterns that have one.
    rest: Option<meta::Regex>,
    /// What the prefilter searches for: the rest, or the anchored pattern.
    searched: String,
    /// Text every match of `rest` starts with, when there is some: the last
    /// start of `rest` is then found by searching for it backwards.
    rest_prefix: Option<memchr::memmem::FinderRev<'static>>,
}

/// Groups a pattern captured in a text.
struct Groups<'h> {
    text: &'h str,
    captures: Captures,
}

impl<'h> Groups<'h> {
    /// The text of group `index`, when it took part in the match.
    fn get(&self, index: usize) -> Option<&'h str> {
        let span = self.captures.get_group(index)?;
        self.text.get(span.range())
    }
}

impl Pattern {
    fn new(pattern: &str) -> Result<Self, regex::Error> {
        // A pattern that does not build is compiled again by the `regex` crate,
        // for the error its users know.
        let build = |p: &str| {
            meta::Regex::new(p).map_err(|e| match Regex::new(p) {
                Err(error) => error,
                Ok(_) => regex::Error::Syntax(e.to_string()),
            })
        };
        let whole = build(pattern)?;
        let (rest, searched, rest_prefix) = match rest_after_greedy_dot_star(pattern) {
            Some(rest) => {
                let prefix =
                    common_prefix(&rest).map(|p| memchr::memmem::FinderRev::new(&p).into_owned());
                let source = rest.to_string();
                (Some(build(&source)?), source, prefix)
            }
            None => (None, anchored(pattern), None),
        };
        Ok(Self {
            whole,
            rest,
            searched,
            rest_prefix,
        })
    }

    fn captures_len(&self) -> usize {
        self.whole.group_info().group_len(PatternID::ZERO)
    }

    /// The groups of the match at `start`, if the regex matches there.
    fn captures_at<'h>(regex: &meta::Regex, text: &'h str, start: usize) -> Option<Groups<'h>> {
        let mut captures = regex.create_captures();
        let input = Input::new(text).range(start..).anchored(Anchored::Yes);
        regex.search_captures(&input, &mut captures);
        captures.is_match().then_some(Groups { text, captures })
    }

    fn captures<'h>(&self, text: &'h str) -> Option<Groups<'h>> {
        match &self.rest {
            // `.` does not match a newline, so `.*` cannot reach past one.
            Some(rest) if !text.contains('\n') => {
                if let Some(prefix) = &self.rest_prefix {
                    // From the right, the first place the prefix stands where the
                    // rest matches (anchored there) is the last start.
                    let mut end = text.len();
                    while let Some(start) = prefix.rfind(text.as_bytes().get(..end)?) {
                        if let Some(found) = Self::captures_at(rest, text, start) {
                            return Some(found);
                        }
                        // Overlapping occurrences starting before `start` remain.
                        end = start + prefix.needle().len() - 1;
                    }
                    return None;
                }
                let mut last = None;
                let mut from = 0;
                while let Some(found) = rest.find(Input::new(text).range(from..)) {
                    let start = found.start();
                    last = Some(start);
                    match text.get(start..).and_then(|t| t.chars().next()) {
                        Some(c) => from = start + c.len_utf8(),
                        None => break,
                    }
                }
                // The match anchored at the last start has the captures the whole
                // pattern has.
                Self::captures_at(rest, text, last?)
            }
            _ => Self::captures_at(&self.whole, text, 0),
        }
    }
}

/// The rest of a pattern that is a concatenation starting with a greedy `.*`.
fn rest_after_greedy_dot_star(pattern: &str) -> Option<regex_syntax::hir::Hir> {
    use regex_syntax::hir::{Dot, Hir, HirKind};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let (first, rest) = parts.split_first()?;
    let leading = match first.kind() {
        HirKind::Repetition(rep) => {
            rep.min == 0
                && rep.max.is_none()
                && rep.greedy
                && *rep.sub == Hir::dot(Dot::AnyCharExceptLF)
        }
        _ => false,
    };
    leading.then(|| Hir::concat(rest.to_vec()))
}

/// The longest text that every match of `hir` starts with, if not empty.
fn common_prefix(hir: &regex_syntax::hir::Hir) -> Option<Vec<u8>> {
    let prefixes = regex_syntax::hir::literal::Extractor::new().extract(hir);
    // A finite set of prefixes means every match starts with one of them.
    prefixes
        .longest_common_prefix()
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
}

fn compile(rule: &Rule, pattern: &str) -> Result<Pattern, RuleError> {
    Pattern::new(pattern).map_err(|error| {
        RuleError::new(
            Some(rule_label(rule)),
            RuleErrorKind::InvalidPattern {
                pattern: pattern.to_owned(),
                error,
            },
        )
    })
}

fn rule_label(rule: &Rule) -> &str {
    if rule.shortid.is_empty() {
        &rule.name
    } else {
        &rule.shortid
    }
}

fn check_group(
    rule: &Rule,
    regex: &Pattern,
    field: &'static str,
    group: usize,
) -> Result<(), RuleError> {
    if group < regex.captures_len() {
        Ok(())
    } else {
        Err(RuleError::new(
            Some(rule_label(rule)),
            RuleErrorKind::MissingGroup {
                field,
                group,
                available: regex.captures_len(),
            },
        ))
    }
}

impl RegexToolMatcher {
    /// Compiles a rule set. Fails on the first pattern that does not compile or
    /// group that does not exist, naming the rule.
    pub fn new(rules: RuleSet) -> Result<Self, RuleError> {
        let mut compiled = Vec::with_capacity(rules.rules.len());
        for rule in &rules.rules {
            let id = compile(rule, &rule.id_regex)?;
            check_group(rule, &id, "id_group", rule.id_group)?;
            match rule.tool_group {
                Some(group) => check_group(rule, &id, "tool_group", group)?,
                None if rule.shortid.is_empty() => {
                    return Err(RuleError::new(
                        Some(rule_label(rule)),
                        RuleErrorKind::NoShortId,
                    ));
                }
                None => {}
            }
            let summaries = rule
                .summary_regexes
                .iter()
                .map(|p| {
                    let re = compile(rule, p)?;
                    check_group(rule, &re, "summary_group", rule.summary_group)?;
                    Ok(re)
                })
                .collect::<Result<Vec<_>, RuleError>>()?;
            let user = match &rule.user_regex {
                Some(p) => {
                    let re = compile(rule, p)?;
                    check_group(rule, &re, "user_group", rule.user_group)?;
                    Some(re)
                }
                None => None,
            };
            compiled.push(CompiledRule {
                id,
                summaries,
                user,
            });
        }
        // A pattern starting with `.*` matches exactly when its rest matches
        // somewhere (newlines aside, which only let the set over-report), and the
        // rest is found much faster, from its literals.
        let prefilter =
            RegexSet::new(compiled.iter().map(|c| c.id.searched.as_str())).map_err(|error| {
                RuleError::new(
                    None,
                    RuleErrorKind::InvalidPattern {
                        pattern: "(the set of all id patterns)".into(),
                        error,
                    },
                )
            })?;
        Ok(Self {
            rules,
            compiled,
            prefilter,
        })
    }

    /// The rules this matcher was built from.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Matches a comment made by `user` (the editing account).
    pub fn match_comment(&self, user: &str, comment: &str) -> Option<ToolMatch> {
        let hits = self.prefilter.matches(comment);
        if !hits.matched_any() {
            return None;
        }
        hits.iter()
            .find_map(|index| self.match_rule(index, user, comment))
    }

    fn match_rule(&self, index: usize, user: &str, comment: &str) -> Option<ToolMatch> {
        let rule = self.rules.rules.get(index)?;
        let compiled = self.compiled.get(index)?;
        let caps = compiled.id.captures(comment)?;
        let uid = caps.get(rule.id_group).filter(|s| !s.is_empty())?;
        let tool = match rule.tool_group {
            Some(group) => caps.get(group).filter(|s| !s.is_empty())?,
            None => rule.shortid.as_str(),
        };
        let summary = compiled
            .summaries
            .iter()
            .find_map(|re| re.captures(comment))
            .and_then(|c| c.get(rule.summary_group))
            .unwrap_or("");
        let author = compiled
            .user
            .as_ref()
            .and_then(|re| re.captures(comment))
            .and_then(|c| c.get(rule.user_group))
            .filter(|s| !s.is_empty())
            .unwrap_or(user);
        Some(ToolMatch {
            tool: tool.to_owned(),
            uid: uid.to_owned(),
            user: author.to_owned(),
            summary: summary.to_owned(),
        })
    }
}

impl Default for RegexToolMatcher {
    fn default() -> Self {
        // The default rules are tested to compile; failing here would be a bug in
        // this crate, not bad input.
        #[allow(clippy::expect_used)]
        Self::new(RuleSet::defaults()).expect("the default rules compile")
    }
}

impl ToolMatcher for RegexToolMatcher {
    fn match_edit(&self, edit: &Edit) -> Option<ToolMatch> {
        let comment = edit.comment.as_deref()?;
        self.match_comment(edit.user.as_deref().unwrap_or(""), comment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(user: &str, comment: &str) -> Option<(String, String, String, String)> {
        RegexToolMatcher::default()
            .match_comment(user, comment)
            .map(|t| (t.tool, t.uid, t.user, t.summary))
    }

    fn expect(
        tool: &str,
        uid: &str,
        user: &str,
        summary: &str,
    ) -> Option<(String, String, String, String)> {
        Some((tool.into(), uid.into(), user.into(), summary.into()))
    }

    // The vectors of EditGroups' store/tests.py, verbatim.

    #[test]
    fn test_or() {
        assert_eq!(
            m(
                "Pintoch",
                "/* wbeditentity-update:0| */ import Charity Navigator ([[Wikidata:Edit groups/OR/ca7d7cc|discuss]])"
            ),
            expect("OR", "ca7d7cc", "Pintoch", "import Charity Navigator")
        );
    }

    #[test]
    fn test_match_without_summary() {
        assert_eq!(
            m(
                "Pintoch",
                "/* wbeditentity-update:0| */ ([[Wikidata:Edit groups/OR/ca7d7cc|discuss]])"
            ),
            expect("OR", "ca7d7cc", "Pintoch", "")
        );
    }

    #[test]
    fn test_match_empty_id() {
        assert_eq!(
            m(
                "Pintoch",
                "/* wbeditentity-update:0| */ ([[Wikidata:Edit groups/OR/|discuss]])"
            ),
            None
        );
    }

    #[test]
    fn test_or_setclaim() {
        assert_eq!(
            m(
                "Pintoch",
                "/* wbsetclaim-create:2||1 */ [[Property:P1297]]: 88-0302673, add EIN ids from Charity Navigator ([[:toollabs:editgroups/b/OR/3990c0d|details]])"
            ),
            expect(
                "OR",
                "3990c0d",
                "Pintoch",
                "add EIN ids from Charity Navigator"
            )
        );
    }

    #[test]
    fn test_qs() {
        assert_eq!(
            m(
                "QuickStatementsBot",
                "/* wbcreateclaim-create:1| */ [[Property:P3896]]: Data:Neighbourhoods/New York City.map, #quickstatements; [[:toollabs:quickstatements/#mode=batch&batch=2120|batch #2120]] by [[User:Pintoch|]]"
            ),
            expect("QSv2", "2120", "Pintoch", "#quickstatements")
        );
    }

    #[test]
    fn test_empty_user() {
        assert_eq!(
            m(
                "QuickStatementsBot",
                "/* wbcreateclaim-create:1| */ [[Property:P3896]]: Data:Neighbourhoods/New York City.map, #quickstatements; [[:toollabs:quickstatements/#mode=batch&batch=2120|batch #2120]] by [[User:|]]"
            ),
            expect("QSv2", "2120", "QuickStatementsBot", "#quickstatements")
        );
    }

    #[test]
    fn test_eg() {
        assert_eq!(
            m(
                "Pintoch",
                "/* undo:0||1234|Rageux */ this was just dumb ([[:toollabs:editgroups/b/EG/c367abf|details]])"
            ),
            expect("EG", "c367abf", "Pintoch", "this was just dumb")
        );
        // for deletions, undeletions
        assert_eq!(
            m(
                "Pintoch",
                "deleting gibberish items ([[:toollabs:editgroups/b/EG/c367abf|details]])"
            ),
            expect("EG", "c367abf", "Pintoch", "deleting gibberish items")
        );
    }

    // Beyond EditGroups' own vectors.

    #[test]
    fn new_style_quickstatements_links_match() {
        assert_eq!(
            m(
                "QuickStatementsBot",
                "/* wbsetclaim-create:2||1 */ [[Property:P31]]: [[Q5]], #quickstatements; [[:toolforge:quickstatements/#/batch/9509|batch #9509]] by [[User:Tibbs001|]]"
            ),
            expect("QSv2", "9509", "Tibbs001", "#quickstatements")
        );
    }

    #[test]
    fn temporary_quickstatements_batches_belong_to_the_editing_account() {
        assert_eq!(
            m(
                "Tibbs001",
                "/* wbsetclaim-create:2||1 */ [[Property:P31]]: [[Q5]], #quickstatements; #temporary_batch_1553059981737"
            ),
            expect("QSv2T", "1553059981737", "Tibbs001", "#quickstatements")
        );
    }

    #[test]
    fn long_openrefine_ids_are_kept_whole() {
        assert_eq!(
            m(
                "Pintoch",
                "/* wbeditentity-update:0| */ fix ([[:toollabs:editgroups/b/OR/96f19547e64|details]])"
            ),
            expect("OR", "96f19547e64", "Pintoch", "fix")
        );
    }

    #[test]
    fn tools_following_the_convention_are_recognised_by_their_code() {
        assert_eq!(
            m(
                "SourceMD",
                "/* wbeditentity-create-item:0| */ new paper ([[:toollabs:editgroups/b/CB/5c8b2d9852324277365236|details]])"
            ),
            expect("CB", "5c8b2d9852324277365236", "SourceMD", "new paper")
        );
        assert_eq!(
            m(
                "Maxlath",
                "/* wbsetclaim-create:2||1 */ add ([[:toolforge:editgroups/b/wikibase-cli/2b321c518841d|details]])"
            ),
            expect("wikibase-cli", "2b321c518841d", "Maxlath", "add")
        );
        // The details link is part of the convention.
        assert_eq!(
            m("X", "see [[:toolforge:editgroups/b/CB/89ead4fe|elsewhere]]"),
            None
        );
    }

    #[test]
    fn the_last_occurrence_wins_like_pythons_greedy_match() {
        let found = m(
            "U",
            "x OR/aaaa1111 and ([[Wikidata:Edit groups/OR/bbbb2222|discuss]])",
        )
        .unwrap();
        assert_eq!(found.1, "bbbb2222");
    }

    #[test]
    fn comments_matching_nothing_give_none() {
        for comment in [
            "",
            "/* wbsetlabel-add:1|en */ hello",
            "Undo revision 5 by [[Special:Contributions/Pintoch|Pintoch]]",
            "OR/zzzz",
        ] {
            assert_eq!(m("U", comment), None, "{comment:?}");
        }
    }

    #[test]
    fn eg_summary_edge_cases_follow_the_original_pattern() {
        // No `*/ ` and not starting with `/`: from the start.
        assert_eq!(
            m(
                "U",
                "a */ b ([[:toollabs:editgroups/b/EG/abcd123|details]])"
            )
            .unwrap()
            .3,
            "a */ b"
        );
        // Starting with ` ([[`: empty summary.
        assert_eq!(
            m("U", " ([[:toollabs:editgroups/b/EG/abcd123|details]])")
                .unwrap()
                .3,
            ""
        );
        // Starting with `/` but no `*/ `: no summary.
        assert_eq!(
            m("U", "/x ([[:toollabs:editgroups/b/EG/abcd123|details]])")
                .unwrap()
                .3,
            ""
        );
    }

    #[test]
    fn only_leading_greedy_dot_stars_take_the_fast_path() {
        assert!(rest_after_greedy_dot_star(r".*OR/(\d+)").is_some());
        assert!(rest_after_greedy_dot_star(r".*?OR/(\d+)").is_none());
        assert!(rest_after_greedy_dot_star(r"(.*)OR").is_none());
        assert!(rest_after_greedy_dot_star(r".*a|b").is_none());
        assert!(rest_after_greedy_dot_star(r"(?s).*a").is_none());
        assert!(rest_after_greedy_dot_star(r"OR/.*").is_none());
    }

    proptest::proptest! {
        #[test]
        fn the_fast_path_captures_what_the_whole_pattern_does(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "x", " ", "é", "日本", "\n", "*/ ", " ([[", "|", "]]", ",", ":", "/",
                "editgroups/b/OR/", "OR/", "EG/", "ab12", "cdef9", "#quickstatements",
                " by [[User:", "Ann", "[[:toollabs:quickstatements/#/batch/", "42",
                "#temporary_batch_", "[[:toolforge:editgroups/b/", "CB/", "|details]]",
            ]), 0..120)
        ) {
            let comment: String = parts.concat();
            for rule in RuleSet::defaults().rules {
                for pattern in std::iter::once(&rule.id_regex).chain(&rule.summary_regexes).chain(&rule.user_regex) {
                    let fast = Pattern::new(pattern).unwrap();
                    let slow = Regex::new(&anchored(pattern)).unwrap();
                    // Group 0 (the whole match) starts later on the fast path; it is not used.
                    let fast = fast.captures(&comment).map(|c| (1..fast.captures_len()).map(|i| c.captures.get_group(i).map(|s| s.range())).collect::<Vec<_>>());
                    let slow = slow.captures(&comment).map(|c| c.iter().skip(1).map(|m| m.map(|m| m.range())).collect::<Vec<_>>());
                    proptest::prop_assert_eq!(fast, slow, "{} on {:?}", pattern, comment);
                }
            }
        }
    }

    #[test]
    fn rules_round_trip_through_toml_and_json() {
        let rules = RuleSet::defaults();
        assert_eq!(
            RuleSet::from_toml(&rules.to_toml().unwrap()).unwrap(),
            rules
        );
        assert_eq!(
            RuleSet::from_json(&rules.to_json().unwrap()).unwrap(),
            rules
        );
    }

    #[test]
    fn bad_rules_fail_at_load_naming_the_rule() {
        let mut rules = RuleSet::defaults();
        rules.rules[1].id_regex = "(unclosed".into();
        let err = RegexToolMatcher::new(rules).unwrap_err();
        assert!(err.to_string().contains("QSv2"), "{err}");

        let mut rules = RuleSet::defaults();
        rules.rules[0].id_group = 7;
        let err = RegexToolMatcher::new(rules).unwrap_err();
        assert!(
            matches!(err.kind(), RuleErrorKind::MissingGroup { group: 7, .. }),
            "{err}"
        );

        let toml = "[[rules]]\nid_regex = '.*X/(\\d+)'\n";
        let err = RegexToolMatcher::new(RuleSet::from_toml(toml).unwrap()).unwrap_err();
        assert!(matches!(err.kind(), RuleErrorKind::NoShortId));
        assert!(RuleSet::from_toml("rules = 3").is_err());
    }

    #[test]
    fn custom_rules_from_toml_are_used_in_order() {
        let toml = r#"
[[rules]]
shortid = "MY"
name = "My bot"
id_regex = '.*mybot batch (\d+)'
summary_regexes = ['(.*) mybot']
"#;
        let matcher = RegexToolMatcher::new(RuleSet::from_toml(toml).unwrap()).unwrap();
        let found = matcher
            .match_comment("Bot", "cleanup mybot batch 42")
            .unwrap();
        assert_eq!(
            (
                found.tool.as_str(),
                found.uid.as_str(),
                found.summary.as_str()
            ),
            ("MY", "42", "cleanup")
        );
        assert!(
            matcher
                .match_comment("Bot", "([[:toollabs:editgroups/b/OR/abcdef0|details]])")
                .is_none()
        );
    }
}
