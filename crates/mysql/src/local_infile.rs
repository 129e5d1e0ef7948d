//! `LOAD DATA LOCAL INFILE`: the client sends the file. The statement runs on a blocking thread and
//! asks for the file through [`ClientFiles`]; the connection's task, which owns the socket, sends
//! MySQL's LOCAL INFILE request (0xFB and the file name), reads the packets the client answers with
//! up to the empty one, and feeds them to the statement's reader.

use std::io::{self, Read};

use tenantry_sql::LocalFiles;
use tokio::sync::mpsc;

/// File chunks in flight between the connection and the statement: enough to keep both busy, little memory.
const CHUNKS_IN_FLIGHT: usize = 8;

/// A statement's request for the client's file `name`.
pub struct FileRequest {
    /// The name the statement gave.
    pub name: String,
    /// Where the file's bytes go: chunks, then `None` at the end of the file. A channel closed without
    /// the end (the connection went away) is an error, never a shorter file.
    pub data: mpsc::Sender<io::Result<Option<Vec<u8>>>>,
}

/// The session's way to the client's files.
pub struct ClientFiles {
    requests: mpsc::UnboundedSender<FileRequest>,
}

impl ClientFiles {
    /// Files requested through `requests`.
    pub fn new(requests: mpsc::UnboundedSender<FileRequest>) -> Self {
        Self { requests }
    }
}

impl LocalFiles for ClientFiles {
    fn open(&mut self, name: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let (data, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
        self.requests
            .send(FileRequest {
                name: name.to_string(),
                data,
            })
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed"))?;
        Ok(Box::new(ChunkReader {
            chunks,
            chunk: Vec::new(),
            at: 0,
            ended: false,
        }))
    }
}

/// Reads the chunks the connection forwards; runs on the statement's blocking thread.
struct ChunkReader {
    chunks: mpsc::Receiver<io::Result<Option<Vec<u8>>>>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.chunks.blocking_recv() {
                Some(Ok(Some(chunk))) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Some(Ok(None)) => self.ended = true,
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the connection closed before the end of the file",
                    ))
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
