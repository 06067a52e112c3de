//! Lens transaction search (documented by OpenText: `POST /visibility_transaction_search`,
//! GraphQL `getTransactions`): the network's record of every business document traded
//! (purchase orders, ship notices, invoices), with its delivery status, error codes and
//! content keys. It is where shipment, invoice and missing-document exceptions show first,
//! so the portal reads it to raise trading issues.
//!
//! A search is given as a plain object (from PHP, an array) in the shape of Lens's own
//! `query:` argument — `count`, `offset`, `filters`, `fields`, `ranges`, `sortby`,
//! `contentKeyFilters`, `query` — plus `contentKeys`, the content key names to return.
//! It is validated here, naming the bad field, and written out as a GraphQL document with
//! the arguments inline (the form OpenText's examples use), so no schema type names are
//! needed.

use serde_json::{Map, Value};

use crate::error::{Error, FieldError, Result};
use crate::schema::{opt, req, validate_object, Kind, Rule};

/// The path of the search endpoint, on the same host as the token endpoint.
pub const SEARCH_PATH: &str = "/visibility_transaction_search";

/// Transaction fields a search may filter, range or sort on.
pub const SEARCH_FIELDS: &[&str] = &[
    "arrivaltime",
    "statusdate",
    "status",
    "deliverystatus",
    "editype",
    "transactionlevel",
    "messagelevel",
    "senderaddress",
    "receiveraddress",
    "sendername",
    "receivername",
    "correlationid",
    "transactionid",
    "errorcode",
    "category",
];

/// Fields a range applies to: Lens's timestamps.
pub const RANGE_FIELDS: &[&str] = &["arrivaltime", "statusdate"];

/// What the portal reads of each transaction.
pub const SELECTED_FIELDS: &[&str] = &[
    "transactionid",
    "correlationid",
    "arrivaltime",
    "status",
    "statusdate",
    "deliverystatus",
    "sendername",
    "senderaddress",
    "receivername",
    "receiveraddress",
    "editype",
    "transactionlevel",
    "errorcode",
    "externalerrormessage",
];

/// The content keys returned when a search names none.
pub const DEFAULT_CONTENT_KEYS: &[&str] = &[
    "purchase order number",
    "invoice number",
    "shipment identification",
];

/// Lens's status codes for a transaction that needs a person: delivery failed,
/// validation error.
pub const EXCEPTION_STATUSES: &[&str] = &["F", "V"];

const SORT_TYPES: &[&str] = &["ASC", "DESC"];
const NAME: Kind = Kind::Str { min: 1, max: 100 };
const TERM: Kind = Kind::Str { min: 1, max: 500 };

const FILTER_VALUE: &[Rule] = &[req("value", TERM), opt("not", Kind::Bool)];
const FILTER: &[Rule] = &[
    req("field", Kind::Enum(SEARCH_FIELDS)),
    req(
        "values",
        Kind::ObjectList {
            rules: FILTER_VALUE,
            max: 50,
        },
    ),
];
const FIELD_QUERY: &[Rule] = &[req("field", Kind::Enum(SEARCH_FIELDS)), req("query", TERM)];
const FIELD_QUERIES: Kind = Kind::ObjectList {
    rules: FIELD_QUERY,
    max: 50,
};
const FIELDS: &[Rule] = &[opt("must", FIELD_QUERIES), opt("should", FIELD_QUERIES)];
const RANGE: &[Rule] = &[
    req("field", Kind::Enum(RANGE_FIELDS)),
    opt("from", Kind::Timestamp),
    opt("to", Kind::Timestamp),
];
const SORT: &[Rule] = &[
    req("field", Kind::Enum(SEARCH_FIELDS)),
    req("type", Kind::Enum(SORT_TYPES)),
];
const CONTENT_KEY_FILTER: &[Rule] = &[req("key", NAME), req("value", TERM)];
const SEARCH: &[Rule] = &[
    opt("count", Kind::Int { min: 1, max: 1000 }),
    opt(
        "offset",
        Kind::Int {
            min: 0,
            max: 1_000_000,
        },
    ),
    opt("query", Kind::Str { min: 1, max: 2000 }),
    opt(
        "filters",
        Kind::ObjectList {
            rules: FILTER,
            max: 20,
        },
    ),
    opt("fields", Kind::Object(FIELDS)),
    opt("ranges", Kind::Object(RANGE)),
    opt("sortby", Kind::Object(SORT)),
    opt(
        "contentKeyFilters",
        Kind::ObjectList {
            rules: CONTENT_KEY_FILTER,
            max: 20,
        },
    ),
    opt(
        "contentKeys",
        Kind::StrList {
            item: &NAME,
            max: 50,
        },
    ),
];

