"""Comparing one oracle case field by field, with the known differences applied.

A case (one connection of one baseline, one JA4 golden, one capture's hello counts) compares several fields.
Every field is compared and every mismatch reported together, each message naming the capture, the connection
and the field with both values, so one run shows the whole picture. Known differences decide per field: an
override replaces the oracle's value, ``xfail`` makes a mismatch expected (and a match a failure that asks for
the entry to go), anything else skips the field. A case whose fields are all skipped is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from tests.corpus.known_differences import Known, lookup


@dataclass(frozen=True, slots=True)
class Check:
    field: str
    expected: object
    known: Known | None


@dataclass(frozen=True, slots=True)
class CaseKey:
    source: str
    trace: str
    baseline: str
    conn: str

    def describe(self) -> str:
        where = f" [{self.baseline}]" if self.baseline != "-" else ""
        return f"{self.trace}{where} {self.conn}"


def plan(key: CaseKey, oracle: dict[str, object]) -> list[Check]:
    """The checks to run for ``oracle`` (field → oracle value); skips the case when none remain."""
    checks: list[Check] = []
    skipped: list[str] = []
    for name, value in oracle.items():
        known = lookup(key.source, key.trace, key.baseline, key.conn, name)
        if known is not None and not known.overrides and not known.xfail:
            skipped.append(f"{name}: {known.reason}")
            continue
        checks.append(Check(name, known.expected if known is not None and known.overrides else value, known))
    if not checks:
        pytest.skip("; ".join(dict.fromkeys(s.split(": ", 1)[1] for s in skipped)))
    return checks


def settle(key: CaseKey, checks: list[Check], actual: Mapping[str, object] | str) -> None:
    """Fail, xfail or pass the case. ``actual`` is tlsmon's values by field, or why there are none."""
    unexpected: list[str] = []
    expected_failures: list[str] = []
    fixed: list[str] = []
    for check in checks:
        got: object = actual if isinstance(actual, str) else actual[check.field]
        ok = not isinstance(actual, str) and got == check.expected
        oracle = check.expected if check.known is None or not check.known.overrides else (
            f"{check.expected!r} (oracle overridden: {check.known.reason})")
        message = f"{key.describe()} {check.field}: tlsmon {got!r} != expected {oracle!r}"
        bug = check.known is not None and check.known.xfail
        if ok and bug:
            assert check.known is not None
            fixed.append(f"{key.describe()} {check.field} now matches: remove the known difference "
                         f"({check.known.reason})")
        elif not ok and bug:
            assert check.known is not None
            expected_failures.append(f"{check.known.reason} [{message}]")
        elif not ok:
            unexpected.append(message)
    problems = unexpected + fixed
    assert not problems, "\n".join(problems)
    if expected_failures:
        pytest.xfail("\n".join(expected_failures))
