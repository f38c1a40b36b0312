"""Numbers the decoder dispatches on: IEEE EtherTypes, IANA IP protocol numbers, BSD address families."""

from __future__ import annotations

from typing import Final

# IEEE 802 EtherTypes (IANA "ieee-802-numbers" registry)
ETHERTYPE_IPV4: Final = 0x0800
ETHERTYPE_IPV6: Final = 0x86DD
ETHERTYPE_VLAN: Final = 0x8100  # IEEE 802.1Q customer tag
ETHERTYPE_QINQ: Final = 0x88A8  # IEEE 802.1ad service tag
ETHERTYPE_QINQ_OLD: Final = 0x9100  # pre-802.1ad vendor QinQ tag, still seen on the wire
ETHERTYPE_PPPOE_SESSION: Final = 0x8864  # RFC 2516 PPPoE session stage
ETHERTYPE_MPLS: Final = 0x8847  # RFC 3032 MPLS unicast
ETHERTYPE_MPLS_MULTICAST: Final = 0x8848
PPP_IPV4: Final = 0x0021  # PPP protocol numbers (RFC 1332, RFC 5072)
PPP_IPV6: Final = 0x0057
PPPOE_HEADER_LEN: Final = 6  # version/type, code, session id, length
MPLS_BOTTOM_OF_STACK: Final = 0x100  # the S bit in a label stack entry
VLAN_TPIDS: Final = frozenset({ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD})
VLAN_ID_MASK: Final = 0x0FFF  # the VID is the low 12 bits of the TCI

# IANA "Assigned Internet Protocol Numbers"
IPPROTO_HOPOPTS: Final = 0
IPPROTO_TCP: Final = 6
IPPROTO_ROUTING: Final = 43
IPPROTO_FRAGMENT: Final = 44
IPPROTO_ESP: Final = 50
IPPROTO_AH: Final = 51
IPPROTO_NONE: Final = 59
IPPROTO_DSTOPTS: Final = 60
# IPv6 extension headers whose length is (hdr_ext_len + 1) * 8 octets (RFC 8200 §4.3-4.6)
IPV6_EXT_8OCTET: Final = frozenset({IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS})

# BSD loopback (LINKTYPE_NULL / LINKTYPE_LOOP) address families, per the tcpdump.org LINKTYPE registry
BSD_AF_INET: Final = 2
BSD_AF_INET6: Final = frozenset({24, 28, 30})  # NetBSD/OpenBSD/BSD/OS, FreeBSD, Darwin

# IPv4 flags/fragment-offset field (RFC 791 §3.1)
IPV4_MF: Final = 0x2000
IPV4_OFFSET_MASK: Final = 0x1FFF
IPV4_FRAGMENTED: Final = IPV4_MF | IPV4_OFFSET_MASK  # nonzero for every fragment, zero for whole datagrams
# IPv6 Fragment header offset/flags field (RFC 8200 §4.5)
IPV6_OFFSET_MASK: Final = 0xFFF8
IPV6_MF: Final = 0x0001
MAX_IP_DATAGRAM: Final = 65535  # largest reassembled datagram payload; beyond it is an attack (ping of death)
