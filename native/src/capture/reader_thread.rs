//! Reading a capture file on a thread of its own, a few chunks ahead of the decoder.
//!
//! Theory of operation. [`ReaderThread::start`] moves a [`ChunkStream`] (the file and its inflater) to a reader
//! thread that calls [`ChunkStream::read`] in a loop and sends each chunk through a bounded channel
//! ([`CHUNKS_AHEAD`] chunks: at most 4 MiB of an uncompressed file, or 1 MiB of inflated bytes, waiting);
//! the decoder's thread takes them in order. The kernel's copy of the page cache into user space (about 40 %
//! of the native loop's time on an uncompressed file) or the inflating of a compressed one then runs beside the
//! decoding instead of before it. The chunks are exactly the ones the stream would have handed out on the
//! decoder's own thread, and the stream's state at its end (on-disk bytes read, the one-line damage text) is
//! sent after the last of them, so frames, warnings and counters are the same either way. The emptied
//! buffers go back to the reader for its next chunks. Dropping the [`ReaderThread`] (a run interrupted, a file
//! abandoned) makes the reader's next send fail, and the thread ends.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::thread;

use super::stream::ChunkStream;

/// Chunks read ahead of the decoder, at most.
pub const CHUNKS_AHEAD: usize = 4;
/// Bytes left free before each chunk: the unread end of the previous chunk (a record cut by the chunk's
/// border) is copied there, so that the chunk itself becomes the decoder's window without being copied.
pub const HEADROOM: usize = 64 * 1024;

enum Piece {
    /// A chunk, and the on-disk bytes read once it was.
    Bytes(Vec<u8>, u64),
    /// The end of the stream: on-disk bytes read, and why it ended early if it did.
    End(u64, Option<String>),
}

pub struct ReaderThread {
    pieces: Receiver<Piece>,
    spent: Sender<Vec<u8>>,
    ended: bool,
}

impl ReaderThread {
    /// Starts reading `stream` on a new thread; the stream back if no thread can be had (a process at its
    /// thread limit), to be read on the caller's.
    pub fn start(stream: ChunkStream) -> Result<Self, Box<ChunkStream>> {
        let (hand_over, take_stream) = channel::<ChunkStream>();
        let (send_piece, pieces) = sync_channel(CHUNKS_AHEAD);
        let (spent, take_spent) = channel::<Vec<u8>>();
        let spawned = thread::Builder::new()
            .name("tlsmon-read".to_owned())
            .spawn(move || {
                let Ok(mut stream) = take_stream.recv() else {
                    return;
                };
                loop {
                    let mut chunk = take_spent.try_recv().unwrap_or_default();
                    if chunk.len() >= HEADROOM {
                        chunk.truncate(HEADROOM); // what the headroom holds is never read
                    } else {
                        chunk.clear();
                        chunk.resize(HEADROOM, 0);
                    }
                    let piece = if stream.read(&mut chunk) == 0 {
                        Piece::End(stream.raw_pos, stream.damage.take())
                    } else {
                        Piece::Bytes(chunk, stream.raw_pos)
                    };
                    let last = matches!(piece, Piece::End(..));
                    if send_piece.send(piece).is_err() || last {
                        return;
                    }
                }
            });
        if spawned.is_err() {
            return Err(Box::new(stream));
        }
        hand_over
            .send(stream)
            .map_err(|unsent| Box::new(unsent.0))?;
        Ok(Self {
            pieces,
            spent,
            ended: false,
        })
    }

    /// The next chunk, after [`HEADROOM`] bytes of room for the unread end of the previous one; None at the
    /// end, with `raw_pos` and `damage` then the stream's own.
    pub fn next(&mut self, raw_pos: &mut u64, damage: &mut Option<String>) -> Option<Vec<u8>> {
        if self.ended {
            return None;
        }
        match self.pieces.recv() {
            Ok(Piece::Bytes(chunk, pos)) => {
                *raw_pos = pos;
                Some(chunk)
            }
            Ok(Piece::End(pos, why)) => {
                self.ended = true;
                *raw_pos = pos;
                *damage = why;
                None
            }
            Err(_) => {
                self.ended = true;
                *damage = Some("read error (reader thread ended)".to_owned());
                None
            }
        }
    }

    /// Hands a buffer back to the reader for a later chunk.
    pub fn give_back(&self, buf: Vec<u8>) {
        let _ = self.spent.send(buf); // the reader may have ended: the buffer is then freed
    }
}
