//! Realistic recent-change streams for benchmarks and crash tests, deterministic
//! from a seed.
//!
//! The events have the shape of the recorded Wikidata `recentchange` events in
//! `fixtures/editgroups/` (same fields, same summaries as QuickStatements,
//! OpenRefine, EditGroups and custom `editgroups/b/CODE/ID` tools write), in this
//! mix:
//! - about 30% attributed edits, in a few hundred interleaved batches whose sizes
//!   follow a heavy tail (a few batches of thousands of edits, many of a handful);
//! - page creations, undos of earlier edits, deletions and restores of earlier
//!   creations, by tools (EditGroups reverts) and by people;
//! - events outside the watched namespaces (talk and user pages);
//! - re-delivered events (an earlier line again), as EventStreams does after a
//!   reconnection.

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GeneratorConfig {
    /// The seed: the same seed and settings give the same stream.
    pub seed: u64,
    /// How many events (lines).
    pub events: u64,
    /// How many tool batches.
    pub batches: usize,
    /// The share of events a tool made.
    pub attributed_share: f64,
    /// The share of events that repeat an earlier one.
    pub redelivered_share: f64,
    /// The wiki id of every event.
    pub wiki: String,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            events: 200_000,
            batches: 300,
            attributed_share: 0.30,
            redelivered_share: 0.02,
            wiki: "wikidatawiki".to_owned(),
        }
    }
}

impl GeneratorConfig {
    /// `events` events from `seed`, the other settings by default.
    pub fn new(seed: u64, events: u64) -> Self {
        Self {
            seed,
            events,
            ..Self::default()
        }
    }
}

/// SplitMix64: tiny, fast, and stable across versions (the stream must not change
/// when a dependency does).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A float in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    QuickStatements,
    OpenRefine,
    EditGroups,
    Custom,
}

#[derive(Debug, Clone)]
struct BatchPlan {
    tool: Tool,
    id: String,
    user: String,
    weight: f64,
}

#[derive(Debug, Clone)]
struct PageState {
    title: String,
    revision: u64,
    length: i64,
    deleted: bool,
}

/// The generator: an iterator of JSON lines.
#[derive(Debug, Clone)]
pub struct Generator {
    config: GeneratorConfig,
    rng: Rng,
    emitted: u64,
    rcid: u64,
    revision: u64,
    time: i64,
    next_item: u64,
    pages: Vec<PageState>,
    /// Revisions tools made, that undos can name.
    tool_revisions: VecDeque<u64>,
    /// Indexes of pages created, that deletions can name.
    created: VecDeque<usize>,
    recent: VecDeque<String>,
    batches: Vec<BatchPlan>,
    cumulative: Vec<f64>,
}

const PROPERTIES: [&str; 8] = ["P31", "P17", "P625", "P18", "P856", "P1297", "P7", "P2534"];
const LANGUAGES: [&str; 6] = ["en", "fr", "de", "eu", "nl", "es"];
const PEOPLE: [&str; 8] = [
    "MisterSynergy",
    "Pintoch",
    "Beireke1",
    "Tibbs001",
    "Zoë",
    "Jura1",
    "Epìdosis",
    "ArthurPSmith",
];

impl Generator {
    /// A generator for `config`.
    pub fn new(config: GeneratorConfig) -> Self {
        let mut rng = Rng(config.seed ^ 0x5eed_5eed_5eed_5eed);
        let mut batches = Vec::with_capacity(config.batches);
        for i in 0..config.batches.max(1) {
            let tool = match rng.below(20) {
                0..=7 => Tool::QuickStatements,
                8..=13 => Tool::OpenRefine,
                14..=16 => Tool::EditGroups,
                _ => Tool::Custom,
            };
            let id = match tool {
                Tool::QuickStatements => (2000 + i as u64 * 7 + rng.below(5)).to_string(),
                Tool::OpenRefine | Tool::EditGroups => format!("{:07x}", rng.below(1 << 28)),
                Tool::Custom => format!("{:012x}", rng.below(1 << 48)),
            };
            // A heavy tail: a few very large batches, many small ones.
            let weight = 1.0 / ((i + 1) as f64).powf(1.1);
            let user = PEOPLE[rng.below(PEOPLE.len() as u64) as usize].to_owned();
            batches.push(BatchPlan {
                tool,
                id,
                user,
                weight,
            });
        }
        // Shuffle so that the large batches are not all of the first tools.
        for i in (1..batches.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            let (wi, wj) = (batches[i].weight, batches[j].weight);
            batches[i].weight = wj;
            batches[j].weight = wi;
        }
        let mut cumulative = Vec::with_capacity(batches.len());
        let mut total = 0.0;
        for b in &batches {
            total += b.weight;
            cumulative.push(total);
        }
        let pages = (0..5_000u64)
            .map(|i| PageState {
                title: format!("Q{}", 4_000_000 + i * 37),
                revision: 600_000_000 + i,
                length: 1_000 + (i % 4_000) as i64,
                deleted: false,
            })
            .collect();
        Self {
            rng,
            emitted: 0,
            rcid: 680_000_000,
            revision: 645_000_000,
            time: 1_520_438_400,
            next_item: 50_000_000,
            pages,
            tool_revisions: VecDeque::new(),
            created: VecDeque::new(),
            recent: VecDeque::new(),
            batches,
            cumulative,
            config,
        }
    }

