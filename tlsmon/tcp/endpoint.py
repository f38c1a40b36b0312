"""Zeek's view of each TCP endpoint: its state and its sequence space, for conn.log's ``orig_bytes``,
``resp_bytes`` and ``conn_state``.

Theory of operation
-------------------
Zeek does not count payload bytes for ``orig_bytes``/``resp_bytes``: it measures how far each endpoint's
sequence numbers advanced (``TCP_Endpoint::Size``), so retransmissions do not count and bytes that were never
captured do. And ``conn_state`` (S0, SF, REJ, RSTO …) is read off the two endpoints' states
(``TCP_Analyzer::UpdateStateMachine``), not off the history letters. Both engines keep the same few numbers per
direction, updated by every packet of the connection, bypassed ones included, so the columns mean exactly
what Zeek's do:

* ``start_seq``: the endpoint's initial sequence number (its SYN), or one before the first sequence number seen
  for a connection picked up without a SYN, or one before the first acknowledgement of it when the endpoint
  itself was not seen yet (``init_endpoint``/``init_peer``);
* ``last_seq``: one past the highest sequence number sent (SYN and FIN count one each), with a wrap count;
* ``ack_seq``: the highest acknowledgement the peer sent for it, with a wrap count;
* the state: INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED or RESET, and the one before.

The rules (TOO_LARGE_SEQ_DELTA for SYN and RST jumps, no sequence trusted after the endpoint's RST, no
acknowledgement taken from an RST, an ack of zero far ahead ignored) are Zeek's, transcribed from
``src/analyzer/protocol/tcp/TCP.cc``. Zeek's SYN/SYN-ACK role reversal is not reproduced: tlsmon chooses the
originator when the connection is created (see ``tcp/tracker.py``).

The sequence columns (``orig_seq_first`` …) give the raw 32-bit sequence numbers of each direction's first
stream byte and of the byte after its last, so rows of one connection cut across capture files can be proven
continuous (``tlsmon/batch/stitch.py``).
"""

from __future__ import annotations

INACTIVE = 0
SYN_SENT = 1
SYN_ACK_SENT = 2
PARTIAL = 3
ESTABLISHED = 4
CLOSED = 5
RESET = 6

#: Zeek's spellings (``TCP_INACTIVE`` …), as its conn record's ``orig$state`` prints them
STATE_NAMES = ("INACTIVE", "SYN_SENT", "SYN_ACK_SENT", "PARTIAL", "ESTABLISHED", "CLOSED", "RESET")

_FIN = 0x01
_SYN = 0x02
_RST = 0x04
_ACK = 0x10
_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
#: a SYN or RST whose sequence number jumps further than this is not trusted (Zeek's TOO_LARGE_SEQ_DELTA)
TOO_LARGE_SEQ_DELTA = 1048576


class SeqSpace:
    """One endpoint's state and sequence numbers (Zeek's ``TCP_Endpoint``, the parts the row needs)."""

    __slots__ = (
        "ack_seq",
        "ack_wraps",
        "did_close",
        "fin_cnt",
        "last_seq",
        "prev_state",
        "seq_wraps",
        "start_seq",
        "state",
    )

    def __init__(self) -> None:
        self.state = INACTIVE
        self.prev_state = INACTIVE
        self.start_seq = 0
        self.last_seq = 0
        self.ack_seq = 0
        self.seq_wraps = 0
        self.ack_wraps = 0
        self.fin_cnt = 0
        self.did_close = False  # sent a FIN or RST that closed it (Zeek's did_close)

    def set_state(self, state: int) -> None:
        if state != self.state:
            self.prev_state = self.state
            self.state = state

    def init(self, start: int, last: int) -> None:
        self.start_seq = start & _M32
        self.ack_seq = start & _M32
        self.last_seq = last & _M32

    def update_last(self, seq: int) -> None:
        if seq < self.last_seq:
            self.seq_wraps += 1
        self.last_seq = seq

    def update_ack(self, seq: int) -> None:
        if seq < self.ack_seq:
            self.ack_wraps += 1
        self.ack_seq = seq

    def no_data_acked(self) -> bool:
        ack = (self.ack_wraps << 32) | self.ack_seq
        return ack in (self.start_seq, self.start_seq + 1)

    def size(self, peer: SeqSpace) -> int:
        """Zeek's ``TCP_Endpoint::Size``: stream bytes by sequence space, SYN and FIN not counted."""
        if self.prev_state == SYN_SENT and self.state == RESET and peer.state == INACTIVE and not self.no_data_acked():
            return 0  # a half-open connection discovered and aborted: its numbers mean nothing
        last = (self.seq_wraps << 32) | self.last_seq
        ack = (self.ack_wraps << 32) | self.ack_seq
        size = ((last if last > ack else ack) - self.start_seq) & _M64
        if size:
            size -= 1
        if self.fin_cnt and size:
            size -= 1
        return size


