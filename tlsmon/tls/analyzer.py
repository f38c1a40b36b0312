"""One TCP connection's TLS handshake -> a :class:`~tlsmon.tls.summary.TlsSummary`.

Theory of operation: :class:`TlsAnalyzer` is a :class:`~tlsmon.consumer.StreamConsumer`. Each direction has a
record reader (``tls/record.py``) and a handshake reassembler (``tls/handshake.py``); plaintext records are
dispatched by content type, handshake messages by type to the parsers of ``tls/parse.py``, and every result is
written straight into the summary. The rules for what is visible follow Zeek's SSL analyzer, so the Zeek-named
columns agree with Zeek's ssl.log:

* Each direction is *clear* or *encrypted*. In TLS <= 1.2 a ChangeCipherSpec turns its sender's direction
  encrypted. In TLS 1.3 (negotiated in the ServerHello) ChangeCipherSpec is compatibility noise, and the first
  application_data record of a direction turns it encrypted (the encrypted handshake travels as type 23).
  Records of an encrypted direction are never parsed.
* ``established`` becomes true at the first encrypted record seen while both directions are encrypted (Zeek's
  ``ssl_established``). Zeek then detaches its analyzer; tlsmon sets :attr:`TlsAnalyzer.finished` so the
  engine bypasses the connection, and nothing after that point changes the summary.
* ``ssl_history`` gets one letter per plaintext handshake message, ChangeCipherSpec (``i``), alert (``l``) and
  heartbeat (``b``); upper case for the client, capped at 100 letters. A ClientHello sent by the TCP responder
  flips the roles and writes ``^`` (Zeek's direction flip).
* ``resumed`` is Zeek's: the ServerHello echoes the client's non-empty session id (TLS <= 1.2 only), or the
  client offered a ticket with an empty session id and sent ChangeCipherSpec without a ClientKeyExchange, or
  the server accepted the client's TLS 1.3 pre_shared_key.

A direction stops (its bytes are ignored) on an over-long handshake message, a gap before encryption, or
a fatal alert it sent; when both have stopped the connection is finished too. A record-layer anomaly (bad
header, unknown content type, over-long record) stops both directions at once, as Zeek's analyzer skips the
rest of the connection on such a protocol violation.

Bounds (:class:`~tlsmon.limits.Limits`): a chain keeps its first ``max_certificates_per_chain`` certificates
and a connection ``max_certificates_per_connection`` (server chain first), so a Certificate message of 170 000
tiny entries costs one walk over the message, not 170 000 copies, hashes and certificate records; the row's
``alerts`` list keeps the first ``max_alerts`` and :attr:`TlsAnalyzer.anomalies` the first ``max_anomalies``
(the rest counted in ``anomalies_dropped``). Each cut is a named anomaly (:class:`TlsLimitAnomaly`).
"""

from __future__ import annotations

import functools
import hashlib
from enum import StrEnum

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.tls import fingerprints
from tlsmon.tls.anomalies import TlsAnomaly
from tlsmon.tls.codes import (
    ALERT_LEVEL_FATAL,
    CT_ALERT,
    CT_APPLICATION_DATA,
    CT_CHANGE_CIPHER_SPEC,
    CT_HANDSHAKE,
    CT_HEARTBEAT,
    DTLS_PRE13_VERSIONS,
    DTLS_TO_TLS_VERSION,
    FORWARD_SECRET_CIPHERS,
    HISTORY_ALERT,
    HISTORY_CHANGE_CIPHER_SPEC,
    HISTORY_FLIPPED,
    HISTORY_HEARTBEAT,
    HISTORY_HELLO_RETRY,
    HISTORY_LETTERS,
    HISTORY_UNKNOWN_HANDSHAKE,
    HT_CERTIFICATE,
    HT_CERTIFICATE_REQUEST,
    HT_CERTIFICATE_STATUS,
    HT_CLIENT_HELLO,
    HT_CLIENT_KEY_EXCHANGE,
    HT_HELLO_VERIFY_REQUEST,
    HT_NEW_SESSION_TICKET,
    HT_SERVER_HELLO,
    HT_SERVER_KEY_EXCHANGE,
    MAX_HISTORY_LENGTH,
    PRE_TLS13_VERSIONS,
    RC4_CIPHERS,
    SSL2_MT_CLIENT_HELLO,
    SSL2_MT_CLIENT_MASTER_KEY,
    SSL2_MT_ERROR,
    SSL2_MT_SERVER_HELLO,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    TLS_FALLBACK_SCSV,
    TLSV12,
    alert_name,
    cipher_kex,
    cipher_name,
    group_name,
    is_tls13,
    version_name,
)
from tlsmon.tls.handshake import HandshakeReassembler
from tlsmon.tls.messages import ClientHello, ServerHello
from tlsmon.tls.parse import (
    parse_certificate,
    parse_certificate_request,
    parse_certificate_status,
    parse_client_hello,
    parse_new_session_ticket,
    parse_server_hello,
    parse_server_key_exchange,
    parse_sslv2_client_hello,
    parse_sslv2_server_hello,
)
from tlsmon.tls.record import CT_SSLV2, MODE_V2, MODE_V2_HELLO, RecordReader
from tlsmon.tls.summary import AlertEntry, TlsSummary

