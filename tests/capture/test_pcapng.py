"""pcapng: interfaces with their own link types and clocks, all packet block kinds, sections, damage."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.capture.builders import block, epb, frame_of, idb, obsolete_pb, shb, spb, write
from tlsmon.capture import CaptureSource
from tlsmon.capture import stream as stream_module
from tlsmon.capture.pcapng import timestamp_scale


def read(path: str) -> tuple[list[tuple[int, int, bytes]], CaptureSource]:
    source = CaptureSource([path])
    return list(source), source


@pytest.mark.parametrize("order", ["<", ">"])
def test_default_resolution_is_microseconds(tmp_path: Path, order: str) -> None:
    data = shb(order) + idb(1, order=order) + epb(0, 1_700_000_000_123_456, frame_of(1), order)
    frames, _ = read(write(tmp_path / "a.pcapng", data))
    assert frames == [(1_700_000_000_123_456_000, 1, frame_of(1))]


def test_each_interface_has_its_own_link_type_and_resolution(tmp_path: Path) -> None:
    data = (
        shb()
        + idb(1, tsresol=9)  # nanoseconds
        + idb(101, tsresol=3)  # milliseconds
        + idb(113, tsresol=0x80 | 10)  # 2^-10 s
        + idb(276, tsresol=12)  # picoseconds
        + epb(0, 1_700_000_000_123_456_789, frame_of(1))
        + epb(1, 1_700_000_000_123, frame_of(2))
        + epb(2, 1_700_000_000 * 1024 + 512, frame_of(3))
        + epb(3, 5_123_456_789_999, frame_of(4))  # 64-bit ps only reach 1970 + 213 days
    )
    frames, _ = read(write(tmp_path / "multi.pcapng", data))
    assert frames == [
        (1_700_000_000_123_456_789, 1, frame_of(1)),
        (1_700_000_000_123_000_000, 101, frame_of(2)),
        (1_700_000_000_500_000_000, 113, frame_of(3)),
        (5_123_456_789, 276, frame_of(4)),
    ]


def test_power_of_two_resolution_rounds_down_to_the_nanosecond(tmp_path: Path) -> None:
    data = shb() + idb(1, tsresol=0x80 | 20) + epb(0, 3, frame_of(1))  # 3 * 2^-20 s = 2861.02… ns
    frames, _ = read(write(tmp_path / "a.pcapng", data))
    assert frames[0][0] == 2861


def test_tsoffset_adds_whole_seconds(tmp_path: Path) -> None:
    data = shb() + idb(1, tsresol=9, tsoffset=1_600_000_000) + epb(0, 5, frame_of(1))
    frames, _ = read(write(tmp_path / "a.pcapng", data))
    assert frames[0][0] == 1_600_000_000_000_000_005


def test_options_before_tsresol_are_stepped_over(tmp_path: Path) -> None:
    data = shb() + idb(1, tsresol=9, name=b"eth0-with-a-long-name") + epb(0, 42, frame_of(1))
    frames, _ = read(write(tmp_path / "a.pcapng", data))
    assert frames[0][0] == 42


def test_simple_packet_block_uses_interface_zero_its_snaplen_and_the_previous_time(tmp_path: Path) -> None:
    data = (
        shb()
        + idb(1, snaplen=64, tsresol=9)
        + spb(frame_of(5, 40))
        + epb(0, 7_000, frame_of(1))
        + spb(frame_of(2, 100), orig_len=100)
    )
    frames, _ = read(write(tmp_path / "spb.pcapng", data))
    assert frames == [(0, 1, frame_of(5, 40)), (7_000, 1, frame_of(1)), (7_000, 1, frame_of(2, 64))]


def test_obsolete_packet_block_is_read(tmp_path: Path) -> None:
    data = shb() + idb(1) + obsolete_pb(0, 1_000_001, frame_of(3))
    frames, _ = read(write(tmp_path / "pb.pcapng", data))
    assert frames == [(1_000_001_000, 1, frame_of(3))]


def test_unknown_blocks_are_skipped(tmp_path: Path) -> None:
    nrb = block(4, struct.pack("<HH", 0, 0))  # name resolution block, empty
    isb = block(5, struct.pack("<III", 0, 0, 0))  # interface statistics block
    custom = block(0x00000BAD, b"\x00\x00\x7e\x53vendor data")
    data = shb() + nrb + idb(1) + isb + epb(0, 1, frame_of(1)) + custom + epb(0, 2, frame_of(2))
    frames, source = read(write(tmp_path / "a.pcapng", data))
    assert [f[2] for f in frames] == [frame_of(1), frame_of(2)]
    assert source.warnings == []


def test_new_section_switches_byte_order_and_restarts_interfaces(tmp_path: Path) -> None:
    first = shb("<") + idb(1, tsresol=9) + idb(113) + epb(1, 10, frame_of(1)) + epb(0, 20, frame_of(2))
    second = shb(">") + idb(101, tsresol=9, order=">") + epb(0, 30, frame_of(3), order=">")
    frames, _ = read(write(tmp_path / "sections.pcapng", first + second))
    assert frames == [(10_000, 113, frame_of(1)), (20, 1, frame_of(2)), (30, 101, frame_of(3))]


def test_blocks_split_across_chunks_are_joined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "CHUNK_SIZE", 5)
    data = shb() + idb(1, tsresol=9) + b"".join(epb(0, i, frame_of(i, 50 + i)) for i in range(10))
    frames, source = read(write(tmp_path / "a.pcapng", data))
    assert frames == [(i, 1, frame_of(i, 50 + i)) for i in range(10)]
    assert source.warnings == []


def test_corrupt_block_mid_file_keeps_earlier_frames_and_warns(tmp_path: Path) -> None:
    head = shb() + idb(1) + epb(0, 1, frame_of(1))
    bad = bytearray(epb(0, 2, frame_of(2)))
    bad[-4:] = struct.pack("<I", 1234)  # trailing length disagrees with the leading one
    path = write(tmp_path / "c.pcapng", head + bytes(bad) + epb(0, 3, frame_of(3)))
    frames, source = read(path)
    assert [f[2] for f in frames] == [frame_of(1)]
    assert source.warnings == [
        f"{path}: corrupt block at byte {len(head)} (type 0x00000006, trailing length differs) "
        "after 1 packets; rest of file skipped"
    ]


def test_block_length_not_a_multiple_of_four_is_corruption(tmp_path: Path) -> None:
    head = shb() + idb(1)
    path = write(tmp_path / "c.pcapng", head + struct.pack("<II", 6, 45) + b"\0" * 40)
    frames, source = read(path)
    assert frames == []
    assert source.warnings == [
        f"{path}: corrupt block at byte {len(head)} (type 0x00000006, length 45) after 0 packets; "
        "rest of file skipped"
    ]


def test_packet_for_an_undefined_interface_is_corruption(tmp_path: Path) -> None:
    head = shb() + idb(1)
    path = write(tmp_path / "c.pcapng", head + epb(3, 1, frame_of(1)))
    _, source = read(path)
    assert source.warnings == [
        f"{path}: packet block at byte {len(head)} for undefined interface 3 after 0 packets; "
        "rest of file skipped"
    ]


def test_truncated_last_block_keeps_earlier_frames_and_warns(tmp_path: Path) -> None:
    head = shb() + idb(1) + epb(0, 1, frame_of(1))
    path = write(tmp_path / "t.pcapng", head + epb(0, 2, frame_of(2))[:50])
    frames, source = read(path)
    assert len(frames) == 1
    assert source.warnings == [
        f"{path}: truncated block at byte {len(head)} after 1 packets; rest of file skipped"
    ]


def test_packets_on_an_unsupported_interface_are_skipped_with_one_warning(tmp_path: Path) -> None:
    data = shb() + idb(1) + idb(105) + epb(0, 1, frame_of(1)) + epb(1, 2, frame_of(2)) + epb(1, 3, frame_of(3))
    path = write(tmp_path / "wifi.pcapng", data + epb(0, 4, frame_of(4)))
    frames, source = read(path)
    assert [f[2] for f in frames] == [frame_of(1), frame_of(4)]
    assert source.warnings == [f"{path}: packets of interface 1 skipped (unsupported link type 105 (IEEE802_11))"]
    assert source.counters["capture.unsupported_interface_packets"] == 2


def test_unsupported_interface_without_packets_is_harmless(tmp_path: Path) -> None:
    data = shb() + idb(105) + idb(1) + epb(1, 1, frame_of(1))
    frames, source = read(write(tmp_path / "a.pcapng", data))
    assert len(frames) == 1
    assert source.warnings == []


def test_unsupported_pcapng_major_version_warns(tmp_path: Path) -> None:
    path = write(tmp_path / "v2.pcapng", shb(major=2) + idb(1))
    _, source = read(path)
    assert source.warnings == [
        f"{path}: unsupported pcapng version 2.0 at byte 0 after 0 packets; rest of file skipped"
    ]


@pytest.mark.parametrize(
    ("tsresol", "scale"),
    [(6, (1000, 0, 1)), (9, (1, 0, 1)), (0, (10**9, 0, 1)), (12, (1, 0, 1000)), (0x80 | 10, (10**9, 10, 1))],
)
def test_timestamp_scale(tsresol: int, scale: tuple[int, int, int]) -> None:
    assert timestamp_scale(tsresol) == scale
