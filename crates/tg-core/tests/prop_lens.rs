//! Property tests for Lens transaction search: any search tg-core accepts is written as
//! a GraphQL document the sandbox's parser understands and answers with exactly the
//! transactions the criteria select; arbitrary searches, documents and answers never
//! panic, and refusals name their field. Raise the case count with `PROPTEST_CASES`.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};
use tg_core::lens::{decode_answer, TransactionSearch, RANGE_FIELDS, SEARCH_FIELDS};

fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text a search term may hold: quotes, backslashes, `#`, braces and Unicode included,
/// since they must survive the GraphQL string escaping.
fn term() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9*:-]{1,12}",
        "[ -~]{1,20}".prop_filter("not blank", |s| !s.trim().is_empty()),
        "[a-z]\\PC{0,8}",
        Just("a\"b\\c#{d}".to_string()),
    ]
}

fn timestamp() -> impl Strategy<Value = String> {
    (2020u32..2030, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60)
        .prop_map(|(y, mo, d, h, mi)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00Z"))
}

fn field() -> impl Strategy<Value = &'static str> {
    prop::sample::select(SEARCH_FIELDS)
}

/// A search tg-core must accept, built from every part Lens's query argument has.
fn valid_search() -> impl Strategy<Value = Value> {
    let filter = (
        field(),
        prop::collection::vec((term(), prop::option::of(any::<bool>())), 1..4),
    )
        .prop_map(|(f, values)| {
            let values: Vec<Value> = values
                .into_iter()
                .map(|(v, not)| match not {
                    Some(n) => json!({"value": v, "not": n}),
                    None => json!({"value": v}),
                })
                .collect();
            json!({"field": f, "values": values})
        });
    let field_query = || (field(), term()).prop_map(|(f, q)| json!({"field": f, "query": q}));
    let range = (
        prop::sample::select(RANGE_FIELDS),
        prop::option::of(timestamp()),
        prop::option::of(timestamp()),
    )
        .prop_filter("a bound", |(_, a, b)| a.is_some() || b.is_some())
        .prop_map(|(f, from, to)| {
            let mut r = json!({"field": f});
            if let Some(from) = from {
                r["from"] = json!(from);
            }
            if let Some(to) = to {
                r["to"] = json!(to);
            }
            r
        });
    (
        prop::option::of(1i64..=1000),
        prop::option::of(0i64..=50),
        prop::option::of(prop::collection::vec(filter, 0..3)),
        prop::option::of((
            prop::collection::vec(field_query(), 0..3),
            prop::collection::vec(field_query(), 0..3),
        )),
        prop::option::of(range),
        prop::option::of((field(), prop::bool::ANY)),
        prop::option::of(prop::collection::vec((term(), term()), 0..3)),
        prop::option::of(prop::collection::vec(term(), 1..4)),
    )
        .prop_map(
            |(count, offset, filters, fields, ranges, sort, ck_filters, keys)| {
                let mut s = Map::new();
                if let Some(c) = count {
                    s.insert("count".into(), json!(c));
                }
                if let Some(o) = offset {
                    s.insert("offset".into(), json!(o));
                }
                if let Some(f) = filters {
                    s.insert("filters".into(), json!(f));
                }
                if let Some((must, should)) = fields {
                    s.insert("fields".into(), json!({"must": must, "should": should}));
                }
                if let Some(r) = ranges {
                    s.insert("ranges".into(), r);
                }
                if let Some((f, desc)) = sort {
                    s.insert(
                        "sortby".into(),
                        json!({"field": f, "type": if desc { "DESC" } else { "ASC" }}),
                    );
                }
                if let Some(ck) = ck_filters {
                    let list: Vec<Value> = ck
                        .into_iter()
                        .map(|(k, v)| json!({"key": k, "value": v}))
                        .collect();
                    s.insert("contentKeyFilters".into(), json!(list));
                }
                if let Some(k) = keys {
                    s.insert("contentKeys".into(), json!(k));
                }
                Value::Object(s)
            },
        )
}

