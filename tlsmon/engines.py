"""The two engines behind one choice: ``native`` (the default: the compiled core reads, decodes and tracks)
and ``python`` (the executable specification). Both write identical tables (tests/engines/).

Light to import: the engines themselves load when one is made, so that a native ``read`` can start reading
ahead first (:mod:`tlsmon.readahead`)."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, TypeAlias

from tlsmon import _native
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.tcp.tracker_config import TrackerConfig

if TYPE_CHECKING:
    from tlsmon.capture import CaptureSource
    from tlsmon.engine import Engine
    from tlsmon.native_engine import NativeEngine
    from tlsmon.readahead import ReadAhead
    from tlsmon.recorder import RecordSink

    AnyEngine: TypeAlias = Engine | NativeEngine
    AnySource: TypeAlias = CaptureSource | _native.CaptureSource

EngineName: TypeAlias = Literal["native", "python"]
ReaderThreadChoice: TypeAlias = Literal["auto", "on", "off"]
READER_THREAD_CHOICES: tuple[ReaderThreadChoice, ...] = ("auto", "on", "off")
ENGINES: tuple[EngineName, ...] = ("native", "python")
DEFAULT_ENGINE: EngineName = "native"


def open_source(
    engine: EngineName,
    paths: Sequence[str | os.PathLike[str]],
    bpf: str | None = None,
    on_warning: Callable[[str], None] | None = None,
    reader_thread: ReaderThreadChoice = "off",
) -> AnySource:
    """The capture files as the engine reads them; raises CaptureError for a file that cannot be read. The
    native engine reads them on a thread of their own as ``reader_thread`` says (:func:`wants_reader_thread`);
    the Python engine reads on the caller's thread whatever it says."""
    if engine == "native":
        source = _native.CaptureSource([os.fspath(p) for p in paths], bpf, on_warning)
        if wants_reader_thread(reader_thread):
            source.use_reader_thread()
        return source
    from tlsmon.capture import CaptureSource

    return CaptureSource(paths, bpf, on_warning)


#: CPUs a native ``read`` needs before ``auto`` reads its files on a thread of their own: one for the loop, one
#: for the Python work beside it (imports, certificates, Parquet) and one for the reader. With two, the reader
#: takes turns with the others and whole runs gain nothing for sure (bench/ on two vCPUs: bulk +7 %, handshake
#: +-0, large -12 % to +3 % between runs; docs/performance.md, "A reader thread").
READER_THREAD_MIN_CPUS = 3


def wants_reader_thread(choice: ReaderThreadChoice) -> bool:
    """Whether a native read should read its files on a reader thread: ``on``, ``off``, or ``auto`` = when this
    process may run on at least :data:`READER_THREAD_MIN_CPUS` CPUs."""
    if choice == "auto":
        return available_cpus() >= READER_THREAD_MIN_CPUS
    return choice == "on"


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity: a container's or taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_engine(
    engine: EngineName,
    sink: RecordSink,
    config: TrackerConfig | None = None,
    on_progress: Callable[[], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    read_ahead: ReadAhead | None = None,
) -> AnyEngine:
    """The engine of that name; a native one takes over the passes ``read_ahead`` made."""
    if engine == "native":
        from tlsmon.native_engine import NativeEngine

        return NativeEngine(sink, config, on_progress, limits=limits, read_ahead=read_ahead)
    from tlsmon.engine import Engine

    return Engine(sink, config, on_progress, limits=limits)


def settle_heap() -> None:
    """Before a long run: move everything imported so far out of the collector's sight (gc.freeze) and let
    the young generation grow large. A run allocates mostly acyclic tuples and bytes; with the default
    thresholds the collector took 9-15 % of a native `read` on bench/'s large workload (perf). No gc.collect()
    first: after the imports it frees ~300 objects and costs ~7 ms, 3 % of a small read (docs/performance.md)."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 50, 1000)


GC_YOUNG_THRESHOLD = 200_000  # allocations between young collections (CPython's default is 700)
