"""The transport half of a connection row: who talked to whom, when, how much, and how it ended."""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.decode.addresses import format_address
from tlsmon.decode.numbers import IPPROTO_TCP
from tlsmon.records import zeek
from tlsmon.tcp.connection import TransportFacts
from tlsmon.tcp.endpoint import conn_state
from tlsmon.tls.summary import TlsSummary

_TS = pa.timestamp("ns", tz="UTC")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(slots=True)
class ConnSummary:
    uid: str
    ts_start: int
    ts_end: int
    orig_h: str
    orig_p: int
    resp_h: str
    resp_p: int
    ip_version: int
    vlan: int | None
    orig_pkts: int
    resp_pkts: int
    orig_bytes: int
    resp_bytes: int
    orig_payload_bytes: int
    resp_payload_bytes: int
    orig_missed_bytes: int
    resp_missed_bytes: int
    missed_bytes: int
    history: str
    end_reason: str
    app_proto: str | None
    tls_mode: str
    anomalies: list[str] = field(default_factory=list)
    community_id: str | None = None
    orig_seq_first: int | None = None
    orig_seq_next: int | None = None
    resp_seq_first: int | None = None
    resp_seq_next: int | None = None
    # Zeek's conn.log fields (tlsmon.records.zeek, tlsmon.tcp.endpoint).
    proto: str = "tcp"
    transport: str | None = None
    service: str | None = None
    duration: float | None = None
    conn_state: str = "OTH"
    paths: int = 1


