"""A per-direction receive buffer for line protocols (SMTP, IMAP, POP3, FTP, NNTP, IRC, ManageSieve).

Theory of operation (after h11's ``_receivebuffer``): bytes are appended as they arrive; :meth:`next_line`
returns one complete line without its terminator, or None when no complete line is buffered yet. The search
for the terminator resumes where the last search stopped, so a long line arriving byte by byte is not
rescanned. A line longer than ``max_line`` (:attr:`tlsmon.limits.Limits.max_line`) is a protocol violation on
the wire: the buffer reports it once through :attr:`overflowed` and discards bytes up to the next line end, so
one bad line cannot grow memory (a caller that leaves lines unread, e.g. while the client waits after STARTTLS,
bounds what it leaves with :attr:`~tlsmon.limits.Limits.max_held_bytes`).

Lines end at LF; a CR before it is dropped (RFC 5321 §2.3.8 requires CRLF, but servers and clients sending bare
LF are common enough that Zeek and Suricata accept them too). :meth:`skip` passes over a number of raw octets
that are not lines (an IMAP or ManageSieve literal, RFC 9051 §4.3, RFC 5804 §4): those buffered are dropped at
once, the rest as they arrive. :meth:`take_rest` hands over every byte not yet returned as a line: the hand-off
point for a STARTTLS upgrade, where the rest of the stream is TLS.
"""

from __future__ import annotations

from tlsmon.limits import DEFAULT_LIMITS


class LineBuffer:
    __slots__ = ("_buf", "_discarding", "_searched", "_skip", "max_line", "overflowed")

    def __init__(self, max_line: int = DEFAULT_LIMITS.max_line) -> None:
        self._buf = bytearray()
        self._searched = 0
        self._discarding = False
        self._skip = 0  # octets still to pass over as they arrive
        self.max_line = max_line
        self.overflowed = 0  # lines that exceeded max_line

    def __len__(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        if self._skip:
            passed = min(self._skip, len(data))
            self._skip -= passed
            data = data[passed:]
        self._buf += data

    def next_line(self) -> bytes | None:
        buf = self._buf
        while True:
            end = buf.find(b"\n", self._searched)
            if end < 0:
                if len(buf) > self.max_line:
                    if not self._discarding:
                        self.overflowed += 1
                        self._discarding = True
                    del buf[:]
                self._searched = len(buf)
                return None
            line = bytes(buf[:end])
            del buf[: end + 1]
            self._searched = 0
            if self._discarding:
                self._discarding = False
                continue
            if len(line) > self.max_line:
                self.overflowed += 1
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            return line

    def skip(self, count: int) -> None:
        """Pass over the next ``count`` octets: they are never part of a line."""
        passed = min(count, len(self._buf))
        del self._buf[:passed]
        self._searched = 0
        self._skip += count - passed

    def lost(self, length: int) -> bool:
        """``length`` octets never arrived. True when they fell inside octets being passed over (the lines are
        intact); otherwise the partial line is dropped and lines resume after the next line end."""
        if self._skip > length:
            self._skip -= length
            return True
        self.take_rest()
        self._discarding = True
        return False

    def take_rest(self) -> bytes:
        """Every byte not yet returned as a line; the buffer is empty afterwards."""
        rest = bytes(self._buf)
        del self._buf[:]
        self._searched = 0
        self._discarding = False
        self._skip = 0
        return rest
