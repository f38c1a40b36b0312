"""Start-up and exit of ``read``: it imports only what its run needs (no terminal library when its output is not a
terminal, no cryptography before a certificate, no plaintext analyzer before a connection that is not TLS from
its first byte, no libpcap binding, no other subcommand's modules), freezes what it imported out of the collector's
sight, and the console script leaves without tearing the heap down, after every file is in place, with main()'s
status.

What a read imported is read from ``sys.modules`` in a fresh interpreter after ``main()`` returned."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.e2e.captures import PCAPS

RUN = "import sys; from tlsmon.cli import run; sys.argv = ['tlsmon', *sys.argv[1:]]; run()"


def _tlsmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=False)


def test_read_exits_zero_with_every_table_written(tmp_path: Path) -> None:
    result = _tlsmon("read", str(PCAPS / "sample.pcap"), "-o", str(tmp_path), "-q")
    assert result.returncode == 0
    assert pq.read_table(tmp_path / "connections").num_rows == 19
    assert not list(tmp_path.rglob("*.tmp"))


def test_read_keeps_its_error_status(tmp_path: Path) -> None:
    result = _tlsmon("read", str(tmp_path / "missing.pcap"), "-o", str(tmp_path / "out"), "-q")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1)


def test_other_commands_exit_normally() -> None:
    result = _tlsmon("schema")
    assert (result.returncode, result.stdout.startswith("#")) == (0, True)


def _python(code: str) -> str:
    """What ``code`` prints, run in a fresh interpreter (what a run imports is read from its sys.modules)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_a_read_whose_output_is_not_a_terminal_imports_no_rich(tmp_path: Path) -> None:
    code = (
        "import sys; from tlsmon.cli import main; "
        f"main(['read', {str(PCAPS / 'sample.pcap')!r}, '-o', {str(tmp_path)!r}]); "
        "print('rich loaded' if any(m.split('.')[0] == 'rich' for m in sys.modules) else 'no rich')"
    )
    stdout = _python(code)
    assert stdout.splitlines()[-1] == "no rich"
    assert "  TLS connections" in stdout  # the summary, as plain text


#: Modules (and their submodules) a read of a TLS-only capture with no certificate on the wire must not import.
NOT_NEEDED_BY_A_TLS_READ = frozenset(
    {
        "cryptography",  # X.509 parsing and validation, OCSP, QUIC's Initial keys
        "tlsmon.x509.certs",
        "tlsmon.x509.der",
        "tlsmon.x509.names",
        "tlsmon.x509.ocsp",
        "tlsmon.x509.oids",
        "tlsmon.x509.roots",
        "tlsmon.x509.validate",
        "tlsmon.quic.analyzer",
        "tlsmon.quic.protection",
        "tlsmon.protocols.registry",  # the plaintext (STARTTLS) analyzers
        "tlsmon.protocols.base",
        "tlsmon.protocols.binary",
        "tlsmon.protocols.ber",
        "tlsmon.protocols.text",
        "tlsmon.protocols.ftp",
        "tlsmon.protocols.http_connect",
        "tlsmon.protocols.imap",
        "tlsmon.protocols.irc",
        "tlsmon.protocols.ldap",
        "tlsmon.protocols.mysql",
        "tlsmon.protocols.nntp",
        "tlsmon.protocols.pop3",
        "tlsmon.protocols.postgresql",
        "tlsmon.protocols.rdp",
        "tlsmon.protocols.sieve",
        "tlsmon.protocols.smtp",
        "tlsmon.protocols.socks",
        "tlsmon.protocols.xmpp",
        "pcap",  # libpcap's binding: live capture and --filter only
        "tlsmon.capture.live",
        "tlsmon.live.config",
        "tlsmon.live.metrics",
        "tlsmon.live.service",
        "tlsmon.live.signals",
        "tlsmon.live.worker",
        "tlsmon.report",
        "tlsmon.batch",
        "rich",
        "pyarrow.dataset",  # reading back the registries file went through it
        "pyarrow.compute",
    }
)
TLS13 = PCAPS / "tls13-basic.pcap"  # one TLS 1.3 connection: its certificate is encrypted
TLS12 = PCAPS / "tls12-ecdhe-rsa.pcap"  # one TLS 1.2 connection, its server chain of two certificates
SMTP = PCAPS / "starttls" / "smtp-accepted.pcap"  # SMTP, STARTTLS accepted, TLS 1.3


def _modules_after_read(capture: Path, out: Path, *options: str) -> set[str]:
    code = (
        "import json, sys; from tlsmon.cli import main; "
        f"status = main(['read', {str(capture)!r}, '-o', {str(out)!r}, '-q', *{list(options)!r}]); "
        "print(json.dumps([status, sorted(sys.modules)]))"
    )
    stdout = _python(code)
    status, modules = json.loads(stdout.splitlines()[-1])
    assert status == 0
    return set(modules)


