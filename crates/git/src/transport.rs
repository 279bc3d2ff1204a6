//! Transport plumbing: how [`Auth`], [`TlsConfig`], the proxy and the timeout reach gix.
//!
//! * HTTP(S): gix's reqwest backend, configured through its `configure_client` hook with a
//!   rustls config built on the ring provider (the workspace's only crypto provider), the
//!   Mozilla roots plus the user's CA, the client certificate (mutual TLS), the proxy with its
//!   basic credentials, and the timeout. Credentials go out as an
//!   `Authorization` header on every request (preemptive, like go-git).
//! * SSH: gix spawns the `ssh` program; we write the key and `known_hosts` into a private temp
//!   dir and set `core.sshCommand` so host keys are always checked and only that key is used.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gix::protocol::transport::client::blocking_io::http;

use crate::{Auth, CloneOptions, Error, Result};

/// Keeps the ssh key material alive for the duration of a transport.
pub(crate) struct SshFiles {
    _dir: tempfile::TempDir,
}

/// Which transport family a URL uses, decided by gix's own URL parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Ssh,
    Git,
    File,
}

/// Parse and validate `url`, rejecting what Flux would call `URLInvalid`.
pub(crate) fn parse_url(url: &str) -> Result<(gix::url::Url, Scheme)> {
    if url.trim().is_empty() {
        return Err(Error::Url("empty URL".into()));
    }
    let parsed = gix::url::parse(gix::bstr::BStr::new(url.as_bytes()))
        .map_err(|e| Error::Url(format!("'{url}': {e}")))?;
    let scheme = match parsed.scheme {
        gix::url::Scheme::Http | gix::url::Scheme::Https => Scheme::Http,
        gix::url::Scheme::Ssh => Scheme::Ssh,
        gix::url::Scheme::Git => Scheme::Git,
        gix::url::Scheme::File => Scheme::File,
        ref other => return Err(Error::Url(format!("'{url}': unsupported scheme '{other}'"))),
    };
    if scheme != Scheme::File && parsed.host().is_none_or(str::is_empty) {
        return Err(Error::Url(format!("'{url}': missing host")));
    }
    // gix treats a bare path as `file://`; Flux requires an explicit scheme for local paths.
    if scheme == Scheme::File && !url.starts_with("file://") {
        return Err(Error::Url(format!(
            "'{url}': not a URL (expected a scheme such as https://)"
        )));
    }
    Ok((parsed, scheme))
}

/// Config overrides (`key=value`) for the repository so that ssh runs the way Flux's does.
/// Returns the overrides and the files they reference, which must outlive the transport.
pub(crate) fn ssh_overrides(opts: &CloneOptions) -> Result<(Vec<String>, Option<SshFiles>)> {
    let connect_timeout = if opts.timeout.is_zero() {
        30
    } else {
        opts.timeout.as_secs().max(1)
    };
    let dir = tempfile::Builder::new().prefix("ferroflux-ssh").tempdir()?;
    let known_hosts = dir.path().join("known_hosts");
    let mut args = vec![
        "ssh".to_owned(),
        "-o".into(),
        "StrictHostKeyChecking=yes".into(),
        "-o".into(),
        format!(
            "UserKnownHostsFile={}",
            shell_quote(&known_hosts.to_string_lossy())
        ),
        "-o".into(),
        "GlobalKnownHostsFile=/dev/null".into(),
        "-o".into(),
        "IdentitiesOnly=yes".into(),
        "-o".into(),
        "BatchMode=yes".into(),
        "-o".into(),
        format!("ConnectTimeout={connect_timeout}"),
        "-F".into(),
        "/dev/null".into(),
    ];
    match &opts.auth {
        Auth::Ssh {
            identity,
            known_hosts: hosts,
            passphrase,
        } => {
            if hosts.iter().all(u8::is_ascii_whitespace) {
                return Err(Error::Auth(
                    "ssh: 'known_hosts' is required (host keys are always verified)".into(),
                ));
            }
            write_private(&known_hosts, hosts)?;
            let key = decrypt_identity(identity, passphrase.as_deref())?;
            let key_path = dir.path().join("identity");
            write_private(&key_path, &key)?;
            args.push("-i".into());
            args.push(shell_quote(&key_path.to_string_lossy()));
        }
        _ => {
            // No key: the host key still has to be known, and with an empty file it never is.
            write_private(&known_hosts, b"")?;
        }
    }
    let overrides = vec![
        format!("core.sshCommand={}", args.join(" ")),
        "ssh.variant=ssh".to_owned(),
    ];
    Ok((overrides, Some(SshFiles { _dir: dir })))
}

/// Single-quote for the shell gix uses to run `core.sshCommand`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Write a file readable only by us: ssh refuses keys with looser permissions.
fn write_private(path: &std::path::Path, data: &[u8]) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(data)?;
    if !data.is_empty() && !data.ends_with(b"\n") {
        f.write_all(b"\n")?;
    }
    Ok(())
}

