//! The web service over HTTP on loopback: every endpoint and field (names, order
//! and JSON types as EditGroups' serializers write them), pagination, filters,
//! content negotiation, CSV, 404/301/400 answers, security headers, hostile
//! text, health and metrics.
//!
//! Run with `cargo test -p editgroups-store --all-features --test http_api`.

mod http_support;

use editgroups_core::testing::{attributed, chunk, edit};
use editgroups_core::{
    ApplyReport, Batch, BatchKey, BatchQuery, BatchStore, Chunk, Cursor, Page, StoreError,
    StoredEdit, Timestamp, ToolStats,
};
use editgroups_store::MemoryStore;
use editgroups_store::http::Site;
use http_support::*;
use serde_json::Value;
use std::sync::Arc;

const LIST_FIELDS: &[&str] = &[
    "id",
    "tool",
    "url",
    "author",
    "editing_speed",
    "entities_speed",
    "full_uid",
    "sorted_tags",
    "nb_pages",
    "nb_new_pages",
    "nb_existing_pages",
    "nb_reverted",
    "avg_diffsize",
    "duration",
    "uid",
    "summary",
    "started",
    "ended",
    "nb_edits",
    "nb_distinct_pages",
    "nb_reverted_edits",
    "total_diffsize",
    "archived",
    "last_modified",
];
const DETAIL_FIELDS: &[&str] = &[
    "id",
    "tool",
    "url",
    "author",
    "editing_speed",
    "full_uid",
    "sorted_tags",
    "edits",
    "entities_speed",
    "duration",
    "nb_reverted",
    "nb_revertable_edits",
    "nb_pages",
    "nb_new_pages",
    "nb_existing_pages",
    "avg_diffsize",
    "can_be_reverted",
    "archived",
    "reverted_batch",
    "reverting_batches",
    "active_revert_task",
    "uid",
    "summary",
    "started",
    "ended",
    "nb_edits",
    "nb_distinct_pages",
    "nb_reverted_edits",
    "total_diffsize",
    "last_modified",
];
const EDIT_FIELDS: &[&str] = &[
    "id",
    "url",
    "revert_url",
    "oldrevid",
    "newrevid",
    "oldlength",
    "newlength",
    "timestamp",
    "title",
    "namespace",
    "uri",
    "comment",
    "parsedcomment",
    "bot",
    "minor",
    "changetype",
    "user",
    "patrolled",
    "reverted",
    "batch",
];
const TAG_FIELDS: &[&str] = &[
    "id",
    "priority",
    "display_name",
    "color",
    "category",
    "code",
];
const BATCH_CSV: &str = "archived,author,avg_diffsize,duration,editing_speed,ended,entities_speed,full_uid,id,last_modified,nb_distinct_pages,nb_edits,nb_existing_pages,nb_new_pages,nb_pages,nb_reverted,nb_reverted_edits,started,summary,tags,tool.name,tool.shortid,tool.url,total_diffsize,uid,url";
const EDIT_CSV: &str = "batch,bot,changetype,comment,id,minor,namespace,newlength,newrevid,oldlength,oldrevid,parsedcomment,patrolled,revert_url,reverted,timestamp,title,uri,url,user";

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn is_utc(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    text.len() == 20 && text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Names, order and JSON types of a list item.
fn check_list_item(item: &Value) {
    assert_eq!(keys(item), LIST_FIELDS, "{item}");
    assert!(item["id"].is_u64());
    assert_eq!(keys(&item["tool"]), ["name", "shortid", "url"]);
    for field in [
        "url",
        "author",
        "editing_speed",
        "entities_speed",
        "full_uid",
        "uid",
        "summary",
    ] {
        assert!(item[field].is_string(), "{field}: {item}");
    }
    for field in [
        "nb_pages",
        "nb_new_pages",
        "nb_reverted",
        "nb_edits",
        "nb_distinct_pages",
        "nb_reverted_edits",
    ] {
        assert!(item[field].is_u64(), "{field}: {item}");
    }
    for field in [
        "nb_existing_pages",
        "avg_diffsize",
        "duration",
        "total_diffsize",
    ] {
        assert!(item[field].is_i64(), "{field} is an integer: {item}");
    }
    for field in ["started", "ended", "last_modified"] {
        assert!(is_utc(&item[field]), "{field}: {item}");
    }
    assert!(item["archived"].is_boolean());
    for tag in item["sorted_tags"].as_array().expect("sorted_tags") {
        assert_eq!(keys(tag), TAG_FIELDS);
        assert!(tag["priority"].is_i64() && tag["color"].is_string());
    }
}

fn check_edit(edit: &Value) {
    assert_eq!(keys(edit), EDIT_FIELDS, "{edit}");
    for field in ["id", "oldrevid", "newrevid", "batch"] {
        assert!(edit[field].is_u64(), "{field}: {edit}");
    }
    for field in ["oldlength", "newlength", "namespace"] {
        assert!(edit[field].is_i64(), "{field}: {edit}");
    }
    for field in [
        "url",
        "revert_url",
        "title",
        "uri",
        "comment",
        "parsedcomment",
        "changetype",
        "user",
    ] {
        assert!(edit[field].is_string(), "{field}: {edit}");
    }
    for field in ["bot", "minor", "patrolled", "reverted"] {
        assert!(edit[field].is_boolean(), "{field}: {edit}");
    }
    assert!(is_utc(&edit["timestamp"]));
}

fn uids(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["full_uid"].as_str().expect("full_uid").to_owned())
        .collect()
}