#: Zeek's ``SSL::max_alerts_per_record``: alerts beyond this in one record are ignored
MAX_ALERTS_PER_RECORD = 10
_ZERO_SESSION_ID = bytes(32)


class TlsLimitAnomaly(StrEnum):
    #: a Certificate message with more than Limits.max_certificates_per_chain entries; the first are kept
    CERTIFICATE_CHAIN_TOO_LONG = "tls.certificate_chain_too_long"
    #: the server's and the client's chains hold more than Limits.max_certificates_per_connection certificates;
    #: the client chain is cut to what is left
    TOO_MANY_CERTIFICATES = "tls.too_many_certificates"
    #: more than Limits.max_alerts alerts on the connection; later ones are not listed (ssl_history and
    #: last_alert still follow them)
    TOO_MANY_ALERTS = "tls.too_many_alerts"
    #: more than Limits.max_anomalies anomalies on the connection; later ones are counted, not listed
    TOO_MANY_ANOMALIES = "tls.too_many_anomalies"


class _Direction:
    __slots__ = ("encrypted", "handshake", "is_orig", "records", "stopped")

    def __init__(self, is_orig: bool) -> None:
        self.is_orig = is_orig
        self.records = RecordReader(is_orig)
        self.handshake = HandshakeReassembler()
        self.encrypted = False
        self.stopped = False


