//! Property tests for payload validation of every operation (`Operation::new`): arbitrary
//! JSON never panics and is reported by path; generated valid payloads pass and turn into
//! requests. Raise the case count with `PROPTEST_CASES`.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};
use tg_core::api::{Method, OpKind, Operation};
use tg_core::Error;

fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------- generators of valid field values ----------

fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._:-]{1,40}",
        "[A-Za-z0-9._:-]{128}",
        "[.]{3,6}",
        Just("drupal-user-42".to_string()),
    ]
    .prop_filter("dot segments are not identifiers", |s| {
        s != "." && s != ".."
    })
}

/// 1..=max characters, not blank (any Unicode after the first letter).
fn text(max: usize) -> impl Strategy<Value = String> {
    let tail = max.min(80) - 1;
    prop_oneof![
        3 => proptest::string::string_regex(&format!("[A-Za-z][ -~]{{0,{tail}}}")).expect("regex"),
        1 => proptest::string::string_regex(&format!("[A-Za-z]\\PC{{0,{}}}", tail.min(20))).expect("regex"),
    ]
}

fn opt_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{0,{}}}", max.min(60))).expect("regex")
}

fn email() -> impl Strategy<Value = String> {
    "[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,10}){0,2}\\.[a-z]{2,6}"
}

fn country() -> impl Strategy<Value = String> {
    "[A-Z]{2}"
}

fn language() -> impl Strategy<Value = String> {
    "[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}"
}

fn date() -> impl Strategy<Value = String> {
    (1900u32..2200, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn sha256() -> impl Strategy<Value = String> {
    "[0-9a-fA-F]{64}"
}

fn trading_address() -> impl Strategy<Value = String> {
    "[A-Z0-9]{1,4}:[A-Z0-9]{1,35}"
}

fn revision() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..1_000_000, Just(i64::MAX), Just(0)]
}

fn one_of(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(list).prop_map(str::to_string)
}

fn attributes() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-z_]{1,10}", scalar(), 0..8)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,20}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn idents(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(ident(), 0..max.min(6))
}

const PARTNER_TYPES: &[&str] = &[
    "supplier",
    "distributor",
    "carrier",
    "customer",
    "service_provider",
];
const ISSUE_TYPES: &[&str] = &[
    "shipment_discrepancy",
    "invoice_dispute",
    "missing_documentation",
    "other",
];
const ISSUE_STATUSES: &[&str] = &[
    "open",
    "in_progress",
    "awaiting_partner",
    "resolved",
    "closed",
];

/// Audiences with at least one community or partner type.
fn audiences() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(ident(), 0..4),
        prop::collection::vec(one_of(PARTNER_TYPES), 0..3),
    )
        .prop_filter_map("an audience is required", |(c, t)| {
            if c.is_empty() && t.is_empty() {
                None
            } else {
                Some(json!({"communities": c, "partnerTypes": t}))
            }
        })
}

