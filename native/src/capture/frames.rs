//! The frame batch handed to the tracker, the state the readers share, and the wording of warnings.
//!
//! Impossible timestamps (issue 8), exactly as `tlsmon/capture/frames.py`: a packet timestamp is impossible
//! when it is not representable as int64 nanoseconds, or when it is more than [`MAX_FORWARD_JUMP_NS`]
//! (20 Julian years) later than both the raw timestamp of the previous packet with a timestamp in the same
//! file and the largest good timestamp of that file so far. It is counted as `capture.bad_timestamp` and
//! handed out with the last timestamp handed out by the source (0 before any). Timestamps are computed in
//! `i128`, so no value from a file can overflow.

/// A record or block longer than this is corruption, not a frame to wait for.
pub const MAX_RECORD_BYTES: u32 = 64 * 1024 * 1024;
/// libpcap's MAXIMUM_SNAPLEN: the smallest captured-length cap a classic pcap file gets.
pub const LIBPCAP_MAXIMUM_SNAPLEN: u32 = 262_144;
/// 20 Julian years (365.25 days each), in nanoseconds.
pub const MAX_FORWARD_JUMP_NS: i128 = 20 * 31_557_600 * 1_000_000_000;
/// The "previous raw" and "largest good" timestamps a file starts with: no first packet is a jump from both.
pub const NO_PREVIOUS_TS: i128 = i64::MAX as i128;
pub const NO_GOOD_TS: i128 = i64::MIN as i128 - 1;

/// What the timestamp check remembers of one file.
#[derive(Debug, Clone, Copy)]
pub struct TsHistory {
    prev: i128,
    top: i128,
}

impl Default for TsHistory {
    fn default() -> Self {
        Self {
            prev: NO_PREVIOUS_TS,
            top: NO_GOOD_TS,
        }
    }
}

pub const BAD_TIMESTAMP: &str = "capture.bad_timestamp";
pub const UNSUPPORTED_INTERFACE_PACKETS: &str = "capture.unsupported_interface_packets";
pub const DAMAGED_FILES: &str = "capture.damaged_files";

/// Frames per batch at most (many empty or tiny frames must not make one huge batch).
pub const MAX_BATCH_FRAMES: usize = 16_384;

/// Frames of one read, in stream order: `(ts_ns, linktype, start, len)` each, where the bytes are
/// `buf[start..start + len]` of the reader's window. A frame is never copied: the window keeps every byte of
/// the batch until the next read (a reader ends a batch rather than refill its window under it), and
/// [`super::CaptureSource::frame`] hands the bytes out from there.
#[derive(Debug, Default, Clone)]
pub struct FrameBatch {
    frames: Vec<(i64, u32, usize, usize)>,
    bytes: usize,
}

impl FrameBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.frames.clear();
        self.bytes = 0;
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Bytes of frame data the batch names.
    pub fn data_len(&self) -> usize {
        self.bytes
    }

    /// Holds `budget` bytes of frames, or [`MAX_BATCH_FRAMES`] frames.
    #[inline]
    pub fn is_full(&self, budget: usize) -> bool {
        self.bytes >= budget || self.frames.len() >= MAX_BATCH_FRAMES
    }

    /// A frame of `len` bytes at `start` of the window's buffer.
    #[inline]
    pub fn push(&mut self, ts_ns: i64, linktype: u32, start: usize, len: usize) {
        self.bytes += len;
        self.frames.push((ts_ns, linktype, start, len));
    }

    /// The frame at `index`, its bytes taken from `buf` (the window's buffer).
    #[inline]
    pub fn get<'a>(&self, buf: &'a [u8], index: usize) -> (i64, u32, &'a [u8]) {
        let (ts, linktype, start, len) = self.frames[index];
        (ts, linktype, &buf[start..start + len])
    }

    /// Keeps the frames for which `keep` is true, in order.
    pub(crate) fn retain_frames(
        &mut self,
        buf: &[u8],
        mut keep: impl FnMut(usize, u32, &[u8]) -> bool,
    ) {
        let mut index = 0;
        let mut bytes = 0;
        self.frames.retain(|&(_, linktype, start, len)| {
            let kept = keep(index, linktype, &buf[start..start + len]);
            index += 1;
            if kept {
                bytes += len;
            }
            kept
        });
        self.bytes = bytes;
    }
}

/// What the readers of one source share: the last timestamp handed out, counters, warnings.
#[derive(Debug, Default)]
pub struct ReadState {
    pub last_ts: i64,
    pub bad_timestamp: u64,
    pub unsupported_interface_packets: u64,
    pub damaged_files: u64,
    pub warnings: Vec<String>,
}

