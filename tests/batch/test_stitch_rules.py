"""The stitching rules one by one, on pieces written directly (two inputs of one sensor, transport columns
only): what is joined, what is kept apart and marked, and how a joined row is made."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tlsmon.batch.layout import pieces_path
from tlsmon.batch.manifest import ManifestEntry
from tlsmon.batch.stitch import SPLIT_AMBIGUOUS, STITCHED_WITHOUT_SEQ, StitchReport, _resolve
from tlsmon.records.conn import CONN_COLUMNS

SCHEMA = pa.schema([c.field() for c in CONN_COLUMNS.columns])
IDLE_NS = 300 * 10**9
T0 = 1_714_521_600 * 10**9


def _row(uid: str, start_s: float, end_s: float, history: str, end_reason: str, *, orig_p: int = 40000,
         flipped: bool = False, orig_pkts: int = 3, resp_pkts: int = 2, conn_state: str = "S1",
         orig_seq: tuple[int, int] | None = None, resp_seq: tuple[int, int] | None = None) -> dict[str, object]:
    """A row; ``orig_seq``/``resp_seq`` are (first, next) sequence numbers of the client/server direction."""
    client, server = ("192.0.2.1", orig_p), ("198.51.100.7", 443)
    (oh, op), (rh, rp) = (server, client) if flipped else (client, server)
    o_seq, r_seq = (resp_seq, orig_seq) if flipped else (orig_seq, resp_seq)
    return {"uid": uid, "ts_start": T0 + int(start_s * 1e9), "ts_end": T0 + int(end_s * 1e9), "orig_h": oh,
            "orig_p": op, "resp_h": rh, "resp_p": rp, "ip_version": 4, "vlan": None, "orig_pkts": orig_pkts,
            "resp_pkts": resp_pkts, "orig_bytes": 100 * orig_pkts, "resp_bytes": 1000 * resp_pkts,
            "orig_payload_bytes": 100 * orig_pkts, "resp_payload_bytes": 1000 * resp_pkts,
            "orig_missed_bytes": 0, "resp_missed_bytes": 0, "missed_bytes": 0, "history": history,
            "end_reason": end_reason, "app_proto": "tls", "tls_mode": "implicit", "anomalies": [],
            "proto": "tcp", "conn_state": conn_state,
            "orig_seq_first": o_seq[0] if o_seq else None, "orig_seq_next": o_seq[1] if o_seq else None,
            "resp_seq_first": r_seq[0] if r_seq else None, "resp_seq_next": r_seq[1] if r_seq else None}


def _resolve_files(tmp_path: Path, *files: list[dict[str, object]]) -> tuple[dict[str, list[dict[str, object]]],
                                                                           StitchReport]:
    entries = []
    for i, rows in enumerate(files):
        input_id = f"{i:020d}"
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        path = pieces_path(tmp_path, "s", input_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        entries.append(ManifestEntry(path=f"/in/{i}", input_id=input_id, identity="stat", size=1, mtime=i,
                                     sensor="s", state="done", reason="", first_ts=T0 + i))
    report = StitchReport()
    _, outputs = _resolve(tmp_path, "s", entries, IDLE_NS, report)
    return dict(outputs), report


def test_a_unique_continuation_is_joined_into_the_first_piece(tmp_path: Path) -> None:
    outputs, report = _resolve_files(tmp_path, [_row("Ca", 0, 10, "ShAD", "eof")],
                                     [_row("Cb", 10.5, 20, "dAFf", "fin")])
    (row,) = outputs["0" * 20]
    assert (row["uid"], row["ts_start"], row["ts_end"], row["end_reason"]) == ("Ca", T0, T0 + 20 * 10**9, "fin")
    assert (row["orig_pkts"], row["resp_pkts"], row["history"]) == (6, 4, "ShADdFf")
    assert row["anomalies"] == [STITCHED_WITHOUT_SEQ]
    assert "1".zfill(20) not in outputs
    assert report.joined == 1


def test_a_continuation_seen_from_the_other_side_is_turned_round_before_joining(tmp_path: Path) -> None:
    outputs, _ = _resolve_files(tmp_path, [_row("Ca", 0, 10, "ShAD", "eof", orig_pkts=3, resp_pkts=2)],
                                [_row("Cb", 11, 20, "DaF", "fin", flipped=True, orig_pkts=5, resp_pkts=1)])
    (row,) = outputs["0" * 20]
    assert (row["orig_h"], row["orig_p"]) == ("192.0.2.1", 40000)
    assert (row["orig_pkts"], row["resp_pkts"]) == (3 + 1, 2 + 5)
    assert row["history"] == "ShADdf"


def test_two_candidates_for_one_continuation_are_kept_apart_and_marked(tmp_path: Path) -> None:
    outputs, report = _resolve_files(
        tmp_path, [_row("Ca", 0, 10, "ShAD", "eof"), _row("Cc", 1, 9, "ShAD", "eof")],
        [_row("Cb", 10.5, 20, "dAFf", "fin")],
    )
    rows = [*outputs["0" * 20], *outputs["1".zfill(20)]]
    assert sorted(r["uid"] for r in rows) == ["Ca", "Cb", "Cc"]
    assert all(r["anomalies"] == [SPLIT_AMBIGUOUS] for r in rows)
    assert (report.joined, report.ambiguous) == (0, 1)


def test_a_silence_longer_than_the_idle_timeout_ends_the_connection(tmp_path: Path) -> None:
    outputs, report = _resolve_files(tmp_path, [_row("Ca", 0, 10, "ShAD", "eof")],
                                     [_row("Cb", 10 + 301, 400, "dAFf", "fin")])
    assert [r["uid"] for r in outputs["0" * 20]] == ["Ca"]
    assert [r["uid"] for r in outputs["1".zfill(20)]] == ["Cb"]
    assert report.joined == 0


def test_a_new_syn_on_the_same_four_tuple_is_a_new_connection(tmp_path: Path) -> None:
    outputs, report = _resolve_files(tmp_path, [_row("Ca", 0, 10, "ShAD", "eof")],
                                     [_row("Cb", 10.5, 20, "ShADFf", "fin")])
    assert report.joined == 0
    assert outputs["0" * 20][0]["end_reason"] == "eof"


def test_a_connection_open_across_three_files_becomes_one_row(tmp_path: Path) -> None:
    outputs, report = _resolve_files(tmp_path, [_row("Ca", 0, 10, "ShAD", "eof")],
                                     [_row("Cb", 10.5, 20, "Dd", "eof")],
                                     [_row("Cc", 20.5, 30, "dFf", "fin")])
    (row,) = outputs["0" * 20]
    assert (row["ts_end"], row["end_reason"], row["orig_pkts"], row["history"]) == (
        T0 + 30 * 10**9, "fin", 9, "ShADdFf")
    assert report.joined == 2


def test_continuous_sequence_numbers_prove_the_join(tmp_path: Path) -> None:
    outputs, report = _resolve_files(
        tmp_path, [_row("Ca", 0, 10, "ShAD", "eof", orig_seq=(1001, 1301), resp_seq=(5001, 7001))],
        [_row("Cb", 10.5, 20, "DdAFf", "fin", orig_seq=(1301, 1602), resp_seq=(7001, 9002), conn_state="SF")],
    )
    (row,) = outputs["0" * 20]
    assert (row["anomalies"], row["conn_state"], report.joined) == ([], "SF", 1)
    assert (row["orig_seq_first"], row["orig_seq_next"], row["resp_seq_first"], row["resp_seq_next"]) == (
        1001, 1602, 5001, 9002)


def test_sequence_numbers_that_do_not_continue_are_another_connection(tmp_path: Path) -> None:
    outputs, report = _resolve_files(
        tmp_path, [_row("Ca", 0, 10, "ShAD", "eof", orig_seq=(1001, 1301))],
        [_row("Cb", 10.5, 20, "DdAFf", "fin", orig_seq=(3_000_000_000, 3_000_000_300))],
    )
    assert [r["uid"] for r in outputs["0" * 20]] == ["Ca"]
    assert [r["uid"] for r in outputs["1".zfill(20)]] == ["Cb"]
    assert report.joined == 0


def test_bytes_resent_at_the_cut_are_counted_once(tmp_path: Path) -> None:
    outputs, _ = _resolve_files(
        tmp_path, [_row("Ca", 0, 10, "ShAD", "eof", orig_pkts=3, orig_seq=(1001, 1301))],
        [_row("Cb", 10.5, 20, "DAF", "fin", orig_pkts=2, orig_seq=(1201, 1401))],
    )
    (row,) = outputs["0" * 20]
    assert (row["orig_bytes"], row["orig_payload_bytes"], row["orig_seq_next"]) == (300 + 200 - 100, 500, 1401)


def test_a_piece_picked_up_mid_stream_ends_the_whole_in_the_state_read_would_give(tmp_path: Path) -> None:
    outputs, _ = _resolve_files(
        tmp_path, [_row("Ca", 0, 10, "ShAD", "eof", orig_seq=(1001, 1301))],
        [_row("Cb", 10.5, 20, "Df", "fin", orig_seq=(1301, 1401), conn_state="SHR")],
    )
    assert outputs["0" * 20][0]["conn_state"] == "S3"
