//! Where the pages and API of a request are: the mount path, the wiki, and the
//! absolute origin for the JSON's links.

use super::params::{encode_segment, valid_wiki};
use super::site::{Site, WikiSite};
use axum::http::{HeaderMap, Uri, header};
use editgroups_core::BatchKey;
use std::sync::Arc;

/// Links of one request.
#[derive(Debug, Clone)]
pub(crate) struct Links {
    pub(crate) site: Arc<Site>,
    /// The wiki the request is about.
    pub(crate) wiki_id: String,
    pub(crate) wiki: WikiSite,
    /// The path the router is mounted at (`""` or `/editgroups`).
    pub(crate) root: String,
    /// What absolute links start with (origin and mount path).
    absolute_root: String,
}

/// The mount path: what the original path has before the path the router saw.
pub(crate) fn mount_path(original: &Uri, seen: &Uri) -> String {
    let full = original.path();
    let rest = seen.path();
    let root = match full.strip_suffix(rest) {
        Some(root) => root,
        // Nested at `/eg`, the root `/eg` is seen as `/`.
        None if rest == "/" => full,
        None => "",
    };
    root.trim_end_matches('/').to_owned()
}

/// A `Host` header that can go into a link (host, optional port), or none.
fn safe_host(headers: &HeaderMap) -> Option<&str> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then_some(host)
}

impl Links {
    pub(crate) fn new(site: Arc<Site>, wiki_id: &str, root: String, headers: &HeaderMap) -> Self {
        let absolute_root = if site.public_url.is_empty() {
            format!("http://{}{root}", safe_host(headers).unwrap_or("localhost"))
        } else {
            site.public_url.trim_end_matches('/').to_owned()
        };
        Self {
            wiki: site.wiki(wiki_id),
            wiki_id: wiki_id.to_owned(),
            site,
            root,
            absolute_root,
        }
    }

    /// The path of a wiki's pages, relative to the mount: `""` for the default
    /// wiki, `/w/WIKI` for the others.
    pub(crate) fn wiki_prefix(&self, wiki: &str) -> String {
        if wiki == self.site.default_wiki || !valid_wiki(wiki) {
            String::new()
        } else {
            format!("/w/{}", encode_segment(wiki))
        }
    }

    /// A path of this request's wiki, relative to the mount (`/tools/`).
    pub(crate) fn here(&self, path: &str) -> String {
        format!("{}{path}", self.wiki_prefix(&self.wiki_id))
    }

    /// A batch's page, relative to the mount.
    pub(crate) fn batch_path(&self, key: &BatchKey) -> String {
        format!(
            "{}/b/{}/{}/",
            self.wiki_prefix(&key.wiki),
            encode_segment(&key.tool),
            encode_segment(&key.uid)
        )
    }

    /// A path relative to the mount, as a link in a page. The mount's own root
    /// is `/eg`, not `/eg/` (what `Router::nest` matches).
    pub(crate) fn page(&self, path: &str) -> String {
        join(&self.root, path)
    }

    /// A path relative to the mount, as an absolute URL.
    pub(crate) fn absolute(&self, path: &str) -> String {
        let origin_only = self.absolute_root.matches('/').count() <= 2;
        if origin_only {
            format!("{}{path}", self.absolute_root)
        } else {
            join(&self.absolute_root, path)
        }
    }

    /// A page of the wiki (`Q42`, `User:X`), or none when the site has no URLs
    /// for it.
    pub(crate) fn wiki_page(&self, wiki: &WikiSite, title: &str) -> Option<String> {
        wiki.has_urls()
            .then(|| format!("{}{}", wiki.article_url, super::params::encode_title(title)))
    }
}

/// `root` + `path`, without a slash between a non-empty root and a query.
fn join(root: &str, path: &str) -> String {
    match path.strip_prefix('/') {
        Some(rest) if !root.is_empty() && (rest.is_empty() || rest.starts_with('?')) => {
            format!("{root}{rest}")
        }
        _ => format!("{root}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths() {
        let u = |s: &str| s.parse::<Uri>().unwrap();
        assert_eq!(mount_path(&u("/eg/api/"), &u("/api/")), "/eg");
        assert_eq!(mount_path(&u("/api/"), &u("/api/")), "");
        assert_eq!(mount_path(&u("/eg/"), &u("/")), "/eg");
        assert_eq!(mount_path(&u("/eg"), &u("/")), "/eg");
        assert_eq!(join("/eg", "/?tool=OR"), "/eg?tool=OR");
        assert_eq!(join("/eg", "/"), "/eg");
        assert_eq!(join("", "/"), "/");
        assert_eq!(join("/eg", "/api/"), "/eg/api/");
    }

    #[test]
    fn hostile_hosts_are_not_linked() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "evil.org/\"><script>".parse().unwrap());
        let links = Links::new(
            Arc::new(Site::default()),
            "wikidatawiki",
            String::new(),
            &headers,
        );
        assert_eq!(links.absolute("/api/"), "http://localhost/api/");
        headers.insert(header::HOST, "127.0.0.1:8000".parse().unwrap());
        let links = Links::new(
            Arc::new(Site::default()),
            "commonswiki",
            "/eg".into(),
            &headers,
        );
        assert_eq!(links.absolute("/api/"), "http://127.0.0.1:8000/eg/api/");
        assert_eq!(links.here("/tools/"), "/w/commonswiki/tools/");
        assert_eq!(
            links.batch_path(&BatchKey::new("wikidatawiki", "OR", "a/b")),
            "/b/OR/a%2Fb/"
        );
    }
}
