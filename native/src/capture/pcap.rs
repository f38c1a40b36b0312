//! Classic libpcap files (mirrors `tlsmon/capture/pcap.py`): a 24-byte file header, then records of a
//! 16-byte header (24 in Kuznetzov's variant) and the frame.
//!
//! The magic gives byte order and timestamp unit; the link type is the low 16 bits of the header's last
//! field. A header whose version libpcap would not read (2.0–2.4, DG/UX 543.0) is a corrupt header (one
//! warning, file skipped); a record longer than any plausible snaplen is corruption; a file ending inside a
//! record is truncated: the frames before are kept, one warning is given.

use super::errors::CaptureError;
use super::frames::{
    skipped_rest, truncated_at, FrameBatch, ReadState, TsHistory, LIBPCAP_MAXIMUM_SNAPLEN,
    MAX_RECORD_BYTES,
};
use super::linktypes::{is_supported, linktype_name};
use super::reader::{Step, Window};

pub const FILE_HEADER_LEN: usize = 24;
const NS_PER_S: i128 = 1_000_000_000;

/// `(big endian, ns per fraction unit, record header length)` of a classic pcap magic as stored.
pub fn magic(head: &[u8]) -> Option<(bool, i128, usize)> {
    match head.get(..4)? {
        b"\xd4\xc3\xb2\xa1" => Some((false, 1000, 16)),
        b"\xa1\xb2\xc3\xd4" => Some((true, 1000, 16)),
        b"\x4d\x3c\xb2\xa1" => Some((false, 1, 16)),
        b"\xa1\xb2\x3c\x4d" => Some((true, 1, 16)),
        b"\x34\xcd\xb2\xa1" => Some((false, 1000, 24)),
        b"\xa1\xb2\xcd\x34" => Some((true, 1000, 24)),
        _ => None,
    }
}

/// The file header versions libpcap reads (sf-pcap.c); anything else is garbage after a magic.
pub fn header_is_valid(major: u16, minor: u16) -> bool {
    (major == 2 && minor <= 4) || (major == 543 && minor == 0)
}

pub struct PcapReader {
    big: bool,
    frac_ns: i128,
    hlen: usize,
    linktype: u32,
    maxcap: u32,
    history: TsHistory,
    packets: u64,
}

impl PcapReader {
    /// Reads the file header from `win` (whose data start at file offset 0). `Ok(None)` when the file is
    /// damaged before its first record (a warning was given).
    pub fn start(win: &mut Window, state: &mut ReadState) -> Result<Option<Self>, CaptureError> {
        while win.available() < FILE_HEADER_LEN {
            if win.fill() == 0 {
                state.damaged(truncated_at(
                    &win.stream.name,
                    "file header",
                    0,
                    0,
                    win.stream.damage.as_deref(),
                ));
                return Ok(None);
            }
        }
        let head = win.data();
        let (big, frac_ns, hlen) = magic(head).expect("pcap magic checked by the caller");
        let u16_at = |p: usize| read_u16(head, p, big);
        let u32_at = |p: usize| read_u32(head, p, big);
        let (major, minor, snaplen, network) = (u16_at(4), u16_at(6), u32_at(16), u32_at(20));
        let path = win.stream.name.clone();
        if !header_is_valid(major, minor) {
            state.damaged(skipped_rest(
                &path,
                &format!("corrupt file header at byte 0 (version {major}.{minor})"),
                0,
            ));
            return Ok(None);
        }
        let linktype = network & 0xFFFF;
        if !is_supported(linktype) {
            return Err(CaptureError(format!(
                "{path}: unsupported link type {linktype} ({})",
                linktype_name(linktype)
            )));
        }
        win.consume(FILE_HEADER_LEN);
        Ok(Some(Self {
            big,
            frac_ns,
            hlen,
            linktype,
            maxcap: snaplen.clamp(LIBPCAP_MAXIMUM_SNAPLEN, MAX_RECORD_BYTES),
            history: TsHistory::default(),
            packets: 0,
        }))
    }

    /// Moves frames into `batch` until it holds `budget` bytes (`Step::Paused`) or the file ends.
    pub fn fill(
        &mut self,
        win: &mut Window,
        batch: &mut FrameBatch,
        state: &mut ReadState,
        budget: usize,
    ) -> Step {
        let hlen = self.hlen;
        loop {
            let origin = win.start();
            let data = win.data();
            let end = data.len();
            let mut pos = 0;
            let mut problem = None;
            while pos + hlen <= end {
                let sec = read_u32(data, pos, self.big);
                let frac = read_u32(data, pos + 4, self.big);
                let incl = read_u32(data, pos + 8, self.big);
                if incl > self.maxcap {
                    problem = Some(format!(
                        "corrupt record at byte {} (captured length {incl} > {})",
                        win.offset() + pos as u64,
                        self.maxcap
                    ));
                    break;
                }
                let start = pos + hlen;
                let next = start + incl as usize;
                if next > end {
                    break;
                }
                let raw = sec as i128 * NS_PER_S + frac as i128 * self.frac_ns;
                let ts = state.checked_ts(raw, &mut self.history);
                state.last_ts = ts;
                batch.push(ts, self.linktype, origin + start, incl as usize);
                self.packets += 1;
                pos = next;
                if batch.is_full(budget) {
                    win.consume(pos);
                    return Step::Paused;
                }
            }
            win.consume(pos);
            if let Some(what) = problem {
                state.damaged(skipped_rest(&win.stream.name, &what, self.packets));
                return Step::Done;
            }
            if !batch.is_empty() {
                return Step::Paused; // refilling moves the window's bytes: the batch's frames are there
            }
            if !win.refill(state, "record", self.packets) {
                return Step::Done;
            }
        }
    }
}

#[inline]
pub(crate) fn read_u16(data: &[u8], pos: usize, big: bool) -> u16 {
    let b = [data[pos], data[pos + 1]];
    if big {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    }
}

#[inline]
pub(crate) fn read_u32(data: &[u8], pos: usize, big: bool) -> u32 {
    let b = [data[pos], data[pos + 1], data[pos + 2], data[pos + 3]];
    if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}
