//! The decoder's counters, named as the Python `DecodeCounter` StrEnum (`tlsmon/decode/counters.py`, where
//! each member's reason is documented): anomalies (`decode.*`, `ip.*`), tunnels opened and fragment
//! reassembly events.

/// One counter; `name()` is the Python enum value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    TruncatedLink,
    UnsupportedLinkType,
    NotIp,
    TruncatedIp,
    BadIpHeader,
    IpLengthZero,
    NotTcp,
    TruncatedTcp,
    BadTcpHeader,
    SnaplenTruncated,
    TunnelGeneve,
    TunnelVxlan,
    TunnelGtpu,
    TunnelGre,
    TunnelIpInIp,
    TunnelTooDeep,
    TruncatedTunnel,
    BadTunnelHeader,
    FragmentReassembled,
    FragmentOverlap,
    FragmentsExpired,
    FragmentsEvicted,
    FragmentInconsistent,
    FragmentTooLarge,
    FragmentTruncated,
}

impl Counter {
    pub const ALL: [Counter; 25] = [
        Counter::TruncatedLink,
        Counter::UnsupportedLinkType,
        Counter::NotIp,
        Counter::TruncatedIp,
        Counter::BadIpHeader,
        Counter::IpLengthZero,
        Counter::NotTcp,
        Counter::TruncatedTcp,
        Counter::BadTcpHeader,
        Counter::SnaplenTruncated,
        Counter::TunnelGeneve,
        Counter::TunnelVxlan,
        Counter::TunnelGtpu,
        Counter::TunnelGre,
        Counter::TunnelIpInIp,
        Counter::TunnelTooDeep,
        Counter::TruncatedTunnel,
        Counter::BadTunnelHeader,
        Counter::FragmentReassembled,
        Counter::FragmentOverlap,
        Counter::FragmentsExpired,
        Counter::FragmentsEvicted,
        Counter::FragmentInconsistent,
        Counter::FragmentTooLarge,
        Counter::FragmentTruncated,
    ];

    /// The Python `DecodeCounter` value.
    pub const fn name(self) -> &'static str {
        match self {
            Counter::TruncatedLink => "decode.truncated_link",
            Counter::UnsupportedLinkType => "decode.unsupported_link_type",
            Counter::NotIp => "decode.not_ip",
            Counter::TruncatedIp => "decode.truncated_ip",
            Counter::BadIpHeader => "decode.bad_ip_header",
            Counter::IpLengthZero => "decode.ip_length_zero",
            Counter::NotTcp => "decode.not_tcp",
            Counter::TruncatedTcp => "decode.truncated_tcp",
            Counter::BadTcpHeader => "decode.bad_tcp_header",
            Counter::SnaplenTruncated => "decode.snaplen_truncated",
            Counter::TunnelGeneve => "decode.tunnel_geneve",
            Counter::TunnelVxlan => "decode.tunnel_vxlan",
            Counter::TunnelGtpu => "decode.tunnel_gtpu",
            Counter::TunnelGre => "decode.tunnel_gre",
            Counter::TunnelIpInIp => "decode.tunnel_ip_in_ip",
            Counter::TunnelTooDeep => "decode.tunnel_too_deep",
            Counter::TruncatedTunnel => "decode.truncated_tunnel",
            Counter::BadTunnelHeader => "decode.bad_tunnel_header",
            Counter::FragmentReassembled => "ip.fragment_reassembled",
            Counter::FragmentOverlap => "ip.fragment_overlap",
            Counter::FragmentsExpired => "ip.fragments_expired",
            Counter::FragmentsEvicted => "ip.fragments_evicted",
            Counter::FragmentInconsistent => "ip.fragment_inconsistent",
            Counter::FragmentTooLarge => "ip.fragment_too_large",
            Counter::FragmentTruncated => "ip.fragment_truncated",
        }
    }
}

/// A count per [`Counter`].
#[derive(Clone, Debug, Default)]
pub struct Counters([u64; Counter::ALL.len()]);

impl Counters {
    #[inline]
    pub fn bump(&mut self, counter: Counter) {
        self.0[counter as usize] += 1;
    }

    pub fn get(&self, counter: Counter) -> u64 {
        self.0[counter as usize]
    }

    /// The non-zero counters with their Python names, in declaration order.
    pub fn non_zero(&self) -> Vec<(&'static str, u64)> {
        Counter::ALL
            .iter()
            .filter(|c| self.get(**c) != 0)
            .map(|c| (c.name(), self.get(*c)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_has_its_own_index_and_name() {
        for (i, c) in Counter::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        let mut names: Vec<_> = Counter::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Counter::ALL.len());
    }

    #[test]
    fn only_non_zero_counters_are_listed() {
        let mut c = Counters::default();
        c.bump(Counter::NotTcp);
        c.bump(Counter::NotTcp);
        c.bump(Counter::FragmentOverlap);
        assert_eq!(
            c.non_zero(),
            vec![("decode.not_tcp", 2), ("ip.fragment_overlap", 1)]
        );
    }
}
