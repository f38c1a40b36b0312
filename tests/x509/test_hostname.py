"""sni_matches: RFC 6125 host name matching of the SNI against the leaf."""

from __future__ import annotations

import pytest

from tlsmon.x509.hostname import sni_matches


@pytest.mark.parametrize(
    ("sni", "dns", "expected"),
    [
        ("www.example.com", ["www.example.com"], True),
        ("WWW.Example.COM", ["www.example.com"], True),
        ("www.example.com.", ["www.example.com"], True),
        ("www.example.com", ["example.com", "www.example.com"], True),
        ("mail.example.com", ["www.example.com"], False),
        ("a.example.com", ["*.example.com"], True),
        ("example.com", ["*.example.com"], False),  # the wildcard stands for exactly one label
        ("a.b.example.com", ["*.example.com"], False),
        ("a.com", ["*.com"], False),  # not across a public suffix-like single label
        ("foo.example.com", ["f*.example.com"], False),  # partial-label wildcards are not honoured
        ("a.b.example.com", ["*.*.example.com"], False),
        ("a.example.com", ["a.*.com"], False),
        ("", ["www.example.com"], False),
    ],
)
def test_dns_names(sni: str, dns: list[str], expected: bool) -> None:
    assert sni_matches(sni, dns, [], []) is expected


def test_common_name_counts_only_without_san_dns_names() -> None:
    assert sni_matches("www.example.com", [], ["www.example.com"], []) is True
    assert sni_matches("www.example.com", ["other.example.com"], ["www.example.com"], []) is False


def test_ip_literal_sni_is_compared_with_san_ip_addresses() -> None:
    assert sni_matches("192.0.2.1", ["192.0.2.1"], [], ["192.0.2.1"]) is True
    assert sni_matches("2001:db8::1", [], [], ["2001:DB8:0::1"]) is True
    assert sni_matches("192.0.2.1", ["192.0.2.1"], [], []) is False
