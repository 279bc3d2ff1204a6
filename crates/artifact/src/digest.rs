//! Artifact digests in the `<algo>:<hex>` form Flux writes to `status.artifact.digest`.
//!
//! Storage writes one algorithm (sha256 by default, blake3 optionally, as Flux's
//! `--artifact-digest-algo`), but the fetch client must verify whatever a (possibly
//! Go) source-controller wrote, so parsing accepts sha256, sha384, sha512 and blake3.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::str::FromStr;

use sha2::Digest as _;

use crate::{Error, Result};

/// A digest algorithm this crate can compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DigestAlgo {
    /// Flux's canonical algorithm and the default.
    #[default]
    Sha256,
    /// Accepted from other writers; never chosen by our storage.
    Sha384,
    /// Accepted from other writers; never chosen by our storage.
    Sha512,
    /// Flux's optional fast algorithm (`--artifact-digest-algo=blake3`).
    Blake3,
}

impl DigestAlgo {
    /// The prefix used in `<algo>:<hex>`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgo::Sha256 => "sha256",
            DigestAlgo::Sha384 => "sha384",
            DigestAlgo::Sha512 => "sha512",
            DigestAlgo::Blake3 => "blake3",
        }
    }

    /// Length of the hex-encoded digest, used to reject truncated digests early.
    fn hex_len(self) -> usize {
        match self {
            DigestAlgo::Sha256 | DigestAlgo::Blake3 => 64,
            DigestAlgo::Sha384 => 96,
            DigestAlgo::Sha512 => 128,
        }
    }

    /// A fresh incremental hasher for this algorithm.
    pub fn hasher(self) -> Hasher {
        let inner = match self {
            DigestAlgo::Sha256 => HasherInner::Sha256(sha2::Sha256::new()),
            DigestAlgo::Sha384 => HasherInner::Sha384(sha2::Sha384::new()),
            DigestAlgo::Sha512 => HasherInner::Sha512(sha2::Sha512::new()),
            DigestAlgo::Blake3 => HasherInner::Blake3(Box::new(blake3::Hasher::new())),
        };
        Hasher { algo: self, inner }
    }
}

impl fmt::Display for DigestAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DigestAlgo {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "sha256" => Ok(DigestAlgo::Sha256),
            "sha384" => Ok(DigestAlgo::Sha384),
            "sha512" => Ok(DigestAlgo::Sha512),
            "blake3" => Ok(DigestAlgo::Blake3),
            _ => Err(Error::UnsupportedDigestAlgo(s.to_string())),
        }
    }
}

/// A parsed `<algo>:<hex>` digest. The hex is kept lower-case so comparisons are exact.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Digest {
    /// The algorithm named by the prefix.
    pub algo: DigestAlgo,
    /// Lower-case hex of the hash.
    pub hex: String,
}

impl Digest {
    /// Parses `<algo>:<hex>`, rejecting unknown algorithms and malformed or truncated hex,
    /// so a bad digest in an object's status fails loudly instead of never matching.
    pub fn parse(s: &str) -> Result<Self> {
        let (algo, hex) = s
            .split_once(':')
            .ok_or_else(|| Error::InvalidDigest(s.to_string()))?;
        let algo: DigestAlgo = algo.parse()?;
        let hex = hex.to_ascii_lowercase();
        if hex.len() != algo.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidDigest(s.to_string()));
        }
        Ok(Digest { algo, hex })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo, self.hex)
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Digest::parse(s)
    }
}

enum HasherInner {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    // Boxed: blake3's hasher is much larger than the sha2 states.
    Blake3(Box<blake3::Hasher>),
}

/// An incremental hasher over any supported algorithm; also an `io::Write` so it can sit
/// in a tee while an archive is written or downloaded.
pub struct Hasher {
    algo: DigestAlgo,
    inner: HasherInner,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher").field("algo", &self.algo).finish()
    }
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            HasherInner::Sha256(h) => h.update(data),
            HasherInner::Sha384(h) => h.update(data),
            HasherInner::Sha512(h) => h.update(data),
            HasherInner::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Digest {
        let hex = match self.inner {
            HasherInner::Sha256(h) => hex::encode(h.finalize()),
            HasherInner::Sha384(h) => hex::encode(h.finalize()),
            HasherInner::Sha512(h) => hex::encode(h.finalize()),
            HasherInner::Blake3(h) => h.finalize().to_hex().to_string(),
        };
        Digest {
            algo: self.algo,
            hex,
        }
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Digests everything a reader yields.
pub fn digest_reader(algo: DigestAlgo, mut reader: impl Read) -> io::Result<Digest> {
    let mut hasher = algo.hasher();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finish())
}

/// Digests a file (blocking; call from `spawn_blocking` in async code).
pub fn digest_file(algo: DigestAlgo, path: &Path) -> Result<Digest> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    digest_reader(algo, file).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let d = digest_reader(DigestAlgo::Sha256, &b"abc"[..]).unwrap();
        assert_eq!(
            d.to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let d = digest_reader(DigestAlgo::Blake3, &b"abc"[..]).unwrap();
        assert_eq!(
            d.to_string(),
            "blake3:6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert!(Digest::parse("sha256").is_err());
        assert!(Digest::parse("md5:abcd").is_err());
        assert!(Digest::parse("sha256:abcd").is_err());
        assert!(Digest::parse(&format!("sha256:{}", "g".repeat(64))).is_err());
        let upper = format!("SHA256:{}", "AB".repeat(32));
        assert_eq!(Digest::parse(&upper).unwrap().hex, "ab".repeat(32));
        assert_eq!(
            Digest::parse(&format!("sha512:{}", "0".repeat(128)))
                .unwrap()
                .algo,
            DigestAlgo::Sha512
        );
    }
}
