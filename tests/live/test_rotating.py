"""RotatingSink: per-interval files in a Hive layout, atomic, certificates once per file, crash recovery."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tests.live.traffic import SECOND, T0, chain_fingerprints, tls_connection
from tlsmon.engine import Engine
from tlsmon.live.counting import STATS_TABLE, StatsRecord
from tlsmon.output.rotating import RotatingSink, partition_dir, recover_staging

START = T0 / 1e9  # 2024-05-01 12:34:56 UTC
LATER = START + 3600  # 13:34:56


def sink_and_engine(out: Path, worker: int = 0) -> tuple[RotatingSink, Engine]:
    sink = RotatingSink(out, worker, {"stats": STATS_TABLE}, now=START)
    engine = Engine(sink)
    sink.use_certificates(engine.certificates.get)
    return sink, engine


def run_connections(engine: Engine, *ports: int) -> None:
    """Each connection complete and written (swept after its linger time)."""
    for port in ports:
        frames = tls_connection(port)
        engine.run(frames)
        engine.tracker.sweep(frames[-1][0] + 10 * SECOND)


def visible(out: Path, table: str) -> list[Path]:
    return sorted(p for p in (out / table).rglob("*.parquet") if not p.name.startswith("."))


def test_partition_dir_is_date_and_hour_of_the_interval_start_utc(tmp_path: Path) -> None:
    assert partition_dir(tmp_path, "connections", START) == tmp_path / "connections" / "date=2024-05-01" / "hour=12"


def test_rotation_moves_each_table_with_rows_into_its_partition(tmp_path: Path) -> None:
    sink, engine = sink_and_engine(tmp_path, worker=3)
    run_connections(engine, 40001)
    files = sink.rotate(now=LATER)
    names = [str(f.relative_to(tmp_path)) for f in files]
    pattern = r"{}/date=2024-05-01/hour=12/part-20240501T123456Z-w3-[0-9a-f]{{6}}-00000\.parquet"
    assert len(names) == 2
    assert re.fullmatch(pattern.format("connections"), names[0])
    assert re.fullmatch(pattern.format("certificates"), names[1])
    assert pq.read_table(files[0]).column("orig_p").to_pylist() == [40001]


def test_rows_are_invisible_until_their_interval_ends(tmp_path: Path) -> None:
    sink, engine = sink_and_engine(tmp_path)
    run_connections(engine, 40001)
    assert sink.pending_rows == 1
    assert visible(tmp_path, "connections") == []
    sink.rotate(now=LATER)
    assert len(visible(tmp_path, "connections")) == 1


def test_a_table_without_rows_gets_no_file(tmp_path: Path) -> None:
    sink, _ = sink_and_engine(tmp_path)
    assert sink.rotate(now=LATER) == []
    assert not (tmp_path / "connections").exists()


def test_next_interval_goes_to_the_partition_of_its_own_start(tmp_path: Path) -> None:
    sink, engine = sink_and_engine(tmp_path)
    run_connections(engine, 40001)
    sink.rotate(now=LATER)
    run_connections(engine, 40002)
    files = sink.rotate(now=LATER + 900)
    assert files[0].parent == tmp_path / "connections" / "date=2024-05-01" / "hour=13"
    assert files[0].name.startswith("part-20240501T133456Z-w0-") and files[0].name.endswith("-00001.parquet")


def test_certificates_once_per_file_and_again_in_a_later_file(tmp_path: Path) -> None:
    sink, engine = sink_and_engine(tmp_path)
    run_connections(engine, 40001, 40002)
    first = sink.rotate(now=LATER)
    run_connections(engine, 40003)
    second = sink.rotate(now=LATER + 900)
    fps = sorted(chain_fingerprints())
    for files in (first, second):
        certs = pq.read_table(files[1])
        assert sorted(certs.column("fingerprint").to_pylist()) == fps
    # The later file carries the run's cumulative figures as of its rotation.
    assert pq.read_table(second[1]).column("times_seen").to_pylist() == [3, 3]


def test_extra_table_rows_go_to_their_own_table(tmp_path: Path) -> None:
    sink, _ = sink_and_engine(tmp_path)
    row = StatsRecord(T0, 0, "eth1", 60.0, 10, 1000, 12, 2, 0, 1, 0, 1, 0, 0, 0, 5)
    sink.write("stats", row)
    [path] = sink.rotate(now=LATER)
    assert path.parent == tmp_path / "stats" / "date=2024-05-01" / "hour=12"
    assert pq.read_table(path).to_pylist()[0]["kernel_dropped"] == 2


def test_close_writes_the_last_interval_and_removes_staging(tmp_path: Path) -> None:
    sink, engine = sink_and_engine(tmp_path)
    engine.run(tls_connection(40001, close=None))
    engine.close()  # the open connection is written (eof) and the interval ends
    assert [p.parent.parent.parent.name for p in sink.files] == ["connections", "certificates"]
    assert pq.read_table(sink.files[0]).column("end_reason").to_pylist() == ["eof"]
    assert not (tmp_path / ".staging").exists()


def test_readers_of_the_table_skip_temporary_files(tmp_path: Path) -> None:
    sink, engine = sink_and_engine(tmp_path)
    run_connections(engine, 40001)
    [conn_file, _] = sink.rotate(now=LATER)
    # What a killed writer leaves beside complete files: a dot-named, half-written temporary file.
    (conn_file.parent / ".part-killed-00000.parquet.tmp").write_bytes(conn_file.read_bytes()[:100])
    table = ds.dataset(tmp_path / "connections", format="parquet", partitioning="hive").to_table()
    assert table.column("orig_p").to_pylist() == [40001]
    assert table.column("hour").to_pylist() == [12]
    glob = tmp_path / "connections" / "**" / "*.parquet"
    counted = duckdb.execute(f"SELECT count(*), min(date) FROM read_parquet('{glob}', hive_partitioning = true)")
    assert counted.fetchall() == [(1, datetime.date(2024, 5, 1))]


def test_recover_staging_moves_complete_files_and_deletes_temporary_ones(tmp_path: Path) -> None:
    sink, engine = sink_and_engine(tmp_path)
    run_connections(engine, 40001)
    # As if killed after the writer renamed its file complete, before the sink moved it; plus a temp file.
    [staged] = sink._writers["connections"].close()
    (staged.parent / ".part-x-00001.parquet.tmp").write_bytes(b"PAR1 half")
    recovered = recover_staging(tmp_path)
    assert len(recovered) == 1
    assert recovered[0].parent.parent.parent == tmp_path / "connections"
    assert recovered[0].name.startswith("part-recovered-w0-")
    assert pq.read_table(recovered[0]).column("orig_p").to_pylist() == [40001]
    assert not (tmp_path / ".staging").exists()
