//! `TradingGrid\Mapper`: a site builder's field mapping, applied and validated natively.

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::Value;

use tg_core::api::{OpKind, Operation};
use tg_core::mapping::{FieldSpec, Mapper as CoreMapper, Transform};
use tg_core::Error;

use crate::convert::array_to_json;
use crate::guard::{call, call_json};

fn transform(v: &Value, path: &str) -> Result<Transform, Error> {
    match v {
        Value::String(s) => match s.as_str() {
            "trim" => Ok(Transform::Trim),
            "lowercase" => Ok(Transform::Lowercase),
            "uppercase" => Ok(Transform::Uppercase),
            "int" => Ok(Transform::Int),
            "bool" => Ok(Transform::Bool),
            other => Err(Error::validation(
                path,
                format!("unknown transform '{other}'; use trim, lowercase, uppercase, int, bool, ['date' => 'Y-m-d'] or ['enum' => [...]]"),
            )),
        },
        Value::Object(m) if m.len() == 1 => {
            if let Some(f) = m.get("date") {
                return f
                    .as_str()
                    .map(|f| Transform::Date(f.to_string()))
                    .ok_or_else(|| Error::validation(path, "date format must be a string"));
            }
            if let Some(e) = m.get("enum") {
                let pairs = e
                    .as_object()
                    .ok_or_else(|| Error::validation(path, "enum must map source values to payload values"))?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                return Ok(Transform::Enum(pairs));
            }
            Err(Error::validation(path, "unknown transform; use date or enum"))
        }
        _ => Err(Error::validation(path, "a transform is a name or ['date' => ...] / ['enum' => [...]]")),
    }
}

fn spec_from(fields: &Value) -> Result<Vec<FieldSpec>, Error> {
    let map = fields
        .as_object()
        .ok_or_else(|| Error::validation("fields", "must map payload paths to field specs"))?;
    let mut out = Vec::with_capacity(map.len());
    for (target, spec) in map {
        let path = format!("fields.{target}");
        let (source, transforms, default) = match spec {
            Value::String(s) => (Some(s.clone()), vec![], None),
            Value::Object(m) => {
                for k in m.keys() {
                    if !["source", "transforms", "default"].contains(&k.as_str()) {
                        return Err(Error::validation(
                            format!("{path}.{k}"),
                            "is not a known key (source, transforms, default)",
                        ));
                    }
                }
                let source = match m.get("source") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    Some(_) => {
                        return Err(Error::validation(
                            format!("{path}.source"),
                            "must be a field name",
                        ))
                    }
                };
                let transforms = match m.get("transforms") {
                    None | Some(Value::Null) => vec![],
                    Some(Value::Array(list)) => list
                        .iter()
                        .enumerate()
                        .map(|(i, t)| transform(t, &format!("{path}.transforms[{i}]")))
                        .collect::<Result<_, _>>()?,
                    Some(_) => {
                        return Err(Error::validation(
                            format!("{path}.transforms"),
                            "must be a list",
                        ))
                    }
                };
                let default = m.get("default").filter(|d| !d.is_null()).cloned();
                if source.is_none() && default.is_none() {
                    return Err(Error::validation(path, "needs a source or a default"));
                }
                (source, transforms, default)
            }
            _ => {
                return Err(Error::validation(
                    path,
                    "must be a source field name or a spec array",
                ))
            }
        };
        out.push(FieldSpec {
            target: target.clone(),
            source,
            transforms,
            default,
        });
    }
    Ok(out)
}

/// Applies a field-mapping spec (payload path => ['source' => field, 'transforms' => [...],
/// 'default' => value]) to an entity's values and validates the payload.
#[php_class]
#[php(name = "TradingGrid\\Mapper")]
pub struct Mapper {
    inner: CoreMapper,
}

#[php_impl]
impl Mapper {
    /// Checks the spec now, so a broken mapping is reported when it is saved, not when used.
    pub fn __construct(operation: String, fields: &ZendHashTable) -> PhpResult<Self> {
        call(|| {
            let kind = OpKind::parse(&operation)?;
            let fields = spec_from(&array_to_json(fields, "fields")?)?;
            Ok(Mapper {
                inner: CoreMapper { kind, fields },
            })
        })
    }

    /// The payload for these values, or ValidationException naming the payload path and source field.
    pub fn apply(&self, values: &ZendHashTable) -> PhpResult<Zval> {
        call_json(|| {
            let v = array_to_json(values, "values")?;
            let v = if v.as_array().is_some_and(Vec::is_empty) {
                Value::Object(Default::default())
            } else {
                v
            };
            self.inner.apply(&v)
        })
    }

    /// Validates a payload for an operation; throws ValidationException listing every bad field.
    pub fn validate(operation: String, payload: &ZendHashTable) -> PhpResult<()> {
        call(|| {
            let v = array_to_json(payload, "")?;
            let v = if v.as_array().is_some_and(Vec::is_empty) {
                Value::Object(Default::default())
            } else {
                v
            };
            Operation::parse(&operation, v).map(|_| ())
        })
    }

    /// The operation names a mapping can target.
    pub fn operations() -> Vec<String> {
        OpKind::ALL.iter().map(|k| k.name().to_string()).collect()
    }
}
