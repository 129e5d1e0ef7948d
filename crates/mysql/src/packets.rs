//! MySQL packet framing over a byte stream: 3-byte length, 1-byte sequence number, payload, with
//! payloads of 16 MB and more split into several frames. `mysql_common`'s codec does the framing and
//! checks sequence numbers; this wraps it around an async stream with buffered writes.

use std::io;

use bytes::BytesMut;
use mysql_common::proto::codec::error::PacketCodecError;
use mysql_common::proto::codec::PacketCodec;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest packet a client may send, and the server's `max_allowed_packet` (MySQL's default 64 MB).
pub const MAX_ALLOWED_PACKET: usize = 64 * 1024 * 1024;

/// Why reading a packet failed.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The client sent a packet larger than `max_allowed_packet`.
    #[error("Got a packet bigger than 'max_allowed_packet' bytes")]
    TooLarge,
    /// A frame's sequence number was not the expected one.
    #[error("packets out of order")]
    OutOfSync,
}

impl From<PacketCodecError> for PacketError {
    fn from(e: PacketCodecError) -> Self {
        match e {
            PacketCodecError::Io(e) => Self::Io(e),
            PacketCodecError::PacketTooLarge => Self::TooLarge,
            PacketCodecError::PacketsOutOfSync | PacketCodecError::BadCompressedPacketHeader => {
                Self::OutOfSync
            }
        }
    }
}

/// A framed MySQL connection.
pub struct PacketStream<S> {
    stream: S,
    codec: PacketCodec,
    input: BytesMut,
    output: BytesMut,
}

impl<S: AsyncRead + AsyncWrite + Unpin> PacketStream<S> {
    /// Frames `stream`; the first packet written has sequence number 0.
    pub fn new(stream: S) -> Self {
        let mut codec = PacketCodec::default();
        codec.max_allowed_packet = MAX_ALLOWED_PACKET;
        Self {
            stream,
            codec,
            input: BytesMut::with_capacity(8 * 1024),
            output: BytesMut::with_capacity(8 * 1024),
        }
    }

    /// Starts a new command exchange: the client's command has sequence number 0.
    pub fn reset_sequence(&mut self) {
        self.codec.reset_seq_id();
    }

    /// Reads the next packet's payload; `None` when the client closed the connection between packets.
    pub async fn read(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let mut payload = Vec::new();
        loop {
            if self.codec.decode(&mut self.input, &mut payload)? {
                return Ok(Some(payload));
            }
            if self.stream.read_buf(&mut self.input).await? == 0 {
                return if self.input.is_empty() && payload.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::from(io::ErrorKind::UnexpectedEof).into())
                };
            }
        }
    }

    /// Reads exactly one packet of at most `limit` bytes, taking no byte past it from the socket: the client's
    /// first packet may be a request for TLS, after which its TLS handshake follows on the same socket and
    /// must be left there for the TLS layer.
    pub async fn read_exact_one(&mut self, limit: usize) -> Result<Option<Vec<u8>>, PacketError> {
        let mut header = [0u8; 4];
        match self.stream.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        if len > limit {
            return Err(PacketError::TooLarge);
        }
        self.input.extend_from_slice(&header);
        let start = self.input.len();
        self.input.resize(start + len, 0);
        self.stream.read_exact(&mut self.input[start..]).await?;
        let mut payload = Vec::with_capacity(len);
        if self.codec.decode(&mut self.input, &mut payload)? {
            Ok(Some(payload))
        } else {
            // A first packet of 16 MB or more (continued in a second frame) is no handshake.
            Err(PacketError::TooLarge)
        }
    }

    /// The underlying stream (to upgrade it to TLS between packets).
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The underlying stream.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Queues one packet with `payload`; [`flush`](Self::flush) sends what is queued.
    pub fn write(&mut self, payload: &[u8]) -> io::Result<()> {
        let mut src = payload;
        self.codec
            .encode(&mut src, &mut self.output)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
    }

    /// Sends every queued packet.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.output.is_empty() {
            self.stream.write_all(&self.output).await?;
            self.output.clear();
        }
        self.stream.flush().await
    }

    /// Bytes queued and not yet sent (large result sets flush as they go).
    pub fn queued(&self) -> usize {
        self.output.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_and_sequences_packets() {
        let (client, server) = tokio::io::duplex(1 << 20);
        let mut server = PacketStream::new(server);
        let mut client = PacketStream::new(client);
        server.write(b"hello").unwrap();
        server.flush().await.unwrap();
        assert_eq!(client.read().await.unwrap().unwrap(), b"hello");
        client.write(b"reply").unwrap();
        client.flush().await.unwrap();
        assert_eq!(server.read().await.unwrap().unwrap(), b"reply");

        // A payload of exactly 16 MB - 1 needs a second, empty frame; both ends agree on it.
        let big = vec![7u8; 0xFF_FFFF];
        server.write(&big).unwrap();
        let (sent, got) = tokio::join!(server.flush(), client.read());
        sent.unwrap();
        assert_eq!(got.unwrap().unwrap(), big);
    }

    #[tokio::test]
    async fn the_first_packet_is_read_without_reading_past_it() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut server = PacketStream::new(server);
        // A packet, then bytes of another protocol (a TLS handshake) in the same write.
        client
            .write_all(&[3, 0, 0, 0, b'a', b'b', b'c', 0x16, 0x03])
            .await
            .unwrap();
        assert_eq!(server.read_exact_one(64).await.unwrap().unwrap(), b"abc");
        let mut rest = [0u8; 2];
        server.stream_mut().read_exact(&mut rest).await.unwrap();
        assert_eq!(rest, [0x16, 0x03]);
        // The sequence goes on from the packet read.
        client.write_all(&[1, 0, 0, 1, b'd']).await.unwrap();
        assert_eq!(server.read().await.unwrap().unwrap(), b"d");
        client.write_all(&[200, 0, 0, 2]).await.unwrap();
        assert!(matches!(
            server.read_exact_one(64).await,
            Err(PacketError::TooLarge)
        ));
    }

    #[tokio::test]
    async fn refuses_a_frame_out_of_sequence() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut server = PacketStream::new(server);
        client.write_all(&[1, 0, 0, 5, 0x0e]).await.unwrap();
        assert!(matches!(server.read().await, Err(PacketError::OutOfSync)));
    }
}
