"""Link layer → IPv4/IPv6 → TCP header fields of one frame, by ``struct`` on the frame's bytes.

Theory of operation. :meth:`Decoder.decode` returns a plain tuple (see :data:`Decoded`) for a TCP segment and
None for anything else, counting the reason in :attr:`Decoder.counters`; malformed input never raises.

The common case — Ethernet, IPv4 without options or fragmentation, TCP, all captured — is one
``unpack_from`` of the Ethernet type, the IPv4 and the TCP header fields at fixed offsets, a few comparisons
and the result tuple. Everything else takes the general path: the link layer (Ethernet with 802.1Q/802.1ad
tags and Cisco MetaData headers, Linux SLL/SLL2, raw IP, BSD loopback, PPP) yields an EtherType-like protocol
and an offset; IPv4 (with options) or IPv6 (walking hop-by-hop, routing, destination-options, AH and Fragment
headers) yields the TCP header's offset and the end of the segment; fragments go to a :class:`FragmentTable`
and the datagram is decoded once complete, with ``buf`` then being the reassembled IP payload instead of the
frame.

Tunnels. A datagram that is not TCP may be a tunnel: IP protocol 4 (IPv4-in-IP), 41 (IPv6-in-IP) and 47
(GRE, with ERSPAN and PPTP), and UDP to port 4789 (VXLAN), 6081 (Geneve) or 2152 (GTP-U) whose header passes
a sanity check (see :mod:`tlsmon.decode.tunnels`). The tunnel header is stepped over, counted
(``decode.tunnel_*``) and the inner Ethernet frame or IP packet decoded as if it were the frame, up to
``MAX_TUNNEL_DEPTH`` nested tunnels (``decode.tunnel_too_deep`` beyond). The result then describes the
*inner* TCP segment: inner addresses and ports, payload offset into the outer frame. Its ``vlan`` is the
outermost 802.1Q/802.1ad VLAN id seen: the outer frame's if it has one, else the first tag of an inner
Ethernet frame. When Ethernet padding or other bytes follow the outer datagram, the inner layers get the
datagram alone (one copy), so they cannot read past it. Fragmented IPv4 datagrams are reassembled for
protocols 4, 41 and 47 as for TCP (IPv6 fragments always are); fragmented UDP is not held, so a fragmented
VXLAN/Geneve/GTP-U datagram over IPv4 is counted as ``decode.not_tcp``.

Lengths: the segment ends where the IP header says (Ethernet padding is ignored), or at the end of the capture
when the snaplen cut it (``decode.snaplen_truncated``). A zero IP length (segmentation offload, jumbograms)
means "up to the end of the capture". Checksums are not verified: offloading makes them wrong in captures.
"""

from __future__ import annotations

import struct
from collections import Counter
from typing import Final

from tlsmon.capture.linktypes import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_PPP,
    RAW_IP_LINKTYPES,
)
from tlsmon.decode.counters import DecodeCounter as C
from tlsmon.decode.fragments import FragmentTable
from tlsmon.decode.numbers import (
    BSD_AF_INET,
    BSD_AF_INET6,
    CISCO_METADATA_LEN,
    ETHERTYPE_CISCO_METADATA,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    ETHERTYPE_MPLS,
    ETHERTYPE_MPLS_MULTICAST,
    ETHERTYPE_PPPOE_SESSION,
    ETHERTYPE_TEB,
    IPPROTO_AH,
    IPPROTO_FRAGMENT,
    IPPROTO_GRE,
    IPPROTO_IPIP,
    IPPROTO_IPV6,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPV4_FRAGMENTED,
    IPV4_MF,
    IPV4_OFFSET_MASK,
    IPV6_EXT_8OCTET,
    IPV6_MF,
    IPV6_OFFSET_MASK,
    MAX_TUNNEL_DEPTH,
    MPLS_BOTTOM_OF_STACK,
    PPP_HDLC_ADDRESS_CONTROL,
    PPP_IPV4,
    PPP_IPV6,
    PPPOE_HEADER_LEN,
    UDP_HEADER_LEN,
    UDP_PORT_GENEVE,
    UDP_PORT_GTPU,
    UDP_PORT_VXLAN,
    VLAN_ID_MASK,
    VLAN_TPIDS,
)
from tlsmon.decode.tunnels import NOT_TUNNEL, TRUNCATED, geneve, gre, gtpu, vxlan

