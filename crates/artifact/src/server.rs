//! The HTTP artifact server: a small, strict static file server over the storage root.
//!
//! It is what consumers hit for every reconcile, so it supports the conditional and range
//! requests clients use to avoid re-downloading (`ETag`/`If-None-Match`,
//! `Last-Modified`/`If-Modified-Since`, single byte ranges), keeps small files in a bounded
//! in-memory cache that is re-validated on every hit, streams large files instead of
//! buffering them, and resolves paths defensively: percent-decoding happens per segment,
//! any `.`/`..`/empty/encoded-slash segment is refused, and the final path is canonicalised
//! and must still lie under the root, so neither a crafted URL nor a symlink inside the root
//! can expose a file outside it.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::Result;
use crate::storage::{Storage, TEMP_PREFIX};

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

    /// Records one request; `body_len` is the `Content-Length` of a GET response.
    fn observe(&self, method: &Method, code: StatusCode, body_len: u64, started: Instant) {
        let code = code.as_u16();
        let seconds = started.elapsed().as_secs_f64();
        let slot = usize::from(*method == Method::HEAD);
        let known = *method == Method::GET || *method == Method::HEAD;
        match hot_code(code).filter(|_| known) {
            Some(i) => {
                self.hot.requests[i][slot]
                    .get_or_init(|| {
                        self.requests
                            .with_label_values(&[&code.to_string(), method.as_str()])
                    })
                    .inc();
                self.hot.duration[i]
                    .get_or_init(|| self.duration.with_label_values(&[&code.to_string()]))
                    .observe(seconds);
            }
            None => {
                let code = code.to_string();
                self.requests
                    .with_label_values(&[code.as_str(), method.as_str()])
                    .inc();
                self.duration
                    .with_label_values(&[code.as_str()])
                    .observe(seconds);
            }
        }
        if *method == Method::GET && body_len > 0 {
            self.response_bytes.inc_by(body_len);
        }
    }
}

#[derive(Clone)]
struct AppState {
    storage: Storage,
    metrics: Option<ServerMetrics>,
    cache: Arc<FileCache>,
}

/// The artifact server with no metrics; mount it at `/` (URLs are `/<kind>/<ns>/<name>/<file>`).
pub fn server_router(storage: Storage) -> Router {
    server_router_with_metrics(storage, None)
}

/// The artifact server, recording [`ServerMetrics`] when given.
pub fn server_router_with_metrics(storage: Storage, metrics: Option<ServerMetrics>) -> Router {
    let cache = Arc::new(FileCache::new(CACHE_MAX_BYTES, CACHE_MAX_FILE));
    Router::new().fallback(handle).with_state(AppState {
        storage,
        metrics,
        cache,
    })
}

async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let resp = if method == Method::GET || method == Method::HEAD {
        serve(&state, &method, req.uri().path(), req.headers()).await
    } else {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        r
    };
    if let Some(m) = &state.metrics {
        let len = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        m.observe(&method, resp.status(), len, started);
    }
    resp
}

/// Files up to this size are kept in memory once served ([`FileCache`]).
const CACHE_MAX_FILE: u64 = 1024 * 1024;
/// Upper bound of the memory the cache holds; least recently used files go first.
const CACHE_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Larger files (not cached) up to this size are still read in one blocking call and sent as
/// one buffer; beyond it they are streamed.
const SMALL_BODY: u64 = 4 * 1024 * 1024;
/// Read size when streaming larger files.
const STREAM_CHUNK: usize = 256 * 1024;

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

/// A file that was resolved under the root, with its response headers made once.
#[derive(Debug)]
struct FileMeta {
    /// The root joined with the decoded request segments (not canonicalised): what a fresh
    /// request would open, symlinks followed.
    path: PathBuf,
    id: FileId,
    mtime: SystemTime,
    etag: HeaderValue,
    last_modified: HeaderValue,
    content_type: HeaderValue,
}

impl FileMeta {
    fn new(path: PathBuf, md: &std::fs::Metadata) -> Option<Self> {
        let id = FileId::of(md);
        let mtime = md.modified().unwrap_or(UNIX_EPOCH);
        // Strong validator: a rewrite always changes mtime (and usually size), and artifacts
        // are replaced by rename, never modified in place.
        let etag = HeaderValue::from_str(&format!("\"{:x}-{:x}\"", id.len, id.mtime_nanos)).ok()?;
        let last_modified = HeaderValue::from_str(&httpdate::fmt_http_date(mtime)).ok()?;
        let content_type = HeaderValue::from_static(content_type(&path));
        Some(FileMeta {
            path,
            id,
            mtime,
            etag,
            last_modified,
            content_type,
        })
    }
}

