//! Signature verification of commits and tags (`spec.verify`).
//!
//! Git signs an object by handing the signer the object's bytes without the signature, then
//! stores the signature inside the object: as the `gpgsig` header of a commit, or appended to a
//! tag's message. [`crate::Commit::encoded`] / [`crate::Tag::encoded`] are those signed bytes and
//! `signature` the armored signature, so verifying is a detached-signature check of one over the
//! other:
//!
//! * OpenPGP (`-----BEGIN PGP SIGNATURE-----`) with rPGP (`pgp`, pure Rust) against the armored
//!   public keys of the secret; the signing key may be the primary key or a subkey.
//! * SSH (`-----BEGIN SSH SIGNATURE-----`, `gpg.format=ssh`) with `ssh-key`'s SSHSIG support in
//!   the `git` namespace against the secret's SSH public keys (ed25519, ECDSA, RSA).
//!
//! X.509 (`gpgsm`) signatures are rejected as unsupported.

use std::collections::BTreeMap;

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::{KeyDetails, VerifyingKey};

use crate::{Checkout, Commit, Error, Result, Tag};

/// The SSHSIG namespace git signs objects in.
const SSH_NAMESPACE: &str = "git";

const PGP_SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----";
const PGP_MESSAGE: &str = "-----BEGIN PGP MESSAGE-----";
const SSH_SIGNATURE: &str = "-----BEGIN SSH SIGNATURE-----";
const X509_SIGNATURE: &str = "-----BEGIN SIGNED MESSAGE-----";
const PGP_PUBLIC_KEY_BLOCK: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

/// Which objects `spec.verify.mode` asks to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The commit HEAD points to (`HEAD`, formerly `head`).
    #[default]
    Head,
    /// The annotated tag (`Tag`).
    Tag,
    /// Both (`TagAndHEAD`).
    TagAndHead,
}

impl Mode {
    /// Parse Flux's `spec.verify.mode` (`HEAD`, `Tag`, `TagAndHEAD`, and `v1beta2`'s `head`);
    /// empty means `HEAD`, Flux's default. `None` for anything else.
    pub fn from_flux(mode: &str) -> Option<Mode> {
        match mode.trim() {
            "" | "HEAD" | "head" => Some(Mode::Head),
            "Tag" => Some(Mode::Tag),
            "TagAndHEAD" => Some(Mode::TagAndHead),
            _ => None,
        }
    }

    fn verifies_head(self) -> bool {
        matches!(self, Mode::Head | Mode::TagAndHead)
    }

    fn verifies_tag(self) -> bool {
        matches!(self, Mode::Tag | Mode::TagAndHead)
    }
}

/// The trusted public keys, from the Secret named by `spec.verify.secretRef`.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    pgp: Vec<SignedPublicKey>,
    ssh: Vec<ssh_key::PublicKey>,
}

impl Keys {
    /// Collect every public key in a Secret's `data`, whatever the key names.
    ///
    /// A value may hold one or more armored OpenPGP public key blocks (each block may itself be
    /// a keyring) and/or SSH public keys, one per line, in `authorized_keys` form (optionally
    /// with options) or `allowed_signers` form (principals first). Lines and blocks that do not
    /// parse are skipped; a secret without a single usable key is an error.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Keys> {
        let mut keys = Keys::default();
        for value in data.values() {
            let text = String::from_utf8_lossy(value);
            keys.pgp.extend(parse_pgp_keys(&text));
            keys.ssh.extend(text.lines().filter_map(parse_ssh_line));
        }
        if keys.is_empty() {
            return Err(Error::Verification(
                "no valid public keys in secret".to_owned(),
            ));
        }
        Ok(keys)
    }

    /// Number of OpenPGP public keys (certificates).
    pub fn pgp_len(&self) -> usize {
        self.pgp.len()
    }

    /// Number of SSH public keys.
    pub fn ssh_len(&self) -> usize {
        self.ssh.len()
    }

    /// Whether there is no key at all.
    pub fn is_empty(&self) -> bool {
        self.pgp.is_empty() && self.ssh.is_empty()
    }
}

