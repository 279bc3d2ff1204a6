//! The `sops` metadata block: which keys can recover the data key, which values are encrypted,
//! and the encrypted MAC.

use crate::node::Node;
use crate::{Error, Keys, Result};
use regex::Regex;
use serde::Deserialize;
use std::io::Read;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Metadata {
    age: Vec<AgeKey>,
    key_groups: Vec<KeyGroup>,
    shamir_threshold: Option<serde_json::Value>,
    pgp: Vec<PgpKey>,
    kms: Vec<serde_json::Value>,
    gcp_kms: Vec<serde_json::Value>,
    hckms: Vec<serde_json::Value>,
    azure_kv: Vec<serde_json::Value>,
    hc_vault: Vec<serde_json::Value>,
    pub(crate) lastmodified: String,
    pub(crate) mac: String,
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<String>,
    encrypted_regex: Option<String>,
    unencrypted_comment_regex: Option<String>,
    encrypted_comment_regex: Option<String>,
    mac_only_encrypted: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KeyGroup {
    age: Vec<AgeKey>,
    pgp: Vec<PgpKey>,
    kms: Vec<serde_json::Value>,
    gcp_kms: Vec<serde_json::Value>,
    hckms: Vec<serde_json::Value>,
    azure_kv: Vec<serde_json::Value>,
    hc_vault: Vec<serde_json::Value>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct PgpKey {
    fp: String,
    enc: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct AgeKey {
    recipient: String,
    enc: String,
}

/// Which values of the tree are encrypted, from the metadata's rules.
pub(crate) struct Rules {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<Regex>,
    encrypted_regex: Option<Regex>,
    /// With comment rules, whether a value is encrypted depends on the comments above it.
    /// Comments are not kept in our tree, so such documents are decided by the value's shape.
    by_shape: bool,
    pub(crate) mac_only_encrypted: bool,
}

impl Rules {
    /// SOPS's `shouldBeEncrypted` for a value at `path` (map keys from the root).
    pub(crate) fn should_encrypt(&self, path: &[String], value: &Node) -> bool {
        if self.by_shape {
            return matches!(value, Node::Str(s) if crate::cipher::is_encrypted_value(s));
        }
        let mut encrypted = true;
        if let Some(suffix) = &self.unencrypted_suffix
            && path.iter().any(|k| k.ends_with(suffix.as_str()))
        {
            encrypted = false;
        }
        if let Some(suffix) = &self.encrypted_suffix {
            encrypted = path.iter().any(|k| k.ends_with(suffix.as_str()));
        }
        if let Some(re) = &self.unencrypted_regex
            && path.iter().any(|k| re.is_match(k))
        {
            encrypted = false;
        }
        if let Some(re) = &self.encrypted_regex {
            encrypted = path.iter().any(|k| re.is_match(k));
        }
        encrypted
    }
}

/// Drops `null` members so that `kms: null` and a missing `kms` read the same.
fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

impl Metadata {
    pub(crate) fn from_json(mut value: serde_json::Value) -> Result<Self> {
        if !value.is_object() {
            return Err(Error::Metadata("'sops' is not a map".into()));
        }
        strip_nulls(&mut value);
        // dotenv stores booleans as strings; SOPS reads them weakly typed.
        if let Some(v) = value.get_mut("mac_only_encrypted")
            && let Some(s) = v.as_str()
        {
            *v = serde_json::Value::Bool(matches!(s, "1" | "t" | "T" | "true" | "True" | "TRUE"));
        }
        serde_json::from_value(value).map_err(|e| Error::Metadata(e.to_string()))
    }

    pub(crate) fn rules(&self) -> Result<Rules> {
        let compile = |what: &str, re: Option<&str>| {
            re.map(|re| {
                Regex::new(re).map_err(|e| Error::Metadata(format!("invalid {what} {re:?}: {e}")))
            })
            .transpose()
        };
        let count = [
            &self.unencrypted_suffix,
            &self.encrypted_suffix,
            &self.unencrypted_regex,
            &self.encrypted_regex,
            &self.unencrypted_comment_regex,
            &self.encrypted_comment_regex,
        ]
        .into_iter()
        .filter(|s| non_empty(s).is_some())
        .count();
        if count > 1 {
            return Err(Error::Metadata(
                "cannot use more than one of encrypted_suffix, unencrypted_suffix, \
                 encrypted_regex, unencrypted_regex, encrypted_comment_regex or \
                 unencrypted_comment_regex in the same file"
                    .into(),
            ));
        }
        let by_shape = non_empty(&self.unencrypted_comment_regex).is_some()
            || non_empty(&self.encrypted_comment_regex).is_some();
        let unencrypted_suffix = match non_empty(&self.unencrypted_suffix) {
            Some(s) => Some(s.to_string()),
            // SOPS's default when no rule is stored.
            None if count == 0 => Some("_unencrypted".to_string()),
            None => None,
        };
        Ok(Rules {
            unencrypted_suffix,
            encrypted_suffix: non_empty(&self.encrypted_suffix).map(str::to_string),
            unencrypted_regex: compile("unencrypted_regex", non_empty(&self.unencrypted_regex))?,
            encrypted_regex: compile("encrypted_regex", non_empty(&self.encrypted_regex))?,
            by_shape,
            mac_only_encrypted: self.mac_only_encrypted,
        })
    }

    /// Recovers the data key: with one key group, from the first age recipient one of `keys`
    /// opens; with several groups (Shamir), from one share per group, at least
    /// `shamir_threshold` of them.
    pub(crate) fn data_key(&self, keys: &Keys) -> Result<Vec<u8>> {
        let top_level = KeyGroup {
            age: self.age.clone(),
            pgp: self.pgp.clone(),
            kms: self.kms.clone(),
            gcp_kms: self.gcp_kms.clone(),
            hckms: self.hckms.clone(),
            azure_kv: self.azure_kv.clone(),
            hc_vault: self.hc_vault.clone(),
        };
        let groups: Vec<&KeyGroup> = if top_level.key_count() > 0 {
            vec![&top_level]
        } else {
            self.key_groups.iter().collect()
        };
        match groups.as_slice() {
            [] => Err(Error::Metadata("no keys found in file".into())),
            [group] => match group.share(keys) {
                Ok(key) if key.len() == 32 => Ok(key),
                Ok(key) => Err(Error::Metadata(format!(
                    "the data key has {} bytes, want 32",
                    key.len()
                ))),
                Err(detail) => Err(Error::NoMatchingKey(format!(
                    "{detail}; {}",
                    keys.describe()
                ))),
            },
            groups => {
                let threshold = self.threshold(groups.len());
                let mut parts = Vec::new();
                let mut failures = Vec::new();
                for (i, group) in groups.iter().enumerate() {
                    match group.share(keys) {
                        Ok(part) => parts.push(part),
                        Err(detail) => failures.push(format!("group {}: {detail}", i + 1)),
                    }
                }
                if parts.len() < threshold {
                    return Err(Error::NoMatchingKey(format!(
                        "{} of {} key groups opened, {threshold} needed (Shamir); {}; {}",
                        parts.len(),
                        groups.len(),
                        failures.join("; "),
                        keys.describe()
                    )));
                }
                let key = crate::shamir::combine(&parts).map_err(|e| {
                    Error::Metadata(format!("could not combine the Shamir shares: {e}"))
                })?;
                if key.len() != 32 {
                    return Err(Error::Metadata(format!(
                        "the combined data key has {} bytes, want 32",
                        key.len()
                    )));
                }
                Ok(key)
            }
        }
    }

    /// `shamir_threshold`, written as a number or (dotenv) a string; SOPS defaults it to the
    /// number of groups.
    fn threshold(&self, groups: usize) -> usize {
        let t = match &self.shamir_threshold {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        match t {
            Some(0) | None => groups,
            Some(t) => usize::try_from(t).unwrap_or(groups),
        }
    }
}

impl KeyGroup {
    fn key_count(&self) -> usize {
        self.age.len() + self.pgp.len() + self.unsupported()
    }

    fn unsupported(&self) -> usize {
        self.kms.len()
            + self.gcp_kms.len()
            + self.hckms.len()
            + self.azure_kv.len()
            + self.hc_vault.len()
    }

    /// This group's data key (or Shamir share) from its first recipient one of `keys` opens:
    /// age recipients first, then OpenPGP, SOPS's default order.
    fn share(&self, keys: &Keys) -> std::result::Result<Vec<u8>, String> {
        let mut errors = Vec::new();
        for key in &self.age {
            match decrypt_age(&key.enc, keys) {
                Ok(data_key) => return Ok(data_key),
                Err(e) => errors.push(format!("age {}: {e}", key.recipient)),
            }
        }
        for key in &self.pgp {
            match crate::pgp_keys::decrypt(&key.enc, &keys.pgp) {
                Ok(data_key) => return Ok(data_key),
                Err(e) => errors.push(format!("OpenPGP {}: {e}", key.fp)),
            }
        }
        let mut detail = if errors.is_empty() {
            "no age or OpenPGP recipients".to_string()
        } else {
            format!("tried {}", errors.join(", "))
        };
        let others = self.unsupported();
        if others > 0 {
            detail.push_str(&format!(
                "; {others} KMS/Vault master keys in the file are not supported"
            ));
        }
        Err(detail)
    }
}

fn decrypt_age(armored: &str, keys: &Keys) -> std::result::Result<Vec<u8>, String> {
    if keys.identities.is_empty() && keys.hybrid.is_empty() {
        return Err("no age identities given".into());
    }
    let reader = age::armor::ArmoredReader::new(armored.as_bytes());
    let decryptor = age::Decryptor::new(reader).map_err(|e| e.to_string())?;
    let identities = keys
        .identities
        .iter()
        .map(|i| i as &dyn age::Identity)
        .chain(keys.hybrid.iter().map(|i| i as &dyn age::Identity));
    let mut plain = decryptor.decrypt(identities).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => "no identity matched".to_string(),
        e => e.to_string(),
    })?;
    let mut out = Vec::new();
    plain.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// `lastmodified` as SOPS reformats it (Go's RFC 3339 without fractional seconds, `Z` for a
/// zero offset): it is the MAC's additional data.
pub(crate) fn normalize_lastmodified(s: &str) -> Result<String> {
    let bad = || Error::Metadata(format!("invalid lastmodified {s:?}: want RFC 3339"));
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return Err(bad());
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19))
    {
        return Err(bad());
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(bad());
        }
        rest = &frac[n..];
    }
    let zone = match rest {
        "Z" => "Z",
        z if z.len() == 6
            && (z.starts_with('+') || z.starts_with('-'))
            && z.as_bytes()[3] == b':'
            && z[1..3].bytes().all(|c| c.is_ascii_digit())
            && z[4..6].bytes().all(|c| c.is_ascii_digit()) =>
        {
            if &z[1..] == "00:00" {
                "Z"
            } else {
                z
            }
        }
        _ => return Err(bad()),
    };
    Ok(format!("{}{zone}", &s[..19]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lastmodified_is_reformatted_as_go_does() {
        let n = |s| normalize_lastmodified(s).unwrap();
        assert_eq!(n("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05Z");
        assert_eq!(n("2024-01-02T03:04:05.123456Z"), "2024-01-02T03:04:05Z");
        assert_eq!(n("2024-01-02T03:04:05+00:00"), "2024-01-02T03:04:05Z");
        assert_eq!(n("2024-01-02T03:04:05-07:00"), "2024-01-02T03:04:05-07:00");
        assert!(normalize_lastmodified("yesterday").is_err());
    }

    fn rules(json: serde_json::Value) -> Rules {
        Metadata::from_json(json).unwrap().rules().unwrap()
    }

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_rule_is_the_unencrypted_suffix() {
        let r = rules(serde_json::json!({"mac": "x"}));
        let v = Node::Str("v".into());
        assert!(r.should_encrypt(&path(&["a", "b"]), &v));
        assert!(!r.should_encrypt(&path(&["a_unencrypted", "b"]), &v));
    }

    #[test]
    fn encrypted_regex_matches_any_path_element() {
        let r = rules(serde_json::json!({"encrypted_regex": "^(data|stringData)$"}));
        let v = Node::Str("v".into());
        assert!(r.should_encrypt(&path(&["data", "key"]), &v));
        assert!(!r.should_encrypt(&path(&["metadata", "name"]), &v));
        let r = rules(serde_json::json!({"encrypted_suffix": "_secret"}));
        assert!(r.should_encrypt(&path(&["db_secret", "x"]), &v));
        assert!(!r.should_encrypt(&path(&["db"]), &v));
        let r = rules(serde_json::json!({"unencrypted_regex": "^public"}));
        assert!(!r.should_encrypt(&path(&["publicKey"]), &v));
        assert!(r.should_encrypt(&path(&["privateKey"]), &v));
    }

    #[test]
    fn conflicting_rules_are_refused() {
        let m = Metadata::from_json(serde_json::json!({
            "encrypted_regex": "a", "unencrypted_suffix": "_u"
        }))
        .unwrap();
        assert!(m.rules().is_err());
    }
}
