//! The artifact store: where source-controller's archives live on disk.
//!
//! Every write is atomic (temp file in the same directory, fsync, rename, fsync of the
//! directory) and serialised per object by an in-process lock, so the HTTP server and a
//! consumer's download never see a half-written archive, even after a crash. Only one
//! source-controller (the leader) writes a given storage root, so no cross-process file lock
//! is taken.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::digest::{Digest, DigestAlgo, Hasher};
use crate::{Error, Result, blocking, tarball};

/// Name of the symlink that points at an object's newest archive (as in Flux).
pub const LATEST_SYMLINK: &str = "latest.tar.gz";
/// Prefix of in-progress files; GC removes stale ones, the server refuses them.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// How to set up a [`Storage`].
#[derive(Clone, Debug)]
pub struct StorageConfig {
    /// Directory holding all artifacts (Flux `--storage-path`).
    pub root: PathBuf,
    /// `host[:port]` put in artifact URLs (Flux `--storage-adv-addr`).
    pub adv_addr: String,
    /// How long superseded artifacts are kept (Flux `--artifact-retention-ttl`, 60s).
    pub retention_ttl: Duration,
    /// Maximum artifacts kept per object, current included (`--artifact-retention-records`, 2).
    pub retention_records: usize,
    /// Algorithm for new digests (Flux `--artifact-digest-algo`, sha256).
    pub digest_algo: DigestAlgo,
}

impl StorageConfig {
    /// A config with Flux's defaults for everything but the root and advertised address.
    pub fn new(root: impl Into<PathBuf>, adv_addr: impl Into<String>) -> Self {
        StorageConfig {
            root: root.into(),
            adv_addr: adv_addr.into(),
            retention_ttl: Duration::from_secs(60),
            retention_records: 2,
            digest_algo: DigestAlgo::Sha256,
        }
    }
}

/// Where a new artifact goes: the storage-relative path and the URL consumers fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactLocation {
    /// `<kind>/<namespace>/<name>/<file>`; what goes into `status.artifact.path`.
    pub rel_path: String,
    /// `http://<adv_addr>/<rel_path>`; what goes into `status.artifact.url`.
    pub url: String,
}

/// A written artifact: the fields of `status.artifact` this crate knows (not revision).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredArtifact {
    /// Storage-relative path.
    pub path: String,
    /// Download URL.
    pub url: String,
    /// `<algo>:<hex>` of the file bytes.
    pub digest: String,
    /// File size in bytes.
    pub size: i64,
    /// When the write completed.
    pub last_update_time: jiff::Timestamp,
}

