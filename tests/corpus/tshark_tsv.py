"""The corpus's ``<capture>.tshark.tsv`` summaries: a ``# key: value`` header, then one row per frame.

Only frames carrying TLS/DTLS handshake or alert data have a row. ``hs_types`` lists the handshake message
type numbers in the frame (SSLv2 message numbers when ``record_version`` is ``0x0002``), ``transport`` is
``tcp``, ``udp`` (DTLS) or ``quic``, and ``stream`` is tshark's per-transport stream index. A header value may
run over several lines (tshark's error text): a non-``#`` line before the table continues the value above.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

TABLE_START = "frame\t"
SSLV2_RECORD = "0x0002"
CLIENT_HELLO = 1
SERVER_HELLO = 2
SSLV2_CLIENT_HELLO = 1
SSLV2_SERVER_HELLO = 4


@dataclass(frozen=True, slots=True)
class TsharkSummary:
    header: dict[str, str]
    frames: tuple[dict[str, str], ...]

    def message_counts(self) -> dict[str, int]:
        """``handshake_message_counts`` of the header, e.g. ``{"client_hello": 84, ...}`` (``none`` → {})."""
        raw = self.header.get("handshake_message_counts", "none").strip()
        if raw == "none":
            return {}
        counts: dict[str, int] = {}
        for item in raw.split(","):
            name, _, value = item.strip().partition("=")
            counts[name] = int(value)
        return counts


@dataclass(frozen=True, slots=True)
class HelloStreams:
    """Per transport stream, how many hello messages tshark dissected."""

    client_hellos: Counter[str]        # stream → ClientHello messages (TLS, SSLv2-compatible excluded)
    server_hellos: Counter[str]        # stream → ServerHello messages, HelloRetryRequests included
    retry_requests: Counter[str]       # stream → frames flagged as HelloRetryRequest
    sslv2_client_hellos: Counter[str]  # stream → SSLv2-format ClientHellos
    sslv2_server_hellos: Counter[str]  # stream → SSLv2 SERVER-HELLOs
    endpoints: dict[str, tuple[str, int, str, int]]  # stream → (client, client port, server, server port)

    def streams_with_client_hello(self) -> set[str]:
        return {s for s in (*self.client_hellos, *self.sslv2_client_hellos)
                if self.client_hellos[s] + self.sslv2_client_hellos[s] > 0}

    def streams_with_server_hello(self) -> set[str]:
        return {s for s in (*self.server_hellos, *self.sslv2_server_hellos)
                if self.server_hellos[s] + self.sslv2_server_hellos[s] > 0}


def parse(text: str) -> TsharkSummary:
    header: dict[str, str] = {}
    frames: list[dict[str, str]] = []
    columns: list[str] | None = None
    last_key: str | None = None
    for line in text.splitlines():
        if columns is not None:
            if line:
                cells = line.split("\t")
                frames.append(dict(zip(columns, cells, strict=True)))
        elif line.startswith(TABLE_START):
            columns = line.split("\t")
        elif line.startswith("# "):
            key, sep, value = line[2:].partition(": ")
            if sep:
                last_key = key.split("(", 1)[0].strip()
                header[last_key] = value
        elif last_key is not None:
            header[last_key] += "\n" + line
    return TsharkSummary(header, tuple(frames))


def hello_streams(summary: TsharkSummary, transport: str) -> HelloStreams:
    ch: Counter[str] = Counter()
    sh: Counter[str] = Counter()
    hrr: Counter[str] = Counter()
    v2: Counter[str] = Counter()
    v2s: Counter[str] = Counter()
    endpoints: dict[str, tuple[str, int, str, int]] = {}
    for frame in summary.frames:
        if frame["transport"] != transport or not frame["hs_types"]:
            continue
        stream = frame["stream"]
        types = [int(t) for t in frame["hs_types"].split(",")]
        sslv2 = frame["record_version"].split(",")[0] == SSLV2_RECORD
        src, sport, dst, dport = frame["src"], int(frame["sport"]), frame["dst"], int(frame["dport"])
        if sslv2:
            n_ch, n_sh = types.count(SSLV2_CLIENT_HELLO), types.count(SSLV2_SERVER_HELLO)
            v2.update({stream: n_ch} if n_ch else {})
            v2s.update({stream: n_sh} if n_sh else {})
        else:
            n_ch, n_sh = types.count(CLIENT_HELLO), types.count(SERVER_HELLO)
            ch.update({stream: n_ch} if n_ch else {})
            sh.update({stream: n_sh} if n_sh else {})
            if frame.get("is_hrr") == "1":
                hrr[stream] += 1
        if n_ch:
            endpoints.setdefault(stream, (src, sport, dst, dport))
        elif n_sh:
            endpoints.setdefault(stream, (dst, dport, src, sport))
    return HelloStreams(ch, sh, hrr, v2, v2s, endpoints)


def recount_messages(summary: TsharkSummary) -> dict[str, int]:
    """``client_hello``/``server_hello`` over every transport, recounted from the table as the header counts
    them (TLS and QUIC together; DTLS and SSLv2 under their own names)."""
    counts: Counter[str] = Counter()
    for transport in ("tcp", "quic"):
        streams = hello_streams(summary, transport)
        counts["client_hello"] += sum(streams.client_hellos.values())
        counts["server_hello"] += sum(streams.server_hellos.values())
    return dict(counts)
