"""Type stubs of the compiled core (native/, built by maturin as tlsmon._native)."""

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
    ) -> None: ...
    def feed(self, frames: list[tuple[int, object]]) -> None: ...
    def bypass(self, ids: list[int]) -> None: ...
    def finish(self, reason: str) -> None: ...
    def take_events(self) -> list[tuple[int, int, int, bool, object]]: ...
    @property
    def stats(self) -> tuple[int, int, int, int, int, int, int]: ...
