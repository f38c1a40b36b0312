"""QUIC and DTLS flows of the shared corpus against Zeek's ssl.log and FoxIO's JA4 goldens.

Each Zeek ssl.log row of a QUIC or DTLS capture is paired with the UdpTlsAnalyzer flow of the same endpoints
(tests/quic/udpwalk.py stands in for the engines' UDP flow table) and every ssl.log column the baseline has is
compared; each JA4 golden with a ``q`` or ``d`` fingerprint is compared with the flow's ``ja4`` (and ``ja4_r``
when ja4.py wrote one). There is no known difference: every field agrees.
"""

from __future__ import annotations

import pytest

from tests.corpus.cases import VECTOR_FIELDS, Ja4Case, ZeekCase
from tests.corpus.location import requires_corpus
from tests.quic.udpcorpus import DTLS_TRACES, QUIC_TRACES, find_flow, flows, udp_ja4_cases, udp_zeek_cases

pytestmark = requires_corpus

ZEEK = udp_zeek_cases(QUIC_TRACES + DTLS_TRACES)
JA4 = udp_ja4_cases("quic") + udp_ja4_cases("dtls")


@pytest.mark.parametrize("case", ZEEK, ids=[c.id for c in ZEEK])
def test_ssl_log_row_equals_the_flow_summary(case: ZeekCase) -> None:
    if case.ids:
        flow = find_flow(case.key.trace, case.ids)
    else:  # a zeek-cut baseline without endpoints: the capture's one QUIC/DTLS flow with a ClientHello
        candidates = [f for f in flows(case.key.trace) if f.analyzer.summary and f.analyzer.summary.ssl_history]
        assert len(candidates) == 1
        flow = candidates[0]
    assert flow is not None, f"no QUIC/DTLS flow for {case.ids}"
    summary = flow.analyzer.summary
    assert summary is not None
    actual = {
        name: (list(getattr(summary, name)) if name in VECTOR_FIELDS else getattr(summary, name))
        for name in case.oracle
    }
    assert actual == case.oracle


@pytest.mark.parametrize("case", JA4, ids=[c.id for c in JA4])
def test_ja4_equals_golden(case: Ja4Case) -> None:
    client, cport, server, sport = case.golden.endpoints
    flow = find_flow(case.key.trace, {"orig_h": client, "orig_p": cport, "resp_h": server, "resp_p": sport})
    assert flow is not None
    summary = flow.analyzer.summary
    assert summary is not None
    actual = {"ja4": summary.ja4, "ja4_r": summary.ja4_r}
    assert {k: actual[k] for k in case.oracle} == case.oracle


def test_every_quic_and_dtls_oracle_is_a_case() -> None:
    # 17 QUIC ssl.log rows, 13 DTLS rows (dtls1_0/dtls1_2 appear in four baselines each), 51 QUIC JA4 goldens;
    # FoxIO has no DTLS golden
    assert (sum(c.key.trace.startswith(QUIC_TRACES) for c in ZEEK), len(ZEEK), len(JA4)) == (17, 30, 51)
