//! One capture file as a sequence of large chunks of uncompressed bytes (mirrors `tlsmon/capture/stream.py`).
//!
//! Theory of operation. [`ChunkStream::open`] reads the first 256 KiB and looks at its first bytes: gzip
//! (`1f 8b`) and zstd (`28 b5 2f fd`) are recognised by magic, never by file name. [`ChunkStream::read`]
//! appends the next chunk of (decompressed) bytes to a buffer. An uncompressed file is read with `read()`
//! in 1 MiB chunks. A compressed one is inflated exactly as the Python reader does it — 64 KiB raw reads,
//! gzip output capped at 256 KiB per inflate call, zstd fed 4 KiB pieces, concatenated members/frames
//! followed, the output of a call that fails discarded — so that a damaged stream yields the same bytes
//! and the same one-line damage text (`corrupt gzip data near compressed byte N (…)`) as Python: the
//! frames before the damage and the warning are then identical.
//!
//! gzip goes through flate2's zlib backend (libz, the library Python's `zlib` module uses, so its error
//! messages are zlib's own); zstd through the `zstd` crate (the reference libzstd, as Python's zstandard).

use std::fs::File;
use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};
use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};

use super::errors::{os_reason, CaptureError};
use super::reader_thread::ReaderThread;

/// Bytes of the first read, and the gzip output cap per inflate call (Python's CHUNK_SIZE).
pub const CHUNK_SIZE: usize = 256 * 1024;
/// Bytes per `read()` of an uncompressed file.
pub const PLAIN_READ_SIZE: usize = 1024 * 1024;
/// Compressed bytes read at a time (Python's RAW_CHUNK_SIZE).
pub const RAW_CHUNK_SIZE: usize = 64 * 1024;
/// zstd input piece size (Python's ZSTD_FEED_SIZE): an RLE block turns 4 bytes into 128 KiB, so the output
/// of one piece is at most 128 MiB whatever a crafted file holds.
pub const ZSTD_FEED_SIZE: usize = 4 * 1024;

const GZIP_MAGIC: &[u8] = b"\x1f\x8b";
const ZSTD_MAGIC: &[u8] = b"\x28\xb5\x2f\xfd";

struct GzipInflater {
    obj: Decompress,
    started: bool,
    pending: Vec<u8>,
    pos: usize,
}

impl GzipInflater {
    fn new() -> Self {
        Self {
            obj: Decompress::new_gzip(15),
            started: false,
            pending: Vec::new(),
            pos: 0,
        }
    }

    fn more(&mut self, out: &mut Vec<u8>) -> Result<usize, String> {
        while self.pos < self.pending.len() {
            self.started = true;
            let start = out.len();
            out.resize(start + CHUNK_SIZE, 0);
            let (in0, out0) = (self.obj.total_in(), self.obj.total_out());
            let result = self.obj.decompress(
                &self.pending[self.pos..],
                &mut out[start..],
                FlushDecompress::Sync,
            );
            let consumed = (self.obj.total_in() - in0) as usize;
            let produced = (self.obj.total_out() - out0) as usize;
            out.truncate(start + produced);
            match result {
                Err(err) => {
                    out.truncate(start); // Python's decompress() raises: this call's output is lost
                    let reason = err.message().unwrap_or("invalid input data");
                    return Err(format!("Error -3 while decompressing data: {reason}"));
                }
                Ok(Status::StreamEnd) => {
                    self.pos += consumed;
                    self.obj = Decompress::new_gzip(15);
                    self.started = false;
                }
                Ok(_) => self.pos += consumed,
            }
            if self.pos == self.pending.len() {
                self.pending.clear();
                self.pos = 0;
            }
            if produced > 0 {
                return Ok(produced);
            }
        }
        Ok(0)
    }

    fn at_boundary(&self) -> bool {
        !self.started
    }
}

struct ZstdInflater {
    obj: Decoder<'static>,
    started: bool,
    pending: Vec<u8>,
    pos: usize,
    out_size: usize,
}

impl ZstdInflater {
    fn new() -> io::Result<Self> {
        Ok(Self {
            obj: Decoder::new()?,
            started: false,
            pending: Vec::new(),
            pos: 0,
            out_size: zstd::zstd_safe::DCtx::out_size(),
        })
    }

    /// Python zstandard's `decompressobj().decompress(piece)`: the whole piece, all the output, or an
    /// error (and no output); `Ok((produced, Some(unused)))` when the frame ended inside the piece.
    fn decompress_piece(
        &mut self,
        piece_end: usize,
        out: &mut Vec<u8>,
    ) -> Result<(usize, Option<usize>), String> {
        let start = out.len();
        let piece = &self.pending[self.pos..piece_end];
        let mut input = InBuffer::around(piece);
        loop {
            let base = out.len();
            out.resize(base + self.out_size, 0);
            let mut output = OutBuffer::around(&mut out[base..]);
            let result = self.obj.run(&mut input, &mut output);
            let written = output.pos();
            out.truncate(base + written);
            match result {
                Err(err) => {
                    out.truncate(start);
                    return Err(format!("zstd decompressor error: {err}"));
                }
                Ok(0) => return Ok((out.len() - start, Some(input.pos()))),
                Ok(_) => {
                    if input.pos() == piece.len() && written < self.out_size {
                        return Ok((out.len() - start, None));
                    }
                }
            }
        }
    }

