//! Decryption of SOPS-encrypted documents, as Flux's kustomize-controller does for
//! `spec.decryption.provider: sops`.
//!
//! A SOPS document keeps its structure (keys) in clear text and encrypts values one by one with
//! AES-256-GCM under a random data key, each bound to its path; the data key itself is encrypted
//! for each recipient and stored in the document's `sops` metadata. This crate recovers the data
//! key, decrypts every value, verifies the document's MAC (optional: Flux does not) and returns
//! the plaintext document in its own or another format.
//!
//! - [`decrypt`]: as `sops decrypt` (MAC verified), same format out.
//! - [`decrypt_with`]: explicit input/output formats and MAC policy.
//! - [`decrypt_secret_entry`], [`decrypt_source_file`]: Flux's handling of Secret `data` entries
//!   and of generator/patch source files (MAC not verified, as in Flux).
//! - A built Secret that is itself a SOPS document: [`decrypt_with`] with `verify_mac: false`,
//!   as Flux does, because kustomize adds namespaces and labels to it after encryption.
//!
//! age identities (X25519 and post-quantum ML-KEM-768 + X25519; `.agekey` entries) and OpenPGP
//! secret keys (`.asc` entries) are supported. Flux also accepts HashiCorp Vault tokens
//! (`sops.vault-token`), AWS KMS, Azure Key Vault and GCP KMS credentials, and sops age plugins;
//! those are not supported here, so a document encrypted only for them fails with
//! [`Error::NoMatchingKey`].
#![forbid(unsafe_code)]

mod cipher;
mod dotenv;
mod json;
mod metadata;
mod node;
mod pgp_keys;
mod pq;
mod shamir;
mod tree;
mod yaml;

use metadata::Metadata;
use node::Node;
use std::collections::BTreeMap;
use std::path::Path;