/// A cloneable handle on the artifact store.
#[derive(Clone, Debug)]
pub struct Storage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: StorageConfig,
    /// Canonical root, so containment checks compare like with like.
    root: PathBuf,
    /// One async mutex per object directory (`kind/ns/name`), created on demand.
    locks: StdMutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl Storage {
    /// Opens (creating if needed) the storage root.
    pub fn new(cfg: StorageConfig) -> Result<Self> {
        fs::create_dir_all(&cfg.root).map_err(|e| Error::io(&cfg.root, e))?;
        let root = fs::canonicalize(&cfg.root).map_err(|e| Error::io(&cfg.root, e))?;
        Ok(Storage {
            inner: Arc::new(Inner {
                cfg,
                root,
                locks: StdMutex::new(HashMap::new()),
            }),
        })
    }

    /// The canonical storage root.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The configuration this storage was opened with.
    pub fn config(&self) -> &StorageConfig {
        &self.inner.cfg
    }

    /// Location of a new artifact, `<kind>/<namespace>/<name>/<file>` with `kind`
    /// lower-cased as Flux does. Not validated here; writes reject unsafe components.
    pub fn artifact_path(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        file: &str,
    ) -> ArtifactLocation {
        let rel_path = format!("{}/{namespace}/{name}/{file}", kind.to_ascii_lowercase());
        let url = self.url_for(&rel_path);
        ArtifactLocation { rel_path, url }
    }

    /// The URL of a stored path; lets a controller refresh `status.artifact.url` when
    /// `--storage-adv-addr` changes, as Flux does on every reconcile.
    pub fn url_for(&self, rel_path: &str) -> String {
        format!(
            "http://{}/{}",
            self.inner.cfg.adv_addr,
            rel_path.trim_start_matches('/')
        )
    }

    /// Absolute path of a stored artifact, after checking `rel_path` is a plain relative
    /// path (no `..`, no absolute, no empty components) so nothing outside root is touched.
    pub fn local_path(&self, rel_path: &str) -> Result<PathBuf> {
        let bad = |reason| Error::InvalidPath {
            path: rel_path.to_string(),
            reason,
        };
        if rel_path.is_empty() {
            return Err(bad("empty"));
        }
        if rel_path.contains('\0') {
            return Err(bad("contains NUL"));
        }
        let mut out = self.inner.root.clone();
        for c in Path::new(rel_path).components() {
            match c {
                Component::Normal(p) => out.push(p),
                Component::CurDir => {}
                Component::ParentDir => return Err(bad("contains '..'")),
                Component::RootDir | Component::Prefix(_) => return Err(bad("absolute")),
            }
        }
        if out == self.inner.root {
            return Err(bad("refers to the storage root"));
        }
        Ok(out)
    }

    fn object_dir(&self, kind: &str, namespace: &str, name: &str) -> Result<PathBuf> {
        for part in [kind, namespace, name] {
            if part.is_empty() || part.contains('/') || part == "." || part == ".." {
                return Err(Error::InvalidPath {
                    path: format!("{kind}/{namespace}/{name}"),
                    reason: "kind, namespace and name must be single path components",
                });
            }
        }
        self.local_path(&format!("{}/{namespace}/{name}", kind.to_ascii_lowercase()))
    }

    async fn lock_dir(&self, dir: &Path) -> OwnedMutexGuard<()> {
        let key = dir.to_string_lossy().into_owned();
        let mutex = {
            // Poisoning cannot leave the map inconsistent (inserts are single operations).
            let mut locks = self
                .inner
                .locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            locks.entry(key).or_default().clone()
        };
        mutex.lock_owned().await
    }

    /// Archives `dir` as a reproducible `.tar.gz` at `loc`, keeping entries for which
    /// `filter(rel_path, is_dir)` is true, and points `latest.tar.gz` at it.
    ///
    /// Atomic: on any error (including a failing walk) the temp file is removed and no file
    /// appears under the final name.
    pub async fn archive_dir(
        &self,
        loc: &ArtifactLocation,
        dir: &Path,
        filter: impl Fn(&Path, bool) -> bool + Send + 'static,
    ) -> Result<StoredArtifact> {
        let target = self.local_path(&loc.rel_path)?;
        let parent = parent_of(&target)?;
        let _guard = self.lock_dir(&parent).await;
        let algo = self.inner.cfg.digest_algo;
        let dir = dir.to_path_buf();
        let (digest, size) = blocking(move || {
            let (digest, size) = write_atomic(&target, algo, |out| {
                tarball::write_reproducible(&dir, filter, out)
            })?;
            update_latest_symlink(&target)?;
            Ok((digest, size))
        })
        .await?;
        Ok(self.stored(loc, digest, size))
    }

    /// Copies `src` (e.g. a downloaded chart `.tgz`) into storage at `loc`, atomically.
    pub async fn store_file(&self, loc: &ArtifactLocation, src: &Path) -> Result<StoredArtifact> {
        let target = self.local_path(&loc.rel_path)?;
        let parent = parent_of(&target)?;
        let _guard = self.lock_dir(&parent).await;
        let algo = self.inner.cfg.digest_algo;
        let src = src.to_path_buf();
        let (digest, size) = blocking(move || {
            write_atomic(&target, algo, |out| {
                let mut f = fs::File::open(&src).map_err(|e| Error::io(&src, e))?;
                io::copy(&mut f, out).map_err(|e| Error::io(&src, e))?;
                Ok(())
            })
        })
        .await?;
        Ok(self.stored(loc, digest, size))
    }

    fn stored(&self, loc: &ArtifactLocation, digest: Digest, size: u64) -> StoredArtifact {
        StoredArtifact {
            path: loc.rel_path.clone(),
            url: loc.url.clone(),
            digest: digest.to_string(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            last_update_time: jiff::Timestamp::now(),
        }
    }

    /// Whether a regular file exists at `rel_path` (false for unsafe paths).
    pub fn exists(&self, rel_path: &str) -> bool {
        self.local_path(rel_path)
            .and_then(|p| fs::metadata(&p).map_err(|e| Error::io(&p, e)))
            .map(|m| m.is_file())
            .unwrap_or(false)
    }

    /// Whether the stored file still hashes to `digest` (false if it is missing), so a
    /// controller can tell a tampered or lost artifact from a current one.
    pub async fn verify(&self, rel_path: &str, digest: &str) -> Result<bool> {
        let expected = Digest::parse(digest)?;
        let path = self.local_path(rel_path)?;
        blocking(move || match fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                Ok(crate::digest::digest_file(expected.algo, &path)? == expected)
            }
            Ok(_) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(&path, e)),
        })
        .await
    }

    /// Garbage-collects one object's directory, with Flux's rules: files older than
    /// `retention_ttl` go; then, if more than `retention_records` files remain (current
    /// included), the oldest go until that many remain. The current artifact and the
    /// target of `latest.tar.gz` are never deleted. Stale temp files from crashed writes
    /// are removed once older than the TTL. Returns the deleted paths.
    pub async fn garbage_collect(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        current_rel_path: &str,
    ) -> Result<Vec<PathBuf>> {
        let dir = self.object_dir(kind, namespace, name)?;
        let current = if current_rel_path.is_empty() {
            None
        } else {
            Some(self.local_path(current_rel_path)?)
        };
        let _guard = self.lock_dir(&dir).await;
        let ttl = self.inner.cfg.retention_ttl;
        let records = self.inner.cfg.retention_records;
        blocking(move || gc_dir(&dir, current.as_deref(), ttl, records)).await
    }

    /// Deletes everything stored for an object (its finalizer).
    pub async fn remove_all(&self, kind: &str, namespace: &str, name: &str) -> Result<()> {
        let dir = self.object_dir(kind, namespace, name)?;
        {
            let _guard = self.lock_dir(&dir).await;
            let d = dir.clone();
            blocking(move || match fs::remove_dir_all(&d) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(&d, e)),
                _ => Ok(()),
            })
            .await?;
        }
        // Drop the lock entry so deleted objects do not accumulate in memory.
        let mut locks = self
            .inner
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.remove(dir.to_string_lossy().as_ref());
        Ok(())
    }
}

