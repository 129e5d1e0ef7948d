//! A raw PostgreSQL client for the `pg_messages` fuzz target and its corpus replay
//! (tests/postgres/fuzz_corpus.rs includes this file): it logs in over a real socket with the startup message
//! (users without a password get in without a challenge), then sends whatever frontend messages the input
//! describes and reads what the server answers until the server closes the connection.
//!
//! Input format: a sequence of messages, each `[type byte][length: u16 LE][body: length bytes]`, sent with
//! their true length (a last body cut short is sent as far as it goes). A type byte of 0xFF ends the framing:
//! the rest of the input goes to the socket as it is, so lengths and framing are fuzzed too.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the server may take to answer and close after the client's last byte; longer is a hang.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// Protocol 3.0 in a startup message.
const PROTOCOL_3: u32 = 196_608;

/// One backend message: its type byte and body.
pub type Message = (u8, Vec<u8>);

/// Reads one backend message; `None` at end of stream.
pub async fn read_message(s: &mut TcpStream) -> std::io::Result<Option<Message>> {
    let mut head = [0u8; 5];
    match s.read_exact(&mut head).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut body = vec![0u8; len.saturating_sub(4)];
    s.read_exact(&mut body).await?;
    Ok(Some((head[0], body)))
}

/// The SQLSTATE (`C` field) of an ErrorResponse body.
pub fn sqlstate(body: &[u8]) -> Option<String> {
    body.split(|b| *b == 0)
        .find_map(|field| field.strip_prefix(b"C"))
        .map(|code| String::from_utf8_lossy(code).into_owned())
}

/// Connects and logs in as `user` (a user without a password) into database `db`: the startup message,
/// then everything up to ReadyForQuery. `Ok(None)` if the server refused the login.
pub async fn login(port: u16, user: &str, db: &str) -> std::io::Result<Option<TcpStream>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    let mut body = PROTOCOL_3.to_be_bytes().to_vec();
    for (k, v) in [("user", user), ("database", db)] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let len = u32::try_from(body.len() + 4).unwrap_or(u32::MAX);
    s.write_all(&len.to_be_bytes()).await?;
    s.write_all(&body).await?;
    loop {
        match read_message(&mut s).await? {
            Some((b'Z', _)) => return Ok(Some(s)),
            Some((b'E', _)) | None => return Ok(None),
            Some(_) => {}
        }
    }
}

/// The bytes an input asks to send after login, framed as described in the module's doc.
pub fn frames(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 2);
    let mut rest = data;
    while rest.len() >= 3 {
        let tag = rest[0];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]]));
        rest = &rest[3..];
        if tag == 0xFF {
            out.extend_from_slice(rest);
            return out;
        }
        let body = &rest[..len.min(rest.len())];
        out.push(tag);
        out.extend_from_slice(
            &u32::try_from(body.len() + 4)
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(body);
        rest = &rest[body.len()..];
    }
    out
}

/// One fuzz input against the server on `port`: log in as `user`, send the input's messages, close the
/// sending side and read everything the server answers until it closes. Returns the SQLSTATEs of the
/// ErrorResponses, or `None` if the login was refused. Panics if the server neither answers nor closes within
/// [`ANSWER_WITHIN`] (a hang is a finding, as a crash is).
pub async fn replay(port: u16, user: &str, db: &str, data: &[u8]) -> Option<Vec<String>> {
    let s = login(port, user, db).await.ok()??;
    let (mut rx, mut tx) = s.into_split();
    let bytes = frames(data);
    let send = async move {
        let _ = tx.write_all(&bytes).await;
        let _ = tx.shutdown().await;
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
            while buf.len() >= 5 {
                let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
                if buf.len() < 1 + len.max(4) {
                    break;
                }
                if buf[0] == b'E' {
                    codes.extend(sqlstate(&buf[5..1 + len.max(4)]));
                }
                buf.drain(..1 + len.max(4));
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
