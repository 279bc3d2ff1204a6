//! age's post-quantum identities (`AGE-SECRET-KEY-PQ-1…`, recipients `age1pq1…`): the file key is
//! wrapped with HPKE (RFC 9180, base mode) over the MLKEM768-X25519 hybrid KEM ("X-Wing"),
//! HKDF-SHA256 and ChaCha20-Poly1305, in a `mlkem768x25519` stanza. The age crate has no such
//! identity, so this one plugs into its decryptor.

use age::DecryptError;
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use ml_kem::kem::Decapsulate;
use ml_kem::{KemCore, MlKem768};
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Shake256};

const STANZA_TAG: &str = "mlkem768x25519";
const HPKE_INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
/// X-Wing's combiner label.
const XWING_LABEL: &[u8] = b"\\.//^\\";
/// HPKE suite: KEM 0x647a (MLKEM768-X25519), KDF 0x0001 (HKDF-SHA256), AEAD 0x0003
/// (ChaCha20-Poly1305).
const SUITE_ID: &[u8] = b"HPKE\x64\x7a\x00\x01\x00\x03";
const ML_KEM_CIPHERTEXT: usize = 1088;

pub(crate) struct HybridIdentity {
    dk: <MlKem768 as KemCore>::DecapsulationKey,
    x25519: x25519_dalek::StaticSecret,
    x25519_public: [u8; 32],
}

impl HybridIdentity {
    /// Parses `AGE-SECRET-KEY-PQ-1…`: a 32-byte seed, expanded with SHAKE256 into the ML-KEM
    /// seed (d ‖ z) and then the X25519 secret.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let (hrp, seed) = bech32::decode(s).map_err(|e| format!("malformed secret key: {e}"))?;
        if !hrp.as_str().eq_ignore_ascii_case("AGE-SECRET-KEY-PQ-") || seed.len() != 32 {
            return Err("malformed post-quantum secret key".into());
        }
        let mut xof = Shake256::default();
        xof.update(&seed);
        let mut reader = xof.finalize_xof();
        let mut d = [0u8; 32];
        let mut z = [0u8; 32];
        let mut x = [0u8; 32];
        reader.read(&mut d);
        reader.read(&mut z);
        reader.read(&mut x);
        let (dk, _) = MlKem768::generate_deterministic(&d.into(), &z.into());
        let x25519 = x25519_dalek::StaticSecret::from(x);
        let x25519_public = x25519_dalek::PublicKey::from(&x25519).to_bytes();
        Ok(HybridIdentity {
            dk,
            x25519,
            x25519_public,
        })
    }

    /// X-Wing decapsulation of `enc` (ML-KEM ciphertext ‖ X25519 ephemeral share).
    fn decapsulate(&self, enc: &[u8]) -> Option<[u8; 32]> {
        if enc.len() != ML_KEM_CIPHERTEXT + 32 {
            return None;
        }
        let (ct_pq, ct_t) = enc.split_at(ML_KEM_CIPHERTEXT);
        let ct_pq = ml_kem::Ciphertext::<MlKem768>::try_from(ct_pq).ok()?;
        let ss_pq = self.dk.decapsulate(&ct_pq).ok()?;
        let ct_t: [u8; 32] = ct_t.try_into().ok()?;
        let ss_t = self
            .x25519
            .diffie_hellman(&x25519_dalek::PublicKey::from(ct_t));
        if !ss_t.was_contributory() {
            return None;
        }
        let mut h = Sha3_256::new();
        Digest::update(&mut h, ss_pq.as_slice());
        Digest::update(&mut h, ss_t.as_bytes());
        Digest::update(&mut h, ct_t);
        Digest::update(&mut h, self.x25519_public);
        Digest::update(&mut h, XWING_LABEL);
        Some(h.finalize().into())
    }
}

fn labeled_extract(salt: &[u8], label: &[u8], ikm: &[u8]) -> hkdf::Hkdf<sha2::Sha256> {
    let mut labeled = b"HPKE-v1".to_vec();
    labeled.extend_from_slice(SUITE_ID);
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(ikm);
    hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &labeled)
}

fn labeled_extract_bytes(label: &[u8], ikm: &[u8]) -> Vec<u8> {
    let mut labeled = b"HPKE-v1".to_vec();
    labeled.extend_from_slice(SUITE_ID);
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(ikm);
    let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(&[]), &labeled);
    prk.to_vec()
}

fn labeled_expand(
    prk: &hkdf::Hkdf<sha2::Sha256>,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?;
    let mut info = len.to_be_bytes().to_vec();
    info.extend_from_slice(b"HPKE-v1");
    info.extend_from_slice(SUITE_ID);
    info.extend_from_slice(label);
    info.extend_from_slice(context);
    prk.expand(&info, out).ok()
}

/// HPKE base-mode open of the first message (sequence 0) with the KEM's shared secret.
fn hpke_open(shared_secret: &[u8; 32], ciphertext: &[u8]) -> Option<Vec<u8>> {
    let mut context = vec![0u8]; // mode_base
    context.extend(labeled_extract_bytes(b"psk_id_hash", b""));
    context.extend(labeled_extract_bytes(b"info_hash", HPKE_INFO));
    // LabeledExtract(salt = shared_secret, "secret", ikm = psk = "").
    let secret = labeled_extract(shared_secret, b"secret", b"");
    let mut key = [0u8; 32];
    let mut nonce = [0u8; 12];
    labeled_expand(&secret, b"key", &context, &mut key)?;
    labeled_expand(&secret, b"base_nonce", &context, &mut nonce)?;
    let aead = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key).ok()?;
    aead.decrypt(
        &nonce.into(),
        Payload {
            msg: ciphertext,
            aad: b"",
        },
    )
    .ok()
}

impl age::Identity for HybridIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        let [arg] = stanza.args.as_slice() else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        let Ok(enc) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(arg) else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        if stanza.body.len() != FILE_KEY_BYTES + 16 {
            return Some(Err(DecryptError::InvalidHeader));
        }
        // A stanza for another key fails authentication: not ours, as age treats it.
        let shared = self.decapsulate(&enc)?;
        let file_key = hpke_open(&shared, &stanza.body)?;
        let file_key: [u8; FILE_KEY_BYTES] = file_key.try_into().ok()?;
        Some(Ok(FileKey::new(Box::new(file_key))))
    }
}
