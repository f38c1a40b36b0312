"""The tables tlsmon writes, each as the column groups that make up its rows. Declared once, here."""

from __future__ import annotations

from tlsmon.columns import ColumnGroup
from tlsmon.records.connection import CONN_COLUMNS
from tlsmon.tls.summary import TLS_COLUMNS
from tlsmon.x509.store import CERT_COLUMNS

#: Bumped whenever a column is renamed, removed or changes type (adding a column does not bump it).
SCHEMA_VERSION = "1"

CONNECTIONS: tuple[ColumnGroup, ...] = (CONN_COLUMNS, TLS_COLUMNS)
CERTIFICATES: tuple[ColumnGroup, ...] = (CERT_COLUMNS,)

TABLES: dict[str, tuple[ColumnGroup, ...]] = {
    "connections": CONNECTIONS,
    "certificates": CERTIFICATES,
}