async fn all_batches(store: &dyn BatchStore) -> Vec<Batch> {
    store
        .list_batches(&BatchQuery::new().with_wiki("wikidatawiki"))
        .await
        .expect("list")
}

#[tokio::test]
async fn list_items_have_editgroups_fields_and_the_store_figures() {
    for (name, store, _guard) in [("memory", memory_store().await, None), {
        let (store, dir) = sqlite_store().await;
        ("sqlite", store, Some(dir))
    }] {
        let server = serve(store.clone(), Site::default()).await;
        let page = get_json(&format!("{}/api/?limit=500", server.base)).await;
        assert_eq!(keys(&page), ["next", "previous", "results"], "{name}");
        let expected = all_batches(store.as_ref()).await;
        assert_eq!(
            page["results"].as_array().map(Vec::len),
            Some(expected.len())
        );
        for (item, batch) in page["results"].as_array().unwrap().iter().zip(&expected) {
            check_list_item(item);
            assert_eq!(
                item["full_uid"],
                format!("{}/{}", batch.key.tool, batch.key.uid)
            );
            assert_eq!(item["author"], batch.user.as_str());
            assert_eq!(item["nb_edits"], batch.nb_edits);
            assert_eq!(item["nb_pages"], batch.nb_distinct_pages);
            assert_eq!(item["nb_reverted"], batch.nb_reverted_edits);
            assert_eq!(item["total_diffsize"], batch.total_diffsize);
            let tags: Vec<&str> = item["sorted_tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap())
                .collect();
            assert_eq!(tags, batch.tags, "{name}: tags in display order");
            assert_eq!(
                item["url"],
                format!("{}/b/{}/{}/", server.base, batch.key.tool, batch.key.uid)
            );
        }
        // EditGroups' own figures for its OpenRefine test batch (§10).
        let or = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["full_uid"] == "OR/ca7d7cc")
            .expect("OR/ca7d7cc");
        assert_eq!(or["nb_edits"], 51);
        assert_eq!(or["avg_diffsize"], 2566, "130901/51 truncated");
        assert_eq!(or["duration"], 93);
        assert_eq!(or["editing_speed"], "32.9");
        assert_eq!(or["tool"]["name"], "OpenRefine");
        let qs = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["full_uid"] == "QSv2/2120")
            .expect("QSv2/2120");
        assert_eq!(qs["editing_speed"], "120.0");
        let terms = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["full_uid"] == "QSv2/4578")
            .expect("QSv2/4578");
        assert_eq!(terms["editing_speed"], "∞", "no duration");
        assert_eq!(terms["sorted_tags"][1]["display_name"], "eu");
        assert_eq!(terms["sorted_tags"][1]["category"], "lang");
        assert_eq!(terms["sorted_tags"][1]["code"], "eu");
    }
}

