//! The HTTP artifact server: a small, strict static file server over the storage root.
//!
//! It is what consumers hit for every reconcile, so it supports the conditional and range
//! requests clients use to avoid re-downloading (`ETag`/`If-None-Match`,
//! `Last-Modified`/`If-Modified-Since`, single byte ranges), and resolves paths defensively:
//! percent-decoding happens per segment, any `.`/`..`/empty/encoded-slash segment is
//! refused, and the final path is canonicalised and must still lie under the root, so
//! neither a crafted URL nor a symlink inside the root can expose a file outside it.
//!
//! The HTTP/1.1 side ([`ArtifactServer`], in `server/http1.rs`) is our own rather than
//! hyper's: hyper can only send bodies from memory, and copying every artifact from a buffer
//! into the socket cost a third of the CPU for a 332 KiB artifact. Ours writes the response
//! head with one `send` and the body with `sendfile(2)` straight from the page cache, as
//! nginx does. Small files are answered from a bounded in-memory cache in one write.

mod http1;
mod io;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

pub use http1::{ArtifactServer, ServerOptions};

use crate::Result;
use crate::storage::TEMP_PREFIX;

/// Prometheus metrics of the artifact server.
///
/// * `gotk_artifact_http_requests_total{code,method}`: requests served.
/// * `gotk_artifact_http_response_bytes_total`: body bytes promised by `Content-Length`
///   (counted when the response starts; a client that disconnects early still counts).
/// * `gotk_artifact_http_request_duration_seconds{code}`: time to produce the response
///   head (file lookup and open), not the transfer, which depends on the client.
#[derive(Clone, Debug)]
pub struct ServerMetrics {
    requests: IntCounterVec,
    response_bytes: IntCounter,
    duration: HistogramVec,
    /// Children for the common (code, method) pairs, looked up once: a label lookup hashes
    /// the label values under a lock, which showed up in profiles of small responses.
    hot: Arc<HotMetrics>,
}

/// Lazily created metric children, indexed by [`hot_code`] and GET/HEAD.
#[derive(Debug, Default)]
struct HotMetrics {
    requests: [[OnceLock<IntCounter>; 2]; HOT_CODES.len()],
    duration: [OnceLock<Histogram>; HOT_CODES.len()],
}

const HOT_CODES: [u16; 6] = [200, 206, 304, 404, 405, 416];

fn hot_code(code: u16) -> Option<usize> {
    HOT_CODES.iter().position(|c| *c == code)
}

impl ServerMetrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn new(registry: &Registry) -> Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new(
                "gotk_artifact_http_requests_total",
                "Artifact server HTTP requests by status code and method.",
            ),
            &["code", "method"],
        )?;
        let response_bytes = IntCounter::new(
            "gotk_artifact_http_response_bytes_total",
            "Artifact server response body bytes.",
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "gotk_artifact_http_request_duration_seconds",
                "Artifact server time to response head, by status code.",
            ),
            &["code"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(response_bytes.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(ServerMetrics {
            requests,
            response_bytes,
            duration,
            hot: Arc::default(),
        })
    }

    /// Records one request; `body_len` is the `Content-Length` of a GET response. `method`
    /// is one of the standard method names or `OTHER` (bounded label values).
    fn observe(&self, method: &str, code: u16, body_len: u64, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        let slot = match method {
            "GET" => Some(0),
            "HEAD" => Some(1),
            _ => None,
        };
        match hot_code(code).zip(slot) {
            Some((i, slot)) => {
                self.hot.requests[i][slot]
                    .get_or_init(|| {
                        self.requests
                            .with_label_values(&[code.to_string().as_str(), method])
                    })
                    .inc();
                self.hot.duration[i]
                    .get_or_init(|| self.duration.with_label_values(&[&code.to_string()]))
                    .observe(seconds);
            }
            None => {
                let code = code.to_string();
                self.requests
                    .with_label_values(&[code.as_str(), method])
                    .inc();
                self.duration
                    .with_label_values(&[code.as_str()])
                    .observe(seconds);
            }
        }
        if method == "GET" && body_len > 0 {
            self.response_bytes.inc_by(body_len);
        }
    }
}

/// Files up to this size are remembered once served ([`FileCache`]): their metadata and
/// response headers, an open descriptor to `sendfile` from, and for the smallest the bytes.
const CACHE_MAX_FILE: u64 = 1024 * 1024;
/// Upper bound of the file sizes the cache holds (which bounds both the memory of inline
/// bodies and the disk space that open descriptors of since-deleted files can pin).
const CACHE_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Upper bound of cached entries, hence of the descriptors the cache keeps open.
const CACHE_MAX_ENTRIES: usize = 512;
/// Files up to this size are also kept in memory and sent with their head in one write;
/// larger ones go out with `sendfile`. Measured with `hack/bench/serve.sh`: for an 8 KiB
/// artifact one write beats a `send` plus a `sendfile`.
const INLINE_MAX: u64 = 64 * 1024;

