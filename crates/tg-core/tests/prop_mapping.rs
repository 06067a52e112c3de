//! Property tests for the field-mapping engine (`tg_core::mapping`): arbitrary specs and
//! values never panic, whatever it produces is a valid payload, and every refusal names
//! the payload path (and the source field where there is one).

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use tg_core::api::{OpKind, Operation};
use tg_core::mapping::{FieldSpec, Mapper, Transform};
use tg_core::Error;

fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

const TARGETS: &[&str] = &[
    "externalId",
    "companyName",
    "partnerType",
    "country",
    "contactEmail",
    "revision",
    "contactName",
    "attributes",
    "attributes.vat",
    "attributes.since",
    "communities",
    "communityId",
    "partnerId",
    "role",
    "title",
    "description",
    "type",
    "references.invoice",
    "audiences.communities",
    "documentId",
    "version",
    "language",
    "sha256",
    "approved",
    "itemId",
    "sku",
    "kind",
    "body",
    "period",
    "figures",
    "figures.x",
];

const SOURCES: &[&str] = &[
    "uuid",
    "mail",
    "field_company",
    "field_type",
    "field_country",
    "changed",
    "created",
    "field_ref.0.target_id",
    "nested.a.b",
    "list.1",
    "missing",
];

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(TARGETS).prop_map(str::to_string),
        1 => "[a-z.]{0,12}",
        1 => "\\PC{0,6}",
        1 => Just(".".to_string()),
        1 => Just("a..b".to_string()),
    ]
}

fn source() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.85,
        prop_oneof![
            4 => prop::sample::select(SOURCES).prop_map(str::to_string),
            1 => "[a-z0-9_.]{0,12}",
            1 => "\\PC{0,6}",
        ],
    )
}

fn date_format() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Y-m-d".to_string()),
        Just("c".to_string()),
        Just("Y-m-d\\TH:i:s".to_string()),
        "[YmdHisxc /:-]{0,10}",
        "\\PC{0,6}",
    ]
}

fn transform() -> impl Strategy<Value = Transform> {
    prop_oneof![
        Just(Transform::Trim),
        Just(Transform::Lowercase),
        Just(Transform::Uppercase),
        Just(Transform::Int),
        Just(Transform::Bool),
        date_format().prop_map(Transform::Date),
        prop::collection::vec(("\\PC{0,8}", json_value()), 0..4).prop_map(Transform::Enum),
    ]
}

/// A spec as PHP gives it: a map from payload path to field spec (targets are unique).
fn specs() -> impl Strategy<Value = Vec<FieldSpec>> {
    prop::collection::btree_map(
        target(),
        (
            source(),
            prop::collection::vec(transform(), 0..3),
            prop::option::of(json_value()),
        ),
        0..8,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(target, (source, transforms, default))| FieldSpec {
                target,
                source,
                transforms,
                default,
            })
            .collect()
    })
}

fn kind() -> impl Strategy<Value = OpKind> {
    prop::sample::select(OpKind::ALL.to_vec())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (-1e16f64..1e16).prop_map(|f| json!(f)),
        "\\PC{0,16}".prop_map(Value::from),
        "[ ]{0,3}[0-9-]{1,22}[ ]{0,3}".prop_map(Value::from),
        "(19|20|99)[0-9]{2}-[01][0-9]-[0-3][0-9](T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|[+-][01][0-9]:00)?)?".prop_map(Value::from),
        prop::sample::select(vec!["true", "yes", "off", "no", "Carrier", "DE", " Acme ", "a@b.example"]).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("value|target_id|[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Entity values: the known source fields, often in Drupal's `[{"value": x}]` shape.
fn values() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        json_value(),
        json_value().prop_map(|v| json!([{"value": v}])),
        json_value().prop_map(|v| json!([{"target_id": v}])),
    ];
    (
        prop::collection::btree_map(
            prop::sample::select(SOURCES).prop_map(str::to_string),
            field,
            0..SOURCES.len(),
        ),
        json_value(),
    )
        .prop_map(|(m, nested)| {
            let mut o: serde_json::Map<String, Value> = m.into_iter().collect();
            o.insert("nested".into(), json!({"a": {"b": nested.clone()}}));
            o.insert("list".into(), json!([1, nested]));
            Value::Object(o)
        })
}