/// A cached file: its metadata and whole contents.
#[derive(Debug)]
struct Cached {
    meta: FileMeta,
    body: Bytes,
    content_length: HeaderValue,
    last_used: AtomicU64,
}

/// Small artifacts kept in memory, keyed by the raw request path.
///
/// Consumers fetch the same few artifacts over and over; answering from memory saves the
/// path resolution, open, read and close of every request (nginx gets the same from
/// `sendfile` and the page cache). Correctness never depends on the cache: every hit stats
/// the path (following symlinks, as a fresh lookup would) and is used only if it is still
/// the same inode, size and mtime that was resolved under the root and read. A replaced,
/// removed or re-pointed file (garbage collection, `latest.tar.gz`) therefore misses and
/// goes through the full, defensive lookup again. Memory is bounded by
/// [`CACHE_MAX_BYTES`]; files above [`CACHE_MAX_FILE`] are never cached.
#[derive(Debug)]
struct FileCache {
    entries: Mutex<CacheEntries>,
    max_bytes: usize,
    max_file: u64,
    tick: AtomicU64,
}

#[derive(Debug, Default)]
struct CacheEntries {
    map: HashMap<String, Arc<Cached>>,
    bytes: usize,
}

impl FileCache {
    fn new(max_bytes: usize, max_file: u64) -> Self {
        FileCache {
            entries: Mutex::default(),
            max_bytes,
            max_file,
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
    fn get(&self, raw: &str) -> Option<Arc<Cached>> {
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
            e.bytes -= old.body.len();
        }
        None
    }

    /// Keeps `body` for `raw`, evicting the least recently used files beyond the budget.
    fn insert(&self, raw: &str, meta: FileMeta, body: Bytes) -> Arc<Cached> {
        let content_length = HeaderValue::from(body.len() as u64);
        let entry = Arc::new(Cached {
            meta,
            body,
            content_length,
            last_used: AtomicU64::new(self.tick.fetch_add(1, Ordering::Relaxed)),
        });
        let size = entry.body.len();
        if size as u64 > self.max_file || size > self.max_bytes {
            return entry;
        }
        let mut e = self.lock();
        if let Some(old) = e.map.insert(raw.to_owned(), entry.clone()) {
            e.bytes -= old.body.len();
        }
        e.bytes += size;
        while e.bytes > self.max_bytes {
            let Some(victim) = e
                .map
                .iter()
                .min_by_key(|(_, c)| c.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(old) = e.map.remove(&victim) {
                e.bytes -= old.body.len();
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

/// What a lookup found: a cached file, or an open file too large to cache.
enum Found {
    Cached(Arc<Cached>),
    Open(Box<FileMeta>, std::fs::File),
}

/// Resolves, opens, stats and (when small) reads and caches a regular file, in one trip to
/// the blocking pool.
async fn lookup(state: &AppState, raw: &str) -> Option<Found> {
    if let Some(hit) = state.cache.get(raw) {
        return Some(Found::Cached(hit));
    }
    let (root, raw, cache) = (
        state.storage.root().to_path_buf(),
        raw.to_string(),
        state.cache.clone(),
    );
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let (path, canonical) = resolve(&root, &raw)?;
        let mut file = std::fs::File::open(&canonical).ok()?;
        let md = file.metadata().ok()?;
        if !md.is_file() {
            return None;
        }
        let meta = FileMeta::new(path, &md)?;
        if md.len() > cache.max_file {
            return Some(Found::Open(Box::new(meta), file));
        }
        let mut buf = Vec::with_capacity(usize::try_from(md.len()).ok()?);
        file.read_to_end(&mut buf).ok()?;
        // Read from the same open file that was stat'ed: the bytes belong to that inode.
        (buf.len() as u64 == meta.id.len)
            .then(|| Found::Cached(cache.insert(&raw, meta, Bytes::from(buf))))
    })
    .await
    .ok()
    .flatten()
}

/// Reads `len` bytes at `start` in one blocking call.
async fn read_range(mut file: std::fs::File, start: u64, len: u64) -> Option<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek};
        file.seek(SeekFrom::Start(start)).ok()?;
        let mut buf = Vec::with_capacity(usize::try_from(len).ok()?);
        file.take(len).read_to_end(&mut buf).ok()?;
        (buf.len() as u64 == len).then_some(buf)
    })
    .await
    .ok()
    .flatten()
}

