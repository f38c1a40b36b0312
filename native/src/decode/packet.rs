//! Link layer → IPv4/IPv6 → TCP header fields of one frame: the general path of [`super::Decoder`], a
//! line-by-line port of `tlsmon/decode/packet.py` (`Decoder._decode_link` and below).
//!
//! Every function reads `buf` with explicit bounds checks in the order Python makes them, so the counter
//! a malformed frame gets is the same. Offsets may point past the end of `buf` (a snaplen cut inside
//! extension headers); every read is checked against `buf.len()` first and nothing is sliced past it.
//!
//! Fragment reassembly cannot continue inside the call that completed it, because the reassembled payload
//! lives in the decoder's buffer, which the frame's decode does not own: a completed datagram is returned
//! as [`Step::Resume`] and the decoder continues with [`Engine::resume`] on its buffer.

use super::counters::{Counter, Counters};
use super::fragments::{Completed, FragKey, Fragment, FragmentTable};
use super::numbers::{
    BSD_AF_INET, BSD_AF_INET6, CISCO_METADATA_LEN, ETHERTYPE_CISCO_METADATA, ETHERTYPE_IPV4,
    ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_MPLS_MULTICAST, ETHERTYPE_PPPOE_SESSION,
    ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_TEB, ETHERTYPE_VLAN, ETH_HEADER, IPPROTO_AH,
    IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_GRE, IPPROTO_HOPOPTS, IPPROTO_IPIP, IPPROTO_IPV6,
    IPPROTO_ROUTING, IPPROTO_TCP, IPPROTO_UDP, IPV4_FRAGMENTED, IPV4_MF, IPV4_MIN,
    IPV4_OFFSET_MASK, IPV6_HEADER, IPV6_MF, IPV6_OFFSET_MASK, LINKTYPE_ETHERNET, LINKTYPE_IPV4,
    LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL,
    LINKTYPE_PPP, LINKTYPE_RAW, LINKTYPE_RAW_BSD, LINKTYPE_RAW_OPENBSD, MAX_TUNNEL_DEPTH,
    MPLS_BOTTOM_OF_STACK, PPPOE_HEADER_LEN, PPP_IPV4, PPP_IPV6, SLL2_HEADER, SLL_HEADER, TCP_MIN,
    UDP_HEADER_LEN, UDP_PORT_GENEVE, UDP_PORT_GTPU, UDP_PORT_VXLAN, VLAN_ID_MASK,
};
use super::tunnels::{self, Tunnel};
use super::Addr;

#[inline]
pub(super) fn be16(buf: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([buf[off], buf[off + 1]])
}

#[inline]
pub(super) fn be32(buf: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]])
}

fn addr6(buf: &[u8], off: usize) -> Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&buf[off..off + 16]);
    Addr::V6(a)
}

/// A decoded TCP segment whose payload is `buf[poff..poff + plen]` of the buffer it was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seg {
    pub ip_version: u8,
    pub src: Addr,
    pub dst: Addr,
    pub sport: u16,
    pub dport: u16,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub poff: usize,
    pub plen: usize,
    pub vlan: Option<u16>,
    /// A UDP datagram (not a tunnel): `flags`, `seq` and `ack` are 0.
    pub udp: bool,
}

/// The IP header fields a TCP segment is reported with.
#[derive(Clone, Copy, Debug)]
struct Ends {
    version: u8,
    src: Addr,
    dst: Addr,
}

/// A reassembled datagram to continue with, once it is in the decoder's buffer.
#[derive(Debug)]
pub(super) struct Resume {
    pub datagram: Completed,
    ends: Ends,
    /// IPv4: the datagram's protocol; IPv6: unused (the next header is the datagram's).
    proto: u8,
    vlan: Option<u16>,
}

#[derive(Debug)]
pub(super) enum Step {
    Seg(Seg),
    Drop,
    Resume(Resume),
}

