"""Byte-exact writers for classic pcap and pcapng, so each test states precisely what the file holds."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D


def pcap_bytes(
    records: Iterable[tuple[int, int, bytes]],
    linktype: int = 1,
    order: str = "<",
    nano: bool = False,
    snaplen: int = 65535,
) -> bytes:
    """A classic pcap file of ``(seconds, fraction, frame)`` records (fraction in µs or ns)."""
    magic = PCAP_MAGIC_NS if nano else PCAP_MAGIC_US
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for sec, frac, frame in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(frame), len(frame)) + frame)
    return b"".join(out)


def block(btype: int, body: bytes, order: str = "<") -> bytes:
    """A pcapng block: type, total length, body padded to 32 bits, total length."""
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", btype, length) + body + struct.pack(order + "I", length)


def option(code: int, value: bytes, order: str = "<") -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def shb(order: str = "<", major: int = 1) -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1)
    return block(0x0A0D0D0A, body, order)


def idb(
    linktype: int,
    snaplen: int = 0,
    tsresol: int | None = None,
    tsoffset: int | None = None,
    name: bytes | None = None,
    order: str = "<",
) -> bytes:
    body = struct.pack(order + "HHI", linktype, 0, snaplen)
    opts = b""
    if name is not None:
        opts += option(2, name, order)
    if tsresol is not None:
        opts += option(9, bytes([tsresol]), order)
    if tsoffset is not None:
        opts += option(14, struct.pack(order + "q", tsoffset), order)
    if opts:
        opts += option(0, b"", order)
    return block(1, body + opts, order)


def epb(ifid: int, units: int, frame: bytes, order: str = "<") -> bytes:
    body = struct.pack(order + "IIIII", ifid, units >> 32, units & 0xFFFFFFFF, len(frame), len(frame))
    return block(6, body + frame, order)


def spb(frame: bytes, orig_len: int | None = None, order: str = "<") -> bytes:
    return block(3, struct.pack(order + "I", len(frame) if orig_len is None else orig_len) + frame, order)


def obsolete_pb(ifid: int, units: int, frame: bytes, order: str = "<") -> bytes:
    body = struct.pack(order + "HHIIII", ifid, 0, units >> 32, units & 0xFFFFFFFF, len(frame), len(frame))
    return block(2, body + frame, order)


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def frame_of(n: int, size: int = 60) -> bytes:
    """A recognisable dummy frame: ``size`` bytes all equal to ``n``."""
    return bytes([n & 0xFF]) * size
