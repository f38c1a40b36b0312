"""Classic libpcap files: a 24-byte file header, then records of a 16-byte header and the frame.

Theory of operation. The file header's magic gives the byte order and the timestamp unit (0xa1b2c3d4:
microseconds, 0xa1b23c4d: nanoseconds; 0xa1b2cd34 is Alexey Kuznetzov's variant with 24-byte record headers).
The link type is the low 16 bits of the header's last field (the upper bits carry FCS information, see
draft-ietf-opsawg-pcap). Records are walked with one precompiled ``unpack_from`` each over a 256 KiB chunk;
the incomplete record at the end of a chunk is carried into the next one. Each chunk's frames are yielded
as one list of ``(ts_ns, linktype, frame)`` tuples.

A record whose captured length exceeds any plausible snaplen is corruption; a file that ends inside a record
is truncated. Either way the frames before it are kept and one warning is given. A file header whose version
is not one libpcap reads (2.0 to 2.4, or DG/UX's 543.0) is a corrupt header: one warning, the file skipped —
not an "unsupported link type" read out of garbage. Timestamps are checked as ``frames`` describes.
"""

from __future__ import annotations

import struct
from typing import Final

from tlsmon.capture.errors import CaptureError
from tlsmon.capture.frames import (
    LIBPCAP_MAXIMUM_SNAPLEN,
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

FILE_HEADER_LEN: Final = 24
NS_PER_S: Final = 1_000_000_000

# magic bytes as stored → (struct byte order, ns per timestamp fraction unit, record header length)
MAGICS: Final[dict[bytes, tuple[str, int, int]]] = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1000, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1, 16),
    b"\x34\xcd\xb2\xa1": ("<", 1000, 24),
    b"\xa1\xb2\xcd\x34": (">", 1000, 24),
}


def header_is_valid(major: int, minor: int) -> bool:
    """The file header versions libpcap reads (sf-pcap.c); anything else is garbage after a magic."""
    return (major == 2 and minor <= 4) or (major == 543 and minor == 0)


def read_pcap(stream: ChunkStream, data: bytes, state: ReadState) -> Reader:
    """Yield the frames of a classic pcap file in batches; ``data`` is the stream's first chunk."""
    path = stream.name
    while len(data) < FILE_HEADER_LEN:
        more = stream.read()
        if not more:
            state.damaged(truncated_at(path, "file header", 0, 0, stream.damage))
            return
        data += more
    order, frac_ns, hlen = MAGICS[data[:4]]
    major, minor, snaplen, network = struct.unpack_from(order + "HH8xII", data, 4)
    if not header_is_valid(major, minor):
        state.damaged(skipped_rest(path, f"corrupt file header at byte 0 (version {major}.{minor})", 0))
        return
    linktype = network & 0xFFFF
    if linktype not in SUPPORTED:
        raise CaptureError(f"{path}: unsupported link type {linktype} ({linktype_name(linktype)})")
    maxcap = min(max(snaplen, LIBPCAP_MAXIMUM_SNAPLEN), MAX_RECORD_BYTES)
    unpack = struct.Struct(order + "IIII").unpack_from
    yield from _records(stream, data, state, unpack, linktype, frac_ns, hlen, maxcap)


def _records(
    stream: ChunkStream,
    data: bytes,
    state: ReadState,
    unpack: Unpack,
    linktype: int,
    frac_ns: int,
    hlen: int,
    maxcap: int,
) -> Reader:
    path = stream.name
    pos = FILE_HEADER_LEN
    base = 0  # uncompressed file offset of data[0]
    packets = 0
    ns = NS_PER_S
    prev, top = NO_PREVIOUS_TS, NO_GOOD_TS  # raw ts of the previous record, largest good one (see frames)
    jump = MAX_FORWARD_JUMP_NS
    while True:
        end = len(data)
        limit = end - hlen
        out: Batch = []
        append = out.append
        incl = 0
        while pos <= limit:
            sec, frac, incl, _orig = unpack(data, pos)
            start = pos + hlen
            nxt = start + incl
            if nxt > end or incl > maxcap:
                break
            ts = sec * ns + frac * frac_ns
            if ts - prev > jump and ts - top > jump:  # a classic pcap timestamp always fits int64
                prev = ts
                ts = out[-1][0] if out else state.last_ts
                state.bad_timestamp += 1
            else:
                prev = ts
                if ts > top:
                    top = ts
            append((ts, linktype, data[start:nxt]))
            pos = nxt
        if out:
            packets += len(out)
            state.last_ts = out[-1][0]
            yield out
        if incl > maxcap and pos <= limit:
            what = f"corrupt record at byte {base + pos} (captured length {incl} > {maxcap})"
            state.damaged(skipped_rest(path, what, packets))
            return
        chunk = stream.read()
        if not chunk:
            if pos < end or stream.damage:
                state.damaged(truncated_at(path, "record", base + pos, packets, stream.damage))
            return
        data = data[pos:] + chunk
        base += pos
        pos = 0
