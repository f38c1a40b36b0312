"""LINKTYPE_ values of capture files (tcpdump.org link-layer header types registry) that tlsmon meets.

The values in files are LINKTYPE_ values, not the platform's DLT_ values; they differ only for raw IP, which
some writers record as 12 or 14 (the DLT_RAW of BSD and OpenBSD) instead of LINKTYPE_RAW (101). libpcap's
registry lists 12 and 14 as raw IP in files, and so does Wireshark; so does tlsmon.
"""

from __future__ import annotations

from typing import Final

LINKTYPE_NULL: Final = 0  # BSD loopback: 4-byte address family in the writer's host byte order
LINKTYPE_ETHERNET: Final = 1
LINKTYPE_PPP: Final = 9  # PPP (RFC 1661), optionally in HDLC-like framing (RFC 1662: ff 03 first)
LINKTYPE_RAW_BSD: Final = 12  # DLT_RAW on most BSDs, written as-is by some tools
LINKTYPE_RAW_OPENBSD: Final = 14  # DLT_RAW on OpenBSD
LINKTYPE_RAW: Final = 101  # raw IPv4 or IPv6, version from the first nibble
LINKTYPE_LOOP: Final = 108  # OpenBSD loopback: 4-byte address family in network byte order
LINKTYPE_LINUX_SLL: Final = 113  # Linux "cooked" capture v1, 16-byte header
LINKTYPE_IPV4: Final = 228
LINKTYPE_IPV6: Final = 229
LINKTYPE_LINUX_SLL2: Final = 276  # Linux "cooked" capture v2, 20-byte header

RAW_IP_LINKTYPES: Final = frozenset({LINKTYPE_RAW_BSD, LINKTYPE_RAW_OPENBSD, LINKTYPE_RAW})

SUPPORTED: Final = frozenset(
    {
        LINKTYPE_NULL,
        LINKTYPE_ETHERNET,
        LINKTYPE_PPP,
        LINKTYPE_RAW_BSD,
        LINKTYPE_RAW_OPENBSD,
        LINKTYPE_RAW,
        LINKTYPE_LOOP,
        LINKTYPE_LINUX_SLL,
        LINKTYPE_IPV4,
        LINKTYPE_IPV6,
        LINKTYPE_LINUX_SLL2,
    }
)

# Registry names, for error messages about the link types tlsmon does not decode.
NAMES: Final[dict[int, str]] = {
    0: "NULL",
    1: "ETHERNET",
    3: "AX25",
    6: "IEEE802_5",
    7: "ARCNET_BSD",
    8: "SLIP",
    9: "PPP",
    10: "FDDI",
    12: "RAW (DLT_RAW)",
    14: "RAW (OpenBSD DLT_RAW)",
    50: "PPP_HDLC",
    51: "PPP_ETHER",
    100: "ATM_RFC1483",
    101: "RAW",
    104: "C_HDLC",
    105: "IEEE802_11",
    107: "FRELAY",
    108: "LOOP",
    113: "LINUX_SLL",
    117: "PFLOG",
    119: "IEEE802_11_PRISM",
    127: "IEEE802_11_RADIOTAP",
    143: "DOCSIS",
    163: "IEEE802_11_AVS",
    187: "BLUETOOTH_HCI_H4",
    189: "USB_LINUX",
    192: "PPI",
    195: "IEEE802_15_4_WITHFCS",
    197: "ERF",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    220: "USB_LINUX_MMAPPED",
    228: "IPV4",
    229: "IPV6",
    239: "NFLOG",
    249: "USBPCAP",
    252: "WIRESHARK_UPPER_PDU",
    274: "NORDIC_BLE",
    276: "LINUX_SLL2",
}
NAMES.update({147 + i: f"USER{i}" for i in range(16)})


def linktype_name(linktype: int) -> str:
    """The registry name of ``linktype``, or ``"unknown"``."""
    return NAMES.get(linktype, "unknown")
