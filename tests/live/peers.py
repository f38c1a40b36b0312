"""TLS and STARTTLS peers for the live-capture tests, run as scripts inside a network namespace.

``python peers.py serve --host H --tls-port P --smtp-port Q --chain C --key K`` listens on both ports and
prints ``ready`` once it does: on P, TLS from the first byte; on Q, a minimal SMTP server that offers STARTTLS
(RFC 3207) and upgrades on it. Each connection is served in a thread; the server runs until killed.

``python peers.py connect --host H --port P --mode tls|smtp --sni NAME --ca ROOT [--max-version 1.2]`` makes
one connection, exchanges a line over TLS, closes, and prints what the client saw as one JSON line:
``orig_p`` (its local port), ``version`` (ssl's spelling), ``cipher_code``, ``sni`` and ``cert_sha256`` (the
server leaf's SHA-256), which the tests compare with the monitor's row.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import ssl
import sys
import threading

TIMEOUT_S = 10.0


def _serve_tls(conn: socket.socket, ctx: ssl.SSLContext) -> None:
    with ctx.wrap_socket(conn, server_side=True) as tls:
        line = tls.recv(1024)
        tls.sendall(b"echo " + line)


def _serve_smtp(conn: socket.socket, ctx: ssl.SSLContext) -> None:
    reader = conn.makefile("rb")
    conn.sendall(b"220 mail.example.test ESMTP\r\n")
    reader.readline()  # EHLO
    conn.sendall(b"250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
    command = reader.readline()
    if command.strip().upper() != b"STARTTLS":
        conn.sendall(b"502 no\r\n")
        conn.close()
        return
    conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
    reader.close()
    with ctx.wrap_socket(conn, server_side=True) as tls:
        tls.recv(1024)  # EHLO again
        tls.sendall(b"250 mail.example.test\r\n")
        tls.recv(1024)  # QUIT
        tls.sendall(b"221 2.0.0 Bye\r\n")


def _accept_loop(listener: socket.socket, handler: object, ctx: ssl.SSLContext) -> None:
    assert callable(handler)
    while True:
        conn, _ = listener.accept()
        conn.settimeout(TIMEOUT_S)

        def run(c: socket.socket = conn) -> None:
            try:
                handler(c, ctx)
            except (OSError, ssl.SSLError):
                pass
            finally:
                c.close()

        threading.Thread(target=run, daemon=True).start()


def serve(args: argparse.Namespace) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.chain, args.key)
    threads = []
    for port, handler in ((args.tls_port, _serve_tls), (args.smtp_port, _serve_smtp)):
        listener = socket.create_server((args.host, port), reuse_port=False)
        threads.append(threading.Thread(target=_accept_loop, args=(listener, handler, ctx), daemon=True))
    for t in threads:
        t.start()
    print("ready", flush=True)
    for t in threads:
        t.join()


def _client_context(args: argparse.Namespace) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.ca)
    if args.max_version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _result(tls: ssl.SSLSocket, ctx: ssl.SSLContext, sni: str) -> dict[str, object]:
    name, _, _ = tls.cipher() or ("", "", 0)
    code = next(c["id"] & 0xFFFF for c in ctx.get_ciphers() if c["name"] == name)
    leaf = tls.getpeercert(binary_form=True)
    assert leaf is not None
    return {
        "orig_p": tls.getsockname()[1],
        "version": tls.version(),
        "cipher_code": code,
        "sni": sni,
        "cert_sha256": hashlib.sha256(leaf).hexdigest(),
    }


def connect(args: argparse.Namespace) -> None:
    ctx = _client_context(args)
    sock = socket.create_connection((args.host, args.port), timeout=TIMEOUT_S)
    if args.mode == "smtp":
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"EHLO client.example.test\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        sock.sendall(b"STARTTLS\r\n")
        reply = reader.readline()
        reader.close()
        if not reply.startswith(b"220"):
            raise SystemExit(f"STARTTLS refused: {reply!r}")
    with ctx.wrap_socket(sock, server_hostname=args.sni) as tls:
        result = _result(tls, ctx, args.sni)
        if args.mode == "smtp":
            tls.sendall(b"EHLO client.example.test\r\n")
            tls.recv(1024)
            tls.sendall(b"QUIT\r\n")
            tls.recv(1024)
        else:
            tls.sendall(b"hello\n")
            tls.recv(1024)
    print(json.dumps(result), flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--host", required=True)
    s.add_argument("--tls-port", type=int, required=True)
    s.add_argument("--smtp-port", type=int, required=True)
    s.add_argument("--chain", required=True)
    s.add_argument("--key", required=True)
    c = sub.add_parser("connect")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--mode", choices=["tls", "smtp"], required=True)
    c.add_argument("--sni", required=True)
    c.add_argument("--ca", required=True)
    c.add_argument("--max-version", choices=["1.2", "1.3"], default="1.3")
    args = parser.parse_args(argv)
    serve(args) if args.command == "serve" else connect(args)


if __name__ == "__main__":
    main(sys.argv[1:])
