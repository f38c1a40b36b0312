"""Every accepted disagreement between tlsmon and the corpus oracles, with its reason.

A case is named by ``source`` ("zeek", "ja4" or "tshark"), the capture (corpus-relative path), for Zeek the
baseline file (``<baseline dir>/<file>``), the connection (``orig:port>resp:port``; JA4 and Zeek conn.log
cases prefix the transport, ``tcp ...``/``quic ...``, and conn.log cases suffix ``#n`` to the n-th later
row of the same endpoints) and the field. In an entry, ``"*"`` matches anything and a trailing ``*``
matches a prefix.

What an entry does to the cases it matches:

- ``expected`` set: the oracle is wrong there; tlsmon must produce ``expected`` instead (still compared).
- ``xfail=True``: a tlsmon bug (``reason`` starts with "tlsmon bug:") or a planned feature not built yet
  ("tlsmon todo:"); the case is an expected failure, strict, so the fix turns it into a failure that asks
  for the entry to be removed.
- neither: the case is out of scope or the baseline is no fair oracle; it is skipped with the reason.

``test_known_differences.py`` checks that every entry still matches at least one case.
"""

from __future__ import annotations

from dataclasses import dataclass


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


@dataclass(frozen=True, slots=True)
class Known:
    source: str
    trace: str
    reason: str
    baseline: str = "*"
    conn: str = "*"
    field: str = "*"
    expected: object = UNSET
    xfail: bool = False

    def matches(self, source: str, trace: str, baseline: str, conn: str, field_name: str) -> bool:
        return (
            self.source == source
            and _match(self.trace, trace)
            and _match(self.baseline, baseline)
            and _match(self.conn, conn)
            and _match(self.field, field_name)
        )

    @property
    def overrides(self) -> bool:
        return self.expected is not UNSET


def _match(pattern: str, value: str) -> bool:
    if pattern == "*" or pattern == value:
        return True
    return pattern.endswith("*") and value.startswith(pattern[:-1])


HTTP_PORT = (
    "a TLS ClientHello sent to an HTTP server on port 80: tshark dissects port 80 as HTTP only and never "
    "sees it; tlsmon, like Zeek's DPD, recognises TLS by content"
)
LATER_SYN_ACK = (
    "two SYN-ACKs with different ISNs; the client's ACK confirms the later one and the server's ServerHello "
    "follows that ISN: tlsmon follows the ISN the ACK confirms (issue 14 point 2); the corpus's tshark summary "
    "(made with tcp.reassemble_out_of_order) counts no ServerHello, its reassembly holding the server's data "
    "back; tshark without that option shows the ServerHello in frame 25"
)
RDP_TSHARK = (
    "RDP's TLS security layer on 3389 (X.224 Connection Confirm selecting SSL/HYBRID, then TLS): tshark "
    "dissects the port as TPKT/RDP only and sees no handshake; tlsmon follows the negotiation, and Zeek's "
    "ssl.log for the same trace has the handshake"
)
IRC_STARTTLS = (
    "IRC STARTTLS (670) then TLS on 6667: tshark has no IRC STARTTLS support and sees no handshake; tlsmon "
    "follows the upgrade, and Zeek's ssl.log for the same trace has the handshake"
)
GRIDFTP_TSHARK = (
    "GridFTP GSI on 2811: the control connection's TLS handshake travels base64-encoded in FTP ADAT commands "
    "and 335 ADAT= replies; tlsmon decodes it as Zeek's FTP analyzer does (Zeek's ssl.log has the row), tshark "
    "does not, and counts only the data connection's handshake"
)
DRAFT14_SERVER_HELLO = (
    "tlsmon bug: the TLS 1.3 draft-14 ServerHello (version field 0x0304, no legacy_session_id and no "
    "compression_method) is rejected as tls.malformed_server_hello; Zeek and tshark parse that layout"
)
# FoxIO's ja4.py and Rust tool at 0e54bc8 print '9' for a non-ASCII character at either end of the first
# ALPN value; the JA4 spec (technical_details/JA4.md "ALPN Extension Value", clarified after FoxIO issue #16
# and PR #277) takes the first and last characters of the value's hex form when an end byte is not ASCII
# alphanumeric. This ClientHello's first ALPN value is b"\xba\xad": hex "baad", so "bd"; tlsmon follows the
# spec.
NON_ASCII_ALPN = (
    "JA4 reference tools at 0e54bc8 map a non-ASCII ALPN end character to '9'; the JA4 spec uses the first "
    "and last hex digits of the value (0xba..0xad → 'bd')"
)
NON_ASCII_ALPN_JA4_R = (
    "t13d1516bd_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"
    "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
    "0403,0804,0401,0503,0805,0501,0806,0601"
)

