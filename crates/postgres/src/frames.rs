//! Frontend messages checked against their grammar before pgwire decodes them. pgwire's decoders read
//! fields with panicking getters over the whole read buffer, so a message whose length field and contents
//! disagree (a Parse cut short, a Bind whose parameter runs past its end) panicked the connection's task or
//! read into the next message. [`CheckedFrames`] sits between the (decrypted) socket and pgwire's codec and
//! hands on only whole messages whose every field fits their length; at the first one that does not, it
//! answers FATAL 08P01 (`invalid message format`, as PostgreSQL does) and ends the stream.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The longest startup-phase message (PostgreSQL's MAX_STARTUP_PACKET_LENGTH).
const MAX_STARTUP: usize = 10_000;

/// The longest message held whole to be checked (Parse, Bind, ...); Query and CopyData are checked as they
/// stream through and are not held. A longer one is refused before it is read.
pub const MAX_CHECKED_MESSAGE: usize = 256 << 20;

/// The startup-phase request codes that carry no startup parameters.
const CANCEL_REQUEST: u32 = 80_877_102;
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// What is wrong with a message, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

/// A socket whose reads yield only well-formed frontend messages.
pub struct CheckedFrames<IO> {
    io: IO,
    /// Bytes read from the socket and not yet handed on; the first `checked` of them are whole, checked
    /// messages (or checked parts of a streaming one).
    buf: BytesMut,
    checked: usize,
    startup_done: bool,
    /// A SASL exchange's first password-family message has its own layout; later ones are opaque.
    password_seen: bool,
    /// The body bytes of a Query / CopyFail / CopyData still to stream through, and its type.
    streaming: Option<(u8, usize)>,
    /// The FATAL message still to write after a malformed message, then the stream ends.
    fatal: Option<Vec<u8>>,
    failed: bool,
    eof: bool,
}

impl<IO> CheckedFrames<IO> {
    /// Wraps `io`; `unread` are bytes already read from it (by the TLS negotiation) and not yet decoded.
    pub fn new(io: IO, unread: BytesMut, startup_done: bool) -> Self {
        let mut checked = Self {
            io,
            buf: unread,
            checked: 0,
            startup_done,
            password_seen: false,
            streaming: None,
            fatal: None,
            failed: false,
            eof: false,
        };
        checked.advance_check();
        checked
    }

    /// Checks as much of the buffer as is complete; on a malformed message, readies the FATAL answer.
    fn advance_check(&mut self) {
        if self.failed {
            return;
        }
        if let Err(Malformed(why)) = self.check() {
            tracing::info!("malformed PostgreSQL message, connection closed: {why}");
            self.failed = true;
            self.fatal = Some(fatal_message("08P01", "invalid message format"));
        }
    }