/// Errors of SOPS decryption. Messages name what failed so a Kustomization's condition can
/// explain it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An `.agekey` or `.asc` entry held something that is not a usable key.
    #[error("invalid key in '{entry}': {reason}")]
    InvalidKey { entry: String, reason: String },
    /// The document could not be parsed in its format.
    #[error("failed to parse {format} document: {reason}")]
    Parse {
        format: &'static str,
        reason: String,
    },
    /// The document has no (or malformed) `sops` metadata.
    #[error("sops metadata not found or invalid: {0}")]
    Metadata(String),
    /// None of the given keys decrypts any of the document's recipients.
    #[error(
        "failed to get the data key required to decrypt the SOPS file: no age or OpenPGP key matched the file's recipients ({0})"
    )]
    NoMatchingKey(String),
    /// A value could not be decrypted (tampered ciphertext, wrong path, malformed value).
    #[error("failed to decrypt value at '{path}': {reason}")]
    Value { path: String, reason: String },
    /// The MAC stored in the document does not match the values.
    #[error("MAC mismatch: {0}")]
    MacMismatch(String),
    /// Decryption worked but the plaintext cannot be written in the document's format.
    #[error("failed to emit {format} document: {reason}")]
    Emit {
        format: &'static str,
        reason: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// The keys that may recover SOPS data keys: age identities and OpenPGP secret keys.
pub struct Keys {
    identities: Vec<age::x25519::Identity>,
    /// Post-quantum (ML-KEM-768 + X25519) age identities.
    hybrid: Vec<pq::HybridIdentity>,
    pgp: Vec<pgp::composed::SignedSecretKey>,
    /// Identity lines of kinds we cannot use (age plugins), for error messages.
    skipped: Vec<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Keys")
            .field("age_identities", &self.identities.len())
            .field("age_pq_identities", &self.hybrid.len())
            .field("pgp_keys", &self.pgp.len())
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl Keys {
    /// From a decryption Secret's data, as Flux imports it:
    /// - every entry whose key ends in `.agekey` holds age identities, one per line
    ///   (`AGE-SECRET-KEY-1…` or post-quantum `AGE-SECRET-KEY-PQ-1…`; blank lines and `#`
    ///   comments allowed). Plugin identities (`AGE-PLUGIN-…`) are not supported and are
    ///   skipped (a file only they open fails with [`Error::NoMatchingKey`] naming them);
    /// - every entry whose key ends in `.asc` holds armored OpenPGP secret keys (without
    ///   passphrase).
    ///
    /// Other entries (`sops.vault-token`, `sops.aws-kms`, `sops.azure-kv`, `sops.gcp-kms`) are
    /// ignored: HashiCorp Vault and cloud KMS providers are not supported yet.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self> {
        let mut keys = Keys {
            identities: Vec::new(),
            hybrid: Vec::new(),
            pgp: Vec::new(),
            skipped: Vec::new(),
        };
        for (name, value) in data {
            let invalid = |reason: String| Error::InvalidKey {
                entry: name.clone(),
                reason,
            };
            if name.ends_with(".asc") {
                keys.pgp
                    .extend(pgp_keys::parse_secret_keys(value).map_err(invalid)?);
                continue;
            }
            if !name.ends_with(".agekey") {
                continue;
            }
            let text = std::str::from_utf8(value).map_err(|_| invalid("not UTF-8".into()))?;
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if line.starts_with("AGE-PLUGIN-") {
                    keys.skipped
                        .push(format!("a plugin age identity in '{name}'"));
                    continue;
                }
                if line.starts_with("AGE-SECRET-KEY-PQ-1") {
                    keys.hybrid
                        .push(pq::HybridIdentity::parse(line).map_err(invalid)?);
                    continue;
                }
                if !line.starts_with("AGE-SECRET-KEY-1") {
                    return Err(invalid("unknown identity type".into()));
                }
                let identity = line
                    .parse::<age::x25519::Identity>()
                    .map_err(|e| invalid(e.to_string()))?;
                keys.identities.push(identity);
            }
        }
        Ok(keys)
    }

    /// Number of usable keys held (age identities and OpenPGP secret keys).
    pub fn len(&self) -> usize {
        self.identities.len() + self.hybrid.len() + self.pgp.len()
    }

    /// True when no usable key was found.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the error of a file no key opens says about the keys given.
    fn describe(&self) -> String {
        let mut s = format!(
            "{} age identities and {} OpenPGP keys given",
            self.identities.len() + self.hybrid.len(),
            self.pgp.len()
        );
        for skipped in &self.skipped {
            s.push_str(&format!("; skipped {skipped} (not supported)"));
        }
        s
    }
}

/// The document formats SOPS stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    /// Any other file: SOPS stores it as a JSON document `{"data": ..., "sops": ...}`.
    Binary,
}

impl Format {
    /// The format SOPS picks from a file name: `.yaml`/`.yml`, `.json`, `.env`, else binary.
    pub fn from_path(path: &Path) -> Format {
        // SOPS matches suffixes of the whole path, so `.env` alone is dotenv too.
        let path = path.to_string_lossy();
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Format::Yaml
        } else if path.ends_with(".json") {
            Format::Json
        } else if path.ends_with(".env") {
            Format::Dotenv
        } else {
            Format::Binary
        }
    }

    /// The format Flux picks for a Secret data key or generator source: as [`Format::from_path`],
    /// except that `.dockerconfigjson` keys are JSON.
    pub fn from_secret_key(key: &str) -> Format {
        if key.ends_with(".dockerconfigjson") {
            Format::Json
        } else {
            Format::from_path(Path::new(key))
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Dotenv => "dotenv",
            Format::Binary => "binary",
        }
    }
}

/// True when `data` is a SOPS document: it has top-level `sops` metadata with a non-empty `mac`
/// (dotenv: a `sops_mac` entry; binary: a JSON document with `data` and `sops`).
pub fn is_encrypted(data: &[u8], format: Format) -> bool {
    let has_mac = |root: &Node| {
        root.get("sops")
            .and_then(|m| m.get("mac"))
            .is_some_and(|mac| !matches!(mac, Node::Null) && *mac != Node::Str(String::new()))
    };
    match format {
        Format::Yaml => std::str::from_utf8(data)
            .ok()
            .and_then(|text| yaml::parse(text).ok())
            .is_some_and(|docs| docs.first().is_some_and(has_mac)),
        Format::Json => json::parse(data, "JSON").is_ok_and(|root| has_mac(&root)),
        Format::Binary => json::parse(data, "binary")
            .is_ok_and(|root| has_mac(&root) && root.get("data").is_some()),
        Format::Dotenv => data
            .split(|&b| b == b'\n')
            .any(|line| line.starts_with(b"sops_mac=") && line.len() > b"sops_mac=".len()),
    }
}

