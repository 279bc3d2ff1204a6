//! The artifact port's HTTP/1.1: GET and HEAD of static files, nothing else.
//!
//! Small on purpose. Requests are parsed with `httparse` from a fixed per-connection buffer
//! (a head that does not fit gets 431); connections are kept alive (HTTP/1.1 by default,
//! HTTP/1.0 when asked) and pipelined requests are answered in order, their responses
//! gathered into one write where possible. A response head goes out with one `send`, the
//! body of a small cached file in the same write, any other body with `sendfile(2)`.
//! Clients get [`ServerOptions::request_timeout`] to send a complete request head (idle
//! time included, trickled bytes do not extend it) and [`ServerOptions::stall_timeout`] per
//! write to make room in their receive window; request bodies are not read: a request that
//! announces one is answered and the connection closed.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::io::{send_all, send_file};
use super::{
    CACHE_MAX_BYTES, CACHE_MAX_ENTRIES, CACHE_MAX_FILE, Conditions, FileCache, INLINE_MAX,
    RangeSpec, ServerMetrics, if_range_ok, lookup, not_modified, parse_range,
};
use crate::storage::Storage;

/// Limits of the artifact server's connections.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Time a client has, from connecting or from the end of the previous response, to send
    /// a complete request head. Idle keep-alive connections close after it too.
    pub request_timeout: Duration,
    /// Time a client may take to accept any more of a response before it is dropped.
    pub stall_timeout: Duration,
    /// Largest request head (request line and headers) accepted; larger ones get 431.
    pub max_head_bytes: usize,
    /// On shutdown, time given to responses in flight before their connections are cut.
    pub shutdown_grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            request_timeout: Duration::from_secs(60),
            stall_timeout: Duration::from_secs(60),
            max_head_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(4),
        }
    }
}

/// Headers parsed per request; more get 431.
const MAX_HEADERS: usize = 64;
/// Gathered responses of pipelined requests are written once they reach this size.
const OUT_FLUSH: usize = 64 * 1024;

/// The artifact server: serves the storage tree over HTTP/1.1 (URLs are
/// `/<kind>/<ns>/<name>/<file>`).
#[derive(Clone)]
pub struct ArtifactServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ArtifactServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactServer")
            .field("root", &self.inner.root)
            .field("options", &self.inner.opts)
            .finish_non_exhaustive()
    }
}

struct Inner {
    root: PathBuf,
    cache: Arc<FileCache>,
    metrics: Option<ServerMetrics>,
    opts: ServerOptions,
}

impl ArtifactServer {
    /// A server over `storage`'s root, recording [`ServerMetrics`] when given.
    pub fn new(storage: &Storage, metrics: Option<ServerMetrics>) -> Self {
        Self::with_options(storage, metrics, ServerOptions::default())
    }

    /// Like [`ArtifactServer::new`] with other limits.
    pub fn with_options(
        storage: &Storage,
        metrics: Option<ServerMetrics>,
        opts: ServerOptions,
    ) -> Self {
        ArtifactServer {
            inner: Arc::new(Inner {
                root: storage.root().to_path_buf(),
                cache: Arc::new(FileCache::new(
                    CACHE_MAX_BYTES,
                    CACHE_MAX_FILE,
                    CACHE_MAX_ENTRIES,
                    INLINE_MAX,
                )),
                metrics,
                opts,
            }),
        }
    }

    /// Accepts connections on `listener` until `shutdown` completes; then stops accepting,
    /// closes idle connections, lets responses in flight finish for
    /// [`ServerOptions::shutdown_grace`] and cuts the rest.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut conns = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        // Without it a keep-alive client waits for a delayed ACK per response.
                        let _ = stream.set_nodelay(true);
                        let inner = self.inner.clone();
                        let stop = stop_rx.clone();
                        conns.spawn(connection(inner, stream, stop));
                    }
                    Err(e) => {
                        // Out of descriptors and the like: pause instead of spinning.
                        tracing::warn!(error = %e, "artifact server: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let drain = async { while conns.join_next().await.is_some() {} };
        if tokio::time::timeout(self.inner.opts.shutdown_grace, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                open = conns.len(),
                "artifact server: cutting connections still busy at shutdown"
            );
        }
    }
}