/// Every armored public key block in `text` (a keyring block yields several keys).
fn parse_pgp_keys(text: &str) -> Vec<SignedPublicKey> {
    let mut out = Vec::new();
    let starts: Vec<usize> = text
        .match_indices(PGP_PUBLIC_KEY_BLOCK)
        .map(|(i, _)| i)
        .collect();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(text.len());
        let block = &text[start..end];
        if let Ok((iter, _headers)) = SignedPublicKey::from_string_many(block) {
            out.extend(iter.filter_map(std::result::Result::ok));
        }
    }
    out
}

/// One SSH public key from an `authorized_keys` / `allowed_signers` / `.pub` line.
fn parse_ssh_line(line: &str) -> Option<ssh_key::PublicKey> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    if let Ok(key) = ssh_key::PublicKey::from_openssh(line) {
        return Some(key);
    }
    // Options or principals before the key: start at the first token that parses as a key type.
    let tokens: Vec<&str> = line.split_whitespace().collect();
    (1..tokens.len()).find_map(|i| {
        ssh_key::Algorithm::new(tokens[i]).ok()?;
        ssh_key::PublicKey::from_openssh(&tokens[i..].join(" ")).ok()
    })
}

/// Which keys verified the checkout. OpenPGP keys are named by their primary key's 16-digit
/// key id (upper-case hex, as Flux reports them), SSH keys by their `SHA256:` fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// Key that signed the commit, when the mode includes HEAD.
    pub commit_key: Option<String>,
    /// Key that signed the annotated tag, when the mode includes Tag.
    pub tag_key: Option<String>,
}

/// Verify what `mode` asks for in `checkout` against `keys`.
///
/// Errors are [`Error::Verification`] with Flux-style messages: `unable to verify commit
/// '<hash>': <why>` or `unable to verify tag '<name>': <why>`.
pub fn verify(checkout: &Checkout, mode: Mode, keys: &Keys) -> Result<Verified> {
    let mut verified = Verified::default();
    if mode.verifies_tag() {
        let Some(tag) = checkout.tag.as_ref() else {
            let what = if checkout.commit.reference.starts_with("refs/tags/") {
                format!(
                    "'{}' is a lightweight tag",
                    checkout.commit.reference.trim_start_matches("refs/tags/")
                )
            } else if checkout.commit.reference.is_empty() {
                format!(
                    "commit '{}' was not reached through a tag",
                    checkout.commit.hash
                )
            } else {
                format!("'{}' is not a tag", checkout.commit.reference)
            };
            return Err(Error::Verification(format!(
                "unable to verify tag: {what}; verification mode {mode:?} needs a tag or semver \
                 reference that resolves to an annotated tag"
            )));
        };
        verified.tag_key = Some(verify_tag(tag, keys)?);
    }
    if mode.verifies_head() {
        verified.commit_key = Some(verify_commit(&checkout.commit, keys)?);
    }
    Ok(verified)
}

/// Verify a commit's signature; returns the key that made it.
pub fn verify_commit(commit: &Commit, keys: &Keys) -> Result<String> {
    verify_signature(commit.signature.as_deref(), &commit.encoded, keys).map_err(|why| {
        Error::Verification(format!("unable to verify commit '{}': {why}", commit.hash))
    })
}

/// Verify an annotated tag's signature; returns the key that made it.
pub fn verify_tag(tag: &Tag, keys: &Keys) -> Result<String> {
    verify_signature(tag.signature.as_deref(), &tag.encoded, keys)
        .map_err(|why| Error::Verification(format!("unable to verify tag '{}': {why}", tag.name)))
}

/// Check `signature` over `payload`; the error is the bare reason.
fn verify_signature(
    signature: Option<&str>,
    payload: &[u8],
    keys: &Keys,
) -> std::result::Result<String, String> {
    let Some(signature) = signature.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err("no signature".to_owned());
    };
    if signature.starts_with(SSH_SIGNATURE) {
        verify_ssh(signature, payload, &keys.ssh)
    } else if signature.starts_with(PGP_SIGNATURE) || signature.starts_with(PGP_MESSAGE) {
        verify_pgp(signature, payload, &keys.pgp)
    } else if signature.starts_with(X509_SIGNATURE) {
        Err("X.509 signatures are not supported".to_owned())
    } else {
        Err("unknown signature format".to_owned())
    }
}

