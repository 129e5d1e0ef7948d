//! What the wire front ends share below their protocols.
//!
//! A protocol library reads a connection only while it waits for the next request, so while a statement runs
//! nobody reads the socket and a client that went away goes unnoticed until the statement ends (which for an
//! endless query is never). [`PeerWatch`] watches a second descriptor of the same socket for the peer's
//! FIN or RST, without reading any bytes, so the front end can stop the statement at once.
//!
//! [`tls`] holds what the listeners share for transport security: the certificate, `--require-tls`, a
//! stream that is plain or TLS, and the certificates `tenantry cert create` makes.

pub mod tls;

pub use tls::{Stream, Tls, TlsError};

use std::io;
use std::os::fd::AsFd;

use tokio::io::Interest;
use tokio::net::TcpStream;

/// Notices that the peer of a TCP connection closed it, without reading from it.
pub struct PeerWatch {
    /// A duplicate descriptor of the connection's socket, registered with the reactor on its own.
    socket: TcpStream,
}

impl PeerWatch {
    /// Watches the peer of `stream` (through a duplicate of its descriptor; `stream` is not touched).
    pub fn new(stream: &TcpStream) -> io::Result<Self> {
        let fd = stream.as_fd().try_clone_to_owned()?;
        let std_stream = std::net::TcpStream::from(fd);
        std_stream.set_nonblocking(true)?;
        Ok(Self {
            socket: TcpStream::from_std(std_stream)?,
        })
    }

    /// Writes a last message to the peer, once the protocol has stopped using the connection (a server that
    /// closes an idle session tells the client why, as MySQL and PostgreSQL do). Best effort, bounded by one
    /// second: a client that reads nothing loses the message, never the server a task.
    pub async fn send_last(&self, message: &[u8]) {
        let write = async {
            let mut rest = message;
            while !rest.is_empty() {
                self.socket.writable().await?;
                match self.socket.try_write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok::<(), io::Error>(())
        };
        match tokio::time::timeout(std::time::Duration::from_secs(1), write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!("last message not sent: {e}"),
            Err(_) => tracing::debug!("last message not sent: the client reads nothing"),
        }
    }

    /// Resolves once the peer has closed its side of the connection (or the socket failed).
    ///
    /// Bytes the client sends meanwhile (its next request) are left for the protocol to read: readiness
    /// without a hang-up is cleared and the watch waits for the next event, so it never spins.
    pub async fn closed(&self) {
        loop {
            match self.socket.ready(Interest::READABLE).await {
                Ok(ready) if ready.is_read_closed() => return,
                Ok(_) => {
                    // Clears this registration's readiness only; the protocol's own descriptor keeps its own.
                    let _ = self.socket.try_io(Interest::READABLE, || {
                        Err::<(), _>(io::ErrorKind::WouldBlock.into())
                    });
                }
                Err(e) => {
                    tracing::debug!("peer watch failed: {e}");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (server, client)
    }

    #[tokio::test]
    async fn data_is_left_for_the_reader_and_a_close_is_seen() {
        let (mut server, mut client) = pair().await;
        let watch = PeerWatch::new(&server).unwrap();
        client.write_all(b"next request").await.unwrap();
        // Data alone does not end the watch.
        assert!(
            tokio::time::timeout(Duration::from_millis(200), watch.closed())
                .await
                .is_err()
        );
        drop(client);
        tokio::time::timeout(Duration::from_secs(10), watch.closed())
            .await
            .expect("the close is seen");
        // The bytes sent before the close are still there for the protocol.
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"next request");
    }
}
