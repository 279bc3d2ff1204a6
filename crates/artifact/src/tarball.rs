//! Reproducible `.tar.gz` writing and hostile-input-safe extraction.
//!
//! Writing: the digest of an artifact is how every consumer decides whether anything changed,
//! so identical trees must give identical bytes regardless of mtimes, owners, umask or the
//! order `readdir` returns. Headers are therefore normalised the way Flux's
//! `storage.Archive` does (uid/gid 0, no user/group names, zero mtime, modes reduced to
//! three fixed values), directory entries are visited in byte order, and the gzip header
//! carries no mtime or file name.
//!
//! Extraction: artifacts come over the network, so the reader assumes nothing: no absolute
//! paths, no `..`, no links or device nodes, bounded entry count and bytes, and it never
//! follows a symlink that already exists in the destination.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use flate2::Compression;
use tar::{EntryType, Header};

use crate::{Error, Result};

/// Mode of directories inside an archive (Flux's `DefaultDirMode`).
pub const DIR_MODE: u32 = 0o750;
/// Mode of non-executable files inside an archive (Flux's `DefaultFileMode`).
pub const FILE_MODE: u32 = 0o600;
/// Mode of files with any exec bit inside an archive (Flux's `DefaultExeFileMode`).
pub const EXE_FILE_MODE: u32 = 0o700;

/// Writes `dir` as a reproducible gzip-compressed tarball to `out`.
///
/// `filter(rel_path, is_dir)` decides what is included: `false` skips a file, or a whole
/// directory subtree (like git, an excluded directory's contents cannot be re-included).
/// Only regular files and directories are archived; symlinks, sockets, FIFOs and devices are
/// skipped, which also means a symlink can never pull content from outside `dir`.
pub fn write_reproducible(
    dir: &Path,
    filter: impl Fn(&Path, bool) -> bool,
    out: impl Write,
) -> Result<()> {
    let meta = fs::metadata(dir).map_err(|_| Error::NotADirectory(dir.to_path_buf()))?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory(dir.to_path_buf()));
    }
    // Fixed gzip header: flate2's builder writes mtime 0, no name and OS "unknown" (255).
    let gz = flate2::GzBuilder::new().write(out, Compression::default());
    let mut builder = tar::Builder::new(gz);
    walk(dir, Path::new(""), &filter, &mut builder)?;
    let gz = builder
        .into_inner()
        .map_err(|e| Error::io("<archive>", e))?;
    let mut out = gz.finish().map_err(|e| Error::io("<archive>", e))?;
    out.flush().map_err(|e| Error::io("<archive>", e))?;
    Ok(())
}

fn walk<W: Write>(
    root: &Path,
    rel: &Path,
    filter: &impl Fn(&Path, bool) -> bool,
    builder: &mut tar::Builder<W>,
) -> Result<()> {
    let abs = root.join(rel);
    let mut names = fs::read_dir(&abs)
        .map_err(|e| Error::io(&abs, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| Error::io(&abs, e))?;
    // Byte order, not readdir order, so the archive does not depend on the filesystem.
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names {
        let rel_child = rel.join(&name);
        let abs_child = root.join(&rel_child);
        // symlink_metadata: never follow a link, whatever it points at.
        let md = fs::symlink_metadata(&abs_child).map_err(|e| Error::io(&abs_child, e))?;
        let ft = md.file_type();
        if ft.is_dir() {
            if !filter(&rel_child, true) {
                continue;
            }
            let mut header = normalised_header(EntryType::Directory, DIR_MODE, 0);
            builder
                .append_data(&mut header, &rel_child, io::empty())
                .map_err(|e| Error::io(&abs_child, e))?;
            walk(root, &rel_child, filter, builder)?;
        } else if ft.is_file() {
            if !filter(&rel_child, false) {
                continue;
            }
            let mode = if md.permissions().mode() & 0o111 != 0 {
                EXE_FILE_MODE
            } else {
                FILE_MODE
            };
            let size = md.len();
            let mut header = normalised_header(EntryType::Regular, mode, size);
            let file = fs::File::open(&abs_child).map_err(|e| Error::io(&abs_child, e))?;
            // The header already promised `size` bytes: a file that shrank while we read it
            // must fail the archive rather than silently produce a corrupt one.
            let mut reader = ExactReader {
                inner: file.take(size),
                remaining: size,
            };
            builder
                .append_data(&mut header, &rel_child, &mut reader)
                .map_err(|e| Error::io(&abs_child, e))?;
        }
        // Anything else (symlink, socket, FIFO, device) is skipped, as Flux does.
    }
    Ok(())
}

fn normalised_header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Reads exactly `remaining` bytes or fails with `UnexpectedEof`.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while it was being archived",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Caps on what [`extract_safe`] will write, so a small hostile download cannot fill the
/// disk or exhaust inodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Maximum number of entries (files and directories).
    pub max_files: usize,
    /// Maximum total bytes of file content.
    pub max_extracted: u64,
}

