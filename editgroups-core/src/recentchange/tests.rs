use super::*;
use proptest::prelude::*;
use std::io::BufRead;

const EDIT: &str = r#"{"bot":false,"comment":"/* wbsetdescription-add:1|eu */ x","id":700971720,"length":{"new":1620,"old":1555},"meta":{"domain":"www.wikidata.org","uri":"https://www.wikidata.org/wiki/Q1"},"minor":false,"namespace":0,"parsedcomment":"x","patrolled":true,"revision":{"new":649009271,"old":647931399},"server_name":"www.wikidata.org","timestamp":1521740416,"title":"Q1","type":"edit","user":"QuickStatementsBot","wiki":"wikidatawiki"}"#;

#[test]
fn parses_an_edit_with_every_field() {
    let ParsedEvent::Edit(edit) = RecentChangeParser::new().parse(EDIT).unwrap() else {
        panic!("not an edit")
    };
    assert_eq!(edit.wiki, "wikidatawiki");
    assert_eq!(edit.rcid, 700971720);
    assert_eq!(edit.change_type, ChangeType::Edit);
    assert_eq!(edit.old_revision, Some(647931399));
    assert_eq!(edit.new_revision, Some(649009271));
    assert_eq!(edit.diff_size(), 65);
    assert_eq!(edit.timestamp.timestamp(), 1521740416);
    assert_eq!(
        edit.uri.as_deref(),
        Some("https://www.wikidata.org/wiki/Q1")
    );
    assert_eq!(edit.patrolled, Some(true));
}

#[test]
fn strings_are_borrowed_unless_they_hold_escapes() {
    let fields = scan::scan(EDIT).unwrap();
    assert!(matches!(fields.title, Some(Cow::Borrowed("Q1"))));
    assert!(matches!(
        fields.meta.and_then(|m| m.domain),
        Some(Cow::Borrowed("www.wikidata.org"))
    ));
    assert!(matches!(fields.wiki, Some(Cow::Borrowed("wikidatawiki"))));
    let escaped = r#"{"title":"Q\"1\u00e9","comment":"a\nb"}"#;
    let fields = scan::scan(escaped).unwrap();
    assert!(matches!(&fields.title, Some(Cow::Owned(t)) if t == "Q\"1é"));
    assert_eq!(fields.comment.as_deref(), Some("a\nb"));
}

#[test]
fn canaries_are_recognised_before_anything_else() {
    let canary = r#"{"$schema":"/mediawiki/recentchange/1.0.1","meta":{"dt":"2026-01-01T00:00:00Z","stream":"mediawiki.recentchange","domain":"canary"}}"#;
    assert_eq!(
        RecentChangeParser::new().parse(canary).unwrap(),
        ParsedEvent::Canary
    );
}

#[test]
fn other_wikis_are_left_out_when_filtering() {
    let parser = RecentChangeParser::new().with_wikis(["commonswiki"]);
    assert_eq!(parser.parse(EDIT).unwrap(), ParsedEvent::OtherWiki);
    let parser = RecentChangeParser::new().with_wikis(["commonswiki", "wikidatawiki"]);
    assert!(matches!(parser.parse(EDIT).unwrap(), ParsedEvent::Edit(_)));
}

