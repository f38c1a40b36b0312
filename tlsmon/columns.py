"""Column declarations: the one place a Parquet column is named, typed and described.

Each stage that contributes columns to a table declares a :class:`ColumnGroup` next to the slotted dataclass
that holds the values, with one :class:`Column` per dataclass field of the same name. The Parquet writer builds
its Arrow schema from the groups, and ``docs/schema.md`` is generated from the same groups, so the code, the
files and the documentation cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Column:
    """One Parquet column: its name, Arrow type, meaning and an example value as it would be printed."""

    name: str
    type: pa.DataType
    description: str
    example: str
    nullable: bool = True
    #: Nearly every value differs from the others (an id, a hash of the endpoints): the writer does not try
    #: dictionary encoding on it (:func:`tlsmon.output.parquet.dictionary_columns`).
    distinct: bool = False

    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable, metadata={"description": self.description})


@dataclass(frozen=True, slots=True)
class ColumnGroup:
    """Columns whose values are read, by attribute name, from one record object (e.g. the TLS summary)."""

    name: str
    columns: tuple[Column, ...]
    #: Prefix of the anomalies named for this group's values (``tls.value_out_of_range``); the name if empty.
    stage: str = ""

    def anomaly(self, suffix: str) -> str:
        """The named anomaly ``<stage>.<suffix>`` for a value of this group."""
        return f"{self.stage or self.name}.{suffix}"

    def names(self) -> list[str]:
        return [c.name for c in self.columns]
