//! The TLS record layer of one direction: bytes in, whole records out (`tlsmon/tls/record.py`).
//!
//! Theory of operation: [`RecordReader::feed`] appends a segment to the direction's buffer and
//! [`RecordReader::next_record`] returns one complete record at a time, or None when more bytes are needed.
//! Each 5-byte header is checked; a bad one stops the direction with its anomaly in [`RecordReader::error`].
//! SSLv2 records are recognised only as the first record of a direction (a CLIENT-HELLO from the client, a
//! SERVER-HELLO from the server) and come back with the pseudo content type [`CT_SSLV2`]. Once
//! [`RecordReader::keep_bodies`] is cleared (the direction is encrypted), records are still delimited but
//! their bodies are skipped without buffering.

use super::anomalies::{self, Anomaly};
pub use super::codes::MAX_RECORD_LENGTH;
use super::codes::{is_tls_content_type, SSL2_MT_CLIENT_HELLO, SSL2_MT_SERVER_HELLO, SSLV2};

/// Pseudo content type of an SSLv2 record.
pub const CT_SSLV2: u32 = 0x100;
/// Compact the buffer once this many consumed bytes sit in front of it.
const COMPACT_AT: usize = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing seen yet: the first header decides between TLS and SSLv2.
    Detect,
    Tls,
    /// The client sent an SSLv2 CLIENT-HELLO; its next record may be SSLv2 or TLS.
    V2Hello,
    /// An SSLv2 session: every record is SSLv2.
    V2,
}

pub struct Record {
    pub content_type: u32,
    pub version: u32,
    pub body: Vec<u8>,
}

pub struct RecordReader {
    is_orig: bool,
    buf: Vec<u8>,
    pos: usize,
    skip: usize,
    pub mode: Mode,
    pub keep_bodies: bool,
    pub closed: bool,
    pub error: Option<Anomaly>,
}

impl RecordReader {
    pub fn new(is_orig: bool) -> Self {
        Self {
            is_orig,
            buf: Vec::new(),
            pos: 0,
            skip: 0,
            mode: Mode::Detect,
            keep_bodies: true,
            closed: false,
            error: None,
        }
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        if self.closed || data.is_empty() {
            return;
        }
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            if n == data.len() {
                return;
            }
            data = &data[n..];
        }
        if self.pos >= self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos >= COMPACT_AT {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet returned as (part of) a record.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Drop everything buffered and ignore later bytes; `anomaly` says why, None for a normal stop.
    pub fn stop(&mut self, anomaly: Option<Anomaly>) {
        self.closed = true;
        self.error = anomaly;
        self.buf = Vec::new();
        self.pos = 0;
        self.skip = 0;
    }

    pub fn next_record(&mut self) -> Option<Record> {
        if self.closed || self.skip > 0 {
            return None;
        }
        if self.mode == Mode::Tls {
            return self.next_tls();
        }
        let avail = self.buf.len() - self.pos;
        if avail < 1 {
            return None;
        }
        let first = self.buf[self.pos];
        match self.mode {
            Mode::V2 => self.next_v2(first & 0x80 == 0),
            Mode::V2Hello => {
                if first & 0x80 != 0 {
                    return self.next_v2(false);
                }
                if avail < 2 {
                    return None;
                }
                if is_tls_content_type(u32::from(first)) && self.buf[self.pos + 1] == 3 {
                    self.mode = Mode::Tls;
                    return self.next_tls();
                }
                self.stop(Some(anomalies::UNKNOWN_CONTENT_TYPE));
                None
            }
            _ => self.detect(first),
        }
    }

    fn detect(&mut self, first: u8) -> Option<Record> {
        if first & 0x80 == 0 {
            self.mode = Mode::Tls;
            return self.next_tls();
        }
        let pos = self.pos;
        if self.buf.len() - pos < 5 {
            return None;
        }
        let msg_type = u32::from(self.buf[pos + 2]);
        if self.is_orig && msg_type == SSL2_MT_CLIENT_HELLO {
            let version = u32::from(u16::from_be_bytes([self.buf[pos + 3], self.buf[pos + 4]]));
            if !matches!(version, SSLV2 | 0x0300..=0x0303) {
                self.stop(Some(anomalies::UNKNOWN_CONTENT_TYPE));
                return None;
            }
            self.mode = Mode::V2Hello;
            return self.next_v2(false);
        }
        if !self.is_orig && msg_type == SSL2_MT_SERVER_HELLO {
            self.mode = Mode::V2;
            return self.next_v2(false);
        }
        self.stop(Some(anomalies::UNKNOWN_CONTENT_TYPE));
        None
    }

    fn next_tls(&mut self) -> Option<Record> {
        let pos = self.pos;
        if self.buf.len() - pos < 5 {
            return None;
        }
        let b = &self.buf[pos..pos + 5];
        let content_type = u32::from(b[0]);
        let version = u32::from(u16::from_be_bytes([b[1], b[2]]));
        let length = u16::from_be_bytes([b[3], b[4]]) as usize;
        if !is_tls_content_type(content_type) {
            self.stop(Some(anomalies::UNKNOWN_CONTENT_TYPE));
            return None;
        }
        if version >> 8 != 3 || version & 0xFF > 4 {
            self.stop(Some(anomalies::BAD_RECORD_VERSION));
            return None;
        }
        if length > MAX_RECORD_LENGTH {
            self.stop(Some(anomalies::RECORD_TOO_LONG));
            return None;
        }
        self.take(content_type, version, 5, length)
    }

    fn next_v2(&mut self, three_byte_header: bool) -> Option<Record> {
        let pos = self.pos;
        let header = if three_byte_header { 3 } else { 2 };
        if self.buf.len() - pos < header {
            return None;
        }
        let mask = if three_byte_header { 0x3F } else { 0x7F };
        let length = ((self.buf[pos] & mask) as usize) << 8 | self.buf[pos + 1] as usize;
        self.take(CT_SSLV2, SSLV2, header, length)
    }

    fn take(
        &mut self,
        content_type: u32,
        version: u32,
        header: usize,
        length: usize,
    ) -> Option<Record> {
        let start = self.pos + header;
        let end = start + length;
        if !self.keep_bodies {
            let taken = end.min(self.buf.len());
            self.skip = end - taken;
            self.pos = taken;
            return Some(Record {
                content_type,
                version,
                body: Vec::new(),
            });
        }
        if end > self.buf.len() {
            return None;
        }
        self.pos = end;
        Some(Record {
            content_type,
            version,
            body: self.buf[start..end].to_vec(),
        })
    }
}
