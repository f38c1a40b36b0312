"""Byte builders for generated frames: a TCP segment inside IPv4/IPv6, wrapped in random tunnels, link
layers and fragments. struct only (no scapy), so Hypothesis can build thousands of frames quickly; checksums
are zero (the decoder does not verify them).

A packet is ``(bytes, kind)`` with kind ``"ip4"``, ``"ip6"`` or ``"eth"``: what the bytes start with.
"""

from __future__ import annotations

import struct
from itertools import pairwise

from hypothesis import strategies as st

Packet = tuple[bytes, str]

SRC4 = bytes([192, 0, 2, 1])
DST4 = bytes([198, 51, 100, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000010000000000000002")
MACS = bytes.fromhex("020000000002020000000001")
ETHERTYPE = {"ip4": 0x0800, "ip6": 0x86DD}


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, options: bytes, payload: bytes) -> bytes:
    doff = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535, 0, 0) + options + payload


def ipv4(proto: int, payload: bytes, ident: int = 0, frag: int = 0, options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    length = ihl * 4 + len(payload)
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, length, ident, frag, 64, proto, 0, SRC4, DST4)
    return head + options + payload


def ipv6(nh: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, SRC6, DST6) + payload


def ext8(nh: int, units: int) -> bytes:
    """A hop-by-hop, routing or destination options header of (units + 1) * 8 octets."""
    return bytes([nh, units]) + bytes(6 + 8 * units)


def ah(nh: int, units: int) -> bytes:
    return bytes([nh, units]) + bytes(6 + 4 * units)  # (units + 2) * 4 octets


def frag6(nh: int, offset: int, more: bool, ident: int) -> bytes:
    return struct.pack("!BBHI", nh, 0, offset | int(more), ident)


def eth(ethertype: int, payload: bytes, tags: tuple[tuple[int, int], ...] = ()) -> bytes:
    out = MACS
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


