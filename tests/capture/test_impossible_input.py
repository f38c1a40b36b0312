"""Issue 8's capture points, for both readers: impossible timestamps, an unsupported pcapng interface, a
corrupt pcap file header, and libpcap's errors as clean text.

The captures come from fixtures/make_damaged_captures.py (the frames of pcaps/tls13-basic.pcap, damaged in
one place each); the timestamp rule's edge cases use the byte-exact builders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.capture.builders import epb, frame_of, idb, pcap_bytes, shb, write
from tests.capture.readers import FIXTURE_PCAPS, READERS, Reader, read_all
from tlsmon.capture import CaptureError
from tlsmon.capture.live import LiveSource

DAMAGED = FIXTURE_PCAPS / "damaged"
EXPECTED = json.loads((DAMAGED / "EXPECTED.json").read_text())
BASIC = read_all(READERS["python"], [FIXTURE_PCAPS / "tls13-basic.pcap"]).frames
TWENTY_YEARS_NS = 20 * 31_557_600 * 1_000_000_000
SECOND = 1_000_000_000

readers = pytest.mark.parametrize("reader", list(READERS.values()), ids=list(READERS))


def zero_counters(**nonzero: int) -> dict[str, int]:
    counters = {
        "capture.bad_timestamp": 0,
        "capture.unsupported_interface_packets": 0,
        "capture.damaged_files": 0,
    }
    counters.update({f"capture.{name}": value for name, value in nonzero.items()})
    return counters


@readers
def test_timestamps_past_2262_are_counted_and_take_the_timestamp_before_them(reader: Reader) -> None:
    got = read_all(reader, [DAMAGED / "timestamp-past-2262.pcapng"])
    assert EXPECTED["timestamp-past-2262.pcapng"]["bad_packets"] == [2, 4]
    expected = [ts for ts, _, _ in BASIC]
    expected[2], expected[4] = expected[1], expected[3]
    assert [f[0] for f in got.frames] == expected
    assert [f[2] for f in got.frames] == [f[2] for f in BASIC]
    assert got.counters == zero_counters(bad_timestamp=2)
    assert got.warnings == []


@readers
def test_a_jump_of_decades_is_counted_and_takes_the_timestamp_before_it(reader: Reader) -> None:
    got = read_all(reader, [DAMAGED / "timestamp-jump.pcap"])
    expected = [ts for ts, _, _ in BASIC]
    expected[3] = expected[2]
    assert [f[0] for f in got.frames] == expected
    assert got.counters == zero_counters(bad_timestamp=1)


@readers
def test_a_real_clock_step_replaces_only_its_first_packet(reader: Reader, tmp_path: Path) -> None:
    # a device that starts at the epoch and then learns the time: 1970, 1970, 2023, 2023
    records = [
        (1, 0, frame_of(1)),
        (2, 0, frame_of(2)),
        (1_700_000_000, 0, frame_of(3)),
        (1_700_000_001, 0, frame_of(4)),
    ]
    got = read_all(reader, [write(tmp_path / "step.pcap", pcap_bytes(records))])
    assert [f[0] for f in got.frames] == [SECOND, 2 * SECOND, 2 * SECOND, 1_700_000_001 * SECOND]
    assert got.counters["capture.bad_timestamp"] == 1


@readers
def test_a_packet_after_a_corrupt_earlier_timestamp_is_not_a_jump(reader: Reader, tmp_path: Path) -> None:
    # suricata-verify bug-1450's pattern: 2015, then a corrupt 1994, then 2015 again
    records = [(1_429_518_024, 0, frame_of(1)), (761_195_582, 0, frame_of(2)), (1_429_518_025, 0, frame_of(3))]
    got = read_all(reader, [write(tmp_path / "back.pcap", pcap_bytes(records))])
    assert [f[0] // SECOND for f in got.frames] == [1_429_518_024, 761_195_582, 1_429_518_025]
    assert got.counters["capture.bad_timestamp"] == 0


@readers
def test_a_files_first_packet_is_only_checked_for_representability(reader: Reader, tmp_path: Path) -> None:
    # the jump rule compares within a file: a later file may start decades after the previous one
    old = write(tmp_path / "old.pcap", pcap_bytes([(1, 0, frame_of(1))]))
    new = write(tmp_path / "new.pcap", pcap_bytes([(1_700_000_000, 0, frame_of(2))]))
    got = read_all(reader, [old, new])
    assert [f[0] for f in got.frames] == [SECOND, 1_700_000_000 * SECOND]
    assert got.counters["capture.bad_timestamp"] == 0


@readers
def test_a_first_timestamp_past_2262_takes_the_previous_files_last(reader: Reader, tmp_path: Path) -> None:
    first = write(tmp_path / "a.pcap", pcap_bytes([(5, 0, frame_of(1))]))
    second = write(tmp_path / "b.pcapng", shb() + idb(1, tsresol=9) + epb(0, 2**64 - 1, frame_of(2)))
    got = read_all(reader, [first, second])
    assert [f[0] for f in got.frames] == [5 * SECOND, 5 * SECOND]
    assert got.counters["capture.bad_timestamp"] == 1


@readers
def test_a_timestamp_just_before_2262_is_kept(reader: Reader, tmp_path: Path) -> None:
    path = write(tmp_path / "edge.pcapng", shb() + idb(1, tsresol=9) + epb(0, 2**63 - 1, frame_of(1)))
    got = read_all(reader, [path])
    assert got.frames == [(2**63 - 1, 1, frame_of(1))]
    assert got.counters["capture.bad_timestamp"] == 0


@readers
def test_an_unsupported_interface_is_skipped_with_one_warning_and_a_counter(reader: Reader) -> None:
    path = DAMAGED / "unsupported-interface.pcapng"
    got = read_all(reader, [path])
    assert [f[2] for f in got.frames] == [f[2] for f in BASIC]
    assert {f[1] for f in got.frames} == {1}
    assert got.warnings == [f"{path}: packets of interface 1 skipped (unsupported link type 105 (IEEE802_11))"]
    assert got.counters == zero_counters(
        unsupported_interface_packets=EXPECTED["unsupported-interface.pcapng"]["skipped_packets"]
    )
    assert got.error is None


@readers
def test_garbage_after_a_pcap_magic_is_a_corrupt_header(reader: Reader) -> None:
    path = DAMAGED / "corrupt-header.pcap"
    got = read_all(reader, [path, FIXTURE_PCAPS / "tls13-basic.pcap"])
    assert EXPECTED["corrupt-header.pcap"]["linktype_field"] == 61151
    assert got.warnings == [
        f"{path}: corrupt file header at byte 0 (version 44510.61374) after 0 packets; rest of file skipped"
    ]
    assert got.error is None
    assert got.frames == BASIC  # the next file is read
    assert got.counters == zero_counters(damaged_files=1)


@readers
def test_a_real_unsupported_link_type_is_still_named(reader: Reader, tmp_path: Path) -> None:
    path = write(tmp_path / "wifi.pcap", pcap_bytes([(1, 0, frame_of(1))], linktype=105))
    assert read_all(reader, [path]).error == f"{path}: unsupported link type 105 (IEEE802_11)"


def test_a_libpcap_error_is_clean_text() -> None:
    with pytest.raises(CaptureError) as info:
        LiveSource("nosuch0")
    assert str(info.value) == "nosuch0: cannot capture (No such device exists)"


@readers
def test_an_invalid_bpf_filter_is_libpcaps_text(reader: Reader) -> None:
    path = FIXTURE_PCAPS / "tls13-basic.pcap"
    got = read_all(reader, [path], bpf="tcp portx 443")
    assert got.error == (
        f"{path}: invalid BPF filter 'tcp portx 443' for link type 1 (ETHERNET): "
        "can't parse filter expression: syntax error"
    )
    assert got.frames == []