    fn pick_batch(&mut self) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = self.rng.unit() * total;
        self.cumulative
            .partition_point(|&c| c < x)
            .min(self.batches.len() - 1)
    }

    fn base(
        &mut self,
        kind: &str,
        namespace: i64,
        title: &str,
        user: &str,
        comment: &str,
    ) -> Value {
        self.rcid += 1 + self.rng.below(3);
        // About 12 events per second, as on Wikidata.
        if self.rng.chance(0.08) {
            self.time += 1;
        }
        let prefix = match namespace {
            1 => "Talk:",
            2 => "User:",
            4 => "Wikidata:",
            _ => "",
        };
        let title = format!("{prefix}{title}");
        json!({
            "meta": {
                "uri": format!("https://www.wikidata.org/wiki/{}", title.replace(' ', "_")),
                "dt": chrono_like(self.time),
                "topic": "eqiad.mediawiki.recentchange",
                "partition": 0,
                "offset": self.rcid,
                "domain": "www.wikidata.org",
                "schema_uri": "mediawiki/recentchange/1",
            },
            "id": self.rcid,
            "type": kind,
            "namespace": namespace,
            "title": title,
            "comment": comment,
            "parsedcomment": html_escape(comment),
            "timestamp": self.time,
            "user": user,
            "bot": user.ends_with("Bot"),
            "minor": false,
            "patrolled": true,
            "server_url": "https://www.wikidata.org",
            "server_name": "www.wikidata.org",
            "server_script_path": "/w",
            "wiki": self.config.wiki,
        })
    }

    /// An edit or creation of a page; returns the event and its new revision.
    fn revision_event(&mut self, user: &str, comment: &str, create: bool, by_tool: bool) -> Value {
        let index = if create {
            self.next_item += 1 + self.rng.below(3);
            self.pages.push(PageState {
                title: format!("Q{}", self.next_item),
                revision: 0,
                length: 0,
                deleted: false,
            });
            let index = self.pages.len() - 1;
            self.created.push_back(index);
            if self.created.len() > 20_000 {
                self.created.pop_front();
            }
            index
        } else {
            // Recent pages more often: batches work through lists of items.
            let n = self.pages.len() as u64;
            let span = n.min(20_000);
            (n - 1 - self.rng.below(span)) as usize
        };
        self.revision += 1 + self.rng.below(4);
        let revision = self.revision;
        let delta = self.rng.below(900) as i64 - 150;
        let page = &mut self.pages[index];
        let (old_rev, old_len) = (page.revision, page.length);
        page.revision = revision;
        page.length = (old_len + delta).max(50);
        page.deleted = false;
        let (title, new_len) = (page.title.clone(), page.length);
        let mut event = self.base(
            if create { "new" } else { "edit" },
            0,
            &title,
            user,
            comment,
        );
        if create {
            event["revision"] = json!({ "new": revision });
            event["length"] = json!({ "new": new_len });
        } else {
            event["revision"] = json!({ "old": old_rev, "new": revision });
            event["length"] = json!({ "old": old_len, "new": new_len });
        }
        if by_tool {
            self.tool_revisions.push_back(revision);
            if self.tool_revisions.len() > 50_000 {
                self.tool_revisions.pop_front();
            }
        }
        event
    }

    fn log_event(&mut self, action: &str, index: usize, user: &str, comment: &str) -> Value {
        let title = self.pages[index].title.clone();
        self.pages[index].deleted = action == "delete";
        let mut event = self.base("log", 0, &title, user, comment);
        event["log_type"] = json!("delete");
        event["log_action"] = json!(action);
        event["log_id"] = json!(self.rcid / 2);
        event["log_params"] = json!([]);
        event
    }

    fn action_comment(&mut self) -> String {
        let p = PROPERTIES[self.rng.below(PROPERTIES.len() as u64) as usize];
        let l = LANGUAGES[self.rng.below(LANGUAGES.len() as u64) as usize];
        match self.rng.below(4) {
            0 => format!("/* wbsetclaim-create:2||1 */ [[Property:{p}]]: [[Q5]]"),
            1 => format!("/* wbcreateclaim-create:1| */ [[Property:{p}]]: example"),
            2 => format!("/* wbsetlabel-add:1|{l} */ label"),
            _ => format!("/* wbsetdescription-add:1|{l} */ description"),
        }
    }

    fn attributed(&mut self) -> Value {
        let b = self.pick_batch();
        let plan = self.batches[b].clone();
        let create = self.rng.chance(0.08);
        match plan.tool {
            Tool::QuickStatements => {
                let action = if create {
                    "/* wbeditentity-create-item:0| */".to_owned()
                } else {
                    self.action_comment()
                };
                let comment = format!(
                    "{action}, #quickstatements; [[:toollabs:quickstatements/#/batch/{id}|batch #{id}]] by [[User:{user}|]]",
                    id = plan.id,
                    user = plan.user
                );
                self.revision_event("QuickStatementsBot", &comment, create, true)
            }
            Tool::OpenRefine => {
                let action = if create {
                    "/* wbeditentity-create-item:0| */"
                } else {
                    "/* wbeditentity-update:0| */"
                };
                let comment = format!(
                    "{action} import charity data ([[:toollabs:editgroups/b/OR/{}|details]])",
                    plan.id
                );
                self.revision_event(&plan.user, &comment, create, true)
            }
            Tool::Custom => {
                let action = self.action_comment();
                let comment = format!(
                    "{action}, bot run ([[:toolforge:editgroups/b/CB/{}|details]])",
                    plan.id
                );
                self.revision_event(&plan.user, &comment, create, true)
            }
            Tool::EditGroups => {
                let stamp = format!("([[:toollabs:editgroups/b/EG/{}|details]])", plan.id);
                if self.rng.chance(0.3)
                    && let Some(index) = self.deletable()
                {
                    let comment = format!("I really don't like this item  {stamp}");
                    return self.log_event("delete", index, &plan.user, &comment);
                }
                let undone = self.undoable();
                let comment =
                    format!("/* undo:0||{undone}|QuickStatementsBot */ this was just dumb {stamp}");
                self.revision_event(&plan.user, &comment, false, true)
            }
        }
    }

    fn undoable(&mut self) -> u64 {
        let n = self.tool_revisions.len() as u64;
        if n == 0 {
            return 1;
        }
        let i = (n - 1 - self.rng.below(n.min(5_000))) as usize;
        self.tool_revisions[i]
    }

    fn deletable(&mut self) -> Option<usize> {
        let n = self.created.len() as u64;
        if n == 0 {
            return None;
        }
        let index = self.created[(n - 1 - self.rng.below(n.min(2_000))) as usize];
        (!self.pages[index].deleted).then_some(index)
    }

    fn unattributed(&mut self) -> Value {
        let user = PEOPLE[self.rng.below(PEOPLE.len() as u64) as usize];
        let roll = self.rng.below(1000);
        match roll {
            // Outside the watched namespaces.
            0..=89 => {
                let ns = [1, 2, 4][self.rng.below(3) as usize];
                self.rcid += 0;
                let title = format!("Q{}", self.rng.below(1_000_000));
                let mut event = self.base("edit", ns, &title, user, "reply");
                self.revision += 1;
                event["revision"] = json!({ "old": self.revision - 1, "new": self.revision });
                event["length"] = json!({ "old": 500, "new": 620 });
                event
            }
            // Undos by people of tool edits.
            90..=104 => {
                let undone = self.undoable();
                let comment = format!("/* undo:0||{undone}|QuickStatementsBot */ wrong");
                self.revision_event(user, &comment, false, false)
            }
            // Deletions and restores by administrators.
            105..=112 => match self.deletable() {
                Some(index) => {
                    self.log_event("delete", index, user, "Does not meet the notability policy")
                }
                None => self.revision_event(user, "/* wbsetlabel-add:1|en */ x", false, false),
            },
            113..=116 => {
                let deleted = self.pages.iter().rposition(|p| p.deleted);
                match deleted {
                    Some(index) => self.log_event("restore", index, user, "restored"),
                    None => self.revision_event(user, "/* wbsetlabel-add:1|en */ x", false, false),
                }
            }
            117..=160 => {
                let comment = "/* wbeditentity-create-item:0| */ new item".to_owned();
                self.revision_event(user, &comment, true, false)
            }
            _ => {
                let comment = format!("{}, #petscan", self.action_comment());
                self.revision_event(user, &comment, false, false)
            }
        }
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.emitted >= self.config.events {
            return None;
        }
        self.emitted += 1;
        if !self.recent.is_empty() && self.rng.chance(self.config.redelivered_share) {
            let i = self.rng.below(self.recent.len() as u64) as usize;
            return self.recent.get(i).cloned();
        }
        let event = if self.rng.chance(self.config.attributed_share) {
            self.attributed()
        } else {
            self.unattributed()
        };
        let line = event.to_string();
        self.recent.push_back(line.clone());
        if self.recent.len() > 2_000 {
            self.recent.pop_front();
        }
        Some(line)
    }
}