/// Inserts optional members with a coin flip each.
fn maybe(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v);
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn valid_payload(kind: OpKind) -> BoxedStrategy<Value> {
    match kind {
        OpKind::PartnerUpsert => (
            (
                ident(),
                text(200),
                one_of(PARTNER_TYPES),
                country(),
                email(),
                revision(),
            ),
            (
                prop::option::of(text(200)),
                prop::option::of(trading_address()),
                prop::option::of(idents(50)),
                prop::option::of(attributes()),
            ),
        )
            .prop_map(|((id, name, ty, c, mail, rev), (cn, ta, comm, attrs))| {
                let mut m = obj(
                    json!({"externalId": id, "companyName": name, "partnerType": ty,
                    "country": c, "contactEmail": mail, "revision": rev}),
                );
                maybe(&mut m, "contactName", cn.map(Value::from));
                maybe(&mut m, "tradingAddress", ta.map(Value::from));
                maybe(&mut m, "communities", comm.map(|c| json!(c)));
                maybe(&mut m, "attributes", attrs);
                Value::Object(m)
            })
            .boxed(),
        OpKind::PartnerDelete => ident().prop_map(|id| json!({"externalId": id})).boxed(),
        OpKind::MembershipSet => (
            ident(),
            ident(),
            prop::option::of(one_of(&["member", "admin", "observer"])),
        )
            .prop_map(|(c, p, r)| {
                let mut m = obj(json!({"communityId": c, "partnerId": p}));
                maybe(&mut m, "role", r.map(Value::from));
                Value::Object(m)
            })
            .boxed(),
        OpKind::AccessRequestCreate => (
            ident(),
            prop::option::of(ident()),
            prop::option::of(ident()),
            prop::option::of(opt_text(2000)),
        )
            .prop_filter("a partner is required", |(_, p, e, _)| {
                p.is_some() || e.is_some()
            })
            .prop_map(|(c, p, e, reason)| {
                let mut m = obj(json!({"communityId": c}));
                maybe(&mut m, "partnerId", p.map(Value::from));
                maybe(&mut m, "externalId", e.map(Value::from));
                maybe(&mut m, "reason", reason.map(Value::from));
                Value::Object(m)
            })
            .boxed(),
        OpKind::IssueCreate => (
            (ident(), one_of(ISSUE_TYPES), text(200), text(20_000)),
            (
                ident(),
                any::<bool>(),
                prop::option::of(one_of(&["low", "normal", "high", "urgent"])),
            ),
            (text(64), text(64), text(64), prop::option::of(date())),
            prop::collection::vec(
                (
                    text(255),
                    sha256(),
                    prop::option::of(0i64..=(1 << 40)),
                    prop::option::of(text(127)),
                ),
                0..3,
            ),
        )
            .prop_map(
                |((id, ty, title, desc), (partner, by_id, prio), (po, inv, ship, due), atts)| {
                    let mut m = obj(
                        json!({"externalId": id, "type": ty, "title": title, "description": desc}),
                    );
                    m.insert(
                        if by_id {
                            "partnerId"
                        } else {
                            "partnerExternalId"
                        }
                        .into(),
                        json!(partner),
                    );
                    maybe(&mut m, "priority", prio.map(Value::from));
                    m.insert(
                        "references".into(),
                        json!({"purchaseOrder": po, "invoice": inv, "shipment": ship}),
                    );
                    maybe(&mut m, "dueDate", due.map(Value::from));
                    let atts: Vec<Value> = atts
                        .into_iter()
                        .map(|(n, h, size, ct)| {
                            let mut a = obj(json!({"name": n, "sha256": h}));
                            maybe(&mut a, "size", size.map(Value::from));
                            maybe(&mut a, "contentType", ct.map(Value::from));
                            Value::Object(a)
                        })
                        .collect();
                    if !atts.is_empty() {
                        m.insert("attachments".into(), Value::Array(atts));
                    }
                    Value::Object(m)
                },
            )
            .boxed(),
        OpKind::IssueComment => (ident(), prop::option::of(ident()), text(200), text(20_000))
            .prop_map(|(issue, ext, author, body)| {
                let mut m = obj(json!({"issueId": issue, "author": author, "body": body}));
                maybe(&mut m, "externalId", ext.map(Value::from));
                Value::Object(m)
            })
            .boxed(),
        OpKind::IssueStatus => (
            ident(),
            one_of(ISSUE_STATUSES),
            prop::option::of(text(20_000)),
        )
            .prop_map(|(issue, status, res)| {
                let res = if status == "resolved" {
                    Some(res.unwrap_or_else(|| "Fixed".into()))
                } else {
                    res
                };
                let mut m = obj(json!({"issueId": issue, "status": status}));
                maybe(&mut m, "resolution", res.map(Value::from));
                Value::Object(m)
            })
            .boxed(),
        OpKind::DocumentPublish => (
            (
                ident(),
                1i64..=i64::MAX,
                text(200),
                language(),
                audiences(),
                sha256(),
            ),
            (
                prop::option::of(0i64..=(1 << 40)),
                prop::option::of(date()),
                prop::option::of(revision()),
                prop::collection::vec((language(), text(200), prop::option::of(sha256())), 0..3),
            ),
        )
            .prop_map(|((id, v, title, lang, aud, h), (size, eff, rev, tr))| {
                let mut m = obj(
                    json!({"documentId": id, "version": v, "title": title, "language": lang,
                    "audiences": aud, "sha256": h, "approved": true}),
                );
                maybe(&mut m, "size", size.map(Value::from));
                maybe(&mut m, "effectiveDate", eff.map(Value::from));
                maybe(&mut m, "revision", rev.map(Value::from));
                if !tr.is_empty() {
                    let tr: Vec<Value> = tr
                        .into_iter()
                        .map(|(l, t, h)| {
                            let mut a = obj(json!({"language": l, "title": t}));
                            maybe(&mut a, "sha256", h.map(Value::from));
                            Value::Object(a)
                        })
                        .collect();
                    m.insert("translations".into(), Value::Array(tr));
                }
                Value::Object(m)
            })
            .boxed(),
        OpKind::DocumentRetract => (ident(), prop::option::of(opt_text(2000)))
            .prop_map(|(id, reason)| {
                let mut m = obj(json!({"documentId": id}));
                maybe(&mut m, "reason", reason.map(Value::from));
                Value::Object(m)
            })
            .boxed(),
        OpKind::OnboardingStep => (
            ident(),
            ident(),
            one_of(&["completed", "in_progress"]),
            prop::option::of(text(40)),
            prop::option::of(opt_text(2000)),
        )
            .prop_map(|(e, s, st, at, ev)| {
                let mut m = obj(json!({"externalId": e, "stepId": s, "status": st}));
                maybe(&mut m, "completedAt", at.map(Value::from));
                maybe(&mut m, "evidence", ev.map(Value::from));
                Value::Object(m)
            })
            .boxed(),
        OpKind::CatalogUpsert => (
            (
                ident(),
                text(64),
                text(200),
                one_of(&["specification", "packaging", "pricing_notice", "launch"]),
            ),
            (
                audiences(),
                revision(),
                prop::option::of(opt_text(20_000)),
                prop::option::of(date()),
                prop::option::of(attributes()),
            ),
        )
            .prop_map(|((id, sku, title, kind), (aud, rev, desc, eff, attrs))| {
                let mut m = obj(
                    json!({"itemId": id, "sku": sku, "title": title, "kind": kind,
                    "audiences": aud, "revision": rev}),
                );
                maybe(&mut m, "description", desc.map(Value::from));
                maybe(&mut m, "effectiveDate", eff.map(Value::from));
                maybe(&mut m, "attributes", attrs);
                Value::Object(m)
            })
            .boxed(),
        OpKind::CatalogWithdraw => ident().prop_map(|id| json!({"itemId": id})).boxed(),
        OpKind::NotificationCreate => (
            ident(),
            one_of(&["notice", "task"]),
            text(200),
            text(20_000),
            prop::option::of(date()),
        )
            .prop_map(|(c, k, t, b, due)| {
                let mut m = obj(json!({"communityId": c, "kind": k, "title": t, "body": b}));
                maybe(&mut m, "dueDate", due.map(Value::from));
                Value::Object(m)
            })
            .boxed(),
        OpKind::MetricsPortal => ("[0-9A-Za-z-]{4,10}", attributes())
            .prop_map(|(p, f)| json!({"period": p, "figures": f}))
            .boxed(),
        OpKind::CompanyUserCreate => (ident(), network_user())
            .prop_map(|(c, u)| json!({"companyId": c, "user": u}))
            .boxed(),
        OpKind::CompanyUserUpdate => (ident(), ident(), user_changes())
            .prop_map(|(c, u, ch)| json!({"companyId": c, "userId": u, "changes": ch}))
            .boxed(),
        OpKind::CompanyUserDelete => (ident(), ident())
            .prop_map(|(c, u)| json!({"companyId": c, "userId": u}))
            .boxed(),
        OpKind::CompanyUserRoles => (
            ident(),
            login_id(),
            one_of(&["add", "remove"]),
            prop::collection::vec(text(100), 1..5),
        )
            .prop_map(|(c, l, a, names)| {
                let roles: Vec<Value> = names.into_iter().map(|n| json!({"roleName": n})).collect();
                json!({"companyId": c, "loginId": l, "action": a, "roles": roles})
            })
            .boxed(),
    }
}

