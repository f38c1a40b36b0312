"""One TCP connection's state, kept small: the hot path touches only counters and the bypass flag."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tlsmon.stream import StreamConsumer
    from tlsmon.tcp.reassembly import Reassembler

# Why a connection's record was written (column `end_reason`).
END_FIN = "fin"  # FIN seen from both sides
END_RST = "rst"
END_TIMEOUT = "timeout"  # idle for longer than the configured timeout
END_EOF = "eof"  # still open when the input ended
END_EVICTED = "evicted"  # removed to respect the cap on concurrent connections
END_REUSED = "reused"  # a new SYN arrived on the 4-tuple of a closed connection


class Connection:
    __slots__ = (
        "anomalies",
        "bypass",
        "closed_ts",
        "consumer",
        "end_reason",
        "fin_orig",
        "fin_resp",
        "history",
        "ip_version",
        "key",
        "last_ts",
        "orig_bytes",
        "orig_h",
        "orig_p",
        "orig_pkts",
        "reasm_orig",
        "reasm_resp",
        "resp_bytes",
        "resp_h",
        "resp_p",
        "resp_pkts",
        "rst",
        "start_ts",
        "syn_seen",
        "vlan",
    )

    def __init__(
        self,
        key: tuple[object, ...],
        ts: int,
        ip_version: int,
        orig_h: int | bytes,
        orig_p: int,
        resp_h: int | bytes,
        resp_p: int,
        vlan: int | None,
    ) -> None:
        self.key = key
        self.start_ts = ts
        self.last_ts = ts
        self.ip_version = ip_version
        self.orig_h = orig_h
        self.orig_p = orig_p
        self.resp_h = resp_h
        self.resp_p = resp_p
        self.vlan = vlan
        self.orig_pkts = 0
        self.resp_pkts = 0
        self.orig_bytes = 0
        self.resp_bytes = 0
        self.history = ""
        self.bypass = False
        self.syn_seen = False
        self.fin_orig = False
        self.fin_resp = False
        self.rst = False
        self.closed_ts: int | None = None
        self.end_reason = END_EOF
        self.anomalies: list[str] = []
        self.consumer: StreamConsumer | None = None
        self.reasm_orig: Reassembler | None = None
        self.reasm_resp: Reassembler | None = None