/// Keys whose values are GraphQL enum literals (written without quotes).
const ENUM_KEYS: &[&str] = &["field", "type"];

/// A validated Lens search.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionSearch {
    args: Map<String, Value>,
    content_keys: Vec<String>,
}

impl TransactionSearch {
    /// Validates a search; every problem is reported by its path (`filters[0].field`).
    pub fn new(search: Value) -> Result<TransactionSearch> {
        let mut errors = Vec::new();
        validate_object(&search, SEARCH, "", &mut errors);
        if let Some(r) = search.get("ranges") {
            let from = r.get("from").and_then(Value::as_str);
            let to = r.get("to").and_then(Value::as_str);
            if from.is_none() && to.is_none() {
                errors.push(FieldError::new("ranges", "needs from, to or both"));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation { errors });
        }
        let Value::Object(mut args) = search else {
            return Err(Error::validation("(search)", "must be an object"));
        };
        let content_keys = match args.remove("contentKeys") {
            Some(Value::Array(names)) => names
                .into_iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            _ => DEFAULT_CONTENT_KEYS.iter().map(|s| s.to_string()).collect(),
        };
        // Lens returns content keys only when the search carries this list, even empty.
        args.entry("contentKeyFilters")
            .or_insert_with(|| Value::Array(vec![]));
        Ok(TransactionSearch { args, content_keys })
    }

    /// The exceptions that need a person: transactions whose delivery failed or that
    /// failed validation, with that status set at or after `since` (RFC 3339), oldest
    /// first. By the status date, not the arrival: a delivery fails after the document
    /// arrived (often after retries), so a watermark on arrival would pass over a
    /// document that arrived before it and failed after.
    pub fn exceptions(since: Option<&str>, count: i64, offset: i64) -> Result<TransactionSearch> {
        let mut search = serde_json::json!({
            "count": count,
            "offset": offset,
            "filters": [{
                "field": "status",
                "values": EXCEPTION_STATUSES.iter().map(|s| serde_json::json!({"value": s})).collect::<Vec<_>>(),
            }],
            "sortby": {"field": "statusdate", "type": "ASC"},
        });
        if let (Some(since), Some(obj)) = (since.filter(|s| !s.is_empty()), search.as_object_mut())
        {
            obj.insert(
                "ranges".into(),
                serde_json::json!({"field": "statusdate", "from": since}),
            );
        }
        TransactionSearch::new(search)
    }

    /// The GraphQL document to send.
    pub fn document(&self) -> String {
        let mut out = String::with_capacity(512);
        out.push_str("query portalTransactionSearch {\n  getTransactions(query: ");
        write_object(&self.args, &mut out);
        out.push_str(") {\n    count\n    total\n    offset\n    transactions {\n");
        for f in SELECTED_FIELDS {
            out.push_str("      ");
            out.push_str(f);
            out.push('\n');
        }
        out.push_str("      contentkeys(names: ");
        write_value(
            &Value::Array(
                self.content_keys
                    .iter()
                    .map(|k| Value::String(k.clone()))
                    .collect(),
            ),
            None,
            &mut out,
        );
        out.push_str(") {\n        key\n        value\n      }\n    }\n  }\n}\n");
        out
    }

    /// The request body: `{"query": <document>}`.
    pub fn body(&self) -> Value {
        serde_json::json!({ "query": self.document() })
    }
}

fn write_object(map: &Map<String, Value>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        // Keys come from the validated rule names: plain GraphQL names.
        out.push_str(k);
        out.push_str(": ");
        write_value(v, Some(k), out);
    }
    out.push('}');
}

fn write_value(v: &Value, key: Option<&str>, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        // Enum values were checked against fixed lists of plain names.
        Value::String(s) if key.is_some_and(|k| ENUM_KEYS.contains(&k)) => out.push_str(s),
        // A JSON string is a valid GraphQL string: the same escapes, UTF-8 allowed.
        Value::String(s) => {
            out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()))
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(item, key, out);
            }
            out.push(']');
        }
        Value::Object(m) => write_object(m, out),
    }
}

