"""tlsmon's TLS fields equal Zeek's ssl.log, connection by connection, for every Zeek baseline in the corpus.

Each ssl.log row is paired with the tlsmon row of the same capture and endpoints (Zeek masks ``ts``) and
the columns of ``cases.ZEEK_FIELDS`` present in the baseline are compared; disagreements that are Zeek's, or
out of tlsmon's scope, are in ``known_differences.py``.
"""

from __future__ import annotations

import pytest

from tests.corpus.cases import VECTOR_FIELDS, ZeekCase, zeek_cases
from tests.corpus.compare import plan, settle
from tests.corpus.location import requires_corpus
from tests.corpus.runs import ID_FIELDS, CaptureRun, Row, run_capture

pytestmark = requires_corpus

CASES = zeek_cases()


def tlsmon_values(row: Row, fields: list[str]) -> dict[str, object] | str:
    conn, tls = row
    if tls is None:
        return f"no TLS seen on this connection (app_proto={conn.app_proto!r}, tls_mode={conn.tls_mode!r})"
    values: dict[str, object] = {}
    for name in fields:
        value = getattr(tls, name)
        values[name] = list(value or []) if name in VECTOR_FIELDS else value
    return values


def find_row(run: CaptureRun, case: ZeekCase) -> Row | str:
    if len(case.ids) == len(ID_FIELDS):
        rows = run.matching(case.ids)
        if len(rows) > case.occurrence:
            return rows[case.occurrence]
        if run.matching_reversed(case.ids):
            return "tlsmon has this connection with originator and responder swapped"
        return f"no tlsmon row for these endpoints ({len(run.rows)} rows; capture error: {run.error})"
    # The baseline kept only some id columns: the one TLS connection they fit.
    rows = [r for r in run.matching(case.ids) if r[1] is not None]
    if len(rows) == 1:
        return rows[0]
    return f"{len(rows)} tlsmon TLS rows fit the partial endpoints {case.ids}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_ssl_log_row_equals_tlsmon_row(case: ZeekCase) -> None:
    checks = plan(case.key, case.oracle)
    run = run_capture(case.key.trace)
    run.check_crash()
    row = find_row(run, case)
    actual = row if isinstance(row, str) else tlsmon_values(row, [c.field for c in checks])
    settle(case.key, checks, actual)