CONN_COLUMNS = ColumnGroup(
    "conn",
    (
        Column(
            "uid",
            pa.string(),
            "Connection id, Zeek style ('C' + 17 base62 characters); stable for the same "
            "input files in the same order.",
            "CHhAvVGS1DHFjwGM9",
            nullable=False,
            distinct=True,
        ),
        Column(
            "ts_start",
            _TS,
            "Timestamp of the connection's first packet (UTC, ns).",
            "2024-05-01 12:00:00.123456789+00:00",
            nullable=False,
        ),
        Column(
            "ts_end",
            _TS,
            "Timestamp of the connection's last packet (UTC, ns).",
            "2024-05-01 12:00:03.5+00:00",
            nullable=False,
        ),
        Column(
            "orig_h",
            pa.string(),
            "Originator (client) address: sender of the SYN, or for connections "
            "picked up mid-stream the side that sent to the well-known port (Zeek's id.orig_h).",
            "192.0.2.10",
            nullable=False,
        ),
        Column("orig_p", pa.uint16(), "Originator port (Zeek's id.orig_p).", "52344", nullable=False),
        Column("resp_h", pa.string(), "Responder (server) address (Zeek's id.resp_h).", "198.51.100.7", nullable=False),
        Column("resp_p", pa.uint16(), "Responder port (Zeek's id.resp_p).", "443", nullable=False),
        Column("ip_version", pa.uint8(), "4 or 6.", "4", nullable=False),
        Column(
            "vlan", pa.uint16(), "Outermost 802.1Q VLAN id of the connection's first packet; null when untagged.", "100"
        ),
        Column("orig_pkts", pa.uint64(), "Packets sent by the originator.", "14", nullable=False),
        Column("resp_pkts", pa.uint64(), "Packets sent by the responder.", "12", nullable=False),
        Column(
            "orig_bytes",
            pa.uint64(),
            "Originator stream bytes by sequence space, as Zeek's conn.log orig_bytes: how far its sequence numbers "
            "advanced (or were acknowledged), SYN and FIN not counted; retransmissions do not count, bytes lost "
            "before the capture do.",
            "2231",
            nullable=False,
        ),
        Column(
            "resp_bytes",
            pa.uint64(),
            "Responder stream bytes by sequence space (Zeek's conn.log resp_bytes).",
            "6120",
            nullable=False,
        ),
        Column(
            "orig_payload_bytes",
            pa.uint64(),
            "TCP payload bytes on the wire sent by the originator, retransmissions included.",
            "2231",
            nullable=False,
        ),
        Column(
            "resp_payload_bytes",
            pa.uint64(),
            "TCP payload bytes on the wire sent by the responder, retransmissions included.",
            "6120",
            nullable=False,
        ),
        Column(
            "orig_missed_bytes",
            pa.uint64(),
            "Originator stream bytes never seen (holes reported as gaps) while the connection was being reassembled.",
            "0",
            nullable=False,
        ),
        Column(
            "resp_missed_bytes",
            pa.uint64(),
            "Responder stream bytes never seen while reassembling.",
            "1448",
            nullable=False,
        ),
        Column(
            "missed_bytes",
            pa.uint64(),
            "orig_missed_bytes + resp_missed_bytes (Zeek's conn.log missed_bytes).",
            "1448",
            nullable=False,
        ),
        Column(
            "history",
            pa.string(),
            "TCP history as in Zeek's conn.log, each letter once per direction, "
            "upper case for the originator: S syn, H syn-ack, A ack, D data, F fin, R rst, G gap.",
            "ShADadFf",
            nullable=False,
        ),
        Column(
            "end_reason",
            pa.string(),
            "Why the record was written: fin (both sides), rst, timeout (idle), "
            "eof (input ended), interrupted (read stopped by SIGINT/SIGTERM while it was open), evicted "
            "(connection cap), or interim: the connection was still open "
            "(live capture writes one at each multiple of --interim-interval of its age; its final "
            "record follows when it ends, with the same ts_start and addresses).",
            "fin",
            nullable=False,
        ),
        Column(
            "app_proto",
            pa.string(),
            "Application protocol detected by content: 'tls' for TLS from the first byte, the "
            "plaintext protocol (smtp, imap, pop3, ftp, nntp, sieve, xmpp, irc, ldap, postgresql, mysql) or the "
            "tunnel (http-proxy, socks, rdp) before the upgrade, or null when none "
            "was recognised.",
            "tls",
        ),
        Column(
            "tls_mode",
            pa.string(),
            "'implicit' when TLS starts at the first byte, 'starttls' after a "
            "plaintext upgrade, 'none' when the connection never used TLS.",
            "implicit",
            nullable=False,
        ),
        Column(
            "anomalies",
            pa.list_(pa.string()),
            "Named anomalies seen on the connection "
            "(stage.snake_case, e.g. tls.record_too_long, tcp.overlap_mismatch), in the order they occurred.",
            "['tcp.overlap_mismatch']",
            nullable=False,
        ),
        Column(
            "orig_seq_first",
            pa.uint32(),
            "Raw TCP sequence number of the originator's first stream byte (its SYN's + 1, or the first seen "
            "when the connection was picked up mid-stream); null when it sent nothing. With orig_seq_next, proves "
            "that rows cut at capture-file boundaries continue each other (tlsmon batch's stitching).",
            "2817391022",
        ),
        Column(
            "orig_seq_next",
            pa.uint32(),
            "Raw TCP sequence number one past the originator's last (FIN included); null when it sent nothing.",
            "2817393254",
        ),
        Column("resp_seq_first", pa.uint32(), "As orig_seq_first, for the responder.", "1022994120"),
        Column("resp_seq_next", pa.uint32(), "As orig_seq_next, for the responder.", "1023000241"),
        Column(
            "community_id",
            pa.string(),
            "Community ID v1 of the connection (seed 0), the flow hash Zeek (community-id plugin) and Suricata "
            "(community-id: yes) write, for joining their logs: base64 of the SHA-1 of the ordered endpoints.",
            "1:IwiTNfuO7aCaamMijl+7/X9uLx0=",
            distinct=True,
        ),
        Column(
            "proto",
            pa.string(),
            "Transport protocol (Zeek's proto): 'tcp', or 'udp' for QUIC and DTLS.",
            "tcp",
            nullable=False,
        ),
        Column(
            "transport",
            pa.string(),
            "How TLS was carried: 'tls' (over TCP, from the first byte or after a STARTTLS upgrade), 'quic' (in "
            "QUIC Initials' CRYPTO frames) or 'dtls' (DTLS records over UDP); null when the connection used no TLS.",
            "quic",
        ),
        Column(
            "service",
            pa.string(),
            "The protocols recognised on the connection in the order they were, comma separated, with Zeek's "
            "analyzer names (Zeek's service): 'ssl' for TLS, the plaintext protocol before a STARTTLS upgrade "
            "first ('smtp,ssl', 'imap,ssl', 'ldap_tcp,ssl', 'http,ssl' for a CONNECT proxy); nntp and sieve, "
            "which Zeek has no analyzer for, keep tlsmon's names. 'ssl' is left out when the TLS analyzer met "
            "a record header it could not read (Zeek's protocol violation). Null when nothing was recognised.",
            "imap,ssl",
        ),
        Column(
            "duration",
            pa.float64(),
            "Seconds from the first to the last packet (Zeek's duration, an interval); null when that is 0, "
            "e.g. a one-packet connection, as Zeek leaves it unset.",
            "3.376543",
        ),
        Column(
            "conn_state",
            pa.string(),
            "Zeek's conn_state, from the two endpoints' TCP states as Zeek's TCP analyzer tracks them packet by "
            "packet (tcp/endpoint.py): S0 (SYN, no reply), S1 (established, not closed), SF (normal close), REJ "
            "(rejected), S2/S3 (close by originator/responder only), RSTO/RSTR (reset by originator/responder), "
            "RSTOS0 (originator SYN then RST), RSTRH (responder SYN-ACK then RST, no SYN seen), SH/SHR (SYN or "
            "SYN-ACK then FIN, half open), OTH (midstream, no SYN seen). UDP: SF (both sides sent), S0 (only the "
            "originator), SHR (only the responder).",
            "SF",
            nullable=False,
        ),
        Column(
            "paths",
            pa.uint8(),
            "The 4-tuples the connection was seen on: 1, or more for a QUIC connection that changed its path (NAT "
            "rebinding, migration) and was followed by a connection ID seen in its long headers (docs/udp.md). "
            "Packets and bytes are those of all its paths; the addresses and ports are its first path's (Zeek "
            "writes one conn.log row per 4-tuple). 'udp.quic_address_changed' on anomalies when a later path's "
            "addresses, not only its ports, differ. Null only in files written before the column existed.",
            "2",
        ),
    ),
)


