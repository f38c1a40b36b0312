"""QUIC connection IDs as the UDP flow table reads them: learned from clear-text long headers, matched on the
first datagram of an unknown 4-tuple, so that a QUIC connection that changed its path stays one flow.

Theory of operation
-------------------
A QUIC endpoint is addressed by connection IDs (CIDs) it chose, not by its address: after a NAT rebinding or a
migration (RFC 9000 §9) the client's datagrams come from a new 4-tuple but still carry, as Destination
Connection ID, a CID the server issued. The flow table learns, per flow, the CIDs that are visible without
keys: the DCID and SCID of the *first* packet of each datagram when it is a long header of a QUIC version tlsmon
knows (v1, v2, drafts 29-32: the 32-bit version makes a chance match on other UDP traffic negligible). Those
are the client's first DCID (random, it addresses the server until the server picks its own) and both
directions' SCIDs (each side is addressed by its SCID). A DCID names the datagram's receiver, an SCID its
sender: each CID is stored with the side it addresses (``addressed_is_orig``). Coalesced packets after the
first carry the same IDs, so they are not read. Learning does not depend on the analyzer (it goes on after the
flow is bypassed), so both engines learn the same IDs whatever their batch size.

A datagram on a 4-tuple the table does not know is first looked up here (:meth:`CidIndex.match`): a long
header's DCID field directly; a short header carries its DCID without a length, so the bytes after its first
byte are tried at each length some live CID has (ascending; in practice one or two lengths: 8 for most
stacks, 4 for quic-go). A hit names the flow and the side the datagram is addressed to; its sender is the other
side. The flow table then adds the new 4-tuple to the flow (tlsmon/udp/flows.py).

Bounds: CIDs shorter than :data:`MIN_INDEXED_CID` bytes are not indexed (a 1-3 byte ID would match random
bytes of unrelated datagrams; zero-length IDs cannot identify anything); a flow keeps at most
:data:`MAX_CIDS_PER_FLOW` IDs and :data:`MAX_PATHS_PER_FLOW` 4-tuples, so the index holds at most
``MAX_CIDS_PER_FLOW`` entries per live flow and the flow table's cap bounds both. The first flow to learn an
ID keeps it; an ID leaves the index when its flow ends. CIDs issued later in NEW_CONNECTION_ID frames are
encrypted (1-RTT) and never seen, so a client that switches to one of them when it migrates (as RFC 9000
§9.5 asks of an active migration) starts a new flow, as before.

Both engines read the same bytes the same way (``native/src/udp/cids.rs``), held equal by tests/engines.
"""

from __future__ import annotations

from typing import Generic, TypeVar

QUIC_V1 = 0x00000001
QUIC_V2 = 0x6B3343CF
QUIC_DRAFT_29 = 0xFF00001D
QUIC_DRAFT_32 = 0xFF000020
#: RFC 9000 §17.2: a v1/v2 connection ID is at most 20 bytes
MAX_CID_LENGTH = 20
#: shorter IDs are not indexed: too likely to match the bytes of an unrelated datagram
MIN_INDEXED_CID = 4
#: a flow's IDs: the client's first DCID, both SCIDs, and a Retry's SCID
MAX_CIDS_PER_FLOW = 4
#: 4-tuples one flow may hold (its first and the paths it moved to)
MAX_PATHS_PER_FLOW = 8

F = TypeVar("F")


def long_header_cids(buf: bytes | memoryview, off: int, end: int) -> tuple[bytes, bytes] | None:
    """The DCID and SCID of the long header at ``buf[off:end]`` if it is one of a known QUIC version."""
    if end - off < 7 or not buf[off] & 0x80:
        return None
    version = int.from_bytes(buf[off + 1 : off + 5], "big")
    if version not in (QUIC_V1, QUIC_V2) and not QUIC_DRAFT_29 <= version <= QUIC_DRAFT_32:
        return None
    dcid_len = buf[off + 5]
    pos = off + 6
    if dcid_len > MAX_CID_LENGTH or pos + dcid_len + 1 > end:
        return None
    dcid = bytes(buf[pos : pos + dcid_len])
    pos += dcid_len
    scid_len = buf[pos]
    pos += 1
    if scid_len > MAX_CID_LENGTH or pos + scid_len > end:
        return None
    return dcid, bytes(buf[pos : pos + scid_len])


class CidIndex(Generic[F]):
    """Connection ID → (flow, whether the ID addresses the flow's originator), for the live flows."""

    __slots__ = ("by_cid", "lengths", "live_lengths")

    def __init__(self) -> None:
        self.by_cid: dict[bytes, tuple[F, bool]] = {}
        self.lengths = [0] * (MAX_CID_LENGTH + 1)  # live IDs of each length
        self.live_lengths: tuple[int, ...] = ()  # the lengths with live IDs, ascending: a short header is tried at

    def learn(self, flow: F, known: list[bytes], cid: bytes, addressed_is_orig: bool) -> None:
        """Note ``cid`` for ``flow`` (``known``: the flow's IDs so far, appended to) unless it is too short, the
        flow has its fill, or the ID is already known."""
        if len(cid) < MIN_INDEXED_CID or len(known) >= MAX_CIDS_PER_FLOW or cid in known:
            return
        known.append(cid)
        if cid not in self.by_cid:
            self.by_cid[cid] = (flow, addressed_is_orig)
            self.lengths[len(cid)] += 1
            if self.lengths[len(cid)] == 1:
                self._lengths_changed()

    def forget(self, flow: F, known: list[bytes]) -> None:
        """The flow ended: its IDs leave the index (those another flow learned first stay that flow's)."""
        for cid in known:
            found = self.by_cid.get(cid)
            if found is not None and found[0] is flow:
                del self.by_cid[cid]
                self.lengths[len(cid)] -= 1
                if not self.lengths[len(cid)]:
                    self._lengths_changed()

    def _lengths_changed(self) -> None:
        self.live_lengths = tuple(n for n, count in enumerate(self.lengths) if count)

    def match(self, buf: bytes | memoryview, off: int, end: int) -> tuple[F, bool] | None:
        """The flow a datagram ``buf[off:end]`` names by its DCID, and whether that ID addresses the originator."""
        if not self.by_cid or end <= off:
            return None
        by_cid = self.by_cid
        if buf[off] & 0x80:
            if end - off < 6:
                return None
            dcid_len = buf[off + 5]
            if dcid_len < MIN_INDEXED_CID or dcid_len > MAX_CID_LENGTH or off + 6 + dcid_len > end:
                return None
            return by_cid.get(bytes(buf[off + 6 : off + 6 + dcid_len]))
        for length in self.live_lengths:
            if off + 1 + length > end:
                break
            found = by_cid.get(bytes(buf[off + 1 : off + 1 + length]))
            if found is not None:
                return found
        return None
