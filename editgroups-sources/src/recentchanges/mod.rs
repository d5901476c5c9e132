//! MediaWiki recent-changes polling source (in progress).
