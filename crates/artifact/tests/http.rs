//! The artifact server and the fetch client against real sockets on 127.0.0.1, plus
//! hostile tarballs built byte by byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use ferroflux_artifact::fetch::{FetchOptions, fetch};
use ferroflux_artifact::tarball::{ExtractLimits, extract_safe};
use ferroflux_artifact::{
    ArtifactServer, DigestAlgo, Error, ServerMetrics, Storage, StorageConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

struct Fixture {
    _root: tempfile::TempDir,
    storage: Storage,
    addr: SocketAddr,
    rel: String,
    url: String,
    digest: String,
    bytes: Vec<u8>,
    registry: prometheus::Registry,
}

async fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let storage = Storage::new(StorageConfig::new(
        root.path().join("store"),
        addr.to_string(),
    ))
    .unwrap();
    let src = tempfile::tempdir().unwrap();
    fs::create_dir_all(src.path().join("apps")).unwrap();
    for i in 0..50 {
        fs::write(
            src.path().join(format!("apps/cm-{i}.yaml")),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n"),
        )
        .unwrap();
    }
    let loc = storage.artifact_path("GitRepository", "flux-system", "podinfo", "abc.tar.gz");
    let art = storage
        .archive_dir(&loc, src.path(), |_, _| true)
        .await
        .unwrap();
    let registry = prometheus::Registry::new();
    let metrics = ServerMetrics::new(&registry).unwrap();
    let server = ArtifactServer::new(&storage, Some(metrics));
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(server.serve(listener, std::future::pending()));
    let bytes = fs::read(storage.local_path(&loc.rel_path).unwrap()).unwrap();
    Fixture {
        _root: root,
        storage,
        addr,
        rel: loc.rel_path,
        url: art.url,
        digest: art.digest,
        bytes,
        registry,
    }
}

/// Sends a request line verbatim, bypassing URL normalisation in reqwest, and returns the
/// status code and body.
async fn raw_get(addr: SocketAddr, target: &str) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    let code = text[9..12].parse().unwrap();
    let body = match buf.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => buf[i + 4..].to_vec(),
        None => Vec::new(),
    };
    (code, body)
}

