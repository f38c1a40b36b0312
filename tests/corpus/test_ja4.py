"""tlsmon's JA4 and JA4_r equal FoxIO's goldens for every ClientHello in the JA4 repository's captures.

The golden is ja4.py's ``JA4.1``/``JA4_r.1`` (the connection's first ClientHello), or the Rust tool's ``ja4``
where ja4.py has none; the two tools never disagree on a ClientHello both fingerprinted (checked below).
"""

from __future__ import annotations

import pytest

from tests.corpus.cases import Ja4Case, ja4_cases
from tests.corpus.compare import plan, settle
from tests.corpus.known_differences import GOLDEN_GAPS
from tests.corpus.location import requires_corpus
from tests.corpus.runs import run_capture

pytestmark = requires_corpus

CASES = ja4_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_ja4_equals_golden(case: Ja4Case) -> None:
    checks = plan(case.key, case.oracle)
    run = run_capture(case.key.trace)
    run.check_crash()
    client, cport, server, sport = case.golden.endpoints
    rows = run.matching({"orig_h": client, "orig_p": cport, "resp_h": server, "resp_p": sport})
    if not rows:
        settle(case.key, checks, f"no tlsmon row for these endpoints (capture error: {run.error})")
        return
    _conn, tls = rows[0]
    if tls is None:
        settle(case.key, checks, "no TLS seen on this connection")
        return
    settle(case.key, checks, {"ja4": tls.ja4, "ja4_r": tls.ja4_r})


def test_python_and_rust_goldens_differ_only_where_listed() -> None:
    disagree = [c.id for c in CASES if c.golden.oracles_disagree]
    one_sided = {
        (c.key.trace, c.key.conn): "python" if c.golden.rust_ja4 is None else "rust"
        for c in CASES
        if c.golden.transport == "tcp" and None in (c.golden.rust_ja4, c.golden.python_ja4)
    }
    assert disagree == []
    assert one_sided == {k: v[0] for k, v in GOLDEN_GAPS.items()}
