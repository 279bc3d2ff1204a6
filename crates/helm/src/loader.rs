//! Loading a chart from a directory or a packaged `.tgz`, with Helm's limits and checks and
//! a cap on the number of files (a hostile archive gets a clear error, never a panic).

use crate::chart::{Chart, File};
use crate::ignore::Rules;
use crate::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Largest decompressed chart (Helm's `MaxDecompressedChartSize`).
pub const MAX_CHART_SIZE: u64 = 100 * 1024 * 1024;
/// Largest single file (Helm's `MaxDecompressedFileSize`).
pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;
/// Most files in one chart, subcharts included.
pub const MAX_FILES: usize = 20_000;

/// Loads a chart from a directory or a `.tgz` file.
pub fn load(path: &Path) -> Result<Chart> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        if !data.starts_with(&[0x1f, 0x8b, 0x08]) {
            let name = path.display();
            let s = path.to_string_lossy();
            if s.ends_with(".yml") || s.ends_with(".yaml") {
                return Err(Error::Chart(format!(
                    "file '{name}' seems to be a YAML file, but expected a gzipped archive"
                )));
            }
            return Err(Error::Chart(format!(
                "file '{name}' does not appear to be a gzipped archive"
            )));
        }
        load_archive(&data)
    }
}

/// Loads a chart directory, applying `.helmignore` (Helm follows symlinks here).
pub fn load_dir(dir: &Path) -> Result<Chart> {
    let mut rules = match std::fs::read_to_string(dir.join(".helmignore")) {
        Ok(t) => Rules::parse(&t)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Rules::default(),
        Err(e) => return Err(Error::io(dir.join(".helmignore"), e)),
    };
    rules.add_defaults();
    let mut files = Vec::new();
    let mut total = 0u64;
    walk(dir, "", &rules, &mut files, &mut total, 0)?;
    Chart::from_files(files)
}

