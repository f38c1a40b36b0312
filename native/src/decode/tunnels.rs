//! Tunnel headers: where the encapsulated packet starts, and what it is (`tlsmon/decode/tunnels.py`).
//!
//! Each function reads one tunnel header at `off` of `buf`, with bytes up to `end` available, and returns a
//! [`Tunnel`]: the EtherType of what follows and where (an Ethernet frame is [`ETHERTYPE_TEB`]), or why there
//! is nothing to decode. They hold no state and count nothing. UDP tunnels are recognised by port *and* a
//! header check, so other traffic on those ports is left alone ([`Tunnel::NotTunnel`]); IP protocols 4, 41
//! and 47 are tunnels by definition, so an undecodable GRE header is [`Tunnel::BadHeader`].

use super::numbers::{
    ERSPAN_2_HEADER_LEN, ERSPAN_3_HEADER_LEN, ERSPAN_3_SUBHEADER_LEN, ETHERTYPE_ERSPAN_2,
    ETHERTYPE_ERSPAN_3, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_PPP, ETHERTYPE_TEB,
    GENEVE_HEADER_LEN, GRE_ACK, GRE_CHECKSUM, GRE_KEY, GRE_RESERVED, GRE_ROUTING, GRE_SEQUENCE,
    GRE_VERSION_MASK, GTPU_EXTENSION, GTPU_G_PDU, GTPU_HEADER_LEN, GTPU_OPTIONAL_FLAGS,
    GTPU_OPTIONAL_LEN, GTPU_VERSION_1_PT_GTP, GTPU_VERSION_PT_MASK, PPP_ADDRESS_CONTROL, PPP_IPV4,
    PPP_IPV6, VXLAN_FLAG_VNI, VXLAN_HEADER_LEN,
};

/// What a tunnel header leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tunnel {
    /// The header check failed: ordinary traffic on a tunnel's port.
    NotTunnel,
    /// The datagram or the capture ends inside the tunnel header.
    Truncated,
    /// A tunnel header tlsmon does not decode (GRE routing, version, reserved flags …).
    BadHeader,
    /// `ethertype` follows at `off`; `ethertype` 0 (at 0) is a well-formed tunnel carrying something other
    /// than IP or Ethernet, as Python's `NOT_IP`.
    Inner { ethertype: u16, off: usize },
}

const NOT_IP: Tunnel = Tunnel::Inner {
    ethertype: 0,
    off: 0,
};

#[inline]
fn be16(buf: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([buf[off], buf[off + 1]])
}

/// Geneve (RFC 8926 §3.4): 8 octets, then Opt Len 4-octet words of options, then the payload.
pub fn geneve(buf: &[u8], off: usize, end: usize) -> Tunnel {
    if off + GENEVE_HEADER_LEN > end {
        return Tunnel::NotTunnel;
    }
    let first = buf[off];
    let ptype = be16(buf, off + 2);
    if first >> 6 != 0 || !matches!(ptype, ETHERTYPE_TEB | ETHERTYPE_IPV4 | ETHERTYPE_IPV6) {
        return Tunnel::NotTunnel;
    }
    let inner = off + GENEVE_HEADER_LEN + usize::from(first & 0x3F) * 4;
    if inner > end {
        return Tunnel::Truncated;
    }
    Tunnel::Inner {
        ethertype: ptype,
        off: inner,
    }
}

/// VXLAN (RFC 7348 §5): 8 octets, the I flag set, then an Ethernet frame.
pub fn vxlan(buf: &[u8], off: usize, end: usize) -> Tunnel {
    if off + VXLAN_HEADER_LEN > end {
        return Tunnel::NotTunnel;
    }
    if buf[off] & VXLAN_FLAG_VNI == 0 || buf[off + 7] != 0 {
        return Tunnel::NotTunnel;
    }
    Tunnel::Inner {
        ethertype: ETHERTYPE_TEB,
        off: off + VXLAN_HEADER_LEN,
    }
}

