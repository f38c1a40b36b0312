//! pcapng files (mirrors `tlsmon/capture/pcapng.py`): sections of typed, length-framed blocks.
//!
//! A Section Header Block sets the byte order and starts a fresh list of interfaces; Interface Description
//! Blocks define interfaces 0, 1, … with their link type, snaplen, `if_tsresol` and `if_tsoffset`; frames
//! come from Enhanced, Simple (interface 0, the previous packet's timestamp) and obsolete Packet Blocks.
//! Other blocks are skipped by length. Inconsistent framing is corruption, a file ending inside a block
//! is truncated: the frames before are kept and one warning is given. The packets of an interface whose
//! link type is not decoded are skipped and counted, with one warning per interface.

use super::frames::{skipped_rest, FrameBatch, ReadState, TsHistory, MAX_RECORD_BYTES};
use super::linktypes::{is_supported, linktype_name};
use super::pcap::{read_u16, read_u32};
use super::reader::{Step, Window};

pub const BT_SHB: u32 = 0x0A0D_0D0A;
pub const BT_IDB: u32 = 0x0000_0001;
pub const BT_PB_OBSOLETE: u32 = 0x0000_0002;
pub const BT_SPB: u32 = 0x0000_0003;
pub const BT_EPB: u32 = 0x0000_0006;
pub const SHB_MAGIC: &[u8] = b"\x0a\x0d\x0d\x0a";
const BOM_LITTLE: &[u8] = b"\x4d\x3c\x2b\x1a";
const BOM_BIG: &[u8] = b"\x1a\x2b\x3c\x4d";
const OPT_ENDOFOPT: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;
const DEFAULT_TSRESOL: u8 = 6;
const NS_PER_S: i128 = 1_000_000_000;
/// A divisor no 64-bit timestamp times any multiplier reaches: the quotient is 0.
const HUGE_DIV: i128 = 10_i128.pow(30);

/// `(mult, shift, div)` turning timestamp units of an `if_tsresol` byte into nanoseconds:
/// `ts_ns = ((units * mult) >> shift) / div`.
pub fn timestamp_scale(tsresol: u8) -> (i128, u32, i128) {
    let exponent = u32::from(tsresol & 0x7F);
    if tsresol & 0x80 != 0 {
        (NS_PER_S, exponent, 1)
    } else if exponent <= 9 {
        (10_i128.pow(9 - exponent), 0, 1)
    } else if exponent - 9 >= 30 {
        (1, 0, HUGE_DIV)
    } else {
        (1, 0, 10_i128.pow(exponent - 9))
    }
}

#[derive(Debug, Clone, Copy)]
enum Interface {
    Decoded {
        linktype: u32,
        mult: i128,
        shift: u32,
        div: i128,
        offset_ns: i128,
        snaplen: u32,
    },
    Unsupported {
        linktype: u32,
        warned: bool,
    },
}

pub struct PcapngReader {
    path: String,
    big: bool,
    ifaces: Vec<Interface>,
    last_ts: i64,
    history: TsHistory,
    packets: u64,
}