/// What to do with the connection after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
}

async fn connection(inner: Arc<Inner>, mut stream: TcpStream, mut stop: watch::Receiver<bool>) {
    let opts = &inner.opts;
    let mut buf = vec![0u8; opts.max_head_bytes].into_boxed_slice();
    let (mut start, mut end) = (0usize, 0usize);
    let mut out = Vec::with_capacity(1024);
    let mut deadline = tokio::time::Instant::now() + opts.request_timeout;
    'conn: loop {
        // Answer every complete request already received.
        while start < end {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            let next = match req.parse(&buf[start..end]) {
                Ok(httparse::Status::Complete(n)) => {
                    start += n;
                    deadline = tokio::time::Instant::now() + opts.request_timeout;
                    respond(&inner, &stream, &req, &mut out).await
                }
                Ok(httparse::Status::Partial) => break,
                Err(httparse::Error::TooManyHeaders) => {
                    error_response(&mut out, 431, "Request Header Fields Too Large");
                    Ok(Next::Close)
                }
                Err(_) => {
                    error_response(&mut out, 400, "Bad Request");
                    Ok(Next::Close)
                }
            };
            match next {
                Ok(Next::KeepAlive) if out.len() < OUT_FLUSH => {}
                Ok(Next::KeepAlive) => {
                    if send_all(&stream, &out, false, opts.stall_timeout)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    out.clear();
                }
                Ok(Next::Close) => break 'conn,
                Err(_) => return,
            }
        }
        if !out.is_empty() {
            if send_all(&stream, &out, false, opts.stall_timeout)
                .await
                .is_err()
            {
                return;
            }
            out.clear();
        }
        if *stop.borrow() {
            return;
        }
        // Keep the unanswered rest at the front; a head that fills the buffer is too large.
        buf.copy_within(start..end, 0);
        (start, end) = (0, end - start);
        if end == buf.len() {
            error_response(&mut out, 431, "Request Header Fields Too Large");
            break;
        }
        let idle = end == 0;
        let read = tokio::select! {
            r = tokio::time::timeout_at(deadline, stream.read(&mut buf[end..])) => r,
            // Shutting down: an idle connection has nothing to lose.
            _ = stop.changed(), if idle => return,
        };
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => end += n,
            // Idle too long, or a head trickling in too slowly: close without a word.
            Err(_) => {
                if idle {
                    return;
                }
                error_response(&mut out, 408, "Request Timeout");
                break;
            }
        }
    }
    if !out.is_empty()
        && send_all(&stream, &out, false, opts.stall_timeout)
            .await
            .is_err()
    {
        return;
    }
    linger(&mut stream).await;
}

/// Closes our side and reads what the client still sends for a moment before the socket is
/// dropped: closing with unread input makes the kernel reset the connection, which can
/// destroy the response the client has not read yet.
async fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let mut total = 0usize;
        while total < 256 * 1024 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

/// A response with no body that closes the connection.
fn error_response(out: &mut Vec<u8>, code: u16, reason: &str) {
    status_line(out, code, reason);
    out.extend_from_slice(b"content-length: 0\r\nconnection: close\r\n\r\n");
}

fn status_line(out: &mut Vec<u8>, code: u16, reason: &str) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(code.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    date_line(out);
}

/// `date:` (RFC 9110 §6.6.1), formatted once a second per thread.
fn date_line(out: &mut Vec<u8>) {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != secs {
            *d = (secs, format!("date: {}\r\n", httpdate::fmt_http_date(now)));
        }
        out.extend_from_slice(d.1.as_bytes());
    });
}

/// Metric label of a method: the standard ones by name, anything else as `OTHER`, so a
/// client cannot grow the label set.
fn method_label(m: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|k| *k == m).unwrap_or("OTHER")
}

/// The path of a request target: origin-form (`/a/b?q`) or absolute-form
/// (`http://host/a/b`), query dropped; `None` for anything else.
fn target_path(target: &str) -> Option<&str> {
    let path = if target.starts_with('/') {
        target
    } else {
        let rest = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))?;
        &rest[rest.find('/')?..]
    };
    Some(path.split_once('?').map_or(path, |(p, _)| p))
}