/// `ssh` runs in batch mode and cannot ask for a passphrase, so encrypted OpenSSH keys are
/// decrypted here and written out in clear into the private temp dir.
fn decrypt_identity(identity: &[u8], passphrase: Option<&str>) -> Result<Vec<u8>> {
    let Some(pass) = passphrase.filter(|p| !p.is_empty()) else {
        return Ok(identity.to_vec());
    };
    let text = std::str::from_utf8(identity)
        .map_err(|_| Error::Auth("ssh identity is not text".into()))?;
    let key = match ssh_key::PrivateKey::from_openssh(text) {
        Ok(k) => k,
        Err(e) => {
            return Err(Error::Auth(format!(
                "ssh identity with passphrase must be an OpenSSH private key: {e}"
            )));
        }
    };
    if !key.is_encrypted() {
        return Ok(identity.to_vec());
    }
    let key = key
        .decrypt(pass)
        .map_err(|e| Error::Auth(format!("cannot decrypt ssh identity: {e}")))?;
    let pem = key
        .to_openssh(ssh_key::LineEnding::LF)
        .map_err(|e| Error::Auth(format!("cannot encode ssh identity: {e}")))?;
    Ok(pem.as_bytes().to_vec())
}

/// Customise gix's default HTTP options for `opts`.
pub(crate) fn configure_http(options: &mut http::Options, opts: &CloneOptions) -> Result<()> {
    match &opts.auth {
        Auth::Basic { username, password } => {
            use base64_lite::encode;
            options.extra_headers.push(format!(
                "Authorization: Basic {}",
                encode(format!("{username}:{password}").as_bytes())
            ));
        }
        Auth::Bearer(token) => options
            .extra_headers
            .push(format!("Authorization: Bearer {token}")),
        Auth::None | Auth::Ssh { .. } => {}
    }
    let tls = Arc::new(client_tls_config(&opts.tls)?);
    let proxy = match opts.proxy.as_ref().filter(|p| !p.address.is_empty()) {
        Some(p) => Some(reqwest_proxy(p)?),
        None => None,
    };
    let timeout = opts.timeout;
    let backend = http::reqwest::Options {
        configure_client: Some(Box::new(
            move |builder: reqwest::blocking::ClientBuilder| {
                let mut builder = builder.tls_backend_preconfigured((*tls).clone());
                builder = match &proxy {
                    Some(p) => builder.proxy(p.clone()),
                    None => builder.no_proxy(),
                };
                if !timeout.is_zero() {
                    builder = builder
                        .timeout(timeout)
                        .connect_timeout(timeout.min(Duration::from_secs(30)));
                }
                Ok(builder)
            },
        )),
        configure_request: None,
    };
    options.backend = Some(Arc::new(Mutex::new(backend)));
    Ok(())
}

/// The proxy for every request, with basic credentials when the secret has them.
fn reqwest_proxy(p: &crate::Proxy) -> Result<reqwest::Proxy> {
    let address = p.address.trim();
    let mut proxy = reqwest::Proxy::all(address)
        .map_err(|e| Error::Url(format!("invalid proxy address '{address}': {e}")))?;
    match (p.username.as_deref(), p.password.as_deref()) {
        (Some(u), pass) if !u.is_empty() => proxy = proxy.basic_auth(u, pass.unwrap_or("")),
        (_, Some(pass)) if !pass.is_empty() => {
            return Err(Error::Auth(
                "proxy 'password' is set without a 'username'".into(),
            ));
        }
        _ => {}
    }
    Ok(proxy)
}

/// A rustls client config on the ring provider, trusting the Mozilla roots plus the CA from
/// `tls`, and presenting its client certificate when one is given.
fn client_tls_config(tls: &crate::TlsConfig) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = tls.ca_pem.as_deref().filter(|p| !p.is_empty()) {
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut &pem[..]) {
            let cert = cert.map_err(|e| Error::Auth(format!("invalid CA certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Auth(format!("invalid CA certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::Auth("'ca.crt' contains no PEM certificate".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Git(format!("TLS setup: {e}")))?
        .with_root_certificates(roots);
    let cert = tls.client_cert_pem.as_deref().filter(|p| !p.is_empty());
    let key = tls.client_key_pem.as_deref().filter(|p| !p.is_empty());
    let config = match (cert, key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::Auth(
                "a TLS client certificate needs both 'tls.crt' and 'tls.key'".into(),
            ));
        }
        (Some(cert), Some(key)) => {
            let chain = rustls_pemfile::certs(&mut &cert[..])
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Auth(format!("invalid client certificate 'tls.crt': {e}")))?;
            if chain.is_empty() {
                return Err(Error::Auth("'tls.crt' contains no PEM certificate".into()));
            }
            let key = rustls_pemfile::private_key(&mut &key[..])
                .map_err(|e| Error::Auth(format!("invalid client key 'tls.key': {e}")))?
                .ok_or_else(|| Error::Auth("'tls.key' contains no PEM private key".into()))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                Error::Auth(format!(
                    "'tls.crt' and 'tls.key' are not a usable client certificate: {e}"
                ))
            })?
        }
    };
    Ok(config)
}