impl ReadState {
    /// Damage that ends the reading of a file.
    pub fn damaged(&mut self, line: String) {
        self.damaged_files += 1;
        self.warnings.push(line);
    }

    /// A warning that does not end the file.
    pub fn notice(&mut self, line: String) {
        self.warnings.push(line);
    }

    /// The timestamp to hand out for a packet whose raw timestamp is `ts`, given its file's `history`.
    #[inline]
    pub fn checked_ts(&mut self, ts: i128, history: &mut TsHistory) -> i64 {
        let jumped =
            ts - history.prev > MAX_FORWARD_JUMP_NS && ts - history.top > MAX_FORWARD_JUMP_NS;
        history.prev = ts;
        if jumped || ts > i64::MAX as i128 || ts < i64::MIN as i128 {
            self.bad_timestamp += 1;
            self.last_ts
        } else {
            if ts > history.top {
                history.top = ts;
            }
            ts as i64
        }
    }

    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            (BAD_TIMESTAMP, self.bad_timestamp),
            (
                UNSUPPORTED_INTERFACE_PACKETS,
                self.unsupported_interface_packets,
            ),
            (DAMAGED_FILES, self.damaged_files),
        ]
    }
}

/// The one-line warning for damage that ends the reading of a file.
pub fn skipped_rest(path: &str, what: &str, packets: u64) -> String {
    format!("{path}: {what} after {packets} packets; rest of file skipped")
}

/// A file that ends inside a `kind` (record/block) at uncompressed `offset`, or whose compressed stream
/// was damaged (then that is named instead).
pub fn truncated_at(
    path: &str,
    kind: &str,
    offset: u64,
    packets: u64,
    damage: Option<&str>,
) -> String {
    match damage {
        Some(damage) => skipped_rest(path, damage, packets),
        None => skipped_rest(path, &format!("truncated {kind} at byte {offset}"), packets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_names_frames_in_the_window_without_copying_them() {
        let window = b"..abc.de";
        let mut batch = FrameBatch::new();
        batch.push(5, 1, 2, 3);
        batch.push(6, 101, 6, 2);
        assert_eq!((batch.len(), batch.data_len()), (2, 5));
        assert_eq!(batch.get(window, 0), (5, 1, &b"abc"[..]));
        assert_eq!(batch.get(window, 1), (6, 101, &b"de"[..]));
        batch.retain_frames(window, |i, _, _| i == 1);
        assert_eq!((batch.len(), batch.data_len()), (1, 2));
        assert_eq!(batch.get(window, 0), (6, 101, &b"de"[..]));
        batch.clear();
        assert!(batch.is_empty());
    }

    const SECOND: i128 = 1_000_000_000;

    #[test]
    fn a_jump_of_decades_is_replaced_by_the_last_timestamp_handed_out() {
        let mut state = ReadState::default();
        let mut history = TsHistory::default();
        state.last_ts = state.checked_ts(SECOND, &mut history);
        assert_eq!(
            state.checked_ts(SECOND + MAX_FORWARD_JUMP_NS + 1, &mut history),
            1_000_000_000
        );
        assert_eq!(state.bad_timestamp, 1);
        // compared with the raw previous value too: a real clock step costs one packet
        assert_eq!(
            state.checked_ts(SECOND + MAX_FORWARD_JUMP_NS + 2, &mut history),
            (SECOND + MAX_FORWARD_JUMP_NS + 2) as i64
        );
        assert_eq!(state.bad_timestamp, 1);
    }

    #[test]
    fn a_packet_after_a_corrupt_earlier_timestamp_is_good() {
        let mut state = ReadState::default();
        let mut history = TsHistory::default();
        let (y2015, y1994) = (1_429_518_024 * SECOND, 761_195_582 * SECOND);
        for ts in [y2015, y1994, y2015 + 1] {
            assert_eq!(state.checked_ts(ts, &mut history), ts as i64);
        }
        assert_eq!(state.bad_timestamp, 0);
    }

    #[test]
    fn a_timestamp_beyond_int64_is_bad() {
        let mut state = ReadState::default();
        let mut history = TsHistory::default();
        assert_eq!(state.checked_ts(i64::MAX as i128 + 1, &mut history), 0);
        assert_eq!(state.checked_ts(i64::MIN as i128 - 1, &mut history), 0);
        assert_eq!(state.bad_timestamp, 2);
    }
}
