//! Documents encrypted by the real `sops` (built by `hack/tools.sh` into `.cache/bin`) decrypt
//! to what `sops decrypt` prints, and tampering or a wrong key is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test file: failing loudly is the point

use ferroflux_sops::{
    Error, Format, Keys, Options, decrypt, decrypt_secret_entry, decrypt_source_file, decrypt_with,
    detect_format, is_encrypted,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/bin")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `make tools` (or `hack/tools.sh sops age age-keygen`) first",
        path.display()
    );
    path
}

/// An age identity made by the reference `age-keygen`.
struct AgeKey {
    secret: String,
    recipient: String,
}

const ALL_KEYS: usize = usize::MAX;

struct Env {
    dir: tempfile::TempDir,
    keys: Vec<AgeKey>,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = (0..3)
            .map(|i| {
                let file = dir.path().join(format!("key{i}.txt"));
                let out = Command::new(bin("age-keygen"))
                    .arg("-o")
                    .arg(&file)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "age-keygen: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let text = std::fs::read_to_string(&file).unwrap();
                let secret = text
                    .lines()
                    .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                    .unwrap();
                let recipient = text
                    .lines()
                    .find_map(|l| l.strip_prefix("# public key: "))
                    .unwrap();
                AgeKey {
                    secret: secret.to_string(),
                    recipient: recipient.to_string(),
                }
            })
            .collect();
        Env { dir, keys }
    }

    /// Runs sops with identity `key` (or every identity for [`ALL_KEYS`]).
    fn sops(&self, args: &[&str], key: usize) -> std::process::Output {
        let key_file = if key == ALL_KEYS {
            let all: Vec<&str> = self.keys.iter().map(|k| k.secret.as_str()).collect();
            let path = self.dir.path().join("all-keys.txt");
            std::fs::write(&path, all.join("\n")).unwrap();
            path
        } else {
            self.dir.path().join(format!("key{key}.txt"))
        };
        Command::new(bin("sops"))
            .args(args)
            .current_dir(self.dir.path())
            .env("SOPS_AGE_KEY_FILE", key_file)
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_RECIPIENTS")
            .output()
            .unwrap()
    }

    /// Encrypts `plain` (written as `name`) for the given recipients with extra sops flags.
    fn encrypt(&self, name: &str, plain: &[u8], recipients: &[usize], flags: &[&str]) -> Vec<u8> {
        std::fs::write(self.dir.path().join(name), plain).unwrap();
        let recipients: Vec<&str> = recipients
            .iter()
            .map(|&i| self.keys[i].recipient.as_str())
            .collect();
        let joined = recipients.join(",");
        let mut args = vec!["encrypt", "--age", joined.as_str()];
        // Some settings (`mac_only_encrypted`, comment regexes) exist only as creation rules:
        // flags written `rule:<key>: <value>` go into a `.sops.yaml` next to the file.
        let config = self.dir.path().join(".sops.yaml");
        let rules: Vec<&str> = flags
            .iter()
            .filter_map(|f| f.strip_prefix("rule:"))
            .collect();
        if !rules.is_empty() {
            let text = format!("creation_rules:\n  - {}\n", rules.join("\n    "));
            std::fs::write(&config, text).unwrap();
        }
        args.extend(flags.iter().filter(|f| !f.starts_with("rule:")));
        args.push(name);
        let out = self.sops(&args, 0);
        if !rules.is_empty() {
            std::fs::remove_file(&config).unwrap();
        }
        assert!(
            out.status.success(),
            "sops encrypt: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Encrypts `plain` with the keys and settings of a `.sops.yaml` creation rule.
    fn encrypt_with_config(&self, name: &str, plain: &[u8], config: &str) -> Vec<u8> {
        std::fs::write(self.dir.path().join(name), plain).unwrap();
        let path = self.dir.path().join(".sops.yaml");
        std::fs::write(&path, config).unwrap();
        let out = self.sops(&["encrypt", name], 0);
        std::fs::remove_file(&path).unwrap();
        assert!(
            out.status.success(),
            "sops encrypt: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// What `sops decrypt` prints for `encrypted` (stored as `name`, which sets the format).
    fn reference_decrypt(&self, name: &str, encrypted: &[u8], key: usize) -> Vec<u8> {
        let path = format!("enc-{name}");
        std::fs::write(self.dir.path().join(&path), encrypted).unwrap();
        let out = self.sops(&["decrypt", path.as_str()], key);
        assert!(
            out.status.success(),
            "sops decrypt: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn keys(&self, which: &[usize]) -> Keys {
        let mut data = BTreeMap::new();
        for &i in which {
            data.insert(
                format!("key{i}.agekey"),
                self.keys[i].secret.clone().into_bytes(),
            );
        }
        Keys::from_secret_data(&data).unwrap()
    }
}

fn yaml_docs(bytes: &[u8]) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple(std::str::from_utf8(bytes).unwrap()).unwrap()
}

const SECRET: &str = "\
# A Kubernetes Secret as Flux users commit it.
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials # inline comment
  namespace: apps
  labels:
    app.kubernetes.io/name: db
  annotations:
    replicas: \"3\"
type: Opaque
stringData:
  username: admin
  password: \"s3cr3t: with colon & stuff\"
  config.yaml: |
    host: db.example.com
    port: 5432
data:
  token: aGVsbG8gd29ybGQ=
  empty: \"\"
";

#[test]
fn yaml_secret_with_encrypted_regex_decrypts_as_sops_does() {
    let env = Env::new();
    let enc = env.encrypt(
        "secret.yaml",
        SECRET.as_bytes(),
        &[0],
        &["--encrypted-regex", "^(data|stringData)$"],
    );
    let text = String::from_utf8(enc.clone()).unwrap();
    assert!(text.contains("encrypted_regex"), "{text}");
    assert!(
        text.contains("name: db-credentials"),
        "metadata stays clear:\n{text}"
    );
    assert!(!text.contains("admin"));
    assert!(is_encrypted(&enc, Format::Yaml));
    assert!(!is_encrypted(SECRET.as_bytes(), Format::Yaml));

    let ours = decrypt(&enc, Format::Yaml, &env.keys(&[0])).unwrap();
    let reference = env.reference_decrypt("secret.yaml", &enc, 0);
    assert_eq!(yaml_docs(&ours), yaml_docs(&reference));
    let doc = &yaml_docs(&ours)[0];
    assert_eq!(doc["stringData"]["password"], "s3cr3t: with colon & stuff");
    assert_eq!(
        doc["stringData"]["config.yaml"],
        "host: db.example.com\nport: 5432\n"
    );
    assert_eq!(doc["data"]["token"], "aGVsbG8gd29ybGQ=");
    assert_eq!(doc["metadata"]["annotations"]["replicas"], "3");
    assert!(doc.get("sops").is_none());
    // Key order is kept.
    let ours = String::from_utf8(ours).unwrap();
    let order: Vec<usize> = [
        "apiVersion",
        "kind",
        "metadata",
        "type",
        "stringData",
        "data",
    ]
    .iter()
    .map(|k| {
        ours.find(&format!("\n{k}:"))
            .or(ours.find(&format!("{k}:")))
            .unwrap()
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{ours}");
}

const TYPED: &str = "\
# comment at the top
top: value
int: 42
negative: -7
float: 3.25
big_float: 1000000.0
small_float: 0.00001
bool_true: true
bool_false: false
nothing: null
empty: \"\"
quoted_number: \"0123\"
hex: 0x1F
nested:
  # comment inside a map
  deeper:
    list:
      - one
      - 2
      - true
      - {name: item, value: 1.5}
      - [a, b]
  other: x
lists_of_maps:
  - name: first
    port: 80
  - name: second
    port: 443 # trailing comment
multiline: |
  line one
  line two
unicode: \"héllo wörld ✓\"
plain_unencrypted: stays
date: 2001-12-14
when: 2001-12-14t21:59:43.10-05:00
octal: 0o17
";

#[test]
fn nested_maps_lists_and_scalar_types_round_trip() {
    let env = Env::new();
    let enc = env.encrypt("typed.yaml", TYPED.as_bytes(), &[0], &[]);
    let text = String::from_utf8_lossy(&enc);
    for t in [
        "type:int",
        "type:float",
        "type:bool",
        "type:str",
        "type:comment",
    ] {
        assert!(text.contains(t), "sops wrote {t}:\n{text}");
    }
    let ours = decrypt(&enc, Format::Yaml, &env.keys(&[0])).unwrap();
    let reference = env.reference_decrypt("typed.yaml", &enc, 0);
    assert_eq!(
        yaml_docs(&ours),
        yaml_docs(&reference),
        "ours:\n{}",
        String::from_utf8_lossy(&ours)
    );
    let doc = &yaml_docs(&ours)[0];
    assert_eq!(doc["int"], 42);
    assert_eq!(doc["float"], 3.25);
    assert_eq!(doc["bool_false"], false);
    assert_eq!(doc["quoted_number"], "0123");
    assert_eq!(doc["hex"], 31);
    assert_eq!(doc["nested"]["deeper"]["list"][3]["value"], 1.5);
    assert_eq!(doc["unicode"], "héllo wörld ✓");
    assert_eq!(doc["octal"], 15);
    let ours = String::from_utf8(ours).unwrap();
    assert!(ours.contains("date: 2001-12-14T00:00:00Z\n"), "{ours}");
    assert!(
        ours.contains("when: 2001-12-14T21:59:43.1-05:00\n"),
        "{ours}"
    );
}

#[test]
fn multi_document_yaml_decrypts_every_document() {
    let env = Env::new();
    let plain = "a: 1\nb: secret-one\n---\nc: secret-two\nd: [x, y]\n";
    let enc = env.encrypt("multi.yaml", plain.as_bytes(), &[0], &[]);
    let ours = decrypt(&enc, Format::Yaml, &env.keys(&[0])).unwrap();
    let reference = env.reference_decrypt("multi.yaml", &enc, 0);
    let docs = yaml_docs(&ours);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs, yaml_docs(&reference));
    assert_eq!(docs[1]["c"], "secret-two");
}

#[test]
fn json_decrypts_to_what_sops_prints() {
    let env = Env::new();
    let plain = r#"{"user": "admin", "port": 5432, "ratio": 0.5, "whole_float": 2.0,
        "enabled": true, "none": null, "html": "<a href='x'>&</a>",
        "nested": {"list": [1, "two", {"three": 3.5}], "empty_map": {}, "empty_list": []},
        "z_last": "kept in order"}"#;
    let enc = env.encrypt("config.json", plain.as_bytes(), &[0], &[]);
    assert!(is_encrypted(&enc, Format::Json));
    assert!(!is_encrypted(plain.as_bytes(), Format::Json));
    let ours = decrypt(&enc, Format::Json, &env.keys(&[0])).unwrap();
    let reference = env.reference_decrypt("config.json", &enc, 0);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&reference)
    );
}

#[test]
fn dotenv_decrypts_to_what_sops_prints() {
    let env = Env::new();
    let plain = "# database settings\nDB_USER=admin\nDB_PASSWORD=p@ss=word\nMULTI=line1\\nline2\n\
                 EMPTY=\nTOKEN_unencrypted=visible\n";
    let enc = env.encrypt("app.env", plain.as_bytes(), &[0], &[]);
    assert!(is_encrypted(&enc, Format::Dotenv));
    assert!(!is_encrypted(plain.as_bytes(), Format::Dotenv));
    let ours = decrypt(&enc, Format::Dotenv, &env.keys(&[0])).unwrap();
    let reference = env.reference_decrypt("app.env", &enc, 0);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&reference)
    );
    assert!(String::from_utf8_lossy(&ours).contains("DB_PASSWORD=p@ss=word\n"));
}

