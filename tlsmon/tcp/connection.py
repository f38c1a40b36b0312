"""One TCP connection's state, kept small: the hot path touches only one direction's counters.

The connection table maps each direction's 4-tuple (sender address, sender port, receiver address, receiver
port) to that direction's :class:`Half`, so a packet finds its connection *and* its direction with one dict
lookup and no comparisons. Each half carries the bypass flag (set on both at once) and its own packet, byte and
last-seen counters, which are the only fields a bypassed packet updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tlsmon.decode.numbers import IPPROTO_TCP
from tlsmon.tcp.endpoint import SeqSpace

if TYPE_CHECKING:
    from tlsmon.consumer import StreamConsumer
    from tlsmon.tcp.reassembly import Reassembler

# Why a connection's record was written (column `end_reason`).
END_FIN = "fin"  # FIN seen from both sides
END_RST = "rst"
END_TIMEOUT = "timeout"  # idle for longer than the configured timeout
END_EOF = "eof"  # still open when the input ended
END_EVICTED = "evicted"  # removed to respect the cap on concurrent connections
END_INTERRUPTED = "interrupted"  # still open when the run was stopped by SIGINT/SIGTERM
# A record written for a connection that is still open (TrackerConfig.interim_interval_ns): end_reason of that
# record only.
END_INTERIM = "interim"


class TransportFacts(Protocol):
    """What a connection's row needs from the TCP stage when it ends; both engines hand this over."""

    @property
    def start_ts(self) -> int: ...
    @property
    def last_ts(self) -> int: ...
    @property
    def ip_version(self) -> int: ...
    @property
    def orig_h(self) -> int | bytes: ...
    @property
    def orig_p(self) -> int: ...
    @property
    def resp_h(self) -> int | bytes: ...
    @property
    def resp_p(self) -> int: ...
    @property
    def vlan(self) -> int | None: ...
    @property
    def orig_pkts(self) -> int: ...
    @property
    def resp_pkts(self) -> int: ...
    @property
    def orig_bytes(self) -> int: ...
    @property
    def resp_bytes(self) -> int: ...
    @property
    def orig_missed_bytes(self) -> int: ...
    @property
    def resp_missed_bytes(self) -> int: ...
    @property
    def history(self) -> str: ...
    @property
    def end_reason(self) -> str: ...
    @property
    def proto(self) -> int:
        """IP protocol: 6 (TCP) or 17 (UDP)."""
        ...

    @property
    def paths(self) -> int:
        """4-tuples the connection was seen on: 1, or more for a QUIC flow followed by connection ID."""
        ...

    @property
    def addresses_changed(self) -> bool:
        """Whether a later 4-tuple had other addresses than the first (tlsmon/udp/flows.py)."""
        ...

    # Zeek's endpoint view (tcp/endpoint.py): states, sizes by sequence space, raw 32-bit sequence numbers of
    # the first stream byte and of the byte after the last (None when the direction sent nothing).
    @property
    def zeek_last_ts(self) -> int:
        """Zeek's last time of the connection: the last packet before both endpoints had closed."""
        ...

    @property
    def orig_state(self) -> int: ...
    @property
    def resp_state(self) -> int: ...
    @property
    def orig_size(self) -> int: ...
    @property
    def resp_size(self) -> int: ...
    @property
    def orig_seq_first(self) -> int | None: ...
    @property
    def orig_seq_next(self) -> int | None: ...
    @property
    def resp_seq_first(self) -> int | None: ...
    @property
    def resp_seq_next(self) -> int | None: ...


# History letters a bypassed data or ACK segment can still add (Half.letters bits).
LETTER_DATA = 1
LETTER_ACK = 2


class Half:
    """One direction of a connection: what its sender sent."""

    __slots__ = ("bypass", "bytes", "conn", "fin", "is_orig", "key", "last_ts", "letters", "pkts", "reasm", "seqs")

    def __init__(self, conn: Connection, is_orig: bool, key: tuple[object, ...], ts: int) -> None:
        self.conn = conn
        self.is_orig = is_orig
        self.key = key
        self.bypass = False
        self.pkts = 0
        self.bytes = 0
        self.last_ts = ts
        self.fin = False
        self.letters = 0  # LETTER_DATA / LETTER_ACK once this direction's D / A history letter is recorded
        self.reasm: Reassembler | None = None
        self.seqs = SeqSpace()  # Zeek's endpoint state and sequence space (tcp/endpoint.py)

    def seq_first(self) -> int | None:
        """Sequence number of this direction's first stream byte (after its SYN), or None if it sent nothing."""
        return (self.seqs.start_seq + 1) & 0xFFFFFFFF if self.pkts else None


