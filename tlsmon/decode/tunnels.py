"""Tunnel headers: where the encapsulated packet starts, and what it is.

Theory of operation. Each function reads one tunnel header at ``off`` of ``buf`` (bytes up to ``end`` are
available) and returns ``(kind, inner_off)``: ``kind`` is the EtherType of what follows at ``inner_off`` —
:data:`ETHERTYPE_TEB` for an Ethernet frame, IPv4 or IPv6, or any other EtherType a GRE or Geneve header
names — or one of the negative outcomes below, with ``inner_off`` 0. The decoder turns the EtherType into the
next layer; these functions only measure headers, so they hold no state and count nothing.

UDP tunnels are recognised by destination port *and* a header check, so other traffic on those ports is
left alone (:data:`NOT_TUNNEL`): VXLAN needs its I flag and a zero last reserved octet, Geneve version 0 and
a payload type tlsmon decodes, GTP-U version 1 with protocol type GTP and a G-PDU message type (echo,
error indication and end marker messages carry no user packet). IP protocols 4, 41 and 47 are tunnels by
definition: a GRE header that cannot be decoded is :data:`BAD_HEADER`.
"""

from __future__ import annotations

import struct
from typing import Final

from tlsmon.decode.numbers import (
    ERSPAN_2_HEADER_LEN,
    ERSPAN_3_HEADER_LEN,
    ERSPAN_3_SUBHEADER_LEN,
    ETHERTYPE_ERSPAN_2,
    ETHERTYPE_ERSPAN_3,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    ETHERTYPE_PPP,
    ETHERTYPE_TEB,
    GENEVE_HEADER_LEN,
    GENEVE_PAYLOAD_TYPES,
    GRE_ACK,
    GRE_CHECKSUM,
    GRE_KEY,
    GRE_RESERVED,
    GRE_ROUTING,
    GRE_SEQUENCE,
    GRE_VERSION_MASK,
    GTPU_EXTENSION,
    GTPU_G_PDU,
    GTPU_HEADER_LEN,
    GTPU_OPTIONAL_FLAGS,
    GTPU_OPTIONAL_LEN,
    GTPU_VERSION_1_PT_GTP,
    GTPU_VERSION_PT_MASK,
    PPP_ADDRESS_CONTROL,
    PPP_IPV4,
    PPP_IPV6,
    VXLAN_FLAG_VNI,
    VXLAN_HEADER_LEN,
)

NOT_TUNNEL: Final = -1  # the header check failed: ordinary traffic on a tunnel's port
TRUNCATED: Final = -2  # the datagram or the capture ends inside the tunnel header
BAD_HEADER: Final = -3  # a tunnel header tlsmon does not decode (GRE routing, version, reserved flags …)
NOT_IP: Final = 0  # a well-formed tunnel carrying something other than IP or Ethernet (not an EtherType)

_HH: Final = struct.Struct("!HH").unpack_from
_U16: Final = struct.Struct("!H").unpack_from
_GENEVE: Final = struct.Struct("!BxH").unpack_from  # version/option length, protocol type
_GTPU: Final = struct.Struct("!BBH").unpack_from  # flags, message type, length


def geneve(buf: bytes, off: int, end: int) -> tuple[int, int]:
    """Geneve (RFC 8926 §3.4): 8 octets, then Opt Len 4-octet words of options, then the payload."""
    if off + GENEVE_HEADER_LEN > end:
        return (NOT_TUNNEL, 0)
    first, ptype = _GENEVE(buf, off)
    if first >> 6 != 0 or ptype not in GENEVE_PAYLOAD_TYPES:
        return (NOT_TUNNEL, 0)
    inner = off + GENEVE_HEADER_LEN + (first & 0x3F) * 4
    if inner > end:
        return (TRUNCATED, 0)
    return (ptype, inner)


def vxlan(buf: bytes, off: int, end: int) -> tuple[int, int]:
    """VXLAN (RFC 7348 §5): 8 octets, the I flag set, then an Ethernet frame."""
    if off + VXLAN_HEADER_LEN > end:
        return (NOT_TUNNEL, 0)
    if not buf[off] & VXLAN_FLAG_VNI or buf[off + 7]:
        return (NOT_TUNNEL, 0)
    return (ETHERTYPE_TEB, off + VXLAN_HEADER_LEN)