/// A login id: often an e-mail address, any text without white space, control
/// characters or `/` (it becomes a URL path segment, percent-encoded where needed).
fn login_id() -> impl Strategy<Value = String> {
    prop_oneof![
        email(),
        "[!-.0-~]{1,40}",
        "[a-z]{1,8}\\pL{1,4}",
        "[!-.0-~]{128}",
    ]
    .prop_filter("dot segments are not login ids", |s| s != "." && s != "..")
}

fn yes_no() -> impl Strategy<Value = String> {
    one_of(&["Yes", "No"])
}

/// The documented "Create User" body, with a coin flip for each optional member.
fn network_user() -> impl Strategy<Value = Value> {
    (
        (login_id(), text(200), text(200), email()),
        (
            prop::option::of(opt_text(40)),
            prop::option::of((opt_text(200), opt_text(100), opt_text(20), country())),
            prop::option::of(language()),
            prop::option::of("[A-Za-z]{1,20}/[A-Za-z_]{1,20}"),
            prop::option::of(yes_no()),
            prop::option::of("[ -~]{8,40}"),
        ),
    )
        .prop_map(|((login, first, last, mail), (phone, address, lang, tz, consent, password))| {
            let mut contact = obj(json!({"email": mail}));
            maybe(&mut contact, "phoneNumber", phone.map(Value::from));
            let mut m = obj(json!({"loginId": login, "firstName": first, "lastName": last,
                "type": "Web", "contactInformation": contact}));
            maybe(&mut m, "address", address.map(|(line, city, postal, cc)| {
                json!({"addressLine1": line, "addressLine2": "", "city": city, "postalCode": postal, "countryCode": cc})
            }));
            maybe(&mut m, "preferredLanguage", lang.map(Value::from));
            maybe(&mut m, "preferredTimezone", tz.map(Value::from));
            maybe(&mut m, "isConsentClause", consent.map(Value::from));
            maybe(&mut m, "loginPassword", password.map(Value::from));
            Value::Object(m)
        })
}

