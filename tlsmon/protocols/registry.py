"""Which plaintext protocol a connection speaks, from its first bytes; the port is only a hint.

Each protocol module offers ``probe(is_orig, data, server_port) -> bool | None`` (None: not enough bytes yet)
and an analyzer class. Content decides: the study found HTTPS on 110 and 993 and Apple push on 5223, so a
mail port that speaks something else must not be labelled as mail. The port breaks ties that content cannot
(a bare ``220`` greeting is both SMTP's and FTP's). Adding a protocol is one module and one line here.

Importing this module imports every analyzer; the dispatcher asks through
:func:`tlsmon.protocols.identification.identify`, which imports it at the first connection whose first bytes
are not TLS, so a TLS-only run loads none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tlsmon.limits import Limits
from tlsmon.protocols import (
    ftp,
    http_connect,
    imap,
    irc,
    ldap,
    mysql,
    nntp,
    pop3,
    postgresql,
    rdp,
    sieve,
    smtp,
    socks,
    xmpp,
)
from tlsmon.protocols.base import ProtocolAnalyzer

Probe = Callable[[bool, bytes, int], "bool | None"]


@dataclass(frozen=True, slots=True)
class Protocol:
    name: str
    probe: Probe
    analyzer: Callable[[Limits], ProtocolAnalyzer]


PROTOCOLS: tuple[Protocol, ...] = (
    Protocol("smtp", smtp.probe, smtp.SmtpAnalyzer),
    Protocol("imap", imap.probe, imap.ImapAnalyzer),
    Protocol("pop3", pop3.probe, pop3.Pop3Analyzer),
    Protocol("ftp", ftp.probe, ftp.FtpAnalyzer),
    Protocol("nntp", nntp.probe, nntp.NntpAnalyzer),
    Protocol("sieve", sieve.probe, sieve.SieveAnalyzer),
    Protocol("xmpp", xmpp.probe, xmpp.XmppAnalyzer),
    Protocol("irc", irc.probe, irc.IrcAnalyzer),
    Protocol("ldap", ldap.probe, ldap.LdapAnalyzer),
    Protocol("postgresql", postgresql.probe, postgresql.PostgresqlAnalyzer),
    Protocol("mysql", mysql.probe, mysql.MysqlAnalyzer),
    Protocol("http-proxy", http_connect.probe, http_connect.HttpConnectAnalyzer),
    Protocol("socks", socks.probe, socks.SocksAnalyzer),
    Protocol("rdp", rdp.probe, rdp.RdpAnalyzer),
)
