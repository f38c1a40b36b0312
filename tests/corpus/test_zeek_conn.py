"""tlsmon's Zeek-meaning connection columns equal Zeek's conn.log, connection by connection.

Every conn.log row of every Zeek baseline whose capture is in the corpus is paired with the tlsmon row of the
same capture, endpoints and rank by start time (the baselines mask ``ts`` and ``uid``), and ``proto``,
``service``, ``duration`` (to Zeek's six printed decimals), ``conn_state``, ``orig_bytes`` and ``resp_bytes``
(by sequence space) are compared. Disagreements are
in ``known_differences.py`` with their reasons: services of analyzers tlsmon does not have (``dns``,
``modbus``, ``ftp-data`` …) are Zeek's to name, UDP and ICMP flows are not tracked by the TCP pipeline.
"""

from __future__ import annotations

import pytest

from tests.corpus.compare import plan, settle
from tests.corpus.location import requires_corpus
from tests.corpus.runs import CaptureRun, Row, run_capture
from tests.corpus.zeekconn import ConnCase, conn_cases, zeek_duration

pytestmark = requires_corpus

CASES = conn_cases()


def find_row(run: CaptureRun, case: ConnCase) -> Row | str:
    rows = run.matching(case.ids)
    if len(rows) > case.occurrence:
        return rows[case.occurrence]
    if run.matching_reversed(case.ids):
        return "tlsmon has this connection with originator and responder swapped"
    return f"tlsmon has {len(rows)} rows for these endpoints ({len(run.rows)} in all; capture error: {run.error})"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conn_log_row_equals_tlsmon_row(case: ConnCase) -> None:
    checks = plan(case.key, case.oracle)
    run = run_capture(case.key.trace)
    run.check_crash()
    row = find_row(run, case)
    if isinstance(row, str):
        settle(case.key, checks, row)
        return
    conn = row[0]
    actual = {
        "proto": conn.proto,
        "service": conn.service,
        "duration": zeek_duration(conn.duration),
        "conn_state": conn.conn_state,
        "orig_bytes": str(conn.orig_bytes),
        "resp_bytes": str(conn.resp_bytes),
    }
    settle(case.key, checks, actual)


def test_every_conn_baseline_with_a_capture_gives_cases() -> None:
    traces = {c.key.trace for c in CASES}
    assert len(traces) == 17, sorted(traces)  # 20 conn.log baselines; http-to-ssh.pcap is not in the corpus
