//! Lens transaction search (`POST /visibility_transaction_search`, GraphQL
//! `getTransactions`), as far as the portal uses it: a query document with its arguments
//! inline, the structured criteria (`filters`, `fields`, `ranges`, `contentKeyFilters`,
//! `sortby`, `count`/`offset`), and the selection set, which decides what comes back.
//! Free-text `query:` strings (Lens's search-box syntax) are not interpreted here: they
//! are refused with a GraphQL error saying so, never silently ignored.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use tg_core::lens::TransactionSearch;

/// Every transaction field the sandbox knows (the ones OpenText's examples select).
pub const KNOWN_FIELDS: &[&str] = &[
    "arrivaltime",
    "category",
    "correlationid",
    "deliveryfilename",
    "deliverystatus",
    "editype",
    "errorcode",
    "errortype",
    "externalerrormessage",
    "messagelevel",
    "parenttransactionid",
    "receiveraddress",
    "receivername",
    "senderaddress",
    "sendername",
    "status",
    "statusdate",
    "transactionid",
    "transactionlevel",
    "type",
];

/// One field of a selection set.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub name: String,
    pub args: Map<String, Value>,
    pub fields: Vec<Selection>,
}

#[derive(Debug)]
pub struct GraphqlError(pub String);

type Parsed<T> = Result<T, GraphqlError>;

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn skip(&mut self) {
        while let Some(&c) = self.src.get(self.pos) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => self.pos += 1,
                b'#' => {
                    while self.src.get(self.pos).is_some_and(|&c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip();
        self.src.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Parsed<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", c as char)))
        }
    }

    fn error(&self, what: &str) -> GraphqlError {
        GraphqlError(format!("Syntax Error: {what} at offset {}", self.pos))
    }

    fn name(&mut self) -> Parsed<String> {
        self.skip();
        let start = self.pos;
        while self
            .src
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.pos += 1;
        }
        if start == self.pos || self.src[start].is_ascii_digit() {
            return Err(self.error("expected a name"));
        }
        Ok(String::from_utf8_lossy(&self.src[start..self.pos]).into_owned())
    }

    fn string(&mut self) -> Parsed<String> {
        self.expect(b'"')?;
        if self.src[self.pos..].starts_with(b"\"\"") {
            return Err(self.error("block strings are not supported by the sandbox"));
        }
        // GraphQL string escapes are JSON's: find the closing quote and let serde decode.
        let start = self.pos - 1;
        let mut escaped = false;
        while let Some(&c) = self.src.get(self.pos) {
            self.pos += 1;
            match c {
                b'\n' => return Err(self.error("unterminated string")),
                b'\\' if !escaped => escaped = true,
                b'"' if !escaped => {
                    return serde_json::from_slice(&self.src[start..self.pos])
                        .map_err(|e| self.error(&format!("bad string: {e}")));
                }
                _ => escaped = false,
            }
        }
        Err(self.error("unterminated string"))
    }

    fn value(&mut self, depth: usize) -> Parsed<Value> {
        if depth > 32 {
            return Err(self.error("values nest too deep"));
        }
        match self.peek() {
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut items = vec![];
                while self.peek() != Some(b']') {
                    if self.peek().is_none() {
                        return Err(self.error("unterminated list"));
                    }
                    items.push(self.value(depth + 1)?);
                }
                self.pos += 1;
                Ok(Value::Array(items))
            }
            Some(b'{') => Ok(Value::Object(self.object(depth + 1)?)),
            Some(b'$') => Err(self
                .error("variables are not supported by the sandbox; write the arguments inline")),
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.src.get(self.pos).is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')
                }) {
                    self.pos += 1;
                }
                serde_json::from_slice(&self.src[start..self.pos])
                    .map_err(|_| self.error("bad number"))
            }
            Some(_) => {
                let n = self.name()?;
                Ok(match n.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    // An enum value (`arrivaltime`, `ASC`): JSON has no enums, a string will do.
                    _ => Value::String(n),
                })
            }
            None => Err(self.error("expected a value")),
        }
    }

    fn object(&mut self, depth: usize) -> Parsed<Map<String, Value>> {
        self.expect(b'{')?;
        let mut m = Map::new();
        while self.peek() != Some(b'}') {
            let k = self.name()?;
            self.expect(b':')?;
            let v = self.value(depth)?;
            m.insert(k, v);
        }
        self.pos += 1;
        Ok(m)
    }

    fn arguments(&mut self) -> Parsed<Map<String, Value>> {
        let mut m = Map::new();
        if self.peek() != Some(b'(') {
            return Ok(m);
        }
        self.pos += 1;
        while self.peek() != Some(b')') {
            let k = self.name()?;
            self.expect(b':')?;
            m.insert(k, self.value(0)?);
        }
        self.pos += 1;
        Ok(m)
    }

    fn selection_set(&mut self, depth: usize) -> Parsed<Vec<Selection>> {
        if depth > 8 {
            return Err(self.error("selections nest too deep"));
        }
        self.expect(b'{')?;
        let mut out = vec![];
        while self.peek() != Some(b'}') {
            if self.peek().is_none() {
                return Err(self.error("unterminated selection set"));
            }
            let name = self.name()?;
            let args = self.arguments()?;
            let fields = if self.peek() == Some(b'{') {
                self.selection_set(depth + 1)?
            } else {
                vec![]
            };
            out.push(Selection { name, args, fields });
        }
        self.pos += 1;
        Ok(out)
    }
}