NOT_TCP = "ICMP flows are not tracked: tlsmon follows TCP connections and QUIC/DTLS flows"
TUNNEL_OUTER = (
    "the outer UDP flow of a tunnel (Geneve, GTP-U): Zeek logs it as a connection; tlsmon decodes the tunnel and "
    "tracks the inner connections only"
)
BARE_ZEEK_QUIC = (
    "the core.ppp baseline comes from Zeek in bare mode (zeek -b), which loads no QUIC analyzer, so the flow has "
    "no service; tlsmon's 'quic,ssl' is what Zeek writes with its QUIC analyzer (the JA4 conn-quic baseline "
    "shows it); every other column of the flow agrees"
)
NO_ANALYZER = (
    "a service of a Zeek analyzer tlsmon does not have (ftp-data, modbus, dce_rpc): not tlsmon's to name; "
    "tlsmon names only the protocols it analyses (the plaintext ones before STARTTLS, and ssl)"
)
GRIDFTP_SERVICE = (
    "Zeek's gridftp script adds 'gridftp' to the control connection's service after AUTH GSSAPI, and "
    "'gridftp-data' to a data connection it judges by heuristics (an SSL connection on an ephemeral port of "
    "a GridFTP session, past a size threshold); tlsmon analyses the control channel's ADAT handshake but names "
    "no GridFTP service yet"
)
GRIDFTP_DATA_CLOCK = (
    "the GridFTP data connection: Zeek's gridftp script stops analysing it once judged a data channel "
    "(skip_further_processing), so its conn.log row ends there (S1, shorter duration, fewer bytes); tlsmon "
    "follows the connection to its FINs (SF)"
)
RDP_CLIENT_ONLY = (
    "the client sends an RDP X.224 Connection Request to a Modbus server, which answers 9 bytes of something "
    "else: tlsmon's app_proto names the protocol the client spoke (service rdp); Zeek's RDP analyzer never "
    "confirms without the server's Connection Confirm, so Zeek logs no service"
)


def _starttls(protocol: str) -> str:
    return f"tlsmon todo: no {protocol} STARTTLS upgrade yet (protocols/ stage not wired into the dispatcher)"


def _todo(source: str, trace: str, protocol: str, field: str = "*") -> Known:
    return Known(source, trace, _starttls(protocol), field=field, xfail=True)


Z = "zeek/Traces/"
SV = "suricata-verify/tests/"

