"""TCP header flag bits as in the flags byte at offset 13 (RFC 9293 §3.1; ECE and CWR: RFC 3168 §23.2)."""

from __future__ import annotations

from typing import Final

FIN: Final = 0x01
SYN: Final = 0x02
RST: Final = 0x04
PSH: Final = 0x08
ACK: Final = 0x10
URG: Final = 0x20
ECE: Final = 0x40
CWR: Final = 0x80
