//! Reading new entities: the entity JSON of a revision, and whole
//! `prop=revisions&rvslots=*&rvprop=content|ids` answers.

use super::digest::{Digest, code, property_id};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Why an entity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntityError {
    /// The content is not JSON, or not an object.
    #[error("the entity content is not a JSON object: {0}")]
    NotJson(String),
}

/// The keys of a map of the entity (`claims`, `labels`, ...): an object's keys;
/// PHP writes an empty map as `[]`.
fn keys(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str))
}

/// What a new entity holds, from its JSON (the content of its first revision):
/// the properties of its statements and their qualifiers, the languages of its
/// labels, descriptions and aliases, the sites of its sitelinks. Keys that are
/// not property ids, language codes or site ids are left out.
pub fn read_entity(content: &str) -> Result<Digest, EntityError> {
    let value: Value =
        serde_json::from_str(content).map_err(|e| EntityError::NotJson(e.to_string()))?;
    let Some(entity) = value.as_object() else {
        return Err(EntityError::NotJson("not an object".into()));
    };
    let mut digest = Digest::default();
    // Items and properties say `claims`; MediaInfo says `statements`.
    for map in ["claims", "statements"] {
        let Some(claims) = entity.get(map).and_then(Value::as_object) else {
            continue;
        };
        for (pid, statements) in claims {
            digest.statements.extend(property_id(pid));
            for statement in statements.as_array().into_iter().flatten() {
                digest
                    .qualifiers
                    .extend(keys(statement.get("qualifiers")).filter_map(property_id));
            }
        }
    }
    let codes =
        |name: &str| -> BTreeSet<String> { keys(entity.get(name)).filter_map(code).collect() };
    digest.labels = codes("labels");
    digest.descriptions = codes("descriptions");
    digest.aliases = codes("aliases");
    digest.sitelinks = codes("sitelinks");
    Ok(digest)
}

/// What one revision of a `prop=revisions` answer gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionContent {
    /// Its entity.
    Entity(Digest),
    /// Its content is hidden, missing or not an entity.
    Unreadable(String),
}

/// Reads a `prop=revisions&rvslots=*&rvprop=content|ids` answer (format
/// version 1 or 2): each revision found, by id, and the ids the wiki says it
/// does not have (`badrevids`: deleted or never existed).
pub fn read_revisions(answer: &Value) -> (BTreeMap<u64, RevisionContent>, BTreeSet<u64>) {
    let mut found = BTreeMap::new();
    let mut missing = BTreeSet::new();
    let query = answer.get("query");
    // `badrevids` is an object keyed by id (version 1) or a list (version 2).
    match query.and_then(|q| q.get("badrevids")) {
        Some(Value::Object(bad)) => {
            missing.extend(bad.keys().filter_map(|k| k.parse::<u64>().ok()));
        }
        Some(Value::Array(bad)) => {
            missing.extend(
                bad.iter()
                    .filter_map(|b| b.get("revid").and_then(Value::as_u64)),
            );
        }
        _ => {}
    }
    let pages: Vec<&Value> = match query.and_then(|q| q.get("pages")) {
        Some(Value::Object(pages)) => pages.values().collect(),
        Some(Value::Array(pages)) => pages.iter().collect(),
        _ => Vec::new(),
    };
    for page in pages {
        for revision in page
            .get("revisions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(revid) = revision.get("revid").and_then(Value::as_u64) else {
                continue;
            };
            let main = revision.get("slots").and_then(|s| s.get("main"));
            let content = main
                .and_then(|m| m.get("*").or_else(|| m.get("content")))
                .and_then(Value::as_str);
            let read = match content {
                Some(text) => match read_entity(text) {
                    Ok(digest) => RevisionContent::Entity(digest),
                    Err(e) => RevisionContent::Unreadable(e.to_string()),
                },
                None if main.is_some_and(|m| m.get("texthidden").is_some()) => {
                    RevisionContent::Unreadable("its content is hidden".into())
                }
                None => RevisionContent::Unreadable("the answer has no content for it".into()),
            };
            found.insert(revid, read);
        }
    }
    (found, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_qualifiers_and_terms_are_read() {
        let entity = json!({
            "type": "item",
            "labels": {"en": {}, "de-ch": {}},
            "descriptions": [],
            "aliases": {"fr": []},
            "sitelinks": {"enwiki": {}, "zh_min_nanwiki": {}},
            "claims": {
                "P31": [{"qualifiers": {"P580": [], "P582": []}}],
                "P6": [{}],
                "bogus": [{}]
            }
        });
        let digest = read_entity(&entity.to_string()).unwrap();
        assert_eq!(digest.statements.len(), 2);
        assert!(digest.statements.contains("P6"));
        assert_eq!(digest.qualifiers.len(), 2);
        assert_eq!(digest.labels.len(), 2);
        assert!(digest.descriptions.is_empty());
        assert!(digest.aliases.contains("fr"));
        assert!(digest.sitelinks.contains("zh_min_nanwiki"));
    }

    #[test]
    fn malformed_entities_are_errors() {
        assert!(read_entity("{not json").is_err());
        assert!(read_entity("[1, 2]").is_err());
        assert_eq!(read_entity("{}").unwrap(), Digest::default());
        assert_eq!(
            read_entity(r#"{"claims": 5, "labels": "x"}"#).unwrap(),
            Digest::default()
        );
    }

    #[test]
    fn answers_in_both_format_versions_are_read() {
        let v2 = json!({"query": {
            "badrevids": [{"revid": 9}],
            "pages": [
                {"revisions": [{"revid": 5, "slots": {"main": {"content": "{\"labels\":{\"en\":{}}}"}}}]},
                {"revisions": [{"revid": 6, "slots": {"main": {"texthidden": true}}}]},
                {"revisions": [{"revid": 7, "slots": {"main": {"content": "nope"}}}]},
                {"missing": true}
            ]
        }});
        let (found, missing) = read_revisions(&v2);
        assert_eq!(missing, BTreeSet::from([9]));
        assert!(
            matches!(found.get(&5), Some(RevisionContent::Entity(d)) if d.labels.contains("en"))
        );
        assert!(matches!(
            found.get(&6),
            Some(RevisionContent::Unreadable(_))
        ));
        assert!(matches!(
            found.get(&7),
            Some(RevisionContent::Unreadable(_))
        ));
        let v1 = json!({"query": {"badrevids": {"11": {"revid": 11}}, "pages": {}}});
        assert_eq!(read_revisions(&v1).1, BTreeSet::from([11]));
        assert_eq!(
            read_revisions(&json!("garbage")),
            (BTreeMap::new(), BTreeSet::new())
        );
    }
}
