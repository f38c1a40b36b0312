"""Published values of *TLS in the wild* (NDSS 2016), printed beside the measured ones.

Source: R. Holz, J. Amann, O. Mehani, M. Wachs, M. A. Kaafar, "TLS in the wild: An Internet-wide analysis of
TLS-based protocols for electronic communication", NDSS 2016 (preprint arXiv:1511.00341).

Each entry names the report table, the row (by its key columns), the column it compares with, the value as the
paper prints it and where in the paper it is. Only values read from the paper itself belong here: none could
be checked against a copy of the paper when this module was written (see docs/report.md, "Published
values"), so :data:`PUBLISHED` is empty and the report says so in each section that would show one. Adding an
entry is all it takes to have it printed beside its measured value.
"""

from __future__ import annotations

from dataclasses import dataclass

CITATION = (
    "Holz, Amann, Mehani, Wachs, Kaafar: TLS in the wild: An Internet-wide analysis of TLS-based protocols "
    "for electronic communication. NDSS 2016 (arXiv:1511.00341)"
)


@dataclass(frozen=True, slots=True)
class Published:
    """One published number: ``value`` is comparable with ``column`` of the row ``key`` in ``table``."""

    table: str
    key: tuple[tuple[str, str], ...]
    column: str
    value: float
    where: str
    label: str


#: Where the paper gives numbers for a section: shown even when no value is filled in.
PAPER_PLACES: dict[str, str] = {
    "r2": "Table III (STARTTLS: servers offering it, connections upgraded)",
    "r3": "Table IV (negotiated versions, passive column)",
    "r6": "the ALPN counts of the passive data",
    "r8": "the OCSP stapling counts of the passive data",
}

PUBLISHED: tuple[Published, ...] = ()