/// Answers one request: its head (and a small body) into `out`, a larger body straight to
/// the socket after `out`.
async fn respond(
    inner: &Inner,
    stream: &TcpStream,
    req: &httparse::Request<'_, '_>,
    out: &mut Vec<u8>,
) -> io::Result<Next> {
    let started = Instant::now();
    let method = req.method.unwrap_or_default();
    let mut cond = Conditions::default();
    let (mut close, mut keep_alive, mut has_body) = (false, false, false);
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            has_body |= h.value.trim_ascii() != b"0";
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        } else if name.eq_ignore_ascii_case("if-none-match") {
            cond.if_none_match = Some(h.value);
        } else if name.eq_ignore_ascii_case("if-modified-since") {
            cond.if_modified_since = Some(h.value);
        } else if name.eq_ignore_ascii_case("if-range") {
            cond.if_range = Some(h.value);
        } else if name.eq_ignore_ascii_case("range") {
            cond.range = Some(h.value);
        }
    }
    let http10 = req.version == Some(0);
    // A body we do not read would be taken for the next request: close after answering.
    let next = if has_body || close || (http10 && !keep_alive) {
        Next::Close
    } else {
        Next::KeepAlive
    };
    let connection: &[u8] = match (next, http10) {
        (Next::Close, _) => b"connection: close\r\n",
        (Next::KeepAlive, true) => b"connection: keep-alive\r\n",
        (Next::KeepAlive, false) => b"",
    };
    let label = method_label(method);
    let observe = |code: u16, body_len: u64| {
        if let Some(m) = &inner.metrics {
            m.observe(label, code, body_len, started);
        }
    };
    let simple = |out: &mut Vec<u8>, code: u16, reason: &str, extra: &[u8]| {
        status_line(out, code, reason);
        out.extend_from_slice(extra);
        out.extend_from_slice(b"content-length: 0\r\n");
        out.extend_from_slice(connection);
        out.extend_from_slice(b"\r\n");
        observe(code, 0);
    };

    let head = method == "HEAD";
    if method != "GET" && !head {
        simple(out, 405, "Method Not Allowed", b"allow: GET, HEAD\r\n");
        return Ok(next);
    }
    let Some(path) = req.path.and_then(target_path) else {
        simple(out, 400, "Bad Request", b"");
        return Ok(Next::Close);
    };
    let Some(file) = lookup(&inner.root, &inner.cache, path).await else {
        simple(out, 404, "Not Found", b"");
        return Ok(next);
    };
    let meta = &file.meta;
    let size = meta.id.len;

    if not_modified(&cond, &meta.etag, meta.mtime) {
        status_line(out, 304, "Not Modified");
        out.extend_from_slice(meta.validators.as_bytes());
        out.extend_from_slice(connection);
        out.extend_from_slice(b"\r\n");
        observe(304, 0);
        return Ok(next);
    }
    let range = match cond.range.and_then(|v| std::str::from_utf8(v).ok()) {
        Some(spec) if if_range_ok(&cond, &meta.etag, &meta.last_modified) => {
            parse_range(spec, size)
        }
        _ => RangeSpec::Full,
    };
    let (from, len) = match range {
        RangeSpec::Full => {
            status_line(out, 200, "OK");
            out.extend_from_slice(meta.content_length.as_bytes());
            (0, size)
        }
        RangeSpec::Partial(first, last) => {
            status_line(out, 206, "Partial Content");
            let len = last - first + 1;
            out.extend_from_slice(
                format!("content-range: bytes {first}-{last}/{size}\r\ncontent-length: {len}\r\n")
                    .as_bytes(),
            );
            (first, len)
        }
        RangeSpec::Unsatisfiable => {
            let extra = format!("{}content-range: bytes */{size}\r\n", meta.validators);
            simple(out, 416, "Range Not Satisfiable", extra.as_bytes());
            return Ok(next);
        }
    };
    out.extend_from_slice(meta.validators.as_bytes());
    out.extend_from_slice(meta.content_type.as_bytes());
    out.extend_from_slice(connection);
    out.extend_from_slice(b"\r\n");
    let code = if range == RangeSpec::Full { 200 } else { 206 };
    observe(code, if head { 0 } else { len });
    if head || len == 0 {
        return Ok(next);
    }
    let stall = inner.opts.stall_timeout;
    let body = file.body.as_deref().and_then(|b| {
        let from = usize::try_from(from).ok()?;
        b.get(from..from.checked_add(usize::try_from(len).ok()?)?)
    });
    match body {
        Some(body) => out.extend_from_slice(body),
        None => {
            send_all(stream, out, true, stall).await?;
            out.clear();
            send_file(stream, &file.file, from, len, stall).await?;
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StorageConfig;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn targets() {
        assert_eq!(target_path("/a/b?x=1"), Some("/a/b"));
        assert_eq!(target_path("http://h:9090/a/b"), Some("/a/b"));
        assert_eq!(target_path("http://h:9090"), None);
        assert_eq!(target_path("*"), None);
        assert_eq!(target_path("a/b"), None);
    }

    #[test]
    fn method_labels_are_bounded() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PROPFIND"), "OTHER");
    }

    const SMALL: &str = "/gitrepository/ns/app/small.tar.gz";
    const LARGE: &str = "/gitrepository/ns/app/large.tar.gz";

    struct Srv {
        _dir: tempfile::TempDir,
        addr: std::net::SocketAddr,
        small: Vec<u8>,
        large: Vec<u8>,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<()>,
    }

    /// A server over a root with a small (inline) and a large (sendfile) file.
    async fn server(opts: ServerOptions) -> Srv {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let app = root.join("gitrepository/ns/app");
        std::fs::create_dir_all(&app).unwrap();
        let small: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let large: Vec<u8> = (0..(INLINE_MAX as u32 * 3 + 17))
            .map(|i| (i % 253) as u8)
            .collect();
        std::fs::write(app.join("small.tar.gz"), &small).unwrap();
        std::fs::write(app.join("large.tar.gz"), &large).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "TOP SECRET").unwrap();
        let storage = Storage::new(StorageConfig::new(root, "x".to_string())).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let srv = ArtifactServer::with_options(&storage, None, opts);
        let task = tokio::spawn(srv.serve(listener, async move {
            let _ = rx.await;
        }));
        Srv {
            _dir: dir,
            addr,
            small,
            large,
            stop: Some(tx),
            task,
        }
    }

    /// One parsed response: status, lower-cased headers, body.
    #[derive(Debug)]
    struct Resp {
        code: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Resp {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// Reads responses off a connection; `head` tells which have no body despite a length.
    struct Reader {
        s: TcpStream,
        buf: Vec<u8>,
    }

    impl Reader {
        async fn next(&mut self, head: bool) -> Option<Resp> {
            loop {
                let mut h = [httparse::EMPTY_HEADER; 32];
                let mut r = httparse::Response::new(&mut h);
                if let httparse::Status::Complete(n) = r.parse(&self.buf).unwrap() {
                    let code = r.code.unwrap();
                    let headers: Vec<(String, String)> = r
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|(n, _)| n == "content-length")
                        .map_or(0, |(_, v)| v.parse().unwrap());
                    let len = if head || code == 304 { 0 } else { len };
                    while self.buf.len() < n + len {
                        self.fill().await?;
                    }
                    let body = self.buf[n..n + len].to_vec();
                    self.buf.drain(..n + len);
                    return Some(Resp {
                        code,
                        headers,
                        body,
                    });
                }
                self.fill().await?;
            }
        }

        async fn fill(&mut self) -> Option<()> {
            let mut chunk = [0u8; 65536];
            let n = tokio::time::timeout(Duration::from_secs(5), self.s.read(&mut chunk))
                .await
                .expect("response within 5 s")
                .ok()?;
            (n > 0).then(|| self.buf.extend_from_slice(&chunk[..n]))
        }

        /// The server closed the connection (after any responses read).
        async fn closed(&mut self) -> bool {
            self.buf.is_empty() && self.fill().await.is_none()
        }
    }

    async fn connect(addr: std::net::SocketAddr) -> Reader {
        Reader {
            s: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn exchange(addr: std::net::SocketAddr, req: &str, head: bool) -> (Resp, Reader) {
        let mut c = connect(addr).await;
        c.s.write_all(req.as_bytes()).await.unwrap();
        let r = c.next(head).await.expect("a response");
        (r, c)
    }

    #[tokio::test]
    async fn keep_alive_and_pipelined_requests_are_answered_in_order() {
        let srv = server(ServerOptions::default()).await;
        let mut c = connect(srv.addr).await;
        // Five requests in one write, mixing cached, sendfile, HEAD and missing files.
        let reqs = format!(
            "GET {SMALL} HTTP/1.1\r\nHost: x\r\n\r\n\
             GET {LARGE} HTTP/1.1\r\nHost: x\r\n\r\n\
             HEAD {LARGE} HTTP/1.1\r\nHost: x\r\n\r\n\
             GET /gitrepository/ns/app/missing HTTP/1.1\r\nHost: x\r\n\r\n\
             GET {LARGE} HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n"
        );
        c.s.write_all(reqs.as_bytes()).await.unwrap();
        let r = c.next(false).await.unwrap();
        assert_eq!((r.code, &r.body), (200, &srv.small));
        assert_eq!(r.header("content-type"), Some("application/gzip"));
        assert!(r.header("date").is_some() && r.header("connection").is_none());
        let r = c.next(false).await.unwrap();
        assert_eq!(r.code, 200);
        assert!(r.body == srv.large, "large body differs");
        let r = c.next(true).await.unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(
            r.header("content-length"),
            Some(srv.large.len().to_string().as_str())
        );
        let r = c.next(false).await.unwrap();
        assert_eq!(r.code, 404);
        let r = c.next(false).await.unwrap();
        assert_eq!((r.code, r.body.as_slice()), (206, &srv.large[10..20]));
        // Still open: one more request on the same connection, then an explicit close.
        c.s.write_all(format!("GET {SMALL} HTTP/1.1\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let r = c.next(false).await.unwrap();
        assert_eq!((r.code, r.header("connection")), (200, Some("close")));
        assert!(c.closed().await, "closed after Connection: close");
    }

    #[tokio::test]
    async fn ranges_conditionals_and_methods() {
        let srv = server(ServerOptions::default()).await;
        let size = srv.large.len();
        let get = |extra: String| format!("GET {LARGE} HTTP/1.1\r\n{extra}\r\n");
        let (r, _) = exchange(srv.addr, &get(String::new()), false).await;
        let etag = r.header("etag").unwrap().to_string();
        let (r, _) = exchange(srv.addr, &get("Range: bytes=-5\r\n".into()), false).await;
        assert_eq!(r.code, 206);
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {}-{}/{size}", size - 5, size - 1).as_str())
        );
        assert_eq!(r.body, &srv.large[size - 5..]);
        let (r, _) = exchange(srv.addr, &get(format!("Range: bytes={size}-\r\n")), false).await;
        assert_eq!(r.code, 416);
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes */{size}").as_str())
        );
        let (r, _) = exchange(srv.addr, &get(format!("If-None-Match: {etag}\r\n")), false).await;
        assert_eq!((r.code, r.header("etag")), (304, Some(etag.as_str())));
        assert!(r.body.is_empty());
        // A small (cached) file: ranges come from memory.
        let req = format!("GET {SMALL} HTTP/1.1\r\nRange: bytes=100-199\r\n\r\n");
        let (r, _) = exchange(srv.addr, &req, false).await;
        assert_eq!((r.code, r.body.as_slice()), (206, &srv.small[100..200]));
        let (r, _) = exchange(srv.addr, &format!("POST {SMALL} HTTP/1.1\r\n\r\n"), false).await;
        assert_eq!((r.code, r.header("allow")), (405, Some("GET, HEAD")));
        // HTTP/1.0 without keep-alive: answered, then closed.
        let (r, mut c) = exchange(srv.addr, &format!("GET {SMALL} HTTP/1.0\r\n\r\n"), false).await;
        assert_eq!(r.body, srv.small);
        assert!(c.closed().await);
        let req = format!("GET {SMALL} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let (r, mut c) = exchange(srv.addr, &req, false).await;
        assert_eq!(r.header("connection"), Some("keep-alive"));
        c.s.write_all(req.as_bytes()).await.unwrap();
        assert_eq!(c.next(false).await.unwrap().code, 200);
    }

    #[tokio::test]
    async fn traversal_is_refused() {
        let srv = server(ServerOptions::default()).await;
        for t in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/gitrepository/ns/app/..%2f..%2f..%2f..%2fsecret.txt",
            "/gitrepository/ns/app/../../../../secret.txt",
            "http://x/../secret.txt",
        ] {
            let (r, _) = exchange(srv.addr, &format!("GET {t} HTTP/1.1\r\n\r\n"), false).await;
            assert!(r.code == 404 || r.code == 400, "{t}: {}", r.code);
            assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"), "{t}");
        }
    }

    #[tokio::test]
    async fn malformed_and_oversized_requests_are_refused_and_closed() {
        let srv = server(ServerOptions::default()).await;
        let (r, mut c) = exchange(srv.addr, "GET /x HTTP/1.1\r\nBad Header\r\n\r\n", false).await;
        assert_eq!(r.code, 400);
        assert!(c.closed().await);
        let (r, mut c) = exchange(srv.addr, "NOT HTTP AT ALL\r\n\r\n", false).await;
        assert_eq!(r.code, 400);
        assert!(c.closed().await);
        let huge = format!("GET {SMALL} HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
        let (r, mut c) = exchange(srv.addr, &huge, false).await;
        assert_eq!(r.code, 431);
        assert!(c.closed().await);
        let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
        let req = format!("GET {SMALL} HTTP/1.1\r\n{many}\r\n");
        let (r, mut c) = exchange(srv.addr, &req, false).await;
        assert_eq!(r.code, 431);
        assert!(c.closed().await);
        // A request with a body: answered, then closed (the body is never read as a request).
        let req = format!("GET {SMALL} HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
        let (r, mut c) = exchange(srv.addr, &req, false).await;
        assert_eq!((r.code, r.header("connection")), (200, Some("close")));
        assert!(c.closed().await);
    }

    #[tokio::test]
    async fn slow_and_idle_clients_are_dropped() {
        let opts = ServerOptions {
            request_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        };
        let srv = server(opts).await;
        // Idle: closed silently after the timeout.
        let mut c = connect(srv.addr).await;
        let t = Instant::now();
        assert!(c.closed().await);
        assert!(
            t.elapsed() >= Duration::from_millis(250),
            "{:?}",
            t.elapsed()
        );
        // A head trickled in a byte at a time never completes in time: 408, closed, although
        // every byte arrived well within the timeout of the one before.
        let mut c = connect(srv.addr).await;
        let t = Instant::now();
        for b in b"GET /gitrepository/ns/app/small.tar.gz HTTP/1.1\r\nHost: x\r\n".iter() {
            if c.s.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let r = c.next(false).await.expect("a 408");
        assert_eq!(r.code, 408);
        assert!(c.closed().await);
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        // Keep-alive still works for a client that is quick enough.
        let (r, mut c) = exchange(srv.addr, &format!("GET {SMALL} HTTP/1.1\r\n\r\n"), false).await;
        assert_eq!(r.code, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.s.write_all(format!("GET {SMALL} HTTP/1.1\r\n\r\n").as_bytes())
            .await
            .unwrap();
        assert_eq!(c.next(false).await.unwrap().code, 200);
    }

    #[tokio::test]
    async fn shutdown_closes_idle_connections_and_stops_accepting() {
        let mut srv = server(ServerOptions::default()).await;
        let (r, mut idle) =
            exchange(srv.addr, &format!("GET {SMALL} HTTP/1.1\r\n\r\n"), false).await;
        assert_eq!(r.code, 200);
        let _ = srv.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(2), &mut srv.task)
            .await
            .expect("serve returns promptly")
            .unwrap();
        assert!(idle.closed().await, "idle keep-alive connection closed");
        assert!(
            TcpStream::connect(srv.addr).await.is_err(),
            "no longer accepting"
        );
    }
}