#[tokio::test]
async fn detail_has_editgroups_fields_and_the_latest_edits() {
    let store = memory_store().await;
    let server = serve(store.clone(), Site::default()).await;
    let detail = get_json(&format!("{}/api/b/QSv2/2213/", server.base)).await;
    assert_eq!(keys(&detail), DETAIL_FIELDS);
    let key = BatchKey::new("wikidatawiki", "QSv2", "2213");
    let batch = store.batch(&key).await.unwrap().unwrap();
    assert_eq!(detail["nb_edits"], batch.nb_edits);
    assert_eq!(detail["nb_new_pages"], batch.nb_new_pages);
    assert_eq!(detail["nb_reverted"], batch.nb_reverted_edits);
    assert_eq!(
        detail["nb_revertable_edits"],
        batch.nb_edits - batch.nb_reverted_edits
    );
    assert_eq!(
        detail["nb_existing_pages"],
        batch.nb_distinct_pages as i64 - batch.nb_new_pages as i64
    );
    assert_eq!(detail["can_be_reverted"], true);
    assert_eq!(detail["reverted_batch"], Value::Null);
    assert!(detail["reverting_batches"].is_array());
    assert_eq!(detail["active_revert_task"], Value::Null);
    let edits = detail["edits"].as_array().expect("edits");
    assert_eq!(edits.len(), 11, "the 11 latest edits");
    let stored = store.batch_edits(&key, Page::new(11, 0)).await.unwrap();
    for (json, stored) in edits.iter().zip(&stored) {
        check_edit(json);
        let e = &stored.edit;
        assert_eq!(json["id"], e.rcid);
        assert_eq!(json["batch"], detail["id"]);
        let (old, new) = (e.old_revision.unwrap_or(0), e.new_revision.unwrap_or(0));
        assert_eq!(
            json["url"],
            format!("https://www.wikidata.org/w/index.php?diff={new}&oldid={old}")
        );
        let revert = json["revert_url"].as_str().unwrap();
        if old != 0 {
            assert_eq!(
                revert,
                format!(
                    "https://www.wikidata.org/w/index.php?title={}&action=edit&undoafter={old}&undo={new}",
                    e.title
                )
            );
        } else {
            assert_eq!(
                revert,
                format!(
                    "https://www.wikidata.org/w/index.php?title={}&action=delete",
                    e.title
                )
            );
        }
    }
    // A deletion is undone by restoring the page.
    let deletion = get_json(&format!("{}/api/b/EG/ca7d7cc/", server.base)).await;
    let delete = deletion["edits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["changetype"] == "delete")
        .expect("a deletion");
    assert!(
        delete["revert_url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.wikidata.org/wiki/Special:Undelete/Q")
    );
    // The HTML URL answers the same JSON when asked.
    let negotiated = get(
        &format!("{}/b/QSv2/2213/", server.base),
        Some("application/json"),
    )
    .await;
    assert_eq!(negotiated.0, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&negotiated.2).unwrap(),
        detail
    );
    let by_format = get_json(&format!("{}/b/QSv2/2213/?format=json", server.base)).await;
    assert_eq!(by_format, detail);
}

/// Walks `next` links to the end and `previous` links back to the start.
async fn walk(first: &str) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut forward = Vec::new();
    let mut url = first.to_owned();
    let mut last;
    loop {
        let page = get_json(&url).await;
        forward.push(uids(&page));
        last = page.clone();
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
        assert!(forward.len() < 100, "next links never end");
    }
    let mut backward = vec![uids(&last)];
    let mut page = last;
    while let Some(previous) = page["previous"].as_str() {
        page = get_json(previous).await;
        backward.push(uids(&page));
        assert!(backward.len() < 100, "previous links never end");
    }
    backward.reverse();
    (forward, backward)
}

#[tokio::test]
async fn pages_follow_keyset_links_both_ways() {
    for (store, _guard) in [(memory_store().await, None), {
        let (s, d) = sqlite_store().await;
        (s, Some(d))
    }] {
        let server = serve(store.clone(), Site::default()).await;
        let expected: Vec<String> = all_batches(store.as_ref())
            .await
            .iter()
            .map(|b| format!("{}/{}", b.key.tool, b.key.uid))
            .collect();
        assert!(expected.len() >= 7, "{expected:?}");
        let (forward, backward) = walk(&format!("{}/api/?limit=2", server.base)).await;
        assert_eq!(forward.concat(), expected);
        assert!(forward.iter().all(|p| p.len() <= 2));
        assert_eq!(backward, forward, "previous links give the same pages");
        let first = get_json(&format!("{}/api/?limit=2", server.base)).await;
        assert_eq!(first["previous"], Value::Null);
        assert!(
            first["next"].as_str().unwrap().contains("after="),
            "next links carry the position"
        );
        // Offsets, for compatibility.
        let offset = get_json(&format!("{}/api/?limit=2&offset=2", server.base)).await;
        assert_eq!(uids(&offset), expected[2..4]);
        assert_eq!(
            offset["previous"].as_str(),
            Some(format!("{}/api/?limit=2", server.base).as_str())
        );
        let beyond = get_json(&format!("{}/api/?offset=1000", server.base)).await;
        assert!(uids(&beyond).is_empty());
        assert_eq!(beyond["next"], Value::Null);
    }
}