def gtpu(buf: bytes, off: int, end: int) -> tuple[int, int]:
    """GTP-U v1 (3GPP TS 29.281 §5.1-5.2): a G-PDU's header and extension headers, then an IP packet.

    The IP version nibble names the T-PDU's kind: GTP-U itself does not say.
    """
    if off + GTPU_HEADER_LEN > end:
        return (NOT_TUNNEL, 0)
    flags, mtype, length = _GTPU(buf, off)
    if flags & GTPU_VERSION_PT_MASK != GTPU_VERSION_1_PT_GTP or mtype != GTPU_G_PDU:
        return (NOT_TUNNEL, 0)
    pos = off + GTPU_HEADER_LEN
    if flags & GTPU_OPTIONAL_FLAGS:
        if length < GTPU_OPTIONAL_LEN:
            return (BAD_HEADER, 0)
        pos += GTPU_OPTIONAL_LEN
        if pos > end:
            return (TRUNCATED, 0)
        next_type = buf[pos - 1] if flags & GTPU_EXTENSION else 0  # interpreted only when E is set (§5.1)
        while next_type:
            # Each extension header: a length in 4-octet units (never 0), content, then the next type.
            if pos >= end:
                return (TRUNCATED, 0)
            units = buf[pos]
            if units == 0:
                return (BAD_HEADER, 0)
            pos += units * 4
            if pos > end:
                return (TRUNCATED, 0)
            next_type = buf[pos - 1]
    if pos >= end:
        return (TRUNCATED, 0)
    version = buf[pos] >> 4
    if version == 4:
        return (ETHERTYPE_IPV4, pos)
    if version == 6:
        return (ETHERTYPE_IPV6, pos)
    return (NOT_IP, 0)


def gre(buf: bytes, off: int, end: int) -> tuple[int, int]:
    """GRE (RFC 2784, RFC 2890), ERSPAN types I-III inside it, and enhanced GRE carrying PPP (PPTP)."""
    if off + 4 > end:
        return (TRUNCATED, 0)
    flags, ptype = _HH(buf, off)
    version = flags & GRE_VERSION_MASK
    if flags & (GRE_ROUTING | GRE_RESERVED) or version > 1:
        return (BAD_HEADER, 0)
    pos = off + 4
    if flags & GRE_CHECKSUM:
        pos += 4
    if flags & GRE_KEY:
        pos += 4
    if flags & GRE_SEQUENCE:
        pos += 4
    if version == 1:
        if ptype != ETHERTYPE_PPP:
            return (BAD_HEADER, 0)
        if flags & GRE_ACK:
            pos += 4
        if pos > end:
            return (TRUNCATED, 0)
        return _ppp(buf, pos, end)
    if ptype == ETHERTYPE_ERSPAN_2:
        if flags & GRE_SEQUENCE:  # type II; type I has no sequence number and no ERSPAN header
            pos += ERSPAN_2_HEADER_LEN
        ptype = ETHERTYPE_TEB
    elif ptype == ETHERTYPE_ERSPAN_3:
        pos += ERSPAN_3_HEADER_LEN
        if pos > end:
            return (TRUNCATED, 0)
        if buf[pos - 1] & 0x01:  # the O bit: a platform-specific subheader follows
            pos += ERSPAN_3_SUBHEADER_LEN
        ptype = ETHERTYPE_TEB
    if pos > end:
        return (TRUNCATED, 0)
    return (ptype, pos)


def _ppp(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The PPP frame of a PPTP data packet; address/control and the protocol field may be compressed."""
    if pos >= end:
        return (NOT_IP, 0)  # an acknowledgment without payload
    if pos + 2 <= end and _U16(buf, pos)[0] == PPP_ADDRESS_CONTROL:
        pos += 2
    if pos >= end:
        return (TRUNCATED, 0)
    proto = buf[pos]
    if proto & 0x01:  # protocol field compression (RFC 1661 §6.5): one odd octet
        pos += 1
    elif pos + 2 > end:
        return (TRUNCATED, 0)
    else:
        (proto,) = _U16(buf, pos)
        pos += 2
    if proto == PPP_IPV4:
        return (ETHERTYPE_IPV4, pos)
    if proto == PPP_IPV6:
        return (ETHERTYPE_IPV6, pos)
    return (NOT_IP, 0)