/// A partial update: a non-empty subset of a user's members, and a contact change
/// without the e-mail address.
fn user_changes() -> impl Strategy<Value = Value> {
    (network_user(), any::<u16>(), any::<bool>()).prop_map(|(user, mask, drop_mail)| {
        let mut all = obj(user);
        if drop_mail {
            if let Some(Value::Object(c)) = all.get_mut("contactInformation") {
                c.remove("email");
                c.insert("mobile".into(), json!("+49 40 1234"));
            }
        }
        let keys: Vec<String> = all.keys().cloned().collect();
        let mut picked = Map::new();
        for (i, k) in keys.iter().enumerate() {
            if mask & (1 << (i % 16)) != 0 {
                picked.insert(k.clone(), all[k].clone());
            }
        }
        if picked.is_empty() {
            picked.insert("firstName".into(), all["firstName"].clone());
        }
        Value::Object(picked)
    })
}

/// The required top-level members of each operation (removing one must be reported by name).
fn required(kind: OpKind) -> &'static [&'static str] {
    match kind {
        OpKind::PartnerUpsert => &[
            "externalId",
            "companyName",
            "partnerType",
            "country",
            "contactEmail",
            "revision",
        ],
        OpKind::PartnerDelete => &["externalId"],
        OpKind::MembershipSet => &["communityId", "partnerId"],
        OpKind::AccessRequestCreate => &["communityId"],
        OpKind::IssueCreate => &["externalId", "type", "title", "description"],
        OpKind::IssueComment => &["issueId", "author", "body"],
        OpKind::IssueStatus => &["issueId", "status"],
        OpKind::DocumentPublish => &[
            "documentId",
            "version",
            "title",
            "language",
            "audiences",
            "sha256",
            "approved",
        ],
        OpKind::DocumentRetract => &["documentId"],
        OpKind::OnboardingStep => &["externalId", "stepId", "status"],
        OpKind::CatalogUpsert => &["itemId", "sku", "title", "kind", "audiences", "revision"],
        OpKind::CatalogWithdraw => &["itemId"],
        OpKind::NotificationCreate => &["communityId", "kind", "title", "body"],
        OpKind::MetricsPortal => &["period", "figures"],
        OpKind::CompanyUserCreate => &["companyId", "user"],
        OpKind::CompanyUserUpdate => &["companyId", "userId", "changes"],
        OpKind::CompanyUserDelete => &["companyId", "userId"],
        OpKind::CompanyUserRoles => &["companyId", "loginId", "action", "roles"],
    }
}

