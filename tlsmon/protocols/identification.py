"""Which plaintext protocol, if any, claims a connection's first bytes: :func:`identify`.

Theory of operation: every probe of :data:`tlsmon.protocols.registry.PROTOCOLS` is asked in turn; the first to
claim the bytes wins, and "need more" from any of them keeps the dispatcher waiting. The registry (and with it
every plaintext analyzer, ~40 ms of import) is imported at the first call, i.e. at the first connection whose
first bytes are not TLS: the dispatcher imports this module, not the registry, so that a TLS-only run never
loads the analyzers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tlsmon.protocols.registry import Protocol


@dataclass(frozen=True, slots=True)
class Identification:
    protocol: Protocol | None  # the protocol that claimed the bytes
    need_more: bool  # no claim yet, but some probe needs more bytes to decide


def identify(is_orig: bool, data: bytes, server_port: int) -> Identification:
    """Ask every protocol's probe about the first bytes of one direction."""
    from tlsmon.protocols.registry import PROTOCOLS  # at the first plaintext probe: see the module docstring

    need_more = False
    for proto in PROTOCOLS:
        verdict = proto.probe(is_orig, data, server_port)
        if verdict:
            return Identification(proto, False)
        if verdict is None:
            need_more = True
    return Identification(None, need_more)