#[tokio::test]
async fn filters_combine_and_wikis_are_apart() {
    let store = memory_store().await;
    // A batch of another wiki, under its own URLs.
    store
        .apply(chunk(
            "other",
            "1",
            vec![attributed(
                edit("commonswiki", 5).comment("/* wbsetlabel-add:1|fr */ x"),
                "OR",
                "feed",
                "Commoner",
            )],
        ))
        .await
        .unwrap();
    let server = serve(store.clone(), Site::default()).await;
    let base = &server.base;
    let by_tool = get_json(&format!("{base}/api/?tool=EG&limit=100")).await;
    assert!(!uids(&by_tool).is_empty());
    assert!(uids(&by_tool).iter().all(|u| u.starts_with("EG/")));
    let by_user = get_json(&format!("{base}/api/?user=Beireke1")).await;
    assert_eq!(uids(&by_user), ["QSv2/2213"]);
    let tags = get_json(&format!("{base}/api/?tags=wbcreateclaim-create,prop-P18")).await;
    assert_eq!(uids(&tags), ["QSv2/2120"], "tags combine with AND");
    let none = get_json(&format!("{base}/api/?tags=wbcreateclaim-create,undo")).await;
    assert!(uids(&none).is_empty());
    assert!(!uids(&get_json(&format!("{base}/api/")).await).contains(&"OR/feed".to_owned()));
    let other = get_json(&format!("{base}/w/commonswiki/api/")).await;
    assert_eq!(uids(&other), ["OR/feed"]);
    assert_eq!(
        other["results"][0]["url"],
        format!("{base}/w/commonswiki/b/OR/feed/")
    );
    let by_param = get_json(&format!("{base}/api/?wiki=commonswiki")).await;
    assert_eq!(uids(&by_param), ["OR/feed"]);
    let detail = get_json(&format!("{base}/w/commonswiki/api/b/OR/feed/")).await;
    assert_eq!(detail["author"], "Commoner");
    assert!(
        detail["edits"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://commons.wikimedia.org/w/index.php?diff="),
        "links of the batch's own wiki"
    );
    let (status, _, _) = get(
        &format!("{base}/w/commonswiki/api/?wiki=wikidatawiki"),
        None,
    )
    .await;
    assert_eq!(status, 400, "path and query name different wikis");
    let page = get(&format!("{base}/w/commonswiki/"), None).await;
    assert_eq!(page.0, 200);
    assert!(page.2.contains("/w/commonswiki/b/OR/feed/"), "{}", page.2);
}

#[tokio::test]
async fn bad_parameters_are_400_with_a_message() {
    let server = serve(memory_store().await, Site::default()).await;
    let base = &server.base;
    for (query, word) in [
        ("/api/?limit=501", "500"),
        ("/api/?limit=-1", "limit"),
        ("/api/?limit=0", "limit"),
        ("/api/?limit=99999999999999999999999", "limit"),
        ("/api/?offset=abc", "offset"),
        ("/api/?offset=-5", "offset"),
        ("/api/?user=%FF%FE", "UTF-8"),
        ("/api/?format=xml", "format"),
        ("/api/?after=not-a-token", "position"),
        ("/api/?before=WzFd", "position"),
        ("/api/b/QSv2/2213/edits/?after=eyJ4IjoxfQ", "position"),
        ("/?format=xml", "format"),
        ("/api/?wiki=a%20b", "wiki"),
        ("/api/batches.csv?format=json", "CSV"),
        ("/tools/?limit=1000", "500"),
        ("/api/b/QSv2/2213%00/", "NUL"),
        ("/api/?user=Ann%00", "NUL"),
        ("/api/b/QSv2/2213/edits.csv?x=%00", "NUL"),
    ] {
        let (status, headers, body) = get(&format!("{base}{query}"), None).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(word), "{query}: {body}");
        assert!(headers.get("content-security-policy").is_some());
    }
    // A position of another wiki is refused too.
    let first = get_json(&format!("{base}/api/?limit=1")).await;
    let next = first["next"].as_str().unwrap();
    let token = next.split("after=").nth(1).unwrap();
    let (status, _, body) = get(&format!("{base}/w/commonswiki/api/?after={token}"), None).await;
    assert_eq!(status, 400, "{body}");
    // HTML pages answer errors as pages.
    let (status, headers, body) = get(&format!("{base}/?limit=-3"), Some("text/html")).await;
    assert_eq!(status, 400);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("limit"));
    let (status, headers, body) = get(&format!("{base}/b/QSv2/2213%00/"), Some("text/html")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("NUL"), "{body}");
}

