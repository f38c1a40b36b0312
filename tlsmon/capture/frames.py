"""The frame tuple the readers produce, and the wording of the warnings they give for damaged files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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


def skipped_rest(path: str, what: str, packets: int) -> str:
    """The one-line warning for damage that ends the reading of a file."""
    return f"{path}: {what} after {packets} packets; rest of file skipped"


def truncated_at(path: str, kind: str, offset: int, packets: int, damage: str | None) -> str:
    """A file that ends inside a ``kind`` (record/block) starting at uncompressed ``offset``.

    When the (compressed) stream itself was damaged, that is the cause and is named instead.
    """
    return skipped_rest(path, damage or f"truncated {kind} at byte {offset}", packets)