class Connection:
    proto = IPPROTO_TCP
    paths = 1  # a TCP connection is its 4-tuple
    addresses_changed = False

    __slots__ = (
        "anomalies",
        "closed_ts",
        "consumer",
        "end_reason",
        "history",
        "ip_version",
        "orig",
        "orig_h",
        "orig_p",
        "resp",
        "resp_h",
        "resp_p",
        "rst",
        "rst_open_side",
        "start_ts",
        "syn_seen",
        "uid",
        "vlan",
        "zeek_last_ts",
    )

    def __init__(
        self,
        ts: int,
        ip_version: int,
        orig_h: int | bytes,
        orig_p: int,
        resp_h: int | bytes,
        resp_p: int,
        vlan: int | None,
    ) -> None:
        self.start_ts = ts
        self.ip_version = ip_version
        self.orig_h = orig_h
        self.orig_p = orig_p
        self.resp_h = resp_h
        self.resp_p = resp_p
        self.vlan = vlan
        self.orig = Half(self, True, (orig_h, orig_p, resp_h, resp_p), ts)
        self.resp = Half(self, False, (resp_h, resp_p, orig_h, orig_p), ts)
        self.history = ""
        self.syn_seen = False
        self.rst = False
        # After an RST: is_orig of the direction still reassembled (the reset's receiver), else None.
        self.rst_open_side: bool | None = None
        self.closed_ts: int | None = None
        self.end_reason = END_EOF
        self.anomalies: list[str] = []
        self.consumer: StreamConsumer | None = None
        self.uid: str | None = None  # given by the engine at the connection's first record
        self.zeek_last_ts = ts  # Zeek's last time: the clock stops once both endpoints closed (tcp/endpoint.py)

    # Read-side views used when the record is built; the hot path writes the halves directly.
    @property
    def bypass(self) -> bool:
        return self.orig.bypass

    @property
    def last_ts(self) -> int:
        return max(self.orig.last_ts, self.resp.last_ts)

    @property
    def orig_pkts(self) -> int:
        return self.orig.pkts

    @property
    def resp_pkts(self) -> int:
        return self.resp.pkts

    @property
    def orig_bytes(self) -> int:
        return self.orig.bytes

    @property
    def resp_bytes(self) -> int:
        return self.resp.bytes

    @property
    def orig_missed_bytes(self) -> int:
        return self.orig.reasm.missed_bytes if self.orig.reasm is not None else 0

    @property
    def resp_missed_bytes(self) -> int:
        return self.resp.reasm.missed_bytes if self.resp.reasm is not None else 0

    @property
    def reasm_orig(self) -> Reassembler | None:
        return self.orig.reasm

    @property
    def reasm_resp(self) -> Reassembler | None:
        return self.resp.reasm

    @property
    def orig_state(self) -> int:
        return self.orig.seqs.state

    @property
    def resp_state(self) -> int:
        return self.resp.seqs.state

    @property
    def orig_size(self) -> int:
        return self.orig.seqs.size(self.resp.seqs)

    @property
    def resp_size(self) -> int:
        return self.resp.seqs.size(self.orig.seqs)

    @property
    def orig_seq_first(self) -> int | None:
        return self.orig.seq_first()

    @property
    def orig_seq_next(self) -> int | None:
        return self.orig.seqs.last_seq if self.orig.pkts else None

    @property
    def resp_seq_first(self) -> int | None:
        return self.resp.seq_first()

    @property
    def resp_seq_next(self) -> int | None:
        return self.resp.seqs.last_seq if self.resp.pkts else None

    @property
    def fin_orig(self) -> bool:
        return self.orig.fin

    @property
    def fin_resp(self) -> bool:
        return self.resp.fin
