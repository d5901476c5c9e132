//! Test support shared by the integration tests: a scripted fake api.php (recent
//! changes), a scripted fake wiki that takes writes, and a real MediaWiki on
//! loopback.
#![allow(dead_code, unreachable_pub)]

pub mod fake_api;
pub mod fake_wiki;
pub mod fake_wikibase;
pub mod mediawiki;
