"""For every capture in the corpus, tlsmon finds a ClientHello and a ServerHello on as many TCP connections as
tshark does.

tshark counts messages and tlsmon writes connections: a connection with a HelloRetryRequest has two
ClientHellos and two ServerHellos (the HRR is one), renegotiation adds more, so the oracle is the number of
TCP streams in which tshark dissected at least one such message. QUIC and DTLS rows are left out here
(tests/quic/test_tshark_counts.py compares UDP flows). tshark does not decode TLS on non-standard ports or after some
STARTTLS commands (see MANIFEST.md): those captures are known differences.
"""

from __future__ import annotations

import pytest

from tests.corpus.cases import TsharkCase, tshark_cases
from tests.corpus.compare import plan, settle
from tests.corpus.location import requires_corpus
from tests.corpus.runs import Row, canonical_endpoints, run_capture

pytestmark = requires_corpus

CASES = tshark_cases()


def has_client_hello(row: Row) -> bool:
    tls = row[1]
    return tls is not None and tls.client_version_code is not None


def has_server_hello(row: Row) -> bool:
    tls = row[1]
    return tls is not None and tls.server_version_code is not None


def endpoints(row: Row) -> tuple[str, int, str, int]:
    conn = row[0]
    return canonical_endpoints(conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p)


UDP_APP_PROTOS = ("quic", "dtls")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tcp_connections_with_hellos_match_tshark(case: TsharkCase) -> None:
    checks = plan(case.key, case.oracle)
    run = run_capture(case.key.trace)
    run.check_crash()
    tcp_rows = [r for r in run.rows if r[0].app_proto not in UDP_APP_PROTOS]  # UDP: tests/quic/test_tshark_counts
    with_ch = [r for r in tcp_rows if has_client_hello(r)]
    with_sh = [r for r in tcp_rows if has_server_hello(r)]
    actual = {"client_hello": len(with_ch), "server_hello": len(with_sh)}
    if actual != case.oracle:
        tshark_ch = {canonical_endpoints(*case.streams.endpoints[s])
                     for s in case.streams.streams_with_client_hello()}
        print(f"tshark messages {case.message_counts}; capture error: {run.error}")
        print(f"ClientHello only in tshark: {sorted(tshark_ch - {endpoints(r) for r in with_ch})}")
        print(f"ClientHello only in tlsmon: {sorted({endpoints(r) for r in with_ch} - tshark_ch)}")
    settle(case.key, checks, actual)
