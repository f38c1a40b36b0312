//! Capture files in the order given, as one stream of frames (mirrors `tlsmon/capture/source.py`).
//!
//! Theory of operation. Each file is opened as a [`ChunkStream`] and its first four uncompressed bytes
//! pick the reader (classic pcap or pcapng). [`CaptureSource::next_batch`] fills a [`FrameBatch`] with up to
//! 256 KiB of frames, never more than one file's: a batch ends where a file ends, so the warnings taken after
//! a batch belong after its frames, as in Python. Frames are not copied: a batch names them in the file's
//! read window ([`CaptureSource::frame`]), which a reader therefore never refills under a batch (a batch
//! also ends where the window's bytes end), and the window of a file that just ended is kept until the next
//! batch. A file that cannot be read as a capture at all is a
//! [`CaptureError`] (earlier files' frames have been handed out by then); damage inside a file is one
//! warning line and the next file is read. With a BPF filter, frames it rejects are counted in
//! `filtered_out`; a link type it cannot be compiled for is an error after the frames before that frame.

use std::fs;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use super::bpf::Filter;
use super::errors::{os_reason, CaptureError};
use super::frames::{FrameBatch, ReadState};
use super::pcap::{magic, PcapReader};
use super::pcapng::{PcapngReader, SHB_MAGIC};
use super::reader::{Step, Window};
use super::stream::ChunkStream;

/// Frame bytes per batch.
pub const BATCH_BYTES: usize = 256 * 1024;

enum Format {
    Pcap(PcapReader),
    Pcapng(PcapngReader),
}

struct OpenFile {
    win: Window,
    format: Format,
}

struct FileEntry {
    path: PathBuf,
    name: String,
    size: u64,
    memory: Option<Arc<[u8]>>,
}

/// Frames from capture files, read in the order given; see the module docs.
pub struct CaptureSource {
    files: Vec<FileEntry>,
    next: usize,
    current: Option<OpenFile>,
    /// The file that ended with the last batch: its window holds that batch's bytes until the next read.
    ended: Option<OpenFile>,
    done_bytes: u64,
    bytes_read: u64,
    total_bytes: u64,
    packets: u64,
    filtered_out: u64,
    state: ReadState,
    filter: Option<Filter>,
    pending_error: Option<CaptureError>,
    finished: bool,
    reader_thread: bool,
    read_cap: usize,
}

