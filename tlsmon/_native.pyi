"""Type stubs of the compiled core (native/, built by maturin as tlsmon._native)."""

__version__: str

# --- capture (native/src/python/capture.rs) ---
from collections.abc import Callable, Sequence
from os import PathLike
from typing import Self, final

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
