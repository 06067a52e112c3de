//! PHP values ⇄ JSON values, refusing what JSON cannot carry (NaN, invalid UTF-8,
//! objects, resources) and what no payload needs (nesting deeper than 64).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::array::Iter;
use ext_php_rs::types::{ArrayKey, ZendHashTable, ZendStr, Zval};
use serde_json::{Map, Number, Value};

// Where a value sits in the input (its errors say `list[i].field`).
use tg_core::{Error, FieldPath as Path};

const MAX_DEPTH: usize = 64;

/// Element `i` of the PHP list called `list` (its errors say `list[i].field`).
pub fn element_to_json(z: &Zval, list: &str, i: usize) -> Result<Value, Error> {
    to_json(z, &Path::Index(&Path::Root(list), i), 0)
}

pub fn array_to_json(h: &ZendHashTable, path: &str) -> Result<Value, Error> {
    table_to_json(h, &Path::Root(path), 0)
}

fn too_deep(path: &Path<'_>) -> Error {
    Error::validation(
        path.field(),
        format!("is nested deeper than {MAX_DEPTH} levels"),
    )
}

fn to_json(z: &Zval, path: &Path<'_>, depth: usize) -> Result<Value, Error> {
    // An array element can be a PHP reference: `foreach ($a as &$v)` leaves one behind,
    // and `$a['x'] = &$y` makes one. Read through it (a reference cycle still ends at the
    // depth limit below).
    let z = z.dereference();
    if depth > MAX_DEPTH {
        return Err(too_deep(path));
    }
    if z.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = z.bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = z.long() {
        return Ok(Value::from(n));
    }
    if let Some(d) = z.double() {
        return Number::from_f64(d).map(Value::Number).ok_or_else(|| {
            Error::validation(
                path.field(),
                "must be a finite number (NaN and INF are not allowed)",
            )
        });
    }
    if z.is_string() {
        return match z.str() {
            Some(s) => Ok(Value::String(s.to_string())),
            None => Err(Error::validation(path.field(), "is not valid UTF-8 text")),
        };
    }
    if let Some(h) = z.array() {
        return table_to_json(h, path, depth + 1);
    }
    let what = if z.is_object() {
        "an object"
    } else if z.is_resource() {
        "a resource"
    } else {
        "a value JSON cannot carry"
    };
    Err(Error::validation(
        path.field(),
        format!("must be a scalar or an array, got {what}"),
    ))
}

fn table_to_json(h: &ZendHashTable, path: &Path<'_>, depth: usize) -> Result<Value, Error> {
    if depth > MAX_DEPTH {
        return Err(too_deep(path));
    }
    // One pass over the raw keys. ext-php-rs's own `iter()` (and `has_sequential_keys()`,
    // which uses it) panics on a string key that is not UTF-8 ("Invalid array key!").
    let mut entries: Vec<(Option<String>, &Zval)> = Vec::with_capacity(h.len());
    let mut sequential = true;
    let mut it = Iter::new(h);
    while let Some((k, v)) = it.next_zval() {
        let key = if let Some(n) = k.long() {
            sequential &= usize::try_from(n).is_ok_and(|n| n == entries.len());
            Some(n.to_string())
        } else {
            sequential = false;
            match k.zend_str().map(|z| std::str::from_utf8(z.as_bytes())) {
                Some(Ok(s)) => Some(s.to_string()),
                _ => None,
            }
        };
        entries.push((key, v));
    }
    if sequential {
        let mut list = Vec::with_capacity(entries.len());
        for (i, (_, v)) in entries.into_iter().enumerate() {
            list.push(to_json(v, &Path::Index(path, i), depth)?);
        }
        return Ok(Value::Array(list));
    }
    let mut pairs = Vec::with_capacity(entries.len());
    for (key, v) in entries {
        let Some(key) = key else {
            return Err(Error::validation(
                path.field(),
                "has a key that is not valid UTF-8",
            ));
        };
        let value = to_json(v, &Path::Key(path, &key), depth)?;
        pairs.push((key, value));
    }
    // Built in one go from the pairs (sorted, then laid out), not key by key. A PHP array
    // has no duplicate keys, so nothing is dropped.
    Ok(Value::Object(
        pairs.into_iter().collect::<Map<String, Value>>(),
    ))
}