/// Reads Lens's answer: `data.getTransactions`, or the first of its GraphQL `errors`.
pub fn decode_answer(body: &Value) -> Result<Value> {
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        if let Some(first) = errors.first() {
            let message = first
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message given");
            return Err(Error::Api {
                status: 400,
                message: format!(
                    "Lens refused the search: {}",
                    crate::api::truncate(message, 500)
                ),
                problem: body.clone(),
            });
        }
    }
    match body.pointer("/data/getTransactions") {
        Some(page @ Value::Object(_)) => Ok(page.clone()),
        _ => Err(Error::Api {
            status: 502,
            message: "Lens answered without data.getTransactions".into(),
            problem: body.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(e: Error) -> Vec<String> {
        e.field_errors()
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect()
    }

    #[test]
    fn a_bad_search_names_each_field() {
        let e = TransactionSearch::new(json!({
            "count": 0,
            "filters": [{"field": "nonsense", "values": [{"value": "F"}]}],
            "ranges": {"field": "arrivaltime", "from": "yesterday"},
            "sortby": {"field": "arrivaltime", "type": "UP"},
            "colour": "red",
        }))
        .expect_err("refused");
        let got = fields(e);
        assert!(got
            .iter()
            .any(|f| f.starts_with("count: must be between 1")));
        assert!(got
            .iter()
            .any(|f| f.starts_with("filters[0].field: must be one of")));
        assert!(got
            .iter()
            .any(|f| f.starts_with("ranges.from: must be an RFC 3339")));
        assert!(got
            .iter()
            .any(|f| f.starts_with("sortby.type: must be one of ASC")));
        assert!(got.contains(&"colour: is not a known field".to_string()));
    }

    #[test]
    fn a_range_needs_a_bound() {
        let e = TransactionSearch::new(json!({"ranges": {"field": "arrivaltime"}}))
            .expect_err("refused");
        assert_eq!(fields(e), vec!["ranges: needs from, to or both"]);
    }

    #[test]
    fn the_document_writes_enums_bare_and_strings_escaped() {
        let s = TransactionSearch::new(json!({
            "count": 25,
            "filters": [{"field": "editype", "values": [{"not": true, "value": "997"}]}],
            "contentKeyFilters": [{"key": "purchase order number", "value": "SYS\"*"}],
            "sortby": {"field": "arrivaltime", "type": "ASC"},
            "contentKeys": ["invoice number"],
        }))
        .expect("valid");
        let doc = s.document();
        assert!(doc.contains("count: 25"), "{doc}");
        assert!(
            doc.contains("filters: [{field: editype values: [{not: true value: \"997\"}]}]"),
            "{doc}"
        );
        assert!(doc.contains("value: \"SYS\\\"*\""), "{doc}");
        assert!(
            doc.contains("sortby: {field: arrivaltime type: ASC}"),
            "{doc}"
        );
        assert!(
            doc.contains("contentkeys(names: [\"invoice number\"])"),
            "{doc}"
        );
        assert!(!doc.contains("contentKeys"), "{doc}");
    }

    #[test]
    fn content_key_filters_are_always_sent() {
        let s = TransactionSearch::new(json!({})).expect("valid");
        assert!(s.document().contains("contentKeyFilters: []"));
        assert!(s.document().contains("\"shipment identification\""));
    }

    #[test]
    fn the_exception_search_asks_for_failed_and_invalid_since_a_time() {
        let s = TransactionSearch::exceptions(Some("2026-11-01T00:00:00Z"), 100, 0).expect("valid");
        let doc = s.document();
        assert!(
            doc.contains("values: [{value: \"F\"} {value: \"V\"}]"),
            "{doc}"
        );
        assert!(
            doc.contains("ranges: {field: statusdate from: \"2026-11-01T00:00:00Z\"}"),
            "{doc}"
        );
        let none = TransactionSearch::exceptions(None, 10, 0).expect("valid");
        assert!(!none.document().contains("ranges"));
        assert!(TransactionSearch::exceptions(Some("soon"), 10, 0).is_err());
    }

    #[test]
    fn answers_and_graphql_errors_are_told_apart() {
        let page = decode_answer(
            &json!({"data": {"getTransactions": {"count": 0, "total": 0, "transactions": []}}}),
        )
        .expect("page");
        assert_eq!(page["total"], 0);
        let e = decode_answer(&json!({"errors": [{"message": "Cannot query field \"x\""}]}))
            .expect_err("error");
        assert!(e
            .to_string()
            .contains("Lens refused the search: Cannot query field"));
        assert!(!e.retryable());
        assert!(decode_answer(&json!({"data": null})).is_err());
    }
}