#[test]
fn large_ids_and_log_entries_parse() {
    let log = r#"{"id":5000000000,"type":"log","log_type":"delete","log_action":"delete","namespace":0,"title":"Q5","timestamp":1532278800,"wiki":"wikidatawiki","revision":{"new":null},"comment":"gone"}"#;
    let ParsedEvent::Edit(edit) = RecentChangeParser::new().parse(log).unwrap() else {
        panic!("not an edit")
    };
    assert_eq!(edit.rcid, 5_000_000_000);
    assert!(edit.change_type.is_delete());
    assert_eq!(edit.change_type.kind(), "delete");
    assert_eq!(edit.new_revision, None);
    assert_eq!(edit.user, None);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let parser = RecentChangeParser::new();
    for bad in [
        "",
        "not json",
        "[1,2]",
        "42",
        r#"{"id":1,"type":"edit""#,
        r#"{"id":"x","wiki":"w"}"#,
        r#"{"id":-3,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w"}"#,
        r#"{"id":3,"type":"edit","namespace":0,"title":"Q1","timestamp":99999999999999999,"wiki":"w"}"#,
        r#"{"id":3,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w"} trailing"#,
        r#"{"id":3.5,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w"}"#,
        r#"{"id":3,"type":"edit","namespace":0,"title":7,"timestamp":1,"wiki":"w"}"#,
        r#"{"id":3,"type":"edit","namespace":0,"title":"Q1","timestamp":1,"wiki":"w\ud800"}"#,
    ] {
        assert!(parser.parse(bad).is_err(), "{bad:?} parsed");
    }
    assert!(matches!(
        parser.parse(r#"{"wiki":"w","type":"edit"}"#),
        Err(EventError::MissingField("id"))
    ));
    assert!(parser.parse_slice(b"{\"wiki\":\"\xff\"}").is_err());
}

/// What both readers make of a line: the fields, or that it was refused.
fn both(json: &str) -> (Option<Fields<'_>>, Option<Fields<'_>>) {
    (scan::scan(json).ok(), reference::fields(json).ok())
}

/// Whether the two readers agree on a line.
fn agree(json: &str) -> bool {
    let (scanned, reference) = both(json);
    scanned == reference
}

fn assert_same(json: &str) {
    let (scanned, reference) = both(json);
    assert!(
        agree(json),
        "the readers disagree on {json:?}: {scanned:?} / {reference:?}"
    );
}

#[test]
fn the_scanner_reads_the_recorded_events_as_serde_json_does() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/editgroups");
    let mut lines = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = std::fs::File::open(entry.unwrap().path()).unwrap();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.unwrap();
            let (scanned, reference) = both(&line);
            assert!(reference.is_some(), "a recorded event is refused: {line}");
            assert_eq!(scanned, reference, "{line}");
            lines += 1;
        }
    }
    assert!(lines > 100, "only {lines} recorded events found");
}

