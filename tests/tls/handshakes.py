"""Real TLS handshakes made in memory with Python's ``ssl`` module, for feeding to the analyzer.

Two ``SSLObject``s talk through memory BIOs; every flight either side writes is kept in order as
``(is_orig, bytes)``, exactly the stream events a TCP reassembler would deliver. Certificates are throwaway
self-signed ones made with ``cryptography``.
"""

from __future__ import annotations

import datetime
import ssl
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from math import factorial
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, rsa
from cryptography.x509.oid import NameOID

HOSTNAME = "example.test"


@dataclass(frozen=True)
class Identity:
    cert_pem: Path
    key_pem: Path
    der: bytes


def make_identity(directory: Path, name: str, key_kind: str = "ec") -> Identity:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    key = (
        ec.generate_private_key(ec.SECP256R1()) if key_kind == "ec" else rsa.generate_private_key(65537, 2048)
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{name}-{key_kind}.crt"
    key_path = directory / f"{name}-{key_kind}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Identity(cert_path, key_path, cert.public_bytes(serialization.Encoding.DER))


def ffdhe2048_prime() -> int:
    """The RFC 7919 ffdhe2048 prime, p = 2^2048 - 2^1984 + (floor(2^1918 * e) + 560316) * 2^64 - 1."""
    e_scaled = sum(Fraction(2**1918, factorial(k)) for k in range(400))
    return 2**2048 - 2**1984 + (int(e_scaled) + 560316) * 2**64 - 1


def write_dh_params(directory: Path) -> Path:
    path = directory / "ffdhe2048.pem"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography deprecates FFDH; the DHE test needs it anyway
        params = dh.DHParameterNumbers(ffdhe2048_prime(), 2).parameters()
    path.write_bytes(params.parameter_bytes(serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3))
    return path


def identities() -> dict[str, Identity]:
    directory = Path(tempfile.mkdtemp(prefix="tlsmon-tls-test-"))
    return {
        "ec": make_identity(directory, HOSTNAME, "ec"),
        "rsa": make_identity(directory, HOSTNAME, "rsa"),
        "client": make_identity(directory, "client.example.test", "ec"),
    }


def dh_params_file() -> Path:
    return write_dh_params(Path(tempfile.mkdtemp(prefix="tlsmon-tls-dh-")))


def server_context(
    identity: Identity, configure: Callable[[ssl.SSLContext], None] | None = None
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(identity.cert_pem, identity.key_pem)
    if configure is not None:
        configure(ctx)
    return ctx


def client_context(configure: Callable[[ssl.SSLContext], None] | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if configure is not None:
        configure(ctx)
    return ctx


@dataclass
class Transcript:
    client: ssl.SSLObject
    server: ssl.SSLObject
    chunks: list[tuple[bool, bytes]] = field(default_factory=list)
    error: Exception | None = None

    def add(self, is_orig: bool, data: bytes) -> None:
        if data:
            self.chunks.append((is_orig, data))

    def stream(self, is_orig: bool) -> bytes:
        return b"".join(data for orig, data in self.chunks if orig == is_orig)


def handshake(
    client_ctx: ssl.SSLContext,
    server_ctx: ssl.SSLContext,
    server_hostname: str | None = HOSTNAME,
    session: ssl.SSLSession | None = None,
    app_data: bool = True,
) -> Transcript:
    """Run a full handshake; on success exchange one application record each way (``app_data``)."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=server_hostname, session=session)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    t = Transcript(client, server)
    client_done = server_done = False
    for _ in range(20):
        if not client_done:
            try:
                client.do_handshake()
                client_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                t.error = exc
        data = c_out.read()
        t.add(True, data)
        s_in.write(data)
        if not server_done:
            try:
                server.do_handshake()
                server_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                t.error = exc
        data = s_out.read()
        t.add(False, data)
        c_in.write(data)
        if t.error is not None:
            # let the peer read the alert, as a real one would before closing
            for obj, out, is_orig in ((client, c_out, True), (server, s_out, False)):
                try:
                    obj.do_handshake()
                except ssl.SSLError:
                    pass
                t.add(is_orig, out.read())
            return t
        if client_done and server_done and not c_out.pending and not s_out.pending:
            break
    if app_data:
        client.write(b"ping")
        data = c_out.read()
        t.add(True, data)
        s_in.write(data)
        server.read(4)
        server.write(b"pong")
        data = s_out.read()
        t.add(False, data)
        c_in.write(data)
        client.read(4)
    return t
