//! The HTML pages: server-rendered, escaped by the templates, no script.

use super::comment::sanitize;
use super::links::Links;
use super::params::{Params, encode_query};
use super::views::{Derived, Reverts, ToolItem, discuss_url, full_uid, tag_json, utc};
use axum::http::StatusCode;
use editgroups_core::tags::tag_colors;
use editgroups_core::{Batch, StoredEdit};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The stylesheet: the layout, and one class per tag colour (the policy allows
/// no inline style).
pub(crate) fn stylesheet() -> String {
    let mut css = String::from(include_str!("style.css"));
    for (i, color) in tag_colors().iter().enumerate() {
        let text = if matches!(*color, "pink" | "#f0ad4e") {
            "#000"
        } else {
            "#fff"
        };
        css.push_str(&format!(
            ".tc{i}{{background:{color};color:{text};border-color:{color}}}\n"
        ));
    }
    css
}

/// The colours of the tags, in the order of their classes.
static COLORS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(tag_colors);

/// The index of a tag colour's class.
fn color_index(color: &str) -> usize {
    COLORS.iter().position(|c| *c == color).unwrap_or(0)
}

/// The class of a tag's colour.
fn color_class(color: &str) -> String {
    format!("tc{}", color_index(color))
}

fn layout(links: &Links, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                title { (title) " – " (links.site.title) }
                link rel="stylesheet" href=(links.page("/static/style.css"));
            }
            body {
                header {
                    a class="brand" href=(links.page(&format!("{}/", links.here("")))) { (links.site.title) }
                    span class="wiki" { (links.wiki.name) }
                    nav {
                        a href=(links.page(&links.here("/"))) { "Batches" }
                        a href=(links.page(&links.here("/tools/"))) { "Tools" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// "3 hours ago".
pub(crate) fn ago(time: editgroups_core::Timestamp, now: editgroups_core::Timestamp) -> String {
    let seconds = (now - time).num_seconds();
    if seconds < 0 {
        return "in the future".to_owned();
    }
    let (n, unit) = match seconds {
        0..60 => (seconds, "second"),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        86_400..2_592_000 => (seconds / 86_400, "day"),
        2_592_000..31_536_000 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

fn list_link(links: &Links, params: &Params) -> String {
    let query = params.to_query();
    let path = links.page(&links.here("/"));
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// The list's parameters with a filter toggled, position and page size dropped.
fn toggled(params: &Params, change: impl FnOnce(&mut Params)) -> Params {
    let mut p = params.filters_only();
    p.limit = super::params::DEFAULT_LIMIT;
    change(&mut p);
    p
}

fn tag_chip(links: &Links, params: &Params, tag: &str) -> Markup {
    let info = tag_json(tag);
    let selected = params.tags.iter().any(|t| t == tag);
    let target = toggled(params, |p| {
        if selected {
            p.tags.retain(|t| t != tag);
        } else {
            p.tags.push(tag.to_owned());
        }
    });
    let class = format!(
        "chip {}{}",
        color_class(info.color),
        if selected { " selected" } else { "" }
    );
    html! {
        a class=(class) href=(list_link(links, &target)) title=(info.id)
            data-tag=(info.id) aria-pressed=(selected) { (info.display_name) }
    }
}

/// The batch list.
pub(crate) fn list(
    links: &Links,
    params: &Params,
    batches: &[Batch],
    previous: Option<String>,
    next: Option<String>,
    now: editgroups_core::Timestamp,
) -> Markup {
    let filtered = params.tool.is_some() || params.user.is_some() || !params.tags.is_empty();
    let body = html! {
        h1 { "Edit groups" }
        @if filtered {
            p class="filters" {
                "Filtered by: "
                @if let Some(tool) = &params.tool {
                    a class="chip selected" data-filter="tool" href=(list_link(links, &toggled(params, |p| p.tool = None))) { "tool: " (tool) " ×" }
                }
                @if let Some(user) = &params.user {
                    a class="chip selected" data-filter="user" href=(list_link(links, &toggled(params, |p| p.user = None))) { "user: " (user) " ×" }
                }
                @for tag in &params.tags {
                    (tag_chip(links, params, tag))
                }
                " "
                a class="clear" href=(list_link(links, &Params { limit: super::params::DEFAULT_LIMIT, ..Params::default() })) { "clear all" }
            }
        }
        table class="batches" {
            thead { tr {
                th { "UID" } th { "User" } th { "Summary" } th { "Tags" }
                th class="num" { "Size/edit" } th class="num" { "Edits" } th { "Latest edit" } th { "Tool" }
            } }
            tbody {
                @for batch in batches {
                    @let derived = Derived::of(batch);
                    @let tool = links.site.tool(&batch.key.tool);
                    tr class="batch" {
                        td { a class="uid" href=(links.page(&links.batch_path(&batch.key))) { (batch.key.uid) } }
                        td { a class="user" href=(list_link(links, &toggled(params, |p| p.user = if params.user.as_deref() == Some(batch.user.as_str()) { None } else { Some(batch.user.clone()) }))) { (batch.user) } }
                        td class="summary" { (batch.summary) }
                        td class="tags" { @for tag in &batch.tags { (tag_chip(links, params, tag)) " " } }
                        td class="num" { (derived.avg_diffsize) }
                        td class="num" { (batch.nb_edits) }
                        td { time datetime=(utc(batch.ended)) title=(utc(batch.ended)) { (ago(batch.ended, now)) } }
                        td { a class="tool" href=(list_link(links, &toggled(params, |p| p.tool = if params.tool.as_deref() == Some(batch.key.tool.as_str()) { None } else { Some(batch.key.tool.clone()) }))) title=(tool.name) { (tool.shortid) } }
                    }
                }
                @if batches.is_empty() {
                    tr { td colspan="8" class="empty" { "No edit groups." } }
                }
            }
        }
        (pager(previous, next))
        p class="export" {
            a href=(links.page(&format!("{}?{}", links.here("/api/batches.csv"), params.filters_only().to_query()))) { "Export as CSV" }
            " · "
            a href=(links.page(&format!("{}?{}", links.here("/api/"), params.to_query()))) { "JSON" }
        }
    };
    layout(links, "Edit groups", body)
}

fn pager(previous: Option<String>, next: Option<String>) -> Markup {
    html! {
        nav class="pager" aria-label="pages" {
            @if let Some(previous) = previous {
                a rel="prev" class="prev" href=(previous) { "← Newer" }
            } @else {
                span class="disabled" { "← Newer" }
            }
            @if let Some(next) = next {
                a rel="next" class="next" href=(next) { "Older →" }
            } @else {
                span class="disabled" { "Older →" }
            }
        }
    }
}

fn edits_table(links: &Links, edits: &[StoredEdit]) -> Markup {
    html! {
        table class="edits" {
            thead { tr { th { "Time" } th { "Page" } th { "Change" } th class="num" { "Size" } th { "Summary" } th { "" } } }
            tbody {
                @for stored in edits {
                    @let edit = &stored.edit;
                    @let wiki = links.site.wiki(&edit.wiki);
                    @let json = super::views::EditJson::new(links, &editgroups_core::BatchKey::new("", "", ""), stored);
                    tr class=(if stored.reverted { "edit reverted" } else { "edit" }) {
                        td { time datetime=(utc(edit.timestamp)) { (utc(edit.timestamp)) } }
                        td {
                            @if let Some(page) = links.wiki_page(&wiki, &edit.title) {
                                a class="page" href=(page) { (edit.title) }
                            } @else { (edit.title) }
                        }
                        td {
                            @if let (Some(url), true) = (&json.url, edit.new_revision.is_some()) {
                                a class="diff" href=(url) { (json.changetype) }
                            } @else { (json.changetype) }
                        }
                        td class="num" { (edit.diff_size()) }
                        td class="comment" { (PreEscaped(sanitize(edit.parsedcomment.as_deref().unwrap_or(""), &wiki))) }
                        td { @if stored.reverted { span class="mark" { "reverted" } } }
                    }
                }
            }
        }
    }
}

/// What a batch page shows.
#[derive(Debug)]
pub(crate) struct BatchPage<'a> {
    pub(crate) batch: &'a Batch,
    /// The latest edits, one more than shown when there are more.
    pub(crate) edits: &'a [StoredEdit],
    pub(crate) timeline: Markup,
    pub(crate) reverts: &'a Reverts,
    pub(crate) now: editgroups_core::Timestamp,
}

/// How many edits the batch page lists.
pub(crate) const EDITS_SHOWN: usize = 10;

fn batch_line(links: &Links, batch: &Batch) -> Markup {
    html! {
        a href=(links.page(&links.batch_path(&batch.key))) { (full_uid(&batch.key)) }
        " by " (batch.user) " (" (batch.nb_edits) " edits, " (utc(batch.started)) ")"
    }
}

/// The batch page.
pub(crate) fn batch(links: &Links, page: &BatchPage<'_>) -> Markup {
    let batch = page.batch;
    let derived = Derived::of(batch);
    let wiki = links.site.wiki(&batch.key.wiki);
    let tool = links.site.tool(&batch.key.tool);
    let user_page = links.wiki_page(&wiki, &format!("User:{}", batch.user));
    let contributions = links.wiki_page(&wiki, &format!("Special:Contributions/{}", batch.user));
    let user_batches = format!(
        "{}?user={}",
        links.page(&links.here("/")),
        encode_query(&batch.user)
    );
    let shown = &page.edits[..page.edits.len().min(EDITS_SHOWN)];
    let more = page.edits.len() > EDITS_SHOWN && !super::views::archived(batch);
    let edits_path = links.page(&format!("{}edits/", links.batch_path(&batch.key)));
    let csv = links.page(&format!(
        "{}/api/b/{}/{}/edits.csv",
        links.wiki_prefix(&batch.key.wiki),
        super::params::encode_segment(&batch.key.tool),
        super::params::encode_segment(&batch.key.uid)
    ));
    let discuss = discuss_url(links, batch, page.edits.first());
    let title = format!("Edit group {}", full_uid(&batch.key));
    let body = html! {
        h1 class="title" {
            "Edit group by "
            @if let Some(user_page) = &user_page { a class="author" href=(user_page) { (batch.user) } } @else { span class="author" { (batch.user) } }
            " "
            a class="user-batches" href=(user_batches) { "[edits]" }
        }
        p class="summary" { (batch.summary) }
        p class="tags" {
            @for tag in &batch.tags {
                @let info = tag_json(tag);
                @let class = format!("chip {}", color_class(info.color));
                @if let (Some(code), "prop", Some(url)) = (&info.code, info.category, links.wiki_page(&wiki, &format!("{}{}", wiki.property_prefix, info.code.clone().unwrap_or_default()))) {
                    a class=(class) data-tag=(info.id) href=(url) title=(code) { (info.display_name) }
                } @else {
                    span class=(class) data-tag=(info.id) title=(info.id) { (info.display_name) }
                }
                " "
            }
        }
        div class="stats" {
            section {
                h2 { "Execution" }
                table class="figures" {
                    tr { th { "Tool" } td { @if tool.url.is_empty() { (tool.name) } @else { a href=(tool.url) { (tool.name) } } } }
                    tr { th { "Started" } td { time datetime=(utc(batch.started)) { (utc(batch.started)) } } }
                    tr { th { "Ended" } td { time datetime=(utc(batch.ended)) { (utc(batch.ended)) } " (" (ago(batch.ended, page.now)) ")" } }
                    tr { th { "Duration" } td data-figure="duration" { (derived.duration) " s" } }
                    tr { th { "Editing speed" } td data-figure="editing_speed" { (derived.editing_speed) " edits/min" } }
                    @if let Some(contributions) = &contributions {
                        tr { th { "Contributions" } td { a href=(contributions) { "of " (batch.user) } } }
                    }
                }
            }
            section {
                h2 { "Edits" }
                table class="figures" {
                    tr { th { "Edits" } td data-figure="nb_edits" { (batch.nb_edits) } }
                    tr { th { "Reverted" } td data-figure="nb_reverted" { (batch.nb_reverted_edits) } }
                    tr { th { "Average size" } td data-figure="avg_diffsize" { (derived.avg_diffsize) " bytes" } }
                    tr { th { "Total size" } td data-figure="total_diffsize" { (batch.total_diffsize) " bytes" } }
                }
            }
            section {
                h2 { "Entities" }
                table class="figures" {
                    tr { th { "Pages" } td data-figure="nb_pages" { (batch.nb_distinct_pages) } }
                    tr { th { "New" } td data-figure="nb_new_pages" { (batch.nb_new_pages) } }
                    tr { th { "Existing" } td data-figure="nb_existing_pages" { (derived.nb_existing_pages) } }
                    tr { th { "Speed" } td data-figure="entities_speed" { (derived.entities_speed) " pages/min" } }
                }
            }
        }
        (page.timeline)
        @if !page.reverts.reverting.is_empty() || !page.reverts.reverted.is_empty() {
            section class="reverts" {
                h2 { "Reverts" }
                @if !page.reverts.reverting.is_empty() {
                    p { "Edits of this group were reverted by:" }
                    ul class="reverting" { @for b in page.reverts.reverting.iter().take(super::views::REVERTING_SHOWN) { li { (batch_line(links, b)) } } }
                }
                @if !page.reverts.reverted.is_empty() {
                    p { "This group reverted edits of:" }
                    ul class="reverted" { @for b in &page.reverts.reverted { li { (batch_line(links, b)) } } }
                }
            }
        }
        h2 { "Latest edits" }
        (edits_table(links, shown))
        p class="wikilink" {
            "Link from the wiki: "
            code { "[[" (links.site.batch_link_prefix) (full_uid(&batch.key)) "|details]]" }
        }
        p class="actions" {
            @if more { a class="see-all" href=(edits_path) { "See all" } " · " }
            @if let Some(discuss) = &discuss { a class="discuss" href=(discuss) { "Discuss" } " · " }
            a class="csv" href=(csv) { "Export edits as CSV" }
        }
    };
    layout(links, &title, body)
}

/// The page of a batch's edits.
pub(crate) fn edits(
    links: &Links,
    batch: &Batch,
    edits: &[StoredEdit],
    previous: Option<String>,
    next: Option<String>,
) -> Markup {
    let title = format!("Edits of {}", full_uid(&batch.key));
    let body = html! {
        h1 { "Edits of " a href=(links.page(&links.batch_path(&batch.key))) { (full_uid(&batch.key)) } }
        (edits_table(links, edits))
        (pager(previous, next))
    };
    layout(links, &title, body)
}

/// The tools page.
pub(crate) fn tools(
    links: &Links,
    tools: &[ToolItem],
    previous: Option<String>,
    next: Option<String>,
) -> Markup {
    let body = html! {
        h1 { "Tools" }
        table class="tools" {
            thead { tr { th { "Tool" } th { "Short id" } th class="num" { "Edit groups" } th class="num" { "Users" } } }
            tbody {
                @for tool in tools {
                    tr class="tool" {
                        td { @if tool.url.is_empty() { (tool.name) } @else { a href=(tool.url) { (tool.name) } } }
                        td { a href=(format!("{}?tool={}", links.page(&links.here("/")), encode_query(&tool.shortid))) { (tool.shortid) } }
                        td class="num" { (tool.nb_batches) }
                        td class="num" { (tool.nb_unique_users) }
                    }
                }
            }
        }
        (pager(previous, next))
    };
    layout(links, "Tools", body)
}

/// The page of a batch that does not exist, with the current lag (a batch may
/// not have been read yet).
pub(crate) fn not_found(links: &Links, uid: &str, lag_seconds: Option<i64>) -> Markup {
    let body = html! {
        h1 { "Edit group not found" }
        p { "No edit group " code { (uid) } " is known on " (links.wiki.name) "." }
        p class="lag" {
            @match lag_seconds {
                Some(lag) => { "The edits read so far are " span data-figure="current_lag" { (lag) } " seconds behind the wiki: a new group may not be here yet." }
                None => { "No edits have been read yet." }
            }
        }
    };
    layout(links, "Not found", body)
}

/// A page for an error answer.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) } }
            body { h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) } p { (message) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        let now = chrono::DateTime::from_timestamp(100_000, 0).unwrap();
        let at = |s: i64| chrono::DateTime::from_timestamp(100_000 - s, 0).unwrap();
        assert_eq!(ago(at(1), now), "1 second ago");
        assert_eq!(ago(at(3 * 3600 + 5), now), "3 hours ago");
        assert_eq!(ago(at(2 * 86_400), now), "2 days ago");
        assert_eq!(ago(at(-5), now), "in the future");
    }

    #[test]
    fn every_tag_colour_has_a_class() {
        let css = stylesheet();
        for (i, _) in tag_colors().iter().enumerate() {
            assert!(css.contains(&format!(".tc{i}{{")));
        }
        assert_eq!(
            color_class("purple"),
            format!(
                "tc{}",
                tag_colors().iter().position(|c| *c == "purple").unwrap()
            )
        );
    }
}
