"""``tlsmon report``: the analyses of *TLS in the wild* (NDSS 2016) over any tlsmon dataset.

DuckDB reads the Parquet files in place (:mod:`.dataset`), one SQL file per analysis computes its tables
(:mod:`.queries`, ``sql/``), :mod:`.sections` says what each analysis means and plots it, and :mod:`.render`
writes ``report.html``, ``report.json`` and ``tables/*.csv``. See ``docs/report.md``.
"""
