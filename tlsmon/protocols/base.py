"""The interface every plaintext protocol analyzer implements, and the shared machinery of line protocols.

Theory of operation (h11's protocol switch, Suricata's upgrade request): an analyzer is fed each direction's
in-order bytes and returns events. When the client sends the upgrade command, its direction stops being parsed
(the client may not send anything before the server answers; what it does send is held, not parsed). The
server's answer then decides: accepted → :attr:`ProtocolAnalyzer.switched` becomes True, and
:meth:`ProtocolAnalyzer.trailing` hands the dispatcher each direction's bytes after the upgrade point, which
are the first TLS bytes; refused → the held client bytes are parsed as plaintext again.

:attr:`ProtocolAnalyzer.done` means nothing later in the stream can change the row (the message body began,
the client logged in without TLS, the session ended): the dispatcher then lets the connection be bypassed.

The base class does the part common to every analyzer: after the switch it only collects the trailing bytes,
once done it ignores everything, and it collects the events; a subclass parses plaintext in ``_receive`` and
handles lost bytes in ``_lost``. :class:`LineProtocol` adds the line buffers and the upgrade answer of the
text protocols; :class:`tlsmon.protocols.binary.BinaryProtocol` the message framing of the binary ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.events import Anomaly, AuthMechanismsOffered, Event, StartTlsAccepted, StartTlsRejected
from tlsmon.protocols.text import is_token
from tlsmon.wire.linebuffer import LineBuffer


class ProtocolAnalyzer(ABC):
    #: the row's ``app_proto`` value
    name: ClassVar[str]
    #: True for proxies (HTTP CONNECT, SOCKS): the switch opens a tunnel that may carry anything, not only TLS
    tunnel: ClassVar[bool] = False

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.switched = False
        self.done = False
        self._events: list[Event] = []
        self._client_held = False
        # after the switch: each direction's bytes from the upgrade point, until the dispatcher takes them
        self._trailing_client: list[bytes] = []
        self._trailing_server: list[bytes] = []

    def feed(self, is_orig: bool, data: bytes) -> list[Event]:
        """Parse the next in-order bytes of one direction; return what they showed."""
        if self.switched:
            trailing = self._trailing_client if is_orig else self._trailing_server
            trailing.append(data)
        elif not self.done:
            self._receive(is_orig, data)
        return self._take_events()

    def gap(self, is_orig: bool, length: int) -> list[Event]:
        """``length`` bytes of one direction were lost."""
        if not self.switched and not self.done:
            self._lost(is_orig, length)
        return self._take_events()

    def trailing(self, is_orig: bool) -> bytes:
        """After the switch: that direction's bytes following the upgrade point (the first TLS bytes)."""
        if is_orig:
            chunks, self._trailing_client = self._trailing_client, []
        else:
            chunks, self._trailing_server = self._trailing_server, []
        return b"".join(chunks)

    @abstractmethod
    def _receive(self, is_orig: bool, data: bytes) -> None:
        """Plaintext bytes of one direction (neither switched nor done)."""

    @abstractmethod
    def _lost(self, is_orig: bool, length: int) -> None:
        """Bytes of one direction were lost (neither switched nor done)."""

    def hold_client(self) -> None:
        """The client sent the upgrade command: its later bytes wait for the server's answer, unparsed."""
        self._client_held = True

    def _switch(self, client: bytes, server: bytes) -> None:
        """The upgrade took effect: ``client`` and ``server`` are the first TLS bytes of each direction."""
        self.switched = True
        self._trailing_client = [client] if client else []
        self._trailing_server = [server] if server else []

    def _pending_fits(self, pending: int) -> bool:
        """Whether one more command may join a queue of ``pending`` unanswered ones (the greeting counts).

        Past :attr:`Limits.max_pending_commands` tracking stops: the anomaly ``<proto>.too_many_pending_commands``
        and the analyzer is done (Suricata's TooManyTransactions).
        """
        if pending < self.limits.max_pending_commands:
            return True
        self._anomaly(f"{self.name}.too_many_pending_commands")
        self.done = True
        return False

    def _held_fits(self, held: int) -> bool:
        """Whether ``held`` client bytes waiting for the server's answer are within :attr:`Limits.max_held_bytes`.

        Past it, every protocol does the same: the anomaly ``<proto>.held_data_too_long``, and the analyzer is
        done (the dispatcher then releases it and its buffers, and the connection is bypassed).
        """
        if held <= self.limits.max_held_bytes:
            return True
        self._anomaly(f"{self.name}.held_data_too_long")
        self.done = True
        return False

    def _offer_mechanisms(self, names: Iterable[str]) -> None:
        """The server listed SASL mechanisms: those with a plausible name, upper case, are offered."""
        mechs = tuple(m.upper() for m in names if is_token(m))
        if mechs:
            self._emit(AuthMechanismsOffered(mechs))

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
    client sent the upgrade command, then :meth:`upgrade_answer` with the server's answer.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._client = LineBuffer(limits.max_line)
        self._server = LineBuffer(limits.max_line)

    @abstractmethod
    def client_line(self, line: bytes) -> None: ...

    @abstractmethod
    def server_line(self, line: bytes) -> None: ...

    def _receive(self, is_orig: bool, data: bytes) -> None:
        (self._client if is_orig else self._server).feed(data)
        self._drain(is_orig)
        if is_orig and not self.done and not self.switched and self._client_waits():
            if not self._held_fits(len(self._client)):
                self._client.take_rest()  # dropped

    def _lost(self, is_orig: bool, length: int) -> None:
        # A line protocol resynchronises at the next line end; if the upgrade was pending, give up on it.
        self._anomaly(f"{self.name}.gap")
        if self._client_held:
            self.done = True
        elif not (self._client if is_orig else self._server).lost(length):
            self._resynchronised(is_orig)

    def _resynchronised(self, is_orig: bool) -> None:
        """Lines of that direction resume after the next line end: forget what the lost bytes were part of."""

    def _client_waits(self) -> bool:
        """Whether the client's lines wait for the server (after the upgrade command, or a subclass's reason)."""
        return self._client_held

    def upgrade_answer(self, reply: str, accepted: bool, pipelined: str) -> None:
        """The server answered the upgrade command. Accepted: everything after this line (server) and after the
        command (client) is TLS; client bytes already sent are the ``pipelined`` anomaly. Refused: the client's
        held bytes are plaintext after all."""
        if accepted:
            self._emit(StartTlsAccepted(reply))
            self._switch(self._client.take_rest(), self._server.take_rest())
            if self._trailing_client:
                self._anomaly(pipelined)
        else:
            self._emit(StartTlsRejected(reply))
            self._client_held = False
            self._drain(True)

    def _drain(self, is_orig: bool) -> None:
        buf = self._client if is_orig else self._server
        handle = self.client_line if is_orig else self.server_line
        while not self.switched and not self.done and not (is_orig and self._client_waits()):
            line = buf.next_line()
            if line is None:
                break
            handle(line)
        for _ in range(buf.overflowed):
            self._anomaly(f"{self.name}.line_too_long")
        buf.overflowed = 0
