"""The dataset a local batch writes: layout, content equal to ``read``, idempotent reruns, replaced inputs.

Every test runs ``tlsmon batch`` in-process on the local process pool over small fixture captures.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.batch.helpers import (
    SAMPLE,
    TLS13,
    TRUNCATED,
    batch,
    files,
    manifest,
    parts,
    read,
    read_whole,
    sort_rows,
)
from tlsmon import __version__
from tlsmon.batch.executors import DaskExecutor, SchedulerError
from tlsmon.batch.inputs import identify
from tlsmon.batch.runner import BatchOptions, dataset_lock, run_batch
from tlsmon.records.tables import SCHEMA_VERSION


def test_each_input_becomes_parts_named_by_its_id_under_sensor_and_date(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    assert batch(SAMPLE, TLS13, "-o", ds, "--sensor", "tap1", "--workers", "2") == 0
    sample, tls13 = identify(str(SAMPLE)).input_id, identify(str(TLS13)).input_id
    day = "connections/sensor=tap1/date=2023-11-14"
    assert parts(ds, "connections") == sorted([f"{day}/part-{sample}.parquet", f"{day}/part-{tls13}.parquet"])
    assert parts(ds, "certificates") == [f"certificates/sensor=tap1/date=2023-11-14/part-{sample}.parquet"]
    assert parts(ds, "stats") == sorted(f"stats/sensor=tap1/date=2023-11-14/part-{i}.parquet" for i in (sample, tls13))


def test_the_rows_are_those_read_makes_of_each_file(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    assert batch(SAMPLE, TLS13, "-o", ds, "--workers", "2") == 0
    expected = read_whole(SAMPLE, TLS13)
    assert sort_rows(read(ds, "connections")) == sort_rows(expected["connections"])
    by_fingerprint = ("fingerprint",)
    assert sort_rows(read(ds, "certificates"), by_fingerprint) == sort_rows(expected["certificates"], by_fingerprint)


def test_one_input_across_midnight_has_a_part_in_each_utc_date(tmp_path: Path, midnight: Path) -> None:
    ds = tmp_path / "ds"
    assert batch(midnight, "-o", ds, "--workers", "1") == 0
    input_id = identify(str(midnight)).input_id
    before = ds / "connections/sensor=default/date=2024-04-30" / f"part-{input_id}.parquet"
    after = ds / "connections/sensor=default/date=2024-05-01" / f"part-{input_id}.parquet"
    assert [pq.read_metadata(p).num_rows for p in (before, after)] == [12, 7]
    assert {r["ts_start"].date().isoformat() for r in pq.read_table(before).to_pylist()} == {"2024-04-30"}
    assert {r["ts_start"].date().isoformat() for r in pq.read_table(after).to_pylist()} == {"2024-05-01"}
    # the stats row of the input goes to the date of its first connection
    assert parts(ds, "stats") == [f"stats/sensor=default/date=2024-04-30/part-{input_id}.parquet"]


def test_a_rerun_rewrites_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    assert batch(SAMPLE, TLS13, "-o", ds, "--workers", "2") == 0
    before = files(ds)
    assert batch(SAMPLE, TLS13, "-o", ds, "--workers", "2") == 0
    assert files(ds) == before
    assert read(ds, "connections").num_rows == 20


def test_a_changed_input_replaces_its_own_parts(tmp_path: Path) -> None:
    capture = tmp_path / "in" / "rotating.pcap"
    capture.parent.mkdir()
    shutil.copy(SAMPLE, capture)
    other = tmp_path / "in" / "other.pcap"
    shutil.copy(TLS13, other)
    ds = tmp_path / "ds"
    assert batch(capture.parent, "-o", ds, "--workers", "2") == 0
    old_id = identify(str(capture)).input_id
    other_parts = [p for p in parts(ds, "connections") if old_id not in p]
    shutil.copy(TLS13, capture)
    st = capture.stat()
    os.utime(capture, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    new_id = identify(str(capture)).input_id
    assert batch(capture.parent, "-o", ds, "--workers", "2") == 0
    assert not any(old_id in p for t in ("connections", "certificates", "stats") for p in parts(ds, t))
    assert [p for p in parts(ds, "connections") if new_id not in p] == other_parts
    assert read(ds, "connections").num_rows == 2
    row = manifest(ds)[str(capture)]
    assert (row.input_id, row.state, row.connections) == (new_id, "done", 1)


def test_a_bad_input_is_recorded_failed_with_its_reason_and_the_batch_goes_on(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a capture\n")
    ds = tmp_path / "ds"
    assert batch(bad, SAMPLE, "-o", ds, "--workers", "2") == 1
    rows = manifest(ds)
    assert (rows[str(bad)].state, rows[str(bad)].reason, rows[str(bad)].parts) == (
        "failed", f"{bad}: not a capture file (magic 0x6e6f7420)", [])
    assert rows[str(SAMPLE)].state == "done"
    assert read(ds, "connections").num_rows == 19


def test_a_damaged_input_is_done_with_its_warning_and_exit_status_3(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    assert batch(TRUNCATED, "-o", ds, "--workers", "1") == 3
    row = manifest(ds)[str(TRUNCATED)]
    assert row.state == "done"
    assert row.warnings == [f"{TRUNCATED}: truncated record at byte 3232 after 10 packets; rest of file skipped"]


def test_the_manifest_row_says_what_the_input_became(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    assert batch(SAMPLE, "-o", ds, "--workers", "1") == 0
    found = identify(str(SAMPLE))
    row = manifest(ds)[str(SAMPLE)]
    assert (row.input_id, row.identity, row.size, row.mtime, row.sensor) == (
        found.input_id, "stat", SAMPLE.stat().st_size, found.mtime_ns, "default")
    assert (row.state, row.reason, row.warnings) == ("done", "", [])
    assert row.parts == sorted(parts(ds, "connections") + parts(ds, "certificates") + parts(ds, "stats"))
    assert (row.connections, row.certificates, row.stats, row.packets) == (19, 4, 1, 276)
    assert (row.tlsmon_version, row.schema_version) == (__version__, SCHEMA_VERSION)
    assert row.duration_s > 0
    assert row.first_ts == 1_700_000_000_000_000_000


def test_inputs_older_than_since_are_recorded_skipped_once(tmp_path: Path) -> None:
    old = tmp_path / "old.pcap"
    shutil.copy(SAMPLE, old)
    os.utime(old, (1_700_000_000, 1_700_000_000))  # 2023-11-14
    ds = tmp_path / "ds"
    assert batch(old, "-o", ds, "--since", "2024-01-01") == 0
    row = manifest(ds)[str(old)]
    assert (row.state, row.reason, row.parts) == ("skipped", "modified before 2024-01-01", [])
    before = files(ds)
    assert batch(old, "-o", ds, "--since", "2024-01-01") == 0
    assert files(ds) == before
    assert not (ds / "connections").exists()


def test_with_hash_a_copy_of_a_converted_input_is_skipped_as_the_same_content(tmp_path: Path) -> None:
    copy = tmp_path / "copy.pcap"
    shutil.copy(SAMPLE, copy)
    ds = tmp_path / "ds"
    assert batch(SAMPLE, "-o", ds, "--hash") == 0
    assert batch(copy, "-o", ds, "--hash") == 0
    row = manifest(ds)[str(copy)]
    assert (row.state, row.reason) == ("skipped", f"same content as {SAMPLE}")
    assert read(ds, "connections").num_rows == 19


@pytest.mark.parametrize("table", ["connections", "certificates", "stats"])
def test_parts_carry_versions_and_their_input_id(tmp_path: Path, table: str) -> None:
    ds = tmp_path / "ds"
    assert batch(SAMPLE, "-o", ds, "--workers", "1", "--sensor", "s9") == 0
    (part,) = (ds / table).rglob("*.parquet")
    meta = pq.read_schema(part).metadata
    assert meta[b"input_id"].decode() == identify(str(SAMPLE)).input_id
    assert (meta[b"tlsmon_version"].decode(), meta[b"schema_version"].decode()) == (__version__, SCHEMA_VERSION)
    assert (meta[b"sensor"], meta[b"table"].decode()) == (b"s9", table)


def test_a_second_batch_on_a_busy_dataset_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = tmp_path / "ds"
    with dataset_lock(ds.resolve()):
        assert batch(SAMPLE, "-o", ds) == 1
    busy = "another tlsmon batch or compaction is working on it"
    assert capsys.readouterr().err == f"tlsmon batch: {ds.resolve()}: {busy}\n"
    assert not (ds / "connections").exists()


def test_an_unreachable_scheduler_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    options = BatchOptions([str(SAMPLE)], tmp_path / "ds", scheduler=address)
    with pytest.raises(SchedulerError) as caught:
        run_batch(options, executor=DaskExecutor(address, connect_timeout_s=1.0))
    assert str(caught.value).startswith(f"{address}: cannot reach the Dask scheduler (")
    assert "\n" not in str(caught.value)