/// Tiny standard base64 encoder: the only use is the Basic auth header, not worth a crate.
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub(super) fn encode(input: &[u8]) -> String {
        let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn encodes_rfc4648_vectors() {
            for (i, o) in [
                ("", ""),
                ("f", "Zg=="),
                ("fo", "Zm8="),
                ("foo", "Zm9v"),
                ("foob", "Zm9vYg=="),
                ("user:pass", "dXNlcjpwYXNz"),
            ] {
                assert_eq!(super::encode(i.as_bytes()), o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_validation_rejects_garbage() {
        assert!(matches!(parse_url(""), Err(Error::Url(_))));
        assert!(matches!(parse_url("not a url"), Err(Error::Url(_))));
        assert!(matches!(parse_url("/tmp/repo"), Err(Error::Url(_))));
        assert!(matches!(parse_url("https://"), Err(Error::Url(_))));
        assert_eq!(
            parse_url("https://example.com/a/b").map(|x| x.1).ok(),
            Some(Scheme::Http)
        );
        assert_eq!(
            parse_url("git@github.com:org/repo.git").map(|x| x.1).ok(),
            Some(Scheme::Ssh)
        );
        assert_eq!(
            parse_url("ssh://git@host:2222/repo").map(|x| x.1).ok(),
            Some(Scheme::Ssh)
        );
        assert_eq!(
            parse_url("git://127.0.0.1:9418/repo").map(|x| x.1).ok(),
            Some(Scheme::Git)
        );
        assert_eq!(
            parse_url("file:///tmp/repo").map(|x| x.1).ok(),
            Some(Scheme::File)
        );
    }

    #[test]
    fn ssh_requires_known_hosts() {
        let mut o = CloneOptions::new(
            "ssh://git@host/repo",
            crate::Reference::Branch("main".into()),
        );
        o.auth = Auth::Ssh {
            identity: b"key".to_vec(),
            known_hosts: Vec::new(),
            passphrase: None,
        };
        assert!(matches!(ssh_overrides(&o), Err(Error::Auth(_))));
    }

    #[test]
    fn ssh_command_checks_host_keys_and_uses_only_the_given_key() {
        let mut o = CloneOptions::new(
            "ssh://git@host/repo",
            crate::Reference::Branch("main".into()),
        );
        o.auth = Auth::Ssh {
            identity: b"-----BEGIN OPENSSH PRIVATE KEY-----\n".to_vec(),
            known_hosts: b"host ssh-ed25519 AAAA".to_vec(),
            passphrase: None,
        };
        let (ov, files) = ssh_overrides(&o).expect("overrides");
        assert!(files.is_some());
        let cmd = &ov[0];
        for needle in [
            "StrictHostKeyChecking=yes",
            "UserKnownHostsFile=",
            "IdentitiesOnly=yes",
            "BatchMode=yes",
            " -i '",
        ] {
            assert!(cmd.contains(needle), "{cmd} lacks {needle}");
        }
        let key = cmd
            .split(" -i '")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("key path");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key)
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn custom_ca_must_contain_a_certificate() {
        assert!(client_tls_config(&crate::TlsConfig::default()).is_ok());
        let tls = crate::TlsConfig {
            ca_pem: Some(b"garbage".to_vec()),
            ..Default::default()
        };
        assert!(matches!(client_tls_config(&tls), Err(Error::Auth(_))));
    }

    #[test]
    fn a_client_certificate_needs_both_halves_in_pem() {
        let half = crate::TlsConfig {
            client_cert_pem: Some(b"-----BEGIN CERTIFICATE-----\n".to_vec()),
            ..Default::default()
        };
        let err = client_tls_config(&half).expect_err("cert without key");
        assert!(err.to_string().contains("'tls.key'"), "{err}");
        let garbage = crate::TlsConfig {
            client_cert_pem: Some(b"not pem".to_vec()),
            client_key_pem: Some(b"not pem".to_vec()),
            ..Default::default()
        };
        let err = client_tls_config(&garbage).expect_err("no certificate");
        assert!(matches!(err, Error::Auth(_)), "{err}");
    }

    #[test]
    fn proxy_credentials_need_a_user() {
        let mut p = crate::Proxy::new("http://127.0.0.1:3128");
        assert!(reqwest_proxy(&p).is_ok());
        p.password = Some("pw".into());
        assert!(matches!(reqwest_proxy(&p), Err(Error::Auth(_))));
        p.username = Some("u".into());
        assert!(reqwest_proxy(&p).is_ok());
        assert!(matches!(
            reqwest_proxy(&crate::Proxy::new("::not a url::")),
            Err(Error::Url(_))
        ));
    }
}