/// Transactions for the sandbox to search, with fields the criteria look at.
fn transactions() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(
        (
            prop::sample::select(&["850", "856", "810", "997"][..]),
            prop::sample::select(&["S", "F", "V", "H"][..]),
            timestamp(),
            term(),
            term(),
        ),
        0..12,
    )
    .prop_map(|list| {
        list.into_iter()
            .enumerate()
            .map(|(i, (edi, status, at, sender, po))| {
                let given = json!({"editype": edi, "status": status, "arrivaltime": at,
                    "senderaddress": sender, "contentkeys": {"purchase order number": po}});
                tg_sandbox::lens::transaction(&given, format!("LT{i}"), at.clone())
                    .expect("valid transaction")
            })
            .collect()
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(SEARCH_FIELDS).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let key = prop_oneof![
            prop::sample::select(
                &[
                    "count",
                    "offset",
                    "filters",
                    "fields",
                    "ranges",
                    "sortby",
                    "field",
                    "values",
                    "value",
                    "not",
                    "from",
                    "to",
                    "type",
                    "must",
                    "should",
                    "query",
                    "contentKeyFilters",
                    "contentKeys",
                    "key",
                    "data",
                    "getTransactions",
                    "errors",
                    "message",
                ][..]
            )
            .prop_map(str::to_string),
            "\\PC{0,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    /// What the client writes, the sandbox reads back: every accepted search becomes a
    /// document the sandbox parses and answers (or, for free text alone, refuses by
    /// name), and the page holds no more than `count` of the `total` it reports.
    #[test]
    fn every_accepted_search_is_understood_by_the_sandbox(search in valid_search(), txs in transactions()) {
        let accepted = TransactionSearch::new(search.clone()).expect("a valid search");
        let doc = accepted.document();
        let parsed = tg_sandbox::lens::parse(&doc).expect("the sandbox parses what tg-core writes");
        match tg_sandbox::lens::search(&txs, &parsed) {
            Ok(answer) => {
                let page = decode_answer(&answer).expect("a page");
                let count = search.get("count").and_then(Value::as_u64).unwrap_or(10) as usize;
                let got = page["transactions"].as_array().map_or(0, Vec::len);
                prop_assert!(got <= count);
                prop_assert!(page["total"].as_u64().unwrap_or(0) as usize <= txs.len());
                prop_assert_eq!(page["count"].as_u64(), Some(got as u64));
            }
            Err(e) => prop_assert!(search.get("query").is_some(), "refused: {}", e.0),
        }
    }

    /// Strings survive the GraphQL escaping exactly: a content key filter on a value
    /// finds the transaction holding that value (wildcards aside).
    #[test]
    fn filter_values_survive_escaping(po in "[ -~]{1,16}".prop_filter("no wildcard, not blank", |s| !s.contains('*') && !s.trim().is_empty())) {
        let tx = tg_sandbox::lens::transaction(
            &json!({"status": "F", "contentkeys": {"purchase order number": po.clone()}}),
            "LT1".into(),
            "2026-11-01T00:00:00Z".into(),
        ).expect("valid");
        let search = TransactionSearch::new(json!({"contentKeyFilters": [{"key": "purchase order number", "value": po}]})).expect("valid");
        let parsed = tg_sandbox::lens::parse(&search.document()).expect("parses");
        let page = decode_answer(&tg_sandbox::lens::search(&[tx], &parsed).expect("answers")).expect("page");
        prop_assert_eq!(page["total"].as_u64(), Some(1));
    }

    /// Arbitrary searches never panic; a refusal names at least one field.
    #[test]
    fn arbitrary_searches_never_panic_and_refusals_name_fields(v in any_json()) {
        if let Err(e) = TransactionSearch::new(v) {
            prop_assert!(!e.field_errors().is_empty() || !e.to_string().is_empty());
        }
    }

    /// Arbitrary text as a GraphQL document, and arbitrary JSON as Lens's answer, never
    /// panic: the sandbox and the client answer with an error instead.
    #[test]
    fn arbitrary_documents_and_answers_never_panic(doc in "\\PC{0,200}", answer in any_json()) {
        if let Ok(q) = tg_sandbox::lens::parse(&doc) {
            let _ = tg_sandbox::lens::search(&[], &q);
        }
        let _ = decode_answer(&answer);
    }

    /// Documents made of GraphQL's own tokens, in any order, never panic either.
    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(&[
        "query", "{", "}", "(", ")", "[", "]", ":", ",", "getTransactions", "transactions",
        "count", "\"x\"", "\"", "\\", "$v", "12", "-", "1e9", "#c\n", "true", "null", "contentkeys",
    ][..]), 0..60)) {
        let doc = tokens.join(" ");
        if let Ok(q) = tg_sandbox::lens::parse(&doc) {
            let _ = tg_sandbox::lens::search(&[], &q);
        }
    }
}
