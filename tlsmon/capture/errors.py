"""The one exception the capture stage raises: a file that cannot be read as a capture at all."""

from __future__ import annotations


class CaptureError(Exception):
    """A capture file is unusable; ``str()`` is one line, ``"<path>: <reason>"``.

    Raised for a missing or unreadable file, a file that is not a capture, an unsupported link type and a
    BPF filter libpcap rejects. Damage inside a readable file (a truncated record, a corrupt block) is not an
    error but a warning: the frames before it are kept and the next file is read.
    """