#[test]
fn binary_decrypts_to_the_original_bytes() {
    let env = Env::new();
    let plain: Vec<u8> = (0..=255u8).chain(b"tail\n".iter().copied()).collect();
    let enc = env.encrypt("blob.bin", &plain, &[0], &[]);
    assert!(is_encrypted(&enc, Format::Binary));
    assert!(!is_encrypted(&plain, Format::Binary));
    let ours = decrypt(&enc, Format::Binary, &env.keys(&[0])).unwrap();
    assert_eq!(ours, plain);
    assert_eq!(ours, env.reference_decrypt("blob.bin", &enc, 0));
}

#[test]
fn encryption_rules_are_honoured() {
    let env = Env::new();
    let plain = "db_secret: one\npublic: two\nnested:\n  api_secret: three\n  name: four\n\
                 public_date: 2020-01-02\ncount: 3\nratio: 0.5\nflag: true\n";
    for flags in [
        &["--encrypted-suffix", "_secret"][..],
        &["--unencrypted-regex", "^(public|name)$"][..],
        &["--unencrypted-suffix", "_plain"][..],
        &[
            "rule:mac_only_encrypted: true",
            "--encrypted-regex",
            "secret",
        ][..],
    ] {
        let enc = env.encrypt("rules.yaml", plain.as_bytes(), &[0], flags);
        let ours = decrypt(&enc, Format::Yaml, &env.keys(&[0]))
            .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        let reference = env.reference_decrypt("rules.yaml", &enc, 0);
        assert_eq!(yaml_docs(&ours), yaml_docs(&reference), "{flags:?}");
        assert_eq!(yaml_docs(&ours)[0]["nested"]["api_secret"], "three");
    }
}