fn parent_of(path: &Path) -> Result<PathBuf> {
    path.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::InvalidPath {
            path: path.display().to_string(),
            reason: "has no parent directory",
        })
}

/// Writes `target` through `produce`, hashing and counting the bytes, via a temp file in
/// the same directory that is fsynced and renamed into place only on success.
fn write_atomic(
    target: &Path,
    algo: DigestAlgo,
    produce: impl FnOnce(&mut HashingWriter<'_>) -> Result<()>,
) -> Result<(Digest, u64)> {
    let parent = parent_of(target)?;
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    // NamedTempFile deletes itself on drop, i.e. on every error path below.
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let (hasher, written) = {
        let mut writer = HashingWriter {
            out: BufWriter::with_capacity(256 * 1024, tmp.as_file()),
            hasher: algo.hasher(),
            written: 0,
        };
        produce(&mut writer)?;
        let HashingWriter {
            out,
            hasher,
            written,
        } = writer;
        if let Err(e) = out.into_inner() {
            return Err(Error::io(tmp.path(), e.into_error()));
        }
        (hasher, written)
    };
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(target)
        .map_err(|e| Error::io(target, e.error))?;
    sync_dir(&parent)?;
    Ok((hasher.finish(), written))
}

/// fsync a directory so a completed rename survives a power loss.
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Points `<dir>/latest.tar.gz` at `target` (relative, so the root can move), atomically.
fn update_latest_symlink(target: &Path) -> Result<()> {
    let parent = parent_of(target)?;
    let file_name = target.file_name().ok_or_else(|| Error::InvalidPath {
        path: target.display().to_string(),
        reason: "has no file name",
    })?;
    if file_name == LATEST_SYMLINK {
        return Ok(());
    }
    let link = parent.join(LATEST_SYMLINK);
    // Caller holds the object lock, so a fixed temp name cannot race in-process.
    let tmp = parent.join(format!("{TEMP_PREFIX}{LATEST_SYMLINK}"));
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(Error::io(&tmp, e)),
        _ => {}
    }
    std::os::unix::fs::symlink(file_name, &tmp).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, &link).map_err(|e| Error::io(&link, e))?;
    sync_dir(&parent)
}

/// The write side of [`write_atomic`]: file, hash and byte count in one pass.
pub(crate) struct HashingWriter<'a> {
    out: BufWriter<&'a fs::File>,
    hasher: Hasher,
    written: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn gc_dir(
    dir: &Path,
    current: Option<&Path>,
    ttl: Duration,
    records: usize,
) -> Result<Vec<PathBuf>> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let latest_target = fs::read_link(dir.join(LATEST_SYMLINK))
        .ok()
        .map(|t| dir.join(t));
    let now = SystemTime::now();
    let expired = |mtime: SystemTime| now.duration_since(mtime).is_ok_and(|age| age > ttl);

    let mut protected = 0usize;
    let mut candidates: Vec<(SystemTime, PathBuf)> = Vec::new();
    let mut deleted = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let md = entry.metadata().map_err(|e| Error::io(&path, e))?;
        if !md.file_type().is_file() {
            // The latest symlink and anything unexpected are left alone.
            continue;
        }
        let mtime = md.modified().map_err(|e| Error::io(&path, e))?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            if expired(mtime) {
                remove(&path, &mut deleted)?;
            }
            continue;
        }
        if Some(path.as_path()) == current || Some(&path) == latest_target.as_ref() {
            protected += 1;
            continue;
        }
        candidates.push((mtime, path));
    }
    // Newest first, ties broken by name so the outcome is deterministic.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut kept = Vec::new();
    for (mtime, path) in candidates {
        if expired(mtime) {
            remove(&path, &mut deleted)?;
        } else {
            kept.push(path);
        }
    }
    let allowed = records.saturating_sub(protected);
    for path in kept.into_iter().skip(allowed) {
        remove(&path, &mut deleted)?;
    }
    Ok(deleted)
}