/// The values of a PHP array in order; unlike ext-php-rs's `values()`, never panics on
/// a string key that is not UTF-8.
pub fn values_of(h: &ZendHashTable) -> Vec<&Zval> {
    let mut out = Vec::with_capacity(h.len());
    let mut it = Iter::new(h);
    while let Some((_, v)) = it.next_zval() {
        out.push(v);
    }
    out
}

/// Iterates a PHP array's entries without panicking on non-UTF-8 string keys: calls `f`
/// with the key (`None` for an integer key, the bytes for a string key) and the value
/// until it returns `Some`.
pub fn find_entry<'a, T>(
    h: &'a ZendHashTable,
    mut f: impl FnMut(Option<&[u8]>, &'a Zval) -> Option<T>,
) -> Option<T> {
    let mut it = Iter::new(h);
    while let Some((k, v)) = it.next_zval() {
        let key = k.zend_str().map(|z| z.as_bytes());
        if let Some(found) = f(key, v) {
            return Some(found);
        }
    }
    None
}

/// JSON → a PHP value: objects become associative arrays, lists become lists.
pub fn json_to_zval(v: &Value) -> Result<Zval, Error> {
    let mut z = Zval::new();
    match v {
        Value::Null => z.set_null(),
        Value::Bool(b) => z.set_bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                z.set_long(i);
            } else {
                z.set_double(n.as_f64().unwrap_or(0.0));
            }
        }
        Value::String(s) => z
            .set_string(s, false)
            .map_err(|e| Error::Internal(format!("cannot build a PHP string: {e}")))?,
        Value::Array(list) => {
            let mut h = ZendHashTable::with_capacity(u32::try_from(list.len()).unwrap_or(u32::MAX));
            for item in list {
                h.push(json_to_zval(item)?)
                    .map_err(|e| Error::Internal(format!("cannot build a PHP array: {e}")))?;
            }
            z.set_hashtable(h);
        }
        Value::Object(map) => {
            let mut h = ZendHashTable::with_capacity(u32::try_from(map.len()).unwrap_or(u32::MAX));
            for (k, item) in map {
                h.insert(k.as_str(), json_to_zval(item)?)
                    .map_err(|e| Error::Internal(format!("cannot build a PHP array: {e}")))?;
            }
            z.set_hashtable(h);
        }
    }
    Ok(z)
}

/// A JSON answer's bytes → a PHP value, built as the parser goes (no `Value` tree in
/// between). Empty means `[]`; bytes that are not JSON become `['raw' => '<text>']`, as
/// the core's `decode_answer` makes them.
///
/// Object keys come from `keys`, shared with the other answers converted through it.
pub fn answer_to_zval(bytes: &[u8], keys: &mut KeyCache) -> Result<Zval, Error> {
    if bytes.is_empty() {
        let mut z = Zval::new();
        z.set_hashtable(ZendHashTable::new());
        return Ok(z);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = ZvalSeed { keys, depth: 0 };
    match serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|z| de.end().map(|()| z))
    {
        Ok(z) => Ok(z),
        Err(_) => json_to_zval(&tg_core::client::decode_answer(bytes)),
    }
}

/// Object key strings shared by the answers of one call. Answers of one kind have the
/// same keys in the same places, so the key at each (nesting depth, position) is kept as
/// a PHP string and referenced by every array that has it there, instead of a new string
/// being allocated, copied and hashed for every answer. Bounded: the first
/// `KEY_DEPTHS` levels, `KEY_PLACES` keys each, keys up to `KEY_LEN` bytes.
pub struct KeyCache {
    slots: Vec<Option<ZBox<ZendStr>>>,
}