/// Writes `config.events` JSON lines to `out`.
pub fn write_events(config: &GeneratorConfig, out: &mut impl Write) -> io::Result<()> {
    for line in Generator::new(config.clone()) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// `2018-03-07T16:16:17+00:00` from Unix seconds, as in `meta.dt`.
fn chrono_like(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use editgroups_core::recentchange::RecentChangeParser;
    use editgroups_core::{RegexToolMatcher, ToolMatcher};
    use std::collections::HashSet;

    fn lines(seed: u64, n: u64) -> Vec<String> {
        Generator::new(GeneratorConfig::new(seed, n)).collect()
    }

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        assert_eq!(lines(7, 2_000), lines(7, 2_000));
        assert_ne!(lines(7, 2_000), lines(8, 2_000));
        assert_eq!(lines(7, 2_000).len(), 2_000);
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(chrono_like(1_520_439_377), "2018-03-07T16:16:17+00:00");
        assert_eq!(chrono_like(0), "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn the_mix_looks_like_wikidata() {
        let events = lines(3, 20_000);
        let parser = RecentChangeParser::default();
        let matcher = RegexToolMatcher::default();
        let (mut attributed, mut other_ns, mut creations, mut undos, mut deletes, mut restores) =
            (0, 0, 0, 0, 0, 0);
        let mut ids = HashSet::new();
        let mut redelivered = 0;
        let mut batches = HashSet::new();
        for line in &events {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            if !ids.insert(value["id"].as_u64().unwrap()) {
                redelivered += 1;
                continue;
            }
            let edit = match parser.parse(line) {
                Ok(editgroups_core::recentchange::ParsedEvent::Edit(edit)) => edit,
                other => panic!("{other:?} for {line}"),
            };
            if edit.namespace != 0 {
                other_ns += 1;
            }
            if let Some(m) = matcher.match_edit(&edit) {
                attributed += 1;
                batches.insert((m.tool, m.uid));
            }
            creations += u32::from(edit.change_type == editgroups_core::ChangeType::New);
            undos += u32::from(edit.comment_str().starts_with("/* undo:0||"));
            deletes += u32::from(edit.change_type.is_delete());
            restores += u32::from(edit.change_type.is_restore());
        }
        let share = attributed as f64 / (events.len() - redelivered) as f64;
        assert!((0.25..0.35).contains(&share), "attributed share {share}");
        assert!(batches.len() > 150, "{} batches", batches.len());
        assert!(redelivered > 100, "{redelivered} re-delivered");
        assert!(other_ns > 500, "{other_ns} outside watched namespaces");
        assert!(
            creations > 500 && undos > 200 && deletes > 50 && restores > 10,
            "creations {creations}, undos {undos}, deletes {deletes}, restores {restores}"
        );
    }
}
