"""TableWriter: the Parquet files it leaves behind, read back with pyarrow and DuckDB."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tlsmon.columns import Column, ColumnGroup
from tlsmon.output.parquet import ColumnValueError, TableWriter

TS = pa.timestamp("ns", tz="UTC")
EXT = pa.struct([pa.field("code", pa.uint16()), pa.field("length", pa.uint32())])


@dataclass(slots=True)
class Conn:
    uid: str
    ts: int
    proto: int
    port: int
    octets: int
    packets: int
    delta: int
    established: bool


@dataclass(slots=True)
class Hello:
    random: bytes
    ciphers: list[int]
    names: list[str]
    chain: list[bytes]
    extensions: list[dict[str, int]]


@dataclass(slots=True)
class Note:
    note: str


CONN = ColumnGroup(
    "conn",
    (
        Column("uid", pa.string(), "connection id", "CabC", nullable=False),
        Column("ts", TS, "first packet", "2024-01-01 00:00:00+00:00", nullable=False),
        Column("proto", pa.uint8(), "IP protocol", "6"),
        Column("port", pa.uint16(), "responder port", "443"),
        Column("octets", pa.uint32(), "payload bytes", "1500"),
        Column("packets", pa.uint64(), "packets", "12"),
        Column("delta", pa.int64(), "signed difference", "-3"),
        Column("established", pa.bool_(), "handshake completed", "true"),
    ),
)
HELLO = ColumnGroup(
    "hello",
    (
        Column("random", pa.binary(), "client random", "00ff"),
        Column("ciphers", pa.list_(pa.uint16()), "cipher suites", "[4865, 4866]"),
        Column("names", pa.list_(pa.string()), "server names", "['example.com']"),
        Column("chain", pa.list_(pa.binary()), "certificates", "[b'0']"),
        Column("extensions", pa.list_(EXT), "extensions", "[{'code': 0, 'length': 16}]"),
    ),
)
NOTE = ColumnGroup("note", (Column("note", pa.string(), "a single-column group", "hi"),))
META = {"tlsmon_version": "0.1.0", "schema_version": "1"}

ROW1 = (
    Conn("C1", 1_700_000_000_123_456_789, 6, 443, 4_000_000_000, 2**64 - 1, -(2**63), True),
    Hello(
        b"\x00\x01\xfe\xff",
        [0x1301, 0xC02F, 0xFFFF],
        ["example.com", "ü.example"],
        [b"\x30\x82", b""],
        [{"code": 0, "length": 16}, {"code": 65281, "length": 1}],
    ),
)
ROW2 = (Conn("C2", 0, 17, 0, 0, 0, 2**63 - 1, False), Hello(b"", [], [], [], []))


def conn(i: int, port: int = 443) -> Conn:
    return Conn(f"C{i:03d}", 1_000 + i, 6, port, i, i, -i, i % 2 == 0)


def plain(table: pa.Table) -> dict[str, list[object]]:
    """Column values as Python lists, timestamps as their int nanoseconds."""
    out: dict[str, list[object]] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        out[name] = col.to_pylist()
    return out


def files(path: Path) -> list[str]:
    return sorted(os.listdir(path))


def test_round_trip_every_column_type(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META)
    w.append(*ROW1)
    w.append(*ROW2)
    [path] = w.close()
    assert plain(pq.read_table(path)) == {
        "uid": ["C1", "C2"],
        "ts": [1_700_000_000_123_456_789, 0],
        "proto": [6, 17],
        "port": [443, 0],
        "octets": [4_000_000_000, 0],
        "packets": [2**64 - 1, 0],
        "delta": [-(2**63), 2**63 - 1],
        "established": [True, False],
        "random": [b"\x00\x01\xfe\xff", b""],
        "ciphers": [[0x1301, 0xC02F, 0xFFFF], []],
        "names": [["example.com", "ü.example"], []],
        "chain": [[b"\x30\x82", b""], []],
        "extensions": [[{"code": 0, "length": 16}, {"code": 65281, "length": 1}], []],
    }


def test_file_schema_is_the_declared_columns_with_descriptions(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META)
    [path] = w.close()
    schema = pq.read_schema(path)
    declared = [c for g in (CONN, HELLO) for c in g.columns]
    assert [(f.name, f.type, f.nullable) for f in schema] == [(c.name, c.type, c.nullable) for c in declared]
    assert schema.field("ts").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("port").metadata == {b"description": b"responder port"}


def test_file_key_value_metadata_holds_caller_metadata_and_table(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META)
    w.append(conn(1))
    [path] = w.close()
    kv = pq.read_metadata(path).metadata
    assert kv[b"tlsmon_version"] == b"0.1.0"
    assert kv[b"schema_version"] == b"1"
    assert kv[b"table"] == b"conn"


def test_none_record_makes_its_group_null(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META)
    w.append(ROW1[0], None)
    [path] = w.close()
    values = plain(pq.read_table(path))
    assert values["uid"] == ["C1"]
    assert {name: values[name] for name in HELLO.names()} == {name: [None] for name in HELLO.names()}


def test_single_column_group_reads_its_attribute(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "notes", [NOTE], META)
    w.append(Note("first"))
    w.append(None)
    [path] = w.close()
    assert pq.read_table(path).column("note").to_pylist() == ["first", None]


def test_files_are_placed_under_the_table_directory(tmp_path: Path) -> None:
    w = TableWriter(tmp_path / "out", "conn", [CONN], META)
    [path] = w.close()
    assert path.parent == tmp_path / "out" / "conn"
    assert path.name.startswith("part-")
    assert path.name.endswith("-00000.parquet")


def test_batches_fill_row_groups_in_order(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META, batch_rows=3, row_group_rows=4)
    for i in range(10):
        w.append(conn(i))
    [path] = w.close()
    meta = pq.read_metadata(path)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 4, 2]
    assert pq.read_table(path).column("uid").to_pylist() == [f"C{i:03d}" for i in range(10)]


def test_file_rows_rotates_files(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META, batch_rows=3, file_rows=4)
    for i in range(10):
        w.append(conn(i))
    paths = w.close()
    assert [p.name[-14:] for p in paths] == ["-00000.parquet", "-00001.parquet", "-00002.parquet"]
    assert [pq.read_metadata(p).num_rows for p in paths] == [4, 4, 2]
    uids = [uid for p in paths for uid in pq.read_table(p).column("uid").to_pylist()]
    assert uids == [f"C{i:03d}" for i in range(10)]
    assert files(tmp_path / "conn") == sorted(p.name for p in paths)


def test_rotation_at_an_exact_multiple_leaves_no_empty_file(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META, batch_rows=3, file_rows=4)
    for i in range(8):
        w.append(conn(i))
    paths = w.close()
    assert [pq.read_metadata(p).num_rows for p in paths] == [4, 4]


def test_while_writing_only_the_temporary_name_exists(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META, batch_rows=2, row_group_rows=2)
    w.append(conn(1))
    w.append(conn(2))
    [name] = files(tmp_path / "conn")
    assert name.startswith(".part-")
    assert name.endswith(".parquet.tmp")
    [path] = w.close()
    assert files(tmp_path / "conn") == [name[1:-4]] == [path.name]


def test_rows_are_streamed_to_disk_before_close(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META, batch_rows=100, row_group_rows=100)
    sizes = []
    for i in range(500):
        w.append(conn(i))
        if i % 100 == 99:
            [name] = files(tmp_path / "conn")
            sizes.append((tmp_path / "conn" / name).stat().st_size)
    w.close()
    assert sizes == sorted(sizes)
    assert len(set(sizes)) == 5


def test_empty_table_writes_one_valid_file_with_the_schema(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META)
    paths = w.close()
    assert len(paths) == 1
    table = pq.read_table(paths[0])
    assert table.num_rows == 0
    assert table.column_names == CONN.names() + HELLO.names()
    assert files(tmp_path / "conn") == [paths[0].name]


def test_value_out_of_range_is_clamped_and_counted_under_the_groups_anomaly(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META, batch_rows=3)
    for row in (conn(1), conn(2, port=70000), conn(3, port=-1)):
        w.append(row)
    [path] = w.close()
    assert pq.read_table(path).column("port").to_pylist() == [443, 65535, 0]
    assert (w.rows, w.dead_letters, dict(w.fitted)) == (3, 0, {"conn.value_out_of_range": 2})


def test_timestamp_out_of_range_is_clamped_in_a_non_nullable_column(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META)
    w.append(Conn("C1", 2**64, 6, 443, 0, 0, 0, True))
    [path] = w.close()
    assert plain(pq.read_table(path))["ts"] == [2**63 - 1]
    assert dict(w.fitted) == {"conn.date_out_of_range": 1}


def test_fitted_values_are_named_on_the_rows_anomalies_column(tmp_path: Path) -> None:
    @dataclass(slots=True)
    class Row:
        uid: str
        when: int | None
        anomalies: list[str]

    group = ColumnGroup(
        "row",
        (
            Column("uid", pa.string(), "id", "C1", nullable=False),
            Column("when", TS, "a date", "2024-01-01 00:00:00+00:00"),
            Column("anomalies", pa.list_(pa.string()), "names", "[]", nullable=False),
        ),
        stage="x509",
    )
    w = TableWriter(tmp_path, "rows", [group], META)
    w.append(Row("C1", 2**70, ["tls.record_too_long"]))
    w.append(Row("C2", 5, []))
    [path] = w.close()
    assert plain(pq.read_table(path)) == {
        "uid": ["C1", "C2"],
        "when": [None, 5],
        "anomalies": [["tls.record_too_long", "x509.date_out_of_range"], []],
    }


def test_row_that_cannot_be_fitted_is_a_dead_letter_named_by_its_uid(tmp_path: Path) -> None:
    letters: list[tuple[str, str, str]] = []
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META, on_dead_letter=lambda *a: letters.append(a))
    w.append(*ROW1)
    w.append(ROW2[0], Hello(b"", ["not a number"], [], [], []))  # type: ignore[list-item]
    [path] = w.close()
    assert pq.read_table(path).column("uid").to_pylist() == ["C1"]
    assert w.dead_letters == 1
    assert letters == [
        ("conn", "C2", "column 'ciphers' (list<item: uint16>) cannot hold ['not a number']: "
         "str in an integer column"),
    ]


def test_value_of_wrong_type_raises_at_close_and_the_file_is_still_finished(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META)
    w.append(*ROW1)
    w.append(ROW2[0], Hello(b"", ["not a number"], [], [], []))  # type: ignore[list-item]
    with pytest.raises(ColumnValueError, match="column 'ciphers'"):
        w.close()
    [path] = w.paths
    assert pq.read_table(path).column("uid").to_pylist() == ["C1"]


def test_null_in_non_nullable_column_raises_naming_it(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META)
    w.append(Conn(None, 1, 6, 443, 0, 0, 0, True))  # type: ignore[arg-type]
    with pytest.raises(
        ColumnValueError, match=r"column 'uid' \(string\) cannot hold None: null in a non-null"
    ):
        w.close()


def test_append_needs_one_record_per_group(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META)
    with pytest.raises(TypeError, match="expected 2 records, got 1"):
        w.append(ROW1[0])
    assert w.rows == 0


def test_record_missing_an_attribute_leaves_the_columns_aligned(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, NOTE], META)
    with pytest.raises(AttributeError):
        w.append(conn(1), conn(2))
    w.append(conn(3), Note("ok"))
    [path] = w.close()
    assert plain(pq.read_table(path).select(["uid", "note"])) == {"uid": ["C003"], "note": ["ok"]}


def test_append_after_close_raises(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META)
    w.close()
    with pytest.raises(ValueError, match="append after close"):
        w.append(conn(1))


def test_close_twice_returns_the_same_files(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN], META)
    assert w.close() == w.close()


def test_context_manager_closes(tmp_path: Path) -> None:
    with TableWriter(tmp_path, "conn", [CONN], META) as w:
        w.append(conn(1))
    assert w.closed
    assert pq.read_table(w.paths[0]).num_rows == 1


def test_duplicate_column_names_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"duplicate column names \['note'\]"):
        TableWriter(tmp_path, "t", [NOTE, NOTE], META)


def test_duckdb_reads_the_table_directory(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "conn", [CONN, HELLO], META, file_rows=1)
    w.append(*ROW1)
    w.append(*ROW2)
    assert len(w.close()) == 2
    relation = duckdb.sql(
        f"select uid, epoch_ns(ts), port, packets, established, ciphers, names, extensions[1].code "
        f"from '{tmp_path}/conn/*.parquet' order by uid"
    )
    assert relation is not None
    rows = relation.fetchall()
    assert rows == [
        (
            "C1",
            1_700_000_000_123_456_789,
            443,
            2**64 - 1,
            True,
            [0x1301, 0xC02F, 0xFFFF],
            ["example.com", "ü.example"],
            0,
        ),
        ("C2", 0, 0, 0, False, [], [], None),
    ]


def test_string_utf8_cannot_encode_is_written_with_a_replacement(tmp_path: Path) -> None:
    w = TableWriter(tmp_path, "notes", [NOTE], META)
    w.append(Note("caf\udce9"))  # a byte decoded with surrogateescape: not UTF-8
    w.append(Note("ok"))
    [path] = w.close()
    assert (pq.read_table(path).column("note").to_pylist(), dict(w.fitted)) == (
        ["caf?", "ok"], {"note.value_out_of_range": 1}
    )


NAMED = ColumnGroup(
    "named",
    (
        Column("id", pa.string(), "all different", "C1", distinct=True),
        Column("server", pa.string(), "repeats", "example.com"),
        Column("fps", pa.list_(pa.string()), "repeats", "['ab']"),
        Column("port", pa.uint16(), "a number", "443"),
    ),
)


@dataclass(slots=True)
class Named:
    id: str
    server: str
    fps: list[str]
    port: int


def test_text_is_dictionary_encoded_unless_its_column_is_distinct(tmp_path: Path) -> None:
    writer = TableWriter(tmp_path, "t", [NAMED], META)
    for i in range(100):
        writer.append(Named(f"C{i}", "example.com", ["ab", "cd"], 443))
    (path,) = writer.close()
    chunks = pq.ParquetFile(path).metadata.row_group(0)
    dictionary = {
        chunks.column(i).path_in_schema.split(".")[0]: "RLE_DICTIONARY" in chunks.column(i).encodings
        for i in range(chunks.num_columns)
    }
    assert dictionary == {"id": False, "server": True, "fps": True, "port": False}
