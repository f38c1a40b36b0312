"""The Zeek conn.log oracle: one case per conn.log row of every baseline whose capture is in the corpus.

Each case names its connection by the transport and the four ``id.*`` columns and, as the baselines mask
``ts``, by its rank among the rows with the same endpoints (the n-th pairs with tlsmon's n-th by start time;
``#n`` is appended to the name from the second on). The oracle fields
are the Zeek columns tlsmon writes with Zeek's meaning: ``proto``, ``service``, ``duration`` (as Zeek
prints it, six decimals), ``conn_state``, ``orig_bytes`` and ``resp_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.corpus import zeeklog
from tests.corpus.compare import CaseKey
from tests.corpus.location import CORPUS
from tests.corpus.runs import ID_FIELDS, conn_id

# Baselines of a btest that ran several traces but kept each run's conn.log in its own file.
_RR = "scripts.base.frameworks.analyzer.request-response-protocol-differences"
SINGLE_RUN_FILES: dict[str, str] = {
    "scripts.base.protocols.mysql.encrypted-aws-rds/tls-12.conn.log": "mysql/tls-12-amazon-rds.pcap",
    "scripts.base.protocols.mysql.encrypted-aws-rds/tls-13.conn.log": "mysql/tls-13-amazon-rds.pcap",
    f"{_RR}/conn-http-to-ssh.log": "http/http-to-ssh.pcap",
    f"{_RR}/conn-https-to-http.log": "tls/https-to-http.pcap",
}
FIELDS = ("proto", "service", "duration", "conn_state", "orig_bytes", "resp_bytes")


@dataclass(frozen=True, slots=True)
class ConnCase:
    key: CaseKey
    ids: dict[str, Any]
    occurrence: int
    oracle: dict[str, object]

    @property
    def id(self) -> str:
        return f"{self.key.trace}|{self.key.baseline}|{self.key.conn}#{self.occurrence}"


def zeek_duration(value: float | None) -> str | None:
    """A duration as Zeek prints an interval in conn.log (six decimals), None when unset."""
    return None if value is None else f"{value:.6f}"


def _oracle(row: dict[str, str]) -> dict[str, object]:
    return {
        "proto": row["proto"],
        "service": zeeklog.zeek_str(row["service"]),
        "duration": zeeklog.zeek_str(row["duration"]),
        "conn_state": row["conn_state"],
        "orig_bytes": zeeklog.zeek_str(row["orig_bytes"]),
        "resp_bytes": zeeklog.zeek_str(row["resp_bytes"]),
    }


@cache
def conn_cases() -> tuple[ConnCase, ...]:
    if not CORPUS.is_dir():
        return ()
    zeek_root = CORPUS / "zeek"
    out: list[ConnCase] = []
    for key, path, prov in zeeklog.baseline_files(zeek_root, "conn"):
        if "#path\tconn" not in path.read_text():
            continue
        blocks = zeeklog.parse_log(path.read_text())
        if key in SINGLE_RUN_FILES and len(blocks) == 1:
            traces = [SINGLE_RUN_FILES[key]]
        else:
            traces = zeeklog.assign_traces(key, prov, len(blocks))
        for block, trace in zip(blocks, traces, strict=True):
            rel = zeeklog.trace_path(zeek_root, trace)
            if not (CORPUS / rel).exists():
                continue
            seen: dict[str, int] = {}
            for row in block.rows:
                ids = {f: row[f"id.{f}"] for f in ID_FIELDS}
                conn = f"{row['proto']} {conn_id(ids)}"
                n = seen.get(conn, 0)
                seen[conn] = n + 1
                name = f"{conn}#{n}" if n else conn
                out.append(ConnCase(CaseKey("zeek", rel, key, name), ids, n, _oracle(row)))
    return tuple(out)
