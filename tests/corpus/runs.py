"""One tlsmon engine run per capture, cached for the whole session, and lookups of its rows by endpoints.

Every oracle case of a capture reads the same :class:`CaptureRun`, so the corpus costs one pass over each
file. tlsmon is imported when a capture is first run, so the parsing helpers stay testable on their own.

Rows are found by the endpoints the oracle names (some Zeek baselines keep only a few of the four ``id.*``
columns). Addresses are compared in canonical ``ipaddress`` form. When the same endpoints appear on several
rows (port reuse), the n-th oracle row with them pairs with the n-th tlsmon row by start time.
"""

from __future__ import annotations

import ipaddress
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.corpus.location import corpus_path

if TYPE_CHECKING:
    from tlsmon.records.conn import ConnSummary
    from tlsmon.tls.summary import TlsSummary

Row = tuple["ConnSummary", "TlsSummary | None"]
ID_FIELDS = ("orig_h", "orig_p", "resp_h", "resp_p")


@dataclass(slots=True)
class CaptureRun:
    rows: list[Row]
    error: str | None      # CaptureError text: the file is damaged; rows up to the damage are kept
    crash: str | None      # traceback of any other exception: a tlsmon bug (bad input must never raise)

    def check_crash(self) -> None:
        assert self.crash is None, f"tlsmon engine raised:\n{self.crash}"

    def matching(self, ids: dict[str, Any]) -> list[Row]:
        want = _canonical(ids)
        found = [
            r for r in self.rows if all(_canonical_value(k, getattr(r[0], k)) == v for k, v in want.items())
        ]
        return sorted(found, key=lambda r: r[0].ts_start)

    def matching_reversed(self, ids: dict[str, Any]) -> list[Row]:
        swap = {"orig_h": "resp_h", "resp_h": "orig_h", "orig_p": "resp_p", "resp_p": "orig_p"}
        return self.matching({swap[k]: v for k, v in ids.items()})


_RUNS: dict[str, CaptureRun] = {}


def run_capture(rel: str) -> CaptureRun:
    """The rows tlsmon writes for the corpus capture ``rel`` (run once, then cached)."""
    cached = _RUNS.get(rel)
    if cached is not None:
        return cached
    from tlsmon.capture import CaptureError, CaptureSource
    from tlsmon.engine import Engine
    from tlsmon.recorder import MemorySink

    sink = MemorySink()
    engine = Engine(sink)
    error: str | None = None
    crash: str | None = None
    try:
        engine.run(CaptureSource([corpus_path(rel)]))
    except CaptureError as exc:
        error = str(exc)
    except Exception:
        crash = traceback.format_exc()
    if crash is None:
        try:
            engine.close()
        except Exception:
            crash = traceback.format_exc()
    run = CaptureRun(list(sink.rows), error, crash)
    _RUNS[rel] = run
    return run


def conn_id(ids: dict[str, Any]) -> str:
    """``orig:port>resp:port`` (IPv6 in brackets); a missing part is ``?``; the form known differences use."""
    def host(key: str) -> str:
        value = ids.get(key)
        if value is None:
            return "?"
        text = str(value)
        return f"[{text}]" if ":" in text else text

    def port(key: str) -> str:
        value = ids.get(key)
        return "?" if value is None else str(value)

    return f"{host('orig_h')}:{port('orig_p')}>{host('resp_h')}:{port('resp_p')}"


def canonical_endpoints(client: str, cport: int, server: str, sport: int) -> tuple[str, int, str, int]:
    return (_canonical_value("orig_h", client), cport, _canonical_value("resp_h", server), sport)


def _canonical(ids: dict[str, Any]) -> dict[str, Any]:
    return {k: _canonical_value(k, v) for k, v in ids.items()}


def _canonical_value(key: str, value: Any) -> Any:
    if key.endswith("_h"):
        return ipaddress.ip_address(str(value)).compressed
    return int(value)
