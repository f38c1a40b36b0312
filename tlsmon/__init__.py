"""tlsmon: a passive TLS and STARTTLS monitor that turns captures into Parquet."""

import os

# pyarrow imports numpy, whose OpenBLAS starts one spinning thread per core; tlsmon does no linear algebra,
# and on two cores those threads took 2-3 % of a `read` (measured with perf on bench/'s large workload).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
