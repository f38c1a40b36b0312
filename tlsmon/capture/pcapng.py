"""pcapng files (draft-ietf-opsawg-pcapng): sections of typed, length-framed blocks.

Theory of operation. Every block is ``type, total length, body, total length`` in the byte order of its
section; the Section Header Block (SHB, type 0x0a0d0d0a, a palindrome) carries a byte-order magic, so a new
SHB can switch byte order and always starts a fresh list of interfaces. Interface Description Blocks (IDB)
define, in order, interface 0, 1, …: its link type, snaplen and timestamp unit (``if_tsresol``: 10^-n or
2^-n seconds, default microseconds) and offset (``if_tsoffset``, seconds). Frames come from Enhanced Packet
Blocks (EPB), Simple Packet Blocks (SPB: interface 0, no timestamp — tlsmon gives them the timestamp of the
previous packet, so time never runs backwards) and the obsolete Packet Block (type 2). Every other block type
is skipped by its length.

As for classic pcap, blocks are walked with precompiled ``unpack_from`` calls over a 256 KiB chunk and
the incomplete block at its end is carried into the next chunk. A block whose framing is inconsistent (bad
length, trailing length differs, captured length beyond the block, unknown interface) is corruption; a file
that ends inside a block is truncated; either way the frames before it are kept and one warning is given.
The packets of an interface whose link type tlsmon does not decode are skipped and counted
(``capture.unsupported_interface_packets``), with one warning per interface at its first packet; the other
interfaces are read on. Timestamps are checked as ``frames`` describes.
"""

from __future__ import annotations

import struct
from typing import Final

from tlsmon.capture.frames import (
    INT64_MAX,
    INT64_MIN,
    MAX_FORWARD_JUMP_NS,
    MAX_RECORD_BYTES,
    NO_GOOD_TS,
    NO_PREVIOUS_TS,
    Batch,
    Reader,
    ReadState,
    Unpack,
    skipped_rest,
    truncated_at,
)
from tlsmon.capture.linktypes import SUPPORTED, linktype_name
from tlsmon.capture.stream import ChunkStream

# Block types (draft-ietf-opsawg-pcapng §10.1)
BT_SHB: Final = 0x0A0D0D0A
BT_IDB: Final = 0x00000001
BT_PB_OBSOLETE: Final = 0x00000002
BT_SPB: Final = 0x00000003
BT_EPB: Final = 0x00000006

# Option codes of the IDB (§4.2)
OPT_ENDOFOPT: Final = 0
IF_TSRESOL: Final = 9
IF_TSOFFSET: Final = 14

SHB_MAGIC: Final = b"\x0a\x0d\x0d\x0a"
BOM_LITTLE: Final = b"\x4d\x3c\x2b\x1a"  # 0x1a2b3c4d written little-endian
BOM_BIG: Final = b"\x1a\x2b\x3c\x4d"
DEFAULT_TSRESOL: Final = 6  # microseconds when if_tsresol is absent
NS_PER_S: Final = 1_000_000_000

# One interface: (linktype, mult, shift, div, offset_ns, snaplen);
# ts_ns = ((units * mult) >> shift) // div + offset_ns
Interface = tuple[int, int, int, int, int, int]


class _Structs:
    """The precompiled unpackers of one byte order."""

    __slots__ = ("block", "head", "idb", "opt", "pb", "shb", "tsoffset", "u32")

    def __init__(self, order: str) -> None:
        self.head: Unpack = struct.Struct(order + "6I").unpack_from  # type, len, EPB ifid/ts_hi/ts_lo/caplen
        self.block: Unpack = struct.Struct(order + "II").unpack_from
        self.u32: Unpack = struct.Struct(order + "I").unpack_from
        self.shb: Unpack = struct.Struct(order + "HH").unpack_from
        self.idb: Unpack = struct.Struct(order + "H2xI").unpack_from
        self.opt: Unpack = struct.Struct(order + "HH").unpack_from
        self.pb: Unpack = struct.Struct(order + "HxxIII").unpack_from
        self.tsoffset: Unpack = struct.Struct(order + "q").unpack_from