async fn serve(state: &AppState, method: &Method, raw_path: &str, headers: &HeaderMap) -> Response {
    let Some(found) = lookup(state, raw_path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let meta = match &found {
        Found::Cached(c) => &c.meta,
        Found::Open(m, _) => m,
    };
    let size = meta.id.len;
    let mut base = HeaderMap::with_capacity(8);
    base.insert(header::ETAG, meta.etag.clone());
    base.insert(header::LAST_MODIFIED, meta.last_modified.clone());
    base.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));

    if not_modified(headers, &meta.etag, meta.mtime) {
        return with_headers(StatusCode::NOT_MODIFIED, base, Body::empty());
    }

    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(spec) if if_range_ok(headers, &meta.etag, &meta.last_modified) => {
            parse_range(spec, size)
        }
        _ => RangeSpec::Full,
    };
    let (status, start, len) = match range {
        RangeSpec::Full => (StatusCode::OK, 0, size),
        RangeSpec::Partial(start, end) => {
            insert(
                &mut base,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{size}"),
            );
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeSpec::Unsatisfiable => {
            insert(&mut base, header::CONTENT_RANGE, &format!("bytes */{size}"));
            return with_headers(StatusCode::RANGE_NOT_SATISFIABLE, base, Body::empty());
        }
    };
    base.insert(header::CONTENT_TYPE, meta.content_type.clone());
    match (&found, status) {
        (Found::Cached(c), StatusCode::OK) => {
            base.insert(header::CONTENT_LENGTH, c.content_length.clone());
        }
        _ => {
            base.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        }
    }
    if method == Method::HEAD {
        return with_headers(status, base, Body::empty());
    }
    let file = match found {
        Found::Cached(c) => {
            // Both bounds lie within the file: parse_range clamps them to `size`.
            let (from, to) = (
                usize::try_from(start).unwrap_or(usize::MAX),
                usize::try_from(start + len).unwrap_or(usize::MAX),
            );
            return match c.body.get(from..to) {
                Some(_) => with_headers(status, base, Body::from(c.body.slice(from..to))),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            };
        }
        Found::Open(_, file) => file,
    };
    if len <= SMALL_BODY {
        return match read_range(file, start, len).await {
            Some(buf) => with_headers(status, base, Body::from(buf)),
            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
    }
    let mut file = tokio::fs::File::from_std(file);
    if start > 0 && file.seek(SeekFrom::Start(start)).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let body = Body::from_stream(ReaderStream::with_capacity(file.take(len), STREAM_CHUNK));
    with_headers(status, base, body)
}

fn insert(map: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        map.insert(name, v);
    }
}

fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

fn content_type(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".gz") {
        "application/gzip"
    } else if name.ends_with(".tar") {
        "application/x-tar"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        "application/yaml"
    } else {
        "application/octet-stream"
    }
}

/// RFC 9110 §13.1.2/13.1.3: If-None-Match (weak comparison) wins over If-Modified-Since.
fn not_modified(headers: &HeaderMap, etag: &HeaderValue, mtime: SystemTime) -> bool {
    let etag = etag.to_str().unwrap_or_default();
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        let Ok(inm) = inm.to_str() else {
            return false;
        };
        return inm.split(',').map(str::trim).any(|t| {
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag.trim_start_matches("W/")
        });
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
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
fn if_range_ok(headers: &HeaderMap, etag: &HeaderValue, last_modified: &HeaderValue) -> bool {
    match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => {
            let v = v.trim().as_bytes();
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

    fn meta(dir: &Path, name: &str, data: &[u8]) -> FileMeta {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        FileMeta::new(path.clone(), &std::fs::metadata(&path).unwrap()).unwrap()
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_drops_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(250, 100);
        for name in ["a", "b"] {
            let m = meta(dir.path(), name, &[b'x'; 100]);
            cache.insert(name, m, Bytes::from(vec![b'x'; 100]));
        }
        assert!(cache.get("a").is_some(), "a used after b");
        let m = meta(dir.path(), "c", &[b'x'; 100]);
        cache.insert("c", m, Bytes::from(vec![b'x'; 100]));
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        assert_eq!(cache.lock().bytes, 200);
        // Too large for the cache: served, not kept.
        let m = meta(dir.path(), "big", &[b'x'; 101]);
        cache.insert("big", m, Bytes::from(vec![b'x'; 101]));
        assert!(cache.get("big").is_none());
        assert_eq!(cache.lock().bytes, 200);
    }

    #[test]
    fn a_changed_file_is_a_cache_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(1000, 1000);
        let m = meta(dir.path(), "a", b"one");
        cache.insert("a", m, Bytes::from_static(b"one"));
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
