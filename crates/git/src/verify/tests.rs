//! Real signatures made by `git` (with `ssh-keygen` and `gpg`), checked out with the crate's own
//! [`crate::checkout`] over `file://`, then verified.

use super::*;
use crate::testutil::{git, git_env, write};
use crate::{CloneOptions, Reference};
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An SSH key pair made by `ssh-keygen`.
struct SshKey {
    private: PathBuf,
    public_line: String,
}

fn ssh_key(dir: &Path, name: &str, kind: &str) -> SshKey {
    let private = dir.join(name);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
        .arg(&private);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    run(&mut cmd);
    let public_line = std::fs::read_to_string(private.with_extension("pub")).expect("pub key");
    SshKey {
        private,
        public_line,
    }
}

/// A GnuPG home with one key; `algo` is a `--quick-gen-key` algorithm.
struct GpgKey {
    home: PathBuf,
    fingerprint: String,
    armored_public: String,
}

fn gpg(home: &Path, args: &[&str]) -> String {
    run(Command::new("gpg")
        .env("GNUPGHOME", home)
        .args([
            "--batch",
            "--quiet",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ])
        .args(args))
}

fn gpg_key(dir: &Path, name: &str, algo: &str, signing_subkey: bool) -> GpgKey {
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).expect("mkdir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let uid = format!("{name} <{name}@example.com>");
    gpg(&home, &["--quick-gen-key", &uid, algo, "sign", "never"]);
    let listing = gpg(&home, &["--with-colons", "--list-keys", &uid]);
    let fingerprint = listing
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .expect("fingerprint")
        .to_owned();
    if signing_subkey {
        gpg(
            &home,
            &["--quick-add-key", &fingerprint, algo, "sign", "never"],
        );
    }
    let armored_public = gpg(&home, &["--armor", "--export", &fingerprint]);
    GpgKey {
        home,
        fingerprint,
        armored_public,
    }
}

impl GpgKey {
    /// The 16-digit key id of the primary key, as [`Verified`] reports it.
    fn key_id(&self) -> String {
        self.fingerprint[self.fingerprint.len() - 16..].to_owned()
    }
}

fn ssh_fingerprint(key: &SshKey) -> String {
    ssh_key::PublicKey::from_openssh(key.public_line.trim())
        .expect("parse")
        .fingerprint(ssh_key::HashAlg::Sha256)
        .to_string()
}