fn check_errors_name_paths(m: &Mapper, err: &Error) -> Result<(), TestCaseError> {
    let Error::Validation { errors } = err else {
        prop_assert!(
            false,
            "the mapper must only give Validation errors, got {err:?}"
        );
        unreachable!()
    };
    prop_assert!(!errors.is_empty());
    for e in errors {
        // Every error names a field; a spec target may legitimately be "" (that is the
        // site builder's typo being reported), anything else must be a real path.
        let is_target = m.fields.iter().any(|f| f.target == e.field);
        prop_assert!(
            is_target || !e.field.is_empty(),
            "an error without a field: {e:?}"
        );
        prop_assert!(!e.message.is_empty());
        // Where a spec with a source produced the error, the message names the source
        // (a bad target path is about the target alone).
        if e.message.starts_with("target path ") {
            prop_assert!(is_target);
            continue;
        }
        if let Some(src) = m
            .fields
            .iter()
            .filter(|f| f.target == e.field)
            .find_map(|f| f.source.as_deref())
        {
            // Several specs may share a target; then any of their sources may be named.
            let named = m
                .fields
                .iter()
                .filter(|f| f.target == e.field)
                .filter_map(|f| f.source.as_deref())
                .any(|s| e.message.ends_with(&format!("(from {s})")));
            prop_assert!(
                named,
                "error on {} does not name its source {src}: {}",
                e.field,
                e.message
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any spec on any values for any operation: no panic; a result is a valid payload; a
    /// refusal is a Validation error whose entries each name a path.
    #[test]
    fn arbitrary_specs_and_values_never_panic(
        k in kind(),
        fields in specs(),
        v in prop_oneof![4 => values(), 1 => json_value()],
    ) {
        let m = Mapper { kind: k, fields };
        match m.apply(&v) {
            Ok(payload) => {
                prop_assert!(payload.is_object());
                prop_assert!(Operation::new(k, payload).is_ok(), "a mapped payload must be valid");
            }
            Err(e) => check_errors_name_paths(&m, &e)?,
        }
    }

    /// A transform that cannot apply is reported on the spec's target, naming the source.
    #[test]
    fn a_failing_transform_names_target_and_source(
        target in prop::sample::select(TARGETS),
        src in prop::sample::select(SOURCES.iter().copied().filter(|s| !s.contains('.')).collect::<Vec<_>>()),
        bad in prop_oneof![
            "[a-zA-Z]{1,10}".prop_map(|s| (Transform::Int, json!(s))),
            "[a-z]{6,10}".prop_map(|s| (Transform::Bool, json!(s))),
            "[a-z]{3,10}".prop_map(|s| (Transform::Date("Y-m-d".into()), json!(s))),
            "[a-z]{3,10}".prop_map(|s| (Transform::Enum(vec![("KNOWN".into(), json!("x"))]), json!(s))),
            Just((Transform::Trim, json!({"an": "object"}))),
            Just((Transform::Date("Y-m-d".into()), json!(1.5))),
            Just((Transform::Date("Y-q-d".into()), json!(0))),
        ],
        k in kind(),
    ) {
        let (t, value) = bad;
        prop_assume!(!(matches!(t, Transform::Bool) && ["true", "yes", "on", "false", "no", "off"].contains(&value.as_str().unwrap_or(""))));
        let m = Mapper { kind: k, fields: vec![FieldSpec {
            target: target.to_string(), source: Some(src.to_string()), transforms: vec![t], default: None,
        }] };
        let e = m.apply(&json!({ src: value })).expect_err("the transform fails");
        let errs = e.field_errors();
        prop_assert_eq!(errs.len(), 1, "{}", e);
        prop_assert_eq!(errs[0].field.as_str(), target);
        let suffix = format!("(from {src})");
        prop_assert!(errs[0].message.ends_with(&suffix), "{}", errs[0].message);
    }

    /// Schema errors on mapped paths name the payload path and the source field.
    #[test]
    fn schema_errors_on_mapped_fields_name_the_source(email in "[a-z]{1,10}", src in "field_[a-z]{1,8}") {
        let m = Mapper { kind: OpKind::PartnerUpsert, fields: vec![
            FieldSpec { target: "externalId".into(), source: None, transforms: vec![], default: Some(json!("p-1")) },
            FieldSpec { target: "companyName".into(), source: None, transforms: vec![], default: Some(json!("Acme")) },
            FieldSpec { target: "partnerType".into(), source: None, transforms: vec![], default: Some(json!("carrier")) },
            FieldSpec { target: "country".into(), source: None, transforms: vec![], default: Some(json!("DE")) },
            FieldSpec { target: "revision".into(), source: None, transforms: vec![], default: Some(json!(1)) },
            FieldSpec { target: "contactEmail".into(), source: Some(src.clone()), transforms: vec![Transform::Trim], default: None },
        ] };
        let e = m.apply(&json!({ src.clone(): email })).expect_err("not an e-mail");
        prop_assert_eq!(e.to_string(), format!("contactEmail: must be an e-mail address (from {src})"));
    }

    /// Date transform: any unix second the calendar can hold comes out as Y-m-d that
    /// the schema accepts (from 1900 on), or as an error — never a panic.
    #[test]
    fn date_transform_of_any_timestamp(secs in any::<i64>(), as_text in any::<bool>()) {
        let v = if as_text { json!(secs.to_string()) } else { json!(secs) };
        let m = Mapper { kind: OpKind::NotificationCreate, fields: vec![
            FieldSpec { target: "communityId".into(), source: None, transforms: vec![], default: Some(json!("c-1")) },
            FieldSpec { target: "kind".into(), source: None, transforms: vec![], default: Some(json!("notice")) },
            FieldSpec { target: "title".into(), source: None, transforms: vec![], default: Some(json!("T")) },
            FieldSpec { target: "body".into(), source: None, transforms: vec![], default: Some(json!("B")) },
            FieldSpec { target: "dueDate".into(), source: Some("d".into()), transforms: vec![Transform::Date("Y-m-d".into())], default: None },
        ] };
        match m.apply(&json!({"d": v})) {
            Ok(p) => {
                let d = p["dueDate"].as_str().expect("a date string");
                prop_assert_eq!(d.len(), 10);
            }
            Err(e) => {
                prop_assert_eq!(e.field_errors()[0].field.as_str(), "dueDate");
                prop_assert!(e.to_string().ends_with("(from d)"), "{}", e);
            }
        }
    }
}

#[test]
fn conflicting_target_paths_are_named() {
    let m = Mapper {
        kind: OpKind::PartnerUpsert,
        fields: vec![
            FieldSpec {
                target: "attributes".into(),
                source: None,
                transforms: vec![],
                default: Some(json!("flat")),
            },
            FieldSpec {
                target: "attributes.vat".into(),
                source: None,
                transforms: vec![],
                default: Some(json!("DE1")),
            },
            FieldSpec {
                target: "a..b".into(),
                source: None,
                transforms: vec![],
                default: Some(json!(1)),
            },
        ],
    };
    let e = m.apply(&json!({})).expect_err("conflict");
    let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, vec!["attributes.vat", "a..b"], "{e}");
    assert!(e.field_errors()[0]
        .message
        .contains("'attributes' is already a value"));
    assert!(e.field_errors()[1].message.contains("empty segment"));
}

#[test]
fn huge_and_hostile_values_do_not_panic() {
    let big = "x".repeat(2 * 1024 * 1024);
    let m = Mapper {
        kind: OpKind::PartnerUpsert,
        fields: vec![FieldSpec {
            target: "companyName".into(),
            source: Some("n".into()),
            transforms: vec![
                Transform::Trim,
                Transform::Uppercase,
                Transform::Enum(vec![(big.clone(), json!(1))]),
            ],
            default: None,
        }],
    };
    let e = m
        .apply(&json!({"n": big}))
        .expect_err("no mapping for the upper-case value");
    assert!(
        e.to_string().len() < 2_000,
        "messages stay short even for huge values"
    );
    // Many enum entries: the message lists a bounded number of them.
    let many: Vec<(String, Value)> = (0..10_000)
        .map(|i| (format!("value-{i}"), json!(i)))
        .collect();
    let m = Mapper {
        kind: OpKind::PartnerUpsert,
        fields: vec![FieldSpec {
            target: "partnerType".into(),
            source: Some("t".into()),
            transforms: vec![Transform::Enum(many)],
            default: None,
        }],
    };
    let e = m.apply(&json!({"t": "nope"})).expect_err("no mapping");
    assert!(e.to_string().len() < 2_000, "{}", e.to_string().len());
    assert!(e.to_string().contains("(9980 more)"), "{e}");
    // Deeply nested values (the PHP layer stops at 64 levels; tg-core must not care).
    let mut v = json!("leaf");
    for _ in 0..100 {
        v = json!({ "a": v });
    }
    let m = Mapper {
        kind: OpKind::PartnerDelete,
        fields: vec![FieldSpec {
            target: "externalId".into(),
            source: Some("a.a.a.a.a.a.a.a.a.a".into()),
            transforms: vec![Transform::Trim],
            default: None,
        }],
    };
    assert!(m.apply(&v).is_err());
}
