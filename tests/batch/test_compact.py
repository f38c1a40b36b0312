"""Compaction: small parts merged per partition, rows unchanged, manifest kept true, crashes recovered."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.batch.helpers import PCAPS, SAMPLE, TLS13, batch, files, manifest, parts, read, read_whole, sort_rows
from tlsmon.batch import compact as compact_module
from tlsmon.batch.compact import compact_dataset
from tlsmon.batch.inputs import identify
from tlsmon.batch.parts import row_ranges
from tlsmon.cli import main

INPUTS = sorted(p for p in PCAPS.glob("tls1*.pcap"))[:5]


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    for p in INPUTS:
        shutil.copy(p, folder / p.name)
    ds = tmp_path / "ds"
    assert batch(folder, "-o", ds, "--workers", "2") == 0
    return folder, ds


def test_compaction_merges_each_partitions_small_parts_into_one_file(dataset: tuple[Path, Path]) -> None:
    _, ds = dataset
    keys = {"connections": ("uid",), "stats": ("input_id",)}
    before = {t: sort_rows(read(ds, t), keys[t]) for t in keys}
    assert main(["compact", str(ds), "-q"]) == 0
    for table, key in keys.items():
        (part,) = parts(ds, table)
        assert Path(part).name.startswith("part-compacted-")
        assert sort_rows(read(ds, table), key) == before[table]
    ranges = row_ranges(pq.read_schema(ds / parts(ds, "connections")[0]))
    assert sorted(i for i, _, _ in ranges) == sorted(identify(str(e.path)).input_id for e in manifest(ds).values())


def test_after_compaction_the_manifest_lists_the_compacted_files(dataset: tuple[Path, Path]) -> None:
    _, ds = dataset
    assert main(["compact", str(ds), "-q"]) == 0
    everything = set(parts(ds, "connections") + parts(ds, "certificates") + parts(ds, "stats"))
    listed = {p for e in manifest(ds).values() for p in e.parts}
    assert listed == everything
    (merged,) = (ds / "_manifest").glob("*.parquet")
    assert merged.name.startswith("part-compacted-")


def test_a_rerun_after_compaction_rewrites_nothing(dataset: tuple[Path, Path]) -> None:
    folder, ds = dataset
    assert main(["compact", str(ds), "-q"]) == 0
    before = files(ds)
    assert batch(folder, "-o", ds) == 0
    assert files(ds) == before


def test_a_changed_input_is_taken_out_of_the_compacted_file(dataset: tuple[Path, Path]) -> None:
    folder, ds = dataset
    assert main(["compact", str(ds), "-q"]) == 0
    changed = folder / INPUTS[0].name
    old_id = identify(str(changed)).input_id
    rows_before = read(ds, "connections").num_rows
    shutil.copy(SAMPLE, changed)
    os.utime(changed, ns=(10**18, 10**18 + 123))
    assert batch(folder, "-o", ds) == 0
    compacted = [p for p in parts(ds, "connections") if "compacted" in p]
    assert old_id not in {i for i, _, _ in row_ranges(pq.read_schema(ds / compacted[0]))}
    assert read(ds, "connections").num_rows == rows_before - 1 + 19


def test_parts_at_or_over_the_target_size_are_left_alone(dataset: tuple[Path, Path]) -> None:
    _, ds = dataset
    before = parts(ds, "connections")
    assert main(["batch", "--compact", "-o", str(ds), "--target-size", "1K", "-q"]) == 0
    assert parts(ds, "connections") == before


def test_an_interrupted_compaction_is_finished_by_the_next_run(
    dataset: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, ds = dataset
    rows = sort_rows(read(ds, "connections"), ("uid",))

    def crash(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies after writing the compacted file, before step 3

    monkeypatch.setattr(compact_module, "_finish", crash)
    with pytest.raises(KeyboardInterrupt):
        compact_dataset(ds)
    assert len(list((ds / "_manifest").glob("_compact-*.json"))) == 1
    monkeypatch.undo()
    assert batch(folder, TLS13, "-o", ds) == 0  # recovery runs first, under the lock
    assert not list((ds / "_manifest").glob("_compact-*.json"))
    (part,) = [p for p in parts(ds, "connections") if "compacted" in p]
    expected = rows + sort_rows(read_whole(TLS13)["connections"])  # nothing twice, TLS13 added
    assert sorted(map(repr, sort_rows(read(ds, "connections")))) == sorted(map(repr, expected))
    listed = {p for e in manifest(ds).values() for p in e.parts}
    assert part in listed
    assert listed == set(parts(ds, "connections") + parts(ds, "certificates") + parts(ds, "stats"))
