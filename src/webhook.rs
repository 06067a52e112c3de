//! `TradingGrid\Webhook`: verify and sign deliveries.

use std::time::{SystemTime, UNIX_EPOCH};

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::Value;

use tg_core::webhook;
use tg_core::Error;

use crate::convert::{find_entry, values_of};
use crate::guard::{call, call_json};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Finds the signature header, whatever its case, as a string or the first of a list
/// (Symfony's `$request->headers->all()` gives lists). Only that entry is read: another
/// header that JSON cannot carry (a Latin-1 byte in a User-Agent, an object a framework
/// put there) must not turn a signed delivery into "header missing".
fn signature_header(headers: &ZendHashTable) -> Option<String> {
    let text = |z: &Zval| -> Option<String> {
        let z = z.dereference();
        if let Some(s) = z.zend_str() {
            // Not UTF-8: keep the bytes visible so it is reported as malformed, not missing.
            return Some(String::from_utf8_lossy(s.as_bytes()).into_owned());
        }
        z.array()
            .and_then(|list| values_of(list).first().copied())
            .and_then(|first| first.dereference().zend_str())
            .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
    };
    find_entry(headers, |key, v| {
        let key = std::str::from_utf8(key?).ok()?;
        if key.eq_ignore_ascii_case(webhook::HEADER)
            || key.eq_ignore_ascii_case("http_tg_signature")
        {
            text(v)
        } else {
            None
        }
    })
}

/// Verifies and decodes webhook deliveries signed `TG-Signature: t=...,v1=...`.
#[php_class]
#[php(name = "TradingGrid\\Webhook")]
pub struct Webhook;

#[php_impl]
impl Webhook {
    /// Checks the signature (constant time) and the timestamp (within `tolerance` seconds,
    /// default 300) and returns the decoded events. Throws SignatureException with the reason.
    pub fn verify(
        body: &Zval,
        headers: &ZendHashTable,
        secret: String,
        tolerance: Option<i64>,
    ) -> PhpResult<Zval> {
        call_json(|| {
            let bytes: &[u8] = match body.zend_str() {
                Some(s) => s.as_bytes(),
                None => {
                    return Err(Error::validation(
                        "body",
                        "must be the raw request body as a string",
                    ))
                }
            };
            let header = signature_header(headers);
            let events = webhook::verify(
                bytes,
                header.as_deref(),
                &secret,
                tolerance.unwrap_or(300),
                now(),
            )?;
            Ok(Value::Array(events))
        })
    }

    /// The header value that signs `body` with `secret` at `timestamp` (default: now).
    pub fn sign(body: &Zval, secret: String, timestamp: Option<i64>) -> PhpResult<String> {
        call(|| {
            let bytes: &[u8] = match body.zend_str() {
                Some(s) => s.as_bytes(),
                None => return Err(Error::validation("body", "must be a string")),
            };
            Ok(webhook::sign(
                bytes,
                &secret,
                timestamp.unwrap_or_else(now),
            )?)
        })
    }
}
