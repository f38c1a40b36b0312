"""Stitching: ``sample.pcap`` cut into five consecutive files (the ``pieces`` fixture, made by
fixtures/batch/make_batch_fixtures.py) gives, through ``tlsmon batch``, the rows ``read`` makes of the whole.

Seven of the 19 connections are open at a cut: five after their handshake, two (ports 50003 and 50013) between
ClientHello and ServerHello. uids differ by construction (a uid counts connections within one input), and the
joins are proven by the rows' TCP sequence numbers; the two cut inside a handshake carry
``batch.stitched_in_handshake``; everything else must be equal.
"""

from __future__ import annotations

from pathlib import Path

from tests.batch.helpers import SAMPLE, batch, files, read, read_whole, sort_rows
from tlsmon.batch.manifest import Manifest
from tlsmon.batch.stitch import STITCHED_IN_HANDSHAKE
from tlsmon.cli import main
from tlsmon.records.tables import SCHEMA_VERSION

CUT = {50002, 50003, 50007, 50008, 50012, 50013, 50200}
CUT_IN_HANDSHAKE = {50003, 50013}


def _without_marks(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for row in rows:
        row = dict(row)
        row.pop("uid")
        row["anomalies"] = [a for a in row["anomalies"] if not str(a).startswith("batch.")]  # type: ignore[attr-defined]
        out.append(row)
    return out


def test_a_batch_over_the_pieces_equals_read_over_the_whole(tmp_path: Path, pieces: list[Path]) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    got = sort_rows(read(ds, "connections"))
    assert _without_marks(got) == _without_marks(sort_rows(read_whole(SAMPLE)["connections"]))


def test_joins_are_proven_by_sequence_numbers_and_only_handshake_cuts_are_marked(
    tmp_path: Path, pieces: list[Path]
) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    rows = read(ds, "connections").select(["orig_p", "anomalies"]).to_pylist()
    marks = {r["orig_p"]: [a for a in r["anomalies"] if a.startswith("batch.")] for r in rows}
    assert {p: m for p, m in marks.items() if m} == {p: [STITCHED_IN_HANDSHAKE] for p in CUT_IN_HANDSHAKE}


def test_each_cut_connection_becomes_one_row(tmp_path: Path, pieces: list[Path]) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    ports = [r["orig_p"] for r in read(ds, "connections").select(["orig_p"]).to_pylist()]
    assert sorted(p for p in ports if p in CUT) == sorted(CUT)


def test_a_joined_row_keeps_the_uid_of_its_first_piece(tmp_path: Path, pieces: list[Path]) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    first = {r["orig_p"]: r["uid"] for r in read_whole(pieces[0])["connections"].to_pylist()}
    got = {r["orig_p"]: r["uid"] for r in read(ds, "connections").select(["orig_p", "uid"]).to_pylist()}
    assert got[50002] == first[50002]
    assert got[50003] == first[50003]


def test_pieces_arriving_a_night_later_extend_the_open_rows(tmp_path: Path, pieces: list[Path]) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces[:2], "-o", ds, "--workers", "2") == 0
    rows = read(ds, "connections").select(["orig_p", "end_reason"]).to_pylist()
    open_rows = {r["orig_p"]: r["end_reason"] for r in rows if r["orig_p"] in (50007, 50008)}
    assert open_rows == {50007: "eof", 50008: "eof"}
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    assert _without_marks(sort_rows(read(ds, "connections"))) == _without_marks(
        sort_rows(read_whole(SAMPLE)["connections"]))


def test_a_rerun_over_the_pieces_rewrites_nothing(tmp_path: Path, pieces: list[Path]) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    before = files(ds)
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    assert files(ds) == before


def test_inputs_redone_under_the_same_id_keep_their_stitched_rows(tmp_path: Path, pieces: list[Path]) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    manifest = Manifest(ds)
    for entry in list(manifest.entries.values()):  # as if written by an older schema: every input is redone
        entry.schema_version = "0"
        manifest.record(entry)
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    assert {e.schema_version for e in Manifest(ds).entries.values()} == {SCHEMA_VERSION}
    assert _without_marks(sort_rows(read(ds, "connections"))) == _without_marks(
        sort_rows(read_whole(SAMPLE)["connections"]))
    listed = {p for e in Manifest(ds).entries.values() for p in e.parts if "stitched" in p}
    assert listed == {p for p in (str(q.relative_to(ds)) for q in (ds / "connections").rglob("*.parquet"))
                      if "stitched" in p}


def test_rows_left_open_in_a_compacted_file_are_extended_a_night_later(tmp_path: Path, pieces: list[Path]) -> None:
    ds = tmp_path / "ds"
    assert batch(*pieces[:2], "-o", ds, "--workers", "2") == 0
    assert main(["compact", str(ds), "-q"]) == 0
    assert all("compacted" in p.name for p in (ds / "connections").rglob("*.parquet"))
    assert batch(*pieces, "-o", ds, "--workers", "2") == 0
    assert _without_marks(sort_rows(read(ds, "connections"))) == _without_marks(
        sort_rows(read_whole(SAMPLE)["connections"]))
    listed = {p for e in Manifest(ds).entries.values() for p in e.parts}
    assert {str(q.relative_to(ds)) for q in (ds / "connections").rglob("*.parquet")} <= listed
