//! The serde_json reading of an event, kept for the tests: the scanner must accept
//! and read exactly what it accepts and reads. Its structs are read from JSON
//! objects only ([`ObjectOnly`]), as the scanner reads them.

use super::scan::{Fields, Meta, OldNew as Pair};
use serde::Deserialize;
use std::borrow::Cow;

/// A JSON string borrowed from the input when it has no escapes.
///
/// serde's own `Cow<str>` always copies, and `#[serde(borrow)]` only reaches a
/// `Cow` that is not wrapped in an `Option`: every field would be allocated.
#[derive(Debug)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

/// A struct read from a JSON object only: serde_json would also read a derived
/// struct from an array of its values, which the scanner refuses on purpose.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = ObjectOnly<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }
        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct RawMeta<'a> {
    #[serde(borrow, default)]
    domain: Option<Text<'a>>,
    #[serde(borrow, default)]
    uri: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
struct OldNew<T> {
    #[serde(default)]
    old: Option<T>,
    #[serde(default)]
    new: Option<T>,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow, default)]
    meta: Option<ObjectOnly<RawMeta<'a>>>,
    #[serde(default)]
    id: Option<i64>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Text<'a>>,
    #[serde(default)]
    namespace: Option<i64>,
    #[serde(borrow, default)]
    title: Option<Text<'a>>,
    #[serde(borrow, default)]
    comment: Option<Text<'a>>,
    #[serde(borrow, default)]
    parsedcomment: Option<Text<'a>>,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(borrow, default)]
    user: Option<Text<'a>>,
    #[serde(default)]
    bot: Option<bool>,
    #[serde(default)]
    minor: Option<bool>,
    #[serde(default)]
    patrolled: Option<bool>,
    #[serde(default)]
    length: Option<ObjectOnly<OldNew<i64>>>,
    #[serde(default)]
    revision: Option<ObjectOnly<OldNew<i64>>>,
    #[serde(borrow, default)]
    wiki: Option<Text<'a>>,
    #[serde(borrow, default)]
    log_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    log_action: Option<Text<'a>>,
}

/// The fields serde_json reads from an event.
pub(super) fn fields(json: &str) -> Result<Fields<'_>, serde_json::Error> {
    fn text(t: Option<Text<'_>>) -> Option<Cow<'_, str>> {
        t.map(|t| t.0)
    }
    let ObjectOnly(raw): ObjectOnly<RawEvent<'_>> = serde_json::from_str(json)?;
    let pair = |p: Option<ObjectOnly<OldNew<i64>>>| {
        p.map(|ObjectOnly(p)| Pair {
            old: p.old,
            new: p.new,
        })
    };
    Ok(Fields {
        meta: raw.meta.map(|ObjectOnly(m)| Meta {
            domain: m.domain.map(|t| t.0),
            uri: m.uri.map(|t| t.0),
        }),
        id: raw.id,
        kind: text(raw.kind),
        namespace: raw.namespace,
        title: text(raw.title),
        comment: text(raw.comment),
        parsedcomment: text(raw.parsedcomment),
        timestamp: raw.timestamp,
        user: text(raw.user),
        bot: raw.bot,
        minor: raw.minor,
        patrolled: raw.patrolled,
        length: pair(raw.length),
        revision: pair(raw.revision),
        wiki: text(raw.wiki),
        log_type: text(raw.log_type),
        log_action: text(raw.log_action),
    })
}
