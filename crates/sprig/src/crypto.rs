//! Sprig's crypto functions: keys, certificates (through rcgen over ring),
//! bcrypt, derivePassword (Master Password), AES-CBC, random bytes.
//! Random output differs from Go's by nature; its shape (PEM types, key
//! sizes, certificate fields) follows Sprig.

use std::any::Any;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use ferroflux_gotemplate::{ElemType, FuncError, Object, Value};
use hmac::Mac;
use rand::RngCore;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};

use crate::conv::{err, int_arg, str_arg, wrong_type};
use crate::{Arity, Reg};

use Arity::Exact;

/// Sprig's `certificate` struct (`.Cert`, `.Key`).
#[derive(Debug, Clone)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::from(self.cert.as_str())),
            "Key" => Some(Value::from(self.key.as_str())),
            _ => None,
        }
    }

    fn fmt_go(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{} {}}}", self.cert, self.key)
    }

    fn to_data(&self) -> Option<Value> {
        Some(Value::map([
            ("Cert".to_string(), Value::from(self.cert.as_str())),
            ("Key".to_string(), Value::from(self.key.as_str())),
        ]))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

enum PrivKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p256::SecretKey),
    Ed(ed25519_dalek::SigningKey),
    Dsa,
}

fn pem_encode(tag: &str, der: &[u8]) -> String {
    let cfg = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der.to_vec()), cfg)
}

/// Go's `MarshalECPrivateKey`: SEC 1 `ECPrivateKey` with the named-curve
/// parameters and the public key, both of which Go requires when parsing.
fn ec_private_key_der(k: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let secret = k.to_bytes();
    let public = k.public_key().to_encoded_point(false);
    let mut body = vec![0x02, 0x01, 0x01, 0x04, 0x20];
    body.extend_from_slice(&secret);
    // [0] OID 1.2.840.10045.3.1.7 (prime256v1)
    body.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ]);
    // [1] BIT STRING of the uncompressed point
    let point = public.as_bytes();
    body.extend_from_slice(&[
        0xa1,
        (point.len() + 3) as u8,
        0x03,
        (point.len() + 1) as u8,
        0x00,
    ]);
    body.extend_from_slice(point);
    let mut der = vec![0x30];
    der.extend(der_len(body.len()));
    der.extend(body);
    der
}

/// PKCS#8 v1 for an Ed25519 seed, as Go's `MarshalPKCS8PrivateKey` writes it.
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

impl PrivKey {
    /// Sprig's `pemBlockForKey`.
    fn to_pem(&self) -> Result<String, FuncError> {
        match self {
            PrivKey::Rsa(k) => {
                let der = k.to_pkcs1_der().map_err(|e| err(e.to_string()))?;
                Ok(pem_encode("RSA PRIVATE KEY", der.as_bytes()))
            }
            PrivKey::Ec(k) => Ok(pem_encode("EC PRIVATE KEY", &ec_private_key_der(k))),
            PrivKey::Ed(k) => Ok(pem_encode("PRIVATE KEY", &ed25519_pkcs8(&k.to_bytes()))),
            PrivKey::Dsa => Err(err("DSA keys cannot be re-encoded here")),
        }
    }

    fn key_pair(&self) -> Result<rcgen::KeyPair, FuncError> {
        let (der, alg) = match self {
            PrivKey::Rsa(k) => (
                k.to_pkcs8_der()
                    .map_err(|e| err(e.to_string()))?
                    .as_bytes()
                    .to_vec(),
                &rcgen::PKCS_RSA_SHA256,
            ),
            PrivKey::Ec(k) => (
                k.to_pkcs8_der()
                    .map_err(|e| err(e.to_string()))?
                    .as_bytes()
                    .to_vec(),
                &rcgen::PKCS_ECDSA_P256_SHA256,
            ),
            PrivKey::Ed(k) => (ed25519_pkcs8(&k.to_bytes()), &rcgen::PKCS_ED25519),
            PrivKey::Dsa => {
                return Err(err(
                    "error creating certificate: x509: certificate private key does not implement crypto.Signer",
                ));
            }
        };
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der.into(), alg)
            .map_err(|e| err(format!("error creating certificate: {e}")))
    }
}