class TlsAnalyzer:
    """Parses both directions of one TLS connection into :attr:`summary`; see the module docstring."""

    __slots__ = (
        "_alerts_cut",
        "_certificates_left",
        "_client_key_exchange_seen",
        "_client_psk_seen",
        "_client_session_id",
        "_dtls",
        "_flipped",
        "_negotiated",
        "_orig",
        "_pre_tls13",
        "_replace_client_hello",
        "_resp",
        "_ticket_with_empty_session",
        "anomalies",
        "anomalies_dropped",
        "client_hello",
        "finished",
        "limits",
        "server_hello",
        "summary",
        "transport",
    )

    def __init__(self, transport: str = "t", limits: Limits = DEFAULT_LIMITS) -> None:
        #: JA4 transport letter: "t" for TCP, "q" for QUIC, "d" for DTLS (DTLS hellos carry a cookie)
        self.transport = transport
        self._dtls = transport == "d"
        self._pre_tls13 = PRE_TLS13_VERSIONS | DTLS_PRE13_VERSIONS if self._dtls else PRE_TLS13_VERSIONS
        #: DTLS: a HelloVerifyRequest came, so the next ClientHello (with the cookie) is the row's (as Zeek)
        self._replace_client_hello = False
        self.limits = limits
        self.summary = TlsSummary()
        self.anomalies: list[str] = []
        #: anomalies not listed because the list was full (Limits.max_anomalies)
        self.anomalies_dropped = 0
        self.finished = False
        #: the first ClientHello and the last ServerHello, for callers that want more than the summary
        self.client_hello: ClientHello | None = None
        self.server_hello: ServerHello | None = None
        self._orig = _Direction(True)
        self._resp = _Direction(False)
        self._flipped = False
        self._negotiated: int | None = None
        self._client_session_id: bytes | None = None
        self._ticket_with_empty_session = False
        self._client_key_exchange_seen = False
        self._client_psk_seen = False
        self._alerts_cut = False
        self._certificates_left = limits.max_certificates_per_connection

    # --- StreamConsumer ---

    def data(self, is_orig: bool, data: bytes) -> None:
        if self.finished:
            return
        side = self._orig if is_orig else self._resp
        if side.stopped:
            return
        side.records.feed(data)
        self._drain(side)

    def gap(self, is_orig: bool, length: int) -> None:
        if self.finished:
            return
        side = self._orig if is_orig else self._resp
        if side.stopped:
            return
        # an encrypted direction has nothing left to parse; a clear one lost handshake bytes
        self._stop(side, None if side.encrypted else TlsAnomaly.GAP_IN_HANDSHAKE)

    def end(self) -> None:
        self.finished = True

    # --- records framed by another layer (DTLS records, QUIC CRYPTO frames) ---

    def record(self, is_orig: bool, content_type: int, body: bytes) -> None:
        """One plaintext record whose framing another layer removed; ``body`` as a TLS record's.

        DTLS hands each record here (its handshake messages rewritten with TLS's 4-byte headers), QUIC the
        in-order bytes of its Initial CRYPTO stream as handshake records (RFC 9001 §4: QUIC has no record layer).
        """
        if self.finished:
            return
        side = self._orig if is_orig else self._resp
        if side.stopped:
            return
        if content_type == CT_HANDSHAKE and not side.encrypted:
            self._on_handshake_record(side, body)
        else:
            self._on_record(side, content_type, body)

    # --- records ---

    def _drain(self, side: _Direction) -> None:
        reader = side.records
        next_record = reader.next_record  # bound once: this loop runs once per record
        while (record := next_record()) is not None:
            content_type, _, body = record
            if content_type == CT_HANDSHAKE and not side.encrypted:
                self._on_handshake_record(side, body)
            else:
                self._on_record(side, content_type, body)
            if self.finished or side.stopped:
                break
        if reader.error is not None and not side.stopped:
            # like Zeek's SetSkip on a record-layer violation: a desynchronised stream ends the analysis
            self._stop(side, reader.error)
            self._stop(self._resp if side.is_orig else self._orig, None)

    def _on_record(self, side: _Direction, content_type: int, body: bytes) -> None:
        if side.encrypted:
            self._on_ciphertext()
        elif content_type == CT_APPLICATION_DATA:
            if self._negotiated is not None and self._negotiated not in self._pre_tls13:
                self._start_encryption(side)
                self._on_ciphertext()
        elif content_type == CT_CHANGE_CIPHER_SPEC:
            self._on_change_cipher_spec(side, body)
        elif content_type == CT_ALERT:
            self._on_alerts(side, body)
        elif content_type == CT_HEARTBEAT:
            self._history(self._is_client(side), HISTORY_HEARTBEAT)
        elif content_type == CT_SSLV2:
            self._on_sslv2(side, body)

    def _on_ciphertext(self) -> None:
        if self._orig.encrypted and self._resp.encrypted:
            self.summary.established = True
            self.finished = True

    def _start_encryption(self, side: _Direction) -> None:
        side.encrypted = True
        side.handshake.reset()
        side.records.keep_bodies = False

    def _on_change_cipher_spec(self, side: _Direction, body: bytes) -> None:
        if body != b"\x01":
            self._anomaly(TlsAnomaly.MALFORMED_CHANGE_CIPHER_SPEC)
        is_client = self._is_client(side)
        self._history(is_client, HISTORY_CHANGE_CIPHER_SPEC)
        if side.is_orig:
            self.summary.ccs_orig = True
        else:
            self.summary.ccs_resp = True
        if self._negotiated is None or not is_tls13(self._negotiated):
            self._start_encryption(side)
        if is_client and self._ticket_with_empty_session and not self._client_key_exchange_seen:
            self.summary.resumed = True

    def _on_alerts(self, side: _Direction, body: bytes) -> None:
        if not body or len(body) % 2:
            self._anomaly(TlsAnomaly.MALFORMED_ALERT)
        is_client = self._is_client(side)
        fatal = False
        for i in range(0, min(len(body) - 1, 2 * MAX_ALERTS_PER_RECORD), 2):
            level, description = body[i], body[i + 1]
            name = alert_name(description)
            self._history(is_client, HISTORY_ALERT)
            self.summary.last_alert = name
            entry: AlertEntry = {
                "direction": "orig" if side.is_orig else "resp",
                "level": level,
                "description": description,
                "name": name,
            }
            if len(self.summary.alerts) < self.limits.max_alerts:
                self.summary.alerts.append(entry)
            elif not self._alerts_cut:
                self._alerts_cut = True
                self._anomaly(TlsLimitAnomaly.TOO_MANY_ALERTS)
            fatal = fatal or level == ALERT_LEVEL_FATAL
        if fatal:
            self._stop(side, None)

    # --- handshake messages ---

    def _on_handshake_record(self, side: _Direction, body: bytes) -> None:
        reassembler = side.handshake
        for msg_type, message in reassembler.feed(body):
            self._on_message(side, msg_type, message)
            if side.stopped or side.encrypted or self.finished:
                return
        if reassembler.error is not None:
            self._stop(side, reassembler.error)

    def _on_message(self, side: _Direction, msg_type: int, body: bytes) -> None:
        if msg_type == HT_CLIENT_HELLO and not side.is_orig and self.client_hello is None and not self._flipped:
            self._flipped = True
            self.summary.ssl_history += HISTORY_FLIPPED
        is_client = side.is_orig != self._flipped
        if msg_type == HT_CLIENT_HELLO:
            self._history(is_client, HISTORY_LETTERS[msg_type])
            self._on_client_hello_message(body)
        elif msg_type == HT_SERVER_HELLO:
            self._on_server_hello_message(is_client, body)
        else:
            self._history(is_client, HISTORY_LETTERS.get(msg_type, HISTORY_UNKNOWN_HANDSHAKE))
            if msg_type == HT_CERTIFICATE:
                self._on_certificate(is_client, body)
            elif msg_type == HT_SERVER_KEY_EXCHANGE:
                self._on_server_key_exchange(body)
            elif msg_type == HT_CERTIFICATE_REQUEST:
                self._on_certificate_request(body)
            elif msg_type == HT_CERTIFICATE_STATUS:
                self._on_certificate_status(body)
            elif msg_type == HT_NEW_SESSION_TICKET:
                self._on_new_session_ticket(body)
            elif msg_type == HT_CLIENT_KEY_EXCHANGE and is_client:
                self._client_key_exchange_seen = True
            elif msg_type == HT_HELLO_VERIFY_REQUEST and self._dtls and not is_client:
                self._replace_client_hello = True

    def _on_client_hello_message(self, body: bytes) -> None:
        try:
            hello = parse_client_hello(body, dtls=self._dtls)
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_CLIENT_HELLO)
            return
        self._on_client_hello(hello)

    def _on_server_hello_message(self, is_client: bool, body: bytes) -> None:
        try:
            hello = parse_server_hello(body)
        except ValueError:
            self._history(is_client, HISTORY_LETTERS[HT_SERVER_HELLO])
            self._anomaly(TlsAnomaly.MALFORMED_SERVER_HELLO)
            return
        self._history(is_client, HISTORY_HELLO_RETRY if hello.is_hrr else HISTORY_LETTERS[HT_SERVER_HELLO])
        self._on_server_hello(hello)

    def _on_client_hello(self, hello: ClientHello) -> None:
        for _ in hello.malformed_extensions:
            self._anomaly(TlsAnomaly.MALFORMED_EXTENSION)
        # Zeek's resumption bookkeeping runs for every ClientHello
        if hello.session_ticket_len:
            self._ticket_with_empty_session = True
        if hello.session_id and hello.session_id != _ZERO_SESSION_ID:
            self._client_session_id = hello.session_id
            self._ticket_with_empty_session = False
        if hello.has_pre_shared_key:
            self._client_psk_seen = True
        if self.client_hello is not None and not self._replace_client_hello:
            return
        self._replace_client_hello = False
        self.client_hello = hello
        self._fill_client(hello)
        self._fingerprint_client(hello)

    def _fill_client(self, hello: ClientHello) -> None:
        s = self.summary
        s.server_name = hello.server_name
        s.client_version_code = hello.legacy_version
        s.client_ciphers = hello.cipher_suites
        s.client_compression_methods = hello.compression_methods
        s.client_session_id_len = len(hello.session_id)
        s.client_extensions = hello.extensions
        s.client_malformed_extensions = hello.malformed_extensions
        s.client_alpn = [p.decode("ascii", "backslashreplace") for p in hello.alpn]
        s.client_supported_versions = hello.supported_versions
        s.client_supported_groups = hello.supported_groups
        s.client_key_share_groups = hello.key_share_groups
        s.client_signature_algorithms = hello.signature_algorithms
        s.client_ec_point_formats = hello.ec_point_formats
        s.client_psk_modes = hello.psk_key_exchange_modes
        s.client_status_request = hello.status_request_type
        s.client_session_ticket_len = hello.session_ticket_len
        s.client_heartbeat = hello.heartbeat_mode
        s.client_ems = hello.extended_master_secret
        s.client_reneg_info = hello.renegotiation_info
        s.client_etm = hello.encrypt_then_mac
        s.client_padding_len = hello.padding_len
        s.client_record_size_limit = hello.record_size_limit
        s.client_ech = hello.ech_present
        s.client_ech_kdf = hello.ech_kdf_id
        s.client_ech_aead = hello.ech_aead_id
        s.client_ech_config_id = hello.ech_config_id
        s.fallback_scsv = TLS_FALLBACK_SCSV in hello.cipher_suites
        s.reneg_scsv = TLS_EMPTY_RENEGOTIATION_INFO_SCSV in hello.cipher_suites
        s.sslv2_client_hello = hello.sslv2_format

    def _on_server_hello(self, hello: ServerHello) -> None:
        for _ in hello.malformed_extensions:
            self._anomaly(TlsAnomaly.MALFORMED_EXTENSION)
        if hello.malformed_extension_block:
            self._anomaly(TlsAnomaly.MALFORMED_EXTENSION_BLOCK)
        s = self.summary
        version = hello.version
        self._negotiated = version
        s.version = version_name(version)
        s.version_code = version
        s.cipher = cipher_name(hello.cipher_suite)
        s.cipher_code = hello.cipher_suite
        s.server_version_code = hello.legacy_version
        s.server_extensions = hello.extensions
        s.server_malformed_extensions = hello.malformed_extensions + (
            [hello.broken_extension] if hello.broken_extension is not None else []
        )
        s.server_compression = hello.compression_method
        if hello.is_hrr:
            s.hrr = True
            s.hrr_group = hello.key_share_group
        else:
            s.server_key_share_group = hello.key_share_group
        if hello.key_share_group is not None:
            s.curve = group_name(hello.key_share_group)
            s.curve_code = hello.key_share_group
        if hello.alpn is not None:
            s.next_protocol = hello.alpn.decode("ascii", "backslashreplace")
        if (
            self._client_session_id is not None
            and self._client_session_id == hello.session_id
            and not is_tls13(version)
        ):
            s.resumed = True
        if hello.has_pre_shared_key and self._client_psk_seen:
            s.resumed = True
        s.rc4 = hello.cipher_suite in RC4_CIPHERS
        if version in self._pre_tls13:
            s.forward_secrecy = hello.cipher_suite in FORWARD_SECRET_CIPHERS
        else:
            s.forward_secrecy = s.server_key_share_group is not None
        if not hello.is_hrr or self.server_hello is None:
            self._fingerprint_server(hello)
        self.server_hello = hello

    def _on_certificate(self, is_client: bool, body: bytes) -> None:
        tls13 = self._negotiated is not None and is_tls13(self._negotiated)
        s = self.summary
        if s.client_cert_chain if is_client else s.cert_chain:
            return  # the first chain of each side is the row's
        keep = min(self.limits.max_certificates_per_chain, self._certificates_left)
        try:
            chain, count = parse_certificate(body, tls13, keep)
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_CERTIFICATE)
            return
        per_chain = self.limits.max_certificates_per_chain
        if count > per_chain:
            self._anomaly(TlsLimitAnomaly.CERTIFICATE_CHAIN_TOO_LONG)
        if self._certificates_left < min(count, per_chain):  # the connection's budget made the cut
            self._anomaly(TlsLimitAnomaly.TOO_MANY_CERTIFICATES)
        self._certificates_left -= len(chain)
        fps = [hashlib.sha256(der).hexdigest() for der in chain]
        if is_client:
            s.client_cert_chain, s.client_cert_chain_fps = chain, fps
        else:
            s.cert_chain, s.cert_chain_fps = chain, fps

    def _on_server_key_exchange(self, body: bytes) -> None:
        s = self.summary
        if s.cipher_code is None:
            return
        try:
            params = parse_server_key_exchange(body, cipher_kex(s.cipher_code))
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_SERVER_KEY_EXCHANGE)
            return
        if params.named_curve is not None:
            s.curve = group_name(params.named_curve)
            s.curve_code = params.named_curve
        if params.dh_prime_bits is not None:
            s.dh_prime_bits = params.dh_prime_bits

    def _on_certificate_request(self, body: bytes) -> None:
        try:
            version = self._negotiated or TLSV12
            parse_certificate_request(body, DTLS_TO_TLS_VERSION.get(version, version) if self._dtls else version)
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_CERTIFICATE_REQUEST)
            return
        self.summary.cert_request = True

    def _on_certificate_status(self, body: bytes) -> None:
        try:
            response = parse_certificate_status(body)
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_CERTIFICATE_STATUS)
            return
        if response is not None:
            self.summary.ocsp_stapled = True
            self.summary.ocsp_response = response

    def _on_new_session_ticket(self, body: bytes) -> None:
        if self._negotiated is not None and is_tls13(self._negotiated):
            return
        try:
            self.summary.session_ticket_lifetime_hint = parse_new_session_ticket(body)
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_NEW_SESSION_TICKET)

    # --- SSLv2 ---

    def _on_sslv2(self, side: _Direction, body: bytes) -> None:
        msg_type = body[0] if body else -1
        is_client = self._is_client(side)
        if is_client and msg_type == SSL2_MT_CLIENT_HELLO:
            self._on_sslv2_client_hello(body)
        elif not is_client and msg_type == SSL2_MT_SERVER_HELLO:
            self._on_sslv2_server_hello(body)
        elif is_client and msg_type == SSL2_MT_CLIENT_MASTER_KEY:
            # both directions are encrypted from here on (draft-hickman-netscape-ssl-00 §2.5)
            self._start_encryption(self._orig)
            self._start_encryption(self._resp)
        elif msg_type == SSL2_MT_ERROR and len(body) >= 3:
            self._history(is_client, HISTORY_ALERT)
            self.summary.last_alert = alert_name((body[1] << 8) | body[2])

    def _on_sslv2_client_hello(self, body: bytes) -> None:
        try:
            hello = parse_sslv2_client_hello(body)
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_SSLV2_CLIENT_HELLO)
            return
        self._history(True, HISTORY_LETTERS[HT_CLIENT_HELLO])
        self._on_client_hello(hello)

    def _on_sslv2_server_hello(self, body: bytes) -> None:
        try:
            hello, certificate = parse_sslv2_server_hello(body)
        except ValueError:
            self._anomaly(TlsAnomaly.MALFORMED_SSLV2_SERVER_HELLO)
            return
        self._history(False, HISTORY_LETTERS[HT_SERVER_HELLO])
        client = self._resp if self._flipped else self._orig
        if client.records.mode == MODE_V2_HELLO:
            client.records.mode = MODE_V2
        self._on_server_hello(hello)
        if certificate:
            self.summary.cert_chain = [certificate]
            self.summary.cert_chain_fps = [hashlib.sha256(certificate).hexdigest()]

    # --- helpers ---

    def _is_client(self, side: _Direction) -> bool:
        return side.is_orig != self._flipped

    def _anomaly(self, name: str) -> None:
        """List ``name`` while the list has room; past Limits.max_anomalies count it, naming the cut once."""
        anomalies = self.anomalies
        limit = self.limits.max_anomalies
        if len(anomalies) < limit:
            anomalies.append(name)
            return
        if not self.anomalies_dropped:
            anomalies.append(TlsLimitAnomaly.TOO_MANY_ANOMALIES)
        self.anomalies_dropped += 1

    def _history(self, is_client: bool, letter: str) -> None:
        history = self.summary.ssl_history
        if len(history) >= MAX_HISTORY_LENGTH:
            return
        history += letter.upper() if is_client else letter.lower()
        self.summary.ssl_history = history
        if len(history) == MAX_HISTORY_LENGTH:
            self._anomaly(TlsAnomaly.HISTORY_TOO_LONG)

    def _stop(self, side: _Direction, anomaly: TlsAnomaly | None) -> None:
        side.stopped = True
        side.records.stop(side.records.error)
        side.handshake.reset()
        if anomaly is not None:
            self._anomaly(anomaly)
        if self._orig.stopped and self._resp.stopped:
            self.finished = True

    def _fingerprint_client(self, hello: ClientHello) -> None:
        s = self.summary
        try:
            s.ja3, s.ja4, s.ja4_r = _client_fingerprints(
                self.transport,
                hello.legacy_version,
                tuple(hello.cipher_suites),
                tuple(hello.extensions),
                tuple(hello.supported_groups),
                tuple(hello.ec_point_formats),
                tuple(hello.signature_algorithms),
                tuple(hello.supported_versions),
                tuple(hello.alpn[:1]),
            )
        except Exception:  # a fingerprint bug must not lose the connection's row
            self._anomaly(TlsAnomaly.FINGERPRINT_FAILED)

    def _fingerprint_server(self, hello: ServerHello) -> None:
        try:
            self.summary.ja3s = _server_fingerprint(hello.legacy_version, hello.cipher_suite, tuple(hello.extensions))
        except Exception:  # a fingerprint bug must not lose the connection's row
            self._anomaly(TlsAnomaly.FINGERPRINT_FAILED)


