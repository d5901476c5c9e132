//! The JSON shapes of EditGroups' serializers, apart from the store's types so
//! that the wire format stays put while storage changes: field names and order
//! as EditGroups writes them.

use super::links::Links;
use super::params::{encode_query, encode_title};
use editgroups_core::edit::Timestamp;
use editgroups_core::tags::{TagCategory, tag_info};
use editgroups_core::{Batch, BatchKey, RevertTask, StoredEdit, TaskStatus};
use serde::Serialize;

/// A time as EditGroups writes it: ISO 8601, UTC, `Z`.
pub(crate) fn utc(time: Timestamp) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A stable integer id for a batch, for the `id` and `batch` fields (EditGroups
/// shows its database row id; stores here have no such number in common): 53
/// bits of a hash of (wiki, tool, uid), so JavaScript reads it exactly.
pub(crate) fn batch_number(key: &BatchKey) -> u64 {
    // FNV-1a, 64 bits: fixed, so ids stay the same across processes and stores.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [&key.wiki, &key.tool, &key.uid] {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash & ((1 << 53) - 1)
}

/// A speed as EditGroups writes it: per minute, one decimal, `∞` for batches
/// without duration.
pub(crate) fn speed(count: u64, duration_seconds: i64) -> String {
    if duration_seconds <= 0 {
        return "∞".to_owned();
    }
    format!("{:.1}", count as f64 * 60.0 / duration_seconds as f64)
}

/// The figures EditGroups derives from a batch's counters.
#[derive(Debug, Clone)]
pub(crate) struct Derived {
    pub(crate) duration: i64,
    pub(crate) editing_speed: String,
    pub(crate) entities_speed: String,
    pub(crate) nb_existing_pages: i64,
    pub(crate) avg_diffsize: i64,
    pub(crate) nb_revertable_edits: u64,
}

impl Derived {
    pub(crate) fn of(batch: &Batch) -> Self {
        let duration = batch.duration_seconds();
        let pages = i64::try_from(batch.nb_distinct_pages).unwrap_or(i64::MAX);
        let new_pages = i64::try_from(batch.nb_new_pages).unwrap_or(i64::MAX);
        let avg_diffsize = match i64::try_from(batch.nb_edits) {
            // Integer division truncates towards zero, as Python's int() does.
            Ok(n) if n > 0 => batch.total_diffsize / n,
            _ => 0,
        };
        Self {
            duration,
            editing_speed: speed(batch.nb_edits, duration),
            entities_speed: speed(batch.nb_distinct_pages, duration),
            nb_existing_pages: pages - new_pages,
            avg_diffsize,
            nb_revertable_edits: batch.nb_edits.saturating_sub(batch.nb_reverted_edits),
        }
    }
}

/// `tool` of a batch.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ToolJson {
    pub(crate) name: String,
    pub(crate) shortid: String,
    pub(crate) url: String,
}

/// One of `sorted_tags`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TagJson {
    pub(crate) id: String,
    pub(crate) priority: i32,
    pub(crate) display_name: String,
    pub(crate) color: &'static str,
    pub(crate) category: &'static str,
    pub(crate) code: Option<String>,
}

pub(crate) fn tag_json(id: &str) -> TagJson {
    let info = tag_info(id);
    TagJson {
        category: match info.category {
            TagCategory::Action => "action",
            TagCategory::Property => "prop",
            TagCategory::Language => "lang",
            TagCategory::Site => "site",
        },
        id: info.id,
        priority: info.priority,
        display_name: info.display_name,
        color: info.color,
        code: info.code,
    }
}

/// A batch in a list (EditGroups' `BatchSimpleSerializer`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BatchItem {
    pub(crate) id: u64,
    pub(crate) tool: ToolJson,
    pub(crate) url: String,
    pub(crate) author: String,
    pub(crate) editing_speed: String,
    pub(crate) entities_speed: String,
    pub(crate) full_uid: String,
    pub(crate) sorted_tags: Vec<TagJson>,
    pub(crate) nb_pages: u64,
    pub(crate) nb_new_pages: u64,
    pub(crate) nb_existing_pages: i64,
    pub(crate) nb_reverted: u64,
    pub(crate) avg_diffsize: i64,
    pub(crate) duration: i64,
    /// Only in `reverting_batches` (all model fields there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    pub(crate) uid: String,
    pub(crate) summary: String,
    pub(crate) started: String,
    pub(crate) ended: String,
    pub(crate) nb_edits: u64,
    pub(crate) nb_distinct_pages: u64,
    pub(crate) nb_reverted_edits: u64,
    pub(crate) total_diffsize: i64,
    pub(crate) archived: bool,
    pub(crate) last_modified: String,
}