    fn more(&mut self, out: &mut Vec<u8>) -> Result<usize, String> {
        while self.pos < self.pending.len() {
            let piece_end = (self.pos + ZSTD_FEED_SIZE).min(self.pending.len());
            self.started = true;
            let (produced, unused) = self.decompress_piece(piece_end, out)?;
            match unused {
                Some(consumed) => {
                    // the rest of the piece goes back in front of the pending input
                    self.pos += consumed;
                    self.obj
                        .reinit()
                        .map_err(|e| format!("zstd decompressor error: {e}"))?;
                    self.started = false;
                }
                None => self.pos = piece_end,
            }
            if self.pos == self.pending.len() {
                self.pending.clear();
                self.pos = 0;
            }
            if produced > 0 {
                return Ok(produced);
            }
        }
        Ok(0)
    }

    fn at_boundary(&self) -> bool {
        !self.started && self.pos == self.pending.len()
    }
}

enum Inflater {
    Gzip(GzipInflater),
    Zstd(Box<ZstdInflater>),
}

impl Inflater {
    fn kind(&self) -> &'static str {
        match self {
            Inflater::Gzip(_) => "gzip",
            Inflater::Zstd(_) => "zstd",
        }
    }

    fn more(&mut self, out: &mut Vec<u8>) -> Result<usize, String> {
        match self {
            Inflater::Gzip(g) => g.more(out),
            Inflater::Zstd(z) => z.more(out),
        }
    }

    fn feed(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
        match self {
            Inflater::Gzip(g) => g.pending.extend_from_slice(raw),
            Inflater::Zstd(z) => z.pending.extend_from_slice(raw),
        }
        self.more(out)
    }

    fn at_boundary(&self) -> bool {
        match self {
            Inflater::Gzip(g) => g.at_boundary(),
            Inflater::Zstd(z) => z.at_boundary(),
        }
    }
}

/// The uncompressed bytes of one file, handed out in chunks; see the module docs.
pub struct ChunkStream {
    pub name: String,
    file: Box<dyn Read + Send>,
    first: Option<Vec<u8>>,
    /// On-disk bytes consumed so far.
    pub raw_pos: u64,
    /// Why the stream ended early, if it did (one line, without the path).
    pub damage: Option<String>,
    inflater: Option<Inflater>,
    raw: Vec<u8>,
    /// The most bytes one `read()` asks for (the constants above unless smaller: tests put chunk borders
    /// everywhere with a small one).
    read_cap: usize,
    /// Set when the file is read on a thread of its own, with its compression.
    reader: Option<(ReaderThread, Option<&'static str>)>,
}

impl ChunkStream {
    /// Opens `path` and detects its compression; an unopenable or unreadable file is a [`CaptureError`].
    pub fn open(name: &str, path: &std::path::Path) -> Result<Self, CaptureError> {
        let file =
            File::open(path).map_err(|e| CaptureError(format!("{name}: {}", os_reason(&e))))?;
        Self::from_reader(name, Box::new(file))
    }

    /// The same over any byte source (the fuzz targets and tests read from memory).
    pub fn from_reader(name: &str, file: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        Self::from_reader_in_chunks(name, file, usize::MAX)
    }

    /// The same, no `read()` asking for more than `read_cap` bytes (at least the 4 of a magic).
    pub fn from_reader_in_chunks(
        name: &str,
        mut file: Box<dyn Read + Send>,
        read_cap: usize,
    ) -> Result<Self, CaptureError> {
        let read_cap = read_cap.max(4);
        let fail = |err: &io::Error| CaptureError(format!("{name}: {}", os_reason(err)));
        let mut first = Vec::new();
        read_up_to(file.as_mut(), &mut first, CHUNK_SIZE.min(read_cap)).map_err(|e| fail(&e))?;
        let inflater = if first.starts_with(GZIP_MAGIC) {
            Some(Inflater::Gzip(GzipInflater::new()))
        } else if first.starts_with(ZSTD_MAGIC) {
            Some(Inflater::Zstd(Box::new(
                ZstdInflater::new().map_err(|e| fail(&e))?,
            )))
        } else {
            None
        };
        Ok(Self {
            name: name.to_owned(),
            file,
            raw_pos: first.len() as u64,
            first: Some(first),
            damage: None,
            inflater,
            raw: Vec::new(),
            read_cap,
            reader: None,
        })
    }

