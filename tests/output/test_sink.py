"""ParquetSink: complete, renamed part files as the run goes, certificates per part, dead letters named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from tests.live.traffic import SECOND, chain_fingerprints, tls_connection
from tlsmon.engine import Engine
from tlsmon.output.directory import existing_tables, remove_tables
from tlsmon.output.sink import ParquetSink
from tlsmon.recorder import MemorySink
from tlsmon.records.tables import ConnectionRecord


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(engine: Engine, *ports: int) -> None:
    """Each connection complete and written (swept after its linger time)."""
    for port in ports:
        frames = tls_connection(port)
        engine.run(frames)
        engine.tracker.sweep(frames[-1][0] + 10 * SECOND)


def sink_engine(out: Path, **kwargs: object) -> tuple[ParquetSink, Engine]:
    sink = ParquetSink(out, **kwargs)  # type: ignore[arg-type]
    engine = Engine(sink)
    sink.use_certificates(engine.certificates.get)
    return sink, engine


def names(out: Path, table: str) -> list[str]:
    return sorted(p.name for p in (out / table).glob("*.parquet"))


def rows(path: Path, column: str) -> list[object]:
    return pq.read_table(path, columns=[column]).column(0).to_pylist()


def test_a_part_is_renamed_into_place_every_part_rows_connections(tmp_path: Path) -> None:
    _sink, engine = sink_engine(tmp_path, part_rows=2)
    run(engine, 40001, 40002, 40003)
    assert len(names(tmp_path, "connections")) == 1  # the third row is still in the open part
    engine.close()
    files = sorted((tmp_path / "connections").glob("*.parquet"))
    assert [len(rows(f, "uid")) for f in files] == [2, 1]


def test_a_part_is_renamed_after_part_seconds_at_the_next_tick(tmp_path: Path) -> None:
    clock = Clock()
    sink, engine = sink_engine(tmp_path, part_seconds=60.0, clock=clock)
    run(engine, 40001)
    clock.now = 59.0
    sink.tick()
    before = names(tmp_path, "connections")
    clock.now = 60.0
    sink.tick()
    assert (before, len(names(tmp_path, "connections"))) == ([], 1)


def test_each_part_has_its_certificates_once_under_the_same_name(tmp_path: Path) -> None:
    _sink, engine = sink_engine(tmp_path, part_rows=2)
    run(engine, 40001, 40002, 40003)
    engine.close()
    assert names(tmp_path, "connections") == names(tmp_path, "certificates")
    for name in names(tmp_path, "certificates"):
        assert sorted(rows(tmp_path / "certificates" / name, "fingerprint")) == sorted(chain_fingerprints())


def test_times_seen_in_a_later_part_is_the_runs_count_so_far(tmp_path: Path) -> None:
    _sink, engine = sink_engine(tmp_path, part_rows=2)
    run(engine, 40001, 40002, 40003)
    engine.close()
    first, second = (tmp_path / "certificates" / n for n in names(tmp_path, "certificates"))
    assert (set(rows(first, "times_seen")), set(rows(second, "times_seen"))) == ({2}, {3})


def test_row_that_cannot_be_written_is_a_dead_letter_named_by_uid(tmp_path: Path) -> None:
    memory = MemorySink()
    engine = Engine(memory)
    run(engine, 40001, 40002)
    engine.close()
    good, bad = memory.records
    bad = ConnectionRecord(replace(bad.conn, orig_p="not a port"), bad.starttls, bad.tls, bad.x509)  # type: ignore[arg-type]
    letters: list[tuple[str, str, str]] = []
    sink = ParquetSink(tmp_path, on_dead_letter=lambda *a: letters.append(a))
    sink.connection(good)
    sink.connection(bad)
    sink.close(iter(()))
    [path] = sorted((tmp_path / "connections").glob("*.parquet"))
    assert rows(path, "uid") == [good.conn.uid]
    assert (sink.dead_letters, letters) == (
        1,
        [("connections", bad.conn.uid, "column 'orig_p' (uint16) cannot hold 'not a port': str in an integer column")],
    )


def test_existing_tables_are_found_and_only_their_parquet_files_removed(tmp_path: Path) -> None:
    _sink, engine = sink_engine(tmp_path)
    run(engine, 40001)
    engine.close()
    (tmp_path / "notes.txt").write_text("mine\n")
    found = existing_tables(tmp_path)
    removed = remove_tables(tmp_path)
    assert (found, removed, existing_tables(tmp_path), (tmp_path / "notes.txt").exists()) == (
        ["connections", "certificates"], 2, [], True
    )


def test_tables_in_hive_partitions_count_as_existing_and_are_removed(tmp_path: Path) -> None:
    partition = tmp_path / "connections" / "date=2024-05-01" / "hour=12"
    partition.mkdir(parents=True)
    (partition / "part-x.parquet").write_bytes(b"")
    found = existing_tables(tmp_path)
    assert (found, remove_tables(tmp_path), existing_tables(tmp_path)) == (["connections"], 1, [])