fn tool_json(links: &Links, shortid: &str) -> ToolJson {
    let tool = links.site.tool(shortid);
    ToolJson {
        name: tool.name,
        shortid: tool.shortid,
        url: tool.url,
    }
}

/// Whether a batch is archived (only its latest edits kept).
pub(crate) fn archived(batch: &Batch) -> bool {
    batch.archived
}

/// When a batch last changed: its latest edit (stores keep no other time).
fn last_modified(batch: &Batch) -> String {
    utc(batch.ended)
}

impl BatchItem {
    pub(crate) fn new(links: &Links, batch: &Batch) -> Self {
        let derived = Derived::of(batch);
        Self {
            id: batch_number(&batch.key),
            tool: tool_json(links, &batch.key.tool),
            url: links.absolute(&links.batch_path(&batch.key)),
            author: batch.user.clone(),
            editing_speed: derived.editing_speed,
            entities_speed: derived.entities_speed,
            full_uid: full_uid(&batch.key),
            sorted_tags: batch.tags.iter().map(|t| tag_json(t)).collect(),
            nb_pages: batch.nb_distinct_pages,
            nb_new_pages: batch.nb_new_pages,
            nb_existing_pages: derived.nb_existing_pages,
            nb_reverted: batch.nb_reverted_edits,
            avg_diffsize: derived.avg_diffsize,
            duration: derived.duration,
            user: None,
            uid: batch.key.uid.clone(),
            summary: batch.summary.clone(),
            started: utc(batch.started),
            ended: utc(batch.ended),
            nb_edits: batch.nb_edits,
            nb_distinct_pages: batch.nb_distinct_pages,
            nb_reverted_edits: batch.nb_reverted_edits,
            total_diffsize: batch.total_diffsize,
            archived: archived(batch),
            last_modified: last_modified(batch),
        }
    }

    /// With every field of the batch, `user` included, as in
    /// `reverting_batches`.
    pub(crate) fn with_user(mut self, batch: &Batch) -> Self {
        self.user = Some(batch.user.clone());
        self
    }
}

/// `TOOL/UID`.
pub(crate) fn full_uid(key: &BatchKey) -> String {
    format!("{}/{}", key.tool, key.uid)
}

/// An edit (EditGroups' `EditSerializer`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EditJson {
    pub(crate) id: u64,
    /// Null when the site has no URLs for the wiki.
    pub(crate) url: Option<String>,
    pub(crate) revert_url: Option<String>,
    pub(crate) oldrevid: u64,
    pub(crate) newrevid: u64,
    pub(crate) oldlength: i64,
    pub(crate) newlength: i64,
    pub(crate) timestamp: String,
    pub(crate) title: String,
    pub(crate) namespace: i64,
    pub(crate) uri: String,
    pub(crate) comment: String,
    pub(crate) parsedcomment: String,
    pub(crate) bot: bool,
    pub(crate) minor: bool,
    pub(crate) changetype: String,
    pub(crate) user: String,
    pub(crate) patrolled: bool,
    pub(crate) reverted: bool,
    pub(crate) batch: u64,
}

/// The diff of an edit on its wiki.
pub(crate) fn diff_url(index_url: &str, old: u64, new: u64) -> String {
    format!("{index_url}?diff={new}&oldid={old}")
}

/// How to undo an edit: undo a revision, restore a deleted page, or delete a
/// created one.
pub(crate) fn revert_url(
    index_url: &str,
    article_url: &str,
    title: &str,
    old: u64,
    new: u64,
    changetype: &str,
) -> String {
    let title = encode_title(title);
    if old != 0 {
        format!("{index_url}?title={title}&action=edit&undoafter={old}&undo={new}")
    } else if changetype == "delete" {
        format!("{article_url}Special:Undelete/{title}")
    } else {
        format!("{index_url}?title={title}&action=delete")
    }
}

