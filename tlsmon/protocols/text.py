"""Small helpers shared by the text protocols: command verbs and SASL-style tokens."""

from __future__ import annotations

import re

# RFC 4422 §3.1 SASL mechanism names: 1 to 20 of A-Z 0-9 - _ (compared case-insensitively here).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,20}\Z")
# Longest verb kept: RFC 5321 verbs are 4 letters, extensions longer (X-ANONYMOUSTLS); anything longer is junk.
_MAX_VERB = 24


def verb_of(line: bytes) -> str:
    """The first word of a command line, upper case ASCII; '' when absent or implausibly long."""
    word = line.split(None, 1)[0] if line.strip() else b""
    if len(word) > _MAX_VERB:
        return ""
    return word.decode("ascii", "replace").upper()


def is_token(text: str) -> bool:
    return bool(_TOKEN.match(text))