struct Repo {
    tmp: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("tmp");
        git(
            tmp.path(),
            &["init", "-q", "--bare", "-b", "master", "repo.git"],
        );
        let work = tmp.path().join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        git(&work, &["init", "-q", "-b", "master"]);
        git(&work, &["remote", "add", "origin", "../repo.git"]);
        write(&work, "README.md", "hello\n");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "base"]);
        Repo { tmp }
    }
    fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }
    fn url(&self) -> String {
        format!("file://{}", self.tmp.path().join("repo.git").display())
    }
    fn git(&self, args: &[&str]) -> String {
        git(&self.work(), args)
    }
    fn branch(&self, name: &str) {
        self.git(&["checkout", "-q", "-B", name, "master"]);
        write(&self.work(), &format!("{name}.txt"), name);
        self.git(&["add", "-A"]);
    }
    fn ssh_args(key: &SshKey) -> Vec<String> {
        vec![
            "-c".into(),
            "gpg.format=ssh".into(),
            "-c".into(),
            format!("user.signingkey={}", key.private.display()),
        ]
    }
    fn commit_ssh(&self, branch: &str, key: &SshKey) -> String {
        self.branch(branch);
        let mut args = Repo::ssh_args(key);
        args.extend(["commit", "-q", "-S", "-m", branch].map(String::from));
        self.git(&args.iter().map(String::as_str).collect::<Vec<_>>());
        self.git(&["rev-parse", "HEAD"])
    }
    fn commit_gpg(&self, branch: &str, key: &GpgKey) -> String {
        self.branch(branch);
        let signing = format!("user.signingkey={}", key.fingerprint);
        git_env(
            &self.work(),
            &["-c", &signing, "commit", "-q", "-S", "-m", branch],
            &[("GNUPGHOME", &key.home)],
        );
        self.git(&["rev-parse", "HEAD"])
    }
    fn commit_unsigned(&self, branch: &str) -> String {
        self.branch(branch);
        self.git(&["commit", "-q", "-m", branch]);
        self.git(&["rev-parse", "HEAD"])
    }
    fn tag_ssh(&self, name: &str, key: &SshKey) {
        let mut args = Repo::ssh_args(key);
        args.extend(["tag", "-s", name, "-m", name].map(String::from));
        self.git(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    fn tag_gpg(&self, name: &str, key: &GpgKey) {
        let signing = format!("user.signingkey={}", key.fingerprint);
        git_env(
            &self.work(),
            &["-c", &signing, "tag", "-s", name, "-m", name],
            &[("GNUPGHOME", &key.home)],
        );
    }
    /// Rewrite the object `rev` points at with `from` replaced by `to` in its message, keeping
    /// the signature, and point `refname` at the forgery.
    fn tamper(&self, rev: &str, kind: &str, refname: &str, from: &str, to: &str) -> String {
        let raw = self.git(&["cat-file", kind, rev]) + "\n";
        let forged = raw.replacen(&format!("\n\n{from}"), &format!("\n\n{to}"), 1);
        assert_ne!(raw, forged, "nothing to tamper with");
        let path = self.tmp.path().join("forged");
        std::fs::write(&path, forged).expect("write");
        let id = self.git(&["hash-object", "-t", kind, "-w", &path.display().to_string()]);
        self.git(&["update-ref", refname, &id]);
        id
    }
    fn push(&self) {
        self.git(&["push", "-q", "-f", "origin", "--all"]);
        self.git(&["push", "-q", "-f", "origin", "--tags"]);
    }
    fn checkout(&self, reference: Reference) -> Checkout {
        let dest = tempfile::tempdir().expect("tmp");
        crate::checkout(
            &CloneOptions::new(self.url(), reference),
            &dest.path().join("src"),
        )
        .expect("checkout")
    }
}

fn branch(b: &str) -> Reference {
    Reference::Branch(b.into())
}

fn tag(t: &str) -> Reference {
    Reference::Tag(t.into())
}

fn secret(entries: &[(&str, &str)]) -> Keys {
    let data = entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    Keys::from_secret_data(&data).expect("keys")
}

fn verification_error(res: Result<Verified>) -> String {
    match res {
        Err(Error::Verification(msg)) => msg,
        other => panic!("expected a verification error, got {other:?}"),
    }
}

#[test]
fn ssh_signed_commits_and_tags() {
    let repo = Repo::new();
    let keys_dir = repo.tmp.path();
    let right = ssh_key(keys_dir, "right", "ed25519");
    let wrong = ssh_key(keys_dir, "wrong", "ed25519");
    let signed = repo.commit_ssh("signed", &right);
    repo.tag_ssh("v1.0.0", &right);
    repo.git(&["tag", "-a", "v1.1.0", "-m", "unsigned tag"]);
    repo.git(&["tag", "v1.2.0"]);
    let by_wrong = repo.commit_ssh("by-wrong", &wrong);
    repo.tag_ssh("v2.0.0", &wrong);
    let unsigned = repo.commit_unsigned("unsigned");
    // Amending a signed commit without -S drops the signature.
    repo.commit_ssh("amended", &right);
    repo.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        "amended without re-signing",
    ]);
    let amended = repo.git(&["rev-parse", "HEAD"]);
    // A forgery that keeps the signature but changes the message.
    repo.commit_ssh("tampered", &right);
    let tampered = repo.tamper("HEAD", "commit", "refs/heads/tampered", "tampered", "evil");
    repo.git(&["checkout", "-q", "signed"]);
    repo.tag_ssh("v3.0.0", &right);
    let forged_tag = repo.tamper("v3.0.0", "tag", "refs/tags/v3.0.0", "v3.0.0", "evil");
    repo.push();

    let keys = secret(&[("author.pub", &right.public_line)]);
    let fp = ssh_fingerprint(&right);

    let co = repo.checkout(branch("signed"));
    assert_eq!(co.commit.hash, signed);
    let v = verify(&co, Mode::Head, &keys).expect("right key verifies");
    assert_eq!(v.commit_key.as_deref(), Some(fp.as_str()));
    assert_eq!(v.tag_key, None);

    // Signed tag over a signed commit: all modes.
    let co = repo.checkout(tag("v1.0.0"));
    let v = verify(&co, Mode::TagAndHead, &keys).expect("tag and head");
    assert_eq!(v.tag_key.as_deref(), Some(fp.as_str()));
    assert_eq!(v.commit_key.as_deref(), Some(fp.as_str()));
    verify(&co, Mode::Tag, &keys).expect("tag");
    // Semver checkouts go through the tag too.
    let co = repo.checkout(Reference::Semver("~1.0".into()));
    assert_eq!(co.tag.as_ref().map(|t| t.name.as_str()), Some("v1.0.0"));
    verify(&co, Mode::TagAndHead, &keys).expect("semver tag and head");

    // Wrong key: commit and tag.
    let co = repo.checkout(branch("by-wrong"));
    let msg = verification_error(verify(&co, Mode::Head, &keys));
    assert!(
        msg.starts_with(&format!("unable to verify commit '{by_wrong}': ")),
        "{msg}"
    );
    assert!(msg.contains(&ssh_fingerprint(&wrong)), "{msg}");
    let msg = verification_error(verify(&repo.checkout(tag("v2.0.0")), Mode::Tag, &keys));
    assert!(msg.starts_with("unable to verify tag 'v2.0.0': "), "{msg}");
    // The wrong key is fine once it is trusted.
    let both = secret(&[
        ("author.pub", &right.public_line),
        ("other.pub", &wrong.public_line),
    ]);
    verify(&co, Mode::Head, &both).expect("trusted second key");

    // Unsigned commit, unsigned annotated tag.
    let co = repo.checkout(branch("unsigned"));
    assert_eq!(
        verification_error(verify(&co, Mode::Head, &keys)),
        format!("unable to verify commit '{unsigned}': no signature")
    );
    let co = repo.checkout(branch("amended"));
    assert_eq!(
        verification_error(verify(&co, Mode::Head, &keys)),
        format!("unable to verify commit '{amended}': no signature")
    );
    let co = repo.checkout(tag("v1.1.0"));
    verify(&co, Mode::Head, &keys).expect("the commit is signed");
    assert_eq!(
        verification_error(verify(&co, Mode::TagAndHead, &keys)),
        "unable to verify tag 'v1.1.0': no signature"
    );

    // Tampered commit and tag.
    let co = repo.checkout(branch("tampered"));
    assert_eq!(co.commit.hash, tampered);
    let msg = verification_error(verify(&co, Mode::Head, &keys));
    assert!(
        msg.starts_with(&format!(
            "unable to verify commit '{tampered}': invalid SSH signature"
        )),
        "{msg}"
    );
    let co = repo.checkout(tag("v3.0.0"));
    assert_eq!(
        co.tag.as_ref().map(|t| t.hash.as_str()),
        Some(forged_tag.as_str())
    );
    verify(&co, Mode::Head, &keys).expect("commit itself is fine");
    let msg = verification_error(verify(&co, Mode::Tag, &keys));
    assert!(
        msg.starts_with("unable to verify tag 'v3.0.0': invalid SSH signature"),
        "{msg}"
    );

    // Tag modes need an annotated tag.
    let msg = verification_error(verify(&repo.checkout(branch("signed")), Mode::Tag, &keys));
    assert!(msg.contains("'refs/heads/signed' is not a tag"), "{msg}");
    let msg = verification_error(verify(
        &repo.checkout(tag("v1.2.0")),
        Mode::TagAndHead,
        &keys,
    ));
    assert!(msg.contains("'v1.2.0' is a lightweight tag"), "{msg}");

    // Only PGP keys in the secret: the SSH signature cannot verify.
    let pgp_only = Keys {
        pgp: Vec::new(),
        ssh: Vec::new(),
    };
    let msg = verification_error(verify(
        &repo.checkout(branch("signed")),
        Mode::Head,
        &pgp_only,
    ));
    assert!(msg.contains("holds no SSH keys"), "{msg}");
}