/// The decoder's state apart from the reassembly buffer.
#[derive(Debug)]
pub(super) struct Engine {
    pub counters: Counters,
    pub frags: FragmentTable,
    /// Tunnels entered in the frame being decoded.
    depth: u8,
}

impl Engine {
    pub fn new(frag_timeout_ns: i64, max_frag_bytes: usize) -> Self {
        Engine {
            counters: Counters::default(),
            frags: FragmentTable::new(frag_timeout_ns, max_frag_bytes),
            depth: 0,
        }
    }

    #[inline]
    fn reject(&mut self, counter: Counter) -> Step {
        self.counters.bump(counter);
        Step::Drop
    }

    // -- link layer ---------------------------------------------------------------------------------------

    pub fn link(&mut self, ts_ns: i64, linktype: u32, frame: &[u8]) -> Step {
        self.depth = 0;
        let n = frame.len();
        match linktype {
            LINKTYPE_ETHERNET => {
                if n < ETH_HEADER {
                    return self.reject(Counter::TruncatedLink);
                }
                self.ethertype(ts_ns, frame, be16(frame, 12), ETH_HEADER, None)
            }
            LINKTYPE_RAW_BSD | LINKTYPE_RAW_OPENBSD | LINKTYPE_RAW => {
                if n < 1 {
                    return self.reject(Counter::TruncatedIp);
                }
                match frame[0] >> 4 {
                    4 => self.ipv4(ts_ns, frame, 0, None),
                    6 => self.ipv6(ts_ns, frame, 0, None),
                    _ => self.reject(Counter::NotIp),
                }
            }
            LINKTYPE_LINUX_SLL => {
                if n < SLL_HEADER {
                    return self.reject(Counter::TruncatedLink);
                }
                self.ethertype(ts_ns, frame, be16(frame, 14), SLL_HEADER, None)
            }
            LINKTYPE_LINUX_SLL2 => {
                if n < SLL2_HEADER {
                    return self.reject(Counter::TruncatedLink);
                }
                self.ethertype(ts_ns, frame, be16(frame, 0), SLL2_HEADER, None)
            }
            LINKTYPE_NULL | LINKTYPE_LOOP => {
                if n < 4 {
                    return self.reject(Counter::TruncatedLink);
                }
                let mut family = be32(frame, 0);
                if linktype == LINKTYPE_NULL && family > 0xFFFF {
                    // the writer's host order was little-endian
                    family = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
                }
                if family == BSD_AF_INET {
                    self.ipv4(ts_ns, frame, 4, None)
                } else if BSD_AF_INET6.contains(&family) {
                    self.ipv6(ts_ns, frame, 4, None)
                } else {
                    self.reject(Counter::NotIp)
                }
            }
            LINKTYPE_IPV4 => self.ipv4(ts_ns, frame, 0, None),
            LINKTYPE_IPV6 => self.ipv6(ts_ns, frame, 0, None),
            LINKTYPE_PPP => self.ppp(ts_ns, frame),
            _ => self.reject(Counter::UnsupportedLinkType),
        }
    }

    /// A PPP frame (link type 9): the HDLC address and control bytes ff 03 if present (RFC 1662), then the
    /// protocol field, one byte when compressed (RFC 1661 §6.5: the first byte is odd), else two.
    fn ppp(&mut self, ts_ns: i64, frame: &[u8]) -> Step {
        let n = frame.len();
        let mut off = if frame.starts_with(&[0xFF, 0x03]) {
            2
        } else {
            0
        };
        if n <= off {
            return self.reject(Counter::TruncatedLink);
        }
        let proto = if frame[off] & 1 == 1 {
            off += 1;
            u16::from(frame[off - 1])
        } else if n < off + 2 {
            return self.reject(Counter::TruncatedLink);
        } else {
            off += 2;
            be16(frame, off - 2)
        };
        match proto {
            PPP_IPV4 => self.ipv4(ts_ns, frame, off, None),
            PPP_IPV6 => self.ipv6(ts_ns, frame, off, None),
            _ => self.reject(Counter::NotIp),
        }
    }

