//! The pages in a real browser: Debian's Chromium, driven over WebDriver
//! (chromedriver, started here on a free loopback port) with fantoccini, over a
//! store filled from the recorded fixtures.
//!
//! `bash scripts/setup.sh --tests` installs `chromium` and `chromium-driver`;
//! without them these tests fail and say so.
//!
//! Run with `cargo test -p editgroups-store --all-features --test browser`.

mod http_support;

use editgroups_core::testing::{attributed, chunk, edit};
use editgroups_core::{BatchKey, BatchQuery, BatchStore};
use editgroups_store::http::Site;
use fantoccini::{Client, ClientBuilder, Locator};
use http_support::*;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// chromedriver and a browser session; both end when dropped.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn find(program: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

async fn browser() -> Browser {
    let install = "install Chromium and its driver: `bash scripts/setup.sh --tests` (Debian packages chromium and chromium-driver)";
    let driver =
        find("chromedriver").unwrap_or_else(|| panic!("chromedriver not found: {install}"));
    let chromium = ["chromium", "chromium-browser"]
        .iter()
        .find_map(|p| find(p))
        .unwrap_or_else(|| panic!("chromium not found: {install}"));
    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver}: {e}"));
    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(e) if start.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start a browser session through {driver}: {e}"),
        }
    };
    Browser {
        client,
        driver: child,
        _profile: profile,
    }
}

async fn texts(client: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.expect(css) {
        out.push(element.text().await.expect("text"));
    }
    out
}

