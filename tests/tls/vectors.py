"""Byte builders for hand-made TLS messages, and the illustrated-TLS record dumps from the shared corpus.

The illustrated captures (tls12.xargs.org, tls13.xargs.org) are annotated byte by byte on those sites, which
makes them exact, independently documented vectors.
"""

from __future__ import annotations

from pathlib import Path

from tests.corpus.location import CORPUS

ILLUSTRATED_TLS12 = CORPUS / "illustrated-tls12" / "captures" / "caps"
ILLUSTRATED_TLS13 = CORPUS / "illustrated-tls13" / "captures" / "caps"


def cap(directory: Path, name: str) -> bytes:
    return (directory / name).read_bytes()


def vec(length_size: int, data: bytes) -> bytes:
    """A TLS vector: big-endian length of ``length_size`` bytes, then the data."""
    return len(data).to_bytes(length_size, "big") + data


def u16s(*values: int) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def ext(code: int, data: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + vec(2, data)


def handshake(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + vec(3, body)


def record(content_type: int, body: bytes, version: int = 0x0303) -> bytes:
    return bytes([content_type]) + version.to_bytes(2, "big") + vec(2, body)


def client_hello(
    extensions: bytes | None = b"",
    suites: tuple[int, ...] = (0x1301, 0xC02F),
    session_id: bytes = b"",
    version: int = 0x0303,
) -> bytes:
    body = (
        version.to_bytes(2, "big")
        + bytes(range(32))
        + vec(1, session_id)
        + vec(2, u16s(*suites))
        + b"\x01\x00"
    )
    if extensions is not None:
        body += vec(2, extensions)
    return body


def server_hello(
    extensions: bytes | None = b"",
    suite: int = 0xC02F,
    session_id: bytes = b"",
    random: bytes = bytes(32),
    version: int = 0x0303,
) -> bytes:
    body = version.to_bytes(2, "big") + random + vec(1, session_id) + suite.to_bytes(2, "big") + b"\x00"
    if extensions is not None:
        body += vec(2, extensions)
    return body
