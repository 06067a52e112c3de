//! Property tests for webhook signing and verification (`tg_core::webhook`).
//!
//! The default case count (256 per property) keeps `cargo test` fast; raise it with
//! `PROPTEST_CASES=100000 cargo test -p tg-core --test prop_webhook`.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use tg_core::webhook::{decode_events, sign, verify, MAX_BODY};
use tg_core::SignatureError;

fn config() -> Config {
    Config {
        // Regressions are reported in the failure message; no files are written.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Pieces a header is made of, so random headers often look almost right.
fn header_part() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|t| format!("t={t}")),
        "[0-9]{0,25}".prop_map(|t| format!("t={t}")),
        "[0-9a-fA-F]{0,80}".prop_map(|s| format!("v1={s}")),
        "[0-9a-f]{64}".prop_map(|s| format!("v1={s}")),
        "[a-z0-9]{0,4}=[ -~]{0,20}".prop_map(|s| s),
        "[ -~]{0,30}",
        "\\PC{0,10}",
        Just(String::new()),
        Just("=".to_string()),
        Just("t=".to_string()),
        Just("v1=".to_string()),
        Just("t==1".to_string()),
        Just(" t = 1 ".to_string()),
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(header_part(), 0..6).prop_map(|p| p.join(",")),
        any::<String>(),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    (
        "[A-Za-z0-9_]{1,20}",
        "[a-z_]{1,12}\\.[a-z_]{1,12}",
        prop::collection::btree_map("[a-z]{1,6}", "[ -~]{0,12}", 0..4),
    )
        .prop_map(|(id, ty, data)| json!({"id": id, "type": ty, "data": data}))
}

fn events_body() -> impl Strategy<Value = (Vec<Value>, Vec<u8>)> {
    prop::collection::vec(event(), 0..5).prop_map(|events| {
        let body = serde_json::to_vec(&json!({ "events": events })).expect("encodes");
        (events, body)
    })
}

fn secret() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{1,64}", "\\PC{1,16}"]
}

/// What the verdict on the timestamp must be, computed without overflow. A tolerance of
/// i64::MAX means "any timestamp" (the distance saturates at i64::MAX).
fn expected_time_verdict(ts: i64, now: i64, tolerance: i64) -> Option<&'static str> {
    if tolerance == i64::MAX {
        return None;
    }
    let tol = i128::from(tolerance.max(0));
    let (ts, now) = (i128::from(ts), i128::from(now));
    if now - ts > tol {
        Some("stale")
    } else if ts - now > tol {
        Some("future")
    } else {
        None
    }
}

