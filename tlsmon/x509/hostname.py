"""Does the SNI name the server's certificate? RFC 6125 §6.4 matching, done apart from chain validation.

- Reference identifier: the SNI host name, compared case-insensitively (ASCII; IDNs travel as A-labels), with
  one trailing dot ignored. An SNI that is an IP literal (RFC 6066 forbids it, some clients send it anyway) is
  compared with the SAN IP addresses.
- Presented identifiers: the SAN DNS names; the subject CNs only when the certificate has no SAN DNS name
  (§6.4.4).
- Wildcards (§6.4.3, as browsers and the CA/B Forum restrict them): ``*`` only as the whole left-most label, of
  a name with at least two more labels; it matches exactly one non-empty label. ``f*.example.com`` and
  ``*.*.example.com`` never match.
"""

from __future__ import annotations

import ipaddress


def sni_matches(sni: str, dns_names: list[str], common_names: list[str], ip_addresses: list[str]) -> bool:
    """Whether the host name ``sni`` is one the certificate with these identifiers was issued for."""
    host = _normalise(sni)
    if not host:
        return False
    address = _ip_literal(host)
    if address is None:
        presented = dns_names if dns_names else common_names
        return any(name_matches(host, _normalise(p)) for p in presented)
    return any(_same_address(address, ip) for ip in ip_addresses)


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells, if it is an IP literal. Host names are ruled out without raising: an
    IPv4 literal is digits and dots, an IPv6 one has a colon (a DNS name has neither shape)."""
    if ":" not in host and not host.replace(".", "").isdigit():
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def name_matches(host: str, pattern: str) -> bool:
    """RFC 6125 match of one normalised host name against one normalised presented DNS identifier."""
    if not pattern:
        return False
    if not pattern.startswith("*."):
        return host == pattern
    suffix = pattern[1:]  # ".example.com"
    if "*" in suffix or suffix.count(".") < 2:
        return False
    label, dot, rest = host.partition(".")
    return bool(label) and bool(dot) and "." + rest == suffix


def _normalise(name: str) -> str:
    name = name.strip().lower()
    return name[:-1] if name.endswith(".") else name


def _same_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == address
    except ValueError:
        return False
