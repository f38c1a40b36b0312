"""The shared machinery of length-framed binary protocols (LDAP, PostgreSQL, MySQL/MariaDB).

Theory of operation: each direction has a receive buffer. The subclass's :meth:`BinaryProtocol.client_message`
and :meth:`BinaryProtocol.server_message` look at the start of their buffer and either say "not enough bytes
yet" (None) or return the length of the message they parsed. That length may exceed what is buffered: the
subclass read what it needed from the message's beginning (a result set row, a directory entry) and the rest is
skipped as it arrives, without being buffered. So a direction holds at most one message head, never a whole
result set.

The upgrade works as in :mod:`tlsmon.protocols.base`: :meth:`hold_client` after the client's upgrade request
stops parsing the client direction (the bytes after the request are held); :meth:`switch` on the server's
acceptance makes the bytes after the accepting message (server) and after the request (client) the trailing
TLS bytes; :meth:`release_client` on a refusal parses the held client bytes as plaintext. Both take effect once
the message being parsed has been consumed, so the hand-off point is the exact next byte.

Binary framing cannot resynchronise after lost bytes (Suricata's LDAP and PostgreSQL parsers stop too): a gap
ends the analysis unless it falls entirely inside bytes that were being skipped anyway.
"""

from __future__ import annotations

from abc import abstractmethod

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import ProtocolAnalyzer


class BinaryProtocol(ProtocolAnalyzer):
    """Message framing per direction; the head a direction buffers is bounded by :attr:`Limits.max_message_head`
    (anomaly ``<proto>.message_too_long``), the client bytes held during an upgrade by
    :attr:`Limits.max_held_bytes` (``<proto>.held_data_too_long``, shared with the line protocols)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._client = bytearray()
        self._server = bytearray()
        self._client_skip = 0
        self._server_skip = 0
        self._switch_pending = False

    @abstractmethod
    def client_message(self, buf: bytearray) -> int | None:
        """Parse the client message at the start of ``buf``: its full length, or None to wait for more.

        0 is allowed only together with :meth:`switch` or ``done`` (the bytes were not this protocol's).
        """

    @abstractmethod
    def server_message(self, buf: bytearray) -> int | None:
        """Parse the server message at the start of ``buf``: its full length, or None to wait for more."""

    # -- ProtocolAnalyzer ------------------------------------------------------------------------------
    def _receive(self, is_orig: bool, data: bytes) -> None:
        if is_orig:
            self._client += data
            self._drain_client()
        else:
            self._server += data
            self._drain_server()

    def _lost(self, is_orig: bool, length: int) -> None:
        buffered = len(self._client if is_orig else self._server)
        skip = self._client_skip if is_orig else self._server_skip
        if buffered == 0 and skip >= length:
            # The lost bytes were inside a message that was being skipped: nothing of interest was lost.
            if is_orig:
                self._client_skip -= length
            else:
                self._server_skip -= length
            return
        self._anomaly(f"{self.name}.gap")
        self.done = True

    # -- for subclasses --------------------------------------------------------------------------------
    def switch(self) -> None:
        """The server accepted: after the current message, both directions are TLS."""
        self._switch_pending = True

    def release_client(self) -> None:
        """The server refused: the held client bytes are plaintext after all (parsed after the current message)."""
        self._client_held = False

    # -- draining --------------------------------------------------------------------------------------
    def _drain_client(self) -> None:
        buf = self._client
        while not self._client_held and not self.switched and not self.done:
            if self._client_skip:
                self._client_skip = _skip(buf, self._client_skip)
                if self._client_skip:
                    return
            if not buf:
                return
            length = self.client_message(buf)
            if length is None:
                self._check_size(buf)
                return
            self._client_skip = _skip(buf, length)
            self._after_message()
        if self._client_held and not self.done and not self.switched and not self._held_fits(len(buf)):
            buf.clear()  # dropped

    def _drain_server(self) -> None:
        buf = self._server
        while not self.switched and not self.done:
            if self._server_skip:
                self._server_skip = _skip(buf, self._server_skip)
                if self._server_skip:
                    return
            if not buf:
                return
            was_held = self._client_held  # before the message: its answer may release the client
            length = self.server_message(buf)
            if length is None:
                self._check_size(buf)
                return
            self._server_skip = _skip(buf, length)
            self._after_message()
            if was_held and not self._client_held and not self.switched and not self.done:
                self._drain_client()

    def _after_message(self) -> None:
        if self._switch_pending:
            self._switch_pending = False
            if self._client_skip or self._server_skip:
                # The upgrading message is not wholly buffered, so the hand-off point is not known yet.
                self._anomaly(f"{self.name}.message_too_long")
                self.done = True
                return
            self._switch(bytes(self._client), bytes(self._server))
            self._client.clear()
            self._server.clear()

    def _check_size(self, buf: bytearray) -> None:
        if len(buf) > self.limits.max_message_head:
            self._anomaly(f"{self.name}.message_too_long")
            self.done = True


def _skip(buf: bytearray, count: int) -> int:
    """Drop up to ``count`` bytes from the front of ``buf``; return how many are still to be dropped."""
    if count <= len(buf):
        del buf[:count]
        return 0
    left = count - len(buf)
    buf.clear()
    return left
