"""Zeek's conn.log fields computed from a finished connection row: ``duration``, ``conn_state``, ``service``.

Theory of operation
-------------------
Zeek writes ``conn_state`` from the two TCP endpoint states its TCP analyzer keeps (inactive, SYN sent, SYN-ACK
sent, partial, established, closed, reset; ``TCPSessionAdapter::UpdateStateMachine``), folded into a name by
``conn_state()`` in ``base/protocols/conn/main.zeek``. tlsmon keeps no endpoint state machine, but its row keeps
the history letters Zeek records for the same packets, each once per direction in the order they first
occurred. Only a letter's first occurrence can move an endpoint: a later packet of the same kind finds the
endpoint already in the state the first one led to, where that kind changes nothing more (Zeek's states only
move forward on SYN, FIN, RST and the first data or ACK of a partial connection). So :func:`conn_state` replays
the letters through Zeek's transitions and applies Zeek's folding to the two states it ends with. The one
non-letter fact Zeek reads is whether both endpoints sent no data (``REJ`` after the originator's own RST);
the row's payload byte counts stand for Zeek's sequence-space sizes there.

``duration`` is Zeek's ``c$duration``, last packet time minus first, written only when it is above zero: a
connection of one packet (or of packets with one timestamp) has none (null), as in conn.log.

``service`` lists the analyzers that recognised the connection in the order they did, with Zeek's analyzer
names (``ssl`` for TLS, ``ldap_tcp`` for LDAP over TCP, ``http`` for an HTTP CONNECT proxy); protocols Zeek has
no analyzer for keep tlsmon's name (``nntp``, ``sieve``). Zeek confirms its SSL analyzer on the first hello it
parses and takes the service back on a protocol violation, unless the violation comes more than
``DPD::ignore_violations_after`` (10 KiB) into the connection. tlsmon's counterpart of a violation is a record
header it cannot read (``tls.unknown_content_type``, ``tls.bad_record_version``), e.g. an HTTP server's
answer to a ClientHello; the row does not say where in the stream it was, so one met before any ServerHello
was parsed stands for an early violation, and one after a ServerHello (after a gap deep in the session, say)
for a late one that Zeek ignores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import IntEnum
from functools import lru_cache

NS_PER_S = 1_000_000_000

#: tlsmon's ``app_proto`` → Zeek's analyzer name in ``service`` (absent: the same word).
ZEEK_SERVICE_NAMES: dict[str, str] = {
    "ldap": "ldap_tcp",
    "http-proxy": "http",
}
#: The TLS anomalies that are Zeek's protocol violations of the SSL analyzer (which remove ``ssl`` again).
TLS_VIOLATIONS = frozenset({"tls.unknown_content_type", "tls.bad_record_version"})


def duration(ts_start: int, ts_end: int) -> float | None:
    """Seconds from the first to the last packet; None when that is not above zero (Zeek leaves it unset)."""
    span = ts_end - ts_start
    return span / NS_PER_S if span > 0 else None


def service(app_proto: str | None, tls_mode: str, server_hello: bool, anomalies: Iterable[str]) -> str | None:
    """Zeek's ``service``: the recognised protocols in order, comma separated; None when there is none.

    ``server_hello``: the TLS analyzer parsed a ServerHello (the row has a negotiated version).
    """
    names: list[str] = []
    if app_proto is not None and app_proto != "tls":
        names.append(ZEEK_SERVICE_NAMES.get(app_proto, app_proto))
    if tls_mode != "none" and (server_hello or TLS_VIOLATIONS.isdisjoint(anomalies)):
        names.append("ssl")
    return ",".join(names) or None


class _State(IntEnum):
    INACTIVE = 0
    SYN_SENT = 1
    SYN_ACK_SENT = 2
    PARTIAL = 3
    ESTABLISHED = 4
    CLOSED = 5
    RESET = 6


class _Endpoint:
    __slots__ = ("prev", "state")

    def __init__(self) -> None:
        self.state = _State.INACTIVE
        self.prev = _State.INACTIVE

    def set(self, state: _State) -> None:
        if state != self.state:
            self.prev = self.state
            self.state = state


# Zeek's RSTOS0 test on the history: the originator's SYN, then its RST before any SYN-ACK, ACK, FIN or gap.
_RSTOS0 = re.compile(r"\^?S[^HAFGIQ]*R.*")
_LETTER_FLAGS = {"S": (True, False), "H": (True, True)}  # SYN letters: (syn, ack)


def conn_state(history: str, orig_bytes: int, resp_bytes: int) -> str:
    """Zeek's conn_state of a TCP connection from its history letters (see the module docstring)."""
    return _conn_state(history, orig_bytes == 0 and resp_bytes == 0)


