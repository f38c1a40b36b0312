"""Batch conversion of many capture files into one Hive-partitioned Parquet dataset: ``tlsmon batch``.

Modules: :mod:`~tlsmon.batch.inputs` (which files, and each one's identity), :mod:`~tlsmon.batch.layout` (where
files go, and the atomic write), :mod:`~tlsmon.batch.task` (one input file → its part files),
:mod:`~tlsmon.batch.manifest` (what is done), :mod:`~tlsmon.batch.runner` (plan, execute, record),
:mod:`~tlsmon.batch.executors` (local process pool, Dask), :mod:`~tlsmon.batch.stitch`,
:mod:`~tlsmon.batch.compact`, :mod:`~tlsmon.batch.commands`. docs/batch.md is the user's guide.
"""
