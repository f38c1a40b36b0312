"""The frame tuple the readers produce, the wording of their warnings, and the state they share.

Impossible timestamps (issue 8). A packet timestamp is *impossible* when

- it is not representable as int64 nanoseconds since the epoch (before 1677-09-21 or after
  2262-04-11T23:47:16.854775807Z; only pcapng can say that: its 64-bit units and ``if_tsoffset`` reach far
  beyond), or
- it is more than :data:`MAX_FORWARD_JUMP_NS` (20 Julian years) later than both the *raw* timestamp of the
  previous packet with a timestamp in the same file and the largest good timestamp of that file so far.

Such a packet is counted as ``capture.bad_timestamp`` and handed out with the timestamp of the packet before
it in the stream (the last one handed out, across files; 0 before any), so one crafted packet cannot move a
connection's clock by decades or overflow a timestamp column. The previous *raw* value (not the replaced
one) keeps a real clock step (a device that starts at 1970 and then learns the time) to one replaced packet
instead of every later one; the largest good value keeps a packet after a corrupt *earlier* timestamp (2015,
1994, 2015 in suricata-verify's bug-1450 captures) from being taken for a jump. Backward steps are never
impossible: captures merged out of order are normal. Simple Packet Blocks carry no timestamp and take the
previous packet's, as before. The first packet of a file is only checked for representability.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

Frame = tuple[int, int, bytes]  # (ts_ns, linktype, frame bytes)
Batch = list[Frame]  # the frames of one chunk, yielded together
Warn = Callable[[str], None]
Reader = Iterator[Batch]
Unpack = Callable[[bytes, int], tuple[Any, ...]]  # a precompiled Struct's unpack_from

# Beyond this, a record or block length is taken as corruption rather than a frame to wait for. libpcap
# rejects captured lengths above its MAXIMUM_SNAPLEN of 262144; larger snaplens in a file header are honoured
# up to this cap.
MAX_RECORD_BYTES = 64 * 2**20
LIBPCAP_MAXIMUM_SNAPLEN = 262144

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
MAX_FORWARD_JUMP_NS: Final = 20 * 31_557_600 * 1_000_000_000  # 20 Julian years (365.25 days each)
# The "previous raw" and "largest good" timestamps a file starts with: no first packet is a jump from them
# (the check needs both to be more than 20 years behind).
NO_PREVIOUS_TS: Final = INT64_MAX
NO_GOOD_TS: Final = INT64_MIN - 1

BAD_TIMESTAMP: Final = "capture.bad_timestamp"
UNSUPPORTED_INTERFACE_PACKETS: Final = "capture.unsupported_interface_packets"
DAMAGED_FILES: Final = "capture.damaged_files"
COUNTER_NAMES: Final = (BAD_TIMESTAMP, UNSUPPORTED_INTERFACE_PACKETS, DAMAGED_FILES)


class ReadState:
    """What the readers of one source share: the last timestamp handed out, counters, and the warning sink.

    ``damaged`` is for damage that ends the reading of a file (counted in ``capture.damaged_files``);
    ``notice`` for a warning that does not (a skipped interface).
    """

    __slots__ = ("_warn", "bad_timestamp", "damaged_files", "last_ts", "unsupported_interface_packets")

    def __init__(self, warn: Warn) -> None:
        self._warn = warn
        self.last_ts = 0
        self.bad_timestamp = 0
        self.unsupported_interface_packets = 0
        self.damaged_files = 0

    def damaged(self, line: str) -> None:
        self.damaged_files += 1
        self._warn(line)

    def notice(self, line: str) -> None:
        self._warn(line)

    def counters(self) -> dict[str, int]:
        return {
            BAD_TIMESTAMP: self.bad_timestamp,
            UNSUPPORTED_INTERFACE_PACKETS: self.unsupported_interface_packets,
            DAMAGED_FILES: self.damaged_files,
        }


def skipped_rest(path: str, what: str, packets: int) -> str:
    """The one-line warning for damage that ends the reading of a file."""
    return f"{path}: {what} after {packets} packets; rest of file skipped"


def truncated_at(path: str, kind: str, offset: int, packets: int, damage: str | None) -> str:
    """A file that ends inside a ``kind`` (record/block) starting at uncompressed ``offset``.

    When the (compressed) stream itself was damaged, that is the cause and is named instead.
    """
    return skipped_rest(path, damage or f"truncated {kind} at byte {offset}", packets)
