//! dotenv files: `KEY=value` lines (`\n` escaped as `\\n`) and `#` comments. SOPS keeps its
//! metadata in flattened `sops_…` entries.

use crate::node::Node;
use crate::{Error, Result};

pub(crate) enum Item {
    Comment(String),
    Pair(String, String),
}

pub(crate) fn parse(text: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            items.push(Item::Comment(comment.to_string()));
        } else if let Some((k, v)) = line.split_once('=') {
            items.push(Item::Pair(k.to_string(), v.replace("\\n", "\n")));
        } else {
            return Err(Error::Parse {
                format: "dotenv",
                reason: format!("line {}: no '=' in {line:?}", n + 1),
            });
        }
    }
    Ok(items)
}

pub(crate) const SOPS_PREFIX: &str = "sops_";

/// Rebuilds SOPS's metadata object from its flattened `sops_` entries (`__map_key` for nested
/// maps, `__list_N` for list items).
pub(crate) fn unflatten_metadata(items: &[Item]) -> serde_json::Value {
    use serde_json::{Map, Value};
    let mut root = Value::Object(Map::new());
    for item in items {
        let Item::Pair(key, value) = item else {
            continue;
        };
        let Some(flat) = key.strip_prefix(SOPS_PREFIX) else {
            continue;
        };
        let tokens = tokenize(flat);
        let mut current = &mut root;
        for (i, token) in tokens.iter().enumerate() {
            let last = i + 1 == tokens.len();
            let next_is_list = tokens
                .get(i + 1)
                .is_some_and(|t| matches!(t, Token::List(_)));
            let empty = || {
                if last {
                    Value::String(value.clone())
                } else if next_is_list {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                }
            };
            current = match token {
                Token::Map(k) => {
                    let Value::Object(map) = current else { break };
                    let slot = map.entry(k.clone()).or_insert_with(empty);
                    if last {
                        *slot = Value::String(value.clone());
                    }
                    slot
                }
                Token::List(idx) => {
                    let Value::Array(list) = current else { break };
                    if list.len() <= *idx {
                        list.resize(*idx + 1, Value::Null);
                    }
                    if list[*idx].is_null() || last {
                        list[*idx] = empty();
                    }
                    &mut list[*idx]
                }
            };
        }
    }
    root
}

enum Token {
    Map(String),
    List(usize),
}

fn tokenize(path: &str) -> Vec<Token> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    let mut tokens = Vec::new();
    let mut rest = path;
    let mut kind_is_list = false;
    loop {
        let next = [rest.find(MAP), rest.find(LIST)]
            .into_iter()
            .flatten()
            .min();
        let (part, after) = match next {
            Some(pos) => (&rest[..pos], Some(&rest[pos..])),
            None => (rest, None),
        };
        tokens.push(if kind_is_list {
            Token::List(part.parse().unwrap_or(0))
        } else {
            Token::Map(part.to_string())
        });
        let Some(after) = after else { break };
        if let Some(r) = after.strip_prefix(MAP) {
            kind_is_list = false;
            rest = r;
        } else if let Some(r) = after.strip_prefix(LIST) {
            kind_is_list = true;
            rest = r;
        }
    }
    tokens
}

/// The data entries (without `sops_` metadata) as a map for the tree walk.
pub(crate) fn data_tree(items: &[Item]) -> Node {
    Node::Map(
        items
            .iter()
            .filter_map(|item| match item {
                Item::Pair(k, v) if !k.starts_with(SOPS_PREFIX) => {
                    Some((k.clone(), Node::Str(v.clone())))
                }
                _ => None,
            })
            .collect(),
    )
}

/// Writes the decrypted entries back in their original order, with comments, as `sops -d`.
pub(crate) fn emit(items: &[Item], tree: &Node, comment: impl Fn(&str) -> String) -> Vec<u8> {
    let Node::Map(entries) = tree else {
        return Vec::new();
    };
    let mut values = entries.iter();
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Comment(c) => {
                out.push(b'#');
                out.extend_from_slice(comment(c).as_bytes());
                out.push(b'\n');
            }
            Item::Pair(k, _) if k.starts_with(SOPS_PREFIX) => {}
            Item::Pair(k, _) => {
                let Some((_, v)) = values.next() else {
                    continue;
                };
                out.extend_from_slice(k.as_bytes());
                out.push(b'=');
                let bytes = match v {
                    Node::Str(s) => s.replace('\n', "\\n").into_bytes(),
                    Node::Bytes(b) => b.clone(),
                    other => String::from_utf8_lossy(&other.mac_bytes())
                        .into_owned()
                        .into_bytes(),
                };
                out.extend_from_slice(&bytes);
                out.push(b'\n');
            }
        }
    }
    out
}

/// Writes a tree decrypted from another format as dotenv (SOPS's `EmitPlainFile`): top-level
/// scalars only.
pub(crate) fn emit_tree(tree: &Node) -> std::result::Result<Vec<u8>, String> {
    let Node::Map(entries) = tree else {
        return Err("the document is not a map".into());
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let value = match v {
            Node::Seq(_) | Node::Map(_) => {
                return Err(format!(
                    "cannot use complex value in dotenv file: key '{k}'"
                ));
            }
            Node::Null => "<nil>".to_string(),
            Node::Bool(b) => b.to_string(),
            Node::Str(s) | Node::Time(s) => s.clone(),
            other => String::from_utf8_lossy(&other.mac_bytes()).into_owned(),
        };
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.replace('\n', "\\n").as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_unflattens() {
        let items = parse(
            "A=1\nsops_age__list_0__map_recipient=age1x\nsops_age__list_0__map_enc=line1\\nline2\n\
             sops_mac=ENC\nsops_version=3.13.3\nsops_mac_only_encrypted=true\n",
        )
        .unwrap();
        let meta = unflatten_metadata(&items);
        assert_eq!(meta["age"][0]["recipient"], "age1x");
        assert_eq!(meta["age"][0]["enc"], "line1\nline2");
        assert_eq!(meta["mac"], "ENC");
        assert_eq!(meta["mac_only_encrypted"], "true");
        assert!(parse("NOEQUALS\n").is_err());
    }
}
