"""tls/summary.py: one Parquet column per TlsSummary field; a summary converts to Arrow with those types."""

from __future__ import annotations

import dataclasses
import hashlib

import pyarrow as pa

from tests.tls.vectors import client_hello, ext, handshake, record, server_hello, u16s, vec
from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.summary import TLS_COLUMNS, TlsSummary

ZEEK_NAMES = (
    "version",
    "cipher",
    "curve",
    "server_name",
    "resumed",
    "last_alert",
    "next_protocol",
    "established",
    "ssl_history",
    "cert_chain_fps",
    "client_cert_chain_fps",
)


# The DERs go to the certificates table, one row per distinct certificate, never into connection rows.
NOT_COLUMNS = ("cert_chain", "client_cert_chain")


def test_columns_are_the_summary_fields_in_order_except_the_ders() -> None:
    fields = [f.name for f in dataclasses.fields(TlsSummary)]
    assert TLS_COLUMNS.names() == [name for name in fields if name not in NOT_COLUMNS]
    assert set(NOT_COLUMNS) <= set(fields)


def test_zeek_columns_keep_zeek_names() -> None:
    assert set(ZEEK_NAMES) <= set(TLS_COLUMNS.names())


def test_every_column_is_described_with_an_example() -> None:
    assert all(c.description and c.example for c in TLS_COLUMNS.columns)


def to_table(summaries: list[TlsSummary]) -> pa.Table:
    schema = pa.schema([c.field() for c in TLS_COLUMNS.columns])
    columns = {name: [getattr(s, name) for s in summaries] for name in TLS_COLUMNS.names()}
    return pa.Table.from_pydict(columns, schema=schema)


def test_empty_summary_converts_to_arrow() -> None:
    table = to_table([TlsSummary()])
    assert table.num_rows == 1
    assert table.column("ssl_history").to_pylist() == [""]
    assert table.column("version").to_pylist() == [None]


def test_filled_summary_converts_to_arrow() -> None:
    analyzer = TlsAnalyzer()
    hello = client_hello(ext(0, vec(2, b"\x00" + vec(2, b"a.example"))) + ext(16, vec(2, vec(1, b"h2"))))
    analyzer.data(True, record(22, handshake(1, hello), 0x0301))
    answer = server_hello(ext(16, vec(2, vec(1, b"h2"))) + ext(11, b"\x01\x00"), suite=0xC02F)
    alert = record(21, b"\x02\x28")
    analyzer.data(False, record(22, handshake(2, answer) + handshake(11, vec(3, vec(3, b"der")))) + alert)
    table = to_table([analyzer.summary])
    row = table.to_pylist()[0]
    assert row["server_name"] == "a.example"
    assert row["cipher"] == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert row["client_ciphers"] == [0x1301, 0xC02F]
    assert row["client_alpn"] == ["h2"]
    assert row["next_protocol"] == "h2"
    assert analyzer.summary.cert_chain == [b"der"]
    assert row["cert_chain_fps"] == [hashlib.sha256(b"der").hexdigest()]
    assert row["alerts"] == [
        {"direction": "resp", "level": 2, "description": 40, "name": "handshake_failure"}
    ]
    assert row["ssl_history"] == "Csxl"
    assert u16s(row["server_extensions"][0]) == b"\x00\x10"
