"""The native capture reader gives exactly what the Python one gives: frames, warnings, counters, errors.

Python's reader is the executable specification (issue 9): every capture of fixtures/pcaps/ and of the shared
corpus, alone and all in one source, with and without a BPF filter, and random damage to real files.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture.builders import epb, frame_of, idb, obsolete_pb, pcap_bytes, shb, spb
from tests.capture.readers import CORPUS, FIXTURE_PCAPS, READERS, ROOT, corpus_captures, fixture_captures, read_all

FIXTURES = fixture_captures()
CORPUS_FILES = corpus_captures()


def rel(path: Path) -> str:
    return str(path.relative_to(CORPUS if path.is_relative_to(CORPUS) else ROOT))


def assert_equal_readers(paths: list[Path], bpf: str | None = None) -> None:
    python = read_all(READERS["python"], paths, bpf)
    native = read_all(READERS["native"], paths, bpf)
    assert native.error == python.error
    assert native.warnings == python.warnings
    assert native.counters == python.counters
    assert native.packets == python.packets
    assert native.filtered_out == python.filtered_out
    assert (native.bytes_read, native.total_bytes) == (python.bytes_read, python.total_bytes)
    assert len(native.frames) == len(python.frames)
    assert native.frames == python.frames


def test_there_are_fixture_captures_of_every_format() -> None:
    names = {p.name for p in FIXTURES}
    assert {"tls13-basic.pcap", "tls13.pcapng", "tls13.pcap.gz", "tls13.pcap.zst", "tls13-ns.pcap"} <= names


@pytest.mark.parametrize("path", FIXTURES, ids=rel)
def test_fixture_capture_reads_the_same(path: Path) -> None:
    assert_equal_readers([path])


def test_all_fixture_captures_as_one_stream_read_the_same() -> None:
    assert_equal_readers(FIXTURES)


def test_bpf_filter_over_all_fixture_captures_reads_the_same() -> None:
    assert_equal_readers(FIXTURES, bpf="tcp port 443")


@pytest.mark.skipif(not CORPUS_FILES, reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=rel)
def test_corpus_capture_reads_the_same(path: Path) -> None:
    assert_equal_readers([path])


# Real files of every format, damaged at random: truncated, bytes overwritten, bytes inserted or removed,
# then (sometimes) compressed. The magic is kept in some examples so the readers get past it.
SEEDS = [
    p
    for p in FIXTURES
    if p.name
    in {
        "tls13-basic.pcap",
        "tls13.pcapng",
        "tls13-ns.pcap",
        "tls13.pcap.gz",
        "tls13.pcap.zst",
        "dpkt.pcapng",
        "scapy.pcapng",
        "sll2.pcap",
        "timestamp-past-2262.pcapng",
        "unsupported-interface.pcapng",
    }
]

edits = st.lists(
    st.tuples(st.sampled_from(["set", "insert", "delete"]), st.integers(0, 5000), st.binary(min_size=1, max_size=8)),
    max_size=4,
)


def damage(data: bytes, cut: int | None, changes: list[tuple[str, int, bytes]], keep_magic: bool) -> bytes:
    out = bytearray(data if cut is None else data[:cut])
    for kind, at, value in changes:
        pos = min(at, len(out))
        if keep_magic and pos < 4:
            pos = 4
        if kind == "set":
            out[pos : pos + len(value)] = value
        elif kind == "insert":
            out[pos:pos] = value
        else:
            del out[pos : pos + len(value)]
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.none() | st.integers(0, 5000),
    changes=edits,
    keep_magic=st.booleans(),
    pack=st.sampled_from([None, "gzip", "zstd"]),
    bpf=st.sampled_from([None, "tcp port 443"]),
)
def test_damaged_real_captures_read_the_same(
    seed: Path,
    cut: int | None,
    changes: list[tuple[str, int, bytes]],
    keep_magic: bool,
    pack: str | None,
    bpf: str | None,
) -> None:
    data = damage(seed.read_bytes(), cut, changes, keep_magic)
    if pack == "gzip":
        data = gzip.compress(data, mtime=0)
    elif pack == "zstd":
        data = zstandard.ZstdCompressor().compress(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.cap"
        path.write_bytes(data)
        second = Path(tmp) / "next.pcap"
        second.write_bytes((FIXTURE_PCAPS / "tls13-basic.pcap").read_bytes())
        assert_equal_readers([path, second], bpf)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.sampled_from([p for p in SEEDS if p.name.endswith((".gz", ".zst"))]),
    cut=st.none() | st.integers(0, 3000),
    changes=edits,
)
def test_damaged_compressed_streams_read_the_same(
    seed: Path, cut: int | None, changes: list[tuple[str, int, bytes]]
) -> None:
    data = damage(seed.read_bytes(), cut, changes, keep_magic=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.cap"
        path.write_bytes(data)
        assert_equal_readers([path])


def test_unreadable_inputs_give_the_same_errors(tmp_path: Path) -> None:
    (tmp_path / "dir.pcap").mkdir()
    (tmp_path / "empty.pcap").write_bytes(b"")
    (tmp_path / "short.pcap").write_bytes(b"\xd4\xc3")
    (tmp_path / "notes.txt").write_text("hello world\n")
    (tmp_path / "packed.gz").write_bytes(gzip.compress(b"hello world\n", mtime=0))
    for name in ["dir.pcap", "missing.pcap", "empty.pcap", "short.pcap", "notes.txt", "packed.gz"]:
        python = read_all(READERS["python"], [tmp_path / name])
        assert python.error is not None and python.error.startswith(f"{tmp_path / name}: ")
        assert read_all(READERS["native"], [tmp_path / name]) == python


# pcapng's timestamp arithmetic at its limits: any if_tsresol byte (10^-n and 2^-n, n up to 127), any
# if_tsoffset, any 64-bit unit count, several interfaces and sections in both byte orders, mixed with
# Simple and obsolete Packet Blocks.
interfaces = st.lists(
    st.tuples(
        st.sampled_from([1, 101, 113, 276, 105]),
        st.none() | st.integers(0, 255),
        st.none() | st.integers(-(2**63), 2**63 - 1),
    ),
    min_size=1,
    max_size=3,
)
packets = st.lists(
    st.tuples(st.sampled_from(["epb", "spb", "pb"]), st.integers(0, 3), st.integers(0, 2**64 - 1)), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(sections=st.lists(st.tuples(st.sampled_from(["<", ">"]), interfaces, packets), min_size=1, max_size=3))
def test_pcapng_timestamps_at_their_limits_read_the_same(
    sections: list[tuple[str, list[tuple[int, int | None, int | None]], list[tuple[str, int, int]]]],
) -> None:
    data = b""
    for order, ifaces, pkts in sections:
        data += shb(order)
        for linktype, tsresol, tsoffset in ifaces:
            data += idb(linktype, tsresol=tsresol, tsoffset=tsoffset, order=order)
        for n, (kind, ifid, units) in enumerate(pkts):
            frame = frame_of(n, 20 + n)
            if kind == "epb":
                data += epb(ifid % len(ifaces), units, frame, order)
            elif kind == "spb":
                data += spb(frame, order=order)
            else:
                data += obsolete_pb(ifid % len(ifaces), units, frame, order)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "limits.pcapng"
        path.write_bytes(data)
        assert_equal_readers([path])


@settings(max_examples=300, deadline=None)
@given(
    files=st.lists(
        st.tuples(
            st.sampled_from(["<", ">"]),
            st.booleans(),
            st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)), max_size=8),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_classic_pcap_timestamps_of_any_value_read_the_same(
    files: list[tuple[str, bool, list[tuple[int, int]]]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (order, nano, stamps) in enumerate(files):
            records = [(sec, frac, frame_of(n)) for n, (sec, frac) in enumerate(stamps)]
            paths.append(Path(tmp) / f"{i}.pcap")
            paths[-1].write_bytes(pcap_bytes(records, order=order, nano=nano))
        assert_equal_readers(paths)
