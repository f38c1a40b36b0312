"""tlsmon: a passive TLS and STARTTLS monitor that turns captures into Parquet."""

import os
import sys

# pyarrow imports numpy, whose OpenBLAS starts one spinning thread per core; tlsmon does no linear algebra,
# and on two cores those threads took 2-3 % of a `read` (measured with perf on bench/'s large workload).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The compiled core allocates with mimalloc (docs/dependencies.md), which by default asks for transparent huge
# pages: a first touch then zeroes 2 MiB (clear_page_erms was up to 17 % of a bulk read's samples under perf)
# and peak RSS depends on how many huge pages the kernel has free (125 to 181 MiB on the same read). Read when
# the core is loaded, so set before.
os.environ.setdefault("MIMALLOC_ALLOW_THP", "0")


#: What pyarrow imports when it can and tlsmon never asks of it: numpy (pyarrow 16 and later runs without it;
#: 60 ms) and cloudpickle (pickling of Python objects; 20 ms).
_NOT_FOR_PYARROW = ("numpy", "cloudpickle")


def _import_pyarrow_lean() -> None:
    """Load pyarrow with :data:`_NOT_FOR_PYARROW` hidden: 80 ms of a run's 0.2 s start-up (`import pyarrow`
    0.16 → 0.08 s on the bench machine, docs/performance.md). They are visible again afterwards, for those
    that use them (the report's plots need numpy). A pyarrow that cannot do without them, or one loaded
    already, is left as it is."""
    if "pyarrow" in sys.modules or any(name in sys.modules for name in _NOT_FOR_PYARROW):
        return
    for name in _NOT_FOR_PYARROW:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        for name in [n for n in sys.modules if n == "pyarrow" or n.startswith("pyarrow.")]:
            del sys.modules[name]
    finally:
        for name in _NOT_FOR_PYARROW:
            del sys.modules[name]


_import_pyarrow_lean()

__version__ = "0.1.0"
