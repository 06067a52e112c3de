//! Field mapping: Drupal field values → an operation payload, with simple transforms,
//! validated against the operation's schema so a site builder's mistake is reported by
//! path before anything is sent.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::api::{OpKind, Operation};
use crate::error::{Error, FieldError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    Trim,
    Lowercase,
    Uppercase,
    Int,
    Bool,
    /// A date format made of `Y m d H i s` and literal characters, or `c` for RFC 3339.
    Date(String),
    Enum(Vec<(String, Value)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    /// Payload path, dot separated (`attributes.vat`).
    pub target: String,
    /// Source field, dot separated into the values (`field_ref.0.target_id`).
    pub source: Option<String>,
    pub transforms: Vec<Transform>,
    pub default: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Mapper {
    pub kind: OpKind,
    pub fields: Vec<FieldSpec>,
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Reads `path` from the entity values, unwrapping Drupal's `[{"value": x}]` shape.
fn lookup<'a>(values: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = values;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    // A Drupal field item list with one item: [{"value": x}] → x.
    if let Value::Array(items) = cur {
        if items.len() == 1 {
            if let Some(v) = items[0].get("value").or_else(|| items[0].get("target_id")) {
                return Some(v);
            }
        }
    }
    Some(cur)
}

fn set_path(
    target: &mut Map<String, Value>,
    path: &str,
    value: Value,
) -> std::result::Result<(), String> {
    let mut parts = path.split('.').peekable();
    let mut cur = target;
    while let Some(part) = parts.next() {
        if part.is_empty() {
            return Err("has an empty segment".into());
        }
        if parts.peek().is_none() {
            cur.insert(part.to_string(), value);
            return Ok(());
        }
        let next = cur
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        cur = match next {
            Value::Object(m) => m,
            _ => return Err(format!("'{part}' is already a value, not an object")),
        };
    }
    Ok(())
}

fn parse_instant(v: &Value) -> std::result::Result<OffsetDateTime, String> {
    match v {
        Value::Number(n) => {
            let secs = n.as_i64().ok_or("is not a whole number of seconds")?;
            OffsetDateTime::from_unix_timestamp(secs).map_err(|e| e.to_string())
        }
        Value::String(s) => {
            let s = s.trim();
            if let Ok(secs) = s.parse::<i64>() {
                return OffsetDateTime::from_unix_timestamp(secs).map_err(|e| e.to_string());
            }
            if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
                return Ok(t);
            }
            let ymd = time::macros::format_description!("[year]-[month]-[day]");
            if let Ok(d) = Date::parse(s.get(..10).unwrap_or(s), ymd) {
                if s.len() == 10 {
                    return Ok(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc());
                }
                // Drupal datetime storage: 2026-11-25T07:00:00 (no offset, UTC).
                let full = time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]"
                );
                if let Ok(t) = PrimitiveDateTime::parse(s, full) {
                    return Ok(t.assume_utc());
                }
            }
            Err(format!("'{}' is not a date", crate::api::truncate(s, 40)))
        }
        _ => Err("is not a date".into()),
    }
}

fn format_date(t: OffsetDateTime, fmt: &str) -> std::result::Result<String, String> {
    if fmt == "c" {
        return t.format(&Rfc3339).map_err(|e| e.to_string());
    }
    let mut out = String::new();
    for ch in fmt.chars() {
        match ch {
            'Y' => out.push_str(&format!("{:04}", t.year())),
            'm' => out.push_str(&format!("{:02}", u8::from(t.month()))),
            'd' => out.push_str(&format!("{:02}", t.day())),
            'H' => out.push_str(&format!("{:02}", t.hour())),
            'i' => out.push_str(&format!("{:02}", t.minute())),
            's' => out.push_str(&format!("{:02}", t.second())),
            c if c.is_ascii_alphabetic() => {
                return Err(format!(
                    "format letter '{c}' is not supported (use Y m d H i s or c)"
                ))
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn apply_transform(v: Value, t: &Transform) -> std::result::Result<Value, String> {
    let as_text = |v: &Value| -> std::result::Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err("is not text".into()),
        }
    };
    match t {
        Transform::Trim => Ok(Value::String(as_text(&v)?.trim().to_string())),
        Transform::Lowercase => Ok(Value::String(as_text(&v)?.to_lowercase())),
        Transform::Uppercase => Ok(Value::String(as_text(&v)?.to_uppercase())),
        Transform::Int => {
            match &v {
                Value::Number(n) if n.is_i64() => Ok(v),
                Value::Number(n) => n
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| Value::from(f as i64))
                    .ok_or_else(|| "is not a whole number".to_string()),
                Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| {
                    format!("'{}' is not a whole number", crate::api::truncate(s, 40))
                }),
                Value::Bool(b) => Ok(Value::from(i64::from(*b))),
                _ => Err("is not a whole number".into()),
            }
        }
        Transform::Bool => match &v {
            Value::Bool(_) => Ok(v),
            Value::Number(n) => Ok(Value::Bool(n.as_f64().unwrap_or(0.0) != 0.0)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(Value::Bool(true)),
                "0" | "false" | "no" | "off" | "" => Ok(Value::Bool(false)),
                _ => Err(format!(
                    "'{}' is not a yes/no value",
                    crate::api::truncate(s, 40)
                )),
            },
            _ => Err("is not a yes/no value".into()),
        },
        Transform::Date(fmt) => Ok(Value::String(format_date(parse_instant(&v)?, fmt)?)),
        Transform::Enum(pairs) => {
            let key = as_text(&v)?;
            pairs
                .iter()
                .find(|(from, _)| *from == key)
                .map(|(_, to)| to.clone())
                .ok_or_else(|| {
                    // Bounded: the message goes to exceptions, logs and the outbox row, so
                    // a large enum map must not make it large too.
                    const SHOWN: usize = 20;
                    let mut known: Vec<String> = pairs
                        .iter()
                        .take(SHOWN)
                        .map(|(f, _)| crate::api::truncate(f, 40))
                        .collect();
                    if pairs.len() > SHOWN {
                        known.push(format!("… ({} more)", pairs.len() - SHOWN));
                    }
                    format!(
                        "'{}' has no mapping; mapped values are {}",
                        crate::api::truncate(&key, 40),
                        known.join(", ")
                    )
                })
        }
    }
}

