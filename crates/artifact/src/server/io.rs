//! Socket writes of the artifact server: whole buffers (optionally announcing that more
//! follows, so the kernel packs the head with the start of the body) and file ranges with
//! `sendfile(2)`, page cache to socket without a copy through our memory. Both wait for
//! writability on a non-blocking socket and give up on a client that accepts nothing for
//! `stall`.

use std::fs::File;
use std::io;
use std::time::Duration;

use tokio::io::Interest;
use tokio::net::TcpStream;

/// Waits until the socket can take more bytes, at most `stall`.
async fn writable(stream: &TcpStream, stall: Duration) -> io::Result<()> {
    match tokio::time::timeout(stall, stream.writable()).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "client stopped reading",
        )),
    }
}

/// Writes all of `buf`. With `more`, tells the kernel that more data follows at once
/// (`MSG_MORE`), so a head followed by `sendfile` leaves in full segments.
pub(super) async fn send_all(
    stream: &TcpStream,
    mut buf: &[u8],
    more: bool,
    stall: Duration,
) -> io::Result<()> {
    while !buf.is_empty() {
        match stream.try_io(Interest::WRITABLE, || send(stream, buf, more)) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => writable(stream, stall).await?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn send(stream: &TcpStream, buf: &[u8], more: bool) -> io::Result<usize> {
    use rustix::net::SendFlags;
    let flags = if more {
        SendFlags::MORE | SendFlags::NOSIGNAL
    } else {
        SendFlags::NOSIGNAL
    };
    Ok(rustix::net::send(stream, buf, flags)?)
}

#[cfg(not(target_os = "linux"))]
fn send(stream: &TcpStream, buf: &[u8], _more: bool) -> io::Result<usize> {
    stream.try_write(buf)
}

/// Sends `len` bytes of `file` from `offset`. The file's own position is not used, so one
/// descriptor can serve many connections at once. Fails if the file turns out shorter.
pub(super) async fn send_file(
    stream: &TcpStream,
    file: &File,
    mut offset: u64,
    len: u64,
    stall: Duration,
) -> io::Result<()> {
    let end = offset + len;
    while offset < end {
        // sendfile moves at most ~2 GiB per call; a non-blocking socket takes what fits in
        // its send buffer and reports how much that was.
        let count = usize::try_from((end - offset).min(1 << 30)).unwrap_or(1 << 30);
        match stream.try_io(Interest::WRITABLE, || {
            sendfile(stream, file, &mut offset, count)
        }) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => writable(stream, stall).await?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One `sendfile(2)`; advances `offset` by what was sent.
#[cfg(target_os = "linux")]
fn sendfile(stream: &TcpStream, file: &File, offset: &mut u64, count: usize) -> io::Result<usize> {
    Ok(rustix::fs::sendfile(stream, file, Some(offset), count)?)
}

/// Elsewhere: a positioned read into a buffer and a plain write.
#[cfg(not(target_os = "linux"))]
fn sendfile(stream: &TcpStream, file: &File, offset: &mut u64, count: usize) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; count.min(256 * 1024)];
    let n = file.read_at(&mut buf, *offset)?;
    if n == 0 {
        return Ok(0);
    }
    let sent = stream.try_write(&buf[..n])?;
    *offset += sent as u64;
    Ok(sent)
}
