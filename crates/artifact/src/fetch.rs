//! The consumer side: download an artifact, verify it, and untar it safely.
//!
//! Order matters for safety: the download goes to an anonymous temp file with a size cap
//! enforced while streaming, the digest from `status.artifact.digest` is checked over the
//! exact bytes received, and only then is anything extracted (with the hostile-input rules
//! of [`crate::tarball::extract_safe`]). A digest mismatch therefore never writes into
//! `dest_dir`.

use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::digest::{Digest, DigestAlgo};
use crate::tarball::{ExtractLimits, ExtractStats, extract_safe};
use crate::{Error, Result, blocking};

/// Knobs for [`fetch`].
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Retries after the first attempt, on connection errors, timeouts and 5xx/429
    /// (never on other 4xx); Flux's `--http-retry`, default 9.
    pub retries: u32,
    /// Maximum compressed download size in bytes.
    pub max_size: u64,
    /// Maximum number of entries extracted.
    pub max_files: usize,
    /// Maximum total bytes extracted.
    pub max_extracted: u64,
    /// Per-attempt timeout covering connect, headers and body.
    pub timeout: Duration,
    /// First backoff delay; doubles per retry.
    pub backoff_min: Duration,
    /// Cap on the backoff delay.
    pub backoff_max: Duration,
    /// Replaces the URL's `host[:port]`, like Flux's `SOURCE_CONTROLLER_LOCALHOST`, for
    /// running controllers outside the cluster against a port-forwarded source-controller.
    pub host_override: Option<String>,
}

impl Default for FetchOptions {
    /// Flux's retry policy (9 retries, 1s..30s backoff as in go-retryablehttp) and limits
    /// generous enough for monorepos (Flux itself sets none) but finite.
    fn default() -> Self {
        let limits = ExtractLimits::default();
        FetchOptions {
            retries: 9,
            max_size: 2 << 30,
            max_files: limits.max_files,
            max_extracted: limits.max_extracted,
            timeout: Duration::from_secs(300),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            host_override: None,
        }
    }
}

impl FetchOptions {
    fn limits(&self) -> ExtractLimits {
        ExtractLimits {
            max_files: self.max_files,
            max_extracted: self.max_extracted,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.backoff_min
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

/// Downloads `url`, checks it against `digest` (`sha256:`, `sha384:`, `sha512:` or
/// `blake3:`), and extracts it into `dest_dir` (created if missing).
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    digest: &str,
    dest_dir: &Path,
    opts: &FetchOptions,
) -> Result<ExtractStats> {
    let expected = Digest::parse(digest)?;
    let url = rewrite_host(url, opts.host_override.as_deref())?;
    let tmp = blocking(|| tempfile::tempfile().map_err(|e| Error::io("<tempfile>", e))).await?;
    let mut file = tokio::fs::File::from_std(tmp);

    let mut attempt = 0u32;
    let actual = loop {
        match download(client, &url, expected.algo, &mut file, opts).await {
            Ok(d) => break d,
            Err(e) if e.is_transient() && attempt < opts.retries => {
                let delay = opts.backoff(attempt);
                tracing::debug!(%url, attempt, ?delay, error = %e, "artifact download failed, retrying");
                attempt += 1;
                tokio::time::sleep(delay).await;
            }
            Err(e) if e.is_transient() && attempt > 0 => {
                return Err(Error::RetriesExhausted {
                    url,
                    attempts: attempt + 1,
                    last: Box::new(e),
                });
            }
            Err(e) => return Err(e),
        }
    };
    if actual != expected {
        return Err(Error::DigestMismatch {
            url,
            expected: expected.to_string(),
            actual: actual.to_string(),
        });
    }

    let mut file = file.into_std().await;
    let dest = dest_dir.to_path_buf();
    let limits = opts.limits();
    blocking(move || {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io("<tempfile>", e))?;
        extract_safe(BufReader::new(file), &dest, &limits)
    })
    .await
}

/// One attempt: truncate the temp file, stream the body into it under the size cap,
/// and return the digest of what was received.
async fn download(
    client: &reqwest::Client,
    url: &str,
    algo: DigestAlgo,
    file: &mut tokio::fs::File,
    opts: &FetchOptions,
) -> Result<Digest> {
    let io_err = |e| Error::io("<tempfile>", e);
    file.set_len(0).await.map_err(io_err)?;
    tokio::io::AsyncSeekExt::seek(file, SeekFrom::Start(0))
        .await
        .map_err(io_err)?;
    let http = |source| Error::Http {
        url: url.to_string(),
        source,
    };
    let mut resp = client
        .get(url)
        .timeout(opts.timeout)
        .send()
        .await
        .map_err(http)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::HttpStatus {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = || Error::TooLarge {
        url: url.to_string(),
        limit: opts.max_size,
    };
    if resp.content_length().is_some_and(|len| len > opts.max_size) {
        return Err(too_large());
    }
    let mut hasher = algo.hasher();
    let mut total = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(http)? {
        total += chunk.len() as u64;
        if total > opts.max_size {
            return Err(too_large());
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io_err)?;
    }
    file.flush().await.map_err(io_err)?;
    Ok(hasher.finish())
}

fn rewrite_host(url: &str, host: Option<&str>) -> Result<String> {
    let Some(host) = host.filter(|h| !h.is_empty()) else {
        return Ok(url.to_string());
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| Error::InvalidPath {
        path: url.to_string(),
        reason: "not a valid URL",
    })?;
    let mut out = format!("{}://{host}{}", parsed.scheme(), parsed.path());
    if let Some(q) = parsed.query() {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_override() {
        let u =
            "http://source-controller.flux-system.svc.cluster.local./gitrepository/a/b/c.tar.gz";
        assert_eq!(rewrite_host(u, None).unwrap(), u);
        assert_eq!(
            rewrite_host(u, Some("localhost:8080")).unwrap(),
            "http://localhost:8080/gitrepository/a/b/c.tar.gz"
        );
    }

    #[test]
    fn backoff_grows_and_caps() {
        let o = FetchOptions::default();
        assert_eq!(o.backoff(0), Duration::from_secs(1));
        assert_eq!(o.backoff(3), Duration::from_secs(8));
        assert_eq!(o.backoff(10), Duration::from_secs(30));
        assert_eq!(o.backoff(100), Duration::from_secs(30));
    }
}
