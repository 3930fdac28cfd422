//! A borrowed, shallow view of a JSON object: its top-level keys and the raw text of each
//! value, without building a tree.
//!
//! Ingest needs three or four fields of each record and must carry the rest through to
//! `attrs` verbatim. Parsing into `serde_json::Value` and serializing back costs most of the
//! parse time; holding `&RawValue`s keeps the nested text as it was (validated, not copied)
//! and lets [`write_object`] splice it into the attrs object.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON object's top-level entries, in order, values kept as raw text.
#[derive(Debug, Default)]
pub struct Obj<'a> {
    pub fields: Vec<(Key<'a>, &'a RawValue)>,
}

/// An object key: borrowed from the input when it had no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Obj<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjVisitor;
        impl<'de> Visitor<'de> for ObjVisitor {
            type Value = Obj<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some((k, v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    fields.push((k, v));
                }
                Ok(Obj { fields })
            }
        }
        d.deserialize_map(ObjVisitor)
    }
}

impl<'a> Obj<'a> {
    /// Parses `text`, which must be exactly one JSON object (surrounding white space allowed).
    pub fn parse(text: &'a str) -> serde_json::Result<Obj<'a>> {
        serde_json::from_str(text)
    }

    /// Parses a raw value that may be an object; `None` for anything else.
    pub fn from_raw(raw: &'a RawValue) -> Option<Obj<'a>> {
        if kind(raw) != Kind::Object {
            return None;
        }
        Obj::parse(raw.get()).ok()
    }

    /// The value of the last occurrence of `key` (JSON parsers disagree on duplicates; the
    /// last one wins, as in JavaScript and Python).
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k.0 == key)
            .map(|(_, v)| *v)
    }

    pub fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| k.0 == key)
    }

    /// A string value, unescaped.
    pub fn str(&self, key: &str) -> Option<Cow<'a, str>> {
        self.get(key).and_then(as_str)
    }

    /// Looks a dotted path up both ways loggers write it: flat (`"log.level": ..`) or nested
    /// (`"log": {"level": ..}`). Returns the value and where it was found.
    pub fn lookup(&self, path: &[&'static str]) -> Option<(&'a RawValue, FieldPath)> {
        match path {
            [k] => self.get(k).map(|v| (v, FieldPath::Top(k))),
            [a, b] => {
                let obj = Obj::from_raw(self.get(a)?)?;
                obj.get(b).map(|v| (v, FieldPath::Nested(a, b)))
            }
            _ => None,
        }
    }
}

/// Where a field was found, so it can be left out of `attrs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldPath {
    Top(&'static str),
    Nested(&'static str, &'static str),
}

/// The JSON type of a raw value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

pub fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'"') => Kind::String,
        Some(b't' | b'f') => Kind::Bool,
        Some(b'n') => Kind::Null,
        _ => Kind::Number,
    }
}

/// A string value, unescaped; borrowed when it has no escapes.
pub fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let t = raw.get();
    let inner = t.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(t).ok().map(Cow::Owned)
}

/// The text of a number value.
pub fn as_number(raw: &RawValue) -> Option<&str> {
    (kind(raw) == Kind::Number).then(|| raw.get())
}

pub fn as_bool(raw: &RawValue) -> Option<bool> {
    match raw.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Appends `"key"` as JSON to `out`.
pub fn write_key(out: &mut String, key: &Key<'_>) {
    match &key.0 {
        // A key borrowed from valid JSON had no escapes, so it needs none.
        Cow::Borrowed(k) => {
            out.push('"');
            out.push_str(k);
            out.push('"');
        }
        Cow::Owned(k) => write_json_str(out, k),
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_json_str(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(t) => out.push_str(&t),
        Err(_) => out.push_str("\"\""),
    }
}

/// Writes `obj` as a compact JSON object, leaving out the fields in `removed` (a nested
/// removal rewrites that child object; a child left empty is dropped). Extra entries are
/// appended at the end.
pub fn write_object(
    out: &mut String,
    obj: &Obj<'_>,
    removed: &[FieldPath],
    extra: &[(&str, &str)],
) {
    out.push('{');
    let mut first = true;
    for (k, v) in &obj.fields {
        let key = k.0.as_ref();
        if removed.iter().any(|r| r.is_top(key)) {
            continue;
        }
        let nested: Vec<FieldPath> = removed
            .iter()
            .filter_map(|r| match r {
                FieldPath::Nested(a, b) if *a == key => Some(FieldPath::Top(b)),
                _ => None,
            })
            .collect();
        if !first {
            out.push(',');
        }
        let mark = out.len();
        write_key(out, k);
        out.push(':');
        if nested.is_empty() {
            out.push_str(v.get());
        } else if let Some(child) = Obj::from_raw(v) {
            let live = child
                .fields
                .iter()
                .filter(|(ck, _)| !nested.iter().any(|n| n.is_top(ck.0.as_ref())))
                .count();
            if live == 0 {
                out.truncate(if first { mark } else { mark - 1 });
                continue;
            }
            write_object(out, &child, &nested, &[]);
        } else {
            out.push_str(v.get());
        }
        first = false;
    }
    for (k, raw_json) in extra {
        if !first {
            out.push(',');
        }
        write_json_str(out, k);
        out.push(':');
        out.push_str(raw_json);
        first = false;
    }
    out.push('}');
}

impl FieldPath {
    fn is_top(&self, key: &str) -> bool {
        matches!(self, FieldPath::Top(k) if *k == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_and_escaped_keys() {
        let o = Obj::parse(r#"{"a":1,"b\"c":{"x": [1, 2]},"s":"q\"uote"}"#).unwrap();
        assert_eq!(o.fields.len(), 3);
        assert!(matches!(o.fields[0].0.0, Cow::Borrowed("a")));
        assert_eq!(o.fields[1].0.0, "b\"c");
        assert_eq!(o.get("b\"c").unwrap().get(), r#"{"x": [1, 2]}"#);
        assert_eq!(o.str("s").unwrap(), "q\"uote");
    }

    #[test]
    fn lookup_flat_and_nested() {
        let o = Obj::parse(r#"{"log.level":"info","trace":{"id":"abc","x":1}}"#).unwrap();
        assert_eq!(
            o.lookup(&["log.level"]).unwrap().1,
            FieldPath::Top("log.level")
        );
        let (v, p) = o.lookup(&["trace", "id"]).unwrap();
        assert_eq!(v.get(), "\"abc\"");
        assert_eq!(p, FieldPath::Nested("trace", "id"));
    }

    #[test]
    fn write_with_removals() {
        let o = Obj::parse(r#"{"msg":"m","a\tb":1,"trace":{"id":"t"},"f":{"message":"x","k":2}}"#)
            .unwrap();
        let mut out = String::new();
        write_object(
            &mut out,
            &o,
            &[
                FieldPath::Top("msg"),
                FieldPath::Nested("trace", "id"),
                FieldPath::Nested("f", "message"),
            ],
            &[("extra", "true")],
        );
        assert_eq!(out, r#"{"a\tb":1,"f":{"k":2},"extra":true}"#);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v.is_object());
        let mut out = String::new();
        write_object(&mut out, &o, &[FieldPath::Nested("trace", "id")], &[]);
        assert!(out.starts_with(r#"{"msg":"m","a\tb":1,"f":"#), "{out}");
    }
}
