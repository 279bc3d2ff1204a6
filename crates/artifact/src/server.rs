//! The HTTP artifact server: a small, strict static file server over the storage root.
//!
//! It is what consumers hit for every reconcile, so it supports the conditional and range
//! requests clients use to avoid re-downloading (`ETag`/`If-None-Match`,
//! `Last-Modified`/`If-Modified-Since`, single byte ranges), streams files instead of
//! buffering them, and resolves paths defensively: percent-decoding happens per segment,
//! any `.`/`..`/empty/encoded-slash segment is refused, and the final path is canonicalised
//! and must still lie under the root, so neither a crafted URL nor a symlink inside the root
//! can expose a file outside it.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};
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
        })
    }

    fn observe(&self, method: &Method, resp: &Response, started: Instant) {
        let code = resp.status().as_u16().to_string();
        self.requests
            .with_label_values(&[code.as_str(), method.as_str()])
            .inc();
        self.duration
            .with_label_values(&[code.as_str()])
            .observe(started.elapsed().as_secs_f64());
        if method == Method::GET {
            let len = resp
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            self.response_bytes.inc_by(len);
        }
    }
}

#[derive(Clone)]
struct AppState {
    storage: Storage,
    metrics: Option<ServerMetrics>,
}

/// The artifact server with no metrics; mount it at `/` (URLs are `/<kind>/<ns>/<name>/<file>`).
pub fn server_router(storage: Storage) -> Router {
    server_router_with_metrics(storage, None)
}

/// The artifact server, recording [`ServerMetrics`] when given.
pub fn server_router_with_metrics(storage: Storage, metrics: Option<ServerMetrics>) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(AppState { storage, metrics })
}

async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let resp = if method == Method::GET || method == Method::HEAD {
        serve(&state.storage, &method, req.uri().path(), req.headers()).await
    } else {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        r
    };
    if let Some(m) = &state.metrics {
        m.observe(&method, &resp, started);
    }
    resp
}

/// Responses up to this size are read in one blocking call and sent as one buffer: most
/// artifacts are small, and a per-chunk hop to the blocking pool dominated their cost.
const SMALL_BODY: u64 = 1024 * 1024;
/// Read size when streaming larger files.
const STREAM_CHUNK: usize = 256 * 1024;

/// Maps a raw (still percent-encoded) request path to a file under `root`, or `None`.
/// Blocking: runs on the blocking pool together with the open and stat.
fn resolve(root: &Path, raw: &str) -> Option<PathBuf> {
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
    canonical.starts_with(root).then_some(canonical)
}

/// Resolves, opens and stats a regular file in one trip to the blocking pool.
async fn open(root: &Path, raw: &str) -> Option<(PathBuf, std::fs::File, std::fs::Metadata)> {
    let (root, raw) = (root.to_path_buf(), raw.to_string());
    tokio::task::spawn_blocking(move || {
        let path = resolve(&root, &raw)?;
        let file = std::fs::File::open(&path).ok()?;
        let md = file.metadata().ok()?;
        md.is_file().then_some((path, file, md))
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

async fn serve(
    storage: &Storage,
    method: &Method,
    raw_path: &str,
    headers: &HeaderMap,
) -> Response {
    let not_found = || StatusCode::NOT_FOUND.into_response();
    let Some((path, file, md)) = open(storage.root(), raw_path).await else {
        return not_found();
    };
    let size = md.len();
    let mtime = md.modified().unwrap_or(UNIX_EPOCH);
    let nanos = mtime
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // Strong validator: a rewrite always changes mtime (and usually size), and artifacts
    // are replaced by rename, never modified in place.
    let etag = format!("\"{size:x}-{nanos:x}\"");
    let last_modified = httpdate::fmt_http_date(mtime);

    let mut base = HeaderMap::new();
    insert(&mut base, header::ETAG, &etag);
    insert(&mut base, header::LAST_MODIFIED, &last_modified);
    insert(&mut base, header::ACCEPT_RANGES, "bytes");

    if not_modified(headers, &etag, mtime) {
        return with_headers(StatusCode::NOT_MODIFIED, base, Body::empty());
    }

    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(spec) if if_range_ok(headers, &etag, &last_modified) => parse_range(spec, size),
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
    insert(&mut base, header::CONTENT_LENGTH, &len.to_string());
    insert(&mut base, header::CONTENT_TYPE, content_type(&path));
    if method == Method::HEAD {
        return with_headers(status, base, Body::empty());
    }
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
fn not_modified(headers: &HeaderMap, etag: &str, mtime: SystemTime) -> bool {
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
fn if_range_ok(headers: &HeaderMap, etag: &str, last_modified: &str) -> bool {
    match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => v.trim() == etag || v.trim() == last_modified,
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
