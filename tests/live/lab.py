"""A two-namespace lab for the live-capture tests, and the monitor and peers run in it.

``Lab`` creates namespaces ``<name>-c`` (client side, where the monitor captures) and ``<name>-s`` (server
side) joined by a veth pair, ``10.<n>.0.1`` ↔ ``10.<n>.0.2``; nothing is changed in the host's own namespace,
and :meth:`Lab.close` deletes both namespaces (which deletes the veth pair) whatever happened. Processes are
started inside a namespace with ``ip netns exec``. Every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from fixtures import tlsgen

REPO = Path(__file__).resolve().parents[2]
PEERS = Path(__file__).with_name("peers.py")
TLSMON = REPO / ".venv" / "bin" / "tlsmon"
TLS_PORT = 4443
SMTP_PORT = 2525
BPF = f"tcp port {TLS_PORT} or tcp port {SMTP_PORT}"
SNI = "www.example.test"


def capture_unavailable() -> str | None:
    """Why the live tests cannot run here, or None when they can."""
    if sys.platform != "linux":
        return "live capture tests need Linux (AF_PACKET, network namespaces)"
    if os.geteuid() != 0:
        return "live capture tests need root (network namespaces, AF_PACKET sockets); CI runs them as root"
    if shutil.which("ip") is None:
        return "live capture tests need iproute2's `ip` to create network namespaces"
    try:
        import socket

        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
    except (AttributeError, OSError) as exc:
        return f"no AF_PACKET sockets here ({exc})"
    probe = f"tlsmon-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@dataclass
class Lab:
    name: str
    subnet: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def client_ns(self) -> str:
        return f"{self.name}-c"

    @property
    def server_ns(self) -> str:
        return f"{self.name}-s"

    @property
    def interface(self) -> str:
        return "vmon"

    @property
    def server_addr(self) -> str:
        return f"10.{self.subnet}.0.2"

    def open(self) -> Lab:
        _ip("netns", "add", self.client_ns)
        _ip("netns", "add", self.server_ns)
        _ip("link", "add", "vmon", "netns", self.client_ns, "type", "veth", "peer", "name", "vsrv",
            "netns", self.server_ns)
        for ns, dev, host in ((self.client_ns, "vmon", 1), (self.server_ns, "vsrv", 2)):
            _ip("-n", ns, "addr", "add", f"10.{self.subnet}.0.{host}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        return self

    def close(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        for ns in (self.client_ns, self.server_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False, timeout=10)

    def spawn(self, ns: str, argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        proc: subprocess.Popen[bytes] = subprocess.Popen(["ip", "netns", "exec", ns, *argv], **kwargs)  # type: ignore[call-overload]
        self.processes.append(proc)
        return proc

    def start_servers(self, workdir: Path) -> None:
        chain = tlsgen.server_chain(cn="example.test")
        chain_file = workdir / "chain.pem"
        key_file = workdir / "key.pem"
        chain_file.write_bytes(chain.chain_pem)
        key_file.write_bytes(chain.key_pem)
        (workdir / "root.pem").write_bytes(chain.root_pem)
        proc = self.spawn(
            self.server_ns,
            [sys.executable, str(PEERS), "serve", "--host", self.server_addr, "--tls-port", str(TLS_PORT),
             "--smtp-port", str(SMTP_PORT), "--chain", str(chain_file), "--key", str(key_file)],
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready", "servers did not start"

    def connect(self, workdir: Path, mode: str, max_version: str = "1.3") -> dict[str, object]:
        port = TLS_PORT if mode == "tls" else SMTP_PORT
        done = subprocess.run(
            ["ip", "netns", "exec", self.client_ns, sys.executable, str(PEERS), "connect", "--host",
             self.server_addr, "--port", str(port), "--mode", mode, "--sni", SNI, "--ca",
             str(workdir / "root.pem"), "--max-version", max_version],
            capture_output=True, timeout=30, check=True,
        )
        result: dict[str, object] = json.loads(done.stdout)
        return result

    def openssl_connect(self, workdir: Path) -> None:
        """One TLS connection with `openssl s_client` (which sends SNI and closes after the handshake)."""
        subprocess.run(
            ["ip", "netns", "exec", self.client_ns, "openssl", "s_client", "-connect",
             f"{self.server_addr}:{TLS_PORT}", "-servername", SNI, "-CAfile", str(workdir / "root.pem")],
            input=b"Q\n", capture_output=True, timeout=30, check=True,
        )


class Monitor:
    """A running ``tlsmon live`` in the client namespace; its stderr goes to a file the test can read."""

    def __init__(self, lab: Lab, out: Path, *extra: str) -> None:
        self.out = out
        self.log = out.parent / f"{out.name}.log"
        self._log_file = self.log.open("wb")
        self.proc = lab.spawn(
            lab.client_ns,
            [str(TLSMON), "live", "-i", lab.interface, "-o", str(out), "--filter", BPF, *extra],
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
        )
        workers = int(extra[extra.index("--workers") + 1]) if "--workers" in extra else 1
        self.wait_for_log_count(": started, files go to", workers, 20)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None:
                raise AssertionError(f"tlsmon live exited {self.proc.returncode}:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in the monitor's log after {timeout} s:\n{self.text()}")
            time.sleep(0.05)

    def wait_for_log_count(self, needle: str, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.text().count(needle) < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"tlsmon live exited {self.proc.returncode}:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} x {needle!r} not in the monitor's log after {timeout} s:\n{self.text()}")
            time.sleep(0.05)

    def signal(self, sig: int) -> None:
        # `ip netns exec` execs the command, so the pid is tlsmon's own.
        os.kill(self.proc.pid, sig)

    def stop(self, timeout: float = 15) -> int:
        self.signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._log_file.close()
        return code

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log_file.close()


def visible_files(out: Path, table: str) -> list[Path]:
    """The files a reader of OUT/<table>/ may open: no dot-file, no staging."""
    root = out / table
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.parquet") if not any(part.startswith(".") for part in p.parts))


def read_table(out: Path, table: str) -> pa.Table:
    """The table as a Hive-partitioned dataset (what a pyarrow reader of OUT/<table> sees)."""
    return ds.dataset(out / table, format="parquet", partitioning="hive").to_table()


def wait_until(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