proptest! {
    #![proptest_config(config())]

    /// Nothing a sender can put in the header or the body makes verify panic.
    #[test]
    fn arbitrary_headers_and_bodies_never_panic(
        h in header(),
        body in prop::collection::vec(any::<u8>(), 0..512),
        secret in "[ -~]{0,20}",
        tolerance in any::<i64>(),
        now in any::<i64>(),
    ) {
        let r = verify(&body, Some(&h), &secret, tolerance, now);
        if secret.is_empty() {
            prop_assert_eq!(r, Err(SignatureError::EmptySecret));
        } else {
            // Without the secret nobody can forge a signature.
            prop_assert!(r.is_err(), "a random header verified: {h:?}");
        }
        let _ = verify(&body, None, &secret, tolerance, now);
    }

    /// A signed delivery verifies and decodes to exactly the events that were signed.
    #[test]
    fn sign_then_verify_roundtrips(
        (events, body) in events_body(),
        secret in secret(),
        ts in -10_000_000_000i64..10_000_000_000,
        skew in -300i64..=300,
    ) {
        let h = sign(&body, &secret, ts).expect("signs");
        let prefix = format!("t={ts},v1=");
        prop_assert!(h.starts_with(&prefix), "{}", h);
        let got = verify(&body, Some(&h), &secret, 300, ts + skew).expect("verifies");
        prop_assert_eq!(got, events);
    }

    /// The timestamp check, for every timestamp, clock and tolerance (including the
    /// extremes of i64): the right reason, never a panic or an overflow.
    #[test]
    fn timestamps_outside_tolerance_fail_with_the_right_reason(
        ts in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -1_000i64..1_000],
        now in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -1_000i64..1_000],
        tolerance in prop_oneof![any::<i64>(), Just(i64::MAX), Just(0i64), -5i64..600],
    ) {
        let body = br#"{"events":[{"id":"evt_1","type":"partner.updated"}]}"#;
        let h = sign(body, "whsec_test", ts).expect("signs");
        let r = verify(body, Some(&h), "whsec_test", tolerance, now);
        let tol = tolerance.max(0);
        match expected_time_verdict(ts, now, tolerance) {
            None => prop_assert!(r.is_ok(), "within tolerance yet {r:?}"),
            Some("stale") => match r {
                Err(SignatureError::Stale { age, tolerance: t }) => {
                    prop_assert_eq!(t, tol);
                    prop_assert!(age > t, "age {age} must exceed the tolerance {t}");
                    let msg = SignatureError::Stale { age, tolerance: t }.to_string();
                    prop_assert!(msg.contains("old"), "{msg}");
                }
                other => prop_assert!(false, "expected Stale, got {other:?}"),
            },
            Some(_) => match r {
                Err(SignatureError::Future { ahead, tolerance: t }) => {
                    prop_assert_eq!(t, tol);
                    prop_assert!(ahead > t, "ahead {ahead} must exceed the tolerance {t}");
                }
                other => prop_assert!(false, "expected Future, got {other:?}"),
            },
        }
    }

    /// Changing any one byte of the body breaks the signature.
    #[test]
    fn any_single_byte_change_to_the_body_fails(
        (_, body) in events_body(),
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        ts in 0i64..4_000_000_000,
    ) {
        let h = sign(&body, "whsec", ts).expect("signs");
        let mut altered = body.clone();
        let i = pos.index(altered.len());
        altered[i] ^= xor;
        prop_assert_eq!(verify(&altered, Some(&h), "whsec", 300, ts), Err(SignatureError::Mismatch));
    }

    /// Changing any one bit of the MAC breaks the signature.
    #[test]
    fn any_change_to_the_signature_bytes_fails(
        (_, body) in events_body(),
        pos in 0usize..32,
        xor in 1u8..=255,
        ts in 0i64..4_000_000_000,
    ) {
        let h = sign(&body, "whsec", ts).expect("signs");
        let hex_sig = h.split_once(",v1=").expect("v1").1;
        let mut raw = hex::decode(hex_sig).expect("hex");
        raw[pos] ^= xor;
        let forged = format!("t={ts},v1={}", hex::encode(raw));
        prop_assert_eq!(verify(&body, Some(&forged), "whsec", 300, ts), Err(SignatureError::Mismatch));
    }

    /// Changing any one byte of the header string (timestamp, keys, separators, hex)
    /// never yields a valid delivery; only changing the case of a hex digit means the same.
    #[test]
    fn any_single_byte_change_to_the_header_fails(
        (_, body) in events_body(),
        pos in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
        ts in 1i64..4_000_000_000,
    ) {
        let h = sign(&body, "whsec", ts).expect("signs");
        let mut bytes = h.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        // Only a case change inside the hex signature is the same signature.
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        let same_meaning = changed.to_ascii_lowercase() == h && i > h.find("v1=").expect("v1") + 2;
        let r = verify(&body, Some(&changed), "whsec", 300, ts);
        if same_meaning {
            prop_assert!(r.is_ok());
        } else {
            prop_assert!(
                matches!(r, Err(SignatureError::Mismatch) | Err(SignatureError::MalformedHeader(_))),
                "byte {i} changed to {replacement:#04x}: {changed:?} gave {r:?}"
            );
        }
    }

    /// Several v1 entries (secret rotation): accepted when any one matches, in any order,
    /// refused when none does.
    #[test]
    fn duplicate_v1_entries(
        (_, body) in events_body(),
        others in prop::collection::vec("[0-9a-f]{64}", 0..4),
        at in any::<prop::sample::Index>(),
        ts in 0i64..4_000_000_000,
    ) {
        let good = sign(&body, "whsec", ts).expect("signs");
        let good_sig = good.split_once(",v1=").expect("v1").1.to_string();
        let mut sigs: Vec<String> = others.iter().filter(|s| **s != good_sig).cloned().collect();
        let wrong_only = format!("t={ts},{}", sigs.iter().map(|s| format!("v1={s}")).collect::<Vec<_>>().join(","));
        if !sigs.is_empty() {
            prop_assert_eq!(verify(&body, Some(&wrong_only), "whsec", 300, ts), Err(SignatureError::Mismatch));
        }
        let i = at.index(sigs.len() + 1);
        sigs.insert(i, good_sig.clone());
        sigs.push(good_sig); // the same entry twice changes nothing
        let h = format!("t={ts},{}", sigs.iter().map(|s| format!("v1={s}")).collect::<Vec<_>>().join(","));
        prop_assert!(verify(&body, Some(&h), "whsec", 300, ts).is_ok());
    }

    /// Event decoding never panics on arbitrary bytes; whatever it accepts has ids and types.
    #[test]
    fn decode_events_never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(events) = decode_events(&body) {
            for e in events {
                prop_assert!(e["id"].as_str().is_some_and(|s| !s.is_empty()));
                prop_assert!(e["type"].as_str().is_some_and(|s| !s.is_empty()));
            }
        }
    }

    /// Event decoding on arbitrary JSON shapes: accepted exactly when the shape is right,
    /// and a refusal names the offending event.
    #[test]
    fn decode_events_on_arbitrary_json(v in json_value(), wrap in any::<bool>()) {
        let doc = if wrap { json!({"events": [v.clone()]}) } else { v.clone() };
        let body = serde_json::to_vec(&doc).expect("encodes");
        let r = decode_events(&body);
        if wrap {
            let ok = ["id", "type"].iter().all(|k| v.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty()));
            match r {
                Ok(events) => {
                    prop_assert!(ok);
                    // Compare with v as JSON carries it (floats may not survive to the last bit).
                    let carried: Value = serde_json::from_slice(&serde_json::to_vec(&v).expect("encodes")).expect("decodes");
                    prop_assert_eq!(events, vec![carried]);
                }
                Err(SignatureError::MalformedBody(m)) => {
                    prop_assert!(!ok);
                    prop_assert!(m.starts_with("events[0]."), "{m}");
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        } else {
            let ok = v.get("events").is_some_and(Value::is_array);
            if !ok {
                prop_assert!(matches!(r, Err(SignatureError::MalformedBody(_))));
            }
        }
    }
}

pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::from("")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("type".to_string()),
                    Just("events".to_string()),
                    "[a-z]{0,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn each_failure_has_its_own_clear_message() {
    let msgs = [
        SignatureError::MissingHeader,
        SignatureError::MalformedHeader("x".into()),
        SignatureError::Mismatch,
        SignatureError::Stale {
            age: 400,
            tolerance: 300,
        },
        SignatureError::Future {
            ahead: 400,
            tolerance: 300,
        },
        SignatureError::MalformedBody("x".into()),
        SignatureError::EmptySecret,
    ]
    .map(|e| e.to_string());
    for (i, a) in msgs.iter().enumerate() {
        for b in &msgs[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert!(msgs[3].contains("400 s old") && msgs[4].contains("400 s in the future"));
}

#[test]
fn an_oversized_body_is_refused_before_any_work() {
    let body = vec![b' '; MAX_BODY + 1];
    let h = sign(&body, "whsec", 1_000).expect("signs");
    match verify(&body, Some(&h), "whsec", 300, 1_000) {
        Err(SignatureError::MalformedBody(m)) => {
            assert!(m.contains("larger than the limit"), "{m}")
        }
        other => panic!("expected MalformedBody, got {other:?}"),
    }
    // Exactly at the limit the size is fine (the body is then judged as JSON).
    let body = vec![b' '; MAX_BODY];
    let h = sign(&body, "whsec", 1_000).expect("signs");
    assert!(matches!(
        verify(&body, Some(&h), "whsec", 300, 1_000),
        Err(SignatureError::MalformedBody(m)) if m.starts_with("not JSON")
    ));
}

#[test]
fn malformed_header_variants_each_say_what_is_wrong() {
    let body = br#"{"events":[]}"#;
    let cases: &[(&str, &str)] = &[
        ("", "expected key=value pairs"),
        ("garbage", "expected key=value pairs"),
        ("t=abc,v1=00", "t is not a unix timestamp"),
        ("t=1,v1=zz", "v1 is not hexadecimal"),
        ("v1=00", "no t= timestamp"),
        ("t=1", "no v1= signature"),
        ("t=1,v0=00", "no v1= signature"),
        ("t=99999999999999999999,v1=00", "t is not a unix timestamp"),
    ];
    for (h, want) in cases {
        match verify(body, Some(h), "whsec", 300, 1) {
            Err(SignatureError::MalformedHeader(m)) => assert!(m.contains(want), "{h:?}: {m}"),
            other => panic!("{h:?}: expected MalformedHeader, got {other:?}"),
        }
    }
}

#[test]
fn deeply_nested_json_is_refused_not_a_stack_overflow() {
    let mut body = b"{\"events\":".to_vec();
    body.extend(std::iter::repeat_n(b'[', 200_000));
    assert!(matches!(
        decode_events(&body),
        Err(SignatureError::MalformedBody(_))
    ));
    let h = sign(&body, "whsec", 5).expect("signs");
    assert!(matches!(
        verify(&body, Some(&h), "whsec", 300, 5),
        Err(SignatureError::MalformedBody(_))
    ));
}

#[test]
fn an_unknown_event_type_is_returned_not_refused() {
    let body = br#"{"events":[{"id":"evt_9","type":"something.new.we.never.heard.of"}]}"#;
    let h = sign(body, "whsec", 5).expect("signs");
    let events = verify(body, Some(&h), "whsec", 300, 5).expect("verifies");
    assert_eq!(events[0]["type"], "something.new.we.never.heard.of");
}
