"""Property: whatever follows a valid file header, reading gives frames and warnings, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture.builders import epb, frame_of, idb, pcap_bytes, shb
from tlsmon.capture import CaptureError, CaptureSource

HEADS = [
    pcap_bytes([(1, 2, frame_of(1))]),
    shb() + idb(1) + epb(0, 5, frame_of(2)),
    shb(">") + idb(1, order=">"),
]


@settings(max_examples=200, deadline=None)
@given(
    head=st.sampled_from(HEADS), tail=st.binary(max_size=300), flips=st.lists(st.integers(0, 200), max_size=4)
)
def test_garbage_after_a_header_never_raises_anything_but_capture_error(
    head: bytes, tail: bytes, flips: list[int]
) -> None:
    data = bytearray(head + tail)
    for pos in flips:
        if 4 <= pos < len(data):  # keep the magic, damage anything else
            data[pos] ^= 0xFF
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.cap"
        path.write_bytes(bytes(data))
        source = CaptureSource([path])
        try:
            for ts, linktype, frame in source:
                assert isinstance(ts, int) and isinstance(linktype, int) and isinstance(frame, bytes)
        except CaptureError as exc:
            assert "\n" not in str(exc)
        assert all("\n" not in line for line in source.warnings)
