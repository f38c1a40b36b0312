"""Several files in one CaptureSource are one continuous stream, and each connection keeps its own summary.

tls13-basic.pcap and tls12-ecdhe-rsa.pcap use the same addresses, ports, ISNs and timestamps; the first ends
with FIN before the second's SYN arrives, so the 4-tuple is reused by a new connection.
"""

from __future__ import annotations

from tests.e2e.captures import PCAPS, TLS12_BASE, TLS13_BASE, run
from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink


def _run(*names: str) -> MemorySink:
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([PCAPS / name for name in names]))
    engine.close()
    return sink


def test_reused_four_tuple_in_the_next_file_is_a_new_connection() -> None:
    sink = _run(TLS13_BASE, TLS12_BASE)
    assert [tls for _, tls in sink.rows] == [run(TLS13_BASE).rows[0][1], run(TLS12_BASE).rows[0][1]]


def test_same_file_twice_gives_two_rows_with_distinct_uids() -> None:
    sink = _run(TLS13_BASE, TLS13_BASE)
    (first, _), (second, _) = sink.rows
    assert first.uid != second.uid


def test_files_read_together_give_the_rows_of_each_file() -> None:
    sink = _run("sample.pcap", "tls12-client-cert.pcap")
    expected = [*run("sample.pcap").rows, *run("tls12-client-cert.pcap").rows]
    assert sorted(((c.orig_h, c.orig_p, c.resp_h, c.resp_p), t) for c, t in sink.rows) == sorted(
        ((c.orig_h, c.orig_p, c.resp_h, c.resp_p), t) for c, t in expected
    )


def test_uids_are_stable_for_the_same_files_in_the_same_order() -> None:
    uids = [[c.uid for c, _ in _run("sample.pcap", TLS13_BASE).rows] for _ in range(2)]
    assert uids[0] == uids[1]
