"""Stapled OCSP: every TLS <= 1.2 CertificateStatus message tshark sees in the corpus is on tlsmon's row.

Python's ssl module cannot staple, so the project's own fixtures have no CertificateStatus; the corpus's browser
captures do. The oracle is tshark's per-frame table (handshake type 22 = certificate_status, RFC 6066 §8). The
response tlsmon keeps must be a DER OCSPResponse that cryptography parses, and a connection whose server sent
no CertificateStatus must say so.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from cryptography.x509 import ocsp

from tests.corpus.location import CORPUS, relative, requires_corpus
from tests.corpus.runs import canonical_endpoints, run_capture
from tests.corpus.tshark_tsv import parse

CERTIFICATE_STATUS = 22
SERVER_HELLO = 2

pytestmark = requires_corpus


def _stapling_by_connection(tsv_rel: str) -> dict[tuple[str, int, str, int], bool]:
    """(client, cport, server, sport) of each TCP connection with a ServerHello → did it staple."""
    summary = parse((CORPUS / tsv_rel).read_text())
    stapled: dict[tuple[str, int, str, int], bool] = defaultdict(bool)
    for frame in summary.frames:
        if frame["transport"] != "tcp" or not frame["hs_types"] or frame["record_version"].startswith("0x0002"):
            continue
        types = {int(t) for t in frame["hs_types"].split(",")}
        if types & {SERVER_HELLO, CERTIFICATE_STATUS}:
            key = canonical_endpoints(frame["dst"], int(frame["dport"]), frame["src"], int(frame["sport"]))
            stapled[key] |= CERTIFICATE_STATUS in types
    return dict(stapled)


def _captures_with_stapling() -> list[str]:
    if not CORPUS.is_dir():
        return []
    found = []
    for tsv in sorted(CORPUS.rglob("*.tshark.tsv")):
        if parse(tsv.read_text(errors="replace")).message_counts().get("certificate_status"):
            found.append(relative(tsv)[: -len(".tshark.tsv")])
    return found


CAPTURES = _captures_with_stapling()


def test_the_corpus_has_stapled_captures_to_check() -> None:
    assert len(CAPTURES) >= 4


@pytest.mark.parametrize("capture", CAPTURES)
def test_ocsp_stapled_agrees_with_tshark_for_every_connection(capture: str) -> None:
    expected = _stapling_by_connection(capture + ".tshark.tsv")
    run = run_capture(capture)
    run.check_crash()
    got = {}
    for conn, tls in run.rows:
        key = canonical_endpoints(conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p)
        if key in expected and tls is not None:
            got[key] = tls.ocsp_stapled
    assert got == expected
    assert any(expected.values())


# The responder in this 2015 trace encodes ResponseData.version = v1 explicitly although it is the DEFAULT,
# which DER forbids (X.690 §11.5); cryptography's strict parser refuses it ("EncodedDefault"). tlsmon keeps
# the bytes as sent; the certificates issue parses them leniently or records the parse error.
NOT_STRICT_DER = {"zeek/Traces/tls/ocsp-stapling.pcap"}


@pytest.mark.parametrize("capture", CAPTURES)
def test_stapled_response_is_the_whole_ocsp_response(capture: str) -> None:
    run = run_capture(capture)
    responses = [tls.ocsp_response for _, tls in run.rows if tls is not None and tls.ocsp_stapled]
    assert responses
    for der in responses:
        assert der is not None
        assert der[0] == 0x30 and _der_length(der) == len(der)
        if capture in NOT_STRICT_DER:
            with pytest.raises(ValueError, match="EncodedDefault"):
                ocsp.load_der_ocsp_response(der)
        else:
            assert ocsp.load_der_ocsp_response(der).response_status == ocsp.OCSPResponseStatus.SUCCESSFUL


def _der_length(der: bytes) -> int:
    """Total length of the outer TLV, from its length octets (X.690 §8.1.3)."""
    first = der[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    return 2 + n + int.from_bytes(der[2 : 2 + n], "big")
