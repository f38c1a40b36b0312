"""Property: every value the parsers can produce fits its declared column type (issue 8 points 1 and 7).

Three layers. The TLS analyzer and the certificate parser are fed Hypothesis-made handshakes and certificates
whose numbers run to the limits of their wire fields; every value they put in a row must convert to its
column's Arrow type as it is, with no fitting. The writer, given values at and beyond the limits of every
column type of every table, writes every row: what fits is stored exactly, what does not is clamped or nulled
and named, and nothing is a dead letter.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tls.vectors import client_hello, ext, handshake, record, server_hello, u16s, vec
from tlsmon.columns import ColumnGroup
from tlsmon.output.fit import int_range
from tlsmon.output.parquet import TableWriter
from tlsmon.records.tables import CERTIFICATES, TABLES
from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.summary import TLS_COLUMNS
from tlsmon.x509.certs import parse_certificate
from tlsmon.x509.parsed import PARSED_COLUMNS

KEY = ec.generate_private_key(ec.SECP256R1())
DHE_SUITES = (0x009E, 0x0033, 0x0067, 0x00AA)  # DHE_RSA_*, DHE_PSK_AES_128_GCM


def assert_fits(group: ColumnGroup, record: object) -> None:
    for column in group.columns:
        value = getattr(record, column.name)
        pa.array([value], type=column.type)  # raises if the parser produced a value the column cannot hold


u8 = st.integers(0, 2**8 - 1)
u16 = st.integers(0, 2**16 - 1)
small = st.binary(max_size=40)


@st.composite
def tls_extensions(draw: st.DrawFn) -> bytes:
    parts = [
        ext(0x000A, vec(2, u16s(*draw(st.lists(u16, max_size=20))))),  # supported_groups
        ext(0x000D, vec(2, u16s(*draw(st.lists(u16, max_size=20))))),  # signature_algorithms
        ext(0x002B, vec(1, u16s(*draw(st.lists(u16, max_size=20))))),  # supported_versions
        ext(0x001C, u16s(draw(u16))),  # record_size_limit
        ext(0x0005, bytes([draw(u8)]) + vec(2, b"") + vec(2, b"")),  # status_request
        ext(0x000F, bytes([draw(u8)])),  # heartbeat
        ext(0x0023, draw(st.binary(max_size=2000))),  # session_ticket
        ext(0x0015, bytes(draw(st.integers(0, 3000)))),  # padding
        ext(0x002D, vec(1, bytes(draw(st.lists(u8, max_size=10))))),  # psk_key_exchange_modes
    ]
    parts += [ext(code, draw(small)) for code in draw(st.lists(u16, max_size=10))]
    return b"".join(draw(st.permutations(parts)))


def records_of(content_type: int, data: bytes) -> bytes:
    return b"".join(record(content_type, data[i : i + 16384]) for i in range(0, len(data), 16384))


@given(
    extensions=tls_extensions(),
    suites=st.lists(u16, min_size=1, max_size=50),
    session_id=st.binary(max_size=32),
    version=u16,
    suite=st.sampled_from(DHE_SUITES),
    prime_len=st.integers(1, 2**16 - 1),
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_tls_summary_values_fit_their_columns(
    extensions: bytes, suites: list[int], session_id: bytes, version: int, suite: int, prime_len: int
) -> None:
    prime = b"\xff" * prime_len
    ske = vec(2, prime) + vec(2, b"\x02") + vec(2, b"\x01") + u16s(0x0401) + vec(2, b"sig")
    if suite == 0x00AA:
        ske = vec(2, b"hint") + ske
    analyzer = TlsAnalyzer()
    analyzer.data(True, records_of(22, handshake(1, client_hello(extensions, tuple(suites), session_id, version))))
    flight = handshake(2, server_hello(suite=suite)) + handshake(12, ske) + handshake(14, b"")
    analyzer.data(False, records_of(22, flight))
    summary = analyzer.summary
    assert_fits(TLS_COLUMNS, summary)
    assert summary.dh_prime_bits == prime_len * 8


@given(
    session_id_len=st.integers(0, 32000),
    specs=st.lists(st.integers(0, 2**24 - 1), min_size=1, max_size=30),
    challenge=st.binary(min_size=16, max_size=32),
)
def test_sslv2_hello_values_fit_their_columns(session_id_len: int, specs: list[int], challenge: bytes) -> None:
    spec_bytes = b"".join(s.to_bytes(3, "big") for s in specs)
    body = b"\x01\x03\x01" + u16s(len(spec_bytes), session_id_len, len(challenge))
    body += spec_bytes + bytes(session_id_len) + challenge
    analyzer = TlsAnalyzer()
    analyzer.data(True, (0x8000 | len(body)).to_bytes(2, "big") + body)
    assert_fits(TLS_COLUMNS, analyzer.summary)
    assert analyzer.summary.client_session_id_len == session_id_len


@given(
    # cryptography's builder takes 1950 onwards (UTCTime's first year), the wire takes GeneralizedTime to 9999
    not_before=st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 58)),
    not_after=st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 58)),
    path_len=st.none() | st.integers(0, 2**64 - 1),
    serial=st.integers(1, 2**159 - 1),
)
@settings(max_examples=60)
def test_parsed_certificate_values_fit_their_columns(
    not_before: dt.datetime, not_after: dt.datetime, path_len: int | None, serial: int
) -> None:
    not_before, not_after = sorted((not_before.replace(microsecond=0), not_after.replace(microsecond=0)))
    not_after += dt.timedelta(seconds=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edge.example.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=path_len is not None, path_length=path_len), critical=True)
        .sign(KEY, hashes.SHA256())
    )
    parsed, _ = parse_certificate(cert.public_bytes(Encoding.DER))
    assert parsed.parse_error is None
    assert_fits(PARSED_COLUMNS, parsed)
    clamped = path_len is not None and path_len > 2**31 - 1
    assert parsed.anomalies == (["x509.value_out_of_range"] if clamped else [])
    epoch = dt.datetime(1970, 1, 1)
    assert parsed.certificate_not_valid_after == (not_after - epoch) // dt.timedelta(microseconds=1)


# --- the writer, at and beyond every column type's limits ----------------------------------------------------


def edge_values(type_: pa.DataType) -> st.SearchStrategy[object]:
    """Values of the right kind for the type, in and out of its range (what a parser bug or the wire may give)."""
    if pa.types.is_integer(type_) or pa.types.is_timestamp(type_):
        low, high = int_range(type_)
        return st.sampled_from([low, high, low - 1, high + 1, 0]) | st.integers(low - 2**70, high + 2**70)
    if pa.types.is_list(type_):
        return st.lists(edge_values(type_.value_type), max_size=3)
    if pa.types.is_struct(type_):
        return st.fixed_dictionaries({f.name: edge_values(f.type) for f in type_})
    if pa.types.is_map(type_):
        return st.dictionaries(st.text(max_size=5), edge_values(type_.item_type), max_size=3)
    if pa.types.is_boolean(type_):
        return st.booleans()
    if pa.types.is_floating(type_):
        return st.floats(allow_nan=True)
    if pa.types.is_binary(type_):
        return st.binary(max_size=8)
    return st.text(st.characters(exclude_categories=()), max_size=8)  # lone surrogates included


def row_strategy(groups: tuple[ColumnGroup, ...]) -> st.SearchStrategy[list[SimpleNamespace]]:
    parts = [
        st.fixed_dictionaries({c.name: edge_values(c.type) for c in g.columns}).map(lambda d: SimpleNamespace(**d))
        for g in groups
    ]
    return st.tuples(*parts).map(list)


def in_range(type_: pa.DataType, value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = int_range(type_)
        return low <= value <= high
    return True


def check_writer(
    tmp_path: Path, table: str, groups: tuple[ColumnGroup, ...], rows: list[list[SimpleNamespace]]
) -> None:
    letters: list[tuple[str, str, str]] = []
    writer = TableWriter(tmp_path, table, groups, {}, on_dead_letter=lambda *a: letters.append(a))
    for parts in rows:
        writer.append(*parts)
    [path] = writer.close()
    written = pq.read_table(path)
    assert (written.num_rows, letters) == (len(rows), [])
    names_anomalies = "anomalies" in written.column_names and pa.types.is_list(written.schema.field("anomalies").type)
    for g_index, group in enumerate(groups):
        for column in group.columns:
            if not (pa.types.is_integer(column.type) or pa.types.is_timestamp(column.type)):
                continue
            stored = written.column(column.name)
            if pa.types.is_timestamp(column.type):
                stored = stored.cast(pa.int64())
            for r, parts in enumerate(rows):
                value = getattr(parts[g_index], column.name)
                if in_range(column.type, value):
                    assert stored[r].as_py() == value
                elif names_anomalies:
                    assert group.anomaly(_suffix(column.type)) in written.column("anomalies")[r].as_py()


def _suffix(type_: pa.DataType) -> str:
    return "date_out_of_range" if pa.types.is_timestamp(type_) else "value_out_of_range"


def named_rows(groups: tuple[ColumnGroup, ...]) -> st.SearchStrategy[list[list[SimpleNamespace]]]:
    """Rows whose non-nullable string key columns and anomalies lists are well-formed (as the builders make)."""

    def fix(parts: list[SimpleNamespace]) -> list[SimpleNamespace]:
        for group, part in zip(groups, parts, strict=True):
            for column in group.columns:
                if column.name == "anomalies" and pa.types.is_list(column.type):
                    part.anomalies = []
        return parts

    return st.lists(row_strategy(groups).map(fix), min_size=1, max_size=5)


@given(rows=named_rows(TABLES["connections"]))
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
def test_writer_writes_every_connections_row_whatever_its_numbers(rows: list) -> None:  # type: ignore[type-arg]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        check_writer(Path(tmp), "connections", TABLES["connections"], rows)


@given(rows=named_rows(CERTIFICATES))
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
def test_writer_writes_every_certificates_row_whatever_its_numbers(rows: list) -> None:  # type: ignore[type-arg]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        check_writer(Path(tmp), "certificates", CERTIFICATES, rows)


@given(rows=named_rows(TABLES["stats"]))
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
def test_writer_writes_every_stats_row_whatever_its_numbers(rows: list) -> None:  # type: ignore[type-arg]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        check_writer(Path(tmp), "stats", TABLES["stats"], rows)
