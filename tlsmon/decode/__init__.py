"""Frames → TCP header fields: link layer, IPv4/IPv6 (with fragment reassembly), tunnels, TCP.

This package is the specification of the compiled decoder in ``native/src/decode/`` (``tlsmon._native.Decoder``):
``tests/decode/test_native_*.py`` hold the two equal — every result, every counter — on every capture of the
fixtures and the shared corpus and on generated and damaged frames, so a change here is made there too.

The decoder loads when first asked for: a native read, whose frames the compiled core decodes, needs only the
numbers (:mod:`tlsmon.decode.numbers`) and the address text (:mod:`tlsmon.decode.addresses`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlsmon.decode.addresses import format_address

if TYPE_CHECKING:
    from tlsmon.decode.packet import Decoded, Decoder

__all__ = ["Decoded", "Decoder", "format_address"]


def __getattr__(name: str) -> object:
    if name in ("Decoded", "Decoder"):
        from tlsmon.decode import packet

        return getattr(packet, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