# Most clients and servers send the same hello shape again and again (only random and session id differ), so
# the fingerprints are memoised on exactly the fields JA3/JA4/JA3S read (JA4 reads only the first ALPN value):
# a pure function of its arguments, bounded by the LRU size.
_FINGERPRINT_MEMO_SIZE = 2048


@functools.lru_cache(maxsize=_FINGERPRINT_MEMO_SIZE)
def _client_fingerprints(
    transport: str,
    legacy_version: int,
    cipher_suites: tuple[int, ...],
    extensions: tuple[int, ...],
    supported_groups: tuple[int, ...],
    ec_point_formats: tuple[int, ...],
    signature_algorithms: tuple[int, ...],
    supported_versions: tuple[int, ...],
    first_alpn: tuple[bytes, ...],
) -> tuple[str, str, str]:
    """(ja3 md5, ja4, ja4_r) of a ClientHello with these fields."""
    hello = ClientHello(
        legacy_version,
        b"",
        b"",
        list(cipher_suites),
        [],
        extensions=list(extensions),
        supported_groups=list(supported_groups),
        ec_point_formats=list(ec_point_formats),
        signature_algorithms=list(signature_algorithms),
        supported_versions=list(supported_versions),
        alpn=list(first_alpn),
    )
    ja4, ja4_r = fingerprints.ja4(hello, transport)
    return fingerprints.ja3(hello)[1], ja4, ja4_r


@functools.lru_cache(maxsize=_FINGERPRINT_MEMO_SIZE)
def _server_fingerprint(legacy_version: int, cipher_suite: int, extensions: tuple[int, ...]) -> str:
    """The JA3S md5 of a ServerHello with these fields."""
    return fingerprints.ja3s(ServerHello(legacy_version, b"", b"", cipher_suite, 0, extensions=list(extensions)))[1]
