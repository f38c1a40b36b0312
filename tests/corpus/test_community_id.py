"""Community ID v1 agrees with Suricata's on the suricata-verify community-id tests (IPv4 and IPv6).

Those tests run Suricata with ``community-id-seed: 7``; the ``community_id`` column uses the default seed 0,
so the function is checked with seed 7 on each row's endpoints (either orientation), and the column with the
same function at seed 0.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from tests.corpus.location import CORPUS, requires_corpus
from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink
from tlsmon.records.conn import community_id

SURICATA_SEED = 7
CASES = ["community-id-ipv4", "community-id-ipv6"]


def _addr(text: str) -> int | bytes:
    ip = ipaddress.ip_address(text)
    return int(ip) if ip.version == 4 else ip.packed


def _expected(test: Path) -> dict[tuple[str, int, str, int], str]:
    """(src, sport, dst, dport) → community_id of every tls event the test expects."""
    out = {}
    for check in yaml.safe_load((test / "test.yaml").read_text())["checks"]:
        match = check.get("filter", {}).get("match", {})
        if match.get("event_type") == "tls" and "community_id" in match:
            src, dst = str(ipaddress.ip_address(match["src_ip"])), str(ipaddress.ip_address(match["dest_ip"]))
            out[(src, int(match["src_port"]), dst, int(match["dest_port"]))] = match["community_id"]
    return out


@requires_corpus
@pytest.mark.parametrize("case", CASES)
def test_community_id_matches_suricata(case: str) -> None:
    test = CORPUS / "suricata-verify" / "tests" / case
    expected = _expected(test)
    assert expected
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([test / "input.pcap"]))
    engine.close()
    rows = {(c.orig_h, c.orig_p, c.resp_h, c.resp_p): c for c, _ in sink.rows}
    for (src, sport, dst, dport), value in expected.items():
        conn = rows.get((src, sport, dst, dport)) or rows[(dst, dport, src, sport)]
        ends = (_addr(conn.orig_h), conn.orig_p, _addr(conn.resp_h), conn.resp_p)
        assert community_id(*ends, seed=SURICATA_SEED) == value
        assert conn.community_id == community_id(*ends)
