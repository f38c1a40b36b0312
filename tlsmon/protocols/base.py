"""The interface every plaintext protocol analyzer implements, and the shared machinery of line protocols.

Theory of operation (h11's protocol switch, Suricata's upgrade request): an analyzer is fed each direction's
in-order bytes and returns events. When the client sends the upgrade command, its direction stops being parsed
(the client may not send anything before the server answers; what it does send is held, not parsed). The
server's answer then decides: accepted → :attr:`ProtocolAnalyzer.switched` becomes True, and
:meth:`ProtocolAnalyzer.trailing` hands the dispatcher each direction's bytes after the upgrade point, which
are the first TLS bytes; refused → the held client bytes are parsed as plaintext again.

:attr:`ProtocolAnalyzer.done` means nothing later in the stream can change the row (the message body began,
the client logged in without TLS, the session ended): the dispatcher then lets the connection be bypassed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from tlsmon.protocols.events import Anomaly, Event
from tlsmon.wire.linebuffer import LineBuffer


class ProtocolAnalyzer(ABC):
    #: the row's ``app_proto`` value
    name: ClassVar[str]

    def __init__(self) -> None:
        self.switched = False
        self.done = False
        self._events: list[Event] = []

    @abstractmethod
    def feed(self, is_orig: bool, data: bytes) -> list[Event]:
        """Parse the next in-order bytes of one direction; return what they showed."""

    @abstractmethod
    def gap(self, is_orig: bool, length: int) -> list[Event]:
        """``length`` bytes of one direction were lost."""

    @abstractmethod
    def trailing(self, is_orig: bool) -> bytes:
        """After the switch: that direction's bytes following the upgrade point (the first TLS bytes)."""

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _anomaly(self, name: str) -> None:
        self._events.append(Anomaly(name))

    def _take_events(self) -> list[Event]:
        events = self._events
        self._events = []
        return events


class LineProtocol(ProtocolAnalyzer):
    """A protocol whose both directions are CRLF lines until the upgrade (SMTP, IMAP, POP3, FTP, NNTP, …).

    Subclasses implement :meth:`client_line` and :meth:`server_line`; they call :meth:`hold_client` when the
    client sent the upgrade command, then :meth:`switch` or :meth:`release_client` on the server's answer.
    """

    def __init__(self) -> None:
        super().__init__()
        self._client = LineBuffer()
        self._server = LineBuffer()
        self._client_held = False
        self._trailing_client = b""
        self._trailing_server = b""

    @abstractmethod
    def client_line(self, line: bytes) -> None: ...

    @abstractmethod
    def server_line(self, line: bytes) -> None: ...

    def feed(self, is_orig: bool, data: bytes) -> list[Event]:
        if self.switched:
            if is_orig:
                self._trailing_client += data
            else:
                self._trailing_server += data
            return []
        if self.done:
            return []
        if is_orig:
            self._client.feed(data)
            self._drain_client()
        else:
            self._server.feed(data)
            self._drain_server()
        return self._take_events()

    def gap(self, is_orig: bool, length: int) -> list[Event]:
        # A line protocol resynchronises at the next line end; if the upgrade was pending, give up on it.
        if self.switched or self.done:
            return []
        self._anomaly(f"{self.name}.gap")
        if self._client_held:
            self.done = True
            return self._take_events()
        buf = self._client if is_orig else self._server
        buf.take_rest()
        buf.resync()
        return self._take_events()

    def trailing(self, is_orig: bool) -> bytes:
        data = self._trailing_client if is_orig else self._trailing_server
        if is_orig:
            self._trailing_client = b""
        else:
            self._trailing_server = b""
        return data

    def hold_client(self) -> None:
        """The client sent the upgrade command: stop parsing its direction until the server answers."""
        self._client_held = True

    def switch(self) -> None:
        """The server accepted: everything after this line (server) and after the command (client) is TLS."""
        self.switched = True
        self._trailing_client = self._client.take_rest()
        self._trailing_server = self._server.take_rest()

    def release_client(self) -> None:
        """The server refused: the client's held bytes are plaintext after all."""
        self._client_held = False
        self._drain_client()

    def _drain_client(self) -> None:
        buf = self._client
        while not self._client_held and not self.switched and not self.done:
            line = buf.next_line()
            if line is None:
                break
            self.client_line(line)
        self._count_overflow(buf)

    def _drain_server(self) -> None:
        buf = self._server
        while not self.switched and not self.done:
            line = buf.next_line()
            if line is None:
                break
            self.server_line(line)
        self._count_overflow(buf)

    def _count_overflow(self, buf: LineBuffer) -> None:
        if buf.overflowed:
            for _ in range(buf.overflowed):
                self._anomaly(f"{self.name}.line_too_long")
            buf.overflowed = 0
