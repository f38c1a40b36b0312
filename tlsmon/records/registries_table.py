"""The ``registries`` table: IANA's TLS registries as rows, written with every output so SQL can name codes.

Theory of operation
-------------------
The connections table stores numeric code lists (``client_ciphers``, ``client_supported_groups``,
``client_signature_algorithms``) next to Zeek-spelled names of the negotiated values. The ``registries`` table
holds every row of IANA's registries (:mod:`tlsmon.registries`, generated from the CSV files kept in
``registries/iana/``) so that a query joins an unnested code list on ``registry`` and ``code``. Ranges
(``Unassigned``, ``Reserved …``) are one row each, ``code`` to ``code_last``, as IANA writes them, so a join
on ``code BETWEEN code AND code_last`` names every value a client can send, GREASE included (IANA's
``Reserved`` rows of RFC 8701).

The names are IANA's. tlsmon's own name columns (``cipher``, ``curve``) keep Zeek's spellings, which the
ssl.log oracle depends on; :func:`zeek_differences` lists where the two differ, for docs/schema.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.tls.codes import cipher_name, group_name


@dataclass(frozen=True, slots=True)
class RegistryRow:
    registry: str
    code: int
    code_last: int
    name: str
    dtls_ok: bool | None
    recommended: str | None
    reference: str


REGISTRY_COLUMNS = ColumnGroup(
    "registry",
    (
        Column(
            "registry",
            pa.string(),
            "Which IANA registry: cipher_suites (TLS Cipher Suites), supported_groups (TLS Supported Groups), "
            "signature_schemes (TLS SignatureScheme).",
            "cipher_suites",
            nullable=False,
        ),
        Column(
            "code",
            pa.uint32(),
            "The row's code, or the first of its range (a cipher suite's two bytes as one number, 0x1301 = 4865).",
            "4865",
            nullable=False,
        ),
        Column(
            "code_last",
            pa.uint32(),
            "The last code the row covers: equal to code for one code, larger for IANA's ranges "
            "(Unassigned, Reserved …).",
            "4865",
            nullable=False,
        ),
        Column(
            "name",
            pa.string(),
            "IANA's Description, verbatim (GREASE values are IANA's 'Reserved' rows citing RFC 8701).",
            "TLS_AES_128_GCM_SHA256",
            nullable=False,
        ),
        Column("dtls_ok", pa.bool_(), "IANA's DTLS-OK; null where IANA leaves it empty or has no such column.", "true"),
        Column(
            "recommended",
            pa.string(),
            "IANA's Recommended: Y, N, or D (discouraged, RFC 8447bis); null where IANA leaves it empty.",
            "Y",
        ),
        Column("reference", pa.string(), "IANA's Reference, verbatim.", "[RFC8446]", nullable=False),
    ),
)

REGISTRIES_TABLE: tuple[ColumnGroup, ...] = (REGISTRY_COLUMNS,)

#: The example of docs/schema.md (tests/output/test_registries.py runs it): connections whose client offered
#: an RC4 cipher suite, with the suites' IANA names.
EXAMPLE_QUERY = """\
SELECT c.uid, c.orig_h, c.resp_h, list_sort(list_distinct(list(r.name))) AS rc4_offered
FROM (SELECT uid, orig_h, resp_h, unnest(client_ciphers) AS code FROM 'OUT/connections/*.parquet') c
JOIN 'OUT/registries/*.parquet' r
  ON r.registry = 'cipher_suites' AND c.code BETWEEN r.code AND r.code_last
WHERE r.name LIKE '%RC4%'
GROUP BY ALL
ORDER BY c.uid"""


def registry_rows() -> Iterator[RegistryRow]:
    """Every row of every registry, in registry order and IANA's order within each."""
    from tlsmon.registries import REGISTRIES  # 30 ms of import, needed once at the end of a run

    for registry, entries in REGISTRIES.items():
        for first, last, name, dtls_ok, recommended, reference in entries:
            yield RegistryRow(registry, first, last, name, dtls_ok, recommended, reference)


_ZEEK_NAMES: dict[str, Callable[[int], str]] = {"cipher_suites": cipher_name, "supported_groups": group_name}


def zeek_differences() -> list[tuple[str, int, str, str]]:
    """(registry, code, IANA's name, tlsmon's Zeek-spelled name) for every assigned code where they differ."""
    from tlsmon.registries import REGISTRIES

    out: list[tuple[str, int, str, str]] = []
    for registry, zeek_name in _ZEEK_NAMES.items():
        for first, last, name, *_ in REGISTRIES[registry]:
            if first == last and not name.startswith(("Unassigned", "Reserved")) and zeek_name(first) != name:
                out.append((registry, first, name, zeek_name(first)))
    return out


def schema_note() -> str:
    """The registries section of docs/schema.md after its column table."""
    lines = [
        "One file per output, `OUT/registries/registries.parquet` (`read`, `live` and `batch` write it; in a",
        "batch dataset `DATASET/registries/registries.parquet`), generated from IANA's CSV files in",
        "`registries/iana/` (see `SOURCE.md` there) by `scripts/gen_registries.py`. Join an unnested code list on",
        "`registry` and `code BETWEEN code AND code_last`; for example, connections whose client offered RC4:",
        "",
        "```sql",
        EXAMPLE_QUERY,
        "```",
        "",
        "The name columns of the connections table (`cipher`, `curve`) keep Zeek's spellings (ssl.log's), which",
        "differ from IANA's for these codes (`unknown-N` is a code Zeek has no name for):",
        "",
        "| registry | code | IANA | tlsmon (Zeek) |",
        "|---|---|---|---|",
    ]
    lines.extend(
        f"| {r} | {f'0x{c:04X}' if r == 'cipher_suites' else c} | `{iana}` | `{zeek}` |"
        for r, c, iana, zeek in zeek_differences()
    )
    return "\n".join(lines)