impl Default for ExtractLimits {
    /// Generous defaults: Flux's kustomize/helm controllers untar without limits, and a
    /// monorepo artifact can be large; these only stop pathological archives.
    fn default() -> Self {
        ExtractLimits {
            max_files: 1_000_000,
            max_extracted: 4 << 30,
        }
    }
}

/// What [`extract_safe`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtractStats {
    /// Regular files written.
    pub files: usize,
    /// Directories created or found.
    pub dirs: usize,
    /// Bytes of file content written.
    pub bytes: u64,
}

/// Extracts a tarball (gzip-compressed or not, detected by magic bytes) into `dest`.
///
/// Rejects, with [`Error::UnsafeEntry`]: absolute paths, `..` components, symlinks,
/// hardlinks, device nodes and FIFOs, and any path that would pass through an existing
/// symlink or non-directory in `dest`. Enforces `limits` against the declared entry size
/// before writing and against the bytes actually written. Files get mode 0o755 if the
/// archive marks them executable, else 0o644; ownership and mtimes are not restored.
pub fn extract_safe(
    reader: impl Read,
    dest: &Path,
    limits: &ExtractLimits,
) -> Result<ExtractStats> {
    fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    let mut buffered = BufReader::new(reader);
    let head = buffered.fill_buf().map_err(|e| Error::io("<archive>", e))?;
    let decoded: Box<dyn Read + '_> = if head.starts_with(&[0x1f, 0x8b]) {
        // Multi-member like Go's gzip reader, so archives from either writer are accepted.
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut archive = tar::Archive::new(decoded);
    let mut stats = ExtractStats::default();
    let mut entries_seen = 0usize;
    let entries = archive
        .entries()
        .map_err(|e| Error::CorruptArchive(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::CorruptArchive(e.to_string()))?;
        let raw_name = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw_name).into_owned();
        let unsafe_entry = |reason: &str| Error::UnsafeEntry {
            entry: name.clone(),
            reason: reason.to_string(),
        };
        let kind = entry.header().entry_type();
        match kind {
            // git archive and others add global PAX headers; they carry no file.
            EntryType::XGlobalHeader => continue,
            EntryType::Regular | EntryType::Directory => {}
            EntryType::Symlink => return Err(unsafe_entry("symlinks are not allowed")),
            EntryType::Link => return Err(unsafe_entry("hardlinks are not allowed")),
            EntryType::Char | EntryType::Block => {
                return Err(unsafe_entry("device nodes are not allowed"));
            }
            EntryType::Fifo => return Err(unsafe_entry("FIFOs are not allowed")),
            other => {
                return Err(unsafe_entry(&format!(
                    "unsupported entry type {:?}",
                    other.as_byte() as char
                )));
            }
        }
        let parts = safe_components(&raw_name).map_err(&unsafe_entry)?;
        if parts.is_empty() {
            // "./" or "": the archive root itself.
            continue;
        }
        entries_seen += 1;
        if entries_seen > limits.max_files {
            return Err(Error::LimitExceeded(format!(
                "more than {} entries",
                limits.max_files
            )));
        }
        if kind == EntryType::Directory {
            ensure_dirs(dest, &parts, &name)?;
            stats.dirs += 1;
            continue;
        }
        let declared = entry
            .header()
            .size()
            .map_err(|e| Error::CorruptArchive(e.to_string()))?;
        if declared > limits.max_extracted.saturating_sub(stats.bytes) {
            return Err(Error::LimitExceeded(format!(
                "entry {name:?} declares {declared} bytes, over the {} byte total limit",
                limits.max_extracted
            )));
        }
        let (last, parents) = parts
            .split_last()
            .ok_or_else(|| unsafe_entry("empty path"))?;
        let parent = ensure_dirs(dest, parents, &name)?;
        let target = parent.join(last);
        match fs::symlink_metadata(&target) {
            Ok(md) if md.file_type().is_dir() => {
                return Err(unsafe_entry("a directory with that name already exists"));
            }
            // Remove the old file or symlink itself (never its target) so the create_new
            // below, which refuses to follow or reuse anything, always makes a fresh file.
            Ok(_) => fs::remove_file(&target).map_err(|e| Error::io(&target, e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&target, e)),
        }
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| Error::io(&target, e))?;
        let mode = entry.header().mode().unwrap_or(0o644);
        let written = io::copy(&mut (&mut entry).take(declared), &mut out)
            .map_err(|e| Error::CorruptArchive(format!("{name}: {e}")))?;
        if written != declared {
            return Err(Error::CorruptArchive(format!(
                "{name}: expected {declared} bytes, archive ended after {written}"
            )));
        }
        let perm = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
        out.set_permissions(fs::Permissions::from_mode(perm))
            .map_err(|e| Error::io(&target, e))?;
        stats.bytes += written;
        stats.files += 1;
    }
    Ok(stats)
}