fn verify_ssh(
    signature: &str,
    payload: &[u8],
    keys: &[ssh_key::PublicKey],
) -> std::result::Result<String, String> {
    let sig = ssh_key::SshSig::from_pem(signature)
        .map_err(|e| format!("malformed SSH signature: {e}"))?;
    if sig.namespace() != SSH_NAMESPACE {
        return Err(format!(
            "SSH signature has namespace '{}', expected '{SSH_NAMESPACE}'",
            sig.namespace()
        ));
    }
    let signer = ssh_key::PublicKey::from(sig.public_key().clone())
        .fingerprint(ssh_key::HashAlg::Sha256)
        .to_string();
    if keys.is_empty() {
        return Err(format!(
            "signed with SSH key {signer}, but the secret holds no SSH keys"
        ));
    }
    let Some(key) = keys.iter().find(|k| k.key_data() == sig.public_key()) else {
        return Err(format!(
            "signed with SSH key {signer}, which is not in the secret"
        ));
    };
    key.verify(SSH_NAMESPACE, payload, &sig)
        .map_err(|e| format!("invalid SSH signature by key {signer}: {e}"))?;
    Ok(signer)
}

fn verify_pgp(
    signature: &str,
    payload: &[u8],
    keys: &[SignedPublicKey],
) -> std::result::Result<String, String> {
    let (sig, _headers) = DetachedSignature::from_string(signature)
        .map_err(|e| format!("malformed OpenPGP signature: {e}"))?;
    let issuers: Vec<String> = sig
        .signature
        .issuer_fingerprint()
        .iter()
        .map(|fp| upper_hex(fp.as_ref()))
        .chain(
            sig.signature
                .issuer_key_id()
                .iter()
                .map(|id| upper_hex(id.as_ref())),
        )
        .collect();
    let issuer = issuers.first().cloned().unwrap_or_else(|| "unknown".into());
    if keys.is_empty() {
        return Err(format!(
            "signed with OpenPGP key {issuer}, but the secret holds no OpenPGP keys"
        ));
    }
    let mut last_error: Option<String> = None;
    for key in keys {
        let primary_id = upper_hex(key.primary_key.legacy_key_id().as_ref());
        // The primary key or any subkey may have made the signature; only those the
        // signature's issuer subpackets name are tried (rPGP would refuse the others anyway).
        let mut attempts = std::iter::once(try_pgp_key(&sig, &key.primary_key, payload, &issuers))
            .chain(
                key.public_subkeys
                    .iter()
                    .map(|sub| try_pgp_key(&sig, &sub.key, payload, &issuers)),
            )
            .flatten();
        for attempt in &mut attempts {
            match attempt {
                Ok(()) => return Ok(primary_id),
                Err(e) => {
                    last_error = Some(format!(
                        "invalid OpenPGP signature by key {primary_id}: {e}"
                    ));
                }
            }
        }
    }
    Err(last_error
        .unwrap_or_else(|| format!("signed with OpenPGP key {issuer}, which is not in the secret")))
}

/// Verify with `key` if the signature names it as issuer; `None` when it does not.
fn try_pgp_key(
    sig: &DetachedSignature,
    key: &impl VerifyingKey,
    payload: &[u8],
    issuers: &[String],
) -> Option<pgp::errors::Result<()>> {
    issuer_matches(issuers, key).then(|| sig.verify(key, payload))
}

/// Whether `key` is named by the signature's issuer subpackets (any key when there are none).
fn issuer_matches(issuers: &[String], key: &impl KeyDetails) -> bool {
    issuers.is_empty()
        || issuers.iter().any(|i| {
            *i == upper_hex(key.fingerprint().as_ref())
                || *i == upper_hex(key.legacy_key_id().as_ref())
        })
}

fn upper_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

#[cfg(test)]
mod tests;
