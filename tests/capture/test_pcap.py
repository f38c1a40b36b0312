"""Classic pcap: both byte orders, µs and ns timestamps, chunk boundaries, damage and bad files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.capture.builders import frame_of, pcap_bytes, write
from tlsmon.capture import CaptureError, CaptureSource
from tlsmon.capture import stream as stream_module

RECORDS = [(1_700_000_000, 123_456, frame_of(1)), (1_700_000_001, 999_999, frame_of(2, 74))]


def read(path: str) -> tuple[list[tuple[int, int, bytes]], CaptureSource]:
    source = CaptureSource([path])
    return list(source), source


@pytest.mark.parametrize("order", ["<", ">"])
def test_microsecond_timestamps_become_exact_nanoseconds(tmp_path: Path, order: str) -> None:
    frames, _ = read(write(tmp_path / "a.pcap", pcap_bytes(RECORDS, order=order)))
    assert frames == [
        (1_700_000_000_123_456_000, 1, frame_of(1)),
        (1_700_000_001_999_999_000, 1, frame_of(2, 74)),
    ]


@pytest.mark.parametrize("order", ["<", ">"])
def test_nanosecond_timestamps_are_kept_exact(tmp_path: Path, order: str) -> None:
    records = [(1_700_000_000, 123_456_789, frame_of(1))]
    frames, _ = read(write(tmp_path / "a.pcap", pcap_bytes(records, order=order, nano=True)))
    assert frames == [(1_700_000_000_123_456_789, 1, frame_of(1))]


def test_linktype_comes_from_the_file_header(tmp_path: Path) -> None:
    frames, _ = read(write(tmp_path / "a.pcap", pcap_bytes(RECORDS[:1], linktype=113)))
    assert frames[0][1] == 113


def test_fcs_bits_above_the_linktype_are_ignored(tmp_path: Path) -> None:
    network = (4 << 28) | (1 << 27) | 1  # FCS length 4, F bit set, LINKTYPE_ETHERNET
    frames, _ = read(write(tmp_path / "a.pcap", pcap_bytes(RECORDS[:1], linktype=network)))
    assert frames[0][1] == 1


def test_kuznetzov_variant_has_24_byte_record_headers(tmp_path: Path) -> None:
    header = struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)
    record = struct.pack("<IIII", 10, 5, 60, 60) + struct.pack("<iHBx", 2, 0x0800, 0) + frame_of(7)
    frames, _ = read(write(tmp_path / "k.pcap", header + record))
    assert frames == [(10_000_005_000, 1, frame_of(7))]


def test_empty_capture_has_no_frames_and_no_warning(tmp_path: Path) -> None:
    frames, source = read(write(tmp_path / "a.pcap", pcap_bytes([])))
    assert frames == []
    assert source.warnings == []


def test_records_split_across_chunks_are_joined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "CHUNK_SIZE", 7)
    records = [(i, i, frame_of(i, 50 + i)) for i in range(20)]
    frames, source = read(write(tmp_path / "a.pcap", pcap_bytes(records)))
    assert frames == [(i * 1_000_000_000 + i * 1000, 1, frame_of(i, 50 + i)) for i in range(20)]
    assert source.warnings == []


def test_truncated_last_record_keeps_earlier_frames_and_warns(tmp_path: Path) -> None:
    data = pcap_bytes(RECORDS)[:-10]
    path = write(tmp_path / "z.pcap", data)
    frames, source = read(path)
    assert frames == [(1_700_000_000_123_456_000, 1, frame_of(1))]
    offset = 24 + 16 + 60
    assert source.warnings == [
        f"{path}: truncated record at byte {offset} after 1 packets; rest of file skipped"
    ]


def test_truncated_record_header_warns(tmp_path: Path) -> None:
    path = write(tmp_path / "z.pcap", pcap_bytes(RECORDS[:1]) + b"\x01\x02\x03")
    frames, source = read(path)
    assert len(frames) == 1
    assert source.warnings == [f"{path}: truncated record at byte 100 after 1 packets; rest of file skipped"]


def test_truncated_file_header_warns(tmp_path: Path) -> None:
    path = write(tmp_path / "z.pcap", pcap_bytes([])[:10])
    frames, source = read(path)
    assert frames == []
    assert source.warnings == [
        f"{path}: truncated file header at byte 0 after 0 packets; rest of file skipped"
    ]


def test_implausible_captured_length_is_corruption(tmp_path: Path) -> None:
    bogus = struct.pack("<IIII", 1, 2, 0x00420000, 60) + frame_of(9)
    path = write(tmp_path / "c.pcap", pcap_bytes(RECORDS[:1]) + bogus + frame_of(3))
    frames, source = read(path)
    assert len(frames) == 1
    assert source.warnings == [
        f"{path}: corrupt record at byte 100 (captured length 4325376 > 262144) after 1 packets; "
        "rest of file skipped"
    ]


def test_unsupported_link_type_is_an_error_naming_file_and_type(tmp_path: Path) -> None:
    path = write(tmp_path / "y.pcap", pcap_bytes(RECORDS, linktype=105))
    with pytest.raises(CaptureError) as info:
        read(path)
    assert str(info.value) == f"{path}: unsupported link type 105 (IEEE802_11)"


def test_html_file_is_not_a_capture(tmp_path: Path) -> None:
    path = write(tmp_path / "x.pcap", b"<html><body>no</body></html>")
    with pytest.raises(CaptureError) as info:
        read(path)
    assert str(info.value) == f"{path}: not a capture file (magic 0x3c68746d)"


def test_empty_file_is_not_a_capture(tmp_path: Path) -> None:
    path = write(tmp_path / "e.pcap", b"")
    with pytest.raises(CaptureError) as info:
        read(path)
    assert str(info.value) == f"{path}: not a capture file (empty)"


def test_missing_file_fails_when_the_source_is_built(tmp_path: Path) -> None:
    path = tmp_path / "missing.pcap"
    with pytest.raises(CaptureError) as info:
        CaptureSource([path])
    assert str(info.value) == f"{path}: No such file or directory"