#[test]
fn comment_regex_rules_are_honoured() {
    let env = Env::new();
    let plain = "a: one\n# sops:enc\nb: two\nc: three\nlist:\n  - x\n  # sops:enc\n  - y\n";
    let rule = ["rule:encrypted_comment_regex: sops:enc"];
    let enc = env.encrypt("c.yaml", plain.as_bytes(), &[0], &rule);
    let text = String::from_utf8_lossy(&enc);
    assert!(
        text.contains("a: one") && text.contains("c: three"),
        "{text}"
    );
    assert!(!text.contains("b: two"), "{text}");
    let ours = decrypt(&enc, Format::Yaml, &env.keys(&[0])).unwrap();
    assert_eq!(
        yaml_docs(&ours),
        yaml_docs(&env.reference_decrypt("c.yaml", &enc, 0))
    );

    let plain = "a: one\n# sops:plain\nb: two\nn: 3\n";
    let rule = ["rule:unencrypted_comment_regex: sops:plain"];
    let enc = env.encrypt("u.yaml", plain.as_bytes(), &[0], &rule);
    assert!(String::from_utf8_lossy(&enc).contains("b: two"));
    let ours = decrypt(&enc, Format::Yaml, &env.keys(&[0])).unwrap();
    assert_eq!(
        yaml_docs(&ours),
        yaml_docs(&env.reference_decrypt("u.yaml", &enc, 0))
    );
    // The clear value is still covered by the MAC.
    let edited = String::from_utf8_lossy(&enc).replace("b: two", "b: six");
    assert!(matches!(
        decrypt(edited.as_bytes(), Format::Yaml, &env.keys(&[0])),
        Err(Error::MacMismatch(_))
    ));
}

#[test]
fn mac_only_encrypted_allows_editing_clear_values() {
    let env = Env::new();
    let plain = "password: hunter2\nreplicas: 1\n";
    let enc = env.encrypt(
        "m.yaml",
        plain.as_bytes(),
        &[0],
        &[
            "rule:mac_only_encrypted: true",
            "--encrypted-regex",
            "^password$",
        ],
    );
    assert!(String::from_utf8_lossy(&enc).contains("mac_only_encrypted: true"));
    let edited = String::from_utf8(enc)
        .unwrap()
        .replace("replicas: 1", "replicas: 5");
    let ours = decrypt(edited.as_bytes(), Format::Yaml, &env.keys(&[0])).unwrap();
    assert_eq!(yaml_docs(&ours)[0]["replicas"], 5);
    assert_eq!(yaml_docs(&ours)[0]["password"], "hunter2");
}

#[test]
fn wrong_key_is_refused_with_a_clear_error() {
    let env = Env::new();
    let enc = env.encrypt("secret.yaml", SECRET.as_bytes(), &[0], &[]);
    let err = decrypt(&enc, Format::Yaml, &env.keys(&[1])).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("failed to get the data key required to decrypt the SOPS file"),
        "{msg}"
    );
    assert!(msg.contains("no age or OpenPGP key matched"), "{msg}");
    assert!(
        msg.contains(&env.keys[0].recipient),
        "names the file's recipient: {msg}"
    );
    // No keys at all.
    let none = Keys::from_secret_data(&BTreeMap::new()).unwrap();
    assert!(matches!(
        decrypt(&enc, Format::Yaml, &none),
        Err(Error::NoMatchingKey(_))
    ));
}