    fn check(&mut self) -> Result<(), Malformed> {
        loop {
            let avail = &self.buf[self.checked..];
            if let Some((kind, remaining)) = self.streaming {
                if avail.is_empty() {
                    return Ok(());
                }
                let n = avail.len().min(remaining);
                if kind != b'd' {
                    // A string body: one NUL, its last byte.
                    if let Some(at) = avail[..n].iter().position(|b| *b == 0) {
                        if at + 1 != remaining {
                            return Err(Malformed(format!("'{}' has a NUL inside", kind as char)));
                        }
                    } else if n == remaining {
                        return Err(Malformed(format!(
                            "'{}' is not NUL-terminated",
                            kind as char
                        )));
                    }
                }
                self.checked += n;
                self.streaming = (remaining > n).then_some((kind, remaining - n));
                continue;
            }
            if !self.startup_done {
                let Some(len) = be_u32(avail, 0) else {
                    return Ok(());
                };
                let len = len as usize;
                if !(8..=MAX_STARTUP).contains(&len) {
                    return Err(Malformed(format!("startup message of {len} bytes")));
                }
                if avail.len() < len {
                    return Ok(());
                }
                match be_u32(avail, 4) {
                    Some(CANCEL_REQUEST) if len != 16 => {
                        return Err(Malformed("cancel request of the wrong length".into()))
                    }
                    Some(CANCEL_REQUEST | SSL_REQUEST | GSSENC_REQUEST) => {}
                    _ => self.startup_done = true,
                }
                self.checked += len;
                continue;
            }
            if avail.len() < 5 {
                return Ok(());
            }
            let kind = avail[0];
            let len = be_u32(avail, 1).unwrap_or(0) as usize;
            if len < 4 {
                return Err(Malformed(format!("'{}' of length {len}", kind as char)));
            }
            let body_len = len - 4;
            match kind {
                b'Q' | b'f' | b'd' => {
                    if kind != b'd' && body_len == 0 {
                        return Err(Malformed(format!("empty '{}'", kind as char)));
                    }
                    self.checked += 5;
                    self.streaming = (body_len > 0).then_some((kind, body_len));
                }
                b'S' | b'H' | b'X' | b'c' => {
                    if body_len != 0 {
                        return Err(Malformed(format!("'{}' with a body", kind as char)));
                    }
                    self.checked += 5;
                }
                b'P' | b'B' | b'D' | b'C' | b'E' | b'p' => {
                    if body_len > MAX_CHECKED_MESSAGE {
                        return Err(Malformed(format!("'{}' of {body_len} bytes", kind as char)));
                    }
                    if avail.len() < 5 + body_len {
                        return Ok(());
                    }
                    let body = &avail[5..5 + body_len];
                    if kind == b'p' {
                        // Only the first (SCRAM's SASLInitialResponse) has fields; the rest are opaque.
                        if !self.password_seen {
                            sasl_initial_response(body)?;
                        }
                        self.password_seen = true;
                    } else {
                        check_body(kind, body)?;
                    }
                    self.checked += 5 + body_len;
                }
                other => {
                    return Err(Malformed(format!("unknown message type {other:#04x}")));
                }
            }
        }
    }
}

/// The fields of an extended-query message, each within the body and ending exactly at its end.
pub fn check_body(kind: u8, body: &[u8]) -> Result<(), Malformed> {
    let mut r = Fields { body, at: 0, kind };
    match kind {
        b'P' => {
            r.cstring()?;
            r.cstring()?;
            let types = r.u16()?;
            r.skip(usize::from(types) * 4)?;
        }
        b'B' => {
            r.cstring()?;
            r.cstring()?;
            let formats = r.u16()?;
            r.skip(usize::from(formats) * 2)?;
            for _ in 0..r.u16()? {
                match r.i32()? {
                    -1 => {}
                    n if n >= 0 => r.skip(n as usize)?,
                    n => return Err(r.bad(&format!("a parameter of length {n}"))),
                }
            }
            let results = r.u16()?;
            r.skip(usize::from(results) * 2)?;
        }
        b'D' | b'C' => {
            match r.u8()? {
                b'S' | b'P' => {}
                t => return Err(r.bad(&format!("target {:?}", t as char))),
            }
            r.cstring()?;
        }
        b'E' => {
            r.cstring()?;
            r.i32()?;
        }
        _ => return Err(r.bad("a type with no checked layout")),
    }
    r.end()
}

/// SCRAM's SASLInitialResponse: the mechanism's name, then a length (-1 for none) and that many bytes.
fn sasl_initial_response(body: &[u8]) -> Result<(), Malformed> {
    let mut r = Fields {
        body,
        at: 0,
        kind: b'p',
    };
    r.cstring()?;
    match r.i32()? {
        -1 => {}
        n if n >= 0 => r.skip(n as usize)?,
        n => return Err(r.bad(&format!("a response of length {n}"))),
    }
    r.end()
}

/// A cursor over a message body that reads each field only if it is there.
struct Fields<'a> {
    body: &'a [u8],
    at: usize,
    kind: u8,
}