/// Sprig's `parsePrivateKeyPEM`.
fn parse_private_key(s: &str) -> Result<PrivKey, String> {
    let block = pem::parse(s.as_bytes()).map_err(|_| "no PEM data in input".to_string())?;
    let tag = block.tag();
    let der = block.contents();
    if tag == "PRIVATE KEY" {
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
            return Ok(PrivKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
            return Ok(PrivKey::Ec(k));
        }
        if der.len() >= 48 && der[..16] == ed25519_pkcs8(&[0; 32])[..16] {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&der[16..48]);
            return Ok(PrivKey::Ed(ed25519_dalek::SigningKey::from_bytes(&seed)));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(PrivKey::Ed(k));
        }
        return Err("decoding PEM as PKCS#8: x509: failed to parse private key".into());
    }
    let Some(kind) = tag.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {tag}"));
    };
    match kind {
        "RSA" => rsa::RsaPrivateKey::from_pkcs1_der(der)
            .map(|k| PrivKey::Rsa(Box::new(k)))
            .map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC" => p256::SecretKey::from_sec1_der(der)
            .map(PrivKey::Ec)
            .map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => Ok(PrivKey::Dsa),
        _ => Err(format!("invalid private key type {tag}")),
    }
}

fn gen_rsa(bits: usize) -> Result<PrivKey, FuncError> {
    crate::rsagen::generate(bits)
        .map(|k| PrivKey::Rsa(Box::new(k)))
        .map_err(|e| err(format!("error generating rsa key: {}", e.0)))
}

/// DER INTEGER of an unsigned big-endian magnitude.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = bytes.iter().copied().skip_while(|x| *x == 0).collect();
    if b.is_empty() || b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    let mut out = vec![0x02];
    out.extend(der_len(b.len()));
    out.extend(b);
    out
}

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|x| *x == 0)
            .collect();
        let mut out = vec![0x80 | bytes.len() as u8];
        out.extend(bytes);
        out
    }
}

/// Go's `DSAKeyFormat` (OpenSSL's DSA private key layout).
fn gen_dsa_pem() -> String {
    let mut rng = rand::thread_rng();
    let comps = dsa::Components::generate(&mut rng, dsa::KeySize::DSA_2048_256);
    let key = dsa::SigningKey::generate(&mut rng, comps);
    let vk = key.verifying_key();
    let c = vk.components();
    let mut body = der_uint(&[0]);
    for n in [c.p(), c.q(), c.g(), vk.y(), key.x()] {
        body.extend(der_uint(&n.to_bytes_be()));
    }
    let mut der = vec![0x30];
    der.extend(der_len(body.len()));
    der.extend(body);
    pem_encode("DSA PRIVATE KEY", &der)
}

fn gen_private_key(typ: &str) -> Result<String, FuncError> {
    let key = match typ {
        "" | "rsa" => gen_rsa(4096)?,
        "dsa" => return Ok(gen_dsa_pem()),
        "ecdsa" => PrivKey::Ec(p256::SecretKey::random(&mut rand::thread_rng())),
        "ed25519" => PrivKey::Ed(ed25519_dalek::SigningKey::generate(&mut rand::thread_rng())),
        other => return Ok(format!("Unknown type {other}")),
    };
    key.to_pem()
}

/// A Go `[]interface{}` parameter holding strings (nil is empty).
fn iface_list(v: &Value) -> Result<Vec<Value>, FuncError> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(l, ElemType::Any) => Ok(l.to_vec()),
        other => Err(wrong_type("[]interface {}", other)),
    }
}

fn cert_arg(v: &Value) -> Result<Certificate, FuncError> {
    match v {
        Value::Object(o) => o
            .as_any()
            .downcast_ref::<Certificate>()
            .cloned()
            .ok_or_else(|| wrong_type("sprig.certificate", v)),
        other => Err(wrong_type("sprig.certificate", other)),
    }
}

/// Sprig's `getBaseCertTemplate`.
fn base_params(
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
) -> Result<rcgen::CertificateParams, FuncError> {
    let mut sans = Vec::new();
    let mut ip_sans = Vec::new();
    for ip in ips {
        let Value::String(s) = ip else {
            return Err(err(format!(
                "error parsing ip: {} is not a string",
                crate::fmtv::sprint_v(ip)
            )));
        };
        let addr: IpAddr = s
            .parse()
            .map_err(|_| err(format!("error parsing ip: {s}")))?;
        ip_sans.push(rcgen::SanType::IpAddress(addr));
    }
    for d in dns {
        let Value::String(s) = d else {
            return Err(err(format!(
                "error processing alternate dns name: {} is not a string",
                crate::fmtv::sprint_v(d)
            )));
        };
        let name = rcgen::string::Ia5String::try_from(s.to_string())
            .map_err(|e| err(format!("error creating certificate: {e}")))?;
        sans.push(rcgen::SanType::DnsName(name));
    }
    sans.extend(ip_sans);
    let mut p = rcgen::CertificateParams::default();
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now;
    p.not_after = now + time::Duration::days(days);
    let mut serial = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.subject_alt_names = sans;
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.is_ca = rcgen::IsCa::ExplicitNoCa;
    Ok(p)
}

