"""The native TLS probe (native/src/tls/probe.rs) decides as the Python one on every input.

The tracker sends a connection to the native analyzer when its first stream bytes look like TLS, so the two
probes must agree byte for byte: on the first bytes of every real stream, on each of their prefixes, and on
random bytes that start like a record or an SSLv2 hello.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.tls_native.test_properties import real_streams
from tlsmon import _native
from tlsmon.tls.probe import looks_like_tls

_PROBE_BYTES = 64


def test_the_probes_agree_on_every_prefix_of_every_real_stream_head() -> None:
    heads = {direction[:_PROBE_BYTES] for stream in real_streams() for direction in stream}
    for head in heads:
        for end in range(len(head) + 1):
            assert _native.looks_like_tls(head[:end]) == looks_like_tls(head[:end]), head[:end].hex()


def test_a_client_hello_record_header_is_tls_to_both() -> None:
    head = bytes.fromhex("16030100f1010000ed0303")
    assert _native.looks_like_tls(head) is True
    assert looks_like_tls(head) is True


def test_an_smtp_greeting_is_not_tls_to_either() -> None:
    assert _native.looks_like_tls(b"220 mail.example.test ESMTP\r\n") is False
    assert looks_like_tls(b"220 mail.example.test ESMTP\r\n") is False


@given(
    st.sampled_from([b"\x16\x03", b"\x15\x03", b"\x16", b"\x80", b"\x81", b""]).flatmap(
        lambda start: st.binary(max_size=12).map(lambda rest: start + rest)
    )
)
def test_the_probes_agree_on_random_record_starts(data: bytes) -> None:
    assert _native.looks_like_tls(data) == looks_like_tls(data)
