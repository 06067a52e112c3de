//! A small declarative validator: each operation's payload is described as a list
//! of field rules, so a mistake is reported by its path before anything is sent.

use serde_json::Value;

// (A list is always under a key, so an index never follows the empty root.)
use crate::error::{FieldError, FieldPath as Path};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A string of `min..=max` characters (after trimming nothing: we never rewrite input).
    Str {
        min: usize,
        max: usize,
    },
    /// An identifier: 1..=128 of `[A-Za-z0-9._:-]`.
    Ident,
    /// A login id (often an e-mail address, and it can change): 1..=128 characters
    /// without white space, control characters or `/`. It becomes a URL path segment.
    LoginId,
    Enum(&'static [&'static str]),
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    Email,
    Country,
    Language,
    Date,
    Sha256,
    TradingAddress,
    /// An array of identifiers.
    IdentList {
        min: usize,
        max: usize,
    },
    /// An array of enum values.
    EnumList(&'static [&'static str]),
    /// An array of objects validated by the nested rules.
    ObjectList {
        rules: &'static [Rule],
        max: usize,
    },
    /// Any JSON object (free-form attributes), at most `max` keys.
    Map {
        max: usize,
    },
    /// An object validated by the nested rules.
    Object(&'static [Rule]),
    /// An RFC 3339 timestamp: `2026-11-25T07:00:00Z`, fractions and offsets allowed.
    Timestamp,
    /// An array of at most `max` strings, each checked as `item`.
    StrList {
        item: &'static Kind,
        max: usize,
    },
    /// A partial update of an object the nested rules describe: every member is
    /// optional (also in nested objects), but at least one must be given.
    Changes(&'static [Rule]),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub name: &'static str,
    pub required: bool,
    pub kind: Kind,
}

pub(crate) const fn req(name: &'static str, kind: Kind) -> Rule {
    Rule {
        name,
        required: true,
        kind,
    }
}

pub(crate) const fn opt(name: &'static str, kind: Kind) -> Rule {
    Rule {
        name,
        required: false,
        kind,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Validates `value` (an object) against `rules`; unknown keys are refused so a typo in a
/// mapping is caught instead of silently dropped.
pub(crate) fn validate_object(
    value: &Value,
    rules: &[Rule],
    prefix: &str,
    errors: &mut Vec<FieldError>,
) {
    validate_members(value, rules, &Path::Root(prefix), errors, Presence::AsRuled);
}

/// Whether the rules' `required` holds, or (a partial update) nothing is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    AsRuled,
    Partial,
}

fn validate_members(
    value: &Value,
    rules: &[Rule],
    at: &Path<'_>,
    errors: &mut Vec<FieldError>,
    presence: Presence,
) {
    let Some(obj) = value.as_object() else {
        errors.push(FieldError::new(
            at.field(),
            format!("must be an object, got {}", type_name(value)),
        ));
        return;
    };
    // How many of the object's keys a rule names (rule names are distinct, a test
    // checks): when that is all of them, no key is unknown and the search is skipped.
    let mut known = 0;
    for rule in rules {
        let path = Path::Key(at, rule.name);
        let value = obj.get(rule.name);
        known += usize::from(value.is_some());
        match value {
            None | Some(Value::Null) => {
                if rule.required && presence == Presence::AsRuled {
                    errors.push(FieldError::new(path.render(), "is required"));
                }
            }
            Some(v) => check(v, &rule.kind, &path, errors, presence),
        }
    }
    if known == obj.len() {
        return;
    }
    for key in obj.keys() {
        if !rules.iter().any(|r| r.name == key) {
            // An empty key would give an error that names no field at all.
            let shown = if key.is_empty() { "(empty key)" } else { key };
            errors.push(FieldError::new(
                Path::Key(at, shown).render(),
                "is not a known field",
            ));
        }
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn is_login_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 128
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
}

fn is_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
}

pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
                2 => 28,
                _ => return false,
            };
            y >= 1900 && d >= 1 && d <= days
        }
        _ => false,
    }
}