#[tokio::test]
async fn get_head_conditional_and_ranges() {
    let f = fixture().await;
    let c = reqwest::Client::new();
    let size = f.bytes.len();

    let r = c.get(&f.url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-length"], size.to_string().as_str());
    assert_eq!(h["content-type"], "application/gzip");
    assert_eq!(h["accept-ranges"], "bytes");
    assert!(h.contains_key("last-modified"));
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    assert_eq!(r.bytes().await.unwrap(), f.bytes);

    let r = c.head(&f.url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], size.to_string().as_str());
    assert_eq!(r.headers()["etag"], etag.as_str());
    assert!(r.bytes().await.unwrap().is_empty());

    let r = c
        .get(&f.url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = c
        .get(&f.url)
        .header("if-none-match", format!("\"other\", W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = c
        .get(&f.url)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let lm = h["last-modified"].to_str().unwrap();
    let r = c
        .get(&f.url)
        .header("if-modified-since", lm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

    for (spec, start, end) in [
        ("bytes=0-9".to_string(), 0, 9),
        ("bytes=10-".to_string(), 10, size - 1),
        ("bytes=-7".to_string(), size - 7, size - 1),
        (format!("bytes=5-{}", size + 100), 5, size - 1),
    ] {
        let r = c.get(&f.url).header("range", &spec).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{spec}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {start}-{end}/{size}").as_str()
        );
        assert_eq!(r.bytes().await.unwrap(), &f.bytes[start..=end], "{spec}");
    }
    let r = c
        .get(&f.url)
        .header("range", format!("bytes={size}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    // If-Range with a stale validator: the range is ignored, full body.
    let r = c
        .get(&f.url)
        .header("range", "bytes=0-9")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // latest.tar.gz is a symlink inside the root and is served.
    let latest = f.url.replace("abc.tar.gz", "latest.tar.gz");
    let r = c.get(&latest).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), f.bytes);

    let r = c.get(f.url.replace("abc", "missing")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = c.post(&f.url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);

    let text = prometheus::TextEncoder::new()
        .encode_to_string(&f.registry.gather())
        .unwrap();
    assert!(
        text.contains("gotk_artifact_http_requests_total{code=\"200\",method=\"GET\"}"),
        "{text}"
    );
    assert!(text.contains("gotk_artifact_http_requests_total{code=\"206\",method=\"GET\"} 4"));
    assert!(text.contains("gotk_artifact_http_request_duration_seconds_bucket{code=\"404\""));
    assert!(text.contains("gotk_artifact_http_response_bytes_total"));
}

#[tokio::test]
async fn traversal_never_leaves_the_root() {
    let f = fixture().await;
    // A secret next to (not under) the storage root, and symlinks pointing at it.
    let outside = f.storage.root().parent().unwrap().join("secret.txt");
    fs::write(&outside, "TOP SECRET").unwrap();
    let obj = f.storage.root().join("gitrepository/flux-system/podinfo");
    std::os::unix::fs::symlink(&outside, obj.join("evil.tar.gz")).unwrap();
    std::os::unix::fs::symlink("../../../../secret.txt", obj.join("rel.tar.gz")).unwrap();
    std::os::unix::fs::symlink(f.storage.root().parent().unwrap(), obj.join("up")).unwrap();
    fs::write(obj.join(".tmp-inflight"), "partial").unwrap();

    let targets = [
        "/../secret.txt",
        "/gitrepository/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/gitrepository%2f..%2f..%2fsecret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "//secret.txt",
        &format!("/{}", outside.display()),
        &format!("//{}", outside.display()),
        "/gitrepository/flux-system/podinfo/evil.tar.gz",
        "/gitrepository/flux-system/podinfo/rel.tar.gz",
        "/gitrepository/flux-system/podinfo/up/secret.txt",
        "/gitrepository/flux-system/podinfo/.tmp-inflight",
        "/gitrepository/flux-system/podinfo/abc.tar.gz%00",
        "/gitrepository/flux-system/podinfo/",
        "/gitrepository",
        "/",
    ];
    for t in targets {
        let (code, body) = raw_get(f.addr, t).await;
        assert!(code == 404 || code == 400, "{t}: {code}");
        assert!(
            !String::from_utf8_lossy(&body).contains("TOP SECRET"),
            "{t} leaked"
        );
    }
    // Sanity: the raw client does reach real files.
    let (code, body) = raw_get(f.addr, &format!("/{}", f.rel)).await;
    assert_eq!(code, 200);
    assert_eq!(body, f.bytes);
    // Percent-encoded but harmless names still work.
    let (code, _) = raw_get(f.addr, "/gitrepository/flux%2Dsystem/podinfo/abc.tar.gz").await;
    assert_eq!(code, 200);
}

/// The in-memory cache of small files never serves what is no longer on disk: a file replaced
/// by rename, a removed file, and a link re-pointed out of the root all behave as if nothing
/// had been cached.
#[tokio::test]
async fn cached_files_follow_replacement_removal_and_relinking() {
    let f = fixture().await;
    let obj = f.storage.root().join("gitrepository/flux-system/podinfo");
    let outside = f.storage.root().parent().unwrap().join("secret.txt");
    fs::write(&outside, "TOP SECRET").unwrap();
    fs::write(obj.join("v1.tar.gz"), "first version").unwrap();
    std::os::unix::fs::symlink("v1.tar.gz", obj.join("current.tar.gz")).unwrap();
    let addr = f.addr;
    let get = move |name: &str| {
        let target = format!("/gitrepository/flux-system/podinfo/{name}");
        async move { raw_get(addr, &target).await }
    };
    for _ in 0..3 {
        assert_eq!(
            get("current.tar.gz").await,
            (200, b"first version".to_vec())
        );
        assert_eq!(get("v1.tar.gz").await, (200, b"first version".to_vec()));
    }
    // A new version written beside it and renamed over it (as storage writes artifacts).
    fs::write(obj.join(".tmp-v1"), "second, longer version").unwrap();
    fs::rename(obj.join(".tmp-v1"), obj.join("v1.tar.gz")).unwrap();
    assert_eq!(
        get("v1.tar.gz").await,
        (200, b"second, longer version".to_vec())
    );
    assert_eq!(
        get("current.tar.gz").await,
        (200, b"second, longer version".to_vec())
    );
    // The link re-pointed at a file outside the root: refused, although it was cached.
    fs::remove_file(obj.join("current.tar.gz")).unwrap();
    std::os::unix::fs::symlink(&outside, obj.join("current.tar.gz")).unwrap();
    let (code, body) = get("current.tar.gz").await;
    assert_eq!(code, 404, "{}", String::from_utf8_lossy(&body));
    // Removed (garbage collected): 404.
    fs::remove_file(obj.join("v1.tar.gz")).unwrap();
    assert_eq!(get("v1.tar.gz").await.0, 404);
    // Ranges and conditional requests are answered from the cached copy too.
    let c = reqwest::Client::new();
    let first = c.get(&f.url).send().await.unwrap();
    let etag = first.headers()["etag"].clone();
    assert_eq!(first.bytes().await.unwrap(), f.bytes);
    let r = c
        .get(&f.url)
        .header("range", "bytes=2-5")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), f.bytes[2..=5]);
    let r = c
        .get(&f.url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}

fn fast_opts() -> FetchOptions {
    FetchOptions {
        retries: 3,
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        timeout: Duration::from_secs(10),
        ..FetchOptions::default()
    }
}

#[tokio::test]
async fn fetch_verifies_and_extracts() {
    let f = fixture().await;
    let c = reqwest::Client::new();
    let dest = tempfile::tempdir().unwrap();
    let stats = fetch(&c, &f.url, &f.digest, dest.path(), &fast_opts())
        .await
        .unwrap();
    assert_eq!(stats.files, 50);
    assert!(
        fs::read_to_string(dest.path().join("apps/cm-7.yaml"))
            .unwrap()
            .contains("cm-7")
    );

    // Host override (SOURCE_CONTROLLER_LOCALHOST).
    let opts = FetchOptions {
        host_override: Some(f.addr.to_string()),
        ..fast_opts()
    };
    let moved = f
        .url
        .replace(&f.addr.to_string(), "source-controller.invalid:80");
    let dest2 = tempfile::tempdir().unwrap();
    fetch(&c, &moved, &f.digest, dest2.path(), &opts)
        .await
        .unwrap();

    // Digest mismatch: error, nothing extracted.
    let dest3 = tempfile::tempdir().unwrap();
    let wrong = format!("sha256:{}", "0".repeat(64));
    let err = fetch(&c, &f.url, &wrong, dest3.path(), &fast_opts())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert_eq!(fs::read_dir(dest3.path()).unwrap().count(), 0);

    // Other algorithms are verified too.
    let blake =
        ferroflux_artifact::digest_file(DigestAlgo::Blake3, &f.storage.local_path(&f.rel).unwrap())
            .unwrap();
    let sha512 =
        ferroflux_artifact::digest_file(DigestAlgo::Sha512, &f.storage.local_path(&f.rel).unwrap())
            .unwrap();
    for d in [blake, sha512] {
        let dest = tempfile::tempdir().unwrap();
        fetch(&c, &f.url, &d.to_string(), dest.path(), &fast_opts())
            .await
            .unwrap();
    }

    // Size cap (Content-Length known up front).
    let opts = FetchOptions {
        max_size: 100,
        ..fast_opts()
    };
    let dest4 = tempfile::tempdir().unwrap();
    let err = fetch(&c, &f.url, &f.digest, dest4.path(), &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");

    // Not found: permanent, reported as such.
    let err = fetch(
        &c,
        &f.url.replace("abc", "nope"),
        &f.digest,
        dest4.path(),
        &fast_opts(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 404, .. }),
        "{err}"
    );
    assert_eq!(fs::read_dir(dest4.path()).unwrap().count(), 0);
}

/// A server that fails the first `fail` requests with `status`, then serves `body`
/// (streamed without Content-Length when `chunked`).
async fn flaky(
    status: u16,
    fail: usize,
    body: Vec<u8>,
    chunked: bool,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let body = Arc::new(body);
    let router = Router::new().fallback(move || {
        let h = h.clone();
        let body = body.clone();
        async move {
            let n = h.fetch_add(1, Ordering::SeqCst);
            if n < fail {
                return axum::response::Response::builder()
                    .status(status)
                    .body(axum::body::Body::from("nope"))
                    .unwrap();
            }
            let b = if chunked {
                let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                    body.chunks(1000).map(|c| Ok(c.to_vec())).collect();
                axum::body::Body::from_stream(futures::stream::iter(chunks))
            } else {
                axum::body::Body::from(body.as_ref().clone())
            };
            axum::response::Response::new(b)
        }
    });
    (serve(router).await, hits)
}

fn targz(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    let raw = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    gz.finish().unwrap()
}

fn file(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, data).unwrap();
}

fn sha256(bytes: &[u8]) -> String {
    ferroflux_artifact::digest::digest_reader(DigestAlgo::Sha256, bytes)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn fetch_retries_5xx_but_not_4xx() {
    let c = reqwest::Client::new();
    let body = targz(|b| file(b, "a.txt", b"hello"));
    let digest = sha256(&body);

    let (addr, hits) = flaky(503, 2, body.clone(), true).await;
    let dest = tempfile::tempdir().unwrap();
    fetch(
        &c,
        &format!("http://{addr}/x.tar.gz"),
        &digest,
        dest.path(),
        &fast_opts(),
    )
    .await
    .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(fs::read(dest.path().join("a.txt")).unwrap(), b"hello");

    let (addr, hits) = flaky(403, 1, body.clone(), false).await;
    let err = fetch(
        &c,
        &format!("http://{addr}/x.tar.gz"),
        &digest,
        dest.path(),
        &fast_opts(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 403, .. }),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let (addr, hits) = flaky(500, 100, body.clone(), false).await;
    let err = fetch(
        &c,
        &format!("http://{addr}/x.tar.gz"),
        &digest,
        dest.path(),
        &fast_opts(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 4, .. }),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    // Connection refused is retried too, then reported.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let err = fetch(
        &c,
        &format!("http://127.0.0.1:{port}/x"),
        &digest,
        dest.path(),
        &fast_opts(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::RetriesExhausted { .. }), "{err}");

    // Size cap enforced while streaming (no Content-Length).
    let big = targz(|b| file(b, "big.bin", &vec![7u8; 300_000]));
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let big_noise = [big.clone(), noise].concat();
    let (addr, _) = flaky(500, 0, big_noise.clone(), true).await;
    let opts = FetchOptions {
        max_size: 50_000,
        ..fast_opts()
    };
    let err = fetch(
        &c,
        &format!("http://{addr}/x"),
        &sha256(&big_noise),
        dest.path(),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}

/// Layout: base/dest (extraction target) and base/sentinel (must stay empty).
struct Sandbox {
    base: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let base = tempfile::tempdir().unwrap();
        fs::create_dir(base.path().join("dest")).unwrap();
        fs::create_dir(base.path().join("sentinel")).unwrap();
        Sandbox { base }
    }
    fn dest(&self) -> PathBuf {
        self.base.path().join("dest")
    }
    fn assert_clean(&self) {
        let mut top: Vec<_> = fs::read_dir(self.base.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        top.sort();
        assert_eq!(top, ["dest", "sentinel"]);
        assert_eq!(
            fs::read_dir(self.base.path().join("sentinel"))
                .unwrap()
                .count(),
            0,
            "something was written into the sentinel directory"
        );
    }
}

/// Appends an entry with a raw name and declared size, bypassing the tar crate's own
/// path checks (it refuses to write absolute names).
fn raw_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &[u8],
    kind: tar::EntryType,
    link: Option<&str>,
    declared: u64,
    data: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(declared);
    if let Some(l) = link {
        h.set_link_name(l).unwrap();
    }
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn expect_unsafe(tarball: &[u8], sandbox: &Sandbox, limits: &ExtractLimits, want: &str) {
    let err = extract_safe(tarball, &sandbox.dest(), limits).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(want), "expected {want:?} in {msg:?}");
    sandbox.assert_clean();
}

#[test]
fn hostile_tarballs_are_rejected() {
    let limits = ExtractLimits::default();
    use tar::EntryType::*;

    let s = Sandbox::new();
    let t = targz(|b| raw_entry(b, b"../sentinel/pwned", Regular, None, 1, b"x"));
    expect_unsafe(&t, &s, &limits, "'..'");

    let s = Sandbox::new();
    let t = targz(|b| raw_entry(b, b"ok/../../sentinel/pwned", Regular, None, 1, b"x"));
    expect_unsafe(&t, &s, &limits, "'..'");

    let s = Sandbox::new();
    let abs = s.base.path().join("sentinel/pwned");
    let t = targz(|b| raw_entry(b, abs.to_str().unwrap().as_bytes(), Regular, None, 1, b"x"));
    expect_unsafe(&t, &s, &limits, "absolute path");

    // Symlink to outside, then a file written through it.
    let s = Sandbox::new();
    let t = targz(|b| {
        raw_entry(b, b"link", Symlink, Some("../sentinel"), 0, b"");
        raw_entry(b, b"link/pwned", Regular, None, 1, b"x");
    });
    expect_unsafe(&t, &s, &limits, "symlinks are not allowed");

    let s = Sandbox::new();
    let t = targz(|b| raw_entry(b, b"hard", Link, Some("/etc/passwd"), 0, b""));
    expect_unsafe(&t, &s, &limits, "hardlinks are not allowed");

    let s = Sandbox::new();
    let t = targz(|b| raw_entry(b, b"dev", Char, None, 0, b""));
    expect_unsafe(&t, &s, &limits, "device nodes");

    let s = Sandbox::new();
    let t = targz(|b| raw_entry(b, b"fifo", Fifo, None, 0, b""));
    expect_unsafe(&t, &s, &limits, "FIFOs");

    // A pre-existing symlink in dest is never followed, as a directory or as a file.
    let s = Sandbox::new();
    std::os::unix::fs::symlink(s.base.path().join("sentinel"), s.dest().join("planted")).unwrap();
    let t = targz(|b| file(b, "planted/pwned", b"x"));
    expect_unsafe(&t, &s, &limits, "passes through symlink");
    let s = Sandbox::new();
    std::os::unix::fs::symlink(s.base.path().join("sentinel/f"), s.dest().join("f")).unwrap();
    let t = targz(|b| file(b, "f", b"replaced"));
    extract_safe(&t[..], &s.dest(), &limits).unwrap();
    assert!(
        !fs::symlink_metadata(s.dest().join("f"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(fs::read(s.dest().join("f")).unwrap(), b"replaced");
    s.assert_clean();

    // Huge declared size: rejected before reading any data.
    let s = Sandbox::new();
    let t = targz(|b| raw_entry(b, b"huge", Regular, None, 1 << 40, b""));
    expect_unsafe(&t, &s, &limits, "declares 1099511627776 bytes");

    // Total bytes over the limit across files.
    let s = Sandbox::new();
    let t = targz(|b| {
        for i in 0..4 {
            file(b, &format!("f{i}"), &[1u8; 400]);
        }
    });
    let small = ExtractLimits {
        max_files: 100,
        max_extracted: 1000,
    };
    expect_unsafe(&t, &s, &small, "byte total limit");

    // Too many files.
    let s = Sandbox::new();
    let t = targz(|b| {
        for i in 0..20 {
            file(b, &format!("d/f{i}"), b"");
        }
    });
    let few = ExtractLimits {
        max_files: 10,
        max_extracted: 1 << 20,
    };
    expect_unsafe(&t, &s, &few, "more than 10 entries");

    // Truncated archive is a clear error, not a silent partial success.
    let s = Sandbox::new();
    let mut tar_bytes = tar::Builder::new(Vec::new());
    file(&mut tar_bytes, "a", &[9u8; 5000]);
    let mut raw = tar_bytes.into_inner().unwrap();
    raw.truncate(2048);
    let err = extract_safe(&raw[..], &s.dest(), &limits).unwrap_err();
    assert!(matches!(err, Error::CorruptArchive(_)), "{err}");
    s.assert_clean();

    // Plain (uncompressed) tar and "./"-prefixed names are accepted.
    let s = Sandbox::new();
    let mut b = tar::Builder::new(Vec::new());
    file(&mut b, "./x/y.yaml", b"k: v\n");
    let stats = extract_safe(&b.into_inner().unwrap()[..], &s.dest(), &limits).unwrap();
    assert_eq!(stats.files, 1);
    assert_eq!(fs::read(s.dest().join("x/y.yaml")).unwrap(), b"k: v\n");
    s.assert_clean();
}

#[tokio::test]
async fn fetch_rejects_hostile_archive_with_valid_digest() {
    let c = reqwest::Client::new();
    let s = Sandbox::new();
    let body = targz(|b| {
        file(b, "fine.yaml", b"ok");
        raw_entry(
            b,
            b"../sentinel/pwned",
            tar::EntryType::Regular,
            None,
            1,
            b"x",
        );
    });
    let digest = sha256(&body);
    let (addr, _) = flaky(500, 0, body, false).await;
    let err = fetch(
        &c,
        &format!("http://{addr}/a.tar.gz"),
        &digest,
        &s.dest(),
        &fast_opts(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::UnsafeEntry { .. }), "{err}");
    s.assert_clean();
}