@lru_cache(maxsize=4096)  # a run has few distinct histories: replay each once
def _conn_state(history: str, no_data: bool) -> str:
    orig, resp = _Endpoint(), _Endpoint()
    for letter in history:
        kind = letter.upper()
        if kind not in "SHFRDA":
            continue  # gaps and letters tlsmon does not write move no endpoint
        is_orig = letter.isupper()
        endpoint, peer = (orig, resp) if is_orig else (resp, orig)
        _step(endpoint, peer, orig, kind, is_orig)
    return _fold(orig.state, resp.state, history, no_data)


def _step(endpoint: _Endpoint, peer: _Endpoint, orig: _Endpoint, kind: str, is_orig: bool) -> None:
    state = endpoint.state
    syn, ack = _LETTER_FLAGS.get(kind, (False, kind != "R"))
    fin, rst = kind == "F", kind == "R"
    if state == _State.INACTIVE:
        if syn:
            if is_orig:
                endpoint.set(_State.SYN_ACK_SENT if ack else _State.SYN_SENT)
            else:
                if peer.state == _State.SYN_SENT:
                    peer.set(_State.ESTABLISHED)
                endpoint.set(_State.ESTABLISHED)
        if fin:
            endpoint.set(_State.CLOSED)
        if rst:
            endpoint.set(_State.RESET)
        if endpoint.state == _State.INACTIVE:
            if not is_orig and kind == "A" and orig.state == _State.SYN_SENT:
                pass  # an ACK of the SYN before the SYN-ACK does not make a partial connection
            elif ack and peer.state == _State.ESTABLISHED:
                endpoint.set(_State.ESTABLISHED)
            else:
                endpoint.set(_State.PARTIAL)
    elif state in (_State.SYN_SENT, _State.SYN_ACK_SENT):
        if fin:
            endpoint.set(_State.CLOSED)
        if rst:
            endpoint.set(_State.RESET)
    elif state in (_State.ESTABLISHED, _State.PARTIAL):
        if syn and not ack and state == _State.PARTIAL and peer.state == _State.INACTIVE:
            endpoint.set(_State.SYN_SENT)
        if fin:
            endpoint.set(_State.CLOSED)
            if peer.state == _State.RESET and peer.prev == _State.CLOSED:
                peer.set(_State.CLOSED)  # the peer's FIN then RST was a normal close
        if rst:
            endpoint.set(_State.RESET)
    elif state == _State.CLOSED and rst and peer.state != _State.CLOSED:
        endpoint.set(_State.RESET)


def _fold(os: _State, rs: _State, history: str, no_data: bool) -> str:
    o_inactive = os in (_State.INACTIVE, _State.PARTIAL)
    r_inactive = rs in (_State.INACTIVE, _State.PARTIAL)
    if rs == _State.RESET:
        if os in (_State.SYN_SENT, _State.SYN_ACK_SENT) or (os == _State.RESET and no_data):
            return "REJ"
        return "RSTRH" if o_inactive else "RSTR"
    if os == _State.RESET:
        if r_inactive:
            return "RSTOS0" if _RSTOS0.fullmatch(history) else "OTH"
        return "RSTO"
    if rs == _State.CLOSED and os == _State.CLOSED:
        return "SF"
    if os == _State.CLOSED:
        return "SH" if r_inactive else "S2"
    if rs == _State.CLOSED:
        return "SHR" if o_inactive else "S3"
    if os == _State.SYN_SENT and rs == _State.INACTIVE:
        return "S0"
    if os == _State.ESTABLISHED and rs == _State.ESTABLISHED:
        return "S1"
    return "OTH"