#[test]
fn second_identity_matches() {
    let env = Env::new();
    let enc = env.encrypt("secret.yaml", SECRET.as_bytes(), &[2], &[]);
    // Two entries, the matching key last; plus one entry holding several identities.
    let ours = decrypt(&enc, Format::Yaml, &env.keys(&[1, 2])).unwrap();
    assert_eq!(yaml_docs(&ours)[0]["stringData"]["username"], "admin");
    let mut data = BTreeMap::new();
    data.insert(
        "identity.agekey".to_string(),
        format!(
            "# created by age-keygen\n{}\n\n{}\n",
            env.keys[0].secret, env.keys[2].secret
        )
        .into_bytes(),
    );
    data.insert("sops.vault-token".to_string(), b"ignored".to_vec());
    let keys = Keys::from_secret_data(&data).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(decrypt(&enc, Format::Yaml, &keys).is_ok());
}

#[test]
fn shamir_key_groups_need_the_threshold() {
    let env = Env::new();
    let config = format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{}]\n      \
         - age: [{}]\n      - age: [{}]\n",
        env.keys[0].recipient, env.keys[1].recipient, env.keys[2].recipient
    );
    let enc = env.encrypt_with_config("s.yaml", SECRET.as_bytes(), &config);
    let text = String::from_utf8_lossy(&enc);
    assert!(
        text.contains("key_groups") && text.contains("shamir_threshold: 2"),
        "{text}"
    );
    let reference = env.reference_decrypt("s.yaml", &enc, ALL_KEYS);
    for pair in [[0, 2], [1, 2], [0, 1]] {
        let ours = decrypt(&enc, Format::Yaml, &env.keys(&pair)).unwrap();
        assert_eq!(yaml_docs(&ours), yaml_docs(&reference), "{pair:?}");
    }
    let err = decrypt(&enc, Format::Yaml, &env.keys(&[1])).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey(_)), "{err}");
    assert!(
        err.to_string()
            .contains("1 of 3 key groups opened, 2 needed"),
        "{err}"
    );
}

#[test]
fn any_of_several_recipients_opens_the_file() {
    let env = Env::new();
    let enc = env.encrypt("secret.yaml", SECRET.as_bytes(), &[0, 1], &[]);
    let ours = decrypt(&enc, Format::Yaml, &env.keys(&[1])).unwrap();
    assert_eq!(
        yaml_docs(&ours),
        yaml_docs(&env.reference_decrypt("secret.yaml", &enc, 1))
    );
}

