//! OpenPGP: secret keys from `.asc` entries, and the data keys SOPS encrypts for them (armored
//! OpenPGP messages in `sops.pgp[].enc`).

use pgp::composed::{Deserializable, Message, SignedSecretKey};
use pgp::types::Password;

/// Every secret key in an armored (or binary) key block; public keys are refused because they
/// cannot decrypt anything.
pub(crate) fn parse_secret_keys(data: &[u8]) -> Result<Vec<SignedSecretKey>, String> {
    let text = std::str::from_utf8(data).map_err(|_| "not an armored OpenPGP key".to_string())?;
    if text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
        return Err("holds an OpenPGP public key; decryption needs the secret key".into());
    }
    let (keys, _) = SignedSecretKey::from_string_many(text)
        .map_err(|e| format!("cannot read OpenPGP secret keys: {e}"))?;
    let keys: Vec<SignedSecretKey> = keys
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read OpenPGP secret keys: {e}"))?;
    if keys.is_empty() {
        return Err("no OpenPGP secret key found".into());
    }
    Ok(keys)
}

/// Decrypts an armored OpenPGP message with any of `keys` (unprotected secret keys).
pub(crate) fn decrypt(armored: &str, keys: &[SignedSecretKey]) -> Result<Vec<u8>, String> {
    if keys.is_empty() {
        return Err("no OpenPGP keys given".into());
    }
    let (message, _) =
        Message::from_string(armored).map_err(|e| format!("invalid OpenPGP message: {e}"))?;
    let empty = Password::empty();
    let passwords = vec![&empty; keys.len()];
    let mut message = message
        .decrypt_with_keys(passwords, keys.iter().collect())
        .map_err(|e| format!("no OpenPGP key matched: {e}"))?;
    if message.is_compressed() {
        message = message
            .decompress()
            .map_err(|e| format!("decompressing: {e}"))?;
    }
    message
        .as_data_vec()
        .map_err(|e| format!("reading the decrypted message: {e}"))
}
