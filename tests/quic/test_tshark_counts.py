"""For every corpus capture where tshark dissected a QUIC or DTLS hello, tlsmon's UDP analyzers find a ClientHello
and a ServerHello on as many flows as tshark has streams with one (tshark counts messages, including resent
ones; flows are the comparable unit, as in tests/corpus/test_tshark_counts.py for TCP)."""

from __future__ import annotations

import pytest

from tests.corpus import tshark_tsv
from tests.corpus.location import CORPUS, requires_corpus
from tests.quic.udpcorpus import flows

pytestmark = requires_corpus

TSHARK_TRANSPORT = {"quic": "quic", "dtls": "udp"}


def _cases() -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    out = []
    for tsv in sorted(CORPUS.rglob("*.tshark.tsv")):
        summary = tshark_tsv.parse(tsv.read_text(errors="replace"))
        trace = tsv.relative_to(CORPUS).as_posix().removesuffix(".tshark.tsv")
        for transport, tshark_name in TSHARK_TRANSPORT.items():
            streams = tshark_tsv.hello_streams(summary, tshark_name)
            if streams.streams_with_client_hello() or streams.streams_with_server_hello():
                out.append((trace, transport))
    return out


CASES = _cases()


def _counts(trace: str, transport: str) -> tuple[dict[str, int], dict[str, int]]:
    text = (CORPUS / f"{trace}.tshark.tsv").read_text(errors="replace")
    streams = tshark_tsv.hello_streams(tshark_tsv.parse(text), TSHARK_TRANSPORT[transport])
    expected = {
        "client_hello": len(streams.streams_with_client_hello()),
        "server_hello": len(streams.streams_with_server_hello()),
    }
    ours = [f.analyzer.analyzer for f in flows(trace) if f.analyzer.transport == transport]
    actual = {
        "client_hello": sum(a is not None and a.tls.client_hello is not None for a in ours),
        "server_hello": sum(a is not None and a.tls.server_hello is not None for a in ours),
    }
    return expected, actual


@pytest.mark.parametrize(("trace", "transport"), CASES, ids=[f"{t}|{x}" for t, x in CASES])
def test_udp_flows_with_hellos_match_tshark(trace: str, transport: str) -> None:
    expected, actual = _counts(trace, transport)
    assert actual == expected


def test_the_corpus_has_quic_and_dtls_hellos_for_tshark() -> None:
    # 43 captures with QUIC hellos (JA4's mixed browser captures among them), 7 with DTLS hellos
    assert (sum(t == "quic" for _, t in CASES), sum(t == "dtls" for _, t in CASES)) == (43, 7)