/// The format of a SOPS document found inside other data (a Secret's `data` entry), from the
/// marker bytes of its encrypted MAC, as Flux detects it: `mac: ENC[` (YAML),
/// `"mac": "ENC[` (JSON and binary, which share SOPS' JSON store) or `sops_mac=ENC[` (dotenv).
/// INI documents are not supported and give `None`.
pub fn detect_format(data: &[u8]) -> Option<Format> {
    let contains = |marker: &[u8]| data.windows(marker.len()).any(|w| w == marker);
    if contains(b"\"mac\": \"ENC[") {
        Some(Format::Json)
    } else if contains(b"sops_mac=ENC[") {
        Some(Format::Dotenv)
    } else if contains(b"mac: ENC[") {
        Some(Format::Yaml)
    } else {
        None
    }
}

/// How [`decrypt_with`] reads and writes a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The format of the encrypted input.
    pub input: Format,
    /// The format of the plaintext output. SOPS (and Flux) may convert: JSON and dotenv output
    /// use the first document, binary output the string under its `data` key.
    pub output: Format,
    /// Verify the document's MAC, as `sops decrypt` does. Every encrypted value is always
    /// authenticated with its path; the MAC additionally covers the clear values and the order.
    /// Flux's kustomize-controller does not check the MAC (kustomize injects fields such as
    /// `metadata.namespace` and labels into built resources), so it decrypts with this off.
    pub verify_mac: bool,
}

impl Options {
    /// Same format in and out, MAC verified.
    pub fn new(format: Format) -> Self {
        Options {
            input: format,
            output: format,
            verify_mac: true,
        }
    }
}

/// Decrypts a SOPS document and returns the plaintext document in the same format (binary:
/// the raw bytes of `data`). The data key comes from the first age recipient one of `keys`
/// opens; every encrypted value is authenticated with its path and the MAC over all values is
/// verified, so a modified document fails instead of yielding altered plaintext.
///
/// YAML and JSON output keep key order; YAML comments are dropped (dotenv comments are kept).
pub fn decrypt(data: &[u8], format: Format, keys: &Keys) -> Result<Vec<u8>> {
    decrypt_with(data, &Options::new(format), keys)
}

/// [`decrypt`] with explicit input/output formats and MAC policy.
pub fn decrypt_with(data: &[u8], options: &Options, keys: &Keys) -> Result<Vec<u8>> {
    let input = options.input;
    let text = || {
        std::str::from_utf8(data).map_err(|_| Error::Parse {
            format: input.name(),
            reason: "not UTF-8".into(),
        })
    };
    let mut dotenv_items = None;
    let (mut branches, metadata) = match input {
        Format::Yaml => {
            let mut docs = yaml::parse(text()?)?;
            let first = docs.first().ok_or_else(|| missing_metadata(input))?;
            let metadata = metadata_of(first, input)?;
            for doc in &mut docs {
                remove_sops(doc);
            }
            (docs, metadata)
        }
        Format::Json | Format::Binary => {
            let mut root = json::parse(data, input.name())?;
            let metadata = metadata_of(&root, input)?;
            remove_sops(&mut root);
            (vec![root], metadata)
        }
        Format::Dotenv => {
            let items = dotenv::parse(text()?)?;
            let meta = dotenv::unflatten_metadata(&items);
            if meta.get("mac").is_none() {
                return Err(missing_metadata(input));
            }
            let metadata = Metadata::from_json(meta)?;
            let tree = dotenv::data_tree(&items);
            dotenv_items = Some(items);
            (vec![tree], metadata)
        }
    };
    let key = metadata.data_key(keys)?;
    tree::decrypt(&mut branches, &metadata, &key, options.verify_mac)?;
    emit(&branches, dotenv_items.as_deref(), &key, options.output)
}