/// What identifies one version of a file: artifacts are written to a temporary file and
/// renamed into place, so a new version is a new inode (and a new mtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_nanos: u128,
}

impl FileId {
    fn of(md: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (md.dev(), md.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        FileId {
            dev,
            ino,
            len: md.len(),
            mtime_nanos: mtime_nanos(md.modified().unwrap_or(UNIX_EPOCH)),
        }
    }
}

fn mtime_nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A file that was resolved under the root and opened, with its response headers made once.
#[derive(Debug)]
struct FileMeta {
    /// The root joined with the decoded request segments (not canonicalised): what a fresh
    /// request would open, symlinks followed.
    path: PathBuf,
    id: FileId,
    mtime: SystemTime,
    etag: String,
    last_modified: String,
    /// `etag`, `last-modified` and `accept-ranges` header lines, in every non-error answer.
    validators: String,
    /// `content-type` header line.
    content_type: &'static str,
    /// `content-length` header line of the whole file.
    content_length: String,
}

impl FileMeta {
    fn new(path: PathBuf, md: &std::fs::Metadata) -> Self {
        let id = FileId::of(md);
        let mtime = md.modified().unwrap_or(UNIX_EPOCH);
        // Strong validator: a rewrite always changes mtime (and usually size), and artifacts
        // are replaced by rename, never modified in place.
        let etag = format!("\"{:x}-{:x}\"", id.len, id.mtime_nanos);
        let last_modified = httpdate::fmt_http_date(mtime);
        let validators =
            format!("etag: {etag}\r\nlast-modified: {last_modified}\r\naccept-ranges: bytes\r\n");
        let content_type = content_type(&path);
        let content_length = format!("content-length: {}\r\n", id.len);
        FileMeta {
            path,
            id,
            mtime,
            etag,
            last_modified,
            validators,
            content_type,
            content_length,
        }
    }
}

/// A resolved, open file: its metadata, a descriptor to send from (at explicit offsets, so
/// one descriptor serves any number of connections) and, for small files, its bytes.
#[derive(Debug)]
struct OpenFile {
    meta: FileMeta,
    file: File,
    body: Option<Vec<u8>>,
    last_used: AtomicU64,
}

/// Recently served files, keyed by the raw request path.
///
/// Consumers fetch the same few artifacts over and over; answering from the cache saves the
/// path resolution, open and close of every request (and for small files the read).
/// Correctness never depends on the cache: every hit stats the path (following symlinks,
/// as a fresh lookup would) and is used only if it is still the same inode, size and mtime
/// that was resolved under the root and opened. A replaced, removed or re-pointed file
/// (garbage collection, `latest.tar.gz`) therefore misses and goes through the full,
/// defensive lookup again. Bounded by [`CACHE_MAX_BYTES`] of file sizes and
/// [`CACHE_MAX_ENTRIES`] descriptors; files above [`CACHE_MAX_FILE`] are never cached.
#[derive(Debug)]
struct FileCache {
    entries: Mutex<CacheEntries>,
    max_bytes: u64,
    max_file: u64,
    max_entries: usize,
    inline_max: u64,
    tick: AtomicU64,
}

#[derive(Debug, Default)]
struct CacheEntries {
    map: HashMap<String, Arc<OpenFile>>,
    bytes: u64,
}

impl FileCache {
    fn new(max_bytes: u64, max_file: u64, max_entries: usize, inline_max: u64) -> Self {
        FileCache {
            entries: Mutex::default(),
            max_bytes,
            max_file,
            max_entries,
            inline_max,
            tick: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheEntries> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters (entries are validated on use), so a poisoned lock is still usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached file for `raw`, if it is still the file on disk.
    fn get(&self, raw: &str) -> Option<Arc<OpenFile>> {
        let hit = self.lock().map.get(raw).cloned()?;
        // One stat of a local path; cheaper than a trip to the blocking pool and what a
        // fresh lookup would do first anyway.
        let current = std::fs::metadata(&hit.meta.path).ok();
        if current.is_some_and(|md| md.is_file() && FileId::of(&md) == hit.meta.id) {
            hit.last_used
                .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
            return Some(hit);
        }
        let mut e = self.lock();
        if e.map.get(raw).is_some_and(|c| Arc::ptr_eq(c, &hit))
            && let Some(old) = e.map.remove(raw)
        {
            e.bytes -= old.meta.id.len;
        }
        None
    }

    /// Keeps `entry` for `raw` when it is small enough, evicting the least recently used
    /// files beyond the budget.
    fn insert(&self, raw: &str, entry: OpenFile) -> Arc<OpenFile> {
        entry
            .last_used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        let entry = Arc::new(entry);
        let size = entry.meta.id.len;
        if size > self.max_file || size > self.max_bytes || self.max_entries == 0 {
            return entry;
        }
        let mut e = self.lock();
        if let Some(old) = e.map.insert(raw.to_owned(), entry.clone()) {
            e.bytes -= old.meta.id.len;
        }
        e.bytes += size;
        while e.bytes > self.max_bytes || e.map.len() > self.max_entries {
            let Some(victim) = e
                .map
                .iter()
                .min_by_key(|(_, c)| c.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(old) = e.map.remove(&victim) {
                e.bytes -= old.meta.id.len;
            }
        }
        entry
    }
}

/// Maps a raw (still percent-encoded) request path to a file under `root`, or `None`.
/// Returns the joined path and the canonical one. Blocking.
fn resolve(root: &Path, raw: &str) -> Option<(PathBuf, PathBuf)> {
    let rest = raw.strip_prefix('/')?;
    let mut path = root.to_path_buf();
    for seg in rest.split('/') {
        let decoded = percent_decode_str(seg).collect::<Vec<u8>>();
        let bad = decoded.is_empty()
            || decoded == b"."
            || decoded == b".."
            || decoded.iter().any(|b| matches!(b, b'/' | b'\\' | 0))
            || decoded.starts_with(TEMP_PREFIX.as_bytes());
        if bad {
            return None;
        }
        path.push(std::str::from_utf8(&decoded).ok()?);
    }
    // Symlinks inside the root (latest.tar.gz) are fine; ones leading out are not.
    let canonical = std::fs::canonicalize(&path).ok()?;
    canonical.starts_with(root).then_some((path, canonical))
}

/// Resolves, opens, stats and (when small) reads and caches a regular file, in one trip to
/// the blocking pool. A cache hit costs one `stat` and no trip.
async fn lookup(root: &Path, cache: &Arc<FileCache>, raw: &str) -> Option<Arc<OpenFile>> {
    if let Some(hit) = cache.get(raw) {
        return Some(hit);
    }
    let (root, raw, cache) = (root.to_path_buf(), raw.to_string(), cache.clone());
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let (path, canonical) = resolve(&root, &raw)?;
        let mut file = File::open(&canonical).ok()?;
        let md = file.metadata().ok()?;
        if !md.is_file() {
            return None;
        }
        let meta = FileMeta::new(path, &md);
        let body = if md.len() <= cache.inline_max {
            let mut buf = Vec::with_capacity(usize::try_from(md.len()).ok()?);
            file.read_to_end(&mut buf).ok()?;
            // Read from the same open file that was stat'ed: the bytes belong to that inode.
            (buf.len() as u64 == meta.id.len).then_some(buf)?.into()
        } else {
            None
        };
        Some(cache.insert(
            &raw,
            OpenFile {
                meta,
                file,
                body,
                last_used: AtomicU64::new(0),
            },
        ))
    })
    .await
    .ok()
    .flatten()
}

fn content_type(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".gz") {
        "content-type: application/gzip\r\n"
    } else if name.ends_with(".tar") {
        "content-type: application/x-tar\r\n"
    } else if name.ends_with(".json") {
        "content-type: application/json\r\n"
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        "content-type: application/yaml\r\n"
    } else {
        "content-type: application/octet-stream\r\n"
    }
}

/// The request headers the server looks at, as sent (`None` when absent).
#[derive(Debug, Default, Clone, Copy)]
struct Conditions<'a> {
    if_none_match: Option<&'a [u8]>,
    if_modified_since: Option<&'a [u8]>,
    if_range: Option<&'a [u8]>,
    range: Option<&'a [u8]>,
}

