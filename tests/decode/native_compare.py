"""Run frames through the Python decoder (the specification) and the native one; assert equal results.

The Python result carries the payload as ``(buf, offset, length)``, the native one as bytes; both become
``(ip_version, src, dst, sport, dport, flags, seq, ack, payload, vlan)`` with the payload as
``buf[offset:offset + length]``. Counters and held fragments are compared after the last frame.
"""

from __future__ import annotations

from collections.abc import Iterable

from tlsmon._native import Decoder as NativeDecoder
from tlsmon.decode import Decoded, Decoder

Frame = tuple[int, int, bytes]
View = tuple[int, int | bytes, int | bytes, int, int, int, int, int, bytes, int | None]


def python_view(result: Decoded | None) -> View | None:
    if result is None:
        return None
    version, src, dst, sport, dport, flags, seq, ack, buf, poff, plen, vlan = result
    return (version, src, dst, sport, dport, flags, seq, ack, bytes(buf[poff : poff + plen]), vlan)


def assert_same_decoding(
    frames: Iterable[Frame], frag_timeout_ns: int = 30_000_000_000, max_frag_bytes: int = 16 * 2**20
) -> int:
    """Decode ``frames`` with both decoders; every result, the counters and the pending fragments must be
    equal. Returns how many frames decoded to a TCP segment."""
    python = Decoder(frag_timeout_ns, max_frag_bytes)
    native = NativeDecoder(frag_timeout_ns, max_frag_bytes)
    segments = 0
    for i, (ts, linktype, frame) in enumerate(frames):
        expected = python_view(python.decode(ts, linktype, frame))
        got = native.decode(ts, linktype, frame)
        assert got == expected, f"frame {i} (linktype {linktype}): {frame.hex()}"
        segments += got is not None
    assert native.counters == dict(python.counters)
    assert native.pending_fragments == python.pending_fragments
    return segments
