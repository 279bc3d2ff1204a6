//! Walks a document as SOPS does: decrypts the values its rules mark as encrypted and hashes
//! the plaintext values, in order, into the MAC.

use crate::cipher;
use crate::metadata::{Metadata, Rules};
use crate::node::Node;
use crate::{Error, Result};
use sha2::{Digest, Sha512};

/// SHA-256 of "sops": the MAC of `mac_only_encrypted` files starts with it, so that such a MAC
/// never equals one over all values.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

struct Walk<'a> {
    rules: &'a Rules,
    key: &'a [u8],
    hasher: Sha512,
    path: Vec<String>,
}

impl Walk<'_> {
    fn node(&mut self, node: &mut Node) -> Result<()> {
        match node {
            Node::Map(entries) => {
                for (k, v) in entries.iter_mut() {
                    self.path.push(k.clone());
                    let r = self.node(v);
                    self.path.pop();
                    r?;
                }
                Ok(())
            }
            // List items share their list's path: SOPS does not add indices.
            Node::Seq(items) => items.iter_mut().try_for_each(|item| self.node(item)),
            Node::Null => Ok(()),
            leaf => self.leaf(leaf),
        }
    }

    fn leaf(&mut self, leaf: &mut Node) -> Result<()> {
        let encrypted = self.rules.should_encrypt(&self.path, leaf);
        if encrypted {
            let Node::Str(value) = &*leaf else {
                return Err(Error::Value {
                    path: self.display_path(),
                    reason: "expected an encrypted value, found a plain scalar".into(),
                });
            };
            let aad = format!("{}:", self.path.join(":"));
            *leaf = cipher::decrypt(value, self.key, &aad).map_err(|reason| Error::Value {
                path: self.display_path(),
                reason,
            })?;
        }
        if !self.rules.mac_only_encrypted || encrypted {
            self.hasher.update(leaf.mac_bytes());
        }
        Ok(())
    }

    fn display_path(&self) -> String {
        self.path.join(".")
    }
}

/// Decrypts `branches` (YAML documents, or the single JSON/dotenv/binary tree) in place and,
/// when `verify_mac`, checks the MAC.
pub(crate) fn decrypt(
    branches: &mut [Node],
    metadata: &Metadata,
    key: &[u8],
    verify_mac: bool,
) -> Result<()> {
    let rules = metadata.rules()?;
    let mut walk = Walk {
        rules: &rules,
        key,
        hasher: Sha512::new(),
        path: Vec::new(),
    };
    if rules.mac_only_encrypted {
        walk.hasher.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    for branch in branches.iter_mut() {
        walk.node(branch)?;
    }
    if !verify_mac {
        return Ok(());
    }
    let computed = hex::encode_upper(walk.hasher.finalize());
    let aad = crate::metadata::normalize_lastmodified(&metadata.lastmodified)?;
    let stored = match cipher::decrypt(&metadata.mac, key, &aad) {
        Ok(Node::Str(mac)) => mac,
        Ok(_) => return Err(Error::MacMismatch("the stored MAC is not a string".into())),
        Err(e) => {
            return Err(Error::MacMismatch(format!(
                "the stored MAC cannot be read: {e}"
            )));
        }
    };
    if stored != computed {
        return Err(Error::MacMismatch(
            "the values do not match the MAC stored in the file".into(),
        ));
    }
    Ok(())
}

/// Decrypts a comment if it was encrypted (SOPS encrypts comments under the enclosing path;
/// comments that do not decrypt are kept as written, as SOPS does). Comments are not in the MAC.
pub(crate) fn decrypt_comment(comment: &str, key: &[u8], aad: &str) -> String {
    match cipher::decrypt(comment, key, aad) {
        Ok(Node::Str(s)) => s,
        _ => comment.to_string(),
    }
}
