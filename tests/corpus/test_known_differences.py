"""The known-differences list stays honest: every entry names a real case, bugs say so, overrides say why."""

from __future__ import annotations

import pytest

from tests.corpus.cases import Ja4Case, TsharkCase, ZeekCase, ja4_cases, tshark_cases, zeek_cases
from tests.corpus.known_differences import KNOWN, Known
from tests.corpus.location import requires_corpus
from tests.corpus.zeekconn import ConnCase, conn_cases


def _case_fields() -> list[tuple[str, str, str, str, str]]:
    out: list[tuple[str, str, str, str, str]] = []
    cases: list[ZeekCase | Ja4Case | TsharkCase | ConnCase] = [
        *zeek_cases(),
        *ja4_cases(),
        *tshark_cases(),
        *conn_cases(),
    ]
    for case in cases:
        k = case.key
        out.extend((k.source, k.trace, k.baseline, k.conn, name) for name in case.oracle)
    return out


@requires_corpus
@pytest.mark.parametrize("known", KNOWN, ids=[f"{k.source}|{k.trace}|{k.conn}|{k.field}" for k in KNOWN])
def test_entry_matches_a_case(known: Known) -> None:
    assert any(known.matches(*fields) for fields in _case_fields()), f"stale entry: {known}"


@pytest.mark.parametrize("known", KNOWN, ids=[f"{k.source}|{k.trace}|{k.conn}|{k.field}" for k in KNOWN])
def test_entry_is_one_kind_with_a_reason(known: Known) -> None:
    assert known.reason.strip()
    assert not (known.xfail and known.overrides)
    assert known.xfail == known.reason.startswith(("tlsmon bug:", "tlsmon todo:"))