fn cert_err(e: rcgen::Error) -> FuncError {
    err(format!("error creating certificate: {e}"))
}

fn self_signed(params: rcgen::CertificateParams, key: &PrivKey) -> Result<Value, FuncError> {
    let kp = key.key_pair()?;
    let cert = params.self_signed(&kp).map_err(cert_err)?;
    Ok(Value::Object(Arc::new(Certificate {
        cert: cert.pem().replace("\r\n", "\n"),
        key: key.to_pem()?,
    })))
}

fn ca(cn: &str, days: i64, key: &PrivKey) -> Result<Value, FuncError> {
    let mut p = base_params(cn, &[], &[], days)?;
    p.key_usages.push(rcgen::KeyUsagePurpose::KeyCertSign);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    self_signed(p, key)
}

fn signed(a: &[Value], key: &PrivKey) -> Result<Value, FuncError> {
    let cn = str_arg(&a[0])?;
    let ips = iface_list(&a[1])?;
    let dns = iface_list(&a[2])?;
    let days = int_arg(&a[3])?;
    let ca = cert_arg(&a[4])?;
    if pem::parse(ca.cert.as_bytes()).is_err() {
        return Err(err("unable to decode certificate"));
    }
    let ca_key =
        parse_private_key(&ca.key).map_err(|e| err(format!("error parsing private key: {e}")))?;
    let ca_kp = ca_key.key_pair()?;
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca.cert, ca_kp).map_err(|e| {
        err(format!(
            "error parsing certificate: decodedSignerCert.Bytes: {e}"
        ))
    })?;
    let mut p = base_params(cn, &ips, &dns, days)?;
    p.use_authority_key_identifier_extension = true;
    let kp = key.key_pair()?;
    let cert = p.signed_by(&kp, &issuer).map_err(cert_err)?;
    Ok(Value::Object(Arc::new(Certificate {
        cert: cert.pem().replace("\r\n", "\n"),
        key: key.to_pem()?,
    })))
}

fn key_arg(v: &Value) -> Result<PrivKey, FuncError> {
    parse_private_key(str_arg(v)?).map_err(|e| err(format!("parsing private key: {e}")))
}

fn bcrypt_hash(pw: &str) -> String {
    match bcrypt::hash_with_result(pw, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

const SEED: &str = "com.lyndir.masterpassword";

fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static str {
    match c {
        b'V' => "AEIOU",
        b'C' => "BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => "aeiou",
        b'c' => "bcdfghjklmnpqrstvwxyz",
        b'A' => "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => "0123456789",
        b'o' => "@&%?,=[]_:-+*$#!'^~;()/.",
        _ => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Sprig's `derivePassword` (Master Password algorithm v3).
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(tpls) = templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = SEED.as_bytes().to_vec();
    salt.extend((user.len() as u32).to_be_bytes());
    salt.extend(user.as_bytes());
    let mut key = [0u8; 64];
    let Ok(params) = scrypt::Params::new(15, 8, 2, 64) else {
        return "failed to derive password: bad scrypt parameters".into();
    };
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = SEED.as_bytes().to_vec();
    msg.extend((site.len() as u32).to_be_bytes());
    msg.extend(site.as_bytes());
    msg.extend(counter.to_be_bytes());
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return "failed to derive password: hmac".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let tpl = tpls[usize::from(seed[0]) % tpls.len()];
    tpl.bytes()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_chars(c).as_bytes();
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

fn encrypt_aes(password: &str, plaintext: &str) -> Result<String, FuncError> {
    use cbc::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let mut key = [0u8; 32];
    let pw = password.as_bytes();
    let n = pw.len().min(32);
    key[..n].copy_from_slice(&pw[..n]);
    let mut iv = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut iv);
    let enc = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into());
    let ct = enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext.as_bytes());
    let mut out = iv.to_vec();
    out.extend(ct);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, FuncError> {
    use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let mut key = [0u8; 32];
    let pw = password.as_bytes();
    let n = pw.len().min(32);
    key[..n].copy_from_slice(&pw[..n]);
    let data = base64::engine::general_purpose::STANDARD
        .decode(crypt64)
        .map_err(|e| err(e.to_string()))?;
    if data.len() < 16 {
        return Err(err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        )));
    }
    let (iv, body) = data.split_at(16);
    if body.len() % 16 != 0 {
        return Err(err("crypto/cipher: input not full blocks"));
    }
    let mut buf = body.to_vec();
    let dec = cbc::Decryptor::<aes::Aes256>::new(&key.into(), iv.into());
    let plain = dec
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .map_err(|e| err(e.to_string()))?;
    let Some(&last) = plain.last() else {
        return Err(err("runtime error: index out of range [-1]"));
    };
    let end = plain.len() as i64 - i64::from(last);
    if end < 0 {
        return Err(err(format!(
            "runtime error: slice bounds out of range [:{end}]"
        )));
    }
    Ok(String::from_utf8_lossy(&plain[..end as usize]).into_owned())
}

