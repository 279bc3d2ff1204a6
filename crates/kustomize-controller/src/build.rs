//! From an extracted artifact to the objects to apply, as kustomize-controller does it:
//! Flux's generated kustomization (when the path has none) with the Kustomization's overrides
//! written into the directory, encrypted generator files decrypted, `kustomize build`,
//! encrypted Secrets decrypted, `commonMetadata`, then post-build variable substitution.
//!
//! Everything here is blocking file and CPU work: callers run it on a blocking thread.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use ferroflux_api::kustomize::v1::KustomizationSpec;
use ferroflux_kustomize::flux::{self, SubstituteOptions};
use ferroflux_kustomize::kustomization::FILE_NAMES;
use ferroflux_kustomize::{Resource, Value};
use sha2::Digest as _;

use crate::{Error, Result};

/// What the build needs besides the directory.
#[derive(Default)]
pub struct BuildInput {
    /// `spec.path` (artifact root when unset).
    pub path: Option<String>,
    /// The Kustomization's spec (overrides, post-build).
    pub spec: KustomizationSpec,
    /// Decryption keys when `spec.decryption` is set.
    pub keys: Option<ferroflux_sops::Keys>,
    /// Post-build variables (`substituteFrom` merged with `substitute`), `None` without
    /// `spec.postBuild`.
    pub vars: Option<BTreeMap<String, String>>,
    /// `StrictPostBuildSubstitutions`.
    pub strict: bool,
}

/// The build result.
#[derive(Debug)]
pub struct Built {
    /// The objects, in kustomize's output order.
    pub objects: Vec<serde_json::Value>,
    /// `sha256:<hex>` of the rendered YAML stream (`status.history[].digest`).
    pub digest: String,
}

/// Resolves `spec.path` under `root`, refusing paths that leave it.
pub fn resolve_path(root: &Path, path: Option<&str>) -> Result<PathBuf> {
    let rel = path.unwrap_or("./");
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                if !out.pop() || !out.starts_with(root) {
                    return Err(Error::Path(format!(
                        "path '{rel}' points outside the artifact"
                    )));
                }
            }
        }
    }
    if !out.is_dir() {
        return Err(Error::Path(format!(
            "kustomization path not found: '{rel}' does not exist in the artifact"
        )));
    }
    let canon = out
        .canonicalize()
        .map_err(|e| Error::Path(format!("kustomization path '{rel}': {e}")))?;
    let root_canon = root
        .canonicalize()
        .map_err(|e| Error::Path(format!("artifact directory: {e}")))?;
    if !canon.starts_with(&root_canon) {
        return Err(Error::Path(format!(
            "path '{rel}' points outside the artifact"
        )));
    }
    Ok(out)
}

/// Builds `input.path` inside the extracted artifact at `root`. Paths in error messages are
/// relative to the artifact, not the temporary directory.
pub fn build(root: &Path, input: &BuildInput) -> Result<Built> {
    build_in(root, input).map_err(|e| match e {
        Error::Path(m) => Error::Path(strip_root(&m, root)),
        Error::Build(m) => Error::Build(strip_root(&m, root)),
        Error::Decrypt(m) => Error::Decrypt(strip_root(&m, root)),
        other => other,
    })
}

fn build_in(root: &Path, input: &BuildInput) -> Result<Built> {
    let dir = resolve_path(root, input.path.as_deref())?;
    let file = write_kustomization(&dir, &input.spec)?;
    if let Some(keys) = &input.keys {
        decrypt_generator_files(root, &dir, &file, keys)?;
    }
    let opts = ferroflux_kustomize::Options {
        fs_root: Some(root.to_path_buf()),
    };
    let mut resources =
        ferroflux_kustomize::build_with(&dir, &opts).map_err(|e| Error::Build(e.to_string()))?;
    decrypt_secrets(&mut resources, input.keys.as_ref())?;
    if let Some(cm) = &input.spec.common_metadata {
        let cm = flux::CommonMetadata {
            labels: cm.labels.clone().unwrap_or_default(),
            annotations: cm.annotations.clone().unwrap_or_default(),
        };
        flux::apply_common_metadata(&mut resources, &cm);
    }
    if let Some(vars) = &input.vars {
        let always = input
            .spec
            .post_build
            .as_ref()
            .and_then(|p| p.substitute_strategy)
            == Some(ferroflux_api::kustomize::v1::SubstituteStrategy::Always);
        let opts = SubstituteOptions {
            strict: input.strict,
            always,
        };
        for r in &mut resources {
            r.value = flux::substitute_with(&r.value, vars, opts)
                .map_err(|e| Error::Build(format!("post build failed: {e}")))?;
        }
    }
    let yaml = ferroflux_kustomize::to_yaml(&resources).map_err(|e| Error::Build(e.to_string()))?;
    let digest = format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(yaml.as_bytes()))
    );
    let objects = resources.iter().map(|r| r.value.to_json()).collect();
    Ok(Built { objects, digest })
}