_LITTLE = _Structs("<")
_BIG = _Structs(">")


def timestamp_scale(tsresol: int) -> tuple[int, int, int]:
    """``(mult, shift, div)`` turning timestamp units of an ``if_tsresol`` byte into nanoseconds."""
    exponent = tsresol & 0x7F
    if tsresol & 0x80:  # 2^-exponent seconds
        return NS_PER_S, exponent, 1
    if exponent <= 9:
        return 10 ** (9 - exponent), 0, 1
    return 1, 0, 10 ** (exponent - 9)


def parse_idb(data: bytes, pos: int, end: int, st: _Structs) -> tuple[int, int, int, int]:
    """``(linktype, snaplen, tsresol, tsoffset_s)`` of the IDB at ``pos`` whose options end at ``end``."""
    linktype, snaplen = st.idb(data, pos + 8)
    tsresol = DEFAULT_TSRESOL
    tsoffset = 0
    p = pos + 16
    opt = st.opt
    while p + 4 <= end:
        code, length = opt(data, p)
        if code == OPT_ENDOFOPT:
            break
        value = p + 4
        if value + length > end:
            break
        if code == IF_TSRESOL and length >= 1:
            tsresol = data[value]
        elif code == IF_TSOFFSET and length >= 8:
            tsoffset = st.tsoffset(data, value)[0]
        p = value + ((length + 3) & ~3)
    return linktype, snaplen, tsresol, tsoffset