def seq_delta(a: int, b: int) -> int:
    """``a - b`` as a signed 32-bit difference (RFC 1982 serial arithmetic)."""
    d = (a - b) & _M32
    return d - 0x100000000 if d & 0x80000000 else d


def track(
    ep: SeqSpace, peer: SeqSpace, orig: SeqSpace, is_orig: bool, flags: int, seq: int, ack: int, plen: int
) -> None:
    """Update the sender's (``ep``) and its peer's numbers and states for one segment, as Zeek's
    ``TCP_Analyzer::DeliverPacket`` does; ``orig`` is the originator's endpoint (``ep`` or ``peer``).

    The caller keeps the connection's Zeek clock: a packet counts for ``duration`` unless both endpoints had
    closed before it (:func:`both_closed`, asked before calling this)."""
    seg_len = plen
    if flags & _SYN:
        seg_len += 1
    if flags & _FIN:
        seg_len += 1
    if flags & _RST:
        seg_len -= plen
    past = (seq + seg_len) & _M32
    _init_endpoint(ep, flags, seq, past)
    if flags & _FIN:
        ep.fin_cnt += 1
    if flags & _ACK:
        if peer.state == INACTIVE:
            peer.init(ack - 1, ack - 1)
        elif not _underflow(peer, ack, peer.ack_seq, peer.ack_wraps) and not flags & _RST:
            delta = seq_delta(ack, peer.ack_seq)
            if not (ack == 0 and delta > TOO_LARGE_SEQ_DELTA) and delta > 0:
                peer.update_ack(ack)
    _update_last(ep, past, flags, plen)
    _update_state(ep, peer, orig, is_orig, flags, seq, plen)


def _underflow(ep: SeqSpace, value: int, last: int, wraps: int) -> bool:
    """Zeek's ``get_relative_seq`` underflow test: before the endpoint's start while no wrap is counted."""
    delta = seq_delta(value, last)
    if delta < 0:
        if wraps and value > last:
            wraps -= 1
    elif delta > 0 and value < last:
        wraps += 1
    return wraps == 0 and seq_delta(value, ep.start_seq) < 0


def _init_endpoint(ep: SeqSpace, flags: int, first: int, past: int) -> None:
    state = ep.state
    if state == INACTIVE:
        if flags & _SYN:
            ep.init(first, past)
        else:  # picked up mid-stream: number as though a SYN had been seen
            ep.init(first - 1, first)
    elif state in (SYN_SENT, SYN_ACK_SENT):
        if flags & _SYN and first != ep.start_seq:
            ep.init(first, past)
    elif state in (ESTABLISHED, PARTIAL):
        if flags & _SYN:
            ep.init(first, past)
    elif state == RESET and flags & _SYN and ep.prev_state == INACTIVE:
        ep.init(first, past)


def _update_last(ep: SeqSpace, past: int, flags: int, plen: int) -> None:
    delta = seq_delta(past, ep.last_seq)
    if flags & (_SYN | _RST) and (delta > TOO_LARGE_SEQ_DELTA or delta < -TOO_LARGE_SEQ_DELTA):
        return
    if flags & _FIN and ep.last_seq == (ep.start_seq + 1) & _M32:
        ep.update_last(past)
    elif ep.state == RESET:
        return
    elif delta > 0:
        ep.update_last(past)