fn strip_root(msg: &str, root: &Path) -> String {
    let mut s = msg.to_string();
    for r in [root.canonicalize().ok(), Some(root.to_path_buf())]
        .into_iter()
        .flatten()
    {
        let prefix = format!("{}/", r.display());
        s = s.replace(&prefix, "");
    }
    s
}

/// Writes Flux's generated kustomization (when missing) and the Kustomization's overrides
/// into `dir`, returning the kustomization file's path.
pub fn write_kustomization(dir: &Path, spec: &KustomizationSpec) -> Result<PathBuf> {
    let generated = flux::generate_kustomization(dir)
        .map_err(|e| Error::Build(format!("failed to generate kustomization.yaml: {e}")))?;
    if let Some(text) = generated {
        let path = dir.join("kustomization.yaml");
        std::fs::write(&path, text)
            .map_err(|e| Error::Build(format!("writing {}: {e}", path.display())))?;
    }
    let path = FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Build(format!("no kustomization file in {}", dir.display())))?;
    if !has_overrides(spec) {
        return Ok(path);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Build(format!("reading {}: {e}", file_label(&path))))?;
    let mut k: Value = serde_saphyr::from_str(&text)
        .map_err(|e| Error::Build(format!("parsing {}: {e}", file_label(&path))))?;
    if matches!(k, Value::Null) {
        k = Value::Map(Default::default());
    }
    let Some(m) = k.as_map_mut() else {
        return Err(Error::Build(format!(
            "{}: a kustomization must be a mapping",
            file_label(&path)
        )));
    };
    let set_str = |m: &mut ferroflux_kustomize::value::Mapping, key: &str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            m.insert(key.to_string(), Value::String(v.clone()));
        }
    };
    set_str(m, "namespace", &spec.target_namespace);
    set_str(m, "namePrefix", &spec.name_prefix);
    set_str(m, "nameSuffix", &spec.name_suffix);
    if let Some(patches) = &spec.patches {
        let list = seq_entry(m, "patches");
        for p in patches {
            list.push(to_value(p)?);
        }
    }
    if let Some(images) = &spec.images {
        let list = seq_entry(m, "images");
        for img in images {
            let v = to_value(img)?;
            match list
                .iter_mut()
                .find(|i| i.str_at(&["name"]) == Some(img.name.as_str()))
            {
                Some(existing) => *existing = v,
                None => list.push(v),
            }
        }
    }
    if let Some(components) = &spec.components {
        let ignore_missing = spec.ignore_missing_components.unwrap_or(false);
        let list = seq_entry(m, "components");
        for c in components {
            if ignore_missing && !dir.join(c).exists() {
                continue;
            }
            list.push(Value::String(c.clone()));
        }
    }
    let out = serde_saphyr::to_string(&k).map_err(|e| Error::Build(e.to_string()))?;
    std::fs::write(&path, out)
        .map_err(|e| Error::Build(format!("writing {}: {e}", file_label(&path))))?;
    Ok(path)
}

fn has_overrides(spec: &KustomizationSpec) -> bool {
    spec.target_namespace.is_some()
        || spec.name_prefix.is_some()
        || spec.name_suffix.is_some()
        || spec.patches.as_ref().is_some_and(|p| !p.is_empty())
        || spec.images.as_ref().is_some_and(|p| !p.is_empty())
        || spec.components.as_ref().is_some_and(|p| !p.is_empty())
}

