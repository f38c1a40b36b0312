"""CaptureSource: several files as one stream, counters, warnings, and the BPF filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from tests.capture.builders import epb, frame_of, idb, pcap_bytes, shb, write
from tlsmon.capture import CaptureError, CaptureSource

HTTPS = bytes(Ether() / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=50000, dport=443))
HTTP = bytes(Ether() / IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=50000, dport=80))
DNS = bytes(Ether() / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5353, dport=53))
RAW_HTTPS6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=50000, dport=443))


def test_several_files_are_one_stream_in_the_order_given(tmp_path: Path) -> None:
    a = write(tmp_path / "a.pcap", pcap_bytes([(1, 0, frame_of(1)), (2, 0, frame_of(2))]))
    b = write(tmp_path / "b.pcapng", shb() + idb(101, tsresol=9) + epb(0, 3, frame_of(3)))
    source = CaptureSource([a, Path(b)])
    assert list(source) == [
        (1_000_000_000, 1, frame_of(1)),
        (2_000_000_000, 1, frame_of(2)),
        (3, 101, frame_of(3)),
    ]
    assert source.packets == 3
    assert source.total_bytes == Path(a).stat().st_size + Path(b).stat().st_size
    assert source.bytes_read == source.total_bytes


def test_a_damaged_file_warns_and_the_next_file_is_read(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.pcap", pcap_bytes([(1, 0, frame_of(1)), (2, 0, frame_of(2))])[:-5])
    good = write(tmp_path / "good.pcap", pcap_bytes([(3, 0, frame_of(3))]))
    heard: list[str] = []
    source = CaptureSource([bad, good], on_warning=heard.append)
    assert [f[2] for f in source] == [frame_of(1), frame_of(3)]
    expected = f"{bad}: truncated record at byte 100 after 1 packets; rest of file skipped"
    assert source.warnings == heard == [expected]


def test_an_unreadable_second_file_raises_after_the_first_files_frames(tmp_path: Path) -> None:
    good = write(tmp_path / "good.pcap", pcap_bytes([(1, 0, frame_of(1))]))
    bad = write(tmp_path / "notes.txt", b"hello world\n")
    got: list[tuple[int, int, bytes]] = []
    with pytest.raises(CaptureError) as info:
        got.extend(CaptureSource([good, bad]))
    assert got == [(1_000_000_000, 1, frame_of(1))]
    assert str(info.value) == f"{bad}: not a capture file (magic 0x68656c6c)"


def test_bpf_filter_keeps_matching_frames_and_counts_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path / "mix.pcap", pcap_bytes([(1, 0, HTTPS), (2, 0, HTTP), (3, 0, DNS), (4, 0, HTTPS)]))
    source = CaptureSource([path], bpf="tcp port 443")
    assert [f[0] for f in source] == [1_000_000_000, 4_000_000_000]
    assert source.packets == 4
    assert source.filtered_out == 2


def test_bpf_filter_is_compiled_for_each_link_type(tmp_path: Path) -> None:
    data = shb() + idb(1) + idb(101) + epb(0, 1, HTTPS) + epb(1, 2, RAW_HTTPS6) + epb(0, 3, DNS)
    source = CaptureSource([write(tmp_path / "two.pcapng", data)], bpf="tcp port 443")
    assert [(f[0], f[1]) for f in source] == [(1000, 1), (2000, 101)]
    assert source.filtered_out == 1


def test_invalid_bpf_filter_raises_with_libpcaps_reason(tmp_path: Path) -> None:
    path = write(tmp_path / "a.pcap", pcap_bytes([(1, 0, HTTPS)]))
    with pytest.raises(CaptureError) as info:
        list(CaptureSource([path], bpf="tcp portx 443"))
    assert str(info.value) == (
        f"{path}: invalid BPF filter 'tcp portx 443' for link type 1 (ETHERNET): "
        "can't parse filter expression: syntax error"
    )


def test_bpf_filter_invalid_for_one_link_type_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "sll2.pcap", pcap_bytes([(1, 0, b"\0" * 40)], linktype=276))
    with pytest.raises(CaptureError) as info:
        list(CaptureSource([path], bpf="vlan and tcp"))
    assert str(info.value) == (
        f"{path}: invalid BPF filter 'vlan and tcp' for link type 276 (LINUX_SLL2): "
        "no VLAN support for Linux cooked v2"
    )