/// RFC 3339 date-time, as Lens and the event feed write them.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't']) else {
        return false;
    };
    let b = time.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if !is_date(date) || b.len() < 9 || !digits(0..2) || !digits(3..5) || !digits(6..8) {
        return false;
    }
    if b[2] != b':' || b[5] != b':' {
        return false;
    }
    let mut rest = &time[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let offset = rest.as_bytes();
    match offset {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

fn is_language(s: &str) -> bool {
    // BCP 47, the subset portals use: "en", "de-CH", "zh-Hant".
    let mut parts = s.split('-');
    let Some(primary) = parts.next() else {
        return false;
    };
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn check(
    v: &Value,
    kind: &Kind,
    path: &Path<'_>,
    errors: &mut Vec<FieldError>,
    presence: Presence,
) {
    let mut fail = |msg: String| errors.push(FieldError::new(path.render(), msg));
    match *kind {
        Kind::Str { min, max } => match v.as_str() {
            Some(s) => {
                let n = s.chars().count();
                if s.trim().is_empty() && min > 0 {
                    fail("must not be empty".into());
                } else if n < min || n > max {
                    fail(format!("must be {min} to {max} characters long, got {n}"));
                }
            }
            None => fail(format!("must be a string, got {}", type_name(v))),
        },
        Kind::Ident | Kind::LoginId => {
            let (fits, rule): (fn(&str) -> bool, &str) = match *kind {
                Kind::Ident => (
                    is_ident,
                    "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -",
                ),
                _ => (
                    is_login_id,
                    "must be 1 to 128 characters without spaces, control characters or /",
                ),
            };
            match v.as_str() {
                // Both become a URL path segment, and URLs resolve "." and ".." (also
                // written %2e): `/partners/..` would address `/tgx/v1/` instead.
                Some("." | "..") => {
                    fail("must not be . or .. (it would leave its URL path)".into())
                }
                Some(s) if fits(s) => {}
                Some(_) => fail(rule.into()),
                None => fail(format!("must be a string, got {}", type_name(v))),
            }
        }
        Kind::Enum(allowed) => match v.as_str() {
            Some(s) if allowed.contains(&s) => {}
            _ => fail(format!("must be one of {}", allowed.join(", "))),
        },
        Kind::Int { min, max } => match v.as_i64() {
            Some(n) if n >= min && n <= max => {}
            Some(n) => fail(format!("must be between {min} and {max}, got {n}")),
            None => fail(format!("must be an integer, got {}", type_name(v))),
        },
        Kind::Bool => {
            if !v.is_boolean() {
                fail(format!("must be true or false, got {}", type_name(v)));
            }
        }
        Kind::Email => match v.as_str() {
            Some(s) if is_email(s) => {}
            _ => fail("must be an e-mail address".into()),
        },
        Kind::Country => match v.as_str() {
            Some(s) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) => {}
            _ => fail("must be an ISO 3166-1 alpha-2 country code such as DE".into()),
        },
        Kind::Language => match v.as_str() {
            Some(s) if is_language(s) => {}
            _ => fail("must be a BCP 47 language tag such as en or de-CH".into()),
        },
        Kind::Date => match v.as_str() {
            Some(s) if is_date(s) => {}
            _ => fail("must be a date YYYY-MM-DD".into()),
        },
        Kind::Sha256 => match v.as_str() {
            Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {}
            _ => fail("must be a SHA-256 digest: 64 hexadecimal characters".into()),
        },
        Kind::TradingAddress => match v.as_str() {
            Some(s)
                if s.split_once(':').is_some_and(|(q, id)| {
                    !q.is_empty()
                        && q.len() <= 4
                        && !id.is_empty()
                        && id.len() <= 35
                        && !id.chars().any(char::is_whitespace)
                }) => {}
            _ => fail("must be a trading address QUALIFIER:ID such as ZZ:ACMEFREIGHT".into()),
        },
        Kind::IdentList { min, max } => match v.as_array() {
            Some(items) if items.len() < min || items.len() > max => fail(format!(
                "must hold {min} to {max} entries, got {}",
                items.len()
            )),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(item, &Kind::Ident, &Path::Index(path, i), errors, presence);
                }
            }
            None => fail(format!("must be a list, got {}", type_name(v))),
        },
        Kind::EnumList(allowed) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(
                        item,
                        &Kind::Enum(allowed),
                        &Path::Index(path, i),
                        errors,
                        presence,
                    );
                }
            }
            None => fail(format!("must be a list, got {}", type_name(v))),
        },
        Kind::ObjectList { rules, max } => match v.as_array() {
            Some(items) if items.len() > max => fail(format!(
                "must hold at most {max} entries, got {}",
                items.len()
            )),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    validate_members(
                        item,
                        rules,
                        &Path::Index(path, i),
                        errors,
                        Presence::AsRuled,
                    );
                }
            }
            None => fail(format!("must be a list, got {}", type_name(v))),
        },
        Kind::Map { max } => match v.as_object() {
            Some(m) if m.len() > max => fail(format!("must hold at most {max} keys")),
            Some(_) => {}
            None => fail(format!("must be an object, got {}", type_name(v))),
        },
        Kind::Timestamp => match v.as_str() {
            Some(s) if is_timestamp(s) => {}
            _ => fail("must be an RFC 3339 timestamp such as 2026-11-25T07:00:00Z".into()),
        },
        Kind::StrList { item, max } => match v.as_array() {
            Some(items) if items.len() > max => fail(format!(
                "must hold at most {max} entries, got {}",
                items.len()
            )),
            Some(items) => {
                for (i, x) in items.iter().enumerate() {
                    check(x, item, &Path::Index(path, i), errors, presence);
                }
            }
            None => fail(format!("must be a list, got {}", type_name(v))),
        },
        // Inside a partial update a nested object is partial too (only the members given
        // change); a list's items above are whole values either way.
        Kind::Object(rules) => validate_members(v, rules, path, errors, presence),
        Kind::Changes(rules) => {
            if v.as_object().is_some_and(|m| m.is_empty()) {
                fail("must name at least one field to change".into());
            } else {
                validate_members(v, rules, path, errors, Presence::Partial);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULES: &[Rule] = &[
        req("name", Kind::Str { min: 1, max: 5 }),
        opt("mail", Kind::Email),
        opt("tags", Kind::IdentList { min: 0, max: 2 }),
        opt("when", Kind::Date),
    ];

    fn errors(v: Value) -> Vec<String> {
        let mut e = vec![];
        validate_object(&v, RULES, "", &mut e);
        e.into_iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect()
    }

    #[test]
    fn reports_every_bad_field_by_path() {
        let got = errors(json!({"mail": "nope", "tags": ["ok", "bad id"], "extra": 1}));
        assert_eq!(
            got,
            vec![
                "name: is required",
                "mail: must be an e-mail address",
                "tags[1]: must be 1 to 128 characters of A-Z a-z 0-9 . _ : -",
                "extra: is not a known field",
            ]
        );
    }

    #[test]
    fn dot_segments_and_empty_keys_are_refused_by_name() {
        const IDS: &[Rule] = &[req("id", Kind::Ident)];
        for bad in [".", ".."] {
            let mut e = vec![];
            validate_object(&json!({"id": bad}), IDS, "", &mut e);
            assert_eq!(e[0].field, "id");
            assert!(e[0].message.contains("must not be . or .."));
        }
        let mut e = vec![];
        validate_object(&json!({"id": "...", "": 1}), IDS, "", &mut e);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "(empty key)");
    }

    #[test]
    fn dates_are_checked_for_real_calendar_days() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2023-13-01"));
        assert!(!is_date("20230101"));
    }

    #[test]
    fn timestamps_are_rfc3339() {
        for ok in [
            "2026-11-25T07:00:00Z",
            "2026-11-25T07:00:00.123+01:00",
            "2024-02-29t23:59:59z",
        ] {
            assert!(is_timestamp(ok), "{ok}");
        }
        for bad in [
            "2026-11-25",
            "2026-11-25T07:00Z",
            "2026-13-25T07:00:00Z",
            "2026-11-25T07:00:00",
            "2026-11-25T07:00:00.Z",
            "2026-11-25T07:00:00+0100",
        ] {
            assert!(!is_timestamp(bad), "{bad}");
        }
    }

    #[test]
    fn a_valid_object_has_no_errors() {
        assert!(
            errors(json!({"name": "Ada", "mail": "a@b.example", "when": "2026-11-25"})).is_empty()
        );
    }
}
