//! `TradingGrid\Webhook`: verify and sign deliveries.

use std::time::{SystemTime, UNIX_EPOCH};

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::Value;

use tg_core::webhook;
use tg_core::Error;

use crate::convert::array_to_json;
use crate::guard::{call, call_json};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Finds the signature header, whatever its case, as a string or the first of a list
/// (Symfony's `$request->headers->all()` gives lists).
fn signature_header(headers: &Value) -> Option<String> {
    let map = headers.as_object()?;
    let (_, v) = map.iter().find(|(k, _)| {
        k.eq_ignore_ascii_case(webhook::HEADER) || k.eq_ignore_ascii_case("http_tg_signature")
    })?;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(list) => list.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
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
            let headers = array_to_json(headers, "headers").unwrap_or(Value::Null);
            let header = signature_header(&headers);
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