/// Parses `query [Name] { getTransactions(query: {...}) { ... } }`.
pub fn parse(document: &str) -> Parsed<Selection> {
    let mut p = Parser {
        src: document.as_bytes(),
        pos: 0,
    };
    if p.peek() != Some(b'{') {
        let op = p.name()?;
        if op != "query" {
            return Err(GraphqlError(format!(
                "only queries are served here, not {op}"
            )));
        }
        if p.peek() != Some(b'{') {
            p.name()?;
        }
        if p.peek() == Some(b'(') {
            return Err(
                p.error("variables are not supported by the sandbox; write the arguments inline")
            );
        }
    }
    let mut top = p.selection_set(0)?;
    if p.peek().is_some() {
        return Err(p.error("unexpected text after the query"));
    }
    match top.len() {
        1 if top[0].name == "getTransactions" => Ok(top.remove(0)),
        _ => Err(GraphqlError(
            "the query must select exactly one field, getTransactions".into(),
        )),
    }
}

fn text<'v>(t: &'v Value, field: &str) -> &'v str {
    t.get(field).and_then(Value::as_str).unwrap_or("")
}

/// Lens's wildcard match: `*` for any run of characters, case-insensitive.
fn matches(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let v: Vec<char> = value.to_lowercase().chars().collect();
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn content_key<'v>(t: &'v Value, key: &str) -> Option<&'v str> {
    t.get("contentkeys")
        .and_then(Value::as_array)?
        .iter()
        .find(|k| text(k, "key").eq_ignore_ascii_case(key))
        .and_then(|k| k.get("value").and_then(Value::as_str))
}