impl Fields<'_> {
    fn bad(&self, what: &str) -> Malformed {
        Malformed(format!("'{}': {what}", self.kind as char))
    }

    fn skip(&mut self, n: usize) -> Result<(), Malformed> {
        if self.body.len() - self.at < n {
            return Err(self.bad("a field runs past the end"));
        }
        self.at += n;
        Ok(())
    }

    fn cstring(&mut self) -> Result<(), Malformed> {
        match self.body[self.at..].iter().position(|b| *b == 0) {
            Some(n) => {
                self.at += n + 1;
                Ok(())
            }
            None => Err(self.bad("a string without its NUL")),
        }
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        let v = *self
            .body
            .get(self.at)
            .ok_or_else(|| self.bad("a field runs past the end"))?;
        self.at += 1;
        Ok(v)
    }

    fn u16(&mut self) -> Result<u16, Malformed> {
        let bytes = self.take::<2>()?;
        Ok(u16::from_be_bytes(bytes))
    }

    fn i32(&mut self) -> Result<i32, Malformed> {
        let bytes = self.take::<4>()?;
        Ok(i32::from_be_bytes(bytes))
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let bytes: [u8; N] = self
            .body
            .get(self.at..self.at + N)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| self.bad("a field runs past the end"))?;
        self.at += N;
        Ok(bytes)
    }

    fn end(&self) -> Result<(), Malformed> {
        if self.at == self.body.len() {
            Ok(())
        } else {
            Err(self.bad("bytes after its last field"))
        }
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// An ErrorResponse of severity FATAL (the server closes the connection after it), framed.
pub fn fatal_message(code: &str, text: &str) -> Vec<u8> {
    let mut fields = Vec::new();
    for (tag, value) in [(b'S', "FATAL"), (b'V', "FATAL"), (b'C', code), (b'M', text)] {
        fields.push(tag);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&fields);
    message
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for CheckedFrames<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.checked > 0 {
                let n = this.checked.min(out.remaining());
                out.put_slice(&this.buf[..n]);
                this.buf.advance(n);
                this.checked -= n;
                return Poll::Ready(Ok(()));
            }
            if this.failed {
                // Tell the client why, then end the stream.
                while let Some(fatal) = this.fatal.as_mut() {
                    if fatal.is_empty() {
                        this.fatal = None;
                        break;
                    }
                    match ready!(Pin::new(&mut this.io).poll_write(cx, fatal)) {
                        Ok(0) | Err(_) => this.fatal = None,
                        Ok(n) => {
                            fatal.drain(..n);
                        }
                    }
                }
                let _ = ready!(Pin::new(&mut this.io).poll_flush(cx));
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "malformed PostgreSQL message",
                )));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 16 << 10];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.eof = true;
            } else {
                this.buf.extend_from_slice(read.filled());
                this.advance_check();
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for CheckedFrames<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str, types: &[u32]) -> Vec<u8> {
        let mut b = b"s1\0".to_vec();
        b.extend_from_slice(query.as_bytes());
        b.push(0);
        b.extend_from_slice(&(types.len() as u16).to_be_bytes());
        for t in types {
            b.extend_from_slice(&t.to_be_bytes());
        }
        b
    }

    #[test]
    fn well_formed_messages_pass() {
        assert_eq!(check_body(b'P', &parse("SELECT $1", &[23])), Ok(()));
        let mut bind = b"\0s1\0".to_vec();
        bind.extend_from_slice(&[
            0, 1, 0, 0, 0, 2, 0, 0, 0, 1, b'7', 0xff, 0xff, 0xff, 0xff, 0, 0,
        ]);
        assert_eq!(check_body(b'B', &bind), Ok(()));
        assert_eq!(check_body(b'D', b"Ss1\0"), Ok(()));
        assert_eq!(check_body(b'E', b"\0\0\0\0\0"), Ok(()));
    }

    #[test]
    fn every_cut_of_a_message_is_refused() {
        let mut bind = b"\0s1\0".to_vec();
        bind.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 3, b'a', b'b', b'c', 0, 0]);
        for (kind, body) in [(b'P', parse("SELECT 1", &[23, 25])), (b'B', bind)] {
            assert_eq!(check_body(kind, &body), Ok(()));
            for cut in 0..body.len() {
                assert!(check_body(kind, &body[..cut]).is_err(), "{cut}");
            }
            let mut longer = body.clone();
            longer.push(0);
            assert!(check_body(kind, &longer).is_err());
        }
        // The fuzzer's input: a Parse whose parameter-type count is missing.
        assert!(check_body(b'P', b"\0SELECT $1\0").is_err());
        assert!(check_body(b'D', b"Xs\0").is_err());
        assert!(sasl_initial_response(b"SCRAM-SHA-256\0\0\0\0\x09abc").is_err());
        assert_eq!(
            sasl_initial_response(b"SCRAM-SHA-256\0\0\0\0\x03abc"),
            Ok(())
        );
    }
}
