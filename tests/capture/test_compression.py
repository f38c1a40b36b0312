"""gzip and zstd captures: found by magic bytes, several members/frames, truncated or corrupt streams."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import zstandard

from tests.capture.builders import epb, frame_of, idb, pcap_bytes, shb, write
from tlsmon.capture import CaptureError, CaptureSource

RECORDS = [(100 + i, i, frame_of(i, 60 + i)) for i in range(30)]
EXPECTED = [((100 + i) * 1_000_000_000 + i * 1000, 1, frame_of(i, 60 + i)) for i in range(30)]


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def read(path: str) -> tuple[list[tuple[int, int, bytes]], CaptureSource]:
    source = CaptureSource([path])
    return list(source), source


def test_gzip_pcap_is_detected_by_magic_not_name(tmp_path: Path) -> None:
    frames, source = read(write(tmp_path / "plain-name.pcap", gzip.compress(pcap_bytes(RECORDS))))
    assert frames == EXPECTED
    assert source.warnings == []


def test_zstd_pcapng_is_read(tmp_path: Path) -> None:
    data = shb() + idb(1, tsresol=9) + epb(0, 5, frame_of(1)) + epb(0, 6, frame_of(2))
    frames, _ = read(write(tmp_path / "a.pcapng.zst", zstd(data)))
    assert frames == [(5, 1, frame_of(1)), (6, 1, frame_of(2))]


def test_gzip_members_are_read_one_after_another(tmp_path: Path) -> None:
    data = pcap_bytes(RECORDS)
    frames, _ = read(write(tmp_path / "a.gz", gzip.compress(data[:1000]) + gzip.compress(data[1000:])))
    assert frames == EXPECTED


def test_zstd_frames_are_read_one_after_another(tmp_path: Path) -> None:
    data = pcap_bytes(RECORDS)
    frames, _ = read(write(tmp_path / "a.zst", zstd(data[:1000]) + zstd(data[1000:])))
    assert frames == EXPECTED


def test_bytes_read_counts_compressed_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "a.gz", gzip.compress(pcap_bytes(RECORDS)))
    _, source = read(path)
    assert source.bytes_read == source.total_bytes == Path(path).stat().st_size


def test_gzip_without_its_trailer_warns_after_all_frames(tmp_path: Path) -> None:
    compressed = gzip.compress(pcap_bytes(RECORDS))[:-8]  # CRC32 and ISIZE missing
    path = write(tmp_path / "t.pcap.gz", compressed)
    frames, source = read(path)
    assert frames == EXPECTED
    assert source.warnings == [
        f"{path}: truncated gzip stream at compressed byte {len(compressed)} after 30 packets; "
        "rest of file skipped"
    ]


def test_truncated_zstd_stream_keeps_complete_frames_and_warns(tmp_path: Path) -> None:
    data = pcap_bytes(RECORDS)
    first = 24 + sum(16 + len(r[2]) for r in RECORDS[:10])
    compressed = zstd(data[:first]) + zstd(data[first:])[:-20]
    path = write(tmp_path / "t.pcap.zst", compressed)
    frames, source = read(path)
    assert frames == EXPECTED[:10]
    assert source.warnings == [
        f"{path}: truncated zstd stream at compressed byte {len(compressed)} after 10 packets; "
        "rest of file skipped"
    ]


def test_corrupt_gzip_data_warns(tmp_path: Path) -> None:
    good = gzip.compress(pcap_bytes(RECORDS))
    path = write(tmp_path / "c.gz", good + b"\x1f\x8b\x08\x00garbage-that-is-not-deflate" * 3)
    frames, source = read(path)
    assert frames == EXPECTED
    assert len(source.warnings) == 1
    assert source.warnings[0].startswith(f"{path}: corrupt gzip data near compressed byte ")
    assert source.warnings[0].endswith(" after 30 packets; rest of file skipped")


def test_compressed_non_capture_is_not_a_capture(tmp_path: Path) -> None:
    path = write(tmp_path / "x.gz", gzip.compress(b"<html></html>"))
    with pytest.raises(CaptureError) as info:
        read(path)
    assert str(info.value) == f"{path}: not a capture file (gzip-compressed, magic 0x3c68746d)"