impl CaptureSource {
    /// Checks that every file exists (its size counts in `total_bytes`); nothing is read yet.
    pub fn open(paths: &[PathBuf], bpf: Option<&str>) -> Result<Self, CaptureError> {
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let name = path.to_string_lossy().into_owned();
            let size = fs::metadata(path)
                .map_err(|e| CaptureError(format!("{name}: {}", os_reason(&e))))?
                .len();
            files.push(FileEntry {
                path: path.clone(),
                name,
                size,
                memory: None,
            });
        }
        Ok(Self::with_files(files, bpf))
    }

    /// A source over in-memory "files" `(name, bytes)`, read exactly as files with those contents are.
    pub fn from_memory(files: Vec<(String, Vec<u8>)>, bpf: Option<&str>) -> Self {
        Self::from_memory_in_chunks(files, bpf, usize::MAX)
    }

    /// The same, no read of a file asking for more than `read_cap` bytes: the tests and the fuzz targets put
    /// chunk borders everywhere with a small one.
    pub fn from_memory_in_chunks(
        files: Vec<(String, Vec<u8>)>,
        bpf: Option<&str>,
        read_cap: usize,
    ) -> Self {
        let files = files
            .into_iter()
            .map(|(name, data)| FileEntry {
                path: PathBuf::from(&name),
                name,
                size: data.len() as u64,
                memory: Some(Arc::from(data)),
            })
            .collect();
        let mut source = Self::with_files(files, bpf);
        source.read_cap = read_cap;
        source
    }

    fn with_files(files: Vec<FileEntry>, bpf: Option<&str>) -> Self {
        let total_bytes = files.iter().map(|f| f.size).sum();
        Self {
            files,
            next: 0,
            current: None,
            ended: None,
            done_bytes: 0,
            bytes_read: 0,
            total_bytes,
            packets: 0,
            filtered_out: 0,
            state: ReadState::default(),
            filter: bpf.map(Filter::new),
            pending_error: None,
            finished: false,
            reader_thread: false,
            read_cap: usize::MAX,
        }
    }

    /// Reads the files on a thread of their own from now on, the file being read included
    /// (see `reader_thread.rs`): the same frames, warnings and counters.
    pub fn use_reader_thread(&mut self) {
        self.reader_thread = true;
        if let Some(open) = &mut self.current {
            open.win.stream.use_reader_thread();
        }
    }

    /// Fills `batch` (cleared first) with the next frames (about 256 KiB, at most one file's); `Ok(false)`
    /// once every file is read. A batch may be empty when a file gave no frames (its warnings are then due).
    pub fn next_batch(&mut self, batch: &mut FrameBatch) -> Result<bool, CaptureError> {
        batch.clear();
        self.ended = None;
        if let Some(err) = self.pending_error.take() {
            self.finished = true;
            return Err(err);
        }
        if self.finished {
            return Ok(false);
        }
        if self.current.is_none() {
            if self.next >= self.files.len() {
                self.finished = true;
                return Ok(false);
            }
            match self.open_next() {
                Err(err) => {
                    self.finished = true;
                    return Err(err);
                }
                Ok(Some(open)) => self.current = Some(open),
                Ok(None) => {
                    self.end_file();
                    return Ok(true);
                }
            }
        }
        let open = self.current.as_mut().expect("a file is open");
        let step = match &mut open.format {
            Format::Pcap(reader) => reader.fill(&mut open.win, batch, &mut self.state, BATCH_BYTES),
            Format::Pcapng(reader) => {
                reader.fill(&mut open.win, batch, &mut self.state, BATCH_BYTES)
            }
        };
        self.packets += batch.len() as u64;
        self.bytes_read = self.done_bytes + open.win.stream.raw_pos;
        let name = self.files[self.next].name.clone();
        if step == Step::Done {
            self.end_file();
        }
        self.apply_filter(&name, batch);
        Ok(true)
    }

    /// The frame at `index` of the batch the last `next_batch` filled.
    #[inline]
    pub fn frame<'a>(&'a self, batch: &FrameBatch, index: usize) -> (i64, u32, &'a [u8]) {
        batch.get(self.window_buf(), index)
    }

    /// Every frame of the batch the last `next_batch` filled, in order.
    pub fn frames<'a>(
        &'a self,
        batch: &'a FrameBatch,
    ) -> impl Iterator<Item = (i64, u32, &'a [u8])> {
        let buf = self.window_buf();
        (0..batch.len()).map(move |index| batch.get(buf, index))
    }

    /// The buffer the last batch's frames are in: the open file's window, or the one that just ended.
    fn window_buf(&self) -> &[u8] {
        self.current
            .as_ref()
            .or(self.ended.as_ref())
            .map_or(&[], |open| open.win.buf())
    }

    fn end_file(&mut self) {
        self.ended = self.current.take();
        self.done_bytes += self.files[self.next].size;
        self.bytes_read = self.done_bytes;
        self.next += 1;
    }

    fn apply_filter(&mut self, name: &str, batch: &mut FrameBatch) {
        let Some(filter) = self.filter.as_mut() else {
            return;
        };
        let total = batch.len();
        let mut failure: Option<(usize, String)> = None;
        let buf = self
            .current
            .as_ref()
            .or(self.ended.as_ref())
            .map_or(&[][..], |open| open.win.buf());
        batch.retain_frames(buf, |index, linktype, frame| {
            if failure.is_some() {
                return false;
            }
            match filter.matches(linktype, frame) {
                Ok(matched) => matched,
                Err(reason) => {
                    failure = Some((index, reason));
                    false
                }
            }
        });
        let seen = failure.as_ref().map_or(total, |(index, _)| *index);
        self.filtered_out += (seen - batch.len()) as u64;
        if let Some((index, reason)) = failure {
            self.packets -= (total - index) as u64;
            self.pending_error = Some(CaptureError(format!("{name}: {reason}")));
        }
    }

    /// Opens the next file and picks its reader; `Ok(None)` when the file has no usable data (warned).
    fn open_next(&mut self) -> Result<Option<OpenFile>, CaptureError> {
        let entry = &self.files[self.next];
        let stream = match &entry.memory {
            Some(data) => {
                let data = Box::new(Cursor::new(Arc::clone(data)));
                ChunkStream::from_reader_in_chunks(&entry.name, data, self.read_cap)?
            }
            None => ChunkStream::open(&entry.name, &entry.path)?,
        };
        let mut stream = stream;
        if self.reader_thread {
            stream.use_reader_thread();
        }
        let mut win = Window::new(stream);
        while win.available() < 4 {
            if win.fill() == 0 {
                break;
            }
        }
        let head = win.data();
        if magic(head).is_some() {
            return Ok(
                PcapReader::start(&mut win, &mut self.state)?.map(|r| OpenFile {
                    win,
                    format: Format::Pcap(r),
                }),
            );
        }
        if head.starts_with(SHB_MAGIC) {
            let reader = PcapngReader::new(&entry.name);
            return Ok(Some(OpenFile {
                win,
                format: Format::Pcapng(reader),
            }));
        }
        if let Some(damage) = &win.stream.damage {
            self.state
                .damaged(format!("{}: {damage}; file skipped", entry.name));
            return Ok(None);
        }
        Err(CaptureError(format!(
            "{}: not a capture file ({})",
            entry.name,
            describe(head, &win.stream)
        )))
    }

    /// New warning lines since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.state.warnings)
    }

    /// Frames read from the files (before the BPF filter).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// On-disk bytes consumed so far, for progress.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Sum of the files' sizes.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Frames the BPF filter rejected.
    pub fn filtered_out(&self) -> u64 {
        self.filtered_out
    }

    /// The capture stage's named counters (every name, zeros included).
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        self.state.counters()
    }
}

/// Why the first bytes are not a capture: its magic, or that it is (nearly) empty.
fn describe(head: &[u8], stream: &ChunkStream) -> String {
    let packed = stream
        .compression()
        .map_or(String::new(), |kind| format!("{kind}-compressed, "));
    match head.len() {
        0 => format!("{packed}empty"),
        n if n < 4 => format!("{packed}only {n} bytes"),
        _ => format!(
            "{packed}magic 0x{:02x}{:02x}{:02x}{:02x}",
            head[0], head[1], head[2], head[3]
        ),
    }
}