async fn current_query(client: &Client) -> String {
    client
        .current_url()
        .await
        .expect("url")
        .query()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn pages_work_in_a_browser() {
    let store = memory_store().await;
    let server = serve(store.clone(), Site::default()).await;
    let browser = browser().await;
    let c = &browser.client;
    let base = &server.base;

    // The list shows the batches, newest first.
    c.goto(&format!("{base}/")).await.expect("list");
    let expected: Vec<String> = store
        .list_batches(&BatchQuery::new().with_wiki("wikidatawiki").with_page(15, 0))
        .await
        .unwrap()
        .iter()
        .map(|b| b.key.uid.clone())
        .collect();
    assert_eq!(texts(c, "tr.batch a.uid").await, expected, "the list");

    // A tag chip filters, and shows as selected.
    c.find(Locator::Css("a.chip[data-tag='prop-P18']"))
        .await
        .expect("a prop-P18 chip")
        .click()
        .await
        .expect("click");
    assert!(current_query(c).await.contains("tags=prop-P18"));
    assert_eq!(texts(c, "tr.batch a.uid").await, ["2120"]);
    let selected = c
        .find_all(Locator::Css("a.chip.selected[data-tag='prop-P18']"))
        .await
        .unwrap();
    assert!(!selected.is_empty(), "the chip shows as selected");
    // Clicking it again clears the filter.
    selected[0].click().await.unwrap();
    assert!(!current_query(c).await.contains("tags="));
    assert_eq!(texts(c, "tr.batch a.uid").await.len(), expected.len());

    // A user filters.
    c.find(Locator::XPath("//a[@class='user' and text()='Beireke1']"))
        .await
        .expect("Beireke1")
        .click()
        .await
        .unwrap();
    assert!(current_query(c).await.contains("user=Beireke1"));
    assert_eq!(texts(c, "tr.batch a.uid").await, ["2213"]);

    // The pager, forward and back.
    c.goto(&format!("{base}/?limit=2")).await.unwrap();
    let mut pages = vec![texts(c, "tr.batch a.uid").await];
    while let Ok(next) = c.find(Locator::Css("a.next")).await {
        next.click().await.unwrap();
        pages.push(texts(c, "tr.batch a.uid").await);
        assert!(pages.len() < 20);
    }
    assert_eq!(pages.concat(), expected, "forward through every page");
    let mut back = vec![pages.last().cloned().unwrap()];
    while let Ok(previous) = c.find(Locator::Css("a.prev")).await {
        previous.click().await.unwrap();
        back.push(texts(c, "tr.batch a.uid").await);
        assert!(back.len() < 20);
    }
    back.reverse();
    assert_eq!(back, pages, "and back");

    // A batch page: the store's figures, tags, edits, links.
    c.goto(&format!("{base}/")).await.unwrap();
    c.find(Locator::XPath("//a[@class='uid' and text()='2213']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let key = BatchKey::new("wikidatawiki", "QSv2", "2213");
    let batch = store.batch(&key).await.unwrap().unwrap();
    let title = c
        .find(Locator::Css("h1.title"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(title.starts_with("Edit group by Beireke1"), "{title}");
    let figure = |name: &str| format!("[data-figure={name}]");
    assert!(texts(c, &figure("nb_edits")).await[0].contains(&batch.nb_edits.to_string()));
    assert!(texts(c, &figure("nb_pages")).await[0].contains(&batch.nb_distinct_pages.to_string()));
    assert!(
        texts(c, &figure("nb_reverted")).await[0].contains(&batch.nb_reverted_edits.to_string())
    );
    assert_eq!(
        c.find_all(Locator::Css("p.tags .chip"))
            .await
            .unwrap()
            .len(),
        batch.tags.len()
    );
    assert_eq!(
        c.find_all(Locator::Css("table.edits tbody tr"))
            .await
            .unwrap()
            .len(),
        10
    );
    for link in c
        .find_all(Locator::Css("table.edits a.page"))
        .await
        .unwrap()
    {
        let href = link.attr("href").await.unwrap().unwrap_or_default();
        assert!(
            href.starts_with("https://www.wikidata.org/wiki/Q"),
            "{href}"
        );
    }
    for link in c
        .find_all(Locator::Css("table.edits a.diff"))
        .await
        .unwrap()
    {
        let href = link.attr("href").await.unwrap().unwrap_or_default();
        assert!(
            href.starts_with("https://www.wikidata.org/w/index.php?diff="),
            "{href}"
        );
    }
    let timeline = c.find_all(Locator::Css("svg.timeline rect")).await.unwrap();
    assert!(!timeline.is_empty(), "the timeline is drawn");
    // The CSV link gives EditGroups' header.
    let csv = c
        .find(Locator::Css("a.csv"))
        .await
        .unwrap()
        .prop("href")
        .await
        .unwrap()
        .expect("href");
    let (status, _, body) = get(&csv, None).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("batch,bot,changetype,comment,id,minor,namespace,newlength,newrevid,oldlength,oldrevid,parsedcomment,patrolled,revert_url,reverted,timestamp,title,uri,url,user\r\n"));
    // "See all" leads to the edits page.
    c.find(Locator::Css("a.see-all"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        c.find_all(Locator::Css("table.edits tbody tr"))
            .await
            .unwrap()
            .len(),
        15
    );
    // The [edits] link lists the author's batches.
    c.back().await.unwrap();
    c.find(Locator::Css("a.user-batches"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(texts(c, "tr.batch a.uid").await, ["2213"]);
    browser.client.clone().close().await.ok();
}

#[tokio::test]
async fn hostile_summaries_render_as_text() {
    let store: Arc<dyn BatchStore> = Arc::new(editgroups_store::MemoryStore::new());
    let summary = "<script>document.title='pwned'</script><b>bold</b> \"><img src=x onerror=\"document.title='pwned'\">";
    let mut item = attributed(
        edit("wikidatawiki", 1)
            .title("Q1")
            .parsedcomment(r#"<a href="javascript:document.title='pwned'">x</a><img src=x onerror="document.title='pwned'">"#),
        "OR",
        "bad1",
        "<i>Mallory</i>",
    );
    if let Some(m) = item.attribution.as_mut() {
        m.summary = summary.to_owned();
    }
    store.apply(chunk("x", "1", vec![item])).await.unwrap();
    let server = serve(store, Site::default()).await;
    let browser = browser().await;
    let c = &browser.client;
    for path in ["/", "/b/OR/bad1/"] {
        c.goto(&format!("{}{path}", server.base)).await.unwrap();
        let shown = texts(c, ".summary").await;
        assert_eq!(
            shown.first().map(String::as_str),
            Some(summary),
            "{path}: shown as text"
        );
        assert!(
            c.find_all(Locator::Css("main img, main b, main i"))
                .await
                .unwrap()
                .is_empty()
        );
        let title = c.title().await.unwrap();
        assert_ne!(title, "pwned", "{path}: nothing ran");
        let ran = c
            .execute("return document.title", Vec::new())
            .await
            .unwrap();
        assert_ne!(ran, serde_json::json!("pwned"));
    }
    // The sanitized link has no javascript: target left.
    for link in c.find_all(Locator::Css("td.comment a")).await.unwrap() {
        let href = link.attr("href").await.unwrap();
        assert!(href.is_none_or(|h| !h.contains("javascript")));
    }
    browser.client.clone().close().await.ok();
}
