//! The window of uncompressed bytes a record reader walks: the unread tail of the previous chunk followed
//! by the next chunk, with the file offset of its first byte (for the offsets warnings name).

use super::frames::{truncated_at, ReadState};
use super::reader_thread::HEADROOM;
use super::stream::ChunkStream;

/// Where a reader stopped: the batch is full, or the file is finished (warning given if damaged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Paused,
    Done,
}

pub struct Window {
    pub stream: ChunkStream,
    buf: Vec<u8>,
    start: usize,
    base: u64,
}

impl Window {
    pub fn new(stream: ChunkStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            start: 0,
            base: 0,
        }
    }

    /// The unread bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The whole buffer: a batch's frames are `buf()[start..start + len]` until the next fill.
    #[inline]
    pub fn buf(&self) -> &[u8] {
        &self.buf
    }

    /// Where `data()` starts in `buf()`.
    #[inline]
    pub fn start(&self) -> usize {
        self.start
    }

    pub fn available(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Marks `n` more bytes as read.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// Uncompressed file offset of `data()[0]`.
    pub fn offset(&self) -> u64 {
        self.base.wrapping_add(self.start as u64) // `base` wraps when a chunk's headroom precedes byte 0
    }

    /// Appends the next chunk for a reader whose window holds no complete `kind` (record/block) any more:
    /// true when more bytes came; at the end of the file false, after the warning when a partial `kind` was
    /// left over or the compressed stream was damaged.
    pub fn refill(&mut self, state: &mut ReadState, kind: &str, packets: u64) -> bool {
        if self.fill() > 0 {
            return true;
        }
        if self.available() > 0 || self.stream.damage.is_some() {
            let offset = self.offset();
            state.damaged(truncated_at(
                &self.stream.name,
                kind,
                offset,
                packets,
                self.stream.damage.as_deref(),
            ));
        }
        false
    }

    /// Appends the next chunk of the file; 0 at its end.
    pub fn fill(&mut self) -> usize {
        if self.stream.is_on_reader_thread() {
            return self
                .stream
                .next_chunk()
                .map_or(0, |chunk| self.take_chunk(chunk));
        }
        self.drain_read();
        self.stream.read(&mut self.buf)
    }

    /// Moves the unread bytes to the front of the buffer.
    fn drain_read(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base = self.base.wrapping_add(self.start as u64);
            self.start = 0;
        }
    }

    /// Makes a chunk from the reader thread the window, the unread bytes copied into its headroom (appended to the
    /// window the usual way when they do not fit there); the bytes the chunk added.
    fn take_chunk(&mut self, mut chunk: Vec<u8>) -> usize {
        let added = chunk.len() - HEADROOM;
        let unread = self.available();
        if unread <= HEADROOM {
            let at = HEADROOM - unread;
            chunk[at..HEADROOM].copy_from_slice(self.data());
            self.base = self.offset().wrapping_sub(at as u64);
            self.start = at;
            let spent = std::mem::replace(&mut self.buf, chunk);
            self.stream.give_back(spent);
        } else {
            self.drain_read();
            self.buf.extend_from_slice(&chunk[HEADROOM..]);
            self.stream.give_back(chunk);
        }
        added
    }
}