#[test]
fn ssh_ecdsa_and_rsa_keys_verify() {
    let repo = Repo::new();
    let ecdsa = ssh_key(repo.tmp.path(), "ecdsa", "ecdsa");
    let rsa = ssh_key(repo.tmp.path(), "rsa", "rsa");
    repo.commit_ssh("ecdsa", &ecdsa);
    repo.commit_ssh("rsa", &rsa);
    repo.push();
    let keys = secret(&[(
        "keys",
        &format!("{}\n{}", ecdsa.public_line, rsa.public_line),
    )]);
    for (b, key) in [("ecdsa", &ecdsa), ("rsa", &rsa)] {
        let v = verify(&repo.checkout(branch(b)), Mode::Head, &keys)
            .unwrap_or_else(|e| panic!("{b}: {e}"));
        assert_eq!(v.commit_key, Some(ssh_fingerprint(key)), "{b}");
    }
}

#[test]
fn gpg_signed_commits_and_tags() {
    let repo = Repo::new();
    let dir = repo.tmp.path();
    let right = gpg_key(dir, "right", "ed25519", false);
    let wrong = gpg_key(dir, "wrong", "ed25519", false);
    let rsa = gpg_key(dir, "rsa", "rsa2048", false);
    let sub = gpg_key(dir, "sub", "ed25519", true);
    let signed = repo.commit_gpg("signed", &right);
    repo.tag_gpg("v1.0.0", &right);
    repo.tag_gpg("v2.0.0", &wrong);
    let by_wrong = repo.commit_gpg("by-wrong", &wrong);
    repo.commit_gpg("by-rsa", &rsa);
    repo.commit_gpg("by-subkey", &sub);
    let unsigned = repo.commit_unsigned("unsigned");
    repo.commit_gpg("amended", &right);
    repo.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        "amended without re-signing",
    ]);
    let amended = repo.git(&["rev-parse", "HEAD"]);
    repo.commit_gpg("tampered", &right);
    let tampered = repo.tamper("HEAD", "commit", "refs/heads/tampered", "tampered", "evil");
    repo.git(&["checkout", "-q", "signed"]);
    repo.tag_gpg("v3.0.0", &right);
    repo.tamper("v3.0.0", "tag", "refs/tags/v3.0.0", "v3.0.0", "evil");
    repo.push();

    let keys = secret(&[("right.asc", &right.armored_public)]);

    let co = repo.checkout(branch("signed"));
    assert_eq!(co.commit.hash, signed);
    let v = verify(&co, Mode::Head, &keys).expect("right key verifies");
    assert_eq!(v.commit_key, Some(right.key_id()));

    let co = repo.checkout(tag("v1.0.0"));
    let v = verify(&co, Mode::TagAndHead, &keys).expect("tag and head");
    assert_eq!(v.tag_key, Some(right.key_id()));
    assert_eq!(v.commit_key, Some(right.key_id()));

    let msg = verification_error(verify(
        &repo.checkout(branch("by-wrong")),
        Mode::Head,
        &keys,
    ));
    assert!(
        msg.starts_with(&format!("unable to verify commit '{by_wrong}': ")),
        "{msg}"
    );
    assert!(msg.contains("not in the secret"), "{msg}");
    let msg = verification_error(verify(&repo.checkout(tag("v2.0.0")), Mode::Tag, &keys));
    assert!(msg.starts_with("unable to verify tag 'v2.0.0': "), "{msg}");

    assert_eq!(
        verification_error(verify(
            &repo.checkout(branch("unsigned")),
            Mode::Head,
            &keys
        )),
        format!("unable to verify commit '{unsigned}': no signature")
    );
    assert_eq!(
        verification_error(verify(&repo.checkout(branch("amended")), Mode::Head, &keys)),
        format!("unable to verify commit '{amended}': no signature")
    );
    let msg = verification_error(verify(
        &repo.checkout(branch("tampered")),
        Mode::Head,
        &keys,
    ));
    assert!(
        msg.starts_with(&format!(
            "unable to verify commit '{tampered}': invalid OpenPGP signature"
        )),
        "{msg}"
    );
    let msg = verification_error(verify(&repo.checkout(tag("v3.0.0")), Mode::Tag, &keys));
    assert!(
        msg.starts_with("unable to verify tag 'v3.0.0': invalid OpenPGP signature"),
        "{msg}"
    );

    // Several keys in one secret: one value holding two concatenated armored blocks plus a
    // separate value; RSA and signing-subkey signatures verify and name the primary key.
    let many = secret(&[
        (
            "ring.asc",
            &format!("{}\n{}", wrong.armored_public, rsa.armored_public),
        ),
        ("sub.asc", &sub.armored_public),
    ]);
    assert_eq!(many.pgp_len(), 3);
    let v = verify(&repo.checkout(branch("by-wrong")), Mode::Head, &many).expect("wrong trusted");
    assert_eq!(v.commit_key, Some(wrong.key_id()));
    let v = verify(&repo.checkout(branch("by-rsa")), Mode::Head, &many).expect("rsa");
    assert_eq!(v.commit_key, Some(rsa.key_id()));
    let v = verify(&repo.checkout(branch("by-subkey")), Mode::Head, &many).expect("subkey");
    assert_eq!(v.commit_key, Some(sub.key_id()));
    let msg = verification_error(verify(&repo.checkout(branch("signed")), Mode::Head, &many));
    assert!(
        msg.contains(&right.key_id()),
        "names the unknown issuer: {msg}"
    );
}

