"""Names of the decoder's counters: anomalies (``decode.*``, ``ip.*``) and fragment reassembly events."""

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
    # A fragmented IP datagram carrying TCP was reassembled (an event, not an anomaly).
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