pub(crate) fn register(r: &mut Reg<'_>) {
    r.add("genPrivateKey", Exact(1), |a| {
        Ok(Value::from(gen_private_key(str_arg(&a[0])?)?))
    });
    r.add("genCA", Exact(2), |a| {
        let cn = str_arg(&a[0])?;
        let days = int_arg(&a[1])?;
        ca(cn, days, &gen_rsa(2048)?)
    });
    r.add("genCAWithKey", Exact(3), |a| {
        let cn = str_arg(&a[0])?;
        let days = int_arg(&a[1])?;
        ca(cn, days, &key_arg(&a[2])?)
    });
    r.add("genSelfSignedCert", Exact(4), |a| {
        let (cn, ips, dns, days) = (
            str_arg(&a[0])?,
            iface_list(&a[1])?,
            iface_list(&a[2])?,
            int_arg(&a[3])?,
        );
        let p = base_params(cn, &ips, &dns, days)?;
        self_signed(p, &gen_rsa(2048)?)
    });
    r.add("genSelfSignedCertWithKey", Exact(5), |a| {
        let (cn, ips, dns, days) = (
            str_arg(&a[0])?,
            iface_list(&a[1])?,
            iface_list(&a[2])?,
            int_arg(&a[3])?,
        );
        let key = key_arg(&a[4])?;
        let p = base_params(cn, &ips, &dns, days)?;
        self_signed(p, &key)
    });
    r.add("genSignedCert", Exact(5), |a| {
        cert_arg(&a[4])?;
        signed(a, &gen_rsa(2048)?)
    });
    r.add("genSignedCertWithKey", Exact(6), |a| {
        cert_arg(&a[4])?;
        let key = key_arg(&a[5])?;
        signed(a, &key)
    });
    r.add("buildCustomCert", Exact(2), |a| {
        let b64 = base64::engine::general_purpose::STANDARD;
        let (cert, key) = (str_arg(&a[0])?, str_arg(&a[1])?);
        let cert = b64
            .decode(cert)
            .map_err(|_| err("unable to decode base64 certificate"))?;
        let key = b64
            .decode(key)
            .map_err(|_| err("unable to decode base64 private key"))?;
        let cert = String::from_utf8_lossy(&cert).into_owned();
        let key = String::from_utf8_lossy(&key).into_owned();
        let block = pem::parse(cert.as_bytes()).map_err(|_| err("unable to decode certificate"))?;
        x509_parser::parse_x509_certificate(block.contents())
            .map_err(|e| err(format!("error parsing certificate: decodedCert.Bytes: {e}")))?;
        parse_private_key(&key).map_err(|e| err(format!("error parsing private key: {e}")))?;
        Ok(Value::Object(Arc::new(Certificate { cert, key })))
    });
    r.add("derivePassword", Exact(5), |a| {
        // Go declares `counter uint32`; only an integer fits
        let Value::Int(counter, _) = a[0] else {
            return Err(wrong_type("uint32", &a[0]));
        };
        let (kind, pw, user, site) = (
            str_arg(&a[1])?,
            str_arg(&a[2])?,
            str_arg(&a[3])?,
            str_arg(&a[4])?,
        );
        Ok(Value::from(derive_password(
            counter as u32,
            kind,
            pw,
            user,
            site,
        )))
    });
    r.add("bcrypt", Exact(1), |a| {
        Ok(Value::from(bcrypt_hash(str_arg(&a[0])?)))
    });
    r.add("htpasswd", Exact(2), |a| {
        let (user, pw) = (str_arg(&a[0])?, str_arg(&a[1])?);
        if user.contains(':') {
            return Ok(Value::from(format!("invalid username: {user}")));
        }
        Ok(Value::from(format!("{user}:{}", bcrypt_hash(pw))))
    });
    r.add("randBytes", Exact(1), |a| {
        let n = int_arg(&a[0])?;
        if n < 0 {
            return Err(err("runtime error: makeslice: len out of range"));
        }
        let mut b = vec![0u8; n as usize];
        rand::thread_rng().fill_bytes(&mut b);
        Ok(Value::from(
            base64::engine::general_purpose::STANDARD.encode(b),
        ))
    });
    r.add("encryptAES", Exact(2), |a| {
        Ok(Value::from(encrypt_aes(str_arg(&a[0])?, str_arg(&a[1])?)?))
    });
    r.add("decryptAES", Exact(2), |a| {
        Ok(Value::from(decrypt_aes(str_arg(&a[0])?, str_arg(&a[1])?)?))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn field(v: &Value, name: &str) -> String {
        let Value::Object(o) = v else {
            panic!("object expected")
        };
        o.field(name)
            .and_then(|f| f.as_str().map(String::from))
            .unwrap()
    }

    #[test]
    fn ca_and_signed_cert_parse_and_chain() {
        let ca = call("genCA", &[s("my-ca"), i(365)]).unwrap();
        let ca_pem = field(&ca, "Cert");
        assert!(ca_pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(field(&ca, "Key").starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let block = pem::parse(ca_pem.as_bytes()).unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(block.contents()).unwrap();
        assert!(x.is_ca());
        assert_eq!(x.subject().to_string(), "CN=my-ca");

        let leaf = call(
            "genSignedCert",
            &[
                s("svc"),
                l(&[s("10.0.0.1")]),
                l(&[s("svc.ns.svc")]),
                i(30),
                ca.clone(),
            ],
        )
        .unwrap();
        let block = pem::parse(field(&leaf, "Cert").as_bytes()).unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(block.contents()).unwrap();
        assert_eq!(x.issuer().to_string(), "CN=my-ca");
        assert!(!x.is_ca());
        let san = x.subject_alternative_name().unwrap().unwrap();
        assert_eq!(san.value.general_names.len(), 2);
        let days =
            (x.validity().not_after.timestamp() - x.validity().not_before.timestamp()) / 86400;
        assert_eq!(days, 30);
    }

    #[test]
    fn private_keys_have_go_pem_types_and_reload() {
        for (t, tag) in [("ecdsa", "EC PRIVATE KEY"), ("ed25519", "PRIVATE KEY")] {
            let pem = out("genPrivateKey", &[s(t)]);
            assert_eq!(pem::parse(pem.as_bytes()).unwrap().tag(), tag);
            let c = call(
                "genSelfSignedCertWithKey",
                &[s("x"), Value::Nil, Value::Nil, i(1), s(&pem)],
            )
            .unwrap();
            assert_eq!(field(&c, "Key"), pem);
        }
        assert_eq!(out("genPrivateKey", &[s("foo")]), "Unknown type foo");
    }

    #[test]
    fn aes_round_trips_and_bcrypt_verifies() {
        let ct = out("encryptAES", &[s("secretkey"), s("hello world")]);
        assert_eq!(out("decryptAES", &[s("secretkey"), s(&ct)]), "hello world");
        let h = out("htpasswd", &[s("user"), s("pw")]);
        let hash = h.strip_prefix("user:").unwrap();
        assert!(hash.starts_with("$2a$10$"));
        assert!(bcrypt::verify("pw", hash).unwrap());
    }
}

#[cfg(test)]
mod slow_tests {
    use super::*;
    use crate::testutil::*;

    #[test]
    fn rsa_and_dsa_private_keys_have_sprig_sizes() {
        let pem = out("genPrivateKey", &[s("rsa")]);
        let block = pem::parse(pem.as_bytes()).unwrap();
        assert_eq!(block.tag(), "RSA PRIVATE KEY");
        let k = rsa::RsaPrivateKey::from_pkcs1_der(block.contents()).unwrap();
        assert_eq!(rsa::traits::PublicKeyParts::size(&k), 512);

        let pem = out("genPrivateKey", &[s("dsa")]);
        let block = pem::parse(pem.as_bytes()).unwrap();
        assert_eq!(block.tag(), "DSA PRIVATE KEY");
        // SEQUENCE { 0, P(2048 bits), Q(256 bits), G, Y, X }
        assert!(block.contents().len() > 800);
        assert!(matches!(parse_private_key(&pem), Ok(PrivKey::Dsa)));
    }
}