impl EditJson {
    pub(crate) fn new(links: &Links, key: &BatchKey, stored: &StoredEdit) -> Self {
        let edit = &stored.edit;
        let wiki = links.site.wiki(&edit.wiki);
        let old = edit.old_revision.unwrap_or(0);
        let new = edit.new_revision.unwrap_or(0);
        let changetype = edit.change_type.kind().to_owned();
        let (url, revert) = if wiki.has_urls() {
            (
                Some(diff_url(&wiki.index_url, old, new)),
                Some(revert_url(
                    &wiki.index_url,
                    &wiki.article_url,
                    &edit.title,
                    old,
                    new,
                    &changetype,
                )),
            )
        } else {
            (None, None)
        };
        Self {
            id: edit.rcid,
            url,
            revert_url: revert,
            oldrevid: old,
            newrevid: new,
            oldlength: edit.old_length.unwrap_or(0),
            newlength: edit.new_length.unwrap_or(0),
            timestamp: utc(edit.timestamp),
            title: edit.title.clone(),
            namespace: edit.namespace,
            uri: edit.uri.clone().unwrap_or_default(),
            comment: edit.comment.clone().unwrap_or_default(),
            parsedcomment: edit.parsedcomment.clone().unwrap_or_default(),
            bot: edit.bot.unwrap_or(false),
            minor: edit.minor.unwrap_or(false),
            changetype,
            user: edit.user.clone().unwrap_or_default(),
            patrolled: edit.patrolled.unwrap_or(false),
            reverted: stored.reverted,
            batch: batch_number(key),
        }
    }
}

/// A batch in full (EditGroups' `BatchDetailSerializer`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BatchDetail {
    pub(crate) id: u64,
    pub(crate) tool: ToolJson,
    pub(crate) url: String,
    pub(crate) author: String,
    pub(crate) editing_speed: String,
    pub(crate) full_uid: String,
    pub(crate) sorted_tags: Vec<TagJson>,
    pub(crate) edits: Vec<EditJson>,
    pub(crate) entities_speed: String,
    pub(crate) duration: i64,
    pub(crate) nb_reverted: u64,
    pub(crate) nb_revertable_edits: u64,
    pub(crate) nb_pages: u64,
    pub(crate) nb_new_pages: u64,
    pub(crate) nb_existing_pages: i64,
    pub(crate) avg_diffsize: i64,
    pub(crate) can_be_reverted: bool,
    pub(crate) archived: bool,
    pub(crate) reverted_batch: Option<BatchItem>,
    pub(crate) reverting_batches: Vec<BatchItem>,
    /// Null when no task runs (or the store keeps no tasks).
    pub(crate) active_revert_task: Option<TaskJson>,
    pub(crate) uid: String,
    pub(crate) summary: String,
    pub(crate) started: String,
    pub(crate) ended: String,
    pub(crate) nb_edits: u64,
    pub(crate) nb_distinct_pages: u64,
    pub(crate) nb_reverted_edits: u64,
    pub(crate) total_diffsize: i64,
    pub(crate) last_modified: String,
}

/// The batches linked to a batch by reverts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reverts {
    /// Batches whose edits reverted edits of this one, newest started first.
    pub(crate) reverting: Vec<Batch>,
    /// Batches this one reverted edits of, newest started first.
    pub(crate) reverted: Vec<Batch>,
    /// Its running revert task, if the store keeps tasks and one runs.
    pub(crate) active_task: Option<RevertTask>,
}

/// A running revert task (EditGroups' `RevertTaskSerializer`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TaskJson {
    pub(crate) id: u64,
    pub(crate) author: TaskAuthor,
    pub(crate) uid: String,
    pub(crate) comment: String,
    pub(crate) timestamp: String,
    pub(crate) cancel: bool,
    pub(crate) complete: bool,
    pub(crate) batch: u64,
}

/// Who asked for a task: a wiki account (stores keep no user ids).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TaskAuthor {
    pub(crate) username: String,
    pub(crate) id: Option<u64>,
}

impl TaskJson {
    fn new(task: &RevertTask) -> Self {
        Self {
            id: batch_number(&task.revert_batch()),
            author: TaskAuthor {
                username: task.user.clone(),
                id: None,
            },
            uid: task.uid.clone(),
            comment: task.comment.clone(),
            timestamp: utc(task.created),
            cancel: matches!(task.status, TaskStatus::Cancelled),
            complete: !task.status.is_running(),
            batch: batch_number(&task.batch),
        }
    }
}

/// How many reverting batches the detail shows, as EditGroups does.
pub(crate) const REVERTING_SHOWN: usize = 11;

