"""Type stubs of the compiled core (native/, built by maturin as tlsmon._native)."""

__version__: str

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
