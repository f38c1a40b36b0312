"""``tlsmon live``: open the interface, give up root, run the workers, stop cleanly.

Theory of operation. Start-up is in tcpdump's order: every capture handle is opened while the process is still
privileged (one per worker; with several they join one PACKET_FANOUT group), the metrics socket is bound, then
privileges are dropped, and only then is the output directory touched, so it must be writable by ``--user``.
The output directory is locked (``OUT/.lock``, flock) against a second monitor, and files that a killed
run left complete in staging are moved into place (:func:`~tlsmon.output.rotating.recover_staging`).

One worker runs in this process. Several are forked, each taking its own already-open handle; the parent
never reads packets. It forwards SIGHUP (rotate) and SIGTERM (stop) to the workers, collects their metrics
snapshots over one pipe each, and serves the metrics. If a worker dies, the others are stopped too (the fanout
hash would otherwise move flows between the remaining workers mid-connection) and the exit status is 1, so a
service manager restarts the whole monitor. A worker that has not stopped ``SHUTDOWN_GRACE_S`` after SIGTERM
is killed.

The parent never closes the workers' handles: closing a libpcap handle also tears down the socket's ring
(``PACKET_RX_RING``), which the forked worker shares; workers leave with ``os._exit`` for the same reason.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
import time
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from pathlib import Path

from tlsmon.capture.errors import CaptureError
from tlsmon.capture.live import LiveSource
from tlsmon.capture.privileges import PrivilegeError, drop_privileges
from tlsmon.live.config import LiveConfig
from tlsmon.live.metrics import LiveCollector, MetricsServer, MetricsSnapshot
from tlsmon.live.signals import SignalFlags
from tlsmon.live.worker import Worker, WorkerSettings
from tlsmon.output.registries_file import write_registries
from tlsmon.output.rotating import recover_staging
from tlsmon.output.sink import run_metadata
from tlsmon.tcp.tracker_config import TrackerConfig

EXIT_OK = 0
EXIT_ERROR = 1
SHUTDOWN_GRACE_S = 30.0
LOCK_FILE = ".lock"

log = logging.getLogger("tlsmon.live")


class OutputLockedError(Exception):
    """Another process holds the output directory's lock."""


def run_live(config: LiveConfig) -> int:
    """Run the monitor until SIGTERM/SIGINT; the process exit status."""
    _setup_logging(config.log_level)
    try:
        sources = open_sources(config)
    except CaptureError as exc:
        log.error("%s", exc)
        return EXIT_ERROR
    collector = LiveCollector()
    server: MetricsServer | None = None
    try:
        if config.metrics_port is not None:
            server = MetricsServer(config.metrics_address, config.metrics_port, collector)
        drop_privileges(config.user, config.group)
        out = Path(config.output)
        lock_fd = _prepare_output(out)
    except OSError as exc:
        log.error("%s", _os_error(exc, config))
        return EXIT_ERROR
    except (PrivilegeError, OutputLockedError) as exc:
        log.error("%s", exc)
        return EXIT_ERROR
    try:
        log.info(
            "capturing on %s (link type %d) with %d worker(s), filter %r, writing to %s",
            config.interface, sources[0].linktype, len(sources), config.filter or "", out,
        )
        signals = SignalFlags()
        signals.install()
        if len(sources) == 1:
            if server is not None:
                server.start()
            worker = Worker(_settings(config, 0), sources[0], signals, collector.update, log)
            return worker.run()
        return _supervise(config, sources, signals, collector, server)
    finally:
        if server is not None:
            server.close()
        os.close(lock_fd)


def open_sources(config: LiveConfig) -> list[LiveSource]:
    """One open handle per worker; with several, all in one fanout group (this process's id)."""
    sources = [
        LiveSource(
            config.interface,
            config.filter,
            config.snaplen,
            config.buffer_mb << 20,
            config.promisc,
            native=config.engine == "native",
        )
        for _ in range(config.workers)
    ]
    if len(sources) > 1:
        group = os.getpid() & 0xFFFF
        for source in sources:
            source.join_fanout(group)
    return sources


