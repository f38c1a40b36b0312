"""The Parquet record sink of ``tlsmon read``: connections and certificates tables under one output directory.

Theory of operation. Rows are written in *parts*. A part ends after ``part_rows`` connection rows or
``part_seconds`` of wall time (checked at each row and at each :meth:`ParquetSink.tick`, which the CLI calls
from the engine's progress callback), and at close. Ending a part renames its connections file into place
(``OUT/connections/part-<run>-<NNNNN>.parquet``) and writes the certificates of that part's connections to
``OUT/certificates/part-<run>-<NNNNN>.parquet``, each certificate once, with the run's cumulative
``first_seen``/``last_seen``/``times_seen`` as of then. So every certificates file is deduplicated and
self-contained (a certificate seen in two parts is in both parts' files, once each), and a SIGKILL or a power
loss costs at most the current part: every earlier part is complete and renamed.

Files are written as ``.part-….parquet.tmp`` and renamed when complete (:class:`~tlsmon.output.parquet.
TableWriter`); :func:`~tlsmon.output.directory.remove_stale_temporaries` deletes those left behind by a run
that was killed, and only those: a temporary file whose writer (the pid in its name) is still alive is kept.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import certifi
import pyarrow as pa

from tlsmon import __version__
from tlsmon.output.directory import DEFAULT_PART_ROWS, DEFAULT_PART_SECONDS, remove_stale_temporaries
from tlsmon.output.parquet import DeadLetter, TableWriter, new_run_id
from tlsmon.recorder import RowChains
from tlsmon.records.tables import CERTIFICATES, CONNECTIONS, SCHEMA_VERSION, ConnectionRecord
from tlsmon.x509.store import CertificateRecord

if TYPE_CHECKING:
    from tlsmon.records.native_rows import RowCounts

CertificateLookup = Callable[[bytes], CertificateRecord | None]

def run_metadata() -> dict[str, str]:
    return {
        "tlsmon_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "certifi_version": certifi.__version__,
    }


class ParquetSink:
    """Connections and certificates in complete, renamed part files; see the module docstring."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        part_rows: int = DEFAULT_PART_ROWS,
        part_seconds: float = DEFAULT_PART_SECONDS,
        on_dead_letter: DeadLetter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if part_rows < 1 or part_seconds <= 0:
            raise ValueError("part_rows and part_seconds must be positive")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.removed_temporaries = remove_stale_temporaries(self.out_dir)
        metadata = run_metadata()
        run_id = new_run_id()
        self._connections = TableWriter(
            self.out_dir, "connections", CONNECTIONS, metadata, on_dead_letter=on_dead_letter, run_id=run_id
        )
        self._certificates = TableWriter(
            self.out_dir, "certificates", CERTIFICATES, metadata, on_dead_letter=on_dead_letter, run_id=run_id
        )
        self._part_rows = part_rows
        self._part_seconds = part_seconds
        self._clock = clock
        self._part_started = clock()
        self._rows_in_part = 0
        self._part_certs: dict[str, CertificateRecord] = {}
        self._lookup: CertificateLookup | None = None
        self.parts = 0  # parts completed
        self.files: list[Path] = []
        self.closed = False

    def use_certificates(self, lookup: CertificateLookup) -> None:
        """Where to find a chain's certificate records (the engine's store), for per-part certificates."""
        self._lookup = lookup

    @property
    def dead_letters(self) -> int:
        return self._connections.dead_letters + self._certificates.dead_letters

    @property
    def fitted(self) -> Counter[str]:
        """Values clamped or nulled to fit their columns, by anomaly name."""
        return self._connections.fitted + self._certificates.fitted

    # -- RecordSink ----------------------------------------------------------------------------------------
    def connection(self, record: ConnectionRecord) -> None:
        self._connections.append(*record.parts())
        tls = record.tls
        if tls is not None:
            self._keep_certificates(tls.cert_chain, tls.client_cert_chain)
        self._rows_in_part += 1
        if self._rows_in_part >= self._part_rows:
            self.finish_part()

    def connection_batch(self, batch: pa.RecordBatch, chains: Sequence[RowChains], counts: RowCounts) -> None:
        """Rows already in columns (the native core's, :mod:`tlsmon.records.native_rows`), in order;
        ``chains``: the certificate chains of those rows that have any, by row index, in row order. A part
        ends inside the batch where it reaches ``part_rows``."""
        start = 0
        next_chain = 0  # chains come in row order
        while start < batch.num_rows:
            take = min(batch.num_rows - start, self._part_rows - self._rows_in_part)
            self._connections.append_batch(batch.slice(start, take))
            while next_chain < len(chains) and chains[next_chain][0] < start + take:
                _, server, client = chains[next_chain]
                self._keep_certificates(server, client)
                next_chain += 1
            start += take
            self._rows_in_part += take
            if self._rows_in_part >= self._part_rows:
                self.finish_part()

    def rows_before_part_end(self) -> int:
        return self._part_rows - self._rows_in_part

    def _keep_certificates(self, *chains: Sequence[bytes]) -> None:
        """The chains' certificates go with the current part's certificates file."""
        lookup = self._lookup
        if lookup is None:
            return
        for chain in chains:
            for der in chain:
                cert = lookup(der)
                if cert is not None:
                    self._part_certs.setdefault(cert.fingerprint, cert)

    def close(self, certificates: Iterator[CertificateRecord]) -> None:
        """Finish the last part; without a lookup, the certificates given go with it."""
        if self.closed:
            return
        if self._lookup is None:
            for cert in certificates:
                self._part_certs.setdefault(cert.fingerprint, cert)
        self.closed = True
        try:
            self.finish_part()
        finally:
            self._connections.close()  # an empty file holding the schema when the table has none yet
            self._certificates.close()
            self.files = [*self._connections.paths, *self._certificates.paths]

    # -- parts ---------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """End the current part when it is older than ``part_seconds`` and holds rows."""
        if self._rows_in_part and self._clock() - self._part_started >= self._part_seconds:
            self.finish_part()

    def finish_part(self) -> None:
        """Rename the current part's connections file into place and write its certificates file."""
        certs, self._part_certs = self._part_certs, {}
        self._rows_in_part = 0
        self._part_started = self._clock()
        done = self._connections.finish_file()
        for cert in certs.values():
            self._certificates.append(cert, cert.parsed)
        # A part's two files carry the same number: certificates part N holds the chains of connections part N.
        if self._certificates.finish_file(empty=done is not None) is not None:
            self.parts += 1