def read_pcapng(stream: ChunkStream, data: bytes, state: ReadState) -> Reader:
    """Yield the frames of a pcapng file in batches; ``data`` is the stream's first chunk."""
    path = stream.name
    pos = 0
    base = 0  # uncompressed file offset of data[0]
    packets = 0
    last_ts = 0  # timestamp handed out with the file's previous packet (Simple Packet Blocks take it)
    prev, top = NO_PREVIOUS_TS, NO_GOOD_TS  # raw ts of the previous packet with one, largest good one
    jump = MAX_FORWARD_JUMP_NS
    ifaces: list[Interface | None] = []
    unsupported: dict[int, int] = {}  # interface id → its link type (negated once warned about)
    st = _LITTLE
    head, block, u32 = st.head, st.block, st.u32
    while True:
        end = len(data)
        out: Batch = []
        append = out.append
        problem: str | None = None
        while pos + 12 <= end:
            if pos + 28 <= end:
                btype, blen, ifid, hi, lo, cap = head(data, pos)
            else:
                btype, blen = block(data, pos)
                ifid = hi = lo = cap = 0
            if btype == BT_SHB:
                bom = data[pos + 8 : pos + 12]
                if bom != BOM_LITTLE and bom != BOM_BIG:
                    problem = f"corrupt section header at byte {base + pos} (byte-order magic {bom.hex()})"
                    break
                st = _LITTLE if bom == BOM_LITTLE else _BIG
                head, block, u32 = st.head, st.block, st.u32
                blen = block(data, pos)[1]
            if blen < 12 or blen & 3 or blen > MAX_RECORD_BYTES:
                problem = f"corrupt block at byte {base + pos} (type 0x{btype:08x}, length {blen})"
                break
            nxt = pos + blen
            if nxt > end:
                break
            if u32(data, nxt - 4)[0] != blen:
                problem = f"corrupt block at byte {base + pos} (type 0x{btype:08x}, trailing length differs)"
                break
            if btype == BT_EPB:
                start = pos + 28
                if cap > blen - 32:
                    if blen < 32:  # the fields read as ifid…cap lie partly beyond the block
                        problem = f"corrupt packet block at byte {base + pos} (length {blen})"
                    else:
                        problem = f"corrupt packet block at byte {base + pos} (captured length {cap})"
                    break
                try:
                    iface = ifaces[ifid]
                except IndexError:
                    problem = f"packet block at byte {base + pos} for undefined interface {ifid}"
                    break
                if iface is None:
                    _skip_unsupported(path, state, unsupported, ifid)
                    pos = nxt
                    continue
                linktype, mult, shift, div, offset, _snaplen = iface
                ts = ((hi << 32) | lo) * mult
                if shift:
                    ts >>= shift
                if div != 1:
                    ts //= div
                ts += offset
                if (ts - prev > jump and ts - top > jump) or ts > INT64_MAX or ts < INT64_MIN:
                    prev = ts
                    ts = last_ts if packets or out else state.last_ts
                    state.bad_timestamp += 1
                else:
                    prev = ts
                    if ts > top:
                        top = ts
                last_ts = ts
                append((ts, linktype, data[start : start + cap]))
            elif btype == BT_SPB:
                if blen < 16:
                    problem = f"corrupt packet block at byte {base + pos} (length {blen})"
                    break
                if not ifaces:
                    problem = f"simple packet block at byte {base + pos} before any interface"
                    break
                iface = ifaces[0]
                if iface is None:
                    _skip_unsupported(path, state, unsupported, 0)
                    pos = nxt
                    continue
                orig = u32(data, pos + 8)[0]
                cap = min(orig, blen - 16, iface[5] or orig)
                append((last_ts, iface[0], data[pos + 12 : pos + 12 + cap]))
            elif btype == BT_IDB:
                if blen < 20:
                    problem = f"corrupt interface block at byte {base + pos} (length {blen})"
                    break
                linktype, snaplen, tsresol, tsoffset = parse_idb(data, pos, nxt - 4, st)
                if linktype in SUPPORTED:
                    mult, shift, div = timestamp_scale(tsresol)
                    ifaces.append((linktype, mult, shift, div, tsoffset * NS_PER_S, snaplen))
                else:
                    unsupported[len(ifaces)] = linktype
                    ifaces.append(None)
            elif btype == BT_PB_OBSOLETE:
                if blen < 32:
                    problem = f"corrupt packet block at byte {base + pos} (length {blen})"
                    break
                ifid, hi, lo, cap = st.pb(data, pos + 8)
                if cap > blen - 32:
                    problem = f"corrupt packet block at byte {base + pos} (captured length {cap})"
                    break
                try:
                    iface = ifaces[ifid]
                except IndexError:
                    problem = f"packet block at byte {base + pos} for undefined interface {ifid}"
                    break
                if iface is None:
                    _skip_unsupported(path, state, unsupported, ifid)
                    pos = nxt
                    continue
                linktype, mult, shift, div, offset, _snaplen = iface
                ts = ((((hi << 32) | lo) * mult) >> shift) // div + offset
                if (ts - prev > jump and ts - top > jump) or ts > INT64_MAX or ts < INT64_MIN:
                    prev = ts
                    ts = last_ts if packets or out else state.last_ts
                    state.bad_timestamp += 1
                else:
                    prev = ts
                    if ts > top:
                        top = ts
                last_ts = ts
                append((ts, linktype, data[pos + 28 : pos + 28 + cap]))
            elif btype == BT_SHB:
                if blen < 28:
                    problem = f"corrupt section header at byte {base + pos} (length {blen})"
                    break
                major, minor = st.shb(data, pos + 12)
                if major != 1:
                    problem = f"unsupported pcapng version {major}.{minor} at byte {base + pos}"
                    break
                ifaces = []
                unsupported = {}
            pos = nxt
        if out:
            packets += len(out)
            state.last_ts = out[-1][0]
            yield out
        if problem is not None:
            state.damaged(skipped_rest(path, problem, packets))
            return
        chunk = stream.read()
        if not chunk:
            if pos < end or stream.damage:
                state.damaged(truncated_at(path, "block", base + pos, packets, stream.damage))
            return
        data = data[pos:] + chunk
        base += pos
        pos = 0


def _skip_unsupported(path: str, state: ReadState, unsupported: dict[int, int], ifid: int) -> None:
    """Count a packet of an interface whose link type is not decoded; warn at its first packet."""
    state.unsupported_interface_packets += 1
    linktype = unsupported[ifid]
    if linktype >= 0:
        unsupported[ifid] = -1 - linktype
        state.notice(
            f"{path}: packets of interface {ifid} skipped (unsupported link type {linktype} "
            f"({linktype_name(linktype)}))"
        )