fn remove(path: &Path, deleted: &mut Vec<PathBuf>) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {
            deleted.push(path.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(root: &Path) -> Storage {
        Storage::new(StorageConfig::new(
            root,
            "source-controller.flux-system.svc",
        ))
        .unwrap()
    }

    fn src_tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("deploy")).unwrap();
        fs::write(t.path().join("deploy/app.yaml"), "kind: Deployment\n").unwrap();
        fs::write(t.path().join("README.md"), "hi\n").unwrap();
        t
    }

    fn set_age(path: &Path, secs: u64) {
        let t = SystemTime::now() - Duration::from_secs(secs);
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn paths_and_urls() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path());
        let loc = s.artifact_path("GitRepository", "flux-system", "podinfo", "abc.tar.gz");
        assert_eq!(loc.rel_path, "gitrepository/flux-system/podinfo/abc.tar.gz");
        assert_eq!(
            loc.url,
            "http://source-controller.flux-system.svc/gitrepository/flux-system/podinfo/abc.tar.gz"
        );
        assert!(s.local_path("../etc/passwd").is_err());
        assert!(s.local_path("/etc/passwd").is_err());
        assert!(s.local_path("a/../../b").is_err());
        assert!(s.local_path("").is_err());
        assert!(!s.exists("../../etc/passwd"));
    }

    #[tokio::test]
    async fn archive_is_reproducible_and_verifiable() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path());
        let src = src_tree();
        let loc = s.artifact_path("GitRepository", "ns", "app", "rev1.tar.gz");
        let a1 = s.archive_dir(&loc, src.path(), |_, _| true).await.unwrap();
        assert!(a1.digest.starts_with("sha256:"));
        assert_eq!(
            a1.size as u64,
            fs::metadata(s.local_path(&loc.rel_path).unwrap())
                .unwrap()
                .len()
        );
        assert!(s.exists(&loc.rel_path));
        assert!(s.verify(&loc.rel_path, &a1.digest).await.unwrap());
        let link = s.root().join("gitrepository/ns/app/latest.tar.gz");
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("rev1.tar.gz"));

        // Same tree again (after touching an mtime) gives the same digest.
        set_age(&src.path().join("README.md"), 5000);
        let loc2 = s.artifact_path("GitRepository", "ns", "app", "rev2.tar.gz");
        let a2 = s.archive_dir(&loc2, src.path(), |_, _| true).await.unwrap();
        assert_eq!(a1.digest, a2.digest);
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("rev2.tar.gz"));

        // Tampering is detected; a missing file verifies false.
        fs::write(s.local_path(&loc.rel_path).unwrap(), "garbage").unwrap();
        assert!(!s.verify(&loc.rel_path, &a1.digest).await.unwrap());
        assert!(
            !s.verify("gitrepository/ns/app/nope.tar.gz", &a1.digest)
                .await
                .unwrap()
        );
        assert!(s.verify(&loc.rel_path, "sha256:zz").await.is_err());
    }

    #[tokio::test]
    async fn blake3_storage() {
        let root = tempfile::tempdir().unwrap();
        let mut cfg = StorageConfig::new(root.path(), "localhost:9090");
        cfg.digest_algo = DigestAlgo::Blake3;
        let s = Storage::new(cfg).unwrap();
        let src = src_tree();
        let loc = s.artifact_path("Bucket", "ns", "b", "x.tar.gz");
        let a = s.archive_dir(&loc, src.path(), |_, _| true).await.unwrap();
        assert!(a.digest.starts_with("blake3:"));
        assert!(s.verify(&loc.rel_path, &a.digest).await.unwrap());
    }

    #[tokio::test]
    async fn failed_walk_leaves_no_file() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path());
        let src = src_tree();
        let victim = src.path().join("deploy");
        let loc = s.artifact_path("GitRepository", "ns", "app", "broken.tar.gz");
        // Entries are visited in byte order: README.md, then deploy/. Deleting deploy/ while
        // README.md is filtered makes the walk fail midway, after bytes were written.
        let err = s
            .archive_dir(&loc, src.path(), move |p, _| {
                if p == Path::new("README.md") {
                    fs::remove_dir_all(&victim).unwrap();
                }
                true
            })
            .await;
        assert!(err.is_err(), "{err:?}");
        let dir = s.root().join("gitrepository/ns/app");
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");

        // A panicking filter is also contained.
        let src = src_tree();
        let err = s.archive_dir(&loc, src.path(), |_, _| panic!("boom")).await;
        assert!(matches!(err, Err(Error::Task(_))), "{err:?}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn store_file_copies_atomically() {
        let root = tempfile::tempdir().unwrap();
        let s = storage(root.path());
        let src = tempfile::NamedTempFile::new().unwrap();
        fs::write(src.path(), b"chart bytes").unwrap();
        let loc = s.artifact_path("HelmChart", "ns", "podinfo", "podinfo-6.0.0.tgz");
        let a = s.store_file(&loc, src.path()).await.unwrap();
        assert_eq!(a.size, 11);
        assert_eq!(
            a.digest,
            crate::digest::digest_reader(DigestAlgo::Sha256, &b"chart bytes"[..])
                .unwrap()
                .to_string()
        );
        assert_eq!(
            fs::read(s.local_path(&loc.rel_path).unwrap()).unwrap(),
            b"chart bytes"
        );
        let missing = s.store_file(&loc, Path::new("/nonexistent")).await;
        assert!(missing.is_err());
        assert_eq!(
            fs::read(s.local_path(&loc.rel_path).unwrap()).unwrap(),
            b"chart bytes"
        );
    }

    #[tokio::test]
    async fn garbage_collection() {
        let root = tempfile::tempdir().unwrap();
        let mut cfg = StorageConfig::new(root.path(), "h");
        cfg.retention_ttl = Duration::from_secs(60);
        cfg.retention_records = 2;
        let s = Storage::new(cfg).unwrap();
        let dir = s.root().join("gitrepository/ns/app");
        fs::create_dir_all(&dir).unwrap();
        // ages in seconds: current is the oldest of all, to prove it is protected.
        for (name, age) in [
            ("current.tar.gz", 1000),
            ("fresh1.tar.gz", 1),
            ("fresh2.tar.gz", 2),
            ("fresh3.tar.gz", 3),
            ("old.tar.gz", 500),
            (".tmp-stale", 500),
            (".tmp-inflight", 1),
        ] {
            fs::write(dir.join(name), name).unwrap();
            set_age(&dir.join(name), age);
        }
        std::os::unix::fs::symlink("current.tar.gz", dir.join(LATEST_SYMLINK)).unwrap();
        let mut deleted = s
            .garbage_collect(
                "GitRepository",
                "ns",
                "app",
                "gitrepository/ns/app/current.tar.gz",
            )
            .await
            .unwrap();
        deleted.sort();
        let names: Vec<_> = deleted
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // old: expired; fresh2, fresh3: over the 2-record budget (current + fresh1).
        assert_eq!(
            names,
            [".tmp-stale", "fresh2.tar.gz", "fresh3.tar.gz", "old.tar.gz"]
        );
        assert!(dir.join("current.tar.gz").exists());
        assert!(dir.join("fresh1.tar.gz").exists());
        assert!(dir.join(".tmp-inflight").exists());
        assert!(fs::symlink_metadata(dir.join(LATEST_SYMLINK)).is_ok());

        // latest.tar.gz's target is protected even when it is not the current artifact.
        fs::remove_file(dir.join(LATEST_SYMLINK)).unwrap();
        std::os::unix::fs::symlink("fresh1.tar.gz", dir.join(LATEST_SYMLINK)).unwrap();
        set_age(&dir.join("fresh1.tar.gz"), 5000);
        let deleted = s
            .garbage_collect(
                "GitRepository",
                "ns",
                "app",
                "gitrepository/ns/app/current.tar.gz",
            )
            .await
            .unwrap();
        assert!(deleted.is_empty(), "{deleted:?}");

        // Unknown object: nothing to do.
        assert!(
            s.garbage_collect("GitRepository", "ns", "nope", "")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.garbage_collect("GitRepository", "..", "x", "")
                .await
                .is_err()
        );

        s.remove_all("GitRepository", "ns", "app").await.unwrap();
        assert!(!dir.exists());
        s.remove_all("GitRepository", "ns", "app").await.unwrap();
    }
}
