//! An order-preserving YAML/JSON value.
//!
//! kustomize keeps each object's keys in the order the author wrote them, so the model is an
//! `IndexMap`-backed value of our own rather than `serde_json::Value`: turning on serde_json's
//! `preserve_order` would change key order for every crate in the workspace (feature
//! unification). `IndexMap` equality ignores order, which is what parity comparisons want.

use indexmap::IndexMap;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A mapping with the author's key order. Hashed with foldhash (seeded per process, so still
/// not predictable from outside): every key lookup in parsing, transforming and emitting goes
/// through this hasher, and with std's SipHash those lookups were ~15% of a large build.
pub type Mapping = IndexMap<String, Value, foldhash::fast::RandomState>;

/// A YAML document node (the JSON-compatible subset kustomize works on).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`, `~` or an empty node.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// A larger unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string scalar.
    String(String),
    /// A sequence.
    Seq(Vec<Value>),
    /// A mapping with its key order.
    Map(Mapping),
}

impl Value {
    /// The mapping inside, if this is one.
    pub fn as_map(&self) -> Option<&Mapping> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// The mutable mapping inside, if this is one.
    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// The sequence inside, if this is one.
    pub fn as_seq(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    /// The string inside, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// Member `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }
    /// Mutable member `key` of a mapping.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }
    /// Follow a path of mapping keys.
    pub fn pointer(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }
    /// Follow a path of mapping keys, mutably.
    pub fn pointer_mut(&mut self, path: &[&str]) -> Option<&mut Value> {
        path.iter().try_fold(self, |v, k| v.get_mut(k))
    }
    /// Follow a path of mapping keys and sequence indices.
    pub fn at_path(&self, path: &[String]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| match v {
            Value::Map(m) => m.get(k),
            Value::Seq(s) => s.get(k.parse::<usize>().ok()?),
            _ => None,
        })
    }
    /// String at a path of mapping keys.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.pointer(path).and_then(Value::as_str)
    }
    /// Follow a path of mapping keys, creating empty mappings where missing (or where a
    /// `null` stands), so transformers can add `metadata.labels` and the like.
    pub fn ensure_map_path(&mut self, path: &[&str]) -> Option<&mut Mapping> {
        let mut cur = self;
        for k in path {
            if matches!(cur, Value::Null) {
                *cur = Value::Map(Mapping::default());
            }
            let m = cur.as_map_mut()?;
            let next = m.entry((*k).to_string()).or_insert(Value::Null);
            if matches!(next, Value::Null) {
                *next = Value::Map(Mapping::default());
            }
            cur = next;
        }
        if matches!(cur, Value::Null) {
            *cur = Value::Map(Mapping::default());
        }
        cur.as_map_mut()
    }
    /// The scalar rendered as kustomize renders scalars in string contexts (labels, data).
    pub fn scalar_string(&self) -> Option<String> {
        match self {
            Value::Null => Some(String::new()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::UInt(u) => Some(u.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }
    /// Convert to `serde_json::Value` (keys sorted unless serde_json preserves order), used
    /// for hashing and for comparisons in tests.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::UInt(u) => serde_json::Value::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(s) => serde_json::Value::Array(s.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) => s.serialize_f64(*f),
            Value::String(v) => s.serialize_str(v),
            Value::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::String(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Mapping::default();
        while let Some(k) = map.next_key::<KeyString>()? {
            let v: Value = map.next_value()?;
            out.insert(k.0, v);
        }
        Ok(Value::Map(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// A mapping key: YAML allows non-string scalar keys (`80: x`, `true: y`); Kubernetes objects
/// only have string keys, so scalars are turned into their text.
struct KeyString(String);

/// Reads a key straight into its text (as [`Value::scalar_string`] renders scalars), without
/// building a [`Value`] and copying its string: keys are most of what a parse reads.
struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = KeyString;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyString, E> {
        Ok(KeyString(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyString, E> {
        Ok(KeyString(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyString, E> {
        Ok(KeyString(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyString, E> {
        Ok(KeyString(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyString, E> {
        Ok(KeyString(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<KeyString, E> {
        Ok(KeyString(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<KeyString, E> {
        Ok(KeyString(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<KeyString, E> {
        Ok(KeyString(String::new()))
    }
    fn visit_none<E: de::Error>(self) -> Result<KeyString, E> {
        Ok(KeyString(String::new()))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<KeyString, D::Error> {
        KeyString::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<KeyString, A::Error> {
        Err(de::Error::custom("mapping keys must be scalars"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<KeyString, A::Error> {
        Err(de::Error::custom("mapping keys must be scalars"))
    }
}

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyString, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preserves_key_order_and_round_trips() {
        let v: Value = serde_saphyr::from_str("b: 1\na: [x, 2]\nc: {d: null}\n").unwrap();
        let keys: Vec<_> = v.as_map().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["b", "a", "c"]);
        let out = serde_saphyr::to_string(&v).unwrap();
        let back: Value = serde_saphyr::from_str(&out).unwrap();
        assert_eq!(v, back);
    }

    #[test]
    fn scalar_keys_become_their_text() {
        let v: Value = crate::loader::parse_docs(
            std::path::Path::new("k.yaml"),
            "80: a\ntrue: b\n1.5: c\n~: d\n\"q\": e\n",
        )
        .unwrap()
        .remove(0);
        let keys: Vec<_> = v.as_map().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["80", "true", "1.5", "", "q"]);
        let bad = crate::loader::parse_docs(std::path::Path::new("k.yaml"), "? [a]\n: x\n");
        assert!(bad.is_err());
    }

    #[test]
    fn ensure_map_path_creates() {
        let mut v = Value::Map(Mapping::default());
        v.ensure_map_path(&["metadata", "labels"])
            .unwrap()
            .insert("a".into(), "b".into());
        assert_eq!(v.str_at(&["metadata", "labels", "a"]), Some("b"));
    }
}
