//! A raw MySQL client for the `mysql_packets` fuzz target and its corpus replay (tests/mysql/fuzz_corpus.rs
//! includes this file): it logs in over a real socket as a driver does, then sends whatever packets the input
//! describes and reads what the server answers until the server closes the connection.
//!
//! Input format: a sequence of packets, each `[length: u16 LE][sequence number: u8][payload: length bytes]`
//! (a last packet cut short is sent as far as it goes). A packet whose sequence byte is 0xFF ends the framing:
//! the rest of the input goes to the socket as it is, headers and all, so the framing itself is fuzzed too.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the server may take to answer and close after the client's last byte; longer is a hang.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// Client capabilities: the 4.1 protocol with plugin auth, a database in the handshake, transactions,
/// multi-results, DEPRECATE_EOF and LOCAL INFILE (so a fuzzed LOAD DATA LOCAL gets its file request).
const CAPABILITIES: u32 = 0x0000_0001 // LONG_PASSWORD
    | 0x0000_0008 // CONNECT_WITH_DB
    | 0x0000_0080 // LOCAL_FILES
    | 0x0000_0200 // PROTOCOL_41
    | 0x0000_2000 // TRANSACTIONS
    | 0x0000_8000 // SECURE_CONNECTION
    | 0x0002_0000 // MULTI_RESULTS
    | 0x0008_0000 // PLUGIN_AUTH
    | 0x0100_0000; // DEPRECATE_EOF

/// One packet read: its sequence number and payload.
pub type Packet = (u8, Vec<u8>);

/// Reads one packet; `None` at end of stream.
pub async fn read_packet(s: &mut TcpStream) -> std::io::Result<Option<Packet>> {
    let mut head = [0u8; 4];
    match s.read_exact(&mut head).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = usize::from(head[0]) | usize::from(head[1]) << 8 | usize::from(head[2]) << 16;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await?;
    Ok(Some((head[3], payload)))
}

/// Writes one packet with sequence number `seq`.
pub async fn write_packet(s: &mut TcpStream, seq: u8, payload: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(payload.len())
        .unwrap_or(u32::MAX)
        .to_le_bytes();
    s.write_all(&[len[0], len[1], len[2], seq]).await?;
    s.write_all(payload).await
}

/// An ERR packet's error number, if `payload` is one.
pub fn error_code(payload: &[u8]) -> Option<u16> {
    match payload {
        [0xFF, lo, hi, ..] => Some(u16::from_le_bytes([*lo, *hi])),
        _ => None,
    }
}

/// Connects and logs in as `user` (a user without a password) into database `db`. `Ok(None)` if the server
/// refused the login (the refusal is a valid answer, e.g. a connection cap the fuzzer set).
pub async fn login(port: u16, user: &str, db: &str) -> std::io::Result<Option<TcpStream>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    let Some((_, handshake)) = read_packet(&mut s).await? else {
        return Ok(None);
    };
    if error_code(&handshake).is_some() {
        return Ok(None);
    }
    let mut response = Vec::new();
    response.extend_from_slice(&CAPABILITIES.to_le_bytes());
    response.extend_from_slice(&(16u32 << 20).to_le_bytes());
    response.push(45); // utf8mb4_general_ci
    response.extend_from_slice(&[0u8; 23]);
    response.extend_from_slice(user.as_bytes());
    response.push(0);
    response.push(0); // an empty auth response: no password
    response.extend_from_slice(db.as_bytes());
    response.push(0);
    response.extend_from_slice(b"mysql_native_password\0");
    write_packet(&mut s, 1, &response).await?;
    match read_packet(&mut s).await? {
        Some((_, ok)) if ok.first() == Some(&0) => Ok(Some(s)),
        _ => Ok(None),
    }
}

/// The bytes an input asks to send after login, framed as described in the module's doc.
pub fn frames(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 2);
    let mut rest = data;
    while rest.len() >= 3 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let seq = rest[2];
        rest = &rest[3..];
        if seq == 0xFF {
            out.extend_from_slice(rest);
            return out;
        }
        let payload = &rest[..len.min(rest.len())];
        let n = payload.len().to_le_bytes();
        out.extend_from_slice(&[n[0], n[1], n[2], seq]);
        out.extend_from_slice(payload);
        rest = &rest[payload.len()..];
    }
    out
}

/// One fuzz input against the server on `port`: log in as `user`, send the input's bytes, close the sending
/// side and read everything the server answers until it closes. Returns the ERR codes the server sent, or
/// `None` if the login was refused. Panics if the server neither answers nor closes within [`ANSWER_WITHIN`]
/// (a hang is a finding, as a crash is).
pub async fn replay(port: u16, user: &str, db: &str, data: &[u8]) -> Option<Vec<u16>> {
    let s = login(port, user, db).await.ok()??;
    let (mut rx, mut tx) = s.into_split();
    let bytes = frames(data);
    // The server may answer while the client still writes (a large result): both directions at once.
    let send = async move {
        let _ = tx.write_all(&bytes).await;
        let _ = tx.shutdown().await;
        // Dropping the write half would not close the socket; keeping it until the reader is done is fine.
        tx
    };
    let read = async move {
        let mut codes = Vec::new();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match rx.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            // ERR packets among what arrived (whole packets only).
            while buf.len() >= 4 {
                let len =
                    usize::from(buf[0]) | usize::from(buf[1]) << 8 | usize::from(buf[2]) << 16;
                if buf.len() < 4 + len {
                    break;
                }
                if let Some(code) = error_code(&buf[4..4 + len]) {
                    codes.push(code);
                }
                buf.drain(..4 + len);
            }
        }
        codes
    };
    let both = async { tokio::join!(send, read).1 };
    match tokio::time::timeout(ANSWER_WITHIN, both).await {
        Ok(codes) => Some(codes),
        Err(_) => panic!(
            "the server neither answered nor closed within {ANSWER_WITHIN:?} of the client's last byte"
        ),
    }
}