const KEY_DEPTHS: usize = 4;
const KEY_PLACES: usize = 32;
const KEY_LEN: usize = 64;

impl KeyCache {
    pub fn new() -> KeyCache {
        KeyCache {
            slots: (0..KEY_DEPTHS * KEY_PLACES).map(|_| None).collect(),
        }
    }

    /// The shared string for `key` at this place (replacing what was there), or `None`
    /// when the place is outside the cache.
    fn get(&mut self, depth: usize, place: usize, key: &str) -> Option<&ZendStr> {
        if depth >= KEY_DEPTHS || place >= KEY_PLACES || key.len() > KEY_LEN {
            return None;
        }
        let slot = self.slots.get_mut(depth * KEY_PLACES + place)?;
        if slot.as_ref().is_none_or(|z| z.as_bytes() != key.as_bytes()) {
            // Request-bound (not persistent): the cache lives for one call.
            *slot = Some(ZendStr::new(key, false));
        }
        slot.as_deref()
    }
}

struct ZvalSeed<'c> {
    keys: &'c mut KeyCache,
    depth: usize,
}

/// An object key, borrowed from the answer's bytes unless it had escapes (serde's own
/// `Cow<str>` always copies into a `String`).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> serde::de::Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(s))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(s.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(s))
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for ZvalSeed<'_> {
    type Value = Zval;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Zval, D::Error> {
        d.deserialize_any(ZvalVisitor {
            keys: self.keys,
            depth: self.depth,
        })
    }
}

struct ZvalVisitor<'c> {
    keys: &'c mut KeyCache,
    depth: usize,
}

fn php_error<E: serde::de::Error>(e: impl std::fmt::Display) -> E {
    E::custom(format!("cannot build a PHP value: {e}"))
}

impl<'de> serde::de::Visitor<'de> for ZvalVisitor<'_> {
    type Value = Zval;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Zval, E> {
        let mut z = Zval::new();
        z.set_null();
        Ok(z)
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Zval, E> {
        let mut z = Zval::new();
        z.set_bool(b);
        Ok(z)
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Zval, E> {
        let mut z = Zval::new();
        z.set_long(n);
        Ok(z)
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Zval, E> {
        let mut z = Zval::new();
        // As json_to_zval does: an integer past PHP's range becomes a float.
        match i64::try_from(n) {
            Ok(i) => z.set_long(i),
            Err(_) => z.set_double(n as f64),
        }
        Ok(z)
    }

    fn visit_f64<E: serde::de::Error>(self, d: f64) -> Result<Zval, E> {
        let mut z = Zval::new();
        z.set_double(d);
        Ok(z)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Zval, E> {
        let mut z = Zval::new();
        z.set_string(s, false).map_err(php_error)?;
        Ok(z)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Zval, A::Error> {
        let mut h = ZendHashTable::with_capacity(
            u32::try_from(seq.size_hint().unwrap_or(0)).unwrap_or(u32::MAX),
        );
        while let Some(item) = seq.next_element_seed(ZvalSeed {
            keys: &mut *self.keys,
            depth: self.depth + 1,
        })? {
            h.push(item).map_err(php_error)?;
        }
        let mut z = Zval::new();
        z.set_hashtable(h);
        Ok(z)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Zval, A::Error> {
        let mut h = ZendHashTable::new();
        let mut place = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(ZvalSeed {
                keys: &mut *self.keys,
                depth: self.depth + 1,
            })?;
            let key = key.as_str();
            // A numeric key ("7") becomes an integer key, as json_decode makes it.
            let inserted = match ArrayKey::from(key) {
                ArrayKey::Str(_) => match self.keys.get(self.depth, place, key) {
                    Some(shared) => h.insert(ArrayKey::ZendString(shared), value),
                    None => h.insert(key, value),
                },
                numeric => h.insert(numeric, value),
            };
            inserted.map_err(php_error)?;
            place += 1;
        }
        let mut z = Zval::new();
        z.set_hashtable(h);
        Ok(z)
    }
}
