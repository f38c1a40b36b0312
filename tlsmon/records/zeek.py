"""Zeek's conn.log fields computed from a finished connection row: ``duration`` and ``service``.

Theory of operation
-------------------
(``conn_state``, ``orig_bytes`` and ``resp_bytes`` need Zeek's TCP endpoint states and sequence spaces, which
both engines keep packet by packet: tlsmon/tcp/endpoint.py.)

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

from collections.abc import Iterable

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