    /// Dispatch on an EtherType at `off`, first stepping over 802.1Q/802.1ad tags; `vlan` is an outer
    /// frame's VLAN id (kept) when this is an Ethernet frame inside a tunnel.
    fn ethertype(
        &mut self,
        ts_ns: i64,
        buf: &[u8],
        mut etype: u16,
        mut off: usize,
        mut vlan: Option<u16>,
    ) -> Step {
        let n = buf.len();
        while matches!(
            etype,
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_CISCO_METADATA
        ) {
            if etype == ETHERTYPE_CISCO_METADATA {
                if n < off + CISCO_METADATA_LEN {
                    return self.reject(Counter::TruncatedLink);
                }
                etype = be16(buf, off + CISCO_METADATA_LEN - 2);
                off += CISCO_METADATA_LEN;
                continue;
            }
            if n < off + 4 {
                return self.reject(Counter::TruncatedLink);
            }
            let tci = be16(buf, off);
            etype = be16(buf, off + 2);
            vlan.get_or_insert(tci & VLAN_ID_MASK);
            off += 4;
        }
        match etype {
            ETHERTYPE_IPV4 => self.ipv4(ts_ns, buf, off, vlan),
            ETHERTYPE_IPV6 => self.ipv6(ts_ns, buf, off, vlan),
            ETHERTYPE_PPPOE_SESSION => self.pppoe(ts_ns, buf, off, vlan),
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => self.mpls(ts_ns, buf, off, vlan),
            _ => self.reject(Counter::NotIp),
        }
    }

    /// PPPoE session header, then the PPP protocol field: IPv4 or IPv6 follow.
    fn pppoe(&mut self, ts_ns: i64, buf: &[u8], off: usize, vlan: Option<u16>) -> Step {
        if buf.len() < off + PPPOE_HEADER_LEN + 2 {
            return self.reject(Counter::TruncatedLink);
        }
        let proto = be16(buf, off + PPPOE_HEADER_LEN);
        let off = off + PPPOE_HEADER_LEN + 2;
        match proto {
            PPP_IPV4 => self.ipv4(ts_ns, buf, off, vlan),
            PPP_IPV6 => self.ipv6(ts_ns, buf, off, vlan),
            _ => self.reject(Counter::NotIp),
        }
    }

    /// An MPLS label stack; after the bottom label the IP version nibble says what follows.
    fn mpls(&mut self, ts_ns: i64, buf: &[u8], mut off: usize, vlan: Option<u16>) -> Step {
        let n = buf.len();
        loop {
            if n < off + 4 {
                return self.reject(Counter::TruncatedLink);
            }
            let entry = be32(buf, off);
            off += 4;
            if entry & MPLS_BOTTOM_OF_STACK != 0 {
                break;
            }
        }
        if off >= n {
            return self.reject(Counter::TruncatedLink);
        }
        match buf[off] >> 4 {
            4 => self.ipv4(ts_ns, buf, off, vlan),
            6 => self.ipv6(ts_ns, buf, off, vlan),
            _ => self.reject(Counter::NotIp),
        }
    }

    // -- IP -----------------------------------------------------------------------------------------------