def _settings(config: LiveConfig, worker: int) -> WorkerSettings:
    tracker = TrackerConfig(
        idle_timeout_ns=int(config.idle_timeout * 1e9),
        max_connections=config.max_connections,
        interim_interval_ns=int(config.interim_interval * 1e9),
    )
    return WorkerSettings(
        worker, Path(config.output), config.rotate, config.stats_interval, tracker, config.engine == "native"
    )


def _prepare_output(out: Path) -> int:
    """Create and lock the output directory, recover what a killed run left; the lock's descriptor."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputLockedError(f"{out}: another tlsmon live is writing there") from None
    for path in recover_staging(out):
        log.warning("recovered %s, left complete by an earlier run", path)
    write_registries(out, run_metadata())
    return fd


def _supervise(
    config: LiveConfig,
    sources: list[LiveSource],
    signals: SignalFlags,
    collector: LiveCollector,
    server: MetricsServer | None,
) -> int:
    children: dict[int, int] = {}  # pid → worker
    readers: list[Connection] = []
    for worker, source in enumerate(sources):
        reader, writer = Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:  # the worker: the flags object is its own copy, handlers included
            reader.close()
            for r in readers:
                r.close()
            os._exit(_worker_main(config, worker, source, signals, writer))
        writer.close()
        children[pid] = worker
        readers.append(reader)
    if server is not None:
        server.start()
    failed = False
    deadline: float | None = None
    while children or readers:
        for ready in wait(readers, timeout=0.5):
            assert isinstance(ready, Connection)
            try:
                snapshot = ready.recv()
            except (EOFError, OSError):
                readers.remove(ready)
                ready.close()
                continue
            if isinstance(snapshot, MetricsSnapshot):
                collector.update(snapshot)
        for pid, code in _reap():
            worker = children.pop(pid)
            if code != 0:
                failed = True
                if not signals.stop:
                    log.error("worker %d exited with status %d; stopping the others", worker, code)
                    signals.stop = True
        if signals.take_rotate():
            _signal_all(children, signal.SIGHUP)
        if signals.stop and deadline is None:
            _signal_all(children, signal.SIGTERM)
            deadline = time.monotonic() + SHUTDOWN_GRACE_S
        if deadline is not None and children and time.monotonic() > deadline:
            log.error("worker(s) %s still running %.0f s after SIGTERM; killing", sorted(children.values()),
                      SHUTDOWN_GRACE_S)
            _signal_all(children, signal.SIGKILL)
            failed = True
            deadline = float("inf")
    return EXIT_ERROR if failed else EXIT_OK


def _worker_main(config: LiveConfig, worker: int, source: LiveSource, signals: SignalFlags, pipe: Connection) -> int:
    def publish(snapshot: MetricsSnapshot) -> None:
        try:
            pipe.send(snapshot)
        except OSError:
            pass  # the parent is gone; its service manager is stopping everything

    try:
        return Worker(_settings(config, worker), source, signals, publish, log).run()
    except BaseException:
        log.exception("worker %d failed", worker)
        return EXIT_ERROR
    finally:
        pipe.close()
        logging.shutdown()


def _reap() -> list[tuple[int, int]]:
    """(pid, exit status) of every child that has ended."""
    ended: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, os.waitstatus_to_exitcode(status)))


def _signal_all(children: dict[int, int], sig: int) -> None:
    for pid in children:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _setup_logging(level: str) -> None:
    logger = logging.getLogger("tlsmon")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s tlsmon[%(process)d] %(levelname)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level.upper())


def _os_error(exc: OSError, config: LiveConfig) -> str:
    where = exc.filename if exc.filename is not None else f"metrics port {config.metrics_port}"
    return f"{where}: {exc.strerror or exc}"
