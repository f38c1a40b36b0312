//! Numbers the decoder dispatches on: link types, IEEE EtherTypes, IANA IP protocol numbers and UDP ports,
//! BSD address families, and the header bits of the IP and tunnel formats it reads. The same values, with
//! their sources, as `tlsmon/decode/numbers.py` and `tlsmon/capture/linktypes.py`.

// tcpdump.org LINKTYPE_ values
pub const LINKTYPE_NULL: u32 = 0; // BSD loopback: address family in the writer's host byte order
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_PPP: u32 = 9; // RFC 1661, optionally in HDLC-like framing (RFC 1662: ff 03 first)
pub const LINKTYPE_RAW_BSD: u32 = 12; // DLT_RAW on most BSDs, written as-is by some tools
pub const LINKTYPE_RAW_OPENBSD: u32 = 14;
pub const LINKTYPE_RAW: u32 = 101; // raw IPv4 or IPv6, version from the first nibble
pub const LINKTYPE_LOOP: u32 = 108; // OpenBSD loopback: address family in network byte order
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_IPV4: u32 = 228;
pub const LINKTYPE_IPV6: u32 = 229;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

pub const ETH_HEADER: usize = 14;
pub const SLL_HEADER: usize = 16;
pub const SLL2_HEADER: usize = 20;

// IEEE 802 EtherTypes
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
pub const ETHERTYPE_VLAN: u16 = 0x8100; // IEEE 802.1Q customer tag
pub const ETHERTYPE_QINQ: u16 = 0x88A8; // IEEE 802.1ad service tag
pub const ETHERTYPE_QINQ_OLD: u16 = 0x9100; // pre-802.1ad vendor QinQ tag
pub const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864; // RFC 2516
/// Cisco MetaData (TrustSec SGT inline tagging): version, length, option, SGT, then the next EtherType.
pub const ETHERTYPE_CISCO_METADATA: u16 = 0x8909;
pub const CISCO_METADATA_LEN: usize = 8; // the 6-byte header and the next EtherType
pub const ETHERTYPE_MPLS: u16 = 0x8847; // RFC 3032
pub const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
pub const ETHERTYPE_TEB: u16 = 0x6558; // transparent Ethernet bridging: an Ethernet frame follows
pub const ETHERTYPE_ERSPAN_2: u16 = 0x88BE; // ERSPAN types I and II inside GRE
pub const ETHERTYPE_ERSPAN_3: u16 = 0x22EB;
pub const ETHERTYPE_PPP: u16 = 0x880B; // PPP inside enhanced GRE (PPTP, RFC 2637)
pub const PPP_IPV4: u16 = 0x0021;
pub const PPP_IPV6: u16 = 0x0057;
pub const PPPOE_HEADER_LEN: usize = 6;
pub const MPLS_BOTTOM_OF_STACK: u32 = 0x100;
pub const VLAN_ID_MASK: u16 = 0x0FFF;

// IANA protocol numbers
pub const IPPROTO_HOPOPTS: u8 = 0;
pub const IPPROTO_IPIP: u8 = 4;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_IPV6: u8 = 41;
pub const IPPROTO_ROUTING: u8 = 43;
pub const IPPROTO_FRAGMENT: u8 = 44;
pub const IPPROTO_GRE: u8 = 47;
pub const IPPROTO_AH: u8 = 51;
pub const IPPROTO_DSTOPTS: u8 = 60;

// BSD loopback address families
pub const BSD_AF_INET: u32 = 2;
pub const BSD_AF_INET6: [u32; 3] = [24, 28, 30]; // NetBSD/OpenBSD/BSD/OS, FreeBSD, Darwin

pub const IPV4_MIN: usize = 20;
pub const IPV6_HEADER: usize = 40;
pub const TCP_MIN: usize = 20;
pub const IPV4_MF: u16 = 0x2000;
pub const IPV4_OFFSET_MASK: u16 = 0x1FFF;
pub const IPV4_FRAGMENTED: u16 = IPV4_MF | IPV4_OFFSET_MASK;
pub const IPV6_OFFSET_MASK: u16 = 0xFFF8;
pub const IPV6_MF: u16 = 0x0001;
/// Largest reassembled datagram payload; beyond it is an attack (ping of death).
pub const MAX_IP_DATAGRAM: usize = 65535;

// UDP destination ports of tunnels
pub const UDP_PORT_GTPU: u16 = 2152; // 3GPP TS 29.281
pub const UDP_PORT_VXLAN: u16 = 4789; // RFC 7348 §5
pub const UDP_PORT_GENEVE: u16 = 6081; // RFC 8926 §3.3
pub const UDP_HEADER_LEN: usize = 8;

// GRE flags-and-version word (RFC 2784 §2, RFC 2890 §2, RFC 2637 §4.1)
pub const GRE_CHECKSUM: u16 = 0x8000;
pub const GRE_ROUTING: u16 = 0x4000;
pub const GRE_KEY: u16 = 0x2000;
pub const GRE_SEQUENCE: u16 = 0x1000;
pub const GRE_ACK: u16 = 0x0080;
pub const GRE_RESERVED: u16 = 0x0078;
pub const GRE_VERSION_MASK: u16 = 0x0007;
pub const ERSPAN_2_HEADER_LEN: usize = 8;
pub const ERSPAN_3_HEADER_LEN: usize = 12;
pub const ERSPAN_3_SUBHEADER_LEN: usize = 8;
pub const PPP_ADDRESS_CONTROL: u16 = 0xFF03;

pub const GENEVE_HEADER_LEN: usize = 8;
pub const VXLAN_HEADER_LEN: usize = 8;
pub const VXLAN_FLAG_VNI: u8 = 0x08;
pub const GTPU_HEADER_LEN: usize = 8;
pub const GTPU_VERSION_PT_MASK: u8 = 0xF0;
pub const GTPU_VERSION_1_PT_GTP: u8 = 0x30;
pub const GTPU_OPTIONAL_FLAGS: u8 = 0x07;
pub const GTPU_OPTIONAL_LEN: usize = 4;
pub const GTPU_EXTENSION: u8 = 0x04;
pub const GTPU_G_PDU: u8 = 0xFF;

/// Nested tunnels decoded per frame; Zeek's `Tunnel::max_depth` defaults to 2.
pub const MAX_TUNNEL_DEPTH: u8 = 3;