/// Flips one base64 character inside the first `data:` field after `marker`.
fn tamper_after(doc: &str, marker: &str) -> String {
    let start = doc.find(marker).unwrap();
    let data = start + doc[start..].find("data:").unwrap() + "data:".len();
    let mut bytes = doc.as_bytes().to_vec();
    bytes[data] = if bytes[data] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn tampered_ciphertext_is_refused() {
    let env = Env::new();
    let enc = String::from_utf8(env.encrypt("secret.yaml", SECRET.as_bytes(), &[0], &[])).unwrap();
    let bad = tamper_after(&enc, "password:");
    let err = decrypt(bad.as_bytes(), Format::Yaml, &env.keys(&[0])).unwrap_err();
    assert!(matches!(err, Error::Value { .. }), "{err}");
    assert!(err.to_string().contains("stringData.password"), "{err}");
}

#[test]
fn tampered_mac_is_refused() {
    let env = Env::new();
    let enc = String::from_utf8(env.encrypt(
        "secret.yaml",
        SECRET.as_bytes(),
        &[0],
        &["--encrypted-regex", "^(data|stringData)$"],
    ))
    .unwrap();
    let bad = tamper_after(&enc, "mac: ENC");
    let err = decrypt(bad.as_bytes(), Format::Yaml, &env.keys(&[0])).unwrap_err();
    assert!(err.to_string().contains("MAC mismatch"), "{err}");

    // A clear value changed after encryption: every value is in the MAC.
    let edited = enc.replace("namespace: apps", "namespace: attacker");
    let err = decrypt(edited.as_bytes(), Format::Yaml, &env.keys(&[0])).unwrap_err();
    assert!(matches!(err, Error::MacMismatch(_)), "{err}");
    assert!(err.to_string().contains("MAC mismatch"));

    // Swapping two encrypted values breaks their path binding.
    let json =
        String::from_utf8(env.encrypt("c.json", br#"{"a": "x", "b": "y"}"#, &[0], &[])).unwrap();
    let value = |k: &str| {
        let start = json.find(&format!("\"{k}\": \"ENC")).unwrap() + k.len() + 5;
        json[start..start + json[start..].find('"').unwrap()].to_string()
    };
    let (a, b) = (value("a"), value("b"));
    assert!(a.starts_with("ENC[") && b.starts_with("ENC["), "{a} {b}");
    let swapped = json.replace(&a, "@A@").replace(&b, &a).replace("@A@", &b);
    let err = decrypt(swapped.as_bytes(), Format::Json, &env.keys(&[0])).unwrap_err();
    assert!(matches!(err, Error::Value { .. }), "{err}");
}

#[test]
fn format_follows_the_file_name() {
    assert_eq!(Format::from_path(Path::new("a/secret.yaml")), Format::Yaml);
    assert_eq!(Format::from_path(Path::new("secret.yml")), Format::Yaml);
    assert_eq!(Format::from_path(Path::new("config.json")), Format::Json);
    assert_eq!(Format::from_path(Path::new(".env")), Format::Dotenv);
    assert_eq!(
        Format::from_path(Path::new("secret.enc.yaml")),
        Format::Yaml
    );
    assert_eq!(Format::from_path(Path::new("settings.ini")), Format::Binary);
    assert_eq!(Format::from_secret_key(".dockerconfigjson"), Format::Json);
    assert_eq!(Format::from_secret_key("SECRET.YAML"), Format::Binary);
    assert_eq!(Format::from_path(Path::new("app.env")), Format::Dotenv);
    assert_eq!(Format::from_path(Path::new("cert.pem")), Format::Binary);
}

#[test]
fn invalid_keys_and_documents_are_named() {
    let mut data = BTreeMap::new();
    data.insert("bad.agekey".to_string(), b"AGE-SECRET-KEY-NOTAKEY".to_vec());
    let err = Keys::from_secret_data(&data).unwrap_err();
    assert!(err.to_string().contains("bad.agekey"), "{err}");

    let keys = Keys::from_secret_data(&BTreeMap::new()).unwrap();
    let err = decrypt(b"a: 1\n", Format::Yaml, &keys).unwrap_err();
    assert!(matches!(err, Error::Metadata(_)), "{err}");
    let err = decrypt(b"a: [\n", Format::Yaml, &keys).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
    assert!(decrypt(b"{", Format::Json, &keys).is_err());
    assert!(decrypt(b"NOEQUALS\n", Format::Dotenv, &keys).is_err());
}

#[test]
fn built_resources_decrypt_without_the_mac_as_flux_does() {
    let env = Env::new();
    let enc = String::from_utf8(env.encrypt(
        "secret.yaml",
        SECRET.as_bytes(),
        &[0],
        &["--encrypted-regex", "^(data|stringData)$"],
    ))
    .unwrap();
    // What kustomize makes of it: another namespace, an extra label, keys in another order.
    let built = enc
        .replace("namespace: apps", "namespace: production")
        .replace("    labels:\n", "    labels:\n        team: payments\n")
        .replace("kind: Secret\n", "")
        .replacen("apiVersion: v1\n", "apiVersion: v1\nkind: Secret\n", 1);
    assert_ne!(built, enc);
    let keys = env.keys(&[0]);
    let strict = decrypt(built.as_bytes(), Format::Yaml, &keys).unwrap_err();
    assert!(matches!(strict, Error::MacMismatch(_)), "{strict}");

    let flux = Options {
        verify_mac: false,
        ..Options::new(Format::Yaml)
    };
    let out = decrypt_with(built.as_bytes(), &flux, &keys).unwrap();
    let doc = &yaml_docs(&out)[0];
    assert_eq!(doc["metadata"]["namespace"], "production");
    assert_eq!(doc["metadata"]["labels"]["team"], "payments");
    assert_eq!(doc["stringData"]["password"], "s3cr3t: with colon & stuff");
    assert!(doc.get("sops").is_none());

    // Without the MAC every encrypted value is still bound to its path and key.
    let bad = tamper_after(&built, "password:");
    assert!(matches!(
        decrypt_with(bad.as_bytes(), &flux, &keys),
        Err(Error::Value { .. })
    ));
    let moved = built.replace("  username: ENC", "  user: ENC");
    assert!(matches!(
        decrypt_with(moved.as_bytes(), &flux, &keys),
        Err(Error::Value { .. })
    ));
}

#[test]
fn secret_data_entries_are_detected_and_converted() {
    let env = Env::new();
    let keys = env.keys(&[0]);
    let dotenv = env.encrypt("app.env", b"USER=admin\nPASS=hunter2\n", &[0], &[]);
    let binary = env.encrypt("tls.crt", b"-----BEGIN CERTIFICATE-----\n", &[0], &[]);
    let yaml = env.encrypt("values.yaml", b"a: 1\nb: [x]\n", &[0], &[]);
    let json = env.encrypt(
        "cfg.json",
        br#"{"auths": {"r": {"auth": "dTpw"}}}"#,
        &[0],
        &[],
    );
    assert_eq!(detect_format(&dotenv), Some(Format::Dotenv));
    assert_eq!(detect_format(&binary), Some(Format::Json));
    assert_eq!(detect_format(&yaml), Some(Format::Yaml));
    assert_eq!(detect_format(&json), Some(Format::Json));
    assert_eq!(detect_format(b"plain: text\n"), None);

    // The output format follows the data key, as in Flux.
    let convert = |data: &[u8], key: &str| {
        let options = Options {
            input: detect_format(data).unwrap(),
            output: Format::from_secret_key(key),
            verify_mac: false,
        };
        decrypt_with(data, &options, &keys).unwrap()
    };
    assert_eq!(convert(&dotenv, "app.env"), b"USER=admin\nPASS=hunter2\n");
    assert_eq!(
        convert(&binary, "tls.crt"),
        b"-----BEGIN CERTIFICATE-----\n"
    );
    let as_json = convert(&json, ".dockerconfigjson");
    let value: serde_json::Value = serde_json::from_slice(&as_json).unwrap();
    assert_eq!(value["auths"]["r"]["auth"], "dTpw");
    // YAML in, JSON out and back.
    let yaml_as_json = convert(&yaml, "values.json");
    let value: serde_json::Value = serde_json::from_slice(&yaml_as_json).unwrap();
    assert_eq!(value, serde_json::json!({"a": 1, "b": ["x"]}));
    let json_as_yaml = convert(&json, "cfg.yaml");
    assert_eq!(yaml_docs(&json_as_yaml)[0]["auths"]["r"]["auth"], "dTpw");
    // A YAML document has no `data` string to emit as binary.
    let options = Options {
        input: Format::Yaml,
        output: Format::Binary,
        verify_mac: false,
    };
    assert!(matches!(
        decrypt_with(&yaml, &options, &keys),
        Err(Error::Emit { .. })
    ));
}

#[test]
fn errors_never_quote_secret_values() {
    let env = Env::new();
    let enc = String::from_utf8(env.encrypt("secret.yaml", SECRET.as_bytes(), &[0], &[])).unwrap();
    let start = enc.find("username: ").unwrap() + "username: ".len();
    let end = start + enc[start..].find('\n').unwrap();
    let leaked = format!("{}supersecretvalue{}", &enc[..start], &enc[end..]);
    let err = decrypt(leaked.as_bytes(), Format::Yaml, &env.keys(&[0])).unwrap_err();
    assert!(matches!(err, Error::Value { .. }), "{err}");
    assert!(!err.to_string().contains("supersecret"), "{err}");
}

/// A GnuPG home with one unprotected key (ed25519 + cv25519), removed with its agent on drop.
struct GnuPg {
    home: PathBuf,
    fingerprint: String,
    secret_key: Vec<u8>,
}

impl GnuPg {
    fn new(dir: &Path) -> Self {
        let home = dir.join("gnupg");
        std::fs::create_dir(&home).unwrap();
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let gpg = |args: &[&str]| {
            let out = Command::new("gpg")
                .arg("--homedir")
                .arg(&home)
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                .args(args)
                .output()
                .expect("gpg is missing: run `make deps` (hack/deps.sh installs gnupg)");
            assert!(
                out.status.success(),
                "gpg {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        gpg(&[
            "--quick-generate-key",
            "Test <test@example.com>",
            "ed25519",
            "sign",
            "never",
        ]);
        let listing = String::from_utf8(gpg(&["--list-secret-keys", "--with-colons"])).unwrap();
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.trim_matches(':').rsplit(':').next())
            .unwrap()
            .to_string();
        gpg(&["--quick-add-key", &fingerprint, "cv25519", "encr", "never"]);
        let secret_key = gpg(&["--armor", "--export-secret-keys", &fingerprint]);
        GnuPg {
            home,
            fingerprint,
            secret_key,
        }
    }
}

impl Drop for GnuPg {
    fn drop(&mut self) {
        // gpg started an agent for this home; stop exactly that one.
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(&self.home)
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

#[test]
fn openpgp_keys_open_pgp_recipients() {
    let env = Env::new();
    let gpg = GnuPg::new(env.dir.path());
    let sops = |args: &[&str], input: &[u8], name: &str| {
        std::fs::write(env.dir.path().join(name), input).unwrap();
        let out = Command::new(bin("sops"))
            .args(args)
            .arg(name)
            .current_dir(env.dir.path())
            .env("GNUPGHOME", &gpg.home)
            .env("SOPS_AGE_KEY_FILE", env.dir.path().join("key0.txt"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sops {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let enc = sops(
        &["encrypt", "--pgp", &gpg.fingerprint],
        SECRET.as_bytes(),
        "pgp.yaml",
    );
    assert!(String::from_utf8_lossy(&enc).contains("BEGIN PGP MESSAGE"));
    let reference = sops(&["decrypt"], &enc, "enc-pgp.yaml");

    let mut data = BTreeMap::new();
    data.insert("sops.asc".to_string(), gpg.secret_key.clone());
    let pgp_keys = Keys::from_secret_data(&data).unwrap();
    assert_eq!(pgp_keys.len(), 1);
    let ours = decrypt(&enc, Format::Yaml, &pgp_keys).unwrap();
    assert_eq!(yaml_docs(&ours), yaml_docs(&reference));

    // Without the OpenPGP key the error names the recipient that was tried.
    let err = decrypt(&enc, Format::Yaml, &env.keys(&[1])).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey(_)), "{err}");
    assert!(err.to_string().contains(&gpg.fingerprint), "{err}");

    // A file for an age recipient and an OpenPGP key opens with either.
    let both = sops(
        &[
            "encrypt",
            "--pgp",
            &gpg.fingerprint,
            "--age",
            &env.keys[0].recipient,
        ],
        SECRET.as_bytes(),
        "both.yaml",
    );
    assert!(decrypt(&both, Format::Yaml, &pgp_keys).is_ok());
    assert!(decrypt(&both, Format::Yaml, &env.keys(&[0])).is_ok());

    // A public key cannot decrypt: refused when the keys are read.
    let public = Command::new("gpg")
        .arg("--homedir")
        .arg(&gpg.home)
        .args(["--armor", "--export", &gpg.fingerprint])
        .output()
        .unwrap()
        .stdout;
    let mut data = BTreeMap::new();
    data.insert("public.asc".to_string(), public);
    let err = Keys::from_secret_data(&data).unwrap_err();
    assert!(err.to_string().contains("public.asc"), "{err}");
}

#[test]
fn post_quantum_age_identities_open_pq_recipients() {
    let env = Env::new();
    let file = env.dir.path().join("pq.txt");
    let out = Command::new(bin("age-keygen"))
        .arg("-pq")
        .arg("-o")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age-keygen -pq: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap();
    assert!(recipient.starts_with("age1pq1"), "{recipient}");

    std::fs::write(env.dir.path().join("pq.yaml"), SECRET).unwrap();
    let out = env.sops(&["encrypt", "--age", recipient, "pq.yaml"], 0);
    assert!(
        out.status.success(),
        "sops: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let enc = out.stdout;
    assert!(String::from_utf8_lossy(&enc).contains("age1pq1"));

    let mut data = BTreeMap::new();
    data.insert("pq.agekey".to_string(), text.clone().into_bytes());
    let keys = Keys::from_secret_data(&data).unwrap();
    assert_eq!(keys.len(), 1);
    let ours = decrypt(&enc, Format::Yaml, &keys).unwrap();
    let reference = {
        std::fs::write(env.dir.path().join("enc-pq.yaml"), &enc).unwrap();
        let out = Command::new(bin("sops"))
            .args(["decrypt", "enc-pq.yaml"])
            .current_dir(env.dir.path())
            .env("SOPS_AGE_KEY_FILE", &file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert_eq!(yaml_docs(&ours), yaml_docs(&reference));

    // Another post-quantum key, or a classic one, does not open it.
    let other = env.dir.path().join("pq2.txt");
    let out = Command::new(bin("age-keygen"))
        .arg("-pq")
        .arg("-o")
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut data = BTreeMap::new();
    data.insert("other.agekey".to_string(), std::fs::read(&other).unwrap());
    data.insert(
        "classic.agekey".to_string(),
        env.keys[0].secret.clone().into_bytes(),
    );
    let keys = Keys::from_secret_data(&data).unwrap();
    let err = decrypt(&enc, Format::Yaml, &keys).unwrap_err();
    assert!(matches!(err, Error::NoMatchingKey(_)), "{err}");
    // A classic file still opens with the classic key among post-quantum ones.
    let classic = env.encrypt("c.yaml", SECRET.as_bytes(), &[0], &[]);
    assert!(decrypt(&classic, Format::Yaml, &keys).is_ok());
}

#[test]
fn unsupported_age_identities_are_named() {
    let env = Env::new();
    let enc = env.encrypt("secret.yaml", SECRET.as_bytes(), &[0], &[]);
    let mut data = BTreeMap::new();
    data.insert(
        "yubikey.agekey".to_string(),
        b"AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n".to_vec(),
    );
    let keys = Keys::from_secret_data(&data).unwrap();
    assert!(keys.is_empty());
    let err = decrypt(&enc, Format::Yaml, &keys).unwrap_err();
    assert!(
        err.to_string()
            .contains("plugin age identity in 'yubikey.agekey'"),
        "{err}"
    );
    data.insert("junk.agekey".to_string(), b"not a key\n".to_vec());
    assert!(Keys::from_secret_data(&data).is_err());
    let mut data = BTreeMap::new();
    data.insert(
        "bad-pq.agekey".to_string(),
        b"AGE-SECRET-KEY-PQ-1QQQQ\n".to_vec(),
    );
    let err = Keys::from_secret_data(&data).unwrap_err();
    assert!(err.to_string().contains("bad-pq.agekey"), "{err}");
}

#[test]
fn truncated_or_mangled_documents_fail_cleanly() {
    let env = Env::new();
    let keys = env.keys(&[0]);
    let docs = [
        (
            Format::Yaml,
            env.encrypt("t.yaml", TYPED.as_bytes(), &[0], &[]),
        ),
        (
            Format::Json,
            env.encrypt("t.json", br#"{"a": [1, {"b": "c"}]}"#, &[0], &[]),
        ),
        (
            Format::Dotenv,
            env.encrypt("t.env", b"A=1\nB=two\n", &[0], &[]),
        ),
        (
            Format::Binary,
            env.encrypt("t.bin", b"\x00\x01binary", &[0], &[]),
        ),
    ];
    for (format, enc) in &docs {
        for cut in (0..enc.len()).step_by(13) {
            for input in [&enc[..cut], &enc[cut..]] {
                for output in [Format::Yaml, Format::Json, Format::Dotenv, Format::Binary] {
                    let options = Options {
                        input: *format,
                        output,
                        verify_mac: cut % 2 == 0,
                    };
                    // Any result but a panic: most of these are errors.
                    let _ = decrypt_with(input, &options, &keys);
                }
                let _ = is_encrypted(input, *format);
            }
        }
        // A flipped byte anywhere in the document is either refused or harmless whitespace.
        for at in (0..enc.len()).step_by(29) {
            let mut bad = enc.clone();
            bad[at] ^= 0x01;
            if let Ok(out) = decrypt(&bad, *format, &keys) {
                let good = decrypt(enc, *format, &keys).unwrap();
                assert_eq!(
                    out, good,
                    "{format:?}: flipped byte {at} changed the plaintext"
                );
            }
        }
    }
}

#[test]
fn flux_helpers_decrypt_secret_entries_and_sources() {
    let env = Env::new();
    let keys = env.keys(&[0]);
    let dotenv = env.encrypt("app.env", b"USER=admin\n", &[0], &[]);
    let binary = env.encrypt("tls.key", b"KEY BYTES\n", &[0], &[]);
    let yaml = env.encrypt(
        "values.yaml",
        b"user: admin\nport: 5432\n",
        &[0],
        &["--encrypted-regex", "^user$"],
    );

    // Secret data entries.
    assert_eq!(
        decrypt_secret_entry("app.env", &dotenv, &keys)
            .unwrap()
            .unwrap(),
        b"USER=admin\n"
    );
    assert_eq!(
        decrypt_secret_entry("tls.key", &binary, &keys)
            .unwrap()
            .unwrap(),
        b"KEY BYTES\n"
    );
    assert_eq!(
        decrypt_secret_entry("plain", b"hello", &keys).unwrap(),
        None
    );
    assert!(decrypt_secret_entry("app.env", &dotenv, &env.keys(&[1])).is_err());

    // Generator sources: envs default to dotenv, plain files are left alone, the MAC is not
    // checked (Flux accepts hand-edited clear values) but encrypted values are.
    assert_eq!(
        decrypt_source_file("secrets", &dotenv, true, &keys)
            .unwrap()
            .unwrap(),
        b"USER=admin\n"
    );
    assert_eq!(
        decrypt_source_file("tls.key", &binary, false, &keys)
            .unwrap()
            .unwrap(),
        b"KEY BYTES\n"
    );
    assert_eq!(
        decrypt_source_file("plain.env", b"A=1\n", true, &keys).unwrap(),
        None
    );
    let edited = String::from_utf8(yaml)
        .unwrap()
        .replace("port: 5432", "port: 6543");
    let out = decrypt_source_file("values.yaml", edited.as_bytes(), false, &keys)
        .unwrap()
        .unwrap();
    assert_eq!(yaml_docs(&out)[0]["port"], 6543);
    assert_eq!(yaml_docs(&out)[0]["user"], "admin");
    let bad = tamper_after(&edited, "user:");
    assert!(decrypt_source_file("values.yaml", bad.as_bytes(), false, &keys).is_err());
}

#[test]
fn documents_re_serialized_by_serde_saphyr_decrypt() {
    // kustomize-controller holds built objects as values and writes them back as YAML (keys
    // possibly reordered) before decrypting: the result must still decrypt.
    let env = Env::new();
    let enc = env.encrypt(
        "secret.yaml",
        SECRET.as_bytes(),
        &[0],
        &["--encrypted-regex", "^(data|stringData)$"],
    );
    let value: serde_json::Value =
        serde_saphyr::from_str(std::str::from_utf8(&enc).unwrap()).unwrap();
    let text = serde_saphyr::to_string(&value).unwrap();
    assert!(is_encrypted(text.as_bytes(), Format::Yaml), "{text}");
    let options = Options {
        verify_mac: false,
        ..Options::new(Format::Yaml)
    };
    let out = decrypt_with(text.as_bytes(), &options, &env.keys(&[0])).unwrap();
    assert_eq!(
        yaml_docs(&out),
        yaml_docs(&env.reference_decrypt("secret.yaml", &enc, 0))
    );
    // And as JSON, the way Flux itself hands built Secrets to SOPS.
    let json = serde_json::to_vec(&value).unwrap();
    let options = Options {
        verify_mac: false,
        ..Options::new(Format::Json)
    };
    let out = decrypt_with(&json, &options, &env.keys(&[0])).unwrap();
    let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(out["stringData"]["username"], "admin");
}

/// Strings that exercise every quoting rule of sops' YAML output.
const QUOTING: &str = r##""true": a
"1": b
"null": c
"": empty key
"a: b": colon key
"multi\nline key": x
s1: "--- dashes"
s2: "- item"
s3: ": colon"
s4: "#hash"
s5: "a #b"
s6: "trail: "
s7: "?q"
s8: "x:"
s9: "emoji 😀 ok"
s10: "ctrl \x01 char"
s11: "line\u2028sep"
s12: "nb\u00a0sp"
s13: "\ufeffbom"
s14: "1:30"
s15: "on"
s16: "<<"
s17: " lead\nsecond"
s18: "\nstarts with break"
s19: "trailing space \nx"
s20: "a\n\n"
s21: "\n"
s22: "tab\there"
s23: "it's"
s24: "-"
s25: "~"
s26: "0x1F"
s27: "1e3"
s28: ".5"
s29: "12:30:45"
s30: "@at"
s31: "a,b"
s32: "[x]"
s33: "{y}"
s34: "x ]"
s35: "... dots"
s36: "back\\slash"
s37: "quote\"d"
s38: "  "
s39: "a  b"
s40: "last\n  indented\n"
nested:
  - - a
    - [b, {c: d}]
  - {k: [1, 2.5, null, true], l: {m: n}}
  - null
  - ""
  - |
    block in seq
  - k2:
      - deep
    k3: v
"##;

const STRUCTURES: &str = r##"top: value
int: 42
float: 3.25
nothing: null
empty: ""
quoted_number: "0123"
yes_str: "yes"
colon: "a: b"
hash: "a #b"
lead: " x"
nested:
  deeper:
    list:
      - one
      - 2
      - {name: item, value: 1.5}
      - [a, b]
      - - c
        - d
lists_of_maps:
  - name: first
    port: 80
    sub:
      k: v
  - []
  - {}
multiline: |
  line one
  line two
strip: |-
  a
  b
keep: |+
  a

folded: >
  some folded
  text
unicode: "héllo wörld ✓"
tab: "a\tb"
star: "*x"
pct: "%x"
dash: "-x"
date: 2001-12-14
ver: 1.2.3
url: http://example.com/a?b=c
"##;

const MERGE: &str = r##"base: &b {x: 1}
child:
  <<: *b
  y: 2
"##;

#[test]
fn yaml_without_comments_decrypts_byte_for_byte_as_sops_prints() {
    // A secretGenerator hashes the decrypted file into the Secret's name: the text must be
    // exactly what sops (and so Flux) writes, not just equivalent YAML.
    let env = Env::new();
    for (name, plain) in [
        ("q.yaml", QUOTING),
        ("s.yaml", STRUCTURES),
        ("m.yaml", MERGE),
        ("k.yaml", SECRET),
    ] {
        let plain = if name == "k.yaml" {
            // The Secret without its comments.
            SECRET
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.split(" #").next().unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        } else {
            plain.to_string()
        };
        let enc = env.encrypt(name, plain.as_bytes(), &[0], &[]);
        let ours = decrypt(&enc, Format::Yaml, &env.keys(&[0])).unwrap();
        let reference = env.reference_decrypt(name, &enc, 0);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&reference),
            "{name}"
        );
    }
}