fn walk(
    dir: &Path,
    prefix: &str,
    rules: &Rules,
    out: &mut Vec<File>,
    total: &mut u64,
    depth: usize,
) -> Result<()> {
    if depth > 64 {
        return Err(Error::Chart(format!(
            "{}: directory nesting too deep (symlink loop?)",
            dir.display()
        )));
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let path = e.path();
        // Follow symlinks, as Helm's loader does for directories.
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            if rules.ignore(&rel, true) {
                continue;
            }
            walk(&path, &rel, rules, out, total, depth + 1)?;
            continue;
        }
        if rules.ignore(&rel, false) {
            continue;
        }
        if !meta.is_file() {
            return Err(Error::Chart(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                path.display()
            )));
        }
        if meta.len() > MAX_FILE_SIZE {
            return Err(Error::Chart(format!(
                "chart file {name:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        *total += meta.len();
        if *total > MAX_CHART_SIZE {
            return Err(Error::Chart(format!(
                "chart {} is larger than the maximum size {MAX_CHART_SIZE}",
                dir.display()
            )));
        }
        if out.len() >= MAX_FILES {
            return Err(Error::Chart(format!(
                "chart has more than {MAX_FILES} files"
            )));
        }
        let mut data = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        if data.starts_with(b"\xef\xbb\xbf") {
            data.drain(..3);
        }
        out.push(File { name: rel, data });
    }
    Ok(())
}

/// Loads a packaged chart from the bytes of a `.tgz`.
pub fn load_archive(data: &[u8]) -> Result<Chart> {
    Chart::from_files(archive_files(data)?)
}

/// The files of a chart archive, the top directory stripped, refusing absolute paths,
/// `..`, links and special files, and enforcing the size and count limits.
pub fn archive_files(data: &[u8]) -> Result<Vec<File>> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut ar = tar::Archive::new(gz);
    let mut files = Vec::new();
    let mut remaining = MAX_CHART_SIZE;
    let bad = |m: &str| Error::Chart(m.to_string());
    let entries = ar
        .entries()
        .map_err(|e| Error::Chart(format!("reading chart archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::Chart(format!("reading chart archive: {e}")))?;
        let kind = entry.header().entry_type();
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        match kind {
            tar::EntryType::Directory
            | tar::EntryType::XGlobalHeader
            | tar::EntryType::XHeader
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink => continue,
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                return Err(Error::Chart(format!(
                    "chart archive contains a link, which is not allowed: {raw_name:?}"
                )));
            }
            _ => {
                return Err(Error::Chart(format!(
                    "chart archive contains a special file, which is not allowed: {raw_name:?}"
                )));
            }
        }
        let delim = if raw_name.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = raw_name.split(delim).collect();
        let n = parts[1..].join("/");
        if n.starts_with('/') {
            return Err(bad("chart illegally contains absolute paths"));
        }
        let n = clean(&n);
        if n == "." {
            return Err(Error::Chart(format!(
                "chart illegally contains content outside the base directory: {raw_name:?}"
            )));
        }
        if n.starts_with("..") {
            return Err(bad("chart illegally references parent directory"));
        }
        let b = n.as_bytes();
        if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
            return Err(bad("chart contains illegally named files"));
        }
        if parts[0] == "Chart.yaml" {
            return Err(bad("chart yaml not in base directory"));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > remaining {
            return Err(Error::Chart(format!(
                "decompressed chart is larger than the maximum file size {MAX_CHART_SIZE}"
            )));
        }
        if size > MAX_FILE_SIZE {
            return Err(Error::Chart(format!(
                "decompressed chart file {raw_name:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        if files.len() >= MAX_FILES {
            return Err(Error::Chart(format!(
                "chart archive has more than {MAX_FILES} files"
            )));
        }
        let mut buf = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(remaining)
            .read_to_end(&mut buf)
            .map_err(|e| Error::Chart(format!("reading chart archive: {e}")))?;
        remaining -= buf.len() as u64;
        if (buf.len() as u64) < size || remaining == 0 {
            return Err(Error::Chart(format!(
                "decompressed chart is larger than the maximum file size {MAX_CHART_SIZE}"
            )));
        }
        if buf.starts_with(b"\xef\xbb\xbf") {
            buf.drain(..3);
        }
        files.push(File { name: n, data: buf });
    }
    if files.is_empty() {
        return Err(bad("no files in chart archive"));
    }
    Ok(files)
}

/// Go's `path.Clean` for relative paths.
fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(l) if *l != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, data, kind) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").unwrap();
            }
            // set_path refuses `..`; write the raw name like a hostile archive would.
            let raw = name.as_bytes();
            h.as_old_mut().name[..raw.len()].copy_from_slice(raw);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    const CHART: &[u8] = b"apiVersion: v2\nname: c\nversion: 1.0.0\n";

    #[test]
    fn archive_loads_with_top_dir_stripped() {
        let data = tgz(&[
            ("c/Chart.yaml", CHART, tar::EntryType::Regular),
            ("c/templates/a.yaml", b"a: 1", tar::EntryType::Regular),
        ]);
        let c = load_archive(&data).unwrap();
        assert_eq!(c.name(), "c");
        assert_eq!(c.templates[0].name, "templates/a.yaml");
    }

    #[test]
    fn hostile_archives_are_refused() {
        let parent = tgz(&[
            ("c/Chart.yaml", CHART, tar::EntryType::Regular),
            ("c/../../x", b"x", tar::EntryType::Regular),
        ]);
        let e = load_archive(&parent).unwrap_err().to_string();
        assert!(e.contains("parent directory"), "{e}");
        let link = tgz(&[
            ("c/Chart.yaml", CHART, tar::EntryType::Regular),
            ("c/l", b"", tar::EntryType::Symlink),
        ]);
        let e = load_archive(&link).unwrap_err().to_string();
        assert!(e.contains("link"), "{e}");
        let top = tgz(&[("Chart.yaml", CHART, tar::EntryType::Regular)]);
        let e = load_archive(&top).unwrap_err().to_string();
        assert!(e.contains("outside the base directory"), "{e}");
    }

    #[test]
    fn not_gzip_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.yaml");
        std::fs::write(&p, "a: 1").unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("seems to be a YAML file"), "{e}");
    }
}
