"""Numbers the decoder dispatches on: IEEE EtherTypes, IANA IP protocol numbers and UDP ports, BSD address
families, and the header bits of the IP and tunnel formats it reads."""

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
ETHERTYPE_TEB: Final = 0x6558  # transparent Ethernet bridging: an Ethernet frame follows (GRE, Geneve)
ETHERTYPE_ERSPAN_2: Final = 0x88BE  # Cisco ERSPAN types I and II inside GRE
ETHERTYPE_ERSPAN_3: Final = 0x22EB  # ERSPAN type III inside GRE
ETHERTYPE_PPP: Final = 0x880B  # PPP inside enhanced GRE (PPTP, RFC 2637)
VLAN_TPIDS: Final = frozenset({ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD})
# Cisco MetaData (TrustSec SGT inline tagging): version, length, option, SGT, then the next EtherType.
ETHERTYPE_CISCO_METADATA: Final = 0x8909
CISCO_METADATA_LEN: Final = 8  # the 6-byte header and the next EtherType
PPP_HDLC_ADDRESS_CONTROL: Final = b"\xff\x03"  # RFC 1662 HDLC-like framing, before the protocol field
VLAN_ID_MASK: Final = 0x0FFF  # the VID is the low 12 bits of the TCI

# IANA "Assigned Internet Protocol Numbers"
IPPROTO_HOPOPTS: Final = 0
IPPROTO_IPIP: Final = 4  # IPv4 encapsulated in IP (RFC 2003)
IPPROTO_TCP: Final = 6
IPPROTO_UDP: Final = 17
IPPROTO_IPV6: Final = 41  # IPv6 encapsulated in IP (RFC 4213 §3.5, RFC 2473)
IPPROTO_ROUTING: Final = 43
IPPROTO_FRAGMENT: Final = 44
IPPROTO_GRE: Final = 47  # RFC 2784
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

# IANA "Service Name and Transport Protocol Port Number" registry: UDP destination ports of tunnels
UDP_PORT_GTPU: Final = 2152  # GTP user plane, 3GPP TS 29.281
UDP_PORT_VXLAN: Final = 4789  # RFC 7348 §5
UDP_PORT_GENEVE: Final = 6081  # RFC 8926 §3.3
UDP_HEADER_LEN: Final = 8

# GRE flags-and-version word (RFC 2784 §2, RFC 2890 §2; the acknowledgment bit of enhanced GRE: RFC 2637 §4.1)
GRE_CHECKSUM: Final = 0x8000  # checksum and reserved1 present (4 octets)
GRE_ROUTING: Final = 0x4000  # RFC 1701 routing present; deprecated by RFC 2784 and not decoded (as Zeek)
GRE_KEY: Final = 0x2000  # key present (4 octets)
GRE_SEQUENCE: Final = 0x1000  # sequence number present (4 octets); for ERSPAN it tells type II from type I
GRE_ACK: Final = 0x0080  # enhanced GRE (version 1) only: acknowledgment number present (4 octets)
GRE_RESERVED: Final = 0x0078  # must be zero in both versions (Zeek rejects them too)
GRE_VERSION_MASK: Final = 0x0007
ERSPAN_2_HEADER_LEN: Final = 8  # draft-foschiano-erspan-03 §4.2
ERSPAN_3_HEADER_LEN: Final = 12  # draft-foschiano-erspan-03 §4.3
ERSPAN_3_SUBHEADER_LEN: Final = 8  # the platform-specific subheader present when the O bit is set
PPP_ADDRESS_CONTROL: Final = 0xFF03  # PPP address and control octets, absent when compressed (RFC 1662 §3.2)

# Geneve (RFC 8926 §3.4)
GENEVE_HEADER_LEN: Final = 8
GENEVE_PAYLOAD_TYPES: Final = frozenset({ETHERTYPE_TEB, ETHERTYPE_IPV4, ETHERTYPE_IPV6})

# VXLAN (RFC 7348 §5)
VXLAN_HEADER_LEN: Final = 8
VXLAN_FLAG_VNI: Final = 0x08  # the I flag: the VNI is valid; MUST be set

# GTP-U version 1 (3GPP TS 29.281 §5.1-5.2)
GTPU_HEADER_LEN: Final = 8
GTPU_VERSION_PT_MASK: Final = 0xF0  # version (3 bits) and protocol type (1 bit)
GTPU_VERSION_1_PT_GTP: Final = 0x30  # version 1, protocol type 1 (GTP, not GTP')
GTPU_OPTIONAL_FLAGS: Final = 0x07  # E, S or PN set: sequence number, N-PDU number and next type follow
GTPU_OPTIONAL_LEN: Final = 4
GTPU_EXTENSION: Final = 0x04  # E: the next extension header type field is meaningful
GTPU_G_PDU: Final = 0xFF  # message type of a tunnelled user packet (T-PDU)

MAX_TUNNEL_DEPTH: Final = 3  # nested tunnels decoded per frame; Zeek's Tunnel::max_depth defaults to 2
