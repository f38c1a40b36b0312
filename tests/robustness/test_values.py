"""Values at the edges of their columns are written, not fatal (issue 8 point 1).

Each capture of ``fixtures/pcaps/robustness/`` (made by ``fixtures/make_robustness_captures.py``) once ended
the run with "writing output failed" or a traceback. Now each is read to the end with exit 0, the value is
stored exactly where its column can hold it, and clamped or nulled with a named anomaly where it cannot.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fixtures import make_robustness_captures as crafted
from tlsmon.cli import main

CAPTURES = crafted.OUT
INT64_MAX = 2**63 - 1


def read(tmp_path: Path, name: str) -> dict[str, pa.Table]:
    status = main(["read", str(CAPTURES / name), "-o", str(tmp_path), "-q"])
    assert status == 0
    return {
        t: pa.concat_tables(pq.read_table(p) for p in sorted((tmp_path / t).glob("*.parquet")))
        for t in ("connections", "certificates", "stats")
    }


def only(table: pa.Table, *columns: str) -> dict[str, object]:
    """The one row of ``table``, timestamps as their integer value in the column's unit."""
    assert table.num_rows == 1
    row = {}
    for name in columns:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        row[name] = col.to_pylist()[0]
    return row


def micros(when: dt.datetime) -> int:
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def test_dhe_prime_of_72000_bits_is_stored_whole(tmp_path: Path) -> None:
    conns = read(tmp_path, "dhe-prime-9000-bytes.pcap")["connections"]
    assert only(conns, "cipher", "dh_prime_bits", "anomalies") == {
        "cipher": "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "dh_prime_bits": crafted.DH_PRIME_BYTES * 8,
        "anomalies": [],
    }


def test_sslv2_session_id_of_1000_bytes_is_stored_whole(tmp_path: Path) -> None:
    conns = read(tmp_path, "sslv2-session-id-1000.pcap")["connections"]
    assert only(conns, "sslv2_client_hello", "client_session_id_len", "anomalies") == {
        "sslv2_client_hello": True,
        "client_session_id_len": crafted.SSLV2_SESSION_ID_LEN,
        "anomalies": [],
    }


def test_certificate_valid_until_9999_keeps_its_date_and_clamps_its_path_length(tmp_path: Path) -> None:
    tables = read(tmp_path, "cert-until-9999.pcap")
    cert = only(
        tables["certificates"], "certificate_not_valid_after", "basic_constraints_path_len", "anomalies"
    )
    assert cert == {
        "certificate_not_valid_after": micros(crafted.NOT_AFTER_9999),
        "basic_constraints_path_len": 2**31 - 1,
        "anomalies": ["x509.value_out_of_range"],
    }
    assert only(tables["connections"], "version", "anomalies") == {"version": "TLSv12", "anomalies": []}


def test_stapled_ocsp_dates_up_to_9999_are_stored_exactly(tmp_path: Path) -> None:
    conns = read(tmp_path, "ocsp-far-dates.pcap")["connections"]
    assert only(conns, "ocsp_status", "ocsp_this_update", "ocsp_next_update", "anomalies") == {
        "ocsp_status": "good",
        "ocsp_this_update": micros(crafted.OCSP_THIS_UPDATE),
        "ocsp_next_update": micros(crafted.NOT_AFTER_9999),
        "anomalies": [],
    }


@pytest.mark.parametrize("name", ["pcapng-year-2300.pcapng", "pcapng-year-20000.pcapng"])
def test_packet_time_beyond_int64_nanoseconds_never_stops_the_run(tmp_path: Path, name: str) -> None:
    """Whatever the capture stage makes of an impossible time, the row and the certificate are written."""
    tables = read(tmp_path, name)
    conn = only(tables["connections"], "ts_start", "version", "anomalies")
    cert = only(tables["certificates"], "first_seen", "certificate_not_valid_after")
    stats = only(tables["stats"], "counters")
    replaced = dict(stats["counters"]).get("capture.bad_timestamp", 0) > 0  # type: ignore[call-overload]
    if replaced:  # the capture stage gave the packets a possible time: nothing left to clamp
        assert (conn["ts_start"] < INT64_MAX, "conn.date_out_of_range" in conn["anomalies"]) == (True, False)
    else:  # the time reached the writer: clamped to the largest the column holds, and named
        assert conn == {"ts_start": INT64_MAX, "version": "TLSv12",
                        "anomalies": ["conn.date_out_of_range", "conn.date_out_of_range"]}
        assert cert["first_seen"] == INT64_MAX
    assert cert["certificate_not_valid_after"] == micros(crafted.NOT_AFTER_9999)