# (ip_version, src, dst, sport, dport, flags, seq, ack, buf, payload_off, payload_len, vlan)
# src/dst: IPv4 as an int (network order), IPv6 as 16 bytes;
# the payload is buf[payload_off : payload_off + payload_len].
# A UDP datagram (not a tunnel) has FLAG_UDP in the flags slot, seq and ack 0.
Decoded = tuple[int, int | bytes, int | bytes, int, int, int, int, int, bytes, int, int, int | None]

#: marks a decoded UDP datagram in Decoded's flags slot (TCP flags fit in 8 bits)
FLAG_UDP: Final = 0x100

# The common frame in one unpack: Ethernet type + IPv4 version/IHL + TOS as one int (checked against
# FAST_HEAD under FAST_MASK), IPv4 total length, flags/offset, protocol, src, dst, and TCP ports, seq, ack,
# data offset, flags, at the offsets of an untagged Ethernet / IPv4-without-options / TCP frame.
# Public because the TCP tracker's bypass lane uses the same unpack inline (see tcp/tracker.py).
FAST_ETH_IPV4_TCP: Final = struct.Struct("!12xIH2xHxB2xIIHHIIBB").unpack_from
FAST_HEAD: Final = (ETHERTYPE_IPV4 << 16) | 0x4500  # EtherType IPv4, version 4, IHL 5
FAST_MASK: Final = 0xFFFFFF00  # ignore TOS
FAST_MIN_LEN: Final = 14 + 20 + 20
_FAST: Final = FAST_ETH_IPV4_TCP
_FAST_HEAD: Final = FAST_HEAD
_FAST_MASK: Final = FAST_MASK
_FAST_MIN_LEN: Final = FAST_MIN_LEN
_FRAGMENTED: Final = IPV4_FRAGMENTED
_U16: Final = struct.Struct("!H").unpack_from
_VLAN_TAG: Final = struct.Struct("!HH").unpack_from  # TCI, then the next EtherType
_U32_BE: Final = struct.Struct("!I").unpack_from
_U32_LE: Final = struct.Struct("<I").unpack_from
# IPv4: version/IHL, total length, id, flags/offset, protocol, src, dst
_IPV4: Final = struct.Struct("!BxHHHxB2xII").unpack_from
# IPv6: version/class/label, payload length, next header, src, dst
_IPV6: Final = struct.Struct("!IHBx16s16s").unpack_from
_IPV6_FRAG: Final = struct.Struct("!BxHI").unpack_from  # next header, offset/flags, identification
_TCP: Final = struct.Struct("!HHIIBB").unpack_from  # ports, seq, ack, data offset, flags
_UDP: Final = struct.Struct("!HHH").unpack_from  # ports, length

_SLL_HEADER: Final = 16
_SLL2_HEADER: Final = 20
_ETH_HEADER: Final = 14
_IPV4_MIN: Final = 20
_IPV6_HEADER: Final = 40
_TCP_MIN: Final = 20
# Fragmented IPv4 datagrams worth reassembling: TCP, and the IP protocols that are always tunnels.
_REASSEMBLED: Final = frozenset({IPPROTO_TCP, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE})
# UDP destination port → (header parser, counter of decapsulated frames)
_UDP_TUNNELS: Final = {
    UDP_PORT_VXLAN: (vxlan, C.TUNNEL_VXLAN),
    UDP_PORT_GENEVE: (geneve, C.TUNNEL_GENEVE),
    UDP_PORT_GTPU: (gtpu, C.TUNNEL_GTPU),
}