impl Mapper {
    /// Applies the spec to `values` and validates the result.
    pub fn apply(&self, values: &Value) -> Result<Value> {
        let mut payload = Map::new();
        let mut errors = Vec::new();
        for spec in &self.fields {
            let mut v = spec
                .source
                .as_deref()
                .and_then(|s| lookup(values, s))
                .cloned()
                .unwrap_or(Value::Null);
            if is_empty(&v) {
                match &spec.default {
                    Some(d) => v = d.clone(),
                    None => continue,
                }
            }
            let from = spec
                .source
                .as_deref()
                .map(|s| format!(" (from {s})"))
                .unwrap_or_default();
            let mut failed = false;
            for t in &spec.transforms {
                match apply_transform(v.clone(), t) {
                    Ok(nv) => v = nv,
                    Err(msg) => {
                        errors.push(FieldError::new(spec.target.clone(), format!("{msg}{from}")));
                        failed = true;
                        break;
                    }
                }
            }
            if failed {
                continue;
            }
            if let Err(msg) = set_path(&mut payload, &spec.target, v) {
                errors.push(FieldError::new(
                    spec.target.clone(),
                    format!("target path {msg}"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation { errors });
        }
        let payload = Value::Object(payload);
        match Operation::new(self.kind, payload.clone()) {
            Ok(_) => Ok(payload),
            Err(Error::Validation { errors }) => {
                // Say which source field fed a bad payload path.
                let errors = errors
                    .into_iter()
                    .map(|mut e| {
                        if let Some(src) = self
                            .fields
                            .iter()
                            .find(|f| f.target == e.field)
                            .and_then(|f| f.source.as_deref())
                        {
                            e.message = format!("{} (from {src})", e.message);
                        }
                        e
                    })
                    .collect();
                Err(Error::Validation { errors })
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(target: &str, source: &str, transforms: Vec<Transform>) -> FieldSpec {
        FieldSpec {
            target: target.into(),
            source: Some(source.into()),
            transforms,
            default: None,
        }
    }

    fn partner_mapper() -> Mapper {
        Mapper {
            kind: OpKind::PartnerUpsert,
            fields: vec![
                spec("externalId", "uuid", vec![]),
                spec("companyName", "field_company", vec![Transform::Trim]),
                spec(
                    "contactEmail",
                    "mail",
                    vec![Transform::Trim, Transform::Lowercase],
                ),
                spec(
                    "partnerType",
                    "field_type",
                    vec![Transform::Enum(vec![("Carrier".into(), json!("carrier"))])],
                ),
                FieldSpec {
                    default: Some(json!("DE")),
                    ..spec("country", "field_country", vec![Transform::Uppercase])
                },
                spec("revision", "changed", vec![Transform::Int]),
                spec(
                    "attributes.since",
                    "created",
                    vec![Transform::Date("Y-m-d".into())],
                ),
            ],
        }
    }

    #[test]
    fn maps_drupal_values_with_transforms_and_defaults() {
        let values = json!({"uuid": "u-1", "field_company": [{"value": "  Acme  "}],
            "mail": " Ops@Acme.Example ", "field_type": "Carrier", "changed": "1700000000",
            "created": 1_700_000_000});
        let p = partner_mapper().apply(&values).expect("valid");
        assert_eq!(p["companyName"], "Acme");
        assert_eq!(p["contactEmail"], "ops@acme.example");
        assert_eq!(p["country"], "DE");
        assert_eq!(p["revision"], 1_700_000_000);
        assert_eq!(p["attributes"]["since"], "2023-11-14");
    }

    #[test]
    fn a_mapping_mistake_names_the_payload_path_and_the_source_field() {
        let values = json!({"uuid": "u-1", "field_company": "Acme", "mail": "not-an-email",
            "field_type": "Pirate", "changed": 1});
        let err = partner_mapper().apply(&values).expect_err("invalid");
        let msgs: Vec<String> = err
            .field_errors()
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        assert_eq!(
            msgs,
            vec![
                "partnerType: 'Pirate' has no mapping; mapped values are Carrier (from field_type)"
            ]
        );
        let values = json!({"uuid": "u-1", "field_company": "Acme", "mail": "not-an-email",
            "field_type": "Carrier", "changed": 1});
        let err = partner_mapper().apply(&values).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "contactEmail: must be an e-mail address (from mail)"
        );
    }
}