    fn ipv4(&mut self, ts_ns: i64, buf: &[u8], off: usize, vlan: Option<u16>) -> Step {
        let n = buf.len();
        if off + IPV4_MIN > n {
            return self.reject(Counter::TruncatedIp);
        }
        let vihl = buf[off];
        let mut total = usize::from(be16(buf, off + 2));
        let ident = be16(buf, off + 4);
        let frag = be16(buf, off + 6);
        let proto = buf[off + 9];
        let src = Addr::V4(be32(buf, off + 12));
        let dst = Addr::V4(be32(buf, off + 16));
        let ihl = usize::from(vihl & 0x0F) * 4;
        if vihl >> 4 != 4 || ihl < IPV4_MIN {
            return self.reject(Counter::BadIpHeader);
        }
        if total == 0 {
            self.counters.bump(Counter::IpLengthZero);
            total = n - off;
        }
        if total < ihl {
            return self.reject(Counter::BadIpHeader);
        }
        if off + ihl > n {
            return self.reject(Counter::TruncatedIp);
        }
        let start = off + ihl;
        let end = off + total;
        let ends = Ends {
            version: 4,
            src,
            dst,
        };
        if frag & IPV4_FRAGMENTED != 0 {
            if !matches!(
                proto,
                IPPROTO_TCP | IPPROTO_IPIP | IPPROTO_IPV6 | IPPROTO_GRE
            ) {
                return self.reject(Counter::NotTcp);
            }
            if end > n {
                return self.reject(Counter::FragmentTruncated);
            }
            let offset = usize::from(frag & IPV4_OFFSET_MASK) * 8;
            let key = FragKey {
                src,
                dst,
                ident: u32::from(ident),
                proto: u16::from(proto),
            };
            let more = frag & IPV4_MF != 0;
            let fragment = Fragment {
                offset,
                data: &buf[start..end],
                more,
                proto,
            };
            return match self.frags.add(&mut self.counters, ts_ns, key, &fragment) {
                None => Step::Drop,
                Some(datagram) => Step::Resume(Resume {
                    datagram,
                    ends,
                    proto,
                    vlan,
                }),
            };
        }
        if proto != IPPROTO_TCP {
            return self.not_tcp(ts_ns, ends, proto, buf, start, end, vlan);
        }
        self.tcp(ends, buf, start, end, vlan)
    }

    fn ipv6(&mut self, ts_ns: i64, buf: &[u8], off: usize, vlan: Option<u16>) -> Step {
        let n = buf.len();
        if off + IPV6_HEADER > n {
            return self.reject(Counter::TruncatedIp);
        }
        if buf[off] >> 4 != 6 {
            return self.reject(Counter::BadIpHeader);
        }
        let length = usize::from(be16(buf, off + 4));
        let nh = buf[off + 6];
        let ends = Ends {
            version: 6,
            src: addr6(buf, off + 8),
            dst: addr6(buf, off + 24),
        };
        let pos = off + IPV6_HEADER;
        let end = if length == 0 {
            self.counters.bump(Counter::IpLengthZero);
            n
        } else {
            pos + length
        };
        self.ipv6_chain(ts_ns, ends, nh, buf, pos, end, vlan)
    }

    /// Walk IPv6 extension headers from `nh` at `pos` to TCP, a fragment or another payload.
    #[allow(clippy::too_many_arguments)]
    fn ipv6_chain(
        &mut self,
        ts_ns: i64,
        ends: Ends,
        mut nh: u8,
        buf: &[u8],
        mut pos: usize,
        end: usize,
        vlan: Option<u16>,
    ) -> Step {
        let n = buf.len();
        while nh != IPPROTO_TCP {
            if matches!(
                nh,
                IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH
            ) {
                if pos + 2 > end.min(n) {
                    return self.reject(if pos + 2 > n {
                        Counter::TruncatedIp
                    } else {
                        Counter::BadIpHeader
                    });
                }
                let units = usize::from(buf[pos + 1]);
                let hlen = if nh == IPPROTO_AH {
                    (units + 2) * 4
                } else {
                    (units + 1) * 8
                };
                nh = buf[pos];
                pos += hlen;
                if pos > end {
                    return self.reject(Counter::BadIpHeader);
                }
            } else if nh == IPPROTO_FRAGMENT {
                if pos + 8 > end.min(n) {
                    return self.reject(if pos + 8 > n {
                        Counter::TruncatedIp
                    } else {
                        Counter::BadIpHeader
                    });
                }
                nh = buf[pos];
                let offset_flags = be16(buf, pos + 2);
                let ident = be32(buf, pos + 4);
                pos += 8;
                let offset = usize::from(offset_flags & IPV6_OFFSET_MASK);
                let more = offset_flags & IPV6_MF != 0;
                if offset == 0 && !more {
                    continue; // an atomic fragment (RFC 6946): the datagram is whole
                }
                if end > n {
                    return self.reject(Counter::FragmentTruncated);
                }
                let key = FragKey {
                    src: ends.src,
                    dst: ends.dst,
                    ident,
                    proto: FragKey::V6_PROTO,
                };
                let fragment = Fragment {
                    offset,
                    data: &buf[pos..end],
                    more,
                    proto: nh,
                };
                return match self.frags.add(&mut self.counters, ts_ns, key, &fragment) {
                    None => Step::Drop,
                    Some(datagram) => Step::Resume(Resume {
                        datagram,
                        ends,
                        proto: 0,
                        vlan,
                    }),
                };
            } else {
                return self.not_tcp(ts_ns, ends, nh, buf, pos, end, vlan);
            }
        }
        self.tcp(ends, buf, pos, end, vlan)
    }