/// GTP-U v1 (3GPP TS 29.281 §5.1-5.2): a G-PDU's header and extension headers, then an IP packet whose
/// version nibble names its kind.
pub fn gtpu(buf: &[u8], off: usize, end: usize) -> Tunnel {
    if off + GTPU_HEADER_LEN > end {
        return Tunnel::NotTunnel;
    }
    let flags = buf[off];
    let mtype = buf[off + 1];
    let length = usize::from(be16(buf, off + 2));
    if flags & GTPU_VERSION_PT_MASK != GTPU_VERSION_1_PT_GTP || mtype != GTPU_G_PDU {
        return Tunnel::NotTunnel;
    }
    let mut pos = off + GTPU_HEADER_LEN;
    if flags & GTPU_OPTIONAL_FLAGS != 0 {
        if length < GTPU_OPTIONAL_LEN {
            return Tunnel::BadHeader;
        }
        pos += GTPU_OPTIONAL_LEN;
        if pos > end {
            return Tunnel::Truncated;
        }
        let mut next_type = if flags & GTPU_EXTENSION != 0 {
            buf[pos - 1]
        } else {
            0
        };
        while next_type != 0 {
            if pos >= end {
                return Tunnel::Truncated;
            }
            let units = usize::from(buf[pos]);
            if units == 0 {
                return Tunnel::BadHeader;
            }
            pos += units * 4;
            if pos > end {
                return Tunnel::Truncated;
            }
            next_type = buf[pos - 1];
        }
    }
    if pos >= end {
        return Tunnel::Truncated;
    }
    match buf[pos] >> 4 {
        4 => Tunnel::Inner {
            ethertype: ETHERTYPE_IPV4,
            off: pos,
        },
        6 => Tunnel::Inner {
            ethertype: ETHERTYPE_IPV6,
            off: pos,
        },
        _ => NOT_IP,
    }
}

/// GRE (RFC 2784, RFC 2890), ERSPAN types I-III inside it, and enhanced GRE carrying PPP (PPTP).
pub fn gre(buf: &[u8], off: usize, end: usize) -> Tunnel {
    if off + 4 > end {
        return Tunnel::Truncated;
    }
    let flags = be16(buf, off);
    let mut ptype = be16(buf, off + 2);
    let version = flags & GRE_VERSION_MASK;
    if flags & (GRE_ROUTING | GRE_RESERVED) != 0 || version > 1 {
        return Tunnel::BadHeader;
    }
    let mut pos = off + 4;
    for bit in [GRE_CHECKSUM, GRE_KEY, GRE_SEQUENCE] {
        if flags & bit != 0 {
            pos += 4;
        }
    }
    if version == 1 {
        if ptype != ETHERTYPE_PPP {
            return Tunnel::BadHeader;
        }
        if flags & GRE_ACK != 0 {
            pos += 4;
        }
        if pos > end {
            return Tunnel::Truncated;
        }
        return ppp(buf, pos, end);
    }
    if ptype == ETHERTYPE_ERSPAN_2 {
        if flags & GRE_SEQUENCE != 0 {
            // type II; type I has no sequence number and no ERSPAN header
            pos += ERSPAN_2_HEADER_LEN;
        }
        ptype = ETHERTYPE_TEB;
    } else if ptype == ETHERTYPE_ERSPAN_3 {
        pos += ERSPAN_3_HEADER_LEN;
        if pos > end {
            return Tunnel::Truncated;
        }
        if buf[pos - 1] & 0x01 != 0 {
            // the O bit: a platform-specific subheader follows
            pos += ERSPAN_3_SUBHEADER_LEN;
        }
        ptype = ETHERTYPE_TEB;
    }
    if pos > end {
        return Tunnel::Truncated;
    }
    Tunnel::Inner {
        ethertype: ptype,
        off: pos,
    }
}