def both_closed(a: SeqSpace, b: SeqSpace) -> bool:
    """Zeek stops a connection's clock (its last time, hence ``duration``) once both endpoints closed."""
    return a.did_close and b.did_close


def _update_state(
    ep: SeqSpace, peer: SeqSpace, orig: SeqSpace, is_orig: bool, flags: int, seq: int, plen: int
) -> None:
    state = ep.state
    if flags & (_FIN | _RST) and state not in (CLOSED, RESET):
        ep.did_close = True  # Zeek's do_close: ConnectionClosed() marks the endpoint
    if state == INACTIVE:
        if flags & _SYN:
            if is_orig:
                ep.set_state(SYN_ACK_SENT if flags & _ACK else SYN_SENT)
            else:
                if not flags & _ACK and peer.state == SYN_ACK_SENT and seq == ep.start_seq:
                    peer.set_state(ESTABLISHED)  # SYN/SYN-ACK reversal (Zeek also flips the roles)
                if peer.state == SYN_SENT:
                    peer.set_state(ESTABLISHED)
                ep.set_state(ESTABLISHED)
        if flags & _FIN:
            ep.set_state(CLOSED)
        if flags & _RST:
            ep.set_state(RESET)
        if ep.state == INACTIVE:
            if not is_orig and plen == 0 and orig.state == SYN_SENT:
                pass  # an ACK of the SYN before the SYN-ACK: not a partial connection
            elif flags & _ACK and peer.state == ESTABLISHED:
                ep.set_state(ESTABLISHED)  # the SYN was missed, the SYN-ACK was not
            else:
                ep.set_state(PARTIAL)
    elif state in (SYN_SENT, SYN_ACK_SENT):
        if flags & _FIN:
            ep.set_state(CLOSED)
        if flags & _RST:
            ep.set_state(RESET)
    elif state in (ESTABLISHED, PARTIAL):
        if flags & _SYN and state == PARTIAL and peer.state == INACTIVE and not flags & _ACK:
            ep.set_state(SYN_SENT)
        if flags & _FIN and not flags & _RST:
            ep.set_state(CLOSED)
            if peer.state == RESET and peer.prev_state == CLOSED:
                peer.set_state(CLOSED)  # the peer's FIN then RST was a normal close
        if flags & _RST:
            ep.set_state(RESET)
    elif state == CLOSED:
        if flags & _RST and peer.state != CLOSED:
            ep.set_state(RESET)


def conn_state(orig: int, resp: int, orig_size: int, resp_size: int, history: str) -> str:
    """Zeek's ``conn_state`` (base/protocols/conn/main.zeek) from the two endpoint states."""
    o_inactive = orig in (INACTIVE, PARTIAL)
    r_inactive = resp in (INACTIVE, PARTIAL)
    if resp == RESET:
        if orig in (SYN_SENT, SYN_ACK_SENT) or (orig == RESET and orig_size == 0 and resp_size == 0):
            return "REJ"
        return "RSTRH" if o_inactive else "RSTR"
    if orig == RESET:
        if r_inactive:
            return "RSTOS0" if _syn_then_reset(history) else "OTH"
        return "RSTO"
    if resp == CLOSED and orig == CLOSED:
        return "SF"
    if orig == CLOSED:
        return "SH" if r_inactive else "S2"
    if resp == CLOSED:
        return "SHR" if o_inactive else "S3"
    if orig == SYN_SENT and resp == INACTIVE:
        return "S0"
    if orig == ESTABLISHED and resp == ESTABLISHED:
        return "S1"
    return "OTH"


def _syn_then_reset(history: str) -> bool:
    """Zeek's ``/\\^?S[^HAFGIQ]*R.*/ == history``: the originator's SYN, then its RST, nothing answered."""
    h = history[1:] if history.startswith("^") else history
    if not h.startswith("S"):
        return False
    for ch in h[1:]:
        if ch == "R":
            return True
        if ch in "HAFGIQ":
            return False
    return False