impl BatchDetail {
    pub(crate) fn new(
        links: &Links,
        batch: &Batch,
        edits: &[StoredEdit],
        reverts: &Reverts,
    ) -> Self {
        let derived = Derived::of(batch);
        let archived = archived(batch);
        Self {
            id: batch_number(&batch.key),
            tool: tool_json(links, &batch.key.tool),
            url: links.absolute(&links.batch_path(&batch.key)),
            author: batch.user.clone(),
            editing_speed: derived.editing_speed,
            full_uid: full_uid(&batch.key),
            sorted_tags: batch.tags.iter().map(|t| tag_json(t)).collect(),
            edits: edits
                .iter()
                .map(|e| EditJson::new(links, &batch.key, e))
                .collect(),
            entities_speed: derived.entities_speed,
            duration: derived.duration,
            nb_reverted: batch.nb_reverted_edits,
            nb_revertable_edits: derived.nb_revertable_edits,
            nb_pages: batch.nb_distinct_pages,
            nb_new_pages: batch.nb_new_pages,
            nb_existing_pages: derived.nb_existing_pages,
            avg_diffsize: derived.avg_diffsize,
            can_be_reverted: derived.nb_revertable_edits > 0
                && !archived
                && reverts.active_task.is_none(),
            archived,
            reverted_batch: reverts.reverted.first().map(|b| BatchItem::new(links, b)),
            reverting_batches: reverts
                .reverting
                .iter()
                .take(REVERTING_SHOWN)
                .map(|b| BatchItem::new(links, b).with_user(b))
                .collect(),
            active_revert_task: reverts.active_task.as_ref().map(TaskJson::new),
            uid: batch.key.uid.clone(),
            summary: batch.summary.clone(),
            started: utc(batch.started),
            ended: utc(batch.ended),
            nb_edits: batch.nb_edits,
            nb_distinct_pages: batch.nb_distinct_pages,
            nb_reverted_edits: batch.nb_reverted_edits,
            total_diffsize: batch.total_diffsize,
            last_modified: last_modified(batch),
        }
    }
}

/// A tool on the tools page.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ToolItem {
    pub(crate) name: String,
    pub(crate) shortid: String,
    pub(crate) url: String,
    pub(crate) nb_batches: u64,
    pub(crate) nb_unique_users: u64,
}

/// The discussion link of a batch: a new page under the wiki's prefix, preloaded
/// with (full uid, summary, author, edits, latest edit's title, its old and new
/// revisions), in the order EditGroups fixed (its #112).
pub(crate) fn discuss_url(
    links: &Links,
    batch: &Batch,
    latest: Option<&StoredEdit>,
) -> Option<String> {
    let wiki = links.site.wiki(&batch.key.wiki);
    if !wiki.has_urls() {
        return None;
    }
    let full = full_uid(&batch.key);
    let (title, old, new) = latest.map_or((String::new(), 0, 0), |e| {
        (
            e.edit.title.clone(),
            e.edit.old_revision.unwrap_or(0),
            e.edit.new_revision.unwrap_or(0),
        )
    });
    let params = [
        full.clone(),
        batch.summary.clone(),
        batch.user.clone(),
        batch.nb_edits.to_string(),
        title,
        old.to_string(),
        new.to_string(),
    ];
    let mut url = format!(
        "{}?action=edit&preload={}&title={}",
        wiki.index_url,
        encode_title(&wiki.discuss_preload),
        encode_title(&format!("{}{full}", wiki.discuss_page_prefix)),
    );
    for (i, value) in params.iter().enumerate() {
        url.push_str(&format!("&preloadparams%5B{i}%5D={}", encode_query(value)));
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_are_strings_per_minute() {
        assert_eq!(speed(51, 93), "32.9");
        assert_eq!(speed(4, 0), "∞");
        assert_eq!(speed(4, -3), "∞");
        assert_eq!(speed(1, 120), "0.5");
    }

    #[test]
    fn batch_numbers_are_stable_and_fit_javascript() {
        let key = BatchKey::new("wikidatawiki", "OR", "ca7d7cc");
        assert_eq!(batch_number(&key), batch_number(&key.clone()));
        assert!(batch_number(&key) < (1 << 53));
        assert_ne!(
            batch_number(&key),
            batch_number(&BatchKey::new("wikidatawiki", "OR", "ca7d7cd"))
        );
        assert_ne!(
            batch_number(&BatchKey::new("a", "bc", "d")),
            batch_number(&BatchKey::new("ab", "c", "d"))
        );
    }

    #[test]
    fn revert_urls_follow_the_change() {
        let i = "https://w.org/w/index.php";
        let a = "https://w.org/wiki/";
        assert_eq!(
            revert_url(i, a, "Q1", 5, 6, "edit"),
            "https://w.org/w/index.php?title=Q1&action=edit&undoafter=5&undo=6"
        );
        assert_eq!(
            revert_url(i, a, "Q 1", 0, 0, "delete"),
            "https://w.org/wiki/Special:Undelete/Q_1"
        );
        assert_eq!(
            revert_url(i, a, "Q1&x", 0, 7, "new"),
            "https://w.org/w/index.php?title=Q1%26x&action=delete"
        );
    }
}