def make_uid(sequence: int, conn: TransportFacts) -> str:
    digest = hashlib.blake2b(
        f"{sequence}|{conn.start_ts}|{conn.orig_h!r}|{conn.orig_p}|{conn.resp_h!r}|{conn.resp_p}".encode(),
        digest_size=13,
    ).digest()
    n = int.from_bytes(digest, "big")
    chars = []
    for _ in range(17):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "C" + "".join(chars)


def conn_summary(
    conn: TransportFacts,
    uid: str,
    app_proto: str | None,
    tls_mode: str,
    anomalies: list[str],
    tls: TlsSummary | None = None,
) -> ConnSummary:
    orig_missed = conn.orig_missed_bytes
    resp_missed = conn.resp_missed_bytes
    history = conn.history
    if orig_missed and "G" not in history:
        history += "G"
    if resp_missed and "g" not in history:
        history += "g"
    return ConnSummary(
        uid=uid,
        ts_start=conn.start_ts,
        ts_end=conn.last_ts,
        orig_h=format_address(conn.orig_h),
        orig_p=conn.orig_p,
        resp_h=format_address(conn.resp_h),
        resp_p=conn.resp_p,
        ip_version=conn.ip_version,
        vlan=conn.vlan,
        orig_pkts=conn.orig_pkts,
        resp_pkts=conn.resp_pkts,
        orig_bytes=conn.orig_size,
        resp_bytes=conn.resp_size,
        orig_payload_bytes=conn.orig_bytes,
        resp_payload_bytes=conn.resp_bytes,
        orig_missed_bytes=orig_missed,
        resp_missed_bytes=resp_missed,
        missed_bytes=orig_missed + resp_missed,
        history=history,
        end_reason=conn.end_reason,
        app_proto=app_proto,
        tls_mode=tls_mode,
        anomalies=[str(a) for a in anomalies],  # plain names: the enums of each stage, or the native core's
        community_id=community_id(conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p, proto=conn.proto),
        orig_seq_first=conn.orig_seq_first,
        orig_seq_next=conn.orig_seq_next,
        resp_seq_first=conn.resp_seq_first,
        resp_seq_next=conn.resp_seq_next,
        proto="tcp" if conn.proto == IPPROTO_TCP else "udp",
        transport=transport(conn.proto, app_proto, tls_mode),
        service=zeek.service(app_proto, tls_mode, tls is not None and tls.version is not None, anomalies),
        duration=zeek.duration(conn.start_ts, conn.zeek_last_ts),
        conn_state=(
            conn_state(conn.orig_state, conn.resp_state, conn.orig_size, conn.resp_size, history)
            if conn.proto == IPPROTO_TCP
            else udp_conn_state(conn.orig_pkts, conn.resp_pkts)
        ),
        paths=conn.paths,
    )


def transport(proto: int, app_proto: str | None, tls_mode: str) -> str | None:
    """The ``transport`` column: tls over TCP, quic or dtls over UDP (the UDP dispatcher's app_proto)."""
    if tls_mode == "none":
        return None
    return "tls" if proto == IPPROTO_TCP else app_proto


def udp_conn_state(orig_pkts: int, resp_pkts: int) -> str:
    """Zeek's ``conn_state`` of a UDP flow: SF when both sides sent, S0 only the originator, SHR only the
    responder."""
    if orig_pkts:
        return "SF" if resp_pkts else "S0"
    return "SHR" if resp_pkts else "OTH"


def community_id(
    orig_h: int | bytes, orig_p: int, resp_h: int | bytes, resp_p: int, seed: int = 0, proto: int = IPPROTO_TCP
) -> str:
    """Community ID v1 of a TCP or UDP flow (github.com/corelight/community-id-spec): SHA-1 over the seed, the two
    endpoints in order (the smaller address, or port on equal addresses, first), the protocol and a zero pad."""
    a = orig_h.to_bytes(4, "big") if isinstance(orig_h, int) else orig_h
    b = resp_h.to_bytes(4, "big") if isinstance(resp_h, int) else resp_h
    pa_, pb = orig_p, resp_p
    if (a, pa_) > (b, pb):
        a, b, pa_, pb = b, a, pb, pa_
    data = struct.pack("!H", seed) + a + b + struct.pack("!BBHH", proto, 0, pa_, pb)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()