/// Flux's decryption of one Secret `data` entry (kustomize-controller's handling of Secrets that
/// are not SOPS documents themselves, e.g. made by a secretGenerator from encrypted files): when
/// `value` (already base64-decoded) is a SOPS document, found by its MAC marker, it is decrypted
/// and written in the format the entry's `key` implies ([`Format::from_secret_key`]); any other
/// value gives `None`. Like Flux, the MAC is not checked; every encrypted value still is.
pub fn decrypt_secret_entry(key: &str, value: &[u8], keys: &Keys) -> Result<Option<Vec<u8>>> {
    let Some(input) = detect_format(value) else {
        return Ok(None);
    };
    let options = Options {
        input,
        output: Format::from_secret_key(key),
        verify_mac: false,
    };
    decrypt_with(value, &options, keys).map(Some)
}

/// Flux's in-place decryption of a file a kustomization reads before it is built
/// (`secretGenerator` `files` and `envs`, and `patches` paths): the format comes from the file
/// name ([`Format::from_secret_key`]; an `envs` source that would be binary is dotenv), files
/// without that format's SOPS marker are left alone (`None`), and the output keeps the format.
/// Like Flux, the MAC is not checked; every encrypted value still is.
pub fn decrypt_source_file(
    name: &str,
    data: &[u8],
    env_source: bool,
    keys: &Keys,
) -> Result<Option<Vec<u8>>> {
    let mut format = Format::from_secret_key(name);
    if env_source && format == Format::Binary {
        format = Format::Dotenv;
    }
    let marker: &[u8] = match format {
        Format::Yaml => b"mac: ENC[",
        Format::Json | Format::Binary => b"\"mac\": \"ENC[",
        Format::Dotenv => b"sops_mac=ENC[",
    };
    if !data.windows(marker.len()).any(|w| w == marker) {
        return Ok(None);
    }
    let options = Options {
        input: format,
        output: format,
        verify_mac: false,
    };
    decrypt_with(data, &options, keys).map(Some)
}

fn emit(
    branches: &[Node],
    dotenv_items: Option<&[dotenv::Item]>,
    key: &[u8],
    output: Format,
) -> Result<Vec<u8>> {
    let first = || {
        branches.first().ok_or_else(|| Error::Emit {
            format: output.name(),
            reason: "the document is empty".into(),
        })
    };
    match output {
        Format::Yaml => Ok(yaml::emit(branches).into_bytes()),
        Format::Json => Ok(json::emit(first()?).into_bytes()),
        Format::Dotenv => match dotenv_items {
            // Top-level comments are encrypted under the empty path.
            Some(items) => Ok(dotenv::emit(items, first()?, |c| {
                tree::decrypt_comment(c, key, ":")
            })),
            None => dotenv::emit_tree(first()?).map_err(|reason| Error::Emit {
                format: output.name(),
                reason,
            }),
        },
        Format::Binary => match first()?.get("data") {
            Some(Node::Str(s)) => Ok(s.clone().into_bytes()),
            Some(Node::Bytes(b)) => Ok(b.clone()),
            Some(_) => Err(Error::Emit {
                format: output.name(),
                reason: "'data' key in tree does not have a string value".into(),
            }),
            None => Err(Error::Emit {
                format: output.name(),
                reason: "no binary data found in tree (no 'data' key)".into(),
            }),
        },
    }
}

fn missing_metadata(format: Format) -> Error {
    Error::Metadata(format!(
        "no top-level 'sops' metadata in the {} document",
        format.name()
    ))
}

fn metadata_of(root: &Node, format: Format) -> Result<Metadata> {
    let sops = root.get("sops").ok_or_else(|| missing_metadata(format))?;
    Metadata::from_json(sops.to_json())
}

fn remove_sops(doc: &mut Node) {
    if let Node::Map(entries) = doc {
        entries.retain(|(k, _)| k != "sops");
    }
}
