"""Rows the native core writes as Arrow columns, completed in Python: the certificate columns and the groups a
connection TLS from its first byte leaves null.

Theory of operation. A connection the native core analyzed from its first byte ends inside the tracker, which
keeps its row (native/src/records/batch.rs) and hands Python a marker in the event list, where the row would
have been written: Python numbers it there (the uid's sequence, shared with the rows it writes itself) and,
when the row has certificate chains or a stapled OCSP response, summarizes them with cryptography
(:class:`~tlsmon.x509.chains.ConnectionCertificates`, once per distinct certificate and cached per chain). A
batch of such rows then crosses once, through the Arrow C data interface, as the ``conn`` and ``tls`` columns;
this module adds the ``preamble`` and ``starttls`` columns (null: no plaintext came first), the ``x509``
columns (the core counts the batch for the run's figures), so the table holds exactly what Python's
:class:`~tlsmon.engine.Recorder` would have written row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pyarrow as pa

from tlsmon.columns import ColumnGroup
from tlsmon.records.conn import CONN_COLUMNS
from tlsmon.records.tables import CONNECTIONS
from tlsmon.tls.summary import TLS_COLUMNS
from tlsmon.x509.chains import X509_COLUMNS, ConnectionCertificates, X509Summary

#: What the tracker's marker carries for a row with certificates: server chain, client chain, server name,
#: OCSP response, first timestamp.
X509Inputs = tuple[list[bytes], list[bytes], str | None, bytes | None, int]


class RowCounts(NamedTuple):
    """What the run's figures take from a batch, counted by the core (native/src/records/batch.rs)."""

    evicted: int
    with_gaps: int  # rows that missed bytes
    missed_bytes: int
    versions: dict[str, int]  # 'unknown' for rows without a negotiated version
    ciphers: dict[str, int]
    anomalies: dict[str, int]


def connections_schema() -> pa.Schema:
    """The connections table's columns (the writer adds the file metadata)."""
    return pa.schema([c.field() for g in CONNECTIONS for c in g.columns])


class NativeRows:
    """The rows of natively analyzed connections between two batches: their numbers and certificate columns.

    A row's certificate columns may be made after its marker (:meth:`summarize`, on another thread while the
    native loop runs: tlsmon/native_engine.py), but always in row order and before the batch is taken.
    """

    __slots__ = ("chains", "extra", "schema", "sequences", "unsummarized", "x509")

    def __init__(self) -> None:
        self.schema = connections_schema()
        self.sequences: list[int] = []  # each row's uid sequence number
        self.x509: dict[int, X509Summary] = {}  # by row index
        self.extra: list[tuple[int, list[str]]] = []  # anomalies the certificates added, by row index
        self.chains: list[tuple[int, Sequence[bytes], Sequence[bytes]]] = []  # for the sink's certificates
        self.unsummarized: list[tuple[int, X509Inputs]] = []  # rows whose certificate columns are still to make

    def __len__(self) -> int:
        return len(self.sequences)

    def add(self, sequence: int, inputs: X509Inputs | None) -> None:
        """The next row: its sequence number and what its certificate columns are made of."""
        index = len(self.sequences)
        self.sequences.append(sequence)
        if inputs is not None:
            self.unsummarized.append((index, inputs))
            if inputs[0] or inputs[1]:
                self.chains.append((index, inputs[0], inputs[1]))

    def summarize(self, certificates: ConnectionCertificates) -> None:
        """Make the certificate columns of the rows that wait for them, in row order."""
        pending, self.unsummarized = self.unsummarized, []
        for index, (server, client, server_name, ocsp_response, start_ts) in pending:
            x509 = certificates.summarize(server, client, server_name, ocsp_response, start_ts)
            if x509 is None:
                continue
            self.x509[index] = x509
            if x509.anomalies:
                self.extra.append((index, [str(a) for a in x509.anomalies]))

    def complete(self, native: pa.RecordBatch) -> pa.RecordBatch:
        """The whole rows: the core's ``conn`` and ``tls`` columns, the others added."""
        n = native.num_rows
        if self.unsummarized:
            raise ValueError("a batch taken before its certificate columns were made")
        if n != len(self.sequences):
            raise ValueError(f"a batch of {n} rows for {len(self.sequences)} numbered")
        arrays: list[pa.Array] = []
        for group in CONNECTIONS:
            if group.name in (CONN_COLUMNS.name, TLS_COLUMNS.name):
                arrays.extend(native.column(c.name) for c in group.columns)
            elif group.name == X509_COLUMNS.name:
                arrays.extend(self._x509_arrays(group, n))
            else:
                arrays.extend(pa.nulls(n, c.type) for c in group.columns)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _x509_arrays(self, group: ColumnGroup, n: int) -> list[pa.Array]:
        if not self.x509:
            return [pa.nulls(n, c.type) for c in group.columns]
        summaries = [self.x509.get(i) for i in range(n)]
        return [
            pa.array([None if x is None else getattr(x, c.name) for x in summaries], type=c.type)
            for c in group.columns
        ]

    def clear(self) -> None:
        self.sequences = []
        self.x509 = {}
        self.extra = []
        self.chains = []
        self.unsummarized = []