    /// Continue after a reassembly completed; `buf` holds the datagram `resume` names.
    pub fn resume(&mut self, ts_ns: i64, buf: &[u8], resume: &Resume) -> Step {
        let len = buf.len();
        if resume.ends.version == 4 {
            if resume.proto != IPPROTO_TCP {
                return self.not_tcp(ts_ns, resume.ends, resume.proto, buf, 0, len, resume.vlan);
            }
            return self.tcp(resume.ends, buf, 0, len, resume.vlan);
        }
        // Python's proto is -1 when no offset-0 fragment named one; 255 is as much "not TCP or a tunnel".
        let nh = u8::try_from(resume.datagram.proto).unwrap_or(u8::MAX);
        self.ipv6_chain(ts_ns, resume.ends, nh, buf, 0, len, resume.vlan)
    }

    // -- tunnels ------------------------------------------------------------------------------------------

    /// An IP payload other than TCP at `buf[off..end]`: a tunnel is opened, a UDP datagram returned,
    /// anything else counted.
    #[allow(clippy::too_many_arguments)]
    fn not_tcp(
        &mut self,
        ts_ns: i64,
        ends: Ends,
        proto: u8,
        buf: &[u8],
        off: usize,
        end: usize,
        vlan: Option<u16>,
    ) -> Step {
        match proto {
            IPPROTO_UDP => {
                let limit = end.min(buf.len());
                if off + UDP_HEADER_LEN <= limit {
                    let inner = off + UDP_HEADER_LEN;
                    let opened = match be16(buf, off + 2) {
                        UDP_PORT_VXLAN => {
                            Some((tunnels::vxlan(buf, inner, limit), Counter::TunnelVxlan))
                        }
                        UDP_PORT_GENEVE => {
                            Some((tunnels::geneve(buf, inner, limit), Counter::TunnelGeneve))
                        }
                        UDP_PORT_GTPU => {
                            Some((tunnels::gtpu(buf, inner, limit), Counter::TunnelGtpu))
                        }
                        _ => None,
                    };
                    if let Some((tunnel, counter)) = opened {
                        if tunnel != Tunnel::NotTunnel {
                            return self.enter(ts_ns, counter, tunnel, buf, end, vlan);
                        }
                    }
                    return self.udp(ends, buf, off, end, vlan);
                }
            }
            IPPROTO_GRE => {
                let tunnel = tunnels::gre(buf, off, end.min(buf.len()));
                return self.enter(ts_ns, Counter::TunnelGre, tunnel, buf, end, vlan);
            }
            IPPROTO_IPIP => {
                let tunnel = Tunnel::Inner {
                    ethertype: ETHERTYPE_IPV4,
                    off,
                };
                return self.enter(ts_ns, Counter::TunnelIpInIp, tunnel, buf, end, vlan);
            }
            IPPROTO_IPV6 => {
                let tunnel = Tunnel::Inner {
                    ethertype: ETHERTYPE_IPV6,
                    off,
                };
                return self.enter(ts_ns, Counter::TunnelIpInIp, tunnel, buf, end, vlan);
            }
            _ => {}
        }
        self.reject(Counter::NotTcp)
    }