fn keep(t: &Value, args: &Map<String, Value>) -> bool {
    let list = |k: &str| {
        args.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for f in list("filters") {
        let value = text(t, text(&f, "field"));
        let values = f["values"].as_array().cloned().unwrap_or_default();
        let (nots, wants): (Vec<_>, Vec<_>) = values
            .iter()
            .partition(|v| v["not"].as_bool() == Some(true));
        if nots.iter().any(|v| matches(text(v, "value"), value)) {
            return false;
        }
        if !wants.is_empty() && !wants.iter().any(|v| matches(text(v, "value"), value)) {
            return false;
        }
    }
    if let Some(fields) = args.get("fields") {
        let hit = |q: &Value| matches(text(q, "query"), text(t, text(q, "field")));
        let must = fields["must"].as_array().cloned().unwrap_or_default();
        let should = fields["should"].as_array().cloned().unwrap_or_default();
        if !must.iter().all(hit) || (!should.is_empty() && !should.iter().any(hit)) {
            return false;
        }
    }
    if let Some(r) = args.get("ranges") {
        let at = text(t, text(r, "field"));
        if r["from"].as_str().is_some_and(|from| at < from)
            || r["to"].as_str().is_some_and(|to| at >= to)
        {
            return false;
        }
    }
    list("contentKeyFilters")
        .iter()
        .all(|f| content_key(t, text(f, "key")).is_some_and(|v| matches(text(f, "value"), v)))
}

fn project(t: &Value, selection: &[Selection]) -> Result<Value, GraphqlError> {
    let mut out = Map::new();
    for s in selection {
        let v = if s.name == "contentkeys" {
            let names: Vec<String> = s
                .args
                .get("names")
                .and_then(Value::as_array)
                .map(|n| {
                    n.iter()
                        .filter_map(|x| x.as_str().map(str::to_lowercase))
                        .collect()
                })
                .unwrap_or_default();
            let keys: Vec<Value> = t["contentkeys"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|k| {
                    names
                        .iter()
                        .any(|n| n == "*" || *n == text(k, "key").to_lowercase())
                })
                .map(|k| {
                    let mut m = Map::new();
                    for f in &s.fields {
                        m.insert(
                            f.name.clone(),
                            k.get(&f.name).cloned().unwrap_or(Value::Null),
                        );
                    }
                    Value::Object(m)
                })
                .collect();
            Value::Array(keys)
        } else if KNOWN_FIELDS.contains(&s.name.as_str()) {
            t.get(&s.name).cloned().unwrap_or(Value::Null)
        } else {
            return Err(GraphqlError(format!(
                "Cannot query field \"{}\" on type \"Transaction\".",
                s.name
            )));
        };
        out.insert(s.name.clone(), v);
    }
    Ok(Value::Object(out))
}

/// Runs a parsed `getTransactions` over the stored transactions.
pub fn search(transactions: &[Value], query: &Selection) -> Result<Value, GraphqlError> {
    let args = match query.args.get("query") {
        Some(Value::Object(m)) => m.clone(),
        None => Map::new(),
        Some(_) => {
            return Err(GraphqlError(
                "getTransactions(query:) must be an object".into(),
            ))
        }
    };
    // The same checks the client makes: the sandbox refuses what tg-core would refuse.
    TransactionSearch::new(Value::Object(args.clone()))
        .map_err(|e| GraphqlError(format!("Validation error: {e}")))?;
    if args.contains_key("query") {
        return Err(GraphqlError(
            "the sandbox does not interpret free-text query strings; use filters, fields, ranges or contentKeyFilters".into(),
        ));
    }
    let mut hits: Vec<&Value> = transactions.iter().filter(|t| keep(t, &args)).collect();
    let (sort_field, desc) = match args.get("sortby") {
        Some(s) => (text(s, "field").to_string(), text(s, "type") == "DESC"),
        None => ("arrivaltime".to_string(), false),
    };
    hits.sort_by(|a, b| {
        let o = text(a, &sort_field).cmp(text(b, &sort_field));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    let count = args.get("count").and_then(Value::as_u64).unwrap_or(10) as usize;
    let offset = args.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
    let total = hits.len();
    let page: Vec<&Value> = hits.into_iter().skip(offset).take(count).collect();
    let mut out = Map::new();
    for s in &query.fields {
        let v = match s.name.as_str() {
            "count" => json!(page.len()),
            "total" => json!(total),
            "offset" => json!(offset),
            "scrollid" => Value::Null,
            "transactions" => Value::Array(
                page.iter()
                    .map(|t| project(t, &s.fields))
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(GraphqlError(format!(
                    "Cannot query field \"{other}\" on type \"TransactionResult\"."
                )))
            }
        };
        out.insert(s.name.clone(), v);
    }
    Ok(json!({"data": {"getTransactions": out}}))
}

/// A transaction as the sandbox stores it, from what a test or the simulator gives:
/// defaults for what is missing, content keys as `[{key, value}]`.
pub fn transaction(given: &Value, id: String, now: String) -> Result<Value, String> {
    let Some(m) = given.as_object() else {
        return Err("each transaction must be an object".into());
    };
    let mut t: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in m {
        if k != "contentkeys" && !KNOWN_FIELDS.contains(&k.as_str()) {
            return Err(format!("{k}: is not a Lens transaction field"));
        }
        t.insert(k.clone(), v.clone());
    }
    t.entry("transactionid".into()).or_insert(Value::String(id));
    let arrived = t
        .entry("arrivaltime".into())
        .or_insert(Value::String(now))
        .clone();
    // Until its status changes, a transaction's status dates from its arrival.
    t.entry("statusdate".into()).or_insert(arrived);
    t.entry("status".into()).or_insert(json!("S"));
    t.entry("transactionlevel".into())
        .or_insert(json!("Document"));
    let keys = match m.get("contentkeys") {
        None => vec![],
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("contentkeys: must be an object or a list of {key, value}".into()),
    };
    t.insert("contentkeys".into(), Value::Array(keys));
    Ok(json!(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Vec<Value> {
        [
            json!({"editype": "850", "status": "S", "arrivaltime": "2026-11-01T08:00:00Z", "contentkeys": {"purchase order number": "PO-1"}}),
            json!({"editype": "856", "status": "F", "arrivaltime": "2026-11-02T08:00:00Z", "senderaddress": "ZZ:ACME", "contentkeys": {"purchase order number": "PO-1", "shipment identification": "SH-9"}}),
            json!({"editype": "810", "status": "V", "arrivaltime": "2026-11-03T08:00:00Z", "contentkeys": {"invoice number": "INV-7"}}),
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| transaction(t, format!("tx{i}"), "2026-11-01T00:00:00Z".into()).expect("valid"))
        .collect()
    }

    fn run(doc: &str) -> Result<Value, GraphqlError> {
        search(&store(), &parse(doc)?)
    }

    #[test]
    fn the_client_document_is_understood_and_filters_apply() {
        let s = TransactionSearch::exceptions(Some("2026-11-02T00:00:00Z"), 10, 0).expect("valid");
        let out = run(&s.document()).expect("answer");
        let page = &out["data"]["getTransactions"];
        assert_eq!(page["total"], 2);
        assert_eq!(page["transactions"][0]["transactionid"], "tx1");
        assert_eq!(
            page["transactions"][0]["contentkeys"][1],
            json!({"key": "shipment identification", "value": "SH-9"})
        );
        assert_eq!(page["transactions"][1]["status"], "V");
    }

    #[test]
    fn postman_style_queries_with_comments_work() {
        let doc = "# by PO\nquery getContentKey {\n getTransactions(query:{ count: 25, offset: 0,\n contentKeyFilters: [{ key: \"purchase order number\" value: \"PO*\" }] }) {\n count total transactions { transactionid editype contentkeys(names: [\"*\"]) { key } } } }";
        let page = run(doc).expect("answer")["data"]["getTransactions"].clone();
        assert_eq!(page["total"], 2);
        assert_eq!(
            page["transactions"][1]["contentkeys"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        assert!(
            page.get("offset").is_none(),
            "only what was selected comes back"
        );
    }

    #[test]
    fn what_the_sandbox_cannot_answer_is_an_error_not_a_guess() {
        for (doc, says) in [
            (
                "query { getTransactions(query: {query: \"status:F\"}) { count } }",
                "free-text",
            ),
            (
                "query { getTransactions { bogus } }",
                "Cannot query field \"bogus\"",
            ),
            (
                "query { getTransactions { transactions { nope } } }",
                "Cannot query field \"nope\"",
            ),
            ("mutation { x }", "only queries"),
            (
                "query q($a: Int) { getTransactions { count } }",
                "variables",
            ),
            (
                "query { getTransactions(query: {count: 0}) { count } }",
                "count: must be between",
            ),
            ("query { getTransactions { count }", "unterminated"),
            ("query { other { count } }", "getTransactions"),
        ] {
            let e = run(doc).expect_err(doc);
            assert!(e.0.contains(says), "{doc}: {}", e.0);
        }
    }

    #[test]
    fn wildcards_match_like_lens() {
        assert!(matches("SYS*", "sys-123"));
        assert!(matches("*123", "SYS-123"));
        assert!(matches("S*S*3", "SYS-123"));
        assert!(!matches("SYS", "SYS-123"));
        assert!(matches("*", ""));
    }
}
