"""Small helpers shared by the text protocols: command verbs, SASL-style tokens, numeric replies, reply queues
and multi-line replies."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")

# RFC 4422 §3.1 SASL mechanism names: 1 to 20 of A-Z 0-9 - _ (compared case-insensitively here).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,20}\Z")
# Longest verb kept: RFC 5321 verbs are 4 letters, extensions longer (X-ANONYMOUSTLS); anything longer is junk.
_MAX_VERB = 24

#: The first entry of a queue of commands awaiting replies: the server's greeting answers no command.
GREETING = "<greeting>"


def verb_of(line: bytes) -> str:
    """The first word of a command line, upper case ASCII; '' when absent or implausibly long."""
    word = line.split(None, 1)[0] if line.strip() else b""
    if len(word) > _MAX_VERB:
        return ""
    return word.decode("ascii", "replace").upper()


def is_token(text: str) -> bool:
    return bool(_TOKEN.match(text))


def mechanism(line: bytes) -> str:
    """The second word of a command line (``AUTH PLAIN …``), upper case, when it is a plausible mechanism name;
    '' otherwise. Whatever follows it (an initial response) is never looked at."""
    parts = line.split(None, 2)
    if len(parts) < 2:
        return ""
    mech = parts[1].decode("ascii", "replace").upper()
    return mech if is_token(mech) else ""


def first_line(data: bytes) -> tuple[bytes, bool]:
    """A probe's view of the first bytes: the first line without its terminator, and whether it is complete."""
    end = data.find(b"\n")
    if end < 0:
        return data, False
    return data[:end].rstrip(b"\r"), True


def tokens(lines: Iterable[bytes]) -> tuple[str, ...]:
    """The non-empty lines of a capability listing, decoded and stripped."""
    return tuple(t for t in (line.decode("ascii", "replace").strip() for line in lines) if t)


def reply_code(line: bytes) -> tuple[str | None, bool]:
    """A numeric reply line's code and whether more lines of the same reply follow (``250-``); (None, False) when
    the line is not three digits followed by ' ', '-' or the line end (RFC 5321 §4.2, RFC 959 §4.2)."""
    if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in (b" ", b"-", b""):
        return None, False
    return line[:3].decode(), line[3:4] == b"-"


def answered(pending: deque[str], code: str, greeting_codes: frozenset[str]) -> str:
    """Take the command a final reply answers from a non-empty queue that starts with :data:`GREETING`.

    A capture that began after the greeting has no greeting reply: a first reply whose code is no greeting code
    answers the first command instead.
    """
    command = pending.popleft()
    if command == GREETING and code not in greeting_codes and pending:
        command = pending.popleft()
    return command


def unstuff(line: bytes) -> bytes:
    """A line of a dot-terminated block without its stuffed leading dot (RFC 1939 §3, RFC 3977 §3.1.1: the first
    octet of a line that starts with "." and has more after it is not data). The lone "." ends the block."""
    return line[1:] if line[:1] == b"." else line


class Listing(Generic[T]):
    """The lines of one multi-line reply, at most ``limit`` kept: RFCs set no limit, real ones have dozens."""

    __slots__ = ("_items", "_limit", "_turned_away")

    def __init__(self, limit: int) -> None:
        self._items: list[T] = []
        self._limit = limit
        self._turned_away = False

    def add(self, item: T) -> bool:
        """Keep ``item`` if there is room; True when it is the first one turned away (the caller names that)."""
        if len(self._items) < self._limit:
            self._items.append(item)
            return False
        first = not self._turned_away
        self._turned_away = True
        return first

    def take(self) -> list[T]:
        """The lines kept; the listing starts afresh."""
        items, self._items, self._turned_away = self._items, [], False
        return items