fn seq_entry<'a>(m: &'a mut ferroflux_kustomize::value::Mapping, key: &str) -> &'a mut Vec<Value> {
    let e = m.entry(key.to_string()).or_insert(Value::Seq(Vec::new()));
    if !matches!(e, Value::Seq(_)) {
        *e = Value::Seq(Vec::new());
    }
    match e {
        Value::Seq(s) => s,
        _ => unreachable!("just made a sequence"),
    }
}

fn to_value<T: serde::Serialize>(t: &T) -> Result<Value> {
    let j = serde_json::to_value(t).map_err(|e| Error::Build(e.to_string()))?;
    serde_json::from_value(j).map_err(|e| Error::Build(e.to_string()))
}

fn file_label(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Decrypts, in place, SOPS-encrypted files that the kustomization's `secretGenerator`
/// reads (`files`, `envs`, `env`), as Flux does before building.
fn decrypt_generator_files(
    root: &Path,
    dir: &Path,
    file: &Path,
    keys: &ferroflux_sops::Keys,
) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Ok(());
    };
    let Ok(k) = serde_saphyr::from_str::<Value>(&text) else {
        return Ok(());
    };
    let Some(gens) = k.get("secretGenerator").and_then(Value::as_seq) else {
        return Ok(());
    };
    let mut paths = Vec::new();
    for g in gens {
        for field in ["files", "envs"] {
            for f in g.get(field).and_then(Value::as_seq).into_iter().flatten() {
                if let Some(s) = f.as_str() {
                    // `key=path` form.
                    paths.push(s.rsplit_once('=').map_or(s, |(_, p)| p).to_string());
                }
            }
        }
        if let Some(s) = g.get("env").and_then(Value::as_str) {
            paths.push(s.to_string());
        }
    }
    for rel in paths {
        let path = dir.join(&rel);
        let Ok(canon) = path.canonicalize() else {
            continue; // the build reports missing files
        };
        if !root.canonicalize().is_ok_and(|r| canon.starts_with(r)) {
            continue; // the build refuses it
        }
        let Ok(data) = std::fs::read(&canon) else {
            continue;
        };
        let format = ferroflux_sops::Format::from_path(&canon);
        if !ferroflux_sops::is_encrypted(&data, format) {
            continue;
        }
        let plain = ferroflux_sops::decrypt(&data, format, keys)
            .map_err(|e| Error::Decrypt(format!("failed to decrypt '{rel}': {e}")))?;
        std::fs::write(&canon, plain)
            .map_err(|e| Error::Decrypt(format!("writing decrypted '{rel}': {e}")))?;
    }
    Ok(())
}

/// Whether a built object is a Secret carrying SOPS metadata.
fn is_encrypted_secret(r: &Resource) -> bool {
    r.kind() == "Secret"
        && r.value
            .get("sops")
            .is_some_and(|s| s.get("mac").is_some() || s.as_map().is_some())
}