def udp(dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload


def ip_of(kind: str, proto: int, payload: bytes) -> Packet:
    return (ipv4(proto, payload), "ip4") if kind == "ip4" else (ipv6(proto, payload), "ip6")


def ip_packet(kind: str) -> st.SearchStrategy[Packet]:
    """A TCP segment in IPv4 (maybe with options) or IPv6 (maybe with extension headers)."""
    segment = st.builds(
        tcp,
        st.integers(0, 65535),
        st.integers(0, 65535),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
        st.integers(0, 255),
        st.sampled_from([b"", b"\x01\x01\x01\x01", b"\x02\x04\x05\xb4" + b"\x01" * 8]),
        st.binary(max_size=64),
    )
    if kind == "ip4":
        return st.builds(
            lambda seg, opts: (ipv4(6, seg, options=opts), "ip4"),
            segment,
            st.sampled_from([b"", b"\x01\x01\x01\x00", b"\x94\x04\x00\x00" * 2]),
        )

    def with_exts(seg: bytes, exts: list[tuple[int, int]]) -> Packet:
        nh, body = 6, seg
        for code, units in reversed(exts):
            body = (ah(nh, units) if code == 51 else ext8(nh, units)) + body
            nh = code
        return ipv6(nh, body), "ip6"

    exts = st.lists(st.tuples(st.sampled_from([0, 43, 60, 51]), st.integers(0, 2)), max_size=3)
    return st.builds(with_exts, segment, exts)


def tunnel_kinds(kind: str) -> st.SearchStrategy[tuple[str, str]]:
    """(tunnel, outer IP version) for a packet of ``kind``."""
    choices = ["gre", "vxlan", "geneve"]
    choices += ["ipip", "gtpu", "pptp"] if kind != "eth" else ["erspan2", "erspan3"]
    return st.tuples(st.sampled_from(choices), st.sampled_from(["ip4", "ip6"]))


@st.composite
def tunnel(draw: st.DrawFn, inner: Packet, name: str, outer: str) -> Packet:
    """``inner`` inside one tunnel ``name`` (see :func:`tunnel_kinds`), carried by ``outer``."""
    data, kind = inner
    if name == "ipip":
        return ip_of(outer, 4 if kind == "ip4" else 41, data)
    if name == "gre":
        flags = draw(st.sampled_from([0x0000, 0x8000, 0x2000, 0x1000, 0xB000]))
        ptype = 0x6558 if kind == "eth" else ETHERTYPE[kind]
        opts = bytes(4 * bin(flags).count("1"))
        return ip_of(outer, 47, struct.pack("!HH", flags, ptype) + opts + data)
    if name == "erspan2":
        return ip_of(outer, 47, struct.pack("!HHI", 0x1000, 0x88BE, 1) + bytes(8) + data)
    if name == "erspan3":
        sub = draw(st.booleans())
        hdr = bytes(11) + bytes([int(sub)]) + (bytes(8) if sub else b"")
        return ip_of(outer, 47, struct.pack("!HH", 0x0000, 0x22EB) + hdr + data)
    if name == "pptp":
        seq, ack = draw(st.booleans()), draw(st.booleans())
        flags = 0x2001 | (0x1000 if seq else 0) | (0x0080 if ack else 0)
        hdr = struct.pack("!HHHH", flags, 0x880B, len(data), 7) + bytes(4 * (seq + ack))
        addr_ctl = b"\xff\x03" if draw(st.booleans()) else b""
        proto = 0x21 if kind == "ip4" else 0x57
        field = bytes([proto]) if draw(st.booleans()) else struct.pack("!H", proto)
        return ip_of(outer, 47, hdr + addr_ctl + field + data)
    if name == "vxlan":
        body = data if kind == "eth" else eth(ETHERTYPE[kind], data)
        return ip_of(outer, 17, udp(4789, bytes([0x08, 0, 0, 0, 0, 0, 1, 0]) + body))
    if name == "geneve":
        words = draw(st.integers(0, 3))
        ptype = 0x6558 if kind == "eth" else ETHERTYPE[kind]
        header = struct.pack("!BBHI", words, 0, ptype, 0x100) + bytes(4 * words)
        return ip_of(outer, 17, udp(6081, header + data))
    # GTP-U: optionally a sequence number, optionally a chain of extension headers
    exts = draw(st.lists(st.integers(1, 2), max_size=2))
    seqflag = draw(st.booleans())
    flags = 0x30 | (0x02 if seqflag else 0) | (0x04 if exts else 0)
    body = b""
    if flags & 0x07:
        body += bytes(3) + bytes([0x85 if exts else 0])
        for i, units in enumerate(exts):
            body += bytes([units]) + bytes(4 * units - 2) + bytes([0x85 if i + 1 < len(exts) else 0])
    body += data
    return ip_of(outer, 17, udp(2152, struct.pack("!BBHI", flags, 0xFF, len(body), 1) + body))


def fragment(packet: Packet, cuts: list[int], ident: int) -> list[bytes]:
    """The IP packet's payload split at ``cuts`` (multiples of 8) into fragments of the same header."""
    data, kind = packet
    if kind == "ip4":
        ihl = (data[0] & 0x0F) * 4
        proto, payload = data[9], data[ihl:]
    else:
        proto, payload = data[6], data[40:]
    bounds = sorted({c for c in cuts if 0 < c < len(payload)} | {0, len(payload)})
    out = []
    for start, end in pairwise(bounds):
        more = end < len(payload)
        if kind == "ip4":
            out.append(ipv4(proto, payload[start:end], ident=ident, frag=(0x2000 if more else 0) | start // 8))
        else:
            out.append(ipv6(44, frag6(proto, start, more, ident) + payload[start:end]))
    return out


@st.composite
def framed(draw: st.DrawFn, packet: bytes, kind: str) -> tuple[int, bytes]:
    """(linktype, frame) carrying the packet: Ethernet (tags, MPLS, PPPoE) or another link type."""
    if kind == "eth":
        return 1, packet
    link = draw(st.sampled_from(["eth", "raw", "ipn", "null_le", "null_be", "loop", "sll", "sll2"]))
    etype = ETHERTYPE[kind]
    if link == "eth":
        tag = st.tuples(st.sampled_from([0x8100, 0x88A8, 0x9100]), st.integers(0, 0xFFFF))
        tags = tuple(draw(st.lists(tag, max_size=2)))
        under = draw(st.sampled_from(["none", "mpls", "pppoe"]))
        if under == "mpls":
            labels = draw(st.integers(1, 3))
            stack = b"".join(struct.pack("!I", 0x100 if i == labels - 1 else 0) for i in range(labels))
            return 1, eth(0x8847, stack + packet, tags)
        if under == "pppoe":
            ppp = 0x21 if kind == "ip4" else 0x57
            return 1, eth(0x8864, struct.pack("!BBHHH", 0x11, 0, 1, len(packet) + 2, ppp) + packet, tags)
        return 1, eth(etype, packet, tags)
    if link == "raw":
        return draw(st.sampled_from([12, 14, 101])), packet
    if link == "ipn":
        return (228 if kind == "ip4" else 229), packet
    family = 2 if kind == "ip4" else draw(st.sampled_from([24, 28, 30]))
    if link == "null_le":
        return 0, struct.pack("<I", family) + packet
    if link == "null_be":
        return 0, struct.pack(">I", family) + packet
    if link == "loop":
        return 108, struct.pack(">I", family) + packet
    if link == "sll":
        return 113, struct.pack("!HHH8sH", 0, 1, 6, bytes(8), etype) + packet
    return 276, struct.pack("!HHIHBB8s", etype, 0, 2, 1, 0, 6, bytes(8)) + packet
