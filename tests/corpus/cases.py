"""The oracle cases the corpus offers, built from the files alone (no tlsmon run), for parametrizing tests.

- Zeek: one case per ssl.log row of every baseline, i.e. per (baseline, capture, connection); the fields are
  those of :data:`ZEEK_FIELDS` the baseline has.
- JA4: one case per fingerprinted ClientHello of the FoxIO goldens, fields ``ja4`` and ``ja4_r``.
- tshark: one case per capture with a ``.tshark.tsv``, fields ``client_hello`` and ``server_hello`` (TCP
  connections carrying that message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.corpus import ja4golden, tshark_tsv, zeeklog
from tests.corpus.compare import CaseKey
from tests.corpus.location import CORPUS, relative
from tests.corpus.runs import ID_FIELDS, conn_id

# ssl.log columns compared, with the conversion of Zeek's text to tlsmon's value.
ZEEK_FIELDS: dict[str, Callable[[str], object]] = {
    "version": zeeklog.zeek_str,
    "cipher": zeeklog.zeek_str,
    "curve": zeeklog.zeek_str,
    "server_name": zeeklog.zeek_str,
    "resumed": zeeklog.zeek_bool,
    "established": zeeklog.zeek_bool,
    "next_protocol": zeeklog.zeek_str,
    "ssl_history": zeeklog.zeek_str,
    "last_alert": zeeklog.zeek_str,
    "cert_chain_fps": zeeklog.zeek_vector,
    "client_cert_chain_fps": zeeklog.zeek_vector,
}
VECTOR_FIELDS = frozenset({"cert_chain_fps", "client_cert_chain_fps"})


@dataclass(frozen=True, slots=True)
class ZeekCase:
    key: CaseKey
    ids: dict[str, Any]
    occurrence: int                  # earlier rows of the same block with the same ids
    oracle: dict[str, object]
    exec_line: str

    @property
    def id(self) -> str:
        return f"{self.key.trace}|{self.key.baseline}|{self.key.conn}#{self.occurrence}"


@dataclass(frozen=True, slots=True)
class Ja4Case:
    key: CaseKey
    golden: ja4golden.Ja4Golden
    oracle: dict[str, object]

    @property
    def id(self) -> str:
        return f"{self.key.trace}|{self.key.conn}"


@dataclass(frozen=True, slots=True)
class TsharkCase:
    key: CaseKey
    streams: tshark_tsv.HelloStreams
    message_counts: dict[str, int]
    oracle: dict[str, object]

    @property
    def id(self) -> str:
        return self.key.trace


@cache
def zeek_cases() -> tuple[ZeekCase, ...]:
    if not CORPUS.is_dir():
        return ()
    out: list[ZeekCase] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in zeeklog.ssl_baseline_rows(CORPUS):
        ids: dict[str, Any] = {f: row.values[f"id.{f}"] for f in ID_FIELDS if f"id.{f}" in row.values}
        conn = conn_id(ids)
        n = seen.get((row.baseline, row.trace, conn), 0)
        seen[(row.baseline, row.trace, conn)] = n + 1
        oracle = {name: conv(row.values[name]) for name, conv in ZEEK_FIELDS.items() if name in row.values}
        out.append(ZeekCase(CaseKey("zeek", row.trace, row.baseline, conn), ids, n, oracle, row.exec_line))
    return tuple(out)


@cache
def ja4_cases() -> tuple[Ja4Case, ...]:
    if not CORPUS.is_dir():
        return ()
    out: list[Ja4Case] = []
    for golden in ja4golden.all_goldens(CORPUS):
        client, cport, server, sport = golden.endpoints
        conn = f"{golden.transport} " + conn_id(
            {"orig_h": client, "orig_p": cport, "resp_h": server, "resp_p": sport})
        oracle: dict[str, object] = {"ja4": golden.ja4}
        if golden.ja4_r is not None:
            oracle["ja4_r"] = golden.ja4_r
        out.append(Ja4Case(CaseKey("ja4", golden.trace, "-", conn), golden, oracle))
    return tuple(out)


@cache
def tshark_cases() -> tuple[TsharkCase, ...]:
    if not CORPUS.is_dir():
        return ()
    out: list[TsharkCase] = []
    for tsv in sorted(CORPUS.rglob("*.tshark.tsv")):
        trace = relative(tsv).removesuffix(".tshark.tsv")
        summary = tshark_tsv.parse(tsv.read_text())
        streams = tshark_tsv.hello_streams(summary, "tcp")
        oracle: dict[str, object] = {
            "client_hello": len(streams.streams_with_client_hello()),
            "server_hello": len(streams.streams_with_server_hello()),
        }
        out.append(TsharkCase(CaseKey("tshark", trace, "-", "*"), streams, summary.message_counts(), oracle))
    return tuple(out)
