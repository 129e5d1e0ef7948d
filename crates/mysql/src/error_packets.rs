//! Writing error packets with any error number and SQLSTATE.
//!
//! opensrv-mysql writes errors only from its `ErrorKind` enum of MySQL's own codes, and answers a failed
//! login with 1698. OceanBase's codes (4179, 9036, ...) and the 1045 of a failed login cannot be expressed
//! that way, so the connection's writer is wrapped: when the shim has armed a replacement, the next error
//! packet the library writes is swapped for it, keeping the packet's sequence number.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::io::AsyncWrite;

/// A pending replacement for the next error packet: error number, SQLSTATE and message.
#[derive(Clone, Default)]
pub struct ErrorOverride(Arc<Mutex<Option<Vec<u8>>>>);

impl ErrorOverride {
    /// Arms the replacement of the next error packet.
    pub fn arm(&self, code: u16, sqlstate: &str, message: &str) {
        let mut payload = Vec::with_capacity(9 + message.len());
        payload.push(0xFF);
        payload.extend_from_slice(&code.to_le_bytes());
        payload.push(b'#');
        let mut state = [b'H', b'Y', b'0', b'0', b'0'];
        for (dst, src) in state.iter_mut().zip(sqlstate.bytes()) {
            *dst = src;
        }
        payload.extend_from_slice(&state);
        payload.extend_from_slice(message.as_bytes());
        *self.0.lock() = Some(payload);
    }

    fn take_for(&self, packet: &[u8]) -> Option<Vec<u8>> {
        // A packet is a 4-byte header (length, sequence) and a payload; error payloads start with 0xFF.
        if packet.len() > 4 && packet[4] == 0xFF {
            let payload = self.0.lock().take()?;
            let len = payload.len().min(0xFF_FFFF) as u32;
            let mut out = Vec::with_capacity(4 + payload.len());
            out.extend_from_slice(&len.to_le_bytes()[..3]);
            out.push(packet[3]);
            out.extend_from_slice(&payload[..len as usize]);
            Some(out)
        } else {
            None
        }
    }

    fn armed(&self) -> bool {
        self.0.lock().is_some()
    }
}

/// The connection's writer, with error packets replaceable through an [`ErrorOverride`].
pub struct ErrorPacketWriter<W> {
    inner: W,
    errors: ErrorOverride,
    pending: Vec<u8>,
    written: usize,
}

impl<W: AsyncWrite + Unpin> ErrorPacketWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, errors: ErrorOverride) -> Self {
        Self {
            inner,
            errors,
            pending: Vec::new(),
            written: 0,
        }
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = match Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    fn poll_write_bytes(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.poll_drain(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        if self.errors.armed() {
            let packet: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            if let Some(replacement) = self.errors.take_for(&packet) {
                self.pending = replacement;
                self.written = 0;
                // The library is told its bytes went out; the replacement drains on the next write or flush.
                let _ = self.poll_drain(cx);
                return Poll::Ready(Ok(packet.len()));
            }
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for ErrorPacketWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_bytes(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bytes(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn replaces_only_error_packets() {
        let errors = ErrorOverride::default();
        let mut out = Vec::new();
        {
            let mut w = ErrorPacketWriter::new(&mut out, errors.clone());
            errors.arm(4179, "HY000", "not allowed");
            // An OK packet passes untouched even while armed.
            w.write_all(&[1, 0, 0, 5, 0x00]).await.unwrap();
            // The error packet (seq 6) is replaced.
            w.write_all(&[3, 0, 0, 6, 0xFF, 0x10, 0x04]).await.unwrap();
            w.flush().await.unwrap();
        }
        assert_eq!(&out[..5], &[1, 0, 0, 5, 0x00]);
        let replaced = &out[5..];
        assert_eq!(replaced[3], 6);
        assert_eq!(&replaced[4..7], &[0xFF, 0x53, 0x10]);
        assert_eq!(&replaced[7..13], b"#HY000");
        assert_eq!(&replaced[13..], b"not allowed");
        assert_eq!(replaced[0] as usize, replaced.len() - 4);
    }
}
