"""Frames → TCP header fields: link layer, IPv4/IPv6 (with fragment reassembly), tunnels, TCP."""

from __future__ import annotations

from tlsmon.decode.packet import Decoded, Decoder, format_address

__all__ = ["Decoded", "Decoder", "format_address"]
