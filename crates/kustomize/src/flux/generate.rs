//! The kustomization kustomize-controller generates for a directory that has none
//! (`fluxcd/pkg/kustomize` `Generator.generateKustomization`).
//!
//! The rules, as Flux has them:
//!
//! * A directory holding `kustomization.yaml`, `kustomization.yml` or `Kustomization` (a file)
//!   gets nothing generated ([`generate_kustomization`] returns `None`).
//! * Otherwise the directory is walked depth-first in `filepath.Walk` order (entries of each
//!   directory sorted by name, bytewise; a directory's contents come where its name sorts).
//!   Symbolic links are not followed into directories.
//! * A subdirectory holding a kustomization file is listed itself and not descended into.
//!   Other subdirectories — hidden ones included: Flux does not skip them — are descended into.
//! * Files named `*.yaml` or `*.yml` (not `.json`) are listed; each must decode as Kubernetes
//!   objects (valid YAML, every document a mapping with a `kind`; empty documents allowed),
//!   else generation fails naming the file (`failed to decode Kubernetes YAML from …`), as
//!   Flux's `ResourceFactory.SliceFromBytes` does. Other files are ignored.
//! * Entries are written `./relative/path`, under
//!   `apiVersion: kustomize.config.k8s.io/v1beta1`, `kind: Kustomization`.

use crate::error::{Error, Result};
use crate::kustomization::FILE_NAMES;
use crate::loader;
use std::path::Path;

/// `apiVersion` of generated kustomizations.
pub const API_VERSION: &str = "kustomize.config.k8s.io/v1beta1";

/// Whether `dir` holds a kustomization file.
pub fn has_kustomization(dir: &Path) -> bool {
    FILE_NAMES.iter().any(|n| dir.join(n).is_file())
}

/// The `resources` Flux would generate for `dir` (`./`-relative, in Flux's order).
pub fn generate_resources(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

/// The kustomization file Flux would write into `dir`, or `None` when it has one already.
pub fn generate_kustomization(dir: &Path) -> Result<Option<String>> {
    if has_kustomization(dir) {
        return Ok(None);
    }
    let resources = generate_resources(dir)?;
    // sigs.k8s.io/yaml output: keys sorted, `resources` omitted when empty.
    let mut y = format!("apiVersion: {API_VERSION}\nkind: Kustomization\n");
    if !resources.is_empty() {
        y.push_str("resources:\n");
        for r in &resources {
            let item = serde_saphyr::to_string(&vec![r.as_str()])
                .map_err(|e| Error::Output(e.to_string()))?;
            y.push_str(item.strip_prefix("---\n").unwrap_or(&item));
        }
    }
    Ok(Some(y))
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<std::io::Result<_>>()
        .map_err(io(dir))?;
    entries.sort_by_key(|e| e.file_name().into_encoded_bytes());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let child = format!("{rel}/{name}");
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            if has_kustomization(&path) {
                out.push(format!(".{child}"));
            } else {
                walk(&path, &child, out)?;
            }
            continue;
        }
        let ext = Path::new(&name).extension().and_then(|x| x.to_str());
        if !matches!(ext, Some("yaml" | "yml")) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let decoded = String::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                loader::parse_objects(&path, &t)
                    .map(drop)
                    .map_err(|e| e.to_string())
            });
        if let Err(message) = decoded {
            return Err(Error::Yaml {
                path: path.clone(),
                message: format!(
                    "failed to decode Kubernetes YAML from {}: {message}",
                    path.display()
                ),
            });
        }
        out.push(format!(".{child}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, body) in files {
            let p = dir.join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, body).unwrap();
        }
    }

    #[test]
    fn generates_in_walk_order() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            &[
                ("b.yaml", CM),
                ("a.yml", CM),
                ("a/x.yaml", CM),
                ("notes.txt", "not yaml: ["),
                ("data.json", "{}"),
                ("empty.yaml", ""),
                (".hidden/h.yaml", CM),
                ("base/kustomization.yaml", "resources: [deep/x.yaml]\n"),
                ("base/deep/x.yaml", "this: is not read"),
                ("nested/deeper/d.yaml", CM),
            ],
        );
        let got = generate_resources(t.path()).unwrap();
        assert_eq!(
            got,
            [
                "./.hidden/h.yaml",
                "./a/x.yaml",
                "./a.yml",
                "./b.yaml",
                "./base",
                "./empty.yaml",
                "./nested/deeper/d.yaml",
            ]
        );
        let k = generate_kustomization(t.path()).unwrap().unwrap();
        assert!(
            k.starts_with(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ./.hidden/h.yaml\n"
            ),
            "{k}"
        );
    }

    #[test]
    fn generated_file_builds() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            &[
                ("cm.yaml", CM),
                (
                    "sub/other.yaml",
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
                ),
            ],
        );
        let k = generate_kustomization(t.path()).unwrap().unwrap();
        fs::write(t.path().join("kustomization.yaml"), k).unwrap();
        let objs = crate::build(t.path()).unwrap();
        assert_eq!(objs.len(), 2);
    }

    #[test]
    fn existing_kustomization_is_kept() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            &[("Kustomization", "resources: []\n"), ("cm.yaml", CM)],
        );
        assert_eq!(generate_kustomization(t.path()).unwrap(), None);
    }

    #[test]
    fn empty_dir_and_bad_manifest() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(
            generate_kustomization(t.path()).unwrap().unwrap(),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        );
        write(t.path(), &[("ci.yml", "stages: [test]\n")]);
        let err = generate_kustomization(t.path()).unwrap_err().to_string();
        assert!(err.contains("failed to decode Kubernetes YAML"), "{err}");
        assert!(err.contains("ci.yml"), "{err}");
    }
}
