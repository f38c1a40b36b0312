"""Names of the decoder's counters: anomalies (``decode.*``, ``ip.*``), tunnels opened and fragment
reassembly events."""

from __future__ import annotations

from enum import StrEnum


class DecodeCounter(StrEnum):
    """Keys of :attr:`tlsmon.decode.packet.Decoder.counters`; each counts frames or datagrams."""

    # The frame is shorter than its link-layer header (including VLAN tags).
    TRUNCATED_LINK = "decode.truncated_link"
    # The frame's link type is not one tlsmon decodes (the capture stage normally rejects these earlier).
    UNSUPPORTED_LINK_TYPE = "decode.unsupported_link_type"
    # The link layer carries something other than IPv4/IPv6 (ARP, LLC, LLDP, an unknown address family …).
    NOT_IP = "decode.not_ip"
    # The frame ends inside the IPv4/IPv6 header or its extension headers.
    TRUNCATED_IP = "decode.truncated_ip"
    # IP version nibble wrong for the link's claim, IHL < 5, or total length shorter than the header(s).
    BAD_IP_HEADER = "decode.bad_ip_header"
    # IPv4 total length or IPv6 payload length 0: segmentation offload on the capturing host (as Wireshark
    # presumes) or an IPv6 jumbogram; the captured length is used instead.
    IP_LENGTH_ZERO = "decode.ip_length_zero"
    # A well-formed IP datagram that does not carry TCP (UDP, ICMP, ESP, no next header …).
    NOT_TCP = "decode.not_tcp"
    # The capture ends inside the TCP header (snaplen shorter than the headers).
    TRUNCATED_TCP = "decode.truncated_tcp"
    # TCP data offset < 5, or the header is longer than the segment the IP header declares.
    BAD_TCP_HEADER = "decode.bad_tcp_header"
    # The snaplen cut the TCP payload: payload_len is the captured part only.
    SNAPLEN_TRUNCATED = "decode.snaplen_truncated"
    # Tunnel headers stepped over (events, not anomalies): one count per tunnel, so a frame with a VXLAN
    # tunnel inside GRE counts one of each.
    TUNNEL_GENEVE = "decode.tunnel_geneve"  # UDP 6081, RFC 8926
    TUNNEL_VXLAN = "decode.tunnel_vxlan"  # UDP 4789, RFC 7348
    TUNNEL_GTPU = "decode.tunnel_gtpu"  # UDP 2152, 3GPP TS 29.281 G-PDU
    TUNNEL_GRE = "decode.tunnel_gre"  # IP protocol 47: GRE, ERSPAN types I-III, enhanced GRE (PPTP)
    TUNNEL_IP_IN_IP = "decode.tunnel_ip_in_ip"  # IP protocol 4 (IPv4) or 41 (IPv6) inside IPv4/IPv6
    # More nested tunnels than MAX_TUNNEL_DEPTH (3); Zeek's weird for the same is exceeded_tunnel_max_depth.
    TUNNEL_TOO_DEEP = "decode.tunnel_too_deep"
    # The datagram or the capture ends inside a tunnel header (GRE, Geneve options, GTP-U extension
    # headers, ERSPAN); Zeek calls it truncated_GRE / a Geneve header truncation.
    TRUNCATED_TUNNEL = "decode.truncated_tunnel"
    # A tunnel header tlsmon does not decode: GRE with RFC 1701 routing, reserved flags or a version other
    # than 0/1, enhanced GRE not carrying PPP, a GTP-U extension header of length 0.
    BAD_TUNNEL_HEADER = "decode.bad_tunnel_header"
    # A fragmented IP datagram carrying TCP or a tunnel was reassembled (an event, not an anomaly).
    FRAGMENT_REASSEMBLED = "ip.fragment_reassembled"
    # A fragment overlapped bytes already held; the first copy wins (RFC 5722 forbids overlaps for IPv6).
    FRAGMENT_OVERLAP = "ip.fragment_overlap"
    # Datagrams dropped because their fragments did not all arrive within the timeout (RFC 791: 15 s at
    # least; Linux ipfrag_time and Zeek's frag_timeout are 30 s).
    FRAGMENTS_EXPIRED = "ip.fragments_expired"
    # Datagrams dropped, oldest first, to keep the held fragment bytes under the memory cap.
    FRAGMENTS_EVICTED = "ip.fragments_evicted"
    # Fragments that disagree about where the datagram ends (two different last fragments, or bytes beyond
    # the end a last fragment declared); the first claim wins and the disagreeing fragment is dropped.
    FRAGMENT_INCONSISTENT = "ip.fragment_inconsistent"
    # A fragment reaching beyond 65535 bytes of payload; the whole datagram is dropped.
    FRAGMENT_TOO_LARGE = "ip.fragment_too_large"
    # A fragment cut by the snaplen: its datagram can never be complete, so the fragment is dropped.
    FRAGMENT_TRUNCATED = "ip.fragment_truncated"
