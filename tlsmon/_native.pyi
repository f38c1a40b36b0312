"""Type stubs of the compiled core (native/, built by maturin as tlsmon._native)."""

from collections.abc import Callable, Sequence
from os import PathLike
from typing import Any, Self, final

from tlsmon.tls.summary import TlsSummary

__version__: str

class Tracker:
    """The native flow table and reassembly (native/src/tcp); see tlsmon/native_engine.py."""

    def __init__(
        self,
        idle_timeout_ns: int,
        linger_ns: int,
        max_connections: int,
        max_buffered_per_direction: int,
        max_buffered_total: int,
        sweep_interval_ns: int,
        check_every_packets: int,
        service_ports: list[int],
        interim_interval_ns: int | None,
        udp_idle_timeout_ns: int = 60_000_000_000,
        tls_limits: tuple[int, int, int, int] | None = None,
        native_rows: bool = False,
    ) -> None: ...
    def sweep(self, now: int) -> None: ...
    @property
    def udp_evicted(self) -> int: ...
    @property
    def live(self) -> int: ...
    def feed_frames(self, frames: list[tuple[int, int, bytes]]) -> None: ...
    @property
    def decode_counters(self) -> list[tuple[str, int]]: ...
    @property
    def pending_fragments(self) -> int: ...
    def run_capture(
        self, source: CaptureSource, max_events: int, max_frames: int
    ) -> tuple[list[tuple[int, int, int, bool, object]], bool]: ...
    def read_ahead(
        self, source: CaptureSource, stop: Stop, max_events: int, max_bytes: int, max_rows: int
    ) -> bool: ...
    def run_live(
        self, live: LiveCapture, max_events: int, max_frames: int
    ) -> tuple[list[tuple[int, int, int, bool, object]], int, bool, int | None]: ...
    def bypass(self, ids: list[int]) -> None: ...
    def finish(self, reason: str) -> None: ...
    def take_events(self) -> list[tuple[int, int, int, bool, object]]: ...
    @property
    def pending_rows(self) -> int: ...
    @property
    def certificates_seen(self) -> bool: ...
    def build_rows(self, sequences: list[int]) -> None: ...
    def take_rows(
        self, extra: list[tuple[int, list[str]]]
    ) -> tuple[
        object, object, tuple[int, int, int, dict[str, int], dict[str, int], dict[str, int]]
    ]: ...
    @property
    def stats(self) -> tuple[int, int, int, int, int, int, int]: ...

class Stop:
    def __init__(self) -> None: ...
    def set(self) -> None: ...
    @property
    def is_set(self) -> bool: ...

class Decoder:
    """Frames → TCP segments, as :class:`tlsmon.decode.Decoder` (held equal to it by tests/decode)."""

    def __init__(self, frag_timeout_ns: int = 30_000_000_000, max_frag_bytes: int = 16 * 2**20) -> None: ...
    def decode(
        self, ts_ns: int, linktype: int, frame: bytes
    ) -> tuple[int, int | bytes, int | bytes, int, int, int, int, int, bytes, int | None] | None:
        """``(ip_version, src, dst, sport, dport, flags, seq, ack, payload, vlan)``: src/dst an int for IPv4,
        16 bytes for IPv6; None (counted) for anything that is not a TCP segment."""
    @property
    def counters(self) -> dict[str, int]:
        """The non-zero counters by their :class:`tlsmon.decode.counters.DecodeCounter` names."""
    @property
    def pending_fragments(self) -> int:
        """Datagrams with fragments held, waiting for the rest."""

# --- capture (native/src/python/capture.rs) ---
@final
class CaptureSource:
    """Frames of capture files read natively; the same interface and results as tlsmon.capture.CaptureSource.

    Raises tlsmon.capture.CaptureError (at construction for a missing file, while iterating for a file that
    is not a capture, an unsupported link type or a BPF filter libpcap rejects). Iterable once.
    """

    def __new__(
        cls,
        paths: Sequence[str | PathLike[str]],
        bpf: str | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> Self: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> tuple[int, int, bytes]: ...
    def use_reader_thread(self) -> None:
        """Read the files on a thread of their own from now on (the file being read included): the same frames,
        warnings and counters (native/src/capture/reader_thread.rs)."""
    @property
    def warnings(self) -> list[str]: ...
    @property
    def packets(self) -> int: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def total_bytes(self) -> int: ...
    @property
    def filtered_out(self) -> int: ...
    @property
    def counters(self) -> dict[str, int]: ...

class LiveCapture:
    """A libpcap handle on an interface, read by Tracker.run_live (native/src/capture/live.rs)."""

    def __init__(
        self,
        interface: str,
        bpf: str | None = None,
        snaplen: int = 262144,
        buffer_bytes: int = 0,
        promisc: bool = True,
        timeout_ms: int = 100,
    ) -> None: ...
    def fileno(self) -> int: ...
    def stats(self) -> list[int]: ...
    def close(self) -> None: ...
    @property
    def linktype(self) -> int: ...
    @property
    def packets(self) -> int: ...
    @property
    def bytes(self) -> int: ...

def address_text(address: int | bytes) -> str:
    """tlsmon.decode.packet.format_address, natively (native/src/records/conn.rs)."""

def conn_uid(sequence: int, start_ts: int, orig_h: int | bytes, orig_p: int, resp_h: int | bytes, resp_p: int) -> str:
    """tlsmon.records.conn.make_uid, natively."""

def community_id(orig_h: int | bytes, orig_p: int, resp_h: int | bytes, resp_p: int, proto: int) -> str:
    """tlsmon.records.conn.community_id (seed 0), natively."""

def looks_like_tls(data: bytes) -> bool | None:
    """tlsmon.tls.probe.looks_like_tls, natively (the tracker's first-byte decision, native/src/dispatch.rs)."""

class TlsAnalyzer:
    """The native port of tlsmon.tls.analyzer.TlsAnalyzer (native/src/tls/, native/src/python/tls.rs); the
    limits are the TLS fields of tlsmon.limits.Limits."""

    def __init__(
        self,
        transport: str = "t",
        max_certificates_per_chain: int = 32,
        max_certificates_per_connection: int = 48,
        max_alerts: int = 100,
        max_anomalies: int = 100,
    ) -> None: ...
    def data(self, is_orig: bool, data: bytes) -> None: ...
    def record(self, is_orig: bool, content_type: int, body: bytes) -> None: ...
    def gap(self, is_orig: bool, length: int) -> None: ...
    def end(self) -> None: ...
    @property
    def finished(self) -> bool: ...
    @property
    def anomalies(self) -> list[str]: ...
    @property
    def anomalies_dropped(self) -> int: ...
    @property
    def server_hello(self) -> Any:
        """None, or a SimpleNamespace of the last ServerHello's is_hrr, legacy_version, selected_version,
        cipher_suite."""
    @property
    def summary(self) -> TlsSummary:
        """A new TlsSummary with the analyzer's fields (a copy, built on each read)."""
    def summary_fields(self) -> dict[str, Any]:
        """Every TlsSummary field by name: ``TlsSummary(**fields)`` is the Python summary."""