class Decoder:
    """Decodes frames to TCP header fields; see the module docstring. One per packet stream."""

    __slots__ = ("_depth", "_fragments", "counters")

    def __init__(self, frag_timeout_ns: int = 30_000_000_000, max_frag_bytes: int = 16 * 2**20) -> None:
        self.counters: Counter[str] = Counter()
        self._fragments = FragmentTable(self.counters, frag_timeout_ns, max_frag_bytes)
        self._depth = 0  # tunnels entered in the frame being decoded

    @property
    def pending_fragments(self) -> int:
        """Datagrams with fragments held, waiting for the rest."""
        return len(self._fragments)

    def decode(self, ts_ns: int, linktype: int, frame: bytes) -> Decoded | None:
        """The TCP segment in ``frame``, or None (counted) for anything else."""
        n = len(frame)
        if linktype == LINKTYPE_ETHERNET and n >= _FAST_MIN_LEN:
            head, total, frag, proto, src, dst, sport, dport, seq, ack, doff, flags = _FAST(frame)
            if head & _FAST_MASK == _FAST_HEAD and proto == IPPROTO_TCP and not frag & _FRAGMENTED:
                end = _ETH_HEADER + total
                thl = (doff >> 2) & 0x3C
                poff = _ETH_HEADER + _IPV4_MIN + thl
                if thl >= _TCP_MIN and poff <= end <= n:
                    return (4, src, dst, sport, dport, flags, seq, ack, frame, poff, end - poff, None)
        return self._decode_link(ts_ns, linktype, frame)

    # -- link layer -------------------------------------------------------------------------------------
    def _decode_link(self, ts_ns: int, linktype: int, frame: bytes) -> Decoded | None:
        self._depth = 0
        n = len(frame)
        if linktype == LINKTYPE_ETHERNET:
            if n < _ETH_HEADER:
                return self._reject(C.TRUNCATED_LINK)
            return self._ethertype(ts_ns, frame, _U16(frame, 12)[0], _ETH_HEADER)
        if linktype in RAW_IP_LINKTYPES:
            if n < 1:
                return self._reject(C.TRUNCATED_IP)
            version = frame[0] >> 4
            if version == 4:
                return self._ipv4(ts_ns, frame, 0, None)
            if version == 6:
                return self._ipv6(ts_ns, frame, 0, None)
            return self._reject(C.NOT_IP)
        if linktype == LINKTYPE_LINUX_SLL:
            if n < _SLL_HEADER:
                return self._reject(C.TRUNCATED_LINK)
            return self._ethertype(ts_ns, frame, _U16(frame, 14)[0], _SLL_HEADER)
        if linktype == LINKTYPE_LINUX_SLL2:
            if n < _SLL2_HEADER:
                return self._reject(C.TRUNCATED_LINK)
            return self._ethertype(ts_ns, frame, _U16(frame, 0)[0], _SLL2_HEADER)
        if linktype == LINKTYPE_NULL or linktype == LINKTYPE_LOOP:
            if n < 4:
                return self._reject(C.TRUNCATED_LINK)
            family = _U32_BE(frame, 0)[0]
            if linktype == LINKTYPE_NULL and family > 0xFFFF:  # the writer's host order was little-endian
                family = _U32_LE(frame, 0)[0]
            if family == BSD_AF_INET:
                return self._ipv4(ts_ns, frame, 4, None)
            if family in BSD_AF_INET6:
                return self._ipv6(ts_ns, frame, 4, None)
            return self._reject(C.NOT_IP)
        if linktype == LINKTYPE_IPV4:
            return self._ipv4(ts_ns, frame, 0, None)
        if linktype == LINKTYPE_IPV6:
            return self._ipv6(ts_ns, frame, 0, None)
        if linktype == LINKTYPE_PPP:
            return self._ppp(ts_ns, frame)
        return self._reject(C.UNSUPPORTED_LINK_TYPE)

    def _ppp(self, ts_ns: int, frame: bytes) -> Decoded | None:
        """A PPP frame (link type 9): the HDLC address and control bytes ff 03 if present (RFC 1662), then the
        protocol field, one byte when compressed (RFC 1661 §6.5: the first byte is odd), else two."""
        n = len(frame)
        off = 2 if frame[:2] == PPP_HDLC_ADDRESS_CONTROL else 0
        if n <= off:
            return self._reject(C.TRUNCATED_LINK)
        if frame[off] & 1:
            proto = frame[off]
            off += 1
        elif n < off + 2:
            return self._reject(C.TRUNCATED_LINK)
        else:
            (proto,) = _U16(frame, off)
            off += 2
        if proto == PPP_IPV4:
            return self._ipv4(ts_ns, frame, off, None)
        if proto == PPP_IPV6:
            return self._ipv6(ts_ns, frame, off, None)
        return self._reject(C.NOT_IP)

    def _ethertype(
        self, ts_ns: int, frame: bytes, etype: int, off: int, vlan: int | None = None
    ) -> Decoded | None:
        """Dispatch on an EtherType at ``off``, first stepping over 802.1Q/802.1ad tags.

        ``vlan`` is an outer frame's VLAN id when this is an Ethernet frame inside a tunnel; it is kept.
        """
        n = len(frame)
        while etype in VLAN_TPIDS or etype == ETHERTYPE_CISCO_METADATA:
            if etype == ETHERTYPE_CISCO_METADATA:
                if n < off + CISCO_METADATA_LEN:
                    return self._reject(C.TRUNCATED_LINK)
                (etype,) = _U16(frame, off + CISCO_METADATA_LEN - 2)
                off += CISCO_METADATA_LEN
                continue
            if n < off + 4:
                return self._reject(C.TRUNCATED_LINK)
            tci, etype = _VLAN_TAG(frame, off)
            if vlan is None:
                vlan = tci & VLAN_ID_MASK
            off += 4
        if etype == ETHERTYPE_IPV4:
            return self._ipv4(ts_ns, frame, off, vlan)
        if etype == ETHERTYPE_IPV6:
            return self._ipv6(ts_ns, frame, off, vlan)
        if etype == ETHERTYPE_PPPOE_SESSION:
            return self._pppoe(ts_ns, frame, off, vlan)
        if etype == ETHERTYPE_MPLS or etype == ETHERTYPE_MPLS_MULTICAST:
            return self._mpls(ts_ns, frame, off, vlan)
        return self._reject(C.NOT_IP)

    def _pppoe(self, ts_ns: int, frame: bytes, off: int, vlan: int | None) -> Decoded | None:
        """PPPoE session header, then the PPP protocol field: IPv4 or IPv6 follow (DSL access networks)."""
        if len(frame) < off + PPPOE_HEADER_LEN + 2:
            return self._reject(C.TRUNCATED_LINK)
        (proto,) = _U16(frame, off + PPPOE_HEADER_LEN)
        off += PPPOE_HEADER_LEN + 2
        if proto == PPP_IPV4:
            return self._ipv4(ts_ns, frame, off, vlan)
        if proto == PPP_IPV6:
            return self._ipv6(ts_ns, frame, off, vlan)
        return self._reject(C.NOT_IP)

    def _mpls(self, ts_ns: int, frame: bytes, off: int, vlan: int | None) -> Decoded | None:
        """An MPLS label stack; after the bottom label the IP version nibble says what follows."""
        n = len(frame)
        while True:
            if n < off + 4:
                return self._reject(C.TRUNCATED_LINK)
            (entry,) = _U32_BE(frame, off)
            off += 4
            if entry & MPLS_BOTTOM_OF_STACK:
                break
        if off >= n:
            return self._reject(C.TRUNCATED_LINK)
        version = frame[off] >> 4
        if version == 4:
            return self._ipv4(ts_ns, frame, off, vlan)
        if version == 6:
            return self._ipv6(ts_ns, frame, off, vlan)
        return self._reject(C.NOT_IP)

    # -- IP -----------------------------------------------------------------------------------------------
    def _ipv4(self, ts_ns: int, frame: bytes, off: int, vlan: int | None) -> Decoded | None:
        n = len(frame)
        if n - off < _IPV4_MIN:
            return self._reject(C.TRUNCATED_IP)
        vihl, total, ident, frag, proto, src, dst = _IPV4(frame, off)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < _IPV4_MIN:
            return self._reject(C.BAD_IP_HEADER)
        if total == 0:
            self.counters[C.IP_LENGTH_ZERO] += 1
            total = n - off
        if total < ihl:
            return self._reject(C.BAD_IP_HEADER)
        if off + ihl > n:
            return self._reject(C.TRUNCATED_IP)
        start = off + ihl
        end = off + total
        if frag & IPV4_FRAGMENTED:
            if proto not in _REASSEMBLED:
                return self._reject(C.NOT_TCP)
            if end > n:
                return self._reject(C.FRAGMENT_TRUNCATED)
            offset = (frag & IPV4_OFFSET_MASK) * 8
            done = self._fragments.add(
                ts_ns, (4, src, dst, proto, ident), offset, frame[start:end], bool(frag & IPV4_MF), proto
            )
            if done is None:
                return None
            payload = done[0]
            if proto != IPPROTO_TCP:
                return self._not_tcp(ts_ns, 4, src, dst, proto, payload, 0, len(payload), vlan)
            return self._tcp(4, src, dst, payload, 0, len(payload), vlan)
        if proto != IPPROTO_TCP:
            return self._not_tcp(ts_ns, 4, src, dst, proto, frame, start, end, vlan)
        return self._tcp(4, src, dst, frame, start, end, vlan)

    def _ipv6(self, ts_ns: int, frame: bytes, off: int, vlan: int | None) -> Decoded | None:
        n = len(frame)
        if n - off < _IPV6_HEADER:
            return self._reject(C.TRUNCATED_IP)
        vcl, length, nh, src, dst = _IPV6(frame, off)
        if vcl >> 28 != 6:
            return self._reject(C.BAD_IP_HEADER)
        pos = off + _IPV6_HEADER
        if length == 0:
            self.counters[C.IP_LENGTH_ZERO] += 1
            end = n
        else:
            end = pos + length
        buf = frame
        while nh != IPPROTO_TCP:
            if nh in IPV6_EXT_8OCTET or nh == IPPROTO_AH:
                if pos + 2 > min(end, len(buf)):
                    return self._reject(C.TRUNCATED_IP if pos + 2 > len(buf) else C.BAD_IP_HEADER)
                hlen = (buf[pos + 1] + 2) * 4 if nh == IPPROTO_AH else (buf[pos + 1] + 1) * 8
                nh = buf[pos]
                pos += hlen
                if pos > end:
                    return self._reject(C.BAD_IP_HEADER)
            elif nh == IPPROTO_FRAGMENT:
                if pos + 8 > min(end, len(buf)):
                    return self._reject(C.TRUNCATED_IP if pos + 8 > len(buf) else C.BAD_IP_HEADER)
                nh, offset_flags, ident = _IPV6_FRAG(buf, pos)
                pos += 8
                offset = offset_flags & IPV6_OFFSET_MASK
                more = bool(offset_flags & IPV6_MF)
                if offset == 0 and not more:  # an atomic fragment (RFC 6946): the datagram is whole
                    continue
                if end > len(buf):
                    return self._reject(C.FRAGMENT_TRUNCATED)
                done = self._fragments.add(ts_ns, (6, src, dst, ident), offset, buf[pos:end], more, nh)
                if done is None:
                    return None
                buf, nh = done
                pos = 0
                end = len(buf)
            else:
                return self._not_tcp(ts_ns, 6, src, dst, nh, buf, pos, end, vlan)
        return self._tcp(6, src, dst, buf, pos, end, vlan)

    # -- tunnels ------------------------------------------------------------------------------------------
    def _not_tcp(
        self,
        ts_ns: int,
        version: int,
        src: int | bytes,
        dst: int | bytes,
        proto: int,
        buf: bytes,
        off: int,
        end: int,
        vlan: int | None,
    ) -> Decoded | None:
        """An IP payload other than TCP at ``buf[off:end]``: a tunnel is opened, a UDP datagram returned,
        anything else counted.

        A UDP datagram is a tunnel if its destination port is one and its header passes that tunnel's check.
        """
        if proto == IPPROTO_UDP:
            limit = end if end < len(buf) else len(buf)
            if off + UDP_HEADER_LEN <= limit:
                tunnel = _UDP_TUNNELS.get(_U16(buf, off + 2)[0])
                if tunnel is not None:
                    kind, inner = tunnel[0](buf, off + UDP_HEADER_LEN, limit)
                    if kind != NOT_TUNNEL:
                        return self._enter(ts_ns, tunnel[1], kind, buf, inner, end, vlan)
                return self._udp(version, src, dst, buf, off, end, vlan)
        elif proto == IPPROTO_GRE:
            kind, inner = gre(buf, off, min(end, len(buf)))
            return self._enter(ts_ns, C.TUNNEL_GRE, kind, buf, inner, end, vlan)
        elif proto == IPPROTO_IPIP:
            return self._enter(ts_ns, C.TUNNEL_IP_IN_IP, ETHERTYPE_IPV4, buf, off, end, vlan)
        elif proto == IPPROTO_IPV6:
            return self._enter(ts_ns, C.TUNNEL_IP_IN_IP, ETHERTYPE_IPV6, buf, off, end, vlan)
        self.counters[C.NOT_TCP] += 1
        return None

    def _enter(
        self, ts_ns: int, counter: C, kind: int, buf: bytes, off: int, end: int, vlan: int | None
    ) -> Decoded | None:
        """Decode what a tunnel header of type ``counter`` carries: ``kind`` (an EtherType) at ``off``.

        ``end`` is where the outer datagram ends; bytes after it (Ethernet padding) are cut off.
        """
        if kind < 0:
            return self._reject(C.TRUNCATED_TUNNEL if kind == TRUNCATED else C.BAD_TUNNEL_HEADER)
        if self._depth >= MAX_TUNNEL_DEPTH:
            return self._reject(C.TUNNEL_TOO_DEEP)
        self._depth += 1
        self.counters[counter] += 1
        if end < len(buf):
            buf = buf[:end]
        if kind == ETHERTYPE_TEB:
            if len(buf) < off + _ETH_HEADER:
                return self._reject(C.TRUNCATED_LINK)
            kind = _U16(buf, off + 12)[0]
            off += _ETH_HEADER
        return self._ethertype(ts_ns, buf, kind, off, vlan)

    # -- TCP ----------------------------------------------------------------------------------------------
    def _tcp(
        self,
        version: int,
        src: int | bytes,
        dst: int | bytes,
        buf: bytes,
        off: int,
        end: int,
        vlan: int | None,
    ) -> Decoded | None:
        """The TCP segment in ``buf[off:end]``; ``end`` is where IP says it ends, maybe beyond the capture."""
        n = len(buf)
        if end - off < _TCP_MIN:
            return self._reject(C.BAD_TCP_HEADER)
        if n - off < _TCP_MIN:
            return self._reject(C.TRUNCATED_TCP)
        sport, dport, seq, ack, doff, flags = _TCP(buf, off)
        thl = (doff >> 2) & 0x3C
        poff = off + thl
        if thl < _TCP_MIN or poff > end:
            return self._reject(C.BAD_TCP_HEADER)
        if poff > n:
            return self._reject(C.TRUNCATED_TCP)
        if end > n:
            self.counters[C.SNAPLEN_TRUNCATED] += 1
            end = n
        return (version, src, dst, sport, dport, flags, seq, ack, buf, poff, end - poff, vlan)

    def _udp(
        self, version: int, src: int | bytes, dst: int | bytes, buf: bytes, off: int, end: int, vlan: int | None
    ) -> Decoded:
        """The UDP datagram at ``buf[off:end]`` (its 8-byte header captured): it ends where the UDP length says
        if that is within the IP datagram, else where IP says; at the capture's end if the snaplen cut it."""
        sport, dport, length = _UDP(buf, off)
        if UDP_HEADER_LEN <= length <= end - off:
            end = off + length
        if end > len(buf):
            self.counters[C.SNAPLEN_TRUNCATED] += 1
            end = len(buf)
        poff = off + UDP_HEADER_LEN
        return (version, src, dst, sport, dport, FLAG_UDP, 0, 0, buf, poff, end - poff, vlan)

    def _reject(self, name: C) -> Decoded | None:
        """Count why a frame is not decoded; always None, so callers can ``return self._reject(...)``."""
        self.counters[name] += 1
        return None