/// The PPP frame of a PPTP data packet; address/control and the protocol field may be compressed.
fn ppp(buf: &[u8], mut pos: usize, end: usize) -> Tunnel {
    if pos >= end {
        return NOT_IP; // an acknowledgment without payload
    }
    if pos + 2 <= end && be16(buf, pos) == PPP_ADDRESS_CONTROL {
        pos += 2;
    }
    if pos >= end {
        return Tunnel::Truncated;
    }
    let mut proto = u16::from(buf[pos]);
    if proto & 0x01 != 0 {
        // protocol field compression (RFC 1661 §6.5): one odd octet
        pos += 1;
    } else if pos + 2 > end {
        return Tunnel::Truncated;
    } else {
        proto = be16(buf, pos);
        pos += 2;
    }
    match proto {
        PPP_IPV4 => Tunnel::Inner {
            ethertype: ETHERTYPE_IPV4,
            off: pos,
        },
        PPP_IPV6 => Tunnel::Inner {
            ethertype: ETHERTYPE_IPV6,
            off: pos,
        },
        _ => NOT_IP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vxlan_needs_the_i_flag_and_a_zero_last_octet() {
        let hdr = [0x08, 0, 0, 0, 0, 0, 0x2A, 0];
        assert_eq!(
            vxlan(&hdr, 0, 8),
            Tunnel::Inner {
                ethertype: ETHERTYPE_TEB,
                off: 8
            }
        );
        assert_eq!(vxlan(&[0, 0, 0, 0, 0, 0, 0x2A, 0], 0, 8), Tunnel::NotTunnel);
        assert_eq!(
            vxlan(&[0x08, 0, 0, 0, 0, 0, 0x2A, 1], 0, 8),
            Tunnel::NotTunnel
        );
        assert_eq!(vxlan(&hdr, 0, 7), Tunnel::NotTunnel);
    }

    #[test]
    fn geneve_options_beyond_the_datagram_are_truncated() {
        let hdr = [0x02, 0, 0x08, 0x00, 0, 0, 1, 0];
        assert_eq!(
            geneve(&hdr, 0, 16),
            Tunnel::Inner {
                ethertype: ETHERTYPE_IPV4,
                off: 16
            }
        );
        assert_eq!(geneve(&hdr, 0, 15), Tunnel::Truncated);
        assert_eq!(
            geneve(&[0x40, 0, 0x08, 0x00, 0, 0, 0, 0], 0, 8),
            Tunnel::NotTunnel
        );
    }

    #[test]
    fn gre_with_key_and_sequence_skips_both() {
        let hdr = [0x30, 0x00, 0x86, 0xDD, 0, 0, 0, 1, 0, 0, 0, 2];
        assert_eq!(
            gre(&hdr, 0, 12),
            Tunnel::Inner {
                ethertype: ETHERTYPE_IPV6,
                off: 12
            }
        );
        assert_eq!(gre(&hdr, 0, 11), Tunnel::Truncated);
        assert_eq!(gre(&[0x40, 0, 0x08, 0], 0, 4), Tunnel::BadHeader);
        assert_eq!(gre(&[0x00, 0x02, 0x08, 0], 0, 4), Tunnel::BadHeader);
    }

    #[test]
    fn erspan_types_lead_to_ethernet() {
        let type1 = [0x00, 0x00, 0x88, 0xBE];
        assert_eq!(
            gre(&type1, 0, 4),
            Tunnel::Inner {
                ethertype: ETHERTYPE_TEB,
                off: 4
            }
        );
        let mut type3 = vec![0x00, 0x00, 0x22, 0xEB];
        type3.extend_from_slice(&[0; 11]);
        type3.push(0x01);
        assert_eq!(gre(&type3, 0, 16), Tunnel::Truncated);
        assert_eq!(
            gre(&type3, 0, 24),
            Tunnel::Inner {
                ethertype: ETHERTYPE_TEB,
                off: 24
            }
        );
    }

    #[test]
    fn pptp_ppp_with_compressed_fields() {
        // version 1, key present, PPP; then address/control and a one-octet protocol 0x21
        let mut pkt = vec![0x20, 0x01, 0x88, 0x0B, 0, 4, 0, 1, 0xFF, 0x03, 0x21];
        assert_eq!(
            gre(&pkt, 0, pkt.len()),
            Tunnel::Inner {
                ethertype: ETHERTYPE_IPV4,
                off: 11
            }
        );
        pkt.truncate(8);
        assert_eq!(gre(&pkt, 0, 8), NOT_IP);
        assert_eq!(
            gre(&[0x20, 0x01, 0x08, 0x00, 0, 0, 0, 0], 0, 8),
            Tunnel::BadHeader
        );
    }

    #[test]
    fn gtpu_extension_headers_are_walked() {
        // E set, next type 0x85, one 4-octet extension header ending with next type 0, then IPv4
        let pkt = [
            0x34, 0xFF, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0, 0, 0, 0x45,
        ];
        assert_eq!(
            gtpu(&pkt, 0, pkt.len()),
            Tunnel::Inner {
                ethertype: ETHERTYPE_IPV4,
                off: 16
            }
        );
        assert_eq!(gtpu(&pkt, 0, 16), Tunnel::Truncated);
        let mut zero_len = pkt;
        zero_len[12] = 0;
        assert_eq!(gtpu(&zero_len, 0, pkt.len()), Tunnel::BadHeader);
        assert_eq!(
            gtpu(&[0x30, 0x01, 0, 0, 0, 0, 0, 1, 0x45], 0, 9),
            Tunnel::NotTunnel
        );
    }
}
