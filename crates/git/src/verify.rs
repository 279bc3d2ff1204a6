//! Signature verification of commits and tags (`spec.verify`).
//!
//! Not implemented yet: every call reports [`Error::Unsupported`] so a GitRepository that asks
//! for verification fails loudly instead of silently passing.

use crate::{Checkout, Error, Result};

/// Which objects `spec.verify.mode` asks to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The commit HEAD points to (`HEAD`, formerly `head`).
    Head,
    /// The annotated tag (`Tag`).
    Tag,
    /// Both (`TagAndHEAD`).
    TagAndHead,
}

/// Verify `checkout` against the armored OpenPGP public keys in `keys`; returns the id of the
/// key that verified.
pub fn verify(_checkout: &Checkout, _mode: Mode, _keys: &[Vec<u8>]) -> Result<String> {
    Err(Error::Unsupported("signature verification"))
}
