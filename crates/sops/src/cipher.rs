//! SOPS's value cipher: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, AES-256-GCM with the
//! value's tree path as additional authenticated data.

use crate::node::Node;
use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::generic_array::ArrayLength;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Why a value could not be decrypted; the caller adds the path.
pub(crate) type CipherResult<T> = std::result::Result<T, String>;

/// True when `value` has the shape of a SOPS-encrypted value.
pub(crate) fn is_encrypted_value(value: &str) -> bool {
    parse(value).is_ok()
}

struct Encrypted<'a> {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    datatype: &'a str,
}

/// Splits `ENC[AES256_GCM,data:D,iv:I,tag:T,type:Y]` (SOPS matches it with the unanchored-end
/// pattern `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`; base64 never contains
/// the separators, so splitting on them is equivalent).
fn parse(value: &str) -> CipherResult<Encrypted<'_>> {
    // The value is never quoted: it may be a secret that was not encrypted.
    let bad = || "value does not match SOPS' encrypted format (ENC[AES256_GCM,...])".to_string();
    let rest = value.strip_prefix("ENC[AES256_GCM,data:").ok_or_else(bad)?;
    let (data, rest) = rest.split_once(",iv:").ok_or_else(bad)?;
    let (iv, rest) = rest.split_once(",tag:").ok_or_else(bad)?;
    let (tag, rest) = rest.split_once(",type:").ok_or_else(bad)?;
    let end = rest.rfind(']').ok_or_else(bad)?;
    let datatype = &rest[..end];
    if data.is_empty() || iv.is_empty() || tag.is_empty() || datatype.is_empty() {
        return Err(bad());
    }
    let decode = |what: &str, s: &str| {
        STANDARD
            .decode(s)
            .map_err(|e| format!("error base64-decoding {what}: {e}"))
    };
    Ok(Encrypted {
        data: decode("data", data)?,
        iv: decode("iv", iv)?,
        tag: decode("tag", tag)?,
        datatype,
    })
}

fn open<N: ArrayLength<u8>>(key: &[u8], iv: &[u8], ct: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let cipher = AesGcm::<Aes256, N>::new_from_slice(key).ok()?;
    cipher
        .decrypt(Nonce::<N>::from_slice(iv), Payload { msg: ct, aad })
        .ok()
}

/// Decrypts one SOPS value with the data key; `aad` is the value's path (`a:b:c:`).
/// An empty string stays empty, as SOPS never encrypts empty values.
pub(crate) fn decrypt(value: &str, key: &[u8], aad: &str) -> CipherResult<Node> {
    if value.is_empty() {
        return Ok(Node::Str(String::new()));
    }
    let enc = parse(value)?;
    let mut ct = enc.data;
    ct.extend_from_slice(&enc.tag);
    if enc.tag.len() != 16 {
        return Err("could not decrypt with AES_GCM: bad tag length".into());
    }
    // SOPS writes 32-byte IVs; Go's GCM accepts any nonce size, so do the common ones.
    let plain = match enc.iv.len() {
        32 => open::<U32>(key, &enc.iv, &ct, aad.as_bytes()),
        12 => open::<U12>(key, &enc.iv, &ct, aad.as_bytes()),
        16 => open::<U16>(key, &enc.iv, &ct, aad.as_bytes()),
        n => return Err(format!("unsupported IV length {n}")),
    }
    .ok_or("could not decrypt with AES_GCM: message authentication failed")?;
    typed(plain, enc.datatype)
}

/// Converts decrypted bytes back to the value's type, as SOPS's `aes.Cipher.Decrypt` does.
fn typed(plain: Vec<u8>, datatype: &str) -> CipherResult<Node> {
    let text = || String::from_utf8(plain.clone()).map_err(|_| "value is not UTF-8".to_string());
    Ok(match datatype {
        "str" | "comment" => match String::from_utf8(plain) {
            Ok(s) => Node::Str(s),
            Err(e) => Node::Bytes(e.into_bytes()),
        },
        "bytes" => Node::Bytes(plain),
        "time" => {
            let s = text()?;
            Node::Time(
                crate::yaml::parse_timestamp(&s).ok_or_else(|| format!("invalid time {s:?}"))?,
            )
        }
        "int" | "int64" => {
            let s = text()?;
            Node::Int(s.parse().map_err(|_| format!("invalid int {s:?}"))?)
        }
        "float" => {
            let s = text()?;
            Node::Float(parse_go_float(&s).ok_or_else(|| format!("invalid float {s:?}"))?)
        }
        "bool" => Node::Bool(match text()?.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            s => return Err(format!("invalid bool {s:?}")),
        }),
        other => return Err(format!("unknown datatype: {other}")),
    })
}

/// Go's `strconv.ParseFloat` for what SOPS writes (`FormatFloat(…, 'f', -1, 64)` and the
/// special values).
fn parse_go_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(plain: &[u8], key: &[u8; 32], aad: &str, datatype: &str) -> String {
        let cipher = AesGcm::<Aes256, U32>::new_from_slice(key).unwrap();
        let iv = [7u8; 32];
        let out = cipher
            .encrypt(
                Nonce::<U32>::from_slice(&iv),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap();
        let (data, tag) = out.split_at(out.len() - 16);
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{datatype}]",
            STANDARD.encode(data),
            STANDARD.encode(iv),
            STANDARD.encode(tag)
        )
    }

    #[test]
    fn decrypts_typed_values_with_their_path() {
        let key = [1u8; 32];
        let v = encrypt(b"hunter2", &key, "a:b:", "str");
        assert_eq!(
            decrypt(&v, &key, "a:b:").unwrap(),
            Node::Str("hunter2".into())
        );
        let v = encrypt(b"42", &key, "n:", "int");
        assert_eq!(decrypt(&v, &key, "n:").unwrap(), Node::Int(42));
        let v = encrypt(b"True", &key, "b:", "bool");
        assert_eq!(decrypt(&v, &key, "b:").unwrap(), Node::Bool(true));
        let v = encrypt(b"1.5", &key, "f:", "float");
        assert_eq!(decrypt(&v, &key, "f:").unwrap(), Node::Float(1.5));
    }

    #[test]
    fn wrong_path_or_key_fails_authentication() {
        let key = [1u8; 32];
        let v = encrypt(b"hunter2", &key, "a:b:", "str");
        assert!(
            decrypt(&v, &key, "a:c:")
                .unwrap_err()
                .contains("authentication")
        );
        assert!(decrypt(&v, &[2u8; 32], "a:b:").is_err());
    }

    #[test]
    fn malformed_values_are_named() {
        let err = decrypt("ENC[AES256_GCM,data:xx]", &[0; 32], "a:").unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        assert_eq!(
            decrypt("", &[0; 32], "a:").unwrap(),
            Node::Str(String::new())
        );
        assert!(!is_encrypted_value("plain"));
    }
}