#[test]
fn json_grammar_edge_cases_are_decided_as_serde_json_decides_them() {
    for case in [
        r#"{}"#,
        r#"  {"id":1}  "#,
        "{\"id\":1}\n",
        r#"{"id":1}x"#,
        r#"{"id":1,}"#,
        r#"{,"id":1}"#,
        r#"{"id" 1}"#,
        r#"{"id":1 "wiki":"w"}"#,
        r#"{"id":01}"#,
        r#"{"id":-0}"#,
        r#"{"id":-1}"#,
        r#"{"id":1.0}"#,
        r#"{"id":1e3}"#,
        r#"{"id":1E+3}"#,
        r#"{"id":-}"#,
        r#"{"id":1.}"#,
        r#"{"id":1e}"#,
        r#"{"id":9223372036854775807}"#,
        r#"{"id":9223372036854775808}"#,
        r#"{"id":-9223372036854775808}"#,
        r#"{"id":-9223372036854775809}"#,
        r#"{"id":18446744073709551616}"#,
        r#"{"id":null,"bot":null,"wiki":null,"meta":null,"length":null}"#,
        r#"{"id":true}"#,
        r#"{"id":"1"}"#,
        r#"{"bot":1}"#,
        r#"{"bot":tru}"#,
        r#"{"bot":truex}"#,
        r#"{"bot":nul}"#,
        r#"{"wiki":5}"#,
        r#"{"id":1,"id":2}"#,
        r#"{"id":null,"id":2}"#,
        r#"{"other":1,"other":2}"#,
        r#"{"meta":{"domain":"a","domain":"b"}}"#,
        r#"{"length":{"old":1,"old":2}}"#,
        r#"{"length":{"old":1,"x":[1,{"y":[]}],"new":2}}"#,
        r#"{"meta":5}"#,
        r#"{"meta":"canary"}"#,
        r#"{"meta":["canary"]}"#,
        r#"["w"]"#,
        r#"{"meta":{"domain":"canary","dt":{"a":[true,false,null,-1.5e-3]}}}"#,
        r#"{"x":[1,2,]}"#,
        r#"{"x":[,]}"#,
        r#"{"x":{"a"}}"#,
        r#"{"x":"\q"}"#,
        r#"{"x":"\u12"}"#,
        r#"{"x":"\u12G4"}"#,
        r#"{"x":"\ud800"}"#,
        r#"{"title":"\ud800"}"#,
        r#"{"title":"\ud83d\ude00"}"#,
        r#"{"title":"\/\b\f\n\r\t\\\""}"#,
        "{\"title\":\"a\tb\"}",
        "{\"x\":\"a\u{1}b\"}",
        "{\"title\":\"é\u{7f}\"}",
        r#"{"ti\u0074le":"Q1"}"#,
        r#"{"title":"Q1","ti\u0074le":"Q2"}"#,
        r#"{"title":"unterminated}"#,
        r#"{"title":"x\"#,
        r#"{"id":1"#,
        r#"{"id":"#,
        r#"{"#,
        "",
        "   ",
        "null",
        "42",
        r#""s""#,
        "{} {}",
        r#"{"type":"log","log_type":"delete","log_action":"restore"}"#,
    ] {
        assert_same(case);
    }
    let deep = |n: usize| format!(r#"{{"x":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
    for n in [1, 126, 127, 128, 100_000] {
        assert_same(&deep(n));
    }
}

/// A JSON value for a field, well-formed or not, of the right type or not.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        Just("-0".to_owned()),
        Just("1e5".to_owned()),
        Just("1.5E-2".to_owned()),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        "[a-z\"\\\\/\\x00-\\x1f \u{e9}]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just(r#""\ud800""#.to_owned()),
        Just(r#""\u00e9\ud83d\ude00""#.to_owned()),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key(), inner), 0..4).prop_map(|v| {
                let members: Vec<String> =
                    v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// A key: one the readers read, often, or another.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "meta",
            "id",
            "type",
            "namespace",
            "title",
            "comment",
            "parsedcomment",
            "timestamp",
            "user",
            "bot",
            "minor",
            "patrolled",
            "length",
            "revision",
            "wiki",
            "log_type",
            "log_action",
            "domain",
            "uri",
            "old",
            "new",
            "dt",
            "server_url",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{0,6}",
    ]
}

/// An event-shaped object, with some whitespace between tokens.
fn event() -> impl Strategy<Value = String> {
    let member = (
        key(),
        value(),
        prop::sample::select(vec!["", " ", "\n", "\t "]),
    );
    prop::collection::vec(member, 0..12).prop_map(|members| {
        let members: Vec<String> = members
            .into_iter()
            .map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}{ws}"))
            .collect();
        format!("{{{}}}", members.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_scanner_accepts_and_reads_what_serde_json_does(json in event()) {
        prop_assert!(agree(&json), "{}: {:?}", json, both(&json));
    }

    #[test]
    fn damaged_events_are_decided_as_serde_json_decides_them(
        json in event(),
        cut in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"{}[]:,\"\\ 0-.etnx".to_vec()),
        replace in any::<bool>(),
    ) {
        let mut bytes = json.into_bytes();
        let at = cut.index(bytes.len() + 1);
        if replace && at < bytes.len() {
            bytes[at] = byte;
        } else {
            bytes.truncate(at);
        }
        // A replaced byte may split a character: such lines never reach a reader.
        if let Ok(damaged) = String::from_utf8(bytes) {
            prop_assert!(agree(&damaged), "{}: {:?}", damaged, both(&damaged));
        }
    }
}