#[tokio::test]
async fn unknown_batches_404_with_the_lag_and_tools_redirect() {
    let server = serve(memory_store().await, Site::default()).await;
    let base = &server.base;
    let (status, headers, body) = get(&format!("{base}/b/ST/3849384/"), Some("text/html")).await;
    assert_eq!(status, 404);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let lag: i64 = scraper::Html::parse_document(&body)
        .select(&scraper::Selector::parse("[data-figure=current_lag]").unwrap())
        .next()
        .expect("the lag is shown")
        .text()
        .collect::<String>()
        .parse()
        .expect("a number of seconds");
    assert!(lag > 1, "the fixtures are from 2018");
    let (status, _, body) = get(&format!("{base}/api/b/ST/3849384/"), None).await;
    assert_eq!(status, 404);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["current_lag"].is_i64());
    for path in [
        "/api/b/ST/1/edits/",
        "/api/b/ST/1/edits.csv",
        "/b/ST/1/edits/",
        "/nowhere",
    ] {
        assert_eq!(get(&format!("{base}{path}"), None).await.0, 404, "{path}");
    }
    let (status, headers, _) = get(&format!("{base}/b/OR/"), None).await;
    assert_eq!(status, 301);
    assert_eq!(headers["location"], "/?tool=OR");
    let (status, headers, body) = get(&format!("{base}/robots.txt"), None).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "User-Agent: *\nDisallow: /\n")
    );
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
}

#[tokio::test]
async fn edits_pages_walk_all_edits_newest_first() {
    let store = memory_store().await;
    let server = serve(store.clone(), Site::default()).await;
    let key = BatchKey::new("wikidatawiki", "QSv2", "2213");
    let expected: Vec<u64> = store
        .batch_edits(&key, Page::all())
        .await
        .unwrap()
        .iter()
        .map(|e| e.edit.rcid)
        .collect();
    let ids = |page: &Value| -> Vec<u64> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                check_edit(e);
                e["id"].as_u64().unwrap()
            })
            .collect()
    };
    let mut url = format!("{}/api/b/QSv2/2213/edits/?limit=20", server.base);
    let mut pages = Vec::new();
    let mut last;
    loop {
        let page = get_json(&url).await;
        assert_eq!(keys(&page), ["next", "previous", "results"]);
        pages.push(ids(&page));
        last = page.clone();
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages.concat(), expected);
    assert_eq!(pages.len(), expected.len().div_ceil(20));
    let mut back = vec![ids(&last)];
    while let Some(previous) = last["previous"].as_str() {
        last = get_json(previous).await;
        back.push(ids(&last));
    }
    back.reverse();
    assert_eq!(back, pages);
    // The HTML edits page, and its JSON by negotiation.
    let (status, _, body) = get(&format!("{}/b/QSv2/2213/edits/", server.base), None).await;
    assert_eq!(status, 200);
    let html = scraper::Html::parse_document(&body);
    let rows = html
        .select(&scraper::Selector::parse("table.edits tbody tr").unwrap())
        .count();
    assert_eq!(rows, 15);
    assert!(body.contains("rel=\"next\""));
    let json = get(
        &format!("{}/b/QSv2/2213/edits/?limit=5", server.base),
        Some("application/json"),
    )
    .await;
    let page: Value = serde_json::from_str(&json.2).unwrap();
    assert_eq!(ids(&page), expected[..5]);
}