/// Decrypts every SOPS-encrypted Secret in place; an encrypted Secret without keys is an
/// error naming it (it would otherwise be applied as ciphertext).
fn decrypt_secrets(resources: &mut [Resource], keys: Option<&ferroflux_sops::Keys>) -> Result<()> {
    for r in resources.iter_mut() {
        if !is_encrypted_secret(r) {
            continue;
        }
        let id = format!("Secret/{}/{}", r.namespace(), r.name());
        let Some(keys) = keys else {
            return Err(Error::Decrypt(format!(
                "{id} is SOPS-encrypted but spec.decryption is not set"
            )));
        };
        let text =
            serde_saphyr::to_string(&r.value).map_err(|e| Error::Decrypt(format!("{id}: {e}")))?;
        // As Flux: no MAC check on built objects, kustomize may have added a namespace or
        // labels; every encrypted value is still authenticated with its path.
        let opts = ferroflux_sops::Options {
            verify_mac: false,
            ..ferroflux_sops::Options::new(ferroflux_sops::Format::Yaml)
        };
        let plain = ferroflux_sops::decrypt_with(text.as_bytes(), &opts, keys)
            .map_err(|e| Error::Decrypt(format!("failed to decrypt {id}: {e}")))?;
        let text = String::from_utf8(plain)
            .map_err(|e| Error::Decrypt(format!("{id}: decrypted data is not UTF-8: {e}")))?;
        let mut v: Value = serde_saphyr::from_str(&text)
            .map_err(|e| Error::Decrypt(format!("{id}: decrypted YAML: {e}")))?;
        if let Some(m) = v.as_map_mut() {
            m.shift_remove("sops");
        }
        r.value = v;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferroflux_api::meta::{KustomizeImage, KustomizePatch, KustomizeSelector};

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/stefanprodan/podinfo:6.0.0\n";
    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  greeting: ${greeting:=hi}\n";

    #[test]
    fn generated_kustomization_with_overrides() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "manifests/deploy.yaml", DEPLOY);
        write(tmp.path(), "manifests/sub/cm.yaml", CM);
        write(tmp.path(), "manifests/README.md", "not yaml");
        let spec = KustomizationSpec {
            target_namespace: Some("app".into()),
            name_prefix: Some("p-".into()),
            images: Some(vec![KustomizeImage {
                name: "ghcr.io/stefanprodan/podinfo".into(),
                new_tag: Some("6.7.0".into()),
                ..Default::default()
            }]),
            patches: Some(vec![KustomizePatch {
                patch: "- op: replace\n  path: /spec/replicas\n  value: 3\n".into(),
                target: Some(KustomizeSelector {
                    kind: Some("Deployment".into()),
                    ..Default::default()
                }),
            }]),
            ..Default::default()
        };
        let input = BuildInput {
            path: Some("./manifests".into()),
            spec,
            vars: Some(BTreeMap::from([("greeting".into(), "hello".into())])),
            ..Default::default()
        };
        let built = build(tmp.path(), &input).unwrap();
        assert_eq!(built.objects.len(), 2);
        let cm = built
            .objects
            .iter()
            .find(|o| o["kind"] == "ConfigMap")
            .unwrap();
        assert_eq!(cm["metadata"]["name"], "p-cfg");
        assert_eq!(cm["metadata"]["namespace"], "app");
        assert_eq!(cm["data"]["greeting"], "hello");
        let d = built
            .objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .unwrap();
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/stefanprodan/podinfo:6.7.0"
        );
        assert!(built.digest.starts_with("sha256:"));
        // The written kustomization stays in the directory, as Flux leaves it.
        let k = std::fs::read_to_string(tmp.path().join("manifests/kustomization.yaml")).unwrap();
        assert!(k.contains("namespace: app"), "{k}");
    }

    #[test]
    fn without_variables_defaults_are_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "cm.yaml", CM);
        let built = build(tmp.path(), &BuildInput::default()).unwrap();
        assert_eq!(built.objects[0]["data"]["greeting"], "${greeting:=hi}");
    }

    #[test]
    fn strict_substitution_names_the_variable() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: ${missing}\n",
        );
        let input = BuildInput {
            vars: Some(BTreeMap::from([("x".into(), "1".into())])),
            strict: true,
            ..Default::default()
        };
        let err = build(tmp.path(), &input).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
        assert!(err.contains("ConfigMap"), "{err}");
    }

    #[test]
    fn invalid_yaml_names_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "manifests/bad.yaml", "kind: [unclosed\n");
        let input = BuildInput {
            path: Some("manifests".into()),
            ..Default::default()
        };
        let err = build(tmp.path(), &input).unwrap_err().to_string();
        assert!(err.contains("bad.yaml"), "{err}");
        assert!(!err.contains(&tmp.path().display().to_string()), "{err}");
    }

    #[test]
    fn paths_outside_the_artifact_and_missing_paths_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("a")).unwrap();
        assert!(resolve_path(tmp.path(), Some("../etc")).is_err());
        assert!(resolve_path(tmp.path(), Some("./a/../../")).is_err());
        let err = resolve_path(tmp.path(), Some("./nope"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'./nope'"), "{err}");
        assert!(resolve_path(tmp.path(), Some("./a")).is_ok());
        assert!(resolve_path(tmp.path(), None).is_ok());
    }

    #[test]
    fn encrypted_secret_without_decryption_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "s.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n  mac: ENC[x]\n  version: 3.9.0\n",
        );
        let err = build(tmp.path(), &BuildInput::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Secret//s") || err.contains("Secret/"),
            "{err}"
        );
        assert!(err.contains("spec.decryption"), "{err}");
    }
}
