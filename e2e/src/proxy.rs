//! A small HTTP forward proxy on loopback for the `proxySecretRef` tests: `CONNECT` tunnels
//! (what clients use for `https://`) and absolute-form requests (plain `http://`), optionally
//! requiring `Proxy-Authorization: Basic`. It only forwards to loopback addresses, and it
//! answers one request per client connection for absolute-form (it asks the origin to close),
//! so every request is checked for credentials.
//!
//! Every request is logged (`CONNECT 127.0.0.1:1234 -> 200`, `... -> 407`) so a test can prove
//! its traffic went through the proxy.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy, running on its own thread and tokio runtime until dropped.
#[derive(Debug)]
pub struct ForwardProxy {
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ForwardProxy {
    /// Starts on a free loopback port. With `credentials`, requests without the matching
    /// `Proxy-Authorization: Basic` get `407 Proxy Authentication Required`.
    pub fn start(credentials: Option<(&str, &str)>) -> anyhow::Result<Self> {
        use base64::Engine as _;
        let expected = credentials.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<u16>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_log = log.clone();
        let thread = std::thread::Builder::new()
            .name("forward-proxy".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    match listener.local_addr() {
                        Ok(a) => {
                            let _ = ready_tx.send(Ok(a.port()));
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    }
                    let expected = Arc::new(expected);
                    let accept = async {
                        loop {
                            let Ok((conn, _)) = listener.accept().await else {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                continue;
                            };
                            let (log, expected) = (thread_log.clone(), expected.clone());
                            tokio::spawn(async move {
                                if let Err(e) = handle(conn, expected.as_deref(), &log).await {
                                    push(&log, format!("error: {e:#}"));
                                }
                            });
                        }
                    };
                    tokio::select! {
                        () = accept => {}
                        _ = stop_rx => {}
                    }
                });
            })?;
        let port = match ready_rx.recv_timeout(Duration::from_secs(15)) {
            Ok(Ok(port)) => port,
            Ok(Err(e)) => return Err(e),
            Err(_) => bail!("forward proxy did not start"),
        };
        Ok(Self {
            port,
            log,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`, the proxy `address`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One line per request: `<METHOD> <target> -> <status>`.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if std::thread::panicking() {
            eprintln!(
                "----- forward proxy log -----\n{}\n----- end of forward proxy log -----",
                self.log().join("\n")
            );
        }
    }
}

fn push(log: &Mutex<Vec<String>>, line: String) {
    if let Ok(mut l) = log.lock() {
        l.push(line);
    }
}

/// Serves one client connection.
async fn handle(
    mut client: TcpStream,
    expected: Option<&str>,
    log: &Mutex<Vec<String>>,
) -> anyhow::Result<()> {
    // Read the request head; whatever follows it (a body's start) is kept for the origin.
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            bail!("request head too large");
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), client.read(&mut chunk)).await??;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let given = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.as_str());
    if let Some(want) = expected
        && given != Some(want)
    {
        push(log, format!("{method} {target} -> 407"));
        client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"ferroflux-e2e\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await?;
        return Ok(());
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        let mut upstream = match connect_loopback(&target).await {
            Ok(s) => s,
            Err(e) => {
                push(log, format!("{method} {target} -> 502 ({e:#})"));
                client
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                return Ok(());
            }
        };
        push(log, format!("{method} {target} -> 200"));
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        upstream.write_all(&buf[head_end..]).await?;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return Ok(());
    }
    // Absolute-form: `GET http://host:port/path HTTP/1.1`.
    let Some(rest) = target.strip_prefix("http://") else {
        push(log, format!("{method} {target} -> 400"));
        client
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut upstream = match connect_loopback(authority).await {
        Ok(s) => s,
        Err(e) => {
            push(log, format!("{method} {target} -> 502 ({e:#})"));
            client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await?;
            return Ok(());
        }
    };
    push(log, format!("{method} {target} -> forwarded"));
    let version = parts.next().unwrap_or("HTTP/1.1");
    let mut out = format!("{method} {path} {version}\r\n");
    for (k, v) in &headers {
        let k_lower = k.to_ascii_lowercase();
        if k_lower.starts_with("proxy-") || k_lower == "connection" || k_lower == "keep-alive" {
            continue;
        }
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    upstream.write_all(out.as_bytes()).await?;
    upstream.write_all(&buf[head_end..]).await?;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}

/// Connects to `host:port`, refusing anything but loopback: this proxy never reaches out.
async fn connect_loopback(authority: &str) -> anyhow::Result<TcpStream> {
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("'{authority}' has no port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("'{host}' is not a loopback address");
    }
    let port: u16 = port.parse()?;
    let addr = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    Ok(TcpStream::connect((addr, port)).await?)
}