impl PcapngReader {
    pub fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            big: false,
            ifaces: Vec::new(),
            last_ts: 0,
            history: TsHistory::default(),
            packets: 0,
        }
    }

    /// Moves frames into `batch` until it holds `budget` bytes (`Step::Paused`) or the file ends.
    pub fn fill(
        &mut self,
        win: &mut Window,
        batch: &mut FrameBatch,
        state: &mut ReadState,
        budget: usize,
    ) -> Step {
        loop {
            let (pos, problem) = self.walk(win, batch, state, budget);
            win.consume(pos);
            if let Some(what) = problem {
                state.damaged(skipped_rest(&win.stream.name, &what, self.packets));
                return Step::Done;
            }
            if !batch.is_empty() {
                return Step::Paused; // refilling moves the window's bytes: the batch's frames are there
            }
            if !win.refill(state, "block", self.packets) {
                return Step::Done;
            }
        }
    }

    /// Walks the complete blocks of the window; returns how far it got and the damage that stopped it.
    fn walk(
        &mut self,
        win: &Window,
        batch: &mut FrameBatch,
        state: &mut ReadState,
        budget: usize,
    ) -> (usize, Option<String>) {
        let data = win.data();
        let origin = win.start();
        let base = win.offset();
        let end = data.len();
        let mut pos = 0;
        while pos + 12 <= end {
            if batch.is_full(budget) {
                break;
            }
            let btype = read_u32(data, pos, self.big);
            let at = base + pos as u64;
            if btype == BT_SHB {
                let bom = &data[pos + 8..pos + 12];
                if bom != BOM_LITTLE && bom != BOM_BIG {
                    return (
                        pos,
                        Some(format!(
                            "corrupt section header at byte {at} (byte-order magic {})",
                            hex(bom)
                        )),
                    );
                }
                self.big = bom == BOM_BIG;
            }
            let blen = read_u32(data, pos + 4, self.big);
            if blen < 12 || blen & 3 != 0 || blen > MAX_RECORD_BYTES {
                return (
                    pos,
                    Some(format!(
                        "corrupt block at byte {at} (type 0x{btype:08x}, length {blen})"
                    )),
                );
            }
            let next = pos + blen as usize;
            if next > end {
                break;
            }
            if read_u32(data, next - 4, self.big) != blen {
                return (
                    pos,
                    Some(format!(
                        "corrupt block at byte {at} (type 0x{btype:08x}, trailing length differs)"
                    )),
                );
            }
            let block = &data[pos..next];
            let result = match btype {
                BT_EPB | BT_PB_OBSOLETE => {
                    self.packet_block(btype, block, origin + pos, at, batch, state)
                }
                BT_SPB => self.simple_block(block, origin + pos, at, batch, state),
                BT_IDB => self.interface_block(block, at),
                BT_SHB => self.section_block(block, at),
                _ => Ok(()),
            };
            if let Err(problem) = result {
                return (pos, Some(problem));
            }
            pos = next;
        }
        (pos, None)
    }

    /// The interface a packet block names; `Ok(None)` (counted, warned once) for an unsupported one.
    fn interface(
        &mut self,
        ifid: u32,
        at: u64,
        state: &mut ReadState,
    ) -> Result<Option<Interface>, String> {
        let path = &self.path;
        let Some(iface) = self.ifaces.get_mut(ifid as usize) else {
            return Err(format!(
                "packet block at byte {at} for undefined interface {ifid}"
            ));
        };
        if let Interface::Unsupported { linktype, warned } = iface {
            state.unsupported_interface_packets += 1;
            if !*warned {
                *warned = true;
                state.notice(format!(
                    "{path}: packets of interface {ifid} skipped (unsupported link type {linktype} ({}))",
                    linktype_name(*linktype)
                ));
            }
            return Ok(None);
        }
        Ok(Some(*iface))
    }

    /// `origin`: where the block starts in the window's buffer.
    fn packet_block(
        &mut self,
        btype: u32,
        block: &[u8],
        origin: usize,
        at: u64,
        batch: &mut FrameBatch,
        state: &mut ReadState,
    ) -> Result<(), String> {
        let blen = block.len();
        if blen < 32 {
            return Err(format!("corrupt packet block at byte {at} (length {blen})"));
        }
        let big = self.big;
        let ifid = if btype == BT_EPB {
            read_u32(block, 8, big)
        } else {
            let b = [block[8], block[9]];
            u32::from(if big {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            })
        };
        let (hi, lo, cap) = (
            read_u32(block, 12, big),
            read_u32(block, 16, big),
            read_u32(block, 20, big),
        );
        if cap as usize > blen - 32 {
            return Err(format!(
                "corrupt packet block at byte {at} (captured length {cap})"
            ));
        }
        let Some(Interface::Decoded {
            linktype,
            mult,
            shift,
            div,
            offset_ns,
            ..
        }) = self.interface(ifid, at, state)?
        else {
            return Ok(());
        };
        let units = (i128::from(hi) << 32) | i128::from(lo);
        let raw = ((units * mult) >> shift) / div + offset_ns;
        let ts = state.checked_ts(raw, &mut self.history);
        self.deliver(ts, linktype, origin + 28, cap as usize, batch, state);
        Ok(())
    }

    fn simple_block(
        &mut self,
        block: &[u8],
        origin: usize,
        at: u64,
        batch: &mut FrameBatch,
        state: &mut ReadState,
    ) -> Result<(), String> {
        let blen = block.len();
        if blen < 16 {
            return Err(format!("corrupt packet block at byte {at} (length {blen})"));
        }
        if self.ifaces.is_empty() {
            return Err(format!(
                "simple packet block at byte {at} before any interface"
            ));
        }
        let Some(Interface::Decoded {
            linktype, snaplen, ..
        }) = self.interface(0, at, state)?
        else {
            return Ok(());
        };
        let orig = read_u32(block, 8, self.big) as usize;
        let limit = if snaplen == 0 { orig } else { snaplen as usize };
        let cap = orig.min(blen - 16).min(limit);
        self.deliver(self.last_ts, linktype, origin + 12, cap, batch, state);
        Ok(())
    }

    /// A frame of `len` bytes at `start` of the window's buffer.
    fn deliver(
        &mut self,
        ts: i64,
        linktype: u32,
        start: usize,
        len: usize,
        batch: &mut FrameBatch,
        state: &mut ReadState,
    ) {
        self.last_ts = ts;
        state.last_ts = ts;
        batch.push(ts, linktype, start, len);
        self.packets += 1;
    }

    fn interface_block(&mut self, block: &[u8], at: u64) -> Result<(), String> {
        let blen = block.len();
        if blen < 20 {
            return Err(format!(
                "corrupt interface block at byte {at} (length {blen})"
            ));
        }
        let big = self.big;
        let u16_at = |p: usize| read_u16(block, p, big);
        let linktype = u32::from(u16_at(8));
        let snaplen = read_u32(block, 12, big);
        let end = blen - 4;
        let (mut tsresol, mut tsoffset) = (DEFAULT_TSRESOL, 0_i64);
        let mut p = 16;
        while p + 4 <= end {
            let (code, length) = (u16_at(p), usize::from(u16_at(p + 2)));
            if code == OPT_ENDOFOPT {
                break;
            }
            let value = p + 4;
            if value + length > end {
                break;
            }
            if code == IF_TSRESOL && length >= 1 {
                tsresol = block[value];
            } else if code == IF_TSOFFSET && length >= 8 {
                let mut b = [0_u8; 8];
                b.copy_from_slice(&block[value..value + 8]);
                tsoffset = if big {
                    i64::from_be_bytes(b)
                } else {
                    i64::from_le_bytes(b)
                };
            }
            p = value + ((length + 3) & !3);
        }
        self.ifaces.push(if is_supported(linktype) {
            let (mult, shift, div) = timestamp_scale(tsresol);
            Interface::Decoded {
                linktype,
                mult,
                shift,
                div,
                offset_ns: i128::from(tsoffset) * NS_PER_S,
                snaplen,
            }
        } else {
            Interface::Unsupported {
                linktype,
                warned: false,
            }
        });
        Ok(())
    }

    fn section_block(&mut self, block: &[u8], at: u64) -> Result<(), String> {
        let blen = block.len();
        if blen < 28 {
            return Err(format!(
                "corrupt section header at byte {at} (length {blen})"
            ));
        }
        let big = self.big;
        let u16_at = |p: usize| read_u16(block, p, big);
        let (major, minor) = (u16_at(12), u16_at(14));
        if major != 1 {
            return Err(format!(
                "unsupported pcapng version {major}.{minor} at byte {at}"
            ));
        }
        self.ifaces.clear();
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