    /// Decode what a tunnel header of type `counter` carries; `end` is where the outer datagram ends, and
    /// bytes after it (Ethernet padding) are cut off.
    fn enter(
        &mut self,
        ts_ns: i64,
        counter: Counter,
        tunnel: Tunnel,
        buf: &[u8],
        end: usize,
        vlan: Option<u16>,
    ) -> Step {
        let (mut kind, mut off) = match tunnel {
            Tunnel::Truncated => return self.reject(Counter::TruncatedTunnel),
            Tunnel::BadHeader | Tunnel::NotTunnel => return self.reject(Counter::BadTunnelHeader),
            Tunnel::Inner { ethertype, off } => (ethertype, off),
        };
        if self.depth >= MAX_TUNNEL_DEPTH {
            return self.reject(Counter::TunnelTooDeep);
        }
        self.depth += 1;
        self.counters.bump(counter);
        let buf = &buf[..end.min(buf.len())];
        if kind == ETHERTYPE_TEB {
            if buf.len() < off + ETH_HEADER {
                return self.reject(Counter::TruncatedLink);
            }
            kind = be16(buf, off + 12);
            off += ETH_HEADER;
        }
        self.ethertype(ts_ns, buf, kind, off, vlan)
    }

    // -- TCP ----------------------------------------------------------------------------------------------

    /// The TCP segment in `buf[off..end]`; `end` is where IP says it ends, maybe beyond the capture.
    fn tcp(&mut self, ends: Ends, buf: &[u8], off: usize, end: usize, vlan: Option<u16>) -> Step {
        let n = buf.len();
        if end < off + TCP_MIN {
            return self.reject(Counter::BadTcpHeader);
        }
        if n < off + TCP_MIN {
            return self.reject(Counter::TruncatedTcp);
        }
        let thl = usize::from((buf[off + 12] >> 2) & 0x3C);
        let poff = off + thl;
        if thl < TCP_MIN || poff > end {
            return self.reject(Counter::BadTcpHeader);
        }
        if poff > n {
            return self.reject(Counter::TruncatedTcp);
        }
        let end = if end > n {
            self.counters.bump(Counter::SnaplenTruncated);
            n
        } else {
            end
        };
        Step::Seg(Seg {
            ip_version: ends.version,
            src: ends.src,
            dst: ends.dst,
            sport: be16(buf, off),
            dport: be16(buf, off + 2),
            flags: buf[off + 13],
            seq: be32(buf, off + 4),
            ack: be32(buf, off + 8),
            poff,
            plen: end - poff,
            vlan,
            udp: false,
        })
    }

    /// The UDP datagram at `buf[off..end]` (its 8-byte header captured): it ends where the UDP length says if
    /// that is within the IP datagram, else where IP says; at the capture's end if the snaplen cut it.
    fn udp(&mut self, ends: Ends, buf: &[u8], off: usize, end: usize, vlan: Option<u16>) -> Step {
        let length = usize::from(be16(buf, off + 4));
        let mut end = end;
        if UDP_HEADER_LEN <= length && off + length <= end {
            end = off + length;
        }
        if end > buf.len() {
            self.counters.bump(Counter::SnaplenTruncated);
            end = buf.len();
        }
        let poff = off + UDP_HEADER_LEN;
        Step::Seg(Seg {
            ip_version: ends.version,
            src: ends.src,
            dst: ends.dst,
            sport: be16(buf, off),
            dport: be16(buf, off + 2),
            flags: 0,
            seq: 0,
            ack: 0,
            poff,
            plen: end - poff,
            vlan,
            udp: true,
        })
    }
}