#[tokio::test]
async fn csv_exports_have_editgroups_headers_and_every_row() {
    let store: Arc<dyn BatchStore> = Arc::new(MemoryStore::new());
    fill(store.clone()).await;
    // A batch larger than one page of the export.
    let big: Vec<_> = (0..2_345u64)
        .map(|i| {
            attributed(
                edit("wikidatawiki", 9_000_000 + i),
                "OR",
                "b16",
                "Big, \"quoted\"",
            )
        })
        .collect();
    store.apply(chunk("big", "1", big)).await.unwrap();
    let server = serve(store.clone(), Site::default()).await;
    let (status, headers, body) = get(&format!("{}/api/batches.csv", server.base), None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(body.starts_with(&format!("{BATCH_CSV}\r\n")), "{body}");
    assert!(body.ends_with("\r\n"));
    let batches = all_batches(store.as_ref()).await;
    assert_eq!(body.matches("\r\n").count(), batches.len() + 1);
    assert!(
        body.contains("\"Big, \"\"quoted\"\"\""),
        "quoted as Python does"
    );
    let filtered = get(&format!("{}/api/batches.csv?tool=QSv2", server.base), None).await;
    let qs = batches.iter().filter(|b| b.key.tool == "QSv2").count();
    assert_eq!(filtered.2.matches("\r\n").count(), qs + 1);
    let (status, _, body) = get(&format!("{}/api/b/OR/b16/edits.csv", server.base), None).await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(lines[0], EDIT_CSV);
    assert_eq!(lines.len(), 2_345 + 2, "header, rows, and the empty end");
    let ids: Vec<u64> = lines[1..=2_345]
        .iter()
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first, no row twice");
    sorted.dedup();
    assert_eq!(sorted.len(), 2_345);
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_escape_hostile_text() {
    let store: Arc<dyn BatchStore> = Arc::new(MemoryStore::new());
    let hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
    let mut e = edit("wikidatawiki", 77)
        .title("Q1<script>alert(3)</script>")
        .comment("/* wbsetlabel-add:1|en */ <script>")
        .user(hostile);
    e = e.parsedcomment(
        r#"<a href="javascript:alert(4)">click</a><script>alert(5)</script><a href="/wiki/Q1" onmouseover="alert(6)" style="x">Q1</a><iframe src="//evil.org"></iframe>"#,
    );
    let mut item = attributed(e, "OR", "beef<b>", hostile);
    if let Some(m) = item.attribution.as_mut() {
        m.summary = hostile.to_owned();
    }
    store
        .apply(chunk("hostile", "1", vec![item]))
        .await
        .unwrap();
    let server = serve(store.clone(), Site::default()).await;
    for path in [
        "/",
        "/b/OR/beef%3Cb%3E/",
        "/b/OR/beef%3Cb%3E/edits/",
        "/tools/",
        "/?user=%3Cscript%3E",
    ] {
        let (status, headers, body) = get(&format!("{}{path}", server.base), None).await;
        assert_eq!(status, 200, "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let html = scraper::Html::parse_document(&body);
        let all = scraper::Selector::parse("*").unwrap();
        for element in html.select(&all) {
            let el = element.value();
            assert!(
                !matches!(el.name(), "script" | "img" | "iframe" | "object" | "embed"),
                "{path}: a <{}> element: {body}",
                el.name()
            );
            for (name, value) in el.attrs() {
                assert!(!name.starts_with("on"), "{path}: attribute {name}");
                assert_ne!(name, "style", "{path}: inline style");
                assert!(
                    !value
                        .trim_start()
                        .to_ascii_lowercase()
                        .starts_with("javascript:"),
                    "{path}: {name}={value}"
                );
            }
        }
        if path == "/" || path.starts_with("/b/") {
            assert!(
                body.contains("&lt;script&gt;alert("),
                "{path}: the text is shown, escaped"
            );
        }
    }
    let (_, _, page) = get(&format!("{}/b/OR/beef%3Cb%3E/", server.base), None).await;
    assert!(
        page.contains(r#"href="https://www.wikidata.org/wiki/Q1""#),
        "relative links of parsedcomment point at the wiki"
    );
}

#[tokio::test]
async fn batch_page_shows_figures_timeline_and_links() {
    let store = memory_store().await;
    let server = serve(store.clone(), Site::default()).await;
    let key = BatchKey::new("wikidatawiki", "QSv2", "2213");
    let batch = store.batch(&key).await.unwrap().unwrap();
    let (status, _, body) = get(&format!("{}/b/QSv2/2213/", server.base), None).await;
    assert_eq!(status, 200);
    let html = scraper::Html::parse_document(&body);
    let one = |css: &str| {
        html.select(&scraper::Selector::parse(css).unwrap())
            .next()
            .unwrap_or_else(|| panic!("{css}"))
            .text()
            .collect::<String>()
    };
    assert!(one("h1.title").starts_with("Edit group by Beireke1"));
    assert!(one("[data-figure=nb_edits]").contains(&batch.nb_edits.to_string()));
    assert!(one("[data-figure=nb_new_pages]").contains(&batch.nb_new_pages.to_string()));
    assert!(one("[data-figure=nb_reverted]").contains(&batch.nb_reverted_edits.to_string()));
    let rows = html
        .select(&scraper::Selector::parse("table.edits tbody tr").unwrap())
        .count();
    assert_eq!(rows, 10, "the latest 10 edits");
    assert!(body.contains("See all"));
    // The timeline counts every edit, reverted ones apart.
    let svg = html
        .select(&scraper::Selector::parse("svg.timeline").unwrap())
        .next()
        .expect("timeline");
    let label = svg.value().attr("aria-label").unwrap();
    assert!(
        label.contains(&format!("{} edits", batch.nb_edits))
            && label.contains(&format!("{} reverted", batch.nb_reverted_edits)),
        "{label}"
    );
    assert!(svg.html().contains("tl-reverted"));
    // Property tags link to their property page; the discuss link carries the
    // preload parameters in EditGroups' order.
    assert!(body.contains(r#"href="https://www.wikidata.org/wiki/Property:P31""#));
    let discuss = html
        .select(&scraper::Selector::parse("a.discuss").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("discuss")
        .to_owned();
    let latest = &store.batch_edits(&key, Page::new(1, 0)).await.unwrap()[0].edit;
    assert!(discuss.starts_with("https://www.wikidata.org/w/index.php?action=edit&preload=Wikidata:Edit_groups/Preload&title=Wikidata:Edit_groups/QSv2/2213"), "{discuss}");
    let expected = [
        "QSv2%2F2213".to_owned(),
        "%23quickstatements".to_owned(),
        "Beireke1".to_owned(),
        batch.nb_edits.to_string(),
        latest.title.clone(),
        latest.old_revision.unwrap_or(0).to_string(),
        latest.new_revision.unwrap_or(0).to_string(),
    ];
    for (i, value) in expected.iter().enumerate() {
        assert!(
            discuss.contains(&format!("&preloadparams%5B{i}%5D={value}")),
            "{i}: {discuss}"
        );
    }
    assert!(body.contains("/api/b/QSv2/2213/edits.csv"));
    assert!(body.contains(r#"href="/?user=Beireke1""#), "[edits] link");
}

#[tokio::test]
async fn tools_page_pages() {
    let server = serve(memory_store().await, Site::default()).await;
    let first = get_json(&format!("{}/tools/?format=json&limit=2", server.base)).await;
    let results = first["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(
        keys(&results[0]),
        ["name", "shortid", "url", "nb_batches", "nb_unique_users"]
    );
    let next = get_json(first["next"].as_str().expect("a next page")).await;
    assert_eq!(next["results"].as_array().unwrap().len(), 1, "EG, OR, QSv2");
    assert_eq!(next["next"], Value::Null);
    let back = get_json(next["previous"].as_str().unwrap()).await;
    assert_eq!(back["results"], first["results"]);
    let (_, _, html) = get(&format!("{}/tools/?limit=2", server.base), None).await;
    assert!(
        html.contains("rel=\"next\""),
        "the HTML tools page has a pager"
    );
}

#[tokio::test]
async fn mounted_under_a_path_links_stay_inside() {
    let app = axum::Router::new().nest(
        "/eg",
        editgroups_store::http::router(memory_store().await, Site::default()),
    );
    let server = serve_app(app).await;
    let page = get_json(&format!("{}/eg/api/?limit=1", server.base)).await;
    assert!(
        page["next"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/eg/api/?", server.base))
    );
    assert!(
        page["results"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/eg/b/", server.base))
    );
    let (status, _, body) = get(&format!("{}/eg", server.base), None).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"href="/eg/static/style.css""#));
    assert!(body.contains(r#"href="/eg/b/"#));
    let (status, headers, _) = get(&format!("{}/eg/b/OR/", server.base), None).await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (301, "/eg?tool=OR")
    );
    let (status, _, body) = get(&format!("{}/eg/w/commonswiki/", server.base), None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"href="/eg/w/commonswiki/tools/""#),
        "{body}"
    );
    let css = get(&format!("{}/eg/static/style.css", server.base), None).await;
    assert_eq!(css.0, 200);
    assert!(css.2.contains(".tc0{"));
}

/// A store that is down.
#[derive(Debug)]
struct DownStore;

fn down() -> StoreError {
    StoreError::Connection {
        store: "test",
        source: "connection refused".into(),
    }
}

#[async_trait::async_trait]
impl BatchStore for DownStore {
    async fn apply(&self, _: Chunk) -> Result<ApplyReport, StoreError> {
        Err(down())
    }
    async fn reverting_batches(&self, _: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        Err(down())
    }
    async fn reverted_batches(&self, _: &BatchKey) -> Result<Vec<Batch>, StoreError> {
        Err(down())
    }
    async fn cursor(&self, _: &str) -> Result<Option<Cursor>, StoreError> {
        Err(down())
    }
    async fn batch(&self, _: &BatchKey) -> Result<Option<Batch>, StoreError> {
        Err(down())
    }
    async fn list_batches(&self, _: &BatchQuery) -> Result<Vec<Batch>, StoreError> {
        Err(down())
    }
    async fn batch_edits(&self, _: &BatchKey, _: Page) -> Result<Vec<StoredEdit>, StoreError> {
        Err(down())
    }
    async fn tools(&self) -> Result<Vec<ToolStats>, StoreError> {
        Err(down())
    }
    async fn latest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
        Err(down())
    }
}

#[tokio::test]
async fn health_follows_lag_and_store() {
    let store = memory_store().await;
    let lenient = Site {
        lag_limit_seconds: u64::MAX / 2,
        ..Site::default()
    };
    let server = serve(store.clone(), lenient).await;
    let (status, _, body) = get(&format!("{}/healthz", server.base), None).await;
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(health["store"], "ok");
    assert!(health["lag_seconds"].as_i64().unwrap() > 86_400);
    let strict = serve(store.clone(), Site::default()).await;
    let (status, _, body) = get(&format!("{}/healthz", strict.base), None).await;
    assert_eq!(
        status, 503,
        "the 2018 fixtures lag far beyond 3000 s: {body}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "lagging"
    );
    let broken = serve(Arc::new(DownStore), Site::default()).await;
    let (status, _, body) = get(&format!("{}/healthz", broken.base), None).await;
    assert_eq!(status, 503);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["store"],
        "error"
    );
    // Pages of a store that is down are 503s with a message, never 500s.
    for path in ["/", "/api/", "/b/OR/x/", "/api/b/OR/x/edits/", "/tools/"] {
        let (status, _, body) = get(&format!("{}{path}", broken.base), None).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert!(
            !body.contains("connection refused"),
            "details stay in the log"
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_and_pipeline() {
    let store: Arc<dyn BatchStore> = Arc::new(MemoryStore::new());
    let pipeline = editgroups_core::Pipeline::builder()
        .source(editgroups_sources::ReplaySource::from_files(fixture_files()))
        .matcher(editgroups_core::RegexToolMatcher::default())
        .shared_store(store.clone())
        .build()
        .unwrap();
    let stats = pipeline.stats();
    pipeline.run().await.unwrap();
    let app = editgroups_store::http::router_with_pipeline(store, Site::default(), stats.clone());
    let server = serve_app(app).await;
    for _ in 0..3 {
        get(&format!("{}/api/", server.base), None).await;
    }
    get(&format!("{}/api/?limit=-1", server.base), None).await;
    let (status, headers, text) = get(&format!("{}/metrics", server.base), None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("openmetrics-text")
    );
    assert!(
        text.contains(r#"editgroups_http_requests_total{route="/api/",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"editgroups_http_requests_total{route="/api/",status="400"} 1"#),
        "{text}"
    );
    let snapshot = stats.snapshot();
    assert!(
        text.contains(&format!(
            "editgroups_pipeline_events_read_total {}",
            snapshot.events_read
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "editgroups_pipeline_inserted_total {}",
        snapshot.inserted
    )));
    assert!(
        text.contains("editgroups_pipeline_skipped_total{reason="),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
}

/// new_deletion_restore_deletion.json: QSv2/2213 created Q52218094, EG/be3a1d9
/// deleted it, EG/ca7d7cc restored it, EG/45bc44f deleted it again. Each batch
/// names the one it reverted and those that reverted it; a running revert task
/// shows on its batch, which then cannot be reverted again.
#[tokio::test]
async fn reverts_and_running_tasks_show_on_batches() {
    use editgroups_core::plan::UndoPlan;
    use editgroups_core::{NewRevertTask, RevertTaskStore};
    let store = Arc::new(MemoryStore::new());
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/editgroups/new_deletion_restore_deletion.json");
    editgroups_core::Pipeline::builder()
        .source(editgroups_sources::ReplaySource::from_files([file]))
        .shared_store(store.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let last = BatchKey::new("wikidatawiki", "EG", "45bc44f");
    let edits = store.batch_edits(&last, Page::all()).await.unwrap();
    let plan = UndoPlan::new(last.clone(), &edits);
    let task = store
        .create_revert_task(&NewRevertTask {
            batch: last,
            user: "Admin".into(),
            comment: "restore it".into(),
            actions: plan.actions.clone(),
        })
        .await
        .unwrap();
    let server = serve_app(editgroups_store::http::store_router(
        store,
        Site::default(),
        None,
    ))
    .await;
    let detail = |uid: &'static str| {
        let base = server.base.clone();
        async move { get_json(&format!("{base}/api/b/{uid}/")).await }
    };
    let uid_of = |item: &Value| item["full_uid"].as_str().unwrap_or("").to_owned();
    let created = detail("QSv2/2213").await;
    let reverting: Vec<String> = created["reverting_batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(uid_of)
        .collect();
    assert_eq!(reverting, ["EG/be3a1d9"], "{created}");
    assert!(created["reverted_batch"].is_null());
    let deleted = detail("EG/be3a1d9").await;
    assert_eq!(uid_of(&deleted["reverted_batch"]), "QSv2/2213");
    assert_eq!(uid_of(&deleted["reverting_batches"][0]), "EG/ca7d7cc");
    let restored = detail("EG/ca7d7cc").await;
    assert_eq!(uid_of(&restored["reverted_batch"]), "EG/be3a1d9");
    assert!(restored["active_revert_task"].is_null());
    let last = detail("EG/45bc44f").await;
    assert_eq!(last["active_revert_task"]["uid"], task.uid.as_str());
    assert_eq!(last["active_revert_task"]["author"]["username"], "Admin");
    assert_eq!(last["active_revert_task"]["cancel"], false);
    assert_eq!(last["can_be_reverted"], false, "{last}");
    let (_, _, page) = get(&format!("{}/b/EG/be3a1d9/", server.base), None).await;
    assert!(
        page.contains("EG/ca7d7cc"),
        "the batch page links its reverter"
    );
}