    /// From now on, reads the file on a thread of its own, a few chunks ahead (see [`ReaderThread`]).
    pub fn use_reader_thread(&mut self) {
        if self.reader.is_some() {
            return;
        }
        let kind = self.compression();
        let consumer = Self {
            name: self.name.clone(),
            file: Box::new(io::empty()),
            first: None,
            raw_pos: self.raw_pos,
            damage: None,
            inflater: None,
            raw: Vec::new(),
            read_cap: self.read_cap,
            reader: None,
        };
        let stream = std::mem::replace(self, consumer);
        match ReaderThread::start(stream) {
            Ok(reader) => self.reader = Some((reader, kind)),
            Err(stream) => *self = *stream, // no thread to be had: read on this one
        }
    }

    /// Whether the file is read on a thread of its own ([`Self::use_reader_thread`]).
    pub fn is_on_reader_thread(&self) -> bool {
        self.reader.is_some()
    }

    /// For a stream on a reader thread: the next chunk after [`HEADROOM`](super::reader_thread::HEADROOM) bytes of room; None at its end (and for a
    /// stream read on this thread).
    pub fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let (reader, _) = self.reader.as_mut()?;
        reader.next(&mut self.raw_pos, &mut self.damage)
    }

    /// A buffer for the reader thread's next chunks (dropped for a stream read on this thread).
    pub fn give_back(&self, buf: Vec<u8>) {
        if let Some((reader, _)) = &self.reader {
            reader.give_back(buf);
        }
    }

    /// `"gzip"`, `"zstd"` or None.
    pub fn compression(&self) -> Option<&'static str> {
        if let Some((_, kind)) = &self.reader {
            return *kind;
        }
        self.inflater.as_ref().map(Inflater::kind)
    }

    /// Appends the next chunk of uncompressed bytes to `out`; 0 at the end of the file or of readable data.
    /// Only for a stream read on this thread: one on a reader thread hands its chunks out by
    /// [`Self::next_chunk`] (the window takes them without a copy, `reader.rs`).
    pub fn read(&mut self, out: &mut Vec<u8>) -> usize {
        debug_assert!(
            self.reader.is_none(),
            "a stream on a reader thread is read by next_chunk"
        );
        if self.damage.is_some() {
            return 0;
        }
        if self.inflater.is_none() {
            if let Some(first) = self.first.take() {
                if !first.is_empty() {
                    out.extend_from_slice(&first);
                    return first.len();
                }
            }
            return self.read_raw_into(out, PLAIN_READ_SIZE.min(self.read_cap));
        }
        match self.read_inflated(out) {
            Ok(n) => n,
            Err(reason) => {
                let kind = self.inflater.as_ref().map_or("", Inflater::kind);
                self.damage = Some(format!(
                    "corrupt {kind} data near compressed byte {} ({reason})",
                    self.raw_pos
                ));
                0
            }
        }
    }

    fn read_inflated(&mut self, out: &mut Vec<u8>) -> Result<usize, String> {
        let mut produced = self.inflater.as_mut().map_or(Ok(0), |i| i.more(out))?;
        while produced == 0 {
            let mut raw = std::mem::take(&mut self.raw);
            raw.clear();
            match self.first.take() {
                Some(first) if !first.is_empty() => raw = first,
                _ => {
                    self.read_raw_into(&mut raw, RAW_CHUNK_SIZE.min(self.read_cap));
                }
            }
            let inflater = self.inflater.as_mut().expect("compressed stream");
            if raw.is_empty() {
                if !inflater.at_boundary() {
                    let kind = inflater.kind();
                    self.damage = Some(format!(
                        "truncated {kind} stream at compressed byte {}",
                        self.raw_pos
                    ));
                }
                self.raw = raw;
                return Ok(0);
            }
            produced = inflater.feed(&raw, out)?;
            self.raw = raw;
        }
        Ok(produced)
    }

    fn read_raw_into(&mut self, out: &mut Vec<u8>, size: usize) -> usize {
        match read_up_to(self.file.as_mut(), out, size) {
            Ok(n) => {
                self.raw_pos += n as u64;
                n
            }
            Err(err) => {
                self.damage = Some(format!("read error ({})", os_reason(&err)));
                0
            }
        }
    }
}

/// Appends up to `size` bytes from `file` to `out` (fewer only at the end of the file); nothing on error.
/// `read_to_end` through `take` reads into the vector's spare capacity without zero-filling it first.
fn read_up_to(file: &mut dyn Read, out: &mut Vec<u8>, size: usize) -> io::Result<usize> {
    let start = out.len();
    out.reserve(size);
    match file.take(size as u64).read_to_end(out) {
        Ok(n) => Ok(n),
        Err(err) => {
            out.truncate(start); // as one failed read() in Python: nothing of it is used
            Err(err)
        }
    }
}
