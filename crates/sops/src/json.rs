//! JSON in and out, keeping key order. As in SOPS, a number without fraction or exponent that
//! fits an int64 is an integer, any other number a float64.

use crate::node::{Node, json_float};
use crate::{Error, Result};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

struct JsonNode(Node);

impl<'de> Deserialize<'de> for JsonNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor).map(JsonNode)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonNode(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, JsonNode(v))) = map.next_entry::<String, JsonNode>()? {
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }
}

/// Parses a JSON document whose top level must be an object, as SOPS requires.
pub(crate) fn parse(data: &[u8], format: &'static str) -> Result<Node> {
    let JsonNode(node) = serde_json::from_slice(data).map_err(|e| Error::Parse {
        format,
        reason: e.to_string(),
    })?;
    if !matches!(node, Node::Map(_)) {
        return Err(Error::Parse {
            format,
            reason: "SOPS only supports JSON documents with a top-level object".into(),
        });
    }
    Ok(node)
}

/// Renders `node` as tab-indented JSON, as `sops -d` prints it, ending with a newline.
pub(crate) fn emit(node: &Node) -> String {
    let mut out = String::new();
    write(&mut out, node, 0);
    out.push('\n');
    out
}

fn write(out: &mut String, node: &Node, indent: usize) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) => out.push_str(&json_float(*f)),
        Node::Str(s) | Node::Time(s) => out.push_str(&quote(s)),
        Node::Bytes(b) => out.push_str(&quote(&String::from_utf8_lossy(b))),
        Node::Seq(items) if items.is_empty() => out.push_str("[]"),
        Node::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, indent + 1);
                write(out, item, indent + 1);
            }
            out.push('\n');
            pad(out, indent);
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                pad(out, indent + 1);
                out.push_str(&quote(k));
                out.push_str(": ");
                write(out, v, indent + 1);
            }
            out.push('\n');
            pad(out, indent);
            out.push('}');
        }
    }
}

fn pad(out: &mut String, level: usize) {
    out.extend(std::iter::repeat_n('\t', level));
}

/// A JSON string escaped as Go's `encoding/json` does (HTML-sensitive characters as `\u` escapes).
fn quote(s: &str) -> String {
    // serde_json's string escaping cannot fail for a &str.
    let quoted = serde_json::to_string(s).unwrap_or_default();
    if !quoted.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return quoted;
    }
    quoted
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_types_numbers_as_sops() {
        let node = parse(
            br#"{"z": 1, "a": [true, null, "x", 2.5, 1.0, 12345678901234567890]}"#,
            "JSON",
        )
        .unwrap();
        let Node::Map(entries) = &node else { panic!() };
        assert_eq!(entries[0], ("z".to_string(), Node::Int(1)));
        let Node::Seq(items) = &entries[1].1 else {
            panic!()
        };
        assert_eq!(items[4], Node::Float(1.0));
        assert_eq!(items[5], Node::Float(12345678901234567890.0));
        assert_eq!(entries[1].0, "a");
        let out = emit(&node);
        // As with sops, 1.0 prints as 1 and reads back as an integer; the text is stable.
        assert_eq!(emit(&parse(out.as_bytes(), "JSON").unwrap()), out);
        assert!(out.starts_with("{\n\t\"z\": 1,\n"), "{out}");
        assert!(parse(b"[1]", "JSON").is_err());
    }
}
