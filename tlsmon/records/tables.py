"""The tables tlsmon writes, each as the column groups that make up its rows. Declared once, here.

Theory of operation: only declarations are imported here (the column groups and the record types), never the
modules that compute them, so that the schema, the writers and the read path's start-up do not pull in the
X.509 parser (cryptography) or the plaintext protocol analyzers; :data:`CERTIFICATES`' parsed columns come from
:mod:`tlsmon.x509.parsed`, not from the parser in :mod:`tlsmon.x509.certs`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tlsmon.columns import ColumnGroup
from tlsmon.protocols.proxy import PREAMBLE_COLUMNS, PreambleSummary
from tlsmon.protocols.starttls import STARTTLS_COLUMNS, StartTlsSummary
from tlsmon.records.conn import CONN_COLUMNS, ConnSummary
from tlsmon.records.registries_table import REGISTRIES_TABLE, schema_note
from tlsmon.records.stats_table import STATS_TABLE
from tlsmon.tls.summary import TLS_COLUMNS, TlsSummary
from tlsmon.x509.chains import X509_COLUMNS, X509Summary
from tlsmon.x509.parsed import PARSED_COLUMNS
from tlsmon.x509.store import CERT_COLUMNS

#: Bumped whenever a column is renamed, removed or changes type (adding a column does not bump it).
#: 2: certificates' host_cert takes Zeek's meaning (first in a chain); leaf → server_cert.
#: 3: certificate and OCSP dates in timestamp[us] (years 0001-9999); dh_prime_bits uint32;
#:    client_session_id_len uint16 (every value the wire can carry fits).
#: 5: orig_bytes/resp_bytes count by sequence space as Zeek's do; the wire counts moved to
#:    orig_payload_bytes/resp_payload_bytes.
SCHEMA_VERSION = "5"

# The stage prefix of the anomalies the writer names when it has to fit a value (tlsmon.output.fit).
CONNECTIONS: tuple[ColumnGroup, ...] = (
    CONN_COLUMNS,
    replace(PREAMBLE_COLUMNS, stage="preamble"),
    replace(STARTTLS_COLUMNS, stage="starttls"),
    replace(TLS_COLUMNS, stage="tls"),
    replace(X509_COLUMNS, stage="x509"),
)


@dataclass(slots=True)
class ConnectionRecord:
    """One row of the connections table: one part per group of :data:`CONNECTIONS`, None when absent."""

    conn: ConnSummary
    starttls: StartTlsSummary | None
    tls: TlsSummary | None
    x509: X509Summary | None = None
    preamble: PreambleSummary | None = None

    def parts(self) -> tuple[object | None, ...]:
        """The parts in the order of :data:`CONNECTIONS`."""
        return (self.conn, self.preamble, self.starttls, self.tls, self.x509)


CERTIFICATES: tuple[ColumnGroup, ...] = (replace(CERT_COLUMNS, stage="x509"), PARSED_COLUMNS)

TABLES: dict[str, tuple[ColumnGroup, ...]] = {
    "connections": CONNECTIONS,
    "certificates": CERTIFICATES,
    "stats": STATS_TABLE,
    "registries": REGISTRIES_TABLE,
}


def table_notes() -> dict[str, str]:
    """Text docs/schema.md adds after a table's columns. A function, not a constant: the registries' note reads
    the IANA tables (:mod:`tlsmon.registries`, 20 ms of import) that a run never needs for it."""
    return {"registries": schema_note()}
