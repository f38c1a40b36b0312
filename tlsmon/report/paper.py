"""Published values of *TLS in the wild* (NDSS 2016), printed beside the measured ones.

Source: R. Holz, J. Amann, O. Mehani, M. Wachs, M. A. Kaafar, "TLS in the wild: An Internet-wide analysis of
TLS-based protocols for electronic communication", NDSS 2016 (preprint arXiv:1511.00341).

Each entry names the report table, the row (by its key columns), the column it compares with, the value as the
paper prints it, where in the paper it is and the URL of the copy of the paper it was read from. Only values
read in the paper's text belong here, never recalled ones. The stored copies searched for this build
(:data:`COPIES_SEARCHED`) hold the paper's title, authors, abstract and the start of its introduction only:
Table III, Table IV and the OCSP stapling and ALPN counts are not in them (docs/report.md, "Published values"),
so :data:`PUBLISHED` is empty and the report says so in each section that would show one. Adding an entry is
all it takes to have it printed beside its measured value.
"""

from __future__ import annotations

from dataclasses import dataclass

CITATION = (
    "Holz, Amann, Mehani, Wachs, Kaafar: TLS in the wild: An Internet-wide analysis of TLS-based protocols "
    "for electronic communication. NDSS 2016 (arXiv:1511.00341)"
)


@dataclass(frozen=True, slots=True)
class Published:
    """One published number: ``value`` is comparable with ``column`` of the row ``key`` in ``table``.

    ``where`` is the table or section of the paper, ``url`` the copy of the paper the number was read in.
    """

    table: str
    key: tuple[tuple[str, str], ...]
    column: str
    value: float
    where: str
    label: str
    url: str


#: Where the paper gives numbers for a section: shown even when no value is filled in.
PAPER_PLACES: dict[str, str] = {
    "r2": "Table III (STARTTLS: servers offering it, connections upgraded)",
    "r3": "Table IV (negotiated versions, passive column)",
    "r6": "the ALPN counts of the passive data",
    "r8": "the OCSP stapling counts of the passive data",
}

#: Stored copies of the paper searched for the values (2026-12-02): each holds the title, authors, abstract
#: and the start of the introduction, none a table or the passive-measurement section.
COPIES_SEARCHED: tuple[str, ...] = (
    "https://www.arxiv-vanity.com/papers/1511.00341/",
    "https://docslib.org/doc/231214/tls-in-the-wild-an-internet-wide-analysis-of-tls-based-protocols-for-electronic-communication",
    "https://docslib.org/doc/5755795/an-internet-wide-analysis-of-tls-based-protocols-for-electronic-communication",
    "https://pdfslide.us/documents/tls-in-the-wild-an-internet-wide-analysis-of-tls-based-tls-based-protocols.html",
    "https://arxiv.org/abs/1511.00341",
)

PUBLISHED: tuple[Published, ...] = ()