/// RFC 9110 §13.1.2/13.1.3: If-None-Match (weak comparison) wins over If-Modified-Since.
fn not_modified(c: &Conditions<'_>, etag: &str, mtime: SystemTime) -> bool {
    if let Some(inm) = c.if_none_match {
        let Ok(inm) = std::str::from_utf8(inm) else {
            return false;
        };
        return inm.split(',').map(str::trim).any(|t| {
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag.trim_start_matches("W/")
        });
    }
    c.if_modified_since
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
        .is_some_and(|since| {
            // HTTP dates have second precision.
            let secs = mtime
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            since
                .duration_since(UNIX_EPOCH)
                .is_ok_and(|s| secs <= s.as_secs())
        })
}

/// If-Range: the range applies only if the validator still matches (strong comparison).
fn if_range_ok(c: &Conditions<'_>, etag: &str, last_modified: &str) -> bool {
    match c.if_range {
        None => true,
        Some(v) => {
            let v = v.trim_ascii();
            v == etag.as_bytes() || v == last_modified.as_bytes()
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    /// No (usable) range: serve everything with 200.
    Full,
    /// Inclusive byte range.
    Partial(u64, u64),
    /// 416.
    Unsatisfiable,
}

/// Parses a single `bytes=` range. Multiple ranges and malformed headers are ignored (the
/// whole file is served), which RFC 9110 §14.2 permits and keeps the server simple.
fn parse_range(spec: &str, size: u64) -> RangeSpec {
    let Some(set) = spec.trim().strip_prefix("bytes=") else {
        return RangeSpec::Full;
    };
    if set.contains(',') {
        return RangeSpec::Full;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeSpec::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let num = |s: &str| {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u64>().ok()
        } else {
            None
        }
    };
    if first.is_empty() {
        // Suffix range: the last n bytes.
        return match num(last) {
            None => RangeSpec::Full,
            Some(0) => RangeSpec::Unsatisfiable,
            Some(_) if size == 0 => RangeSpec::Unsatisfiable,
            Some(n) => RangeSpec::Partial(size.saturating_sub(n), size - 1),
        };
    }
    let Some(start) = num(first) else {
        return RangeSpec::Full;
    };
    let end = if last.is_empty() {
        None
    } else {
        match num(last) {
            Some(e) if e >= start => Some(e),
            // first > last makes the header invalid, so it is ignored.
            _ => return RangeSpec::Full,
        }
    };
    if start >= size {
        return RangeSpec::Unsatisfiable;
    }
    let end = end.map_or(size - 1, |e| e.min(size - 1));
    RangeSpec::Partial(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path, name: &str, data: &[u8]) -> OpenFile {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        OpenFile {
            meta: FileMeta::new(path.clone(), &std::fs::metadata(&path).unwrap()),
            file: File::open(&path).unwrap(),
            body: Some(data.to_vec()),
            last_used: AtomicU64::new(0),
        }
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_drops_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(250, 100, 10, 100);
        for name in ["a", "b"] {
            cache.insert(name, open(dir.path(), name, &[b'x'; 100]));
        }
        assert!(cache.get("a").is_some(), "a used after b");
        cache.insert("c", open(dir.path(), "c", &[b'x'; 100]));
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        assert_eq!(cache.lock().bytes, 200);
        // Too large for the cache: served, not kept.
        cache.insert("big", open(dir.path(), "big", &[b'x'; 101]));
        assert!(cache.get("big").is_none());
        assert_eq!(cache.lock().bytes, 200);
    }

    #[test]
    fn the_cache_keeps_a_bounded_number_of_descriptors() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(1000, 100, 2, 100);
        for name in ["a", "b", "c"] {
            cache.insert(name, open(dir.path(), name, b"x"));
        }
        assert_eq!(cache.lock().map.len(), 2);
        assert!(cache.get("a").is_none(), "the oldest went first");
    }

    #[test]
    fn a_changed_file_is_a_cache_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(1000, 1000, 10, 1000);
        cache.insert("a", open(dir.path(), "a", b"one"));
        assert!(cache.get("a").is_some());
        std::fs::write(dir.path().join(".new"), b"three").unwrap();
        std::fs::rename(dir.path().join(".new"), dir.path().join("a")).unwrap();
        assert!(cache.get("a").is_none());
        assert_eq!(cache.lock().bytes, 0, "the stale entry is dropped");
    }

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-9", 100), Partial(0, 9));
        assert_eq!(parse_range("bytes=90-200", 100), Partial(90, 99));
        assert_eq!(parse_range("bytes=10-", 100), Partial(10, 99));
        assert_eq!(parse_range("bytes=-10", 100), Partial(90, 99));
        assert_eq!(parse_range("bytes=-500", 100), Partial(0, 99));
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 100), Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Full);
        assert_eq!(parse_range("items=0-1", 100), Full);
        assert_eq!(parse_range("bytes=a-b", 100), Full);
        assert_eq!(parse_range("bytes=+1-2", 100), Full);
    }
}
