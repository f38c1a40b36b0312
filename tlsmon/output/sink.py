"""The Parquet record sink: connections and certificates tables under one output directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import certifi

from tlsmon import __version__
from tlsmon.output.parquet import TableWriter
from tlsmon.records.tables import CERTIFICATES, CONNECTIONS, SCHEMA_VERSION, ConnectionRecord
from tlsmon.x509.store import CertificateRecord


def run_metadata() -> dict[str, str]:
    return {
        "tlsmon_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "certifi_version": certifi.__version__,
    }


class ParquetSink:
    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        metadata = run_metadata()
        self._connections = TableWriter(self.out_dir, "connections", CONNECTIONS, metadata)
        self._metadata = metadata
        self.files: list[Path] = []

    def connection(self, record: ConnectionRecord) -> None:
        self._connections.append(*record.parts())

    def close(self, certificates: Iterator[CertificateRecord]) -> None:
        self.files.extend(self._connections.close())
        writer = TableWriter(self.out_dir, "certificates", CERTIFICATES, self._metadata)
        for cert in certificates:
            writer.append(cert, cert.parsed)
        self.files.extend(writer.close())