KNOWN: tuple[Known, ...] = (
    # --- Zeek ssl.log: out of scope
    Known("zeek", Z + "websocket/wstunnel-https.pcap",
          "TLS inside WebSocket binary frames (wstunnel over HTTP) is out of scope; the baseline also keeps "
          "no id columns to pair it with a connection"),
    # --- Zeek ssl.log: STARTTLS not built yet
    # --- Zeek conn.log (tests/corpus/test_zeek_conn.py; connections are named "<proto> orig:port>resp:port")
    Known("zeek", Z + "tunnels/*", TUNNEL_OUTER, conn="udp *"),
    Known("zeek", Z + "ppp/quic-interop-retry.pcap", BARE_ZEEK_QUIC, conn="udp *", field="service"),
    Known("zeek", "*", NOT_TCP, conn="icmp *"),
    Known("zeek", Z + "ftp/bigtransfer.pcap", NO_ANALYZER, conn="tcp *", field="service"),
    Known("zeek", Z + "modbus/modbus-and-non-modbus-p502.pcap", NO_ANALYZER, conn="tcp 10.0.0.9:3082>*",
          field="service"),
    Known("zeek", Z + "modbus/modbus-and-non-modbus-p502.pcap", NO_ANALYZER,
          conn="tcp 87.236.176.106:38129>*", field="service"),
    Known("zeek", Z + "modbus/modbus-and-non-modbus-p502.pcap", RDP_CLIENT_ONLY,
          conn="tcp 62.122.184.123:7488>*", field="service"),
    Known("zeek", Z + "globus-url-copy.pcap", GRIDFTP_SERVICE, conn="tcp *", field="service"),
    *(
        Known("zeek", Z + "globus-url-copy.pcap", GRIDFTP_DATA_CLOCK,
              conn="tcp 192.168.57.103:35391>192.168.57.101:55968", field=name)
        for name in ("duration", "conn_state", "orig_bytes", "resp_bytes")
    ),
    # --- JA4 goldens
    Known("ja4", "ja4/pcap/tls-non-ascii-alpn.pcapng", NON_ASCII_ALPN, field="ja4",
          expected="t13d1516bd_8daaf6152771_e5627efa2ab1"),
    Known("ja4", "ja4/pcap/tls-non-ascii-alpn.pcapng", NON_ASCII_ALPN, field="ja4_r",
          expected=NON_ASCII_ALPN_JA4_R),
    # --- tshark hello counts: out of scope
    # --- tshark hello counts: tshark is wrong
    Known("tshark", Z + "tls/https-to-http.pcap", HTTP_PORT, field="client_hello", expected=1),
    Known("tshark", Z + "tls/ssl-to-http-server.pcap", HTTP_PORT, field="client_hello", expected=1),
    Known("tshark", Z + "globus-url-copy.pcap", GRIDFTP_TSHARK, field="client_hello", expected=2),
    Known("tshark", Z + "globus-url-copy.pcap", GRIDFTP_TSHARK, field="server_hello", expected=2),
    Known("tshark", Z + "tls/irc-starttls.pcap", IRC_STARTTLS, field="client_hello", expected=1),
    Known("tshark", Z + "tls/irc-starttls.pcap", IRC_STARTTLS, field="server_hello", expected=1),
    Known("tshark", SV + "tcp-fastopen-10-syn-data-ignore/input.pcap", LATER_SYN_ACK, field="server_hello",
          expected=1),
    Known("tshark", Z + "rdp/rdp-to-ssl.pcap", RDP_TSHARK, field="client_hello", expected=2),
    Known("tshark", Z + "rdp/rdp-to-ssl.pcap", RDP_TSHARK, field="server_hello", expected=2),
    Known("tshark", Z + "rdp/rdp-no-cookie-mstshash.pcap", RDP_TSHARK, field="client_hello", expected=1),
    Known("tshark", Z + "rdp/rdp-no-cookie-mstshash.pcap", RDP_TSHARK, field="server_hello", expected=1),
    # --- tshark hello counts: tlsmon bugs and STARTTLS not built yet
    Known("tshark", SV + "tls/tls13-draft14/tls13_draft14.pcap", DRAFT14_SERVER_HELLO, field="server_hello",
          xfail=True),
)

# TCP ClientHellos only one of FoxIO's tools fingerprinted: (capture, connection) → (the tool that did, why).
GOLDEN_GAPS: dict[tuple[str, str], tuple[str, str]] = {
    ("ja4/pcap/https-connect.pcap", "tcp 10.11.12.13:54723>10.9.8.7:8080"): (
        "rust",
        "TLS inside an HTTP CONNECT tunnel to a proxy on 8080: ja4.py only reports JA4H for the stream, the "
        "Rust tool fingerprints the tunnelled ClientHello",
    ),
}


def lookup(source: str, trace: str, baseline: str, conn: str, field_name: str) -> Known | None:
    for known in KNOWN:
        if known.matches(source, trace, baseline, conn, field_name):
            return known
    return None
