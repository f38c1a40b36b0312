"""tlsmon: a passive TLS and STARTTLS monitor that turns captures into Parquet.

Importing the package loads nothing else: a ``read`` starts its native loop before pyarrow and the rest of the
program load (tlsmon.readahead), so pyarrow is loaded by whoever first asks for it, through :class:`_LeanPyarrow`.
"""

import os
import sys
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Loader

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


class _LeanPyarrow:
    """A meta path finder for pyarrow's first import: it loads pyarrow with :data:`_NOT_FOR_PYARROW` hidden
    (`import pyarrow` 0.16 → 0.08 s on the bench machine, docs/performance.md), then leaves ``sys.meta_path``.
    They are visible again afterwards, for those that use them (the report's plots need numpy). A pyarrow that
    cannot do without them is loaded again with them; one imported after them is left as it is."""

    @classmethod
    def find_spec(
        cls, name: str, path: list[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "pyarrow":
            return None
        sys.meta_path.remove(cls)  # type: ignore[arg-type]
        if any(hidden in sys.modules for hidden in _NOT_FOR_PYARROW):
            return None
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _HidingLoader(spec.loader)  # type: ignore[assignment]
        return spec


class _HidingLoader:
    """pyarrow's own loader, run with :data:`_NOT_FOR_PYARROW` hidden (``import numpy`` raises ImportError)."""

    def __init__(self, loader: "Loader") -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader  # the package's resources are read through its own loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        for name in _NOT_FOR_PYARROW:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            self.loader.exec_module(module)
        except ImportError:
            for name in _NOT_FOR_PYARROW:
                del sys.modules[name]
            for name in [n for n in sys.modules if n.startswith("pyarrow.")]:
                del sys.modules[name]
            self.loader.exec_module(module)
        else:
            for name in _NOT_FOR_PYARROW:
                del sys.modules[name]


if "pyarrow" not in sys.modules:
    sys.meta_path.insert(0, _LeanPyarrow)  # type: ignore[arg-type]

__version__ = "0.1.0"
