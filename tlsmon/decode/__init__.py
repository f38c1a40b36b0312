"""Frames → TCP header fields: link layer, IPv4/IPv6 (with fragment reassembly), tunnels, TCP.

This package is the specification of the compiled decoder in ``native/src/decode/`` (``tlsmon._native.Decoder``):
``tests/decode/test_native_*.py`` hold the two equal — every result, every counter — on every capture of the
fixtures and the shared corpus and on generated and damaged frames, so a change here is made there too.
"""

from __future__ import annotations

from tlsmon.decode.packet import Decoded, Decoder, format_address

__all__ = ["Decoded", "Decoder", "format_address"]
