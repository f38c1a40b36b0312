"""Which files a batch reads, and each file's identity.

INPUT arguments are files, folders (walked recursively, hidden entries skipped, files in sorted order) or glob
patterns (``*``, ``?``, ``[``; ``**`` crosses folders). Every file found is one input; the format is left to the
capture reader, so a file that is not a capture becomes a failed input with its reason, not a silent skip.

The *input id* names the input's part files (``part-<input-id>.parquet``). By default it hashes the file's
absolute path, size and modification time (nanoseconds): cheap, and a rewritten file gets a new id. With
``--hash`` it hashes the content instead (BLAKE2b over the whole file): a file copied or touched without being
changed keeps its id, at the cost of reading every input once more.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_GLOB_CHARS = frozenset("*?[")
_HASH_CHUNK = 1 << 20
ID_BYTES = 10  # 20 hex digits: collisions need ~2^40 inputs


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str  # absolute
    size: int
    mtime_ns: int
    input_id: str
    identity: str  # "stat" or "hash"


class InputError(Exception):
    """An INPUT argument names nothing (no such file, or a glob matching no file); ``str()`` is one line."""


def discover(arguments: Iterable[str]) -> list[str]:
    """Absolute paths of every input file, in argument order, each once."""
    seen: set[str] = set()
    found: list[str] = []
    for arg in arguments:
        paths = list(_expand(arg))
        if not paths:
            raise InputError(f"{arg}: {'no file matches' if _is_glob(arg) else 'no such file or folder'}")
        for path in paths:
            if path not in seen:
                seen.add(path)
                found.append(path)
    return found


def identify(path: str, content_hash: bool = False) -> InputFile:
    st = os.stat(path)
    if content_hash:
        digest = hashlib.blake2b(digest_size=ID_BYTES)
        with open(path, "rb") as f:
            while chunk := f.read(_HASH_CHUNK):
                digest.update(chunk)
        return InputFile(path, st.st_size, st.st_mtime_ns, digest.hexdigest(), "hash")
    key = f"{path}\0{st.st_size}\0{st.st_mtime_ns}".encode()
    input_id = hashlib.blake2b(key, digest_size=ID_BYTES).hexdigest()
    return InputFile(path, st.st_size, st.st_mtime_ns, input_id, "stat")


def _is_glob(arg: str) -> bool:
    return any(c in _GLOB_CHARS for c in arg)


def _expand(arg: str) -> Iterator[str]:
    if _is_glob(arg) and not os.path.exists(arg):
        for match in sorted(glob.glob(arg, recursive=True)):
            yield from _walk(Path(match))
        return
    path = Path(arg)
    if path.exists():
        yield from _walk(path)


def _walk(path: Path) -> Iterator[str]:
    if path.is_file():
        yield str(path.resolve())
        return
    if not path.is_dir():
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield str((Path(root) / name).resolve())
