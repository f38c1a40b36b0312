"""The analyses R1-R11: what each computes, what it leaves out, its tables and its chart.

Each :class:`Section` runs one SQL file (``sql/<file>``) and names its tables; the text says how the numbers
are computed, in the words the HTML shows. Charts are drawn from the same tables the JSON holds, so the
picture and the numbers cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tlsmon.report import plots
from tlsmon.report.queries import Table

Plot = Callable[[Mapping[str, Table]], str | None]


@dataclass(frozen=True, slots=True)
class TableSpec:
    """How a table is shown: a caption, and the column that counts are a percentage of (if any)."""

    name: str
    caption: str
    pct_base: str | None = None
    no_pct: tuple[str, ...] = ()
    transpose: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    sql: str
    method: str
    left_out: str
    tables: tuple[TableSpec, ...]
    plot: Plot | None = None
    notes: tuple[str, ...] = field(default=())


def _ints(t: Table, col: str) -> list[int]:
    return [int(v) if isinstance(v, int | float) else 0 for v in t.column(col)]


def _ports(t: Table) -> list[str]:
    return [plots.port_label(str(p)) for p in t.column("port")]


def _plot_r1(tables: Mapping[str, Table]) -> str | None:
    t = tables["r1_ports"]
    if not t.rows:
        return None
    conns, implicit, starttls = _ints(t, "connections"), _ints(t, "implicit_tls"), _ints(t, "starttls")
    plain = [c - i - s for c, i, s in zip(conns, implicit, starttls, strict=True)]
    fig = plots.stacked_shares(
        _ports(t), conns, [("TLS from the first byte", implicit), ("STARTTLS upgrade", starttls), ("no TLS", plain)],
        "Connections per server port, by how TLS was used",
    )
    return plots.to_svg(fig)


def _plot_r2(tables: Mapping[str, Table]) -> str | None:
    t = tables["r2_starttls"]
    if not t.rows:
        return None
    labels = [str(p) for p in t.column("protocol")]
    of_all = [None if v is None else 100.0 * float(v) for v in t.column("upgraded_share_of_all")]
    of_offered = [None if v is None else 100.0 * float(v) for v in t.column("upgraded_share_of_offered")]
    offering: list[float | None] = [
        100.0 * o / s if s else None
        for o, s in zip(_ints(t, "servers_offering"), _ints(t, "servers"), strict=True)
    ]
    fig = plots.grouped_shares(
        labels,
        [("servers offering STARTTLS (% of servers)", offering),
         ("connections upgraded (% of all connections)", of_all),
         ("connections upgraded (% of those where it was offered)", of_offered)],
        "STARTTLS per protocol", "percent",
    )
    return plots.to_svg(fig)


# Older versions in warmer colours; each version keeps its colour whichever are present.
_VERSIONS = (("SSL 2", "sslv2", "#000000"), ("SSL 3", "sslv3", "#CC79A7"), ("TLS 1.0", "tlsv10", "#D55E00"),
             ("TLS 1.1", "tlsv11", "#E69F00"), ("TLS 1.2", "tlsv12", "#56B4E9"), ("TLS 1.3", "tlsv13", "#0072B2"),
             ("other", "other", "#999999"))


def _plot_r3(tables: Mapping[str, Table]) -> str | None:
    t = tables["r3_versions"]
    if not t.rows:
        return None
    present = [(name, col, colour) for name, col, colour in _VERSIONS if any(_ints(t, col))]
    fig = plots.stacked_shares(_ports(t), _ints(t, "total"), [(name, _ints(t, col)) for name, col, _ in present],
                               "Negotiated version per server port", colors=[c for _, _, c in present])
    return plots.to_svg(fig)


def _plot_r4(tables: Mapping[str, Table]) -> str | None:
    t = tables["r4_ciphers"]
    if not t.rows:
        return None
    total = _ints(t, "total")
    fs = [100.0 * c / n if n else 0.0 for c, n in zip(_ints(t, "forward_secrecy"), total, strict=True)]
    fig, axes = plots.panels(2, len(t.rows) + 2)
    plots.share_bar(_ports(t), fs, "Forward secrecy (DHE, ECDHE, TLS 1.3)", "share of connections (%)", axes[0])
    plots.stacked_shares(_ports(t), total, [("RC4", _ints(t, "rc4")), ("AES", _ints(t, "aes")),
                                            ("other cipher", _ints(t, "other"))],
                         "Cipher", "share of connections (%)", ax=axes[1])
    return plots.to_svg(fig)


_CLASSES = [("verifiable", "verifiable"), ("expired", "expired"), ("not yet valid", "not_yet_valid"),
            ("self-signed", "self_signed"), ("broken chain", "broken")]


# Verifiable green, then warmer colours for worse chains.
_CLASS_COLOURS = ("#009E73", "#E69F00", "#F0E442", "#D55E00", "#CC79A7")


def _plot_r5(tables: Mapping[str, Table]) -> str | None:
    conns, servers = tables["r5_connections"], tables["r5_servers"]
    if not conns.rows:
        return None
    fig, axes = plots.panels(2, max(len(conns.rows), len(servers.rows)) + 2)
    for ax, t, what in ((axes[0], conns, "connections"), (axes[1], servers, "servers")):
        plots.stacked_shares(_ports(t), _ints(t, "total"), [(n, _ints(t, c)) for n, c in _CLASSES],
                             f"Certificate validity, {what}", f"share of {what} (%)", ax=ax,
                             colors=_CLASS_COLOURS)
    legend = axes[0].get_legend()
    if legend is not None:
        legend.remove()
    return plots.to_svg(fig)


def _plot_r11(tables: Mapping[str, Table]) -> str | None:
    dh, curves = tables["r11_dh"], tables["r11_curves"]
    if not dh.rows and not curves.rows:
        return None
    fig, axes = plots.panels(2, max(len(dh.rows), len(curves.rows)) + 1)
    plots.counts_bar([f"{b} bits" for b in dh.column("prime_bits")], _ints(dh, "connections"),
                     "DHE prime size", "connections", axes[0])
    plots.counts_bar([str(c) for c in curves.column("curve")], _ints(curves, "connections"),
                     "ECDHE curve / TLS 1.3 group", "connections", axes[1])
    return plots.to_svg(fig)


PER_PORT = (
    "Ports are the server (responder) port; the 20 ports with the most TLS connections are shown one by one "
    "and the rest are summed as 'other'."
)

SECTIONS: tuple[Section, ...] = (
    Section(
        "r1", "R1 · Dataset", "r1_dataset.sql",
        "Every connection row in the time window counts once. A TLS connection is one where TLS started, from "
        "the first byte or after a STARTTLS upgrade (tls_mode); a handshake is seen when the negotiated version "
        "is known. Servers and clients are distinct responder and originator addresses. " + PER_PORT,
        "Interim records of live capture (the connection's final record is counted instead); connections "
        "outside --since/--until; with --exclude-tor, connections whose leaf looks like a Tor certificate.",
        (TableSpec("r1_overview", "Overview", "connections", ("servers", "clients", "span_seconds"), transpose=True),
         TableSpec("r1_ports", "Per server port", "connections", ("servers", "clients"))),
        _plot_r1,
    ),
    Section(
        "r2", "R2 · STARTTLS per protocol", "r2_starttls.sql",
        "Per plaintext protocol recognised by content (SMTP on port 587 is SUBMISSION; XMPP split into c2s and "
        "s2s by its stream namespace): servers (distinct addresses), servers that offered STARTTLS in an "
        "automatic capability reply in at least one connection, connections, connections where it was "
        "offered, where the client sent the command, and where TLS followed. As in Table III, the upgraded "
        "share is given over all connections and over the connections where the upgrade was offered.",
        "Connections with TLS from the first byte and connections with no recognised protocol. Protocols whose "
        "servers never announce the upgrade (LDAP, PostgreSQL: the client just asks) have no 'offered' "
        "connections, so their share of offered is empty.",
        (TableSpec("r2_starttls", "STARTTLS per protocol", None),),
        _plot_r2,
    ),
    Section(
        "r3", "R3 · Negotiated versions", "r3_versions.sql",
        "The version the server chose (supported_versions when sent), per server port and over all ports, as "
        "Table IV's passive column. " + PER_PORT,
        "Connections whose handshake was not seen far enough to know the version (no ServerHello).",
        (TableSpec("r3_versions", "Connections per negotiated version", "total"),),
        _plot_r3,
    ),
    Section(
        "r4", "R4 · Cipher suites", "r4_ciphers.sql",
        "Over connections where the server's cipher choice is known: forward secrecy means an ephemeral key "
        "exchange (a DHE or ECDHE suite, or any TLS 1.3 suite); the cipher is RC4, AES (CBC or GCM, any key "
        "length), or other (ChaCha20, 3DES, Camellia, NULL …). RC4, AES and other add up to the total; forward "
        "secrecy is counted independently of them. " + PER_PORT,
        "Connections without a ServerHello.",
        (TableSpec("r4_ciphers", "Connections per cipher property", "total"),),
        _plot_r4,
    ),
    Section(
        "r5", "R5 · Certificate validity", "r5_validity.sql",
        "The server chain's class as tlsmon computed it at the connection's start time against the Mozilla "
        "root store of the certifi version recorded in the files (shown in the header): verifiable, expired, "
        "not yet valid, self-signed, or broken (no path to a root). For connections, each connection counts; "
        "for servers, each (address, port) counts once, classed by the chain of its latest connection. "
        + PER_PORT,
        "Connections without a server certificate chain (TLS 1.3 sends it encrypted; resumed sessions send "
        "none). The hostname check is separate (sni_matches_cert) and not part of the class.",
        (TableSpec("r5_connections", "Connections per validity class", "total"),
         TableSpec("r5_servers", "Servers per validity class", "total")),
        _plot_r5,
    ),
    Section(
        "r6", "R6 · ALPN on non-web ports", "r6_alpn.sql",
        "Over handshakes on ports other than 80, 443, 8080 and 8443: how many clients offered ALPN, how many "
        "servers selected a protocol, and which values they selected, per port.",
        "Web ports; connections without a ServerHello. A TLS 1.3 server's ALPN choice is encrypted and is not "
        "seen, so those connections count as offered but never as negotiated.",
        (TableSpec("r6_summary", "ALPN on non-web ports", "handshakes", ("servers_negotiating",), transpose=True),
         TableSpec("r6_alpn", "Negotiated ALPN values", None)),
    ),
    Section(
        "r7", "R7 · Tor-like certificates", "r7_tor.sql",
        "Connections whose server leaf looks like a Tor link certificate (subject CN=www.<base32>.net issued by "
        "CN=www.<base32>.com and nothing else), counted over all connections in the window whether or not "
        "--exclude-tor is given; the last column of the summary says whether they were left out of the other "
        "sections.",
        "Connections without a parseable server leaf.",
        (TableSpec("r7_summary", "Tor-like certificates", "connections_with_certificate",
                   ("tor_like_servers",), transpose=True),
         TableSpec("r7_ports", "Per server port (ports with Tor-like certificates)", "connections_with_certificate",
                   ("tor_like_servers",))),
    ),
    Section(
        "r8", "R8 · OCSP stapling", "r8_ocsp.sql",
        "Over TLS 1.2 and earlier handshakes: how many clients asked for a stapled OCSP response "
        "(status_request), how many servers stapled one (CertificateStatus), and the certificate status it "
        "gave (signature not checked). " + PER_PORT,
        "TLS 1.3 handshakes (the staple travels in the encrypted Certificate message); connections without a "
        "ServerHello.",
        (TableSpec("r8_ocsp", "Stapled OCSP responses", "handshakes", ("servers_stapling",)),),
    ),
    Section(
        "r9", "R9 · Key and certificate reuse", "r9_reuse.sql",
        "The leaf (first certificate of the server chain) of each connection, grouped by certificate "
        "fingerprint and by public key (SHA-256 of the SubjectPublicKeyInfo from the certificates table): how "
        "many leaves and keys there are, how many are seen on more than one server address, and the most "
        "widely shared certificates.",
        "Connections without a server chain; keys of certificates that could not be parsed.",
        (TableSpec("r9_summary", "Reuse across server addresses", None, transpose=True),
         TableSpec("r9_top_certificates", "Certificates on the most server addresses", None)),
    ),
    Section(
        "r10", "R10 · Authentication mechanisms", "r10_auth.sql",
        "SASL mechanisms servers offered in their capability replies before TLS, per protocol, with how many "
        "of those connections then upgraded; and the authentication commands clients sent before any TLS "
        "(verb and mechanism only, never arguments).",
        "What is offered after TLS: the capability reply after the upgrade is encrypted and cannot be seen "
        "passively. Connections whose server sent no mechanisms.",
        (TableSpec("r10_offered", "Mechanisms offered before TLS", None),
         TableSpec("r10_plaintext_auth", "Authentication before TLS (credentials in the clear)", None)),
    ),
    Section(
        "r11", "R11 · DH groups and ECDHE curves", "r11_groups.sql",
        "The size of the DHE prime from the ServerKeyExchange, and the named group of ECDHE "
        "(ServerKeyExchange) or of the TLS 1.3 key share, per connection and per distinct server address.",
        "Connections with static RSA key exchange (no group at all) and those without a ServerHello.",
        (TableSpec("r11_dh", "DHE prime sizes", None),
         TableSpec("r11_curves", "ECDHE curves and TLS 1.3 groups", None)),
        _plot_r11,
    ),
)