def _unneeded(modules: set[str]) -> set[str]:
    """The modules of :data:`NOT_NEEDED_BY_A_TLS_READ` (a name there or a submodule of one) among ``modules``."""
    return {m for m in modules if any(m == name or m.startswith(name + ".") for name in NOT_NEEDED_BY_A_TLS_READ)}


@pytest.mark.parametrize("engine", ["native", "python"])
def test_a_tls_only_read_imports_no_module_it_does_not_need(tmp_path: Path, engine: str) -> None:
    modules = _modules_after_read(TLS13, tmp_path, "--engine", engine)
    assert _unneeded(modules) == set()
    assert pq.read_table(tmp_path / "certificates").num_rows == 0


def test_a_native_read_imports_neither_the_python_tls_analyzer_nor_what_pyarrow_does_not_need(tmp_path: Path) -> None:
    modules = _modules_after_read(TLS12, tmp_path)
    assert {"tlsmon.tls.analyzer", "numpy", "cloudpickle"} & modules == set()
    assert pq.read_table(tmp_path / "certificates").num_rows == 2


#: The Python engine's own stages: a native read of a TLS-only capture loads none of them (the compiled core
#: reads, decodes, tracks and analyzes TLS; tlsmon.recorder builds what rows Python writes).
THE_PYTHON_ENGINE = frozenset(
    {
        "tlsmon.engine",
        "tlsmon.capture.source",  # the Python capture reader
        "tlsmon.decode.packet",
        "tlsmon.tcp.tracker",
        "tlsmon.tcp.reassembly",
        "sortedcontainers",
        "tlsmon.dispatch",
        "tlsmon.protocols.identification",
        "tlsmon.protocols.events",  # what the plaintext analyzers say; the STARTTLS columns need none of it
        "tlsmon.tls.factory",
        "tlsmon.udp.flows",
        "tlsmon.udp.dispatcher",
        "tlsmon.quic",
        "tlsmon.dtls",
    }
)


def test_a_native_tls_read_loads_none_of_the_python_engine(tmp_path: Path) -> None:
    modules = _modules_after_read(TLS12, tmp_path)
    assert {m for m in modules if any(m == n or m.startswith(n + ".") for n in THE_PYTHON_ENGINE)} == set()
    assert pq.read_table(tmp_path / "connections").num_rows == 1


def test_the_command_line_loads_neither_pyarrow_nor_the_engines_before_a_read_starts_reading() -> None:
    # What `tlsmon read` imports before its native loop starts reading ahead (tlsmon.readahead).
    code = "import sys, tlsmon.cli, tlsmon.readahead; print({'pyarrow', 'tlsmon.native_engine'} & set(sys.modules))"
    assert _python(code).split() == ["set()"]


def test_numpy_is_importable_after_tlsmon() -> None:
    code = "import tlsmon, pyarrow, numpy; print(numpy.arange(3).sum())"
    stdout = _python(code)
    assert stdout.split() == ["3"]


def test_a_read_that_sees_a_certificate_imports_cryptography_then(tmp_path: Path) -> None:
    modules = _modules_after_read(TLS12, tmp_path)
    assert {"cryptography", "tlsmon.x509.certs", "tlsmon.x509.validate"} <= modules
    assert pq.read_table(tmp_path / "certificates").num_rows == 2


def test_a_read_that_sees_plaintext_imports_the_protocol_analyzers_then(tmp_path: Path) -> None:
    modules = _modules_after_read(SMTP, tmp_path)
    assert {"tlsmon.protocols.registry", "tlsmon.protocols.smtp"} <= modules
    assert "cryptography" not in modules


def test_a_read_with_a_filter_imports_libpcap_s_binding(tmp_path: Path) -> None:
    modules = _modules_after_read(TLS13, tmp_path, "--filter", "tcp port 443")
    assert "pcap" in modules


def test_a_read_freezes_what_it_imported_and_widens_the_young_generation(tmp_path: Path) -> None:
    code = (
        "import gc, json; from tlsmon.cli import main; from tlsmon.engines import GC_YOUNG_THRESHOLD; "
        f"main(['read', {str(TLS13)!r}, '-o', {str(tmp_path)!r}, '-q']); "
        "print(json.dumps([gc.get_freeze_count() > 10_000, gc.get_threshold()[0] == GC_YOUNG_THRESHOLD]))"
    )
    stdout = _python(code)
    assert json.loads(stdout.splitlines()[-1]) == [True, True]
