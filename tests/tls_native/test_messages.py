"""Property test: hand-built handshakes whose every field and extension body is drawn, equal on both analyzers.

Random mutation of real streams rarely lands inside one extension's body with the right length; this test
builds the messages from the wire format (tests/tls/vectors.py builders) and draws each part well formed or,
about one time in eight, not: session ids of 0-33 bytes, empty or odd-length suite lists, every extension code
the parsers decode (client and server side, GREASE and an unknown one) with a well-formed body for its code or
a random or wrongly shaped one, damaged extension blocks, HelloRetryRequest randoms and TLS 1.3 draft
versions, then a server flight of HelloVerifyRequest, Certificate, ServerKeyExchange (under DHE/ECDHE/PSK suites),
CertificateRequest, CertificateStatus, NewSessionTicket, alerts and ChangeCipherSpec with drawn bodies. Both
analyzers get the same records, over TCP in the same (drawn) chunking or, as QUIC and DTLS hand them over,
through ``record()`` with the DTLS cookie and a second ClientHello; every summary field, the anomaly list and
``finished`` must be equal after every call.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tls.vectors import handshake, record, u16s, vec
from tests.tls_native.tee import differences, native_analyzer
from tlsmon.limits import Limits
from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.codes import HRR_RANDOM

CLIENT_EXTENSIONS = (0, 5, 10, 11, 13, 15, 16, 21, 22, 23, 28, 35, 40, 41, 42, 43, 45, 51, 0xFE0D, 0xFF01, 0x0A0A, 99)
SERVER_EXTENSIONS = (5, 11, 15, 16, 22, 23, 28, 35, 40, 41, 43, 51, 0xFF01, 0x1A1A, 99)
# ECDHE, DHE, ECDHE_PSK, DHE_PSK, RSA, TLS 1.3 suites, and an unknown code
SUITES = (0xC02F, 0x009E, 0xC035, 0x008F, 0x002F, 0x1301, 0x0005, 0xFEFE)
VERSIONS = (0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7F12, 0x7F17, 0x7E02, 0x0002, 0xFEFD)
SERVER_MESSAGES = (11, 12, 13, 14, 16, 22, 4, 8, 20, 3, 99)  # 3: DTLS HelloVerifyRequest


def rarely(draw: st.DrawFn) -> bool:
    """True about once in eight draws: the malformed variant of a field."""
    return draw(st.integers(0, 7)) == 5  # not a boundary value: Hypothesis favours those


@st.composite
def session_id(draw: st.DrawFn) -> bytes:
    return draw(st.binary(min_size=33, max_size=33) if rarely(draw) else st.binary(max_size=32))


def _vector_of(inner: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.tuples(st.sampled_from((1, 2, 3)), inner).map(lambda t: vec(t[0], t[1]))


small = st.binary(max_size=12)
u16_list = st.lists(st.sampled_from((0x0304, 0x0303, 29, 23, 0x0A0A, 0x0403, 0x0804, 1)), max_size=5).map(
    lambda v: u16s(*v)
)
alpn_list = st.lists(st.sampled_from((b"h2", b"http/1.1", b"", b"\xff\x01", b"x")), min_size=1, max_size=3).map(
    lambda names: b"".join(vec(1, n) for n in names)
)
server_names = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from((b"example.test", b"", b"\xe9t\xe9"))), max_size=3
).map(lambda names: vec(2, b"".join(bytes([t]) + vec(2, n) for t, n in names)))
body = st.one_of(
    small,
    server_names,
    st.just(b""),
    _vector_of(small),
    _vector_of(u16_list),
    _vector_of(alpn_list),
    u16_list,
    st.tuples(small, small).map(lambda t: vec(2, vec(2, t[0]) + vec(2, t[1]))),  # key shares / ECH-ish
    st.tuples(st.integers(0, 1), small).map(lambda t: bytes([t[0]]) + small_pad(t[1])),
)


def small_pad(data: bytes) -> bytes:
    return data.ljust(5, b"\x00") + vec(2, data[:3]) + vec(2, data[3:])


key_shares = st.lists(st.tuples(st.sampled_from((29, 23, 0x0A0A)), small), max_size=3).map(
    lambda shares: vec(2, b"".join(u16s(g) + vec(2, k) for g, k in shares))
)
#: a well-formed body for each decoded extension code (client side; the server side reads the same shapes)
WELL_FORMED: dict[int, st.SearchStrategy[bytes]] = {
    0: server_names,
    5: st.just(b"\x01\x00\x00\x00\x00"),
    10: u16_list.map(lambda v: vec(2, v)),
    11: small.map(lambda v: vec(1, v)),
    13: u16_list.map(lambda v: vec(2, v)),
    15: st.sampled_from((b"\x01", b"\x02")),
    16: alpn_list.map(lambda v: vec(2, v)),
    21: small,
    28: st.just(b"\x40\x01"),
    35: small,
    40: key_shares,
    41: small,
    43: st.one_of(u16_list.map(lambda v: vec(1, v)), st.just(b"\x03\x04")),
    45: st.just(b"\x01\x01"),
    51: st.one_of(key_shares, st.just(u16s(29) + vec(2, b"\x01" * 32)), st.just(u16s(23))),
    0xFE0D: st.one_of(
        st.just(b"\x01"),
        st.tuples(small, small).map(lambda t: b"\x00\x00\x01\x00\x01\x07" + vec(2, t[0]) + vec(2, t[1])),
    ),
    0xFF01: st.just(b"\x00"),
}


@st.composite
def extension(draw: st.DrawFn, codes: tuple[int, ...]) -> bytes:
    code = draw(st.sampled_from(codes))
    well_formed = WELL_FORMED.get(code)
    data = draw(well_formed if well_formed is not None and not rarely(draw) else body)
    return code.to_bytes(2, "big") + vec(2, data)


def _extensions(codes: tuple[int, ...]) -> st.SearchStrategy[bytes]:
    return st.lists(extension(codes), max_size=8).map(b"".join)


@st.composite
def client_hello(draw: st.DrawFn, dtls: bool = False) -> bytes:
    suites = draw(
        st.lists(st.sampled_from((*SUITES, 0x5600, 0x00FF, 0x2A2A)), min_size=0 if rarely(draw) else 1, max_size=5)
    )
    suite_bytes = u16s(*suites) + (b"\x01" if rarely(draw) else b"")  # sometimes an odd length
    out = (
        draw(st.sampled_from(VERSIONS)).to_bytes(2, "big")
        + draw(st.binary(min_size=32, max_size=32))
        + vec(1, draw(session_id()))
        + (vec(1, draw(st.binary(max_size=8))) if dtls else b"")  # DTLS: the cookie
        + vec(2, suite_bytes)
        + vec(1, b"" if rarely(draw) else draw(st.sampled_from((b"\x00", b"\x01\x00"))))
    )
    if draw(st.booleans()):
        block = draw(_extensions(CLIENT_EXTENSIONS))
        out += vec(2, block) + draw(st.sampled_from((b"", b"", b"\x00")))  # bytes after the block
        if draw(st.integers(0, 9)) == 0:
            out = out[: -draw(st.integers(1, 4))]  # a cut block
    return out


@st.composite
def server_hello(draw: st.DrawFn) -> bytes:
    version = draw(st.sampled_from(VERSIONS))
    random = draw(st.sampled_from((HRR_RANDOM, bytes(32), bytes(range(32)))))
    out = version.to_bytes(2, "big") + random
    if not 0x7F00 <= version < 0x7F16 or draw(st.booleans()):
        out += vec(1, draw(session_id()))
    out += draw(st.sampled_from(SUITES)).to_bytes(2, "big") + draw(st.sampled_from((b"\x00", b"\x00", b"")))
    if draw(st.booleans()):
        block = draw(_extensions(SERVER_EXTENSIONS))
        out += vec(2, block)
        if draw(st.integers(0, 5)) == 0:
            out = out[: -draw(st.integers(1, 4))]
    return out


@st.composite
def server_message(draw: st.DrawFn) -> bytes:
    msg_type = draw(st.sampled_from(SERVER_MESSAGES))
    if msg_type == 11:  # Certificate: TLS 1.3 context or not, entries with or without extensions
        ders = draw(st.lists(st.binary(min_size=draw(st.sampled_from((0, 1, 1))), max_size=6), max_size=5))
        entries = b"".join(vec(3, d) + (vec(2, b"") if draw(st.booleans()) else b"") for d in ders)
        payload = vec(3, entries)
        if draw(st.booleans()):
            payload = vec(1, b"") + payload
    elif msg_type == 12:  # ServerKeyExchange: ECParameters or ServerDHParams, maybe after a PSK hint
        ec = bytes([draw(st.sampled_from((3, 1)))]) + u16s(draw(st.sampled_from((29, 23, 999)))) + vec(1, b"\x04")
        dh = vec(2, draw(st.binary(max_size=4))) + vec(2, b"\x02") + vec(2, b"\x05")
        payload = draw(st.sampled_from((b"", vec(2, b"hint")))) + draw(st.sampled_from((ec, dh, b"")))
    elif msg_type == 22:  # CertificateStatus
        payload = bytes([draw(st.sampled_from((1, 2)))]) + vec(3, draw(st.binary(max_size=4)))
    elif msg_type == 4:  # NewSessionTicket
        payload = draw(st.binary(min_size=4, max_size=4)) + vec(2, draw(st.binary(max_size=4)))
    elif msg_type == 13:  # CertificateRequest
        payload = vec(1, b"\x01") + vec(2, u16s(0x0403)) + vec(2, vec(2, b"ca"))
    else:
        payload = b""
    if draw(st.integers(0, 3)) == 0:
        payload = draw(st.binary(max_size=10))
    elif draw(st.integers(0, 5)) == 0:
        payload = payload[:-1] + draw(st.binary(max_size=2))
    return handshake(msg_type, payload)


Call = tuple[str, bool, int, bytes]  # ("data", is_orig, 0, bytes) or ("record", is_orig, content_type, body)


@st.composite
def connections(draw: st.DrawFn) -> tuple[Limits, str, list[Call]]:
    """A drawn handshake as the calls one analyzer gets: TLS bytes in drawn chunks over TCP ("t"), or the
    records one by one through ``record()`` as the QUIC ("q") and DTLS ("d") layers hand them over; a DTLS
    client sends its ClientHello again after a HelloVerifyRequest."""
    transport = draw(st.sampled_from("ttqd"))
    dtls = transport == "d"
    records: list[tuple[bool, int, bytes]] = [(True, 22, handshake(1, draw(client_hello(dtls))))]
    flight = handshake(2, draw(server_hello())) + b"".join(draw(st.lists(server_message(), max_size=6)))
    while flight:  # the flight in records of drawn sizes
        n = draw(st.integers(1, 300))
        records.append((False, 22, flight[:n]))
        flight = flight[n:]
    if dtls and draw(st.booleans()):
        records.append((True, 22, handshake(1, draw(client_hello(dtls)))))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(("alert", "ccs", "app", "client_key_exchange")))
        content_type, body = {
            "alert": (21, draw(st.binary(max_size=5))),
            "ccs": (20, draw(st.sampled_from((b"\x01", b"\x01", b"", b"\x02\x03")))),
            "app": (23, b"\x00" * 8),
            "client_key_exchange": (22, handshake(16, b"\x00")),
        }[kind]
        records.append((draw(st.booleans()), content_type, body))
    limits = Limits(
        max_certificates_per_chain=draw(st.integers(1, 4)),
        max_certificates_per_connection=draw(st.integers(1, 6)),
        max_alerts=draw(st.integers(1, 3)),
        max_anomalies=draw(st.integers(1, 8)),
    )
    if transport != "t":
        return limits, transport, [("record", o, ct, body) for o, ct, body in records]
    streams = {
        True: b"".join(record(ct, body) for o, ct, body in records if o),
        False: b"".join(record(ct, body) for o, ct, body in records if not o),
    }
    calls: list[Call] = []
    pos = {True: 0, False: 0}
    while pos[True] < len(streams[True]) or pos[False] < len(streams[False]):
        is_orig = draw(st.booleans())
        if pos[is_orig] >= len(streams[is_orig]):
            is_orig = not is_orig
        n = draw(st.integers(1, 200))
        calls.append(("data", is_orig, 0, streams[is_orig][pos[is_orig] : pos[is_orig] + n]))
        pos[is_orig] += n
    return limits, transport, calls


@settings(max_examples=800, deadline=None)
@given(connections())
def test_drawn_handshake_messages_are_equal(connection: tuple[Limits, str, list[Call]]) -> None:
    limits, transport, calls = connection
    python = TlsAnalyzer(transport, limits)
    native = native_analyzer(transport, limits)
    for kind, is_orig, content_type, data in calls:
        if kind == "record":
            python.record(is_orig, content_type, data)
            native.record(is_orig, content_type, data)
        else:
            python.data(is_orig, data)
            native.data(is_orig, data)
        assert differences(python, native) == {}