#[test]
fn keys_from_secret_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = ssh_key(dir.path(), "a", "ed25519");
    let b = ssh_key(dir.path(), "b", "ed25519");
    let c = ssh_key(dir.path(), "c", "ed25519");
    let text = format!(
        "# comment\n\n{}\nnamespaces=\"git\" {}\nflux@example.com {}not a key\n",
        a.public_line.trim(),
        b.public_line.trim(),
        c.public_line
    );
    let keys = secret(&[("authorized_keys", &text), ("junk", "hello")]);
    assert_eq!(keys.ssh_len(), 3);
    assert_eq!(keys.pgp_len(), 0);

    let mut data = BTreeMap::new();
    data.insert("a".to_owned(), b"not a key".to_vec());
    data.insert(
        "b".to_owned(),
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\ngarbage\n-----END PGP PUBLIC KEY BLOCK-----\n"
            .to_vec(),
    );
    match Keys::from_secret_data(&data) {
        Err(Error::Verification(msg)) => assert_eq!(msg, "no valid public keys in secret"),
        other => panic!("{other:?}"),
    }
    assert!(Keys::from_secret_data(&BTreeMap::new()).is_err());
}

#[test]
fn modes_parse_like_flux() {
    assert_eq!(Mode::from_flux(""), Some(Mode::Head));
    assert_eq!(Mode::from_flux("HEAD"), Some(Mode::Head));
    assert_eq!(Mode::from_flux("head"), Some(Mode::Head));
    assert_eq!(Mode::from_flux("Tag"), Some(Mode::Tag));
    assert_eq!(Mode::from_flux("TagAndHEAD"), Some(Mode::TagAndHead));
    assert_eq!(Mode::from_flux("tag"), None);
}
