//! Frames → TCP header fields (and UDP datagrams): link layer, IPv4/IPv6 (with fragment reassembly), tunnels, TCP. The native
//! twin of `tlsmon/decode/`, held equal to it by `tests/decode/test_native_differential.py`.
//!
//! Theory of operation. [`Decoder::decode`] returns the [`Segment`] of a TCP frame and None for anything
//! else, counting the reason ([`Decoder::counters`], with the Python `DecodeCounter` names); malformed input
//! never panics. The common case — Ethernet, IPv4 without options or fragmentation, TCP, all captured — is a
//! handful of fixed-offset reads here. Everything else takes the general path in [`packet`]: link layer
//! (Ethernet with 802.1Q/802.1ad/QinQ tags, PPPoE, MPLS, Linux SLL/SLL2, raw IP, BSD loopback in both byte
//! orders), IPv4 (options, fragments) or IPv6 (hop-by-hop, routing, destination options, AH, Fragment),
//! tunnels ([`tunnels`]: Geneve, VXLAN, GTP-U, GRE with ERSPAN and PPTP, IP-in-IP; at most three nested),
//! and TCP. Fragments go to the [`fragments::FragmentTable`]; a completed datagram is joined into the
//! decoder's reassembly buffer and decoded from there, so a segment's payload borrows either the frame or
//! that buffer (valid until the next call).
//!
//! Lengths: a segment ends where the IP header says (Ethernet padding is ignored), or at the end of the
//! capture when the snaplen cut it (`decode.snaplen_truncated`); a zero IP length (segmentation offload,
//! jumbograms) means "up to the end of the capture". Checksums are not verified.

pub mod counters;
pub mod fragments;
pub mod numbers;
mod packet;
pub mod tcpflags;
pub mod tunnels;

#[cfg(test)]
mod tests;

use counters::Counters;
use numbers::{
    ETHERTYPE_IPV4, ETH_HEADER, IPPROTO_TCP, IPV4_FRAGMENTED, IPV4_MIN, LINKTYPE_ETHERNET, TCP_MIN,
};
use packet::{be16, be32, Engine, Step};

/// An IP address: IPv4 as the network-order `u32` Python uses as an int, IPv6 as its 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Addr {
    V4(u32),
    V6([u8; 16]),
}

/// One TCP segment's header fields and payload (the captured part of it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Segment<'a> {
    pub ip_version: u8,
    pub src: Addr,
    pub dst: Addr,
    pub sport: u16,
    pub dport: u16,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub payload: &'a [u8],
    /// The outermost 802.1Q/802.1ad VLAN id seen (the outer frame's, else an inner Ethernet frame's).
    pub vlan: Option<u16>,
    /// A UDP datagram (not a tunnel) rather than a TCP segment: `flags`, `seq` and `ack` are 0.
    pub udp: bool,
}

/// Shortest frame the fast path reads: Ethernet, IPv4 without options, TCP without options.
const FAST_MIN_LEN: usize = ETH_HEADER + IPV4_MIN + TCP_MIN;

/// Decodes frames to TCP segments; one per packet stream (it holds the fragment table).
#[derive(Debug)]
pub struct Decoder {
    engine: Engine,
    reassembled: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(
            Decoder::DEFAULT_FRAG_TIMEOUT_NS,
            Decoder::DEFAULT_MAX_FRAG_BYTES,
        )
    }
}

impl Decoder {
    /// RFC 791 asks for at least 15 s; Linux `ipfrag_time` and Zeek's `frag_timeout` are 30 s.
    pub const DEFAULT_FRAG_TIMEOUT_NS: i64 = 30_000_000_000;
    pub const DEFAULT_MAX_FRAG_BYTES: usize = 16 << 20;

    pub fn new(frag_timeout_ns: i64, max_frag_bytes: usize) -> Self {
        Decoder {
            engine: Engine::new(frag_timeout_ns, max_frag_bytes),
            reassembled: Vec::new(),
        }
    }

    /// The TCP segment in `frame`, or None (counted) for anything else. `payload` borrows the frame or the
    /// decoder's reassembled-datagram buffer.
    #[inline]
    pub fn decode<'a>(
        &'a mut self,
        ts_ns: i64,
        linktype: u32,
        frame: &'a [u8],
    ) -> Option<Segment<'a>> {
        if linktype == LINKTYPE_ETHERNET && frame.len() >= FAST_MIN_LEN {
            if let Some(segment) = fast_eth_ipv4_tcp(frame) {
                return Some(segment);
            }
        }
        self.decode_general(ts_ns, linktype, frame)
    }

    fn decode_general<'a>(
        &'a mut self,
        ts_ns: i64,
        linktype: u32,
        frame: &'a [u8],
    ) -> Option<Segment<'a>> {
        let mut step = self.engine.link(ts_ns, linktype, frame);
        let mut in_reassembled = false;
        loop {
            match step {
                Step::Drop => return None,
                Step::Seg(s) => {
                    let buf: &'a [u8] = if in_reassembled {
                        &self.reassembled
                    } else {
                        frame
                    };
                    return Some(Segment {
                        ip_version: s.ip_version,
                        src: s.src,
                        dst: s.dst,
                        sport: s.sport,
                        dport: s.dport,
                        flags: s.flags,
                        seq: s.seq,
                        ack: s.ack,
                        payload: &buf[s.poff..s.poff + s.plen],
                        vlan: s.vlan,
                        udp: s.udp,
                    });
                }
                Step::Resume(resume) => {
                    resume.datagram.join_into(&mut self.reassembled);
                    in_reassembled = true;
                    step = self.engine.resume(ts_ns, &self.reassembled, &resume);
                }
            }
        }
    }

    /// The non-zero counters with their Python names.
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        self.engine.counters.non_zero()
    }

    /// The counters themselves.
    pub fn counter_values(&self) -> &Counters {
        &self.engine.counters
    }

    /// Datagrams with fragments held, waiting for the rest.
    pub fn pending_fragments(&self) -> usize {
        self.engine.frags.len()
    }
}

/// Ethernet / IPv4 without options or fragmentation / TCP, all captured: fixed offsets, no counters. Any
/// other frame (None) takes the general path, which gives the same result for the frames accepted here.
#[inline]
fn fast_eth_ipv4_tcp(frame: &[u8]) -> Option<Segment<'_>> {
    if be16(frame, 12) != ETHERTYPE_IPV4
        || frame[14] != 0x45
        || frame[23] != IPPROTO_TCP
        || be16(frame, 20) & IPV4_FRAGMENTED != 0
    {
        return None;
    }
    let end = ETH_HEADER + usize::from(be16(frame, 16));
    let thl = usize::from((frame[46] >> 2) & 0x3C);
    let poff = ETH_HEADER + IPV4_MIN + thl;
    if thl < TCP_MIN || poff > end || end > frame.len() {
        return None;
    }
    Some(Segment {
        ip_version: 4,
        src: Addr::V4(be32(frame, 26)),
        dst: Addr::V4(be32(frame, 30)),
        sport: be16(frame, 34),
        dport: be16(frame, 36),
        flags: frame[47],
        seq: be32(frame, 38),
        ack: be32(frame, 42),
        payload: &frame[poff..end],
        vlan: None,
        udp: false,
    })
}