fn kind() -> impl Strategy<Value = OpKind> {
    prop::sample::select(OpKind::ALL.to_vec())
}

fn kind_and_valid() -> impl Strategy<Value = (OpKind, Value)> {
    kind().prop_flat_map(|k| valid_payload(k).prop_map(move |p| (k, p)))
}

/// Any JSON, with keys that are often real field names so deep paths get exercised.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,16}".prop_map(Value::from),
        "[0-9a-f]{64}".prop_map(Value::from),
        date().prop_map(Value::from),
        Just(Value::from("")),
        Just(Value::from("   ")),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "externalId", "companyName", "partnerType", "country", "contactEmail", "revision",
            "attributes", "communities", "partnerTypes", "audiences", "references", "invoice",
            "shipment", "purchaseOrder", "attachments", "translations", "sha256", "approved",
            "version", "documentId", "type", "title", "description", "status", "resolution",
            "issueId", "period", "figures", "itemId", "kind", "language", "name", "size",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ]
}

fn assert_well_formed(err: &Error) -> Result<(), TestCaseError> {
    match err {
        Error::Validation { errors } => {
            prop_assert!(
                !errors.is_empty(),
                "a validation error without field errors"
            );
            for e in errors {
                prop_assert!(!e.field.is_empty(), "an error without a field: {e:?}");
                prop_assert!(!e.message.is_empty(), "an error without a message: {e:?}");
            }
            // The Display form names the first field.
            let first = &errors[0].field;
            prop_assert!(err.to_string().starts_with(first.as_str()));
            Ok(())
        }
        other => {
            prop_assert!(
                false,
                "validation must only give Validation errors, got {other:?}"
            );
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary JSON against every operation: never a panic, always field-named errors.
    #[test]
    fn arbitrary_json_never_panics_and_errors_name_fields(k in kind(), v in json_value()) {
        match Operation::new(k, v) {
            Ok(op) => {
                let _ = op.request();
                let _ = op.ordering_key();
            }
            Err(e) => assert_well_formed(&e)?,
        }
    }

    /// Generated valid payloads pass, and become a request whose path stays inside the API.
    #[test]
    fn valid_generated_payloads_pass((k, p) in kind_and_valid()) {
        let op = match Operation::new(k, p.clone()) {
            Ok(op) => op,
            Err(e) => { prop_assert!(false, "{} refused a valid payload: {e} ({:?})\n{p}", k.name(), e.field_errors()); unreachable!() }
        };
        let r = op.request();
        prop_assert!(r.path.starts_with("/tgx/v1/") || r.path.starts_with("/TGCommunityServices/v1/companies/"), "{}", r.path);
        // No segment that a URL parser would resolve away (path traversal).
        prop_assert!(r.path.split('/').all(|seg| seg != "." && seg != ".."), "{}", r.path);
        let url = reqwest::Url::parse(&format!("https://tg.example{}", r.path)).expect("url");
        prop_assert_eq!(url.path(), r.path.as_str(), "the URL parser must not rewrite the path");
        prop_assert!(r.path.bytes().all(|b| b.is_ascii_graphic()), "{}", r.path);
        prop_assert_eq!(r.method, k.method());
        if r.method == Method::Delete {
            prop_assert!(r.body.is_none());
        }
        let key = op.ordering_key();
        // "<entity>:<id>" with a non-empty id (or the single metrics stream).
        prop_assert!(key == "metrics" || key.split_once(':').is_some_and(|(e, id)| !e.is_empty() && !id.is_empty()), "{}", key);
        // Operation::parse by name agrees with Operation::new.
        prop_assert!(Operation::parse(k.name(), p).is_ok());
    }

    /// An unknown member is refused by its name; validation never silently drops it.
    #[test]
    fn an_unknown_member_is_named((k, p) in kind_and_valid(), extra in "[a-zA-Z_]{1,12}", v in json_value()) {
        prop_assume!(p.get(&extra).is_none() && !required(k).contains(&extra.as_str()));
        let mut p = p;
        p[extra.as_str()] = v;
        let known = Operation::new(k, p.clone());
        // The extra key may happen to be an optional member; then only its value matters.
        if let Err(e) = known {
            assert_well_formed(&e)?;
        }
        let mut p2 = p.clone();
        let odd = format!("{extra}__unknown");
        p2[odd.as_str()] = json!(1);
        let e = Operation::new(k, p2).expect_err("unknown member refused");
        prop_assert!(e.field_errors().iter().any(|f| f.field == odd && f.message == "is not a known field"), "{e}");
    }

    /// Removing (or nulling) a required member is reported with that member's name.
    #[test]
    fn a_missing_required_member_is_named((k, p) in kind_and_valid(), which in any::<prop::sample::Index>(), null in any::<bool>()) {
        let req = required(k);
        let name = req[which.index(req.len())];
        let mut p = p;
        if null {
            p[name] = Value::Null;
        } else {
            p.as_object_mut().expect("object").remove(name);
        }
        let e = Operation::new(k, p).expect_err("missing member refused");
        prop_assert!(e.field_errors().iter().any(|f| f.field == name && f.message == "is required"), "{name}: {e}");
    }

    /// Replacing any one member of a valid payload with arbitrary JSON never panics, and a
    /// refusal names that member (or a path below it, or a cross-field rule about it).
    #[test]
    fn replacing_a_member_with_arbitrary_json_is_reported_there(
        (k, p) in kind_and_valid(), which in any::<prop::sample::Index>(), v in json_value(),
    ) {
        let keys: Vec<String> = p.as_object().expect("object").keys().cloned().collect();
        let name = &keys[which.index(keys.len())];
        let mut p = p;
        p[name.as_str()] = v;
        if let Err(e) = Operation::new(k, p) {
            assert_well_formed(&e)?;
            let cross = ["externalId", "partnerExternalId", "references.invoice", "references.shipment", "resolution", "approved", "audiences", "roles"];
            for f in e.field_errors() {
                let here = f.field == *name
                    || f.field.starts_with(&format!("{name}."))
                    || f.field.starts_with(&format!("{name}["));
                prop_assert!(here || cross.contains(&f.field.as_str()), "changed {name}, error on {}: {}", f.field, f.message);
            }
        }
    }

    /// Non-object payloads are refused as a whole.
    #[test]
    fn a_payload_that_is_not_an_object_is_refused(
        k in kind(),
        v in json_value().prop_map(|v| if v.is_object() { Value::Array(vec![v]) } else { v }),
    ) {
        let e = Operation::new(k, v).expect_err("refused");
        prop_assert_eq!(e.field_errors()[0].field.as_str(), "(payload)");
    }
}

#[test]
fn unknown_operation_names_are_refused_by_name() {
    for name in [
        "",
        "partner",
        "partner.upsert ",
        "PARTNER.UPSERT",
        "partner.upsert\0",
        &"x".repeat(10_000),
    ] {
        let e = Operation::parse(name, json!({})).expect_err("unknown");
        assert_eq!(e.field_errors()[0].field, "op");
        // The echoed name is truncated, so a huge name never makes a huge message.
        assert!(e.to_string().len() < 1_000, "{}", e.to_string().len());
    }
}

#[test]
fn length_limits_hold_exactly_at_the_boundaries() {
    let base = json!({"externalId": "p-1", "companyName": "x", "partnerType": "carrier",
        "country": "DE", "contactEmail": "a@b.example", "revision": 0});
    let with = |k: &str, v: Value| {
        let mut p = base.clone();
        p[k] = v;
        Operation::new(OpKind::PartnerUpsert, p)
    };
    assert!(
        with("companyName", json!("é".repeat(200))).is_ok(),
        "200 characters (not bytes) fit"
    );
    assert!(with("companyName", json!("é".repeat(201))).is_err());
    assert!(with("externalId", json!("a".repeat(128))).is_ok());
    assert!(with("externalId", json!("a".repeat(129))).is_err());
    assert!(with("revision", json!(-1)).is_err());
    assert!(with("revision", json!(u64::MAX)).is_err());
    assert!(with("revision", json!(1.5)).is_err());
    assert!(with("companyName", json!("   ")).is_err());
    assert!(with(
        "contactEmail",
        json!(format!("{}@b.example", "a".repeat(250)))
    )
    .is_err());
}

/// Found by `valid_generated_payloads_pass`: "." and ".." were valid identifiers, and an
/// identifier becomes a URL path segment that the URL parser resolves, so
/// `partner.delete {"externalId": ".."}` went out as `DELETE /tgx/v1/`, and
/// `membership.set` with `partnerId: ".."` as `PUT /tgx/v1/communities/{id}`.
#[test]
fn dot_segment_identifiers_are_refused_so_no_request_leaves_its_path() {
    let url = reqwest::Url::parse("https://tg.example/tgx/v1/partners/..").expect("url");
    assert_eq!(
        url.path(),
        "/tgx/v1/",
        "what the URL parser makes of a dot segment"
    );
    let url = reqwest::Url::parse("https://tg.example/tgx/v1/partners/%2e%2E").expect("url");
    assert_eq!(
        url.path(),
        "/tgx/v1/",
        "escaping does not help: %2e is a dot too"
    );
    for bad in [".", ".."] {
        for (op, payload) in [
            ("partner.delete", json!({"externalId": bad})),
            ("catalog.withdraw", json!({"itemId": bad})),
            ("document.retract", json!({"documentId": bad})),
            (
                "membership.set",
                json!({"communityId": "c-1", "partnerId": bad}),
            ),
            (
                "issue.comment",
                json!({"issueId": bad, "author": "A", "body": "B"}),
            ),
            (
                "company_user.roles",
                json!({"companyId": "GC1", "loginId": bad, "action": "add", "roles": [{"roleName": "R"}]}),
            ),
            (
                "company_user.delete",
                json!({"companyId": "GC1", "userId": bad}),
            ),
        ] {
            let e = Operation::parse(op, payload).expect_err("dot segment refused");
            assert!(e.to_string().contains("must not be . or .."), "{op}: {e}");
        }
    }
    // Dots inside an identifier stay fine.
    assert!(Operation::parse("partner.delete", json!({"externalId": "..."})).is_ok());
    assert!(Operation::parse("partner.delete", json!({"externalId": "a..b"})).is_ok());
}
