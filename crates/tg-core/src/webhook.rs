//! Webhook signatures: `TG-Signature: t=<unix>,v1=<hex hmac_sha256(secret, "t.body")>`
//! (the Stripe scheme). Several `v1` entries are accepted so a secret can be rotated.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::error::SignatureError;

pub const HEADER: &str = "tg-signature";
/// Bodies larger than this are refused before any work is done on them.
pub const MAX_BODY: usize = 1024 * 1024;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Result<Hmac<Sha256>, SignatureError> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| SignatureError::EmptySecret)?;
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    Ok(m)
}

/// The header value for `body` signed at `timestamp`.
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> Result<String, SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::EmptySecret);
    }
    let tag = mac(secret, timestamp, body)?.finalize().into_bytes();
    Ok(format!("t={timestamp},v1={}", hex::encode(tag)))
}

fn parse_header(value: &str) -> Result<(i64, Vec<Vec<u8>>), SignatureError> {
    let mut ts = None;
    let mut sigs = Vec::new();
    for part in value.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or_else(|| {
            SignatureError::MalformedHeader(format!(
                "expected key=value pairs, got '{}'",
                crate::api::truncate(part.trim(), 40)
            ))
        })?;
        match k {
            "t" => {
                ts = Some(v.parse::<i64>().map_err(|_| {
                    SignatureError::MalformedHeader("t is not a unix timestamp".into())
                })?)
            }
            "v1" => sigs
                .push(hex::decode(v).map_err(|_| {
                    SignatureError::MalformedHeader("v1 is not hexadecimal".into())
                })?),
            _ => {} // other schemes (v0, ...) are ignored, as Stripe does
        }
    }
    let ts = ts.ok_or_else(|| SignatureError::MalformedHeader("no t= timestamp".into()))?;
    if sigs.is_empty() {
        return Err(SignatureError::MalformedHeader("no v1= signature".into()));
    }
    Ok((ts, sigs))
}

/// Checks the signature and the timestamp, then decodes `{"events": [...]}`.
pub fn verify(
    body: &[u8],
    header: Option<&str>,
    secret: &str,
    tolerance: i64,
    now: i64,
) -> Result<Vec<Value>, SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::EmptySecret);
    }
    let header = header.ok_or(SignatureError::MissingHeader)?;
    let (ts, sigs) = parse_header(header)?;
    if body.len() > MAX_BODY {
        return Err(SignatureError::MalformedBody(format!(
            "{} bytes is larger than the limit of {MAX_BODY}",
            body.len()
        )));
    }
    let expected = mac(secret, ts, body)?;
    // verify_slice compares in constant time.
    if !sigs
        .iter()
        .any(|s| expected.clone().verify_slice(s).is_ok())
    {
        return Err(SignatureError::Mismatch);
    }
    let tolerance = tolerance.max(0);
    // Saturating: a signed t= near i64::MIN/MAX must give the right reason, not an
    // overflow (a panic in debug builds, a wrapped and wrong verdict in release).
    let age = now.saturating_sub(ts);
    if age > tolerance {
        return Err(SignatureError::Stale { age, tolerance });
    }
    let ahead = ts.saturating_sub(now);
    if ahead > tolerance {
        return Err(SignatureError::Future { ahead, tolerance });
    }
    decode_events(body)
}

/// Decodes a delivery body into its events; each must have a string `id` and `type`.
pub fn decode_events(body: &[u8]) -> Result<Vec<Value>, SignatureError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| SignatureError::MalformedBody(format!("not JSON: {e}")))?;
    let events = match v {
        Value::Object(mut m) => match m.remove("events") {
            Some(Value::Array(list)) => list,
            _ => {
                return Err(SignatureError::MalformedBody(
                    "expected an object with an \"events\" list".into(),
                ))
            }
        },
        _ => {
            return Err(SignatureError::MalformedBody(
                "expected an object with an \"events\" list".into(),
            ))
        }
    };
    for (i, e) in events.iter().enumerate() {
        for key in ["id", "type"] {
            if e.get(key)
                .and_then(Value::as_str)
                .is_none_or(|s| s.is_empty())
            {
                return Err(SignatureError::MalformedBody(format!(
                    "events[{i}].{key} is missing or not a string"
                )));
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"events":[{"id":"evt_1","type":"membership.changed","data":{}}]}"#;

    #[test]
    fn signed_body_verifies_and_decodes() {
        let h = sign(BODY, "whsec", 1_000).expect("sign");
        let events = verify(BODY, Some(&h), "whsec", 300, 1_100).expect("valid");
        assert_eq!(events[0]["id"], "evt_1");
    }

    #[test]
    fn each_failure_has_its_own_reason() {
        let h = sign(BODY, "whsec", 1_000).expect("sign");
        assert_eq!(
            verify(BODY, None, "whsec", 300, 1_000),
            Err(SignatureError::MissingHeader)
        );
        assert_eq!(
            verify(BODY, Some(&h), "other", 300, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify(BODY, Some(&h), "whsec", 300, 2_000),
            Err(SignatureError::Stale { .. })
        ));
        assert!(matches!(
            verify(BODY, Some(&h), "whsec", 300, 500),
            Err(SignatureError::Future { .. })
        ));
        assert!(matches!(
            verify(BODY, Some("garbage"), "whsec", 300, 1_000),
            Err(SignatureError::MalformedHeader(_))
        ));
        let bad = b"{not json";
        let hb = sign(bad, "whsec", 1_000).expect("sign");
        assert!(matches!(
            verify(bad, Some(&hb), "whsec", 300, 1_000),
            Err(SignatureError::MalformedBody(_))
        ));
    }

    #[test]
    fn altered_body_is_refused() {
        let h = sign(BODY, "whsec", 1_000).expect("sign");
        let altered = BODY
            .to_vec()
            .into_iter()
            .map(|b| if b == b'1' { b'2' } else { b })
            .collect::<Vec<_>>();
        assert_eq!(
            verify(&altered, Some(&h), "whsec", 300, 1_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn extreme_timestamps_give_the_right_reason_without_overflow() {
        let h = sign(BODY, "whsec", i64::MIN).expect("sign");
        assert!(matches!(
            verify(BODY, Some(&h), "whsec", 300, 1_700_000_000),
            Err(SignatureError::Stale { age: i64::MAX, .. })
        ));
        let h = sign(BODY, "whsec", i64::MAX).expect("sign");
        assert!(matches!(
            verify(BODY, Some(&h), "whsec", 300, -5),
            Err(SignatureError::Future {
                ahead: i64::MAX,
                ..
            })
        ));
    }

    #[test]
    fn a_rotated_secret_is_accepted_among_several_signatures() {
        let old = sign(BODY, "old", 1_000).expect("sign");
        let new = sign(BODY, "new", 1_000).expect("sign");
        let both = format!("{},{}", old, new.split(',').nth(1).expect("v1"));
        assert!(verify(BODY, Some(&both), "new", 300, 1_000).is_ok());
    }
}
