"""Real captures from the shared corpus: frame counts agree with capinfos (``.tshark.tsv`` headers)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tlsmon.capture import CaptureSource

CORPUS = (Path(__file__).resolve().parents[2] / "../shared/corpus").resolve()
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")

# one capture per file format / link type found in the corpus
CAPTURES = [
    "ja4/pcap/latest.pcapng",  # pcapng, Ethernet
    "ja4/pcap/badcurveball.pcap",  # pcap, Ethernet
    "zeek/Traces/tls/irc-starttls.pcap",  # Linux SLL
    "zeek/Traces/tls/openjdk-25.0.2-zeek.org.pcap",  # Linux SLL2
    "suricata-verify/tests/tls-duplicate-hello/input.pcap",  # BSD NULL
    "suricata-verify/tests/bug-5881-01/input.pcap",  # raw IP
    "suricata-verify/tests/linktype-228/flow-test-01.pcap",  # LINKTYPE_IPV4
]


def capinfos_packets(capture: Path) -> int:
    header = Path(f"{capture}.tshark.tsv").read_text(errors="replace")
    match = re.search(r"^# capinfos: .*\bpackets=(\d+)", header, re.MULTILINE)
    assert match is not None
    return int(match.group(1))


@pytest.mark.parametrize("name", CAPTURES)
def test_frame_count_matches_capinfos(name: str) -> None:
    capture = CORPUS / name
    source = CaptureSource([capture])
    frames = sum(1 for _ in source)
    assert frames == source.packets == capinfos_packets(capture)
    assert source.warnings == []


def test_damaged_corpus_file_stops_where_capinfos_does() -> None:
    capture = CORPUS / "suricata-verify/tests/bug-1450-04/tls_DER-incomplete-header.pcap"
    source = CaptureSource([capture])
    assert sum(1 for _ in source) == 6  # capinfos: "An error occurred after reading 6 packets"
    assert source.warnings == [
        f"{capture}: corrupt record at byte 5035 (captured length 4325376 > 262144) after 6 packets; "
        "rest of file skipped"
    ]