/// Splits an entry name into plain components, or says why it is unsafe.
fn safe_components(raw: &[u8]) -> std::result::Result<Vec<&OsStr>, &'static str> {
    if raw.contains(&0) {
        return Err("NUL byte in path");
    }
    let path = Path::new(OsStr::from_bytes(raw));
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path"),
        }
    }
    Ok(parts)
}

/// Creates `dest/parts...` one level at a time, refusing to pass through anything that is
/// not a real directory (notably a symlink planted earlier), and returns the final path.
fn ensure_dirs(dest: &Path, parts: &[&OsStr], entry: &str) -> Result<PathBuf> {
    let mut cur = dest.to_path_buf();
    for p in parts {
        cur.push(p);
        match fs::symlink_metadata(&cur) {
            Ok(md) if md.file_type().is_dir() => {}
            Ok(md) if md.file_type().is_symlink() => {
                return Err(Error::UnsafeEntry {
                    entry: entry.to_string(),
                    reason: format!("path passes through symlink {}", cur.display()),
                });
            }
            Ok(_) => {
                return Err(Error::UnsafeEntry {
                    entry: entry.to_string(),
                    reason: format!("path passes through non-directory {}", cur.display()),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&cur).map_err(|e| Error::io(&cur, e))?;
            }
            Err(e) => return Err(Error::io(&cur, e)),
        }
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{DigestAlgo, digest_reader};
    use std::time::{Duration, SystemTime};

    fn tree(dir: &Path) {
        fs::create_dir_all(dir.join("a/b")).unwrap();
        fs::create_dir_all(dir.join("z")).unwrap();
        fs::write(dir.join("a/b/c.yaml"), "kind: ConfigMap\n").unwrap();
        fs::write(dir.join("a-b.txt"), "x").unwrap();
        fs::write(dir.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(dir.join("run.sh"), fs::Permissions::from_mode(0o775)).unwrap();
        fs::write(dir.join("z/.gitkeep"), "").unwrap();
    }

    fn archive(dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        write_reproducible(dir, |_, _| true, &mut out).unwrap();
        out
    }

    fn digest(bytes: &[u8]) -> String {
        digest_reader(DigestAlgo::Sha256, bytes)
            .unwrap()
            .to_string()
    }

    #[test]
    fn identical_trees_identical_bytes() {
        let t1 = tempfile::tempdir().unwrap();
        let t2 = tempfile::tempdir().unwrap();
        tree(t1.path());
        tree(t2.path());
        let a1 = archive(t1.path());
        assert_eq!(digest(&a1), digest(&archive(t2.path())));

        // Touching mtimes and loosening non-exec modes changes nothing.
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(t2.path().join("a/b/c.yaml"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::set_permissions(t2.path().join("a-b.txt"), fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(digest(&a1), digest(&archive(t2.path())));

        // Different content, different digest.
        fs::write(t2.path().join("a/b/c.yaml"), "kind: Secret\n").unwrap();
        assert_ne!(digest(&a1), digest(&archive(t2.path())));
    }

    #[test]
    fn headers_are_normalised_and_sorted() {
        let t = tempfile::tempdir().unwrap();
        tree(t.path());
        std::os::unix::fs::symlink("/etc/passwd", t.path().join("evil")).unwrap();
        let bytes = archive(t.path());
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.mtime().unwrap(), 0);
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.gid().unwrap(), 0);
            assert_eq!(h.username().unwrap(), Some(""));
            seen.push((
                e.path().unwrap().to_string_lossy().into_owned(),
                h.mode().unwrap(),
            ));
        }
        assert_eq!(
            seen,
            vec![
                ("a".into(), DIR_MODE),
                ("a/b".into(), DIR_MODE),
                ("a/b/c.yaml".into(), FILE_MODE),
                ("a-b.txt".into(), FILE_MODE),
                ("run.sh".into(), EXE_FILE_MODE),
                ("z".into(), DIR_MODE),
                ("z/.gitkeep".into(), FILE_MODE),
            ]
        );
        // Gzip header: no mtime (bytes 4..8) and no FNAME flag.
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
        assert_eq!(bytes[3] & 0x08, 0);
    }

    #[test]
    fn filter_skips_files_and_subtrees() {
        let t = tempfile::tempdir().unwrap();
        tree(t.path());
        let mut out = Vec::new();
        write_reproducible(
            t.path(),
            |p, is_dir| !(is_dir && p == Path::new("a")) && p != Path::new("run.sh"),
            &mut out,
        )
        .unwrap();
        let dest = tempfile::tempdir().unwrap();
        extract_safe(&out[..], dest.path(), &ExtractLimits::default()).unwrap();
        assert!(!dest.path().join("a").exists());
        assert!(!dest.path().join("run.sh").exists());
        assert!(dest.path().join("a-b.txt").exists());
    }

    #[test]
    fn round_trip_and_long_names() {
        let t = tempfile::tempdir().unwrap();
        tree(t.path());
        let long = "d".repeat(120);
        fs::create_dir_all(t.path().join(&long)).unwrap();
        fs::write(t.path().join(&long).join("f".repeat(150)), "long").unwrap();
        let bytes = archive(t.path());
        let dest = tempfile::tempdir().unwrap();
        let stats = extract_safe(&bytes[..], dest.path(), &ExtractLimits::default()).unwrap();
        assert_eq!(stats.files, 5);
        assert_eq!(
            fs::read_to_string(dest.path().join(&long).join("f".repeat(150))).unwrap(),
            "long"
        );
        let mode = fs::metadata(dest.path().join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn missing_dir_is_an_error() {
        let err = write_reproducible(Path::new("/nonexistent/x"), |_, _| true, Vec::new());
        assert!(matches!(err, Err(Error::NotADirectory(_))));
    }
}
